"""A stateful fake of the Freshdesk API v2 subset helpdesk-sync uses, following the contract.

Theory of operation
-------------------
``FreshdeskSandbox`` holds one account's state (tickets, conversations, groups, agents,
contacts, companies, ticket/contact/company fields with custom statuses) behind a lock, and
answers every request through one pure-ish handler::

    handle(method, path, query, headers, body) -> (status, headers, body)

Two thin adapters put it on the wire: ``install(rsps)`` registers ``responses`` callbacks
(unit tests, no sockets) and ``serve()`` runs a ``ThreadingHTTPServer`` on loopback (the
``demo`` command and subprocess crash tests; ``python -m sandboxes.freshdesk``).

Behaviour follows ``shared/reference/freshdesk.md``: inclusive ``updated_since``, the
300-page cap and its exact 400 body, ``Link: <...>; rel="next"`` echoing query values
unescaped, the 30-day default window, credits and per-minute windows with
``X-RateLimit-*`` headers and 429 + ``Retry-After``, status ids valid per account, notes
bumping ``updated_at``, ``parent_id`` only on create, merge → 204. ``shuffle_ties`` makes
the order among tickets sharing one ``updated_at`` random per request (the real order is
not guaranteed), so clients are tested against it. ``Faults`` inject 429 bursts, 5xx
bursts, timeouts, slow answers, dropped connections and a hook right after a write.

Every response shape carries a comment naming its source: a section of the API docs
(developers.freshdesk.com/api, full copy in ktsaou/freshdesk_mcp FRESHDESK_API_DOCS.txt),
a real payload (pbrane/freshdesk-api-client) or Freshdesk's own server code
(Ramesh-Veeriaperumal/freshconsult). ``setup_sac_account`` / ``add_sac_ticket`` seed the
account the SAC SOP runs on (labelled custom fields, customers with companies, HTML notes
with attachments, child tickets).

Layout
------
``state`` (the account and its seeding), ``records`` (stored records, the call and write
logs), ``shapes`` (timestamps, error bodies, the ticket shape), ``limits`` (plans, credits,
per-minute windows), ``..faults`` (shared), ``dispatch`` (``handle``: faults, auth,
limits, routing, paging), ``routes_read`` / ``routes_write`` / ``routes_lookup`` (the route
handlers), ``adapters`` (``install`` / ``serve``), ``sandbox`` (``FreshdeskSandbox`` joins
them), ``seeds`` (SAC and demo accounts), ``__main__`` (the command line).
"""

from __future__ import annotations

from ..faults import DroppedConnection, Faults, SandboxTimeout
from .adapters import RunningServer
from .limits import PLANS, RatePlan
from .records import Call, Write
from .sandbox import FreshdeskSandbox
from .seeds import SacAccount, SacNote, add_sac_ticket, seed_demo, setup_sac_account
from .shapes import fmt
from .state import DEFAULT_API_KEY, DEFAULT_BASE_URL

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_BASE_URL",
    "PLANS",
    "Call",
    "DroppedConnection",
    "Faults",
    "FreshdeskSandbox",
    "RatePlan",
    "RunningServer",
    "SacAccount",
    "SacNote",
    "SandboxTimeout",
    "Write",
    "add_sac_ticket",
    "fmt",
    "seed_demo",
    "setup_sac_account",
]
