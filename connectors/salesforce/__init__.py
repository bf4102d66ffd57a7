"""The Salesforce connector (Service Cloud Cases, REST API via simple-salesforce).

* ``connector`` — ``SalesforceConnector``: check, list, load, write in batches of 200
  cases, find earlier writes; ``build`` makes one from its settings (the registry's
  factory).
* ``client`` — every call: logins per auth option, rebuild on an expired session, error
  mapping, retries, the daily API budget.
* ``listing`` — SOQL windows on ``SystemModstamp``, nested child pages, comment-only changes.
* ``directory`` — queues and users by name, cached.
* ``normalize`` — SOQL text, stamps, Case records as ``Ticket``; pure (no I/O).
* ``writes`` — effects as sObject Collections records, row errors; pure (no I/O).
* ``account`` — the org's queues, owners, statuses, Case fields and request types, for
  ``check``.
* ``settings`` — ``SalesforceSettings``, the connector's entry in the config file.

What every helpdesk shares lives beside the package: ``connectors._names`` (name
lookups) and ``connectors._notes`` (marker footers).
"""

from __future__ import annotations

from .client import BudgetPaused, SalesforceClient
from .connector import SalesforceConnector, build
from .settings import SalesforceSettings
from .writes import WriteRules

__all__ = [
    "BudgetPaused",
    "SalesforceClient",
    "SalesforceConnector",
    "SalesforceSettings",
    "WriteRules",
    "build",
]
