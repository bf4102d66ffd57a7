"""A stateful fake of the Movidesk public API v1 subset helpdesk-sync uses.

Theory of operation
-------------------
``MovideskSandbox`` holds one account's state (tickets with actions, custom field values,
parent/child links and histories; persons: agents with teams, client persons, companies
with ``cpfCnpj``; teams; the status configuration with justifications; custom fields;
services) behind a lock, and answers every request through one handler::

    handle(method, path, query, headers, body) -> (status, headers, body)

Two thin adapters put it on the wire: ``install(rsps, base_url)`` registers ``responses``
callbacks (unit tests, no sockets) and ``serve()`` runs a ``ThreadingHTTPServer`` on
loopback (``python -m sandboxes.movidesk``). Every request is logged as a ``Call``, every
successful write as a ``Write`` (method, path, query, body, ticket id).

The wire contract is ``shared/reference/movidesk.md``: ``?token=`` auth; ``GET
/tickets?id=N`` at any age; lists on ``/tickets`` (``lastUpdate`` under 90 days) and
``/tickets/past`` (the rest) with a mandatory ``$select``, an OData subset (``odata``,
``odata_filter``: ``$select``/``$expand`` shaping, ``$filter`` with lambdas and strict
``...Z`` datetime literals, ``$orderby``, ``$top`` clamped to 100, ``$skip``); ``PATCH
/tickets?id=N`` and ``POST /tickets`` validated like the real API (statuses and their
justifications, owner and team together, persons, actions, ``customFieldValues`` replaced
as a whole), each write bumping ``lastUpdate`` to the sandbox's ``now()``; ``GET
/persons``; ``GET /services`` (the services tree, KB 7440). Statuses, categories and
custom field definitions are account state the routes validate against, never listed: the
public API documents no list of them. Limits (``limits``): 10 requests per rolling minute
by day (07:01–18:59 São Paulo), none by night (``day_limit``/``night_limit``), and the
tickets-API lock after three consecutive failed requests (429 "Too many failed requests",
60 s, counted in ``lockouts``). ``Faults`` has the Freshdesk sandbox's fields and
semantics.

Every response shape carries a comment naming its source: a section of the Movidesk or
Zenvia API pages, a public client file (jonasandre/movidesk-cli, ferronicardoso/
mcp-movidesk, fabiodalazem/MovideskSDK) or "unverified: chosen to be the strict case".

Layout
------
``records`` (stored records, call and write logs), ``shapes`` (timestamps, error bodies,
ticket and person JSON), ``odata`` / ``odata_filter`` (the query language), ``limits``
(budget and lock), ``..faults`` (shared), ``state`` (the account and its seeding
helpers), ``dispatch`` (``handle``), ``routes_read`` / ``routes_write`` (route handlers),
``adapters`` (``install`` / ``serve``), ``sandbox`` (``MovideskSandbox`` joins them),
``seeds`` / ``emissor_data`` (the Emissor and Ouvidoria account), ``__main__`` (the
command line).
"""

from __future__ import annotations

from ..faults import DroppedConnection, Faults, SandboxTimeout
from .adapters import RunningServer
from .odata_filter import parse_datetime_literal
from .records import Call, CustomFieldDef, StatusRule, StoredAction, StoredTicket, Write
from .sandbox import MovideskSandbox
from .seeds import EmissorAccount, seed_emissor_tickets, setup_emissor_account
from .shapes import fmt
from .state import DEFAULT_BASE_URL, DEFAULT_STATUSES, DEFAULT_TOKEN

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_STATUSES",
    "DEFAULT_TOKEN",
    "Call",
    "CustomFieldDef",
    "DroppedConnection",
    "EmissorAccount",
    "Faults",
    "MovideskSandbox",
    "RunningServer",
    "SandboxTimeout",
    "StatusRule",
    "StoredAction",
    "StoredTicket",
    "Write",
    "fmt",
    "parse_datetime_literal",
    "seed_emissor_tickets",
    "setup_emissor_account",
]
