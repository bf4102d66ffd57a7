"""The Freshdesk connector (API v2), one job a module.

* ``connector`` — ``FreshdeskConnector``: check, list, load, apply, find earlier writes;
  composes the modules below around one ``HttpClient``.
* ``listing`` — listing windows under the 300-page cap, and ties inside one second.
* ``limits`` — the plan's per-minute endpoint sub-limits and which call counts against which.
* ``directory`` — statuses, groups, agents, field labels, requester contacts and companies:
  cached lookups that read the account when they must.
* ``normalize`` — rows as ``Ticket``/``Party``/``Context``; pure (no I/O).
* ``writes`` — effects as request descriptions (the one PUT, the one note, task text,
  child and new tickets, merges); pure (no I/O).
* ``api`` — the API's ids, timestamps and response shapes, and the read calls the others
  share.

What every helpdesk shares lives beside the package: ``connectors._names`` (name <-> id
lookups, the party cache) and ``connectors._notes`` (note HTML, marker footers).

The names other code imports are re-exported here, so ``from connectors.freshdesk import
FreshdeskConnector`` keeps working.
"""

from __future__ import annotations

from .._notes import text_to_html
from .connector import FreshdeskConnector
from .limits import PLAN_SUB_LIMITS, plan_sub_limits, sub_limit_bucket
from .writes import CRITICAL_TAG, SAO_PAULO

__all__ = [
    "CRITICAL_TAG",
    "PLAN_SUB_LIMITS",
    "SAO_PAULO",
    "FreshdeskConnector",
    "plan_sub_limits",
    "sub_limit_bucket",
    "text_to_html",
]
