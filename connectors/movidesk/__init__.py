"""The Movidesk connector (public API v1), one job a module.

* ``connector`` — ``MovideskConnector``: check, list, load, write once, find earlier writes;
  composes the modules below around one ``HttpClient``.
* ``listing`` — keyset pages on (``lastUpdate``, ``id``), ``/tickets`` and ``/tickets/past``.
* ``limits`` — the day/night budget (10 calls a minute by day), paced before sending.
* ``directory`` — agents and their teams, team owners, clients by e-mail: cached lookups.
* ``normalize`` — rows as ``Ticket``/``Party``/``Context``; pure (no I/O).
* ``writes`` — a decision as ONE PATCH and a POST per new ticket, the merge fallback;
  pure (no I/O).
* ``api`` — OData queries, datetime literals and stamps, response shapes, the token.
* ``account`` — the names ``check`` compares the mappings and configuration with (teams,
  agents, built-in fields, services); what the public API cannot list is said so.
* ``settings`` — ``MovideskSettings``, the connector's entry in the config file.

What every helpdesk shares lives beside the package: ``connectors._http`` (retries, error
mapping), ``connectors._names`` (name lookups) and ``connectors._notes`` (note HTML,
marker footers).
"""

from __future__ import annotations

from .connector import MovideskConnector
from .limits import DayNightBudget
from .writes import WriteRules

__all__ = ["DayNightBudget", "MovideskConnector", "WriteRules"]
