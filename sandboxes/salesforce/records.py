"""What the Salesforce sandbox logs and keeps besides records: calls, writes, cursors.

Records themselves are plain dicts keyed by their fields' API names (``state``); the
dispatcher logs a ``Call`` per request and a ``Write`` per record a successful write
changed (a collection or composite request logs one per record). A ``Cursor`` is a query
locator: the rows a query matched, rendered when it ran, served page by page through
``nextRecordsUrl``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Json = dict[str, Any]
Response = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True, slots=True)
class Call:
    """One request the sandbox answered (or refused); ``status`` 0 = no answer (fault)."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    status: int
    at: datetime
    headers: Mapping[str, str]
    """The request headers that change behaviour: ``Sforce-Auto-Assign``,
    ``Sforce-Query-Options``, ``Content-Type`` (the session token is not logged)."""


@dataclass(frozen=True, slots=True)
class Write:
    """One record a successful write created, changed or deleted."""

    method: str
    """``POST`` (insert), ``PATCH`` (update) or ``DELETE``, whatever route carried it."""
    path: str
    """The request path (a composite subrequest's own URL)."""
    sobject: str
    record_id: str
    body: Any
    """The fields the request sent for this record (``None`` on delete)."""
    at: datetime
    auto_assign: bool = True
    """Whether assignment rules were allowed to run (no ``Sforce-Auto-Assign: FALSE``)."""


@dataclass(slots=True)
class Cursor:
    """A query locator: rendered rows, served from any offset until it expires."""

    id: str
    rows: list[Json]
    total: int
    created: datetime
    child: bool = False
    """A nested child list's locator: pages of ``child_page_size`` rows, ``totalSize`` of
    the child list; kept until it expires even after its last page."""
