"""What the Freshdesk sandbox stores and logs: tickets, custom fields, writes, calls.

Plain records without behaviour, shared by every other module of the package: the account
state (``state``) holds ``StoredTicket`` and ``CustomField`` values, the dispatcher logs a
``Call`` per request and a ``Write`` per successful write (tests read both).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Json = dict[str, Any]
Response = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True, slots=True)
class Write:
    """One successful write as the sandbox received it."""

    method: str
    path: str
    ticket_id: int | None
    """The ticket written: the path's id, the created ticket's id, or a merge's primary."""
    body: Any
    at: datetime


@dataclass(frozen=True, slots=True)
class Call:
    """One request the sandbox answered (or refused)."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    status: int
    credits: int


@dataclass(slots=True)
class StoredTicket:
    """A ticket as the sandbox stores it (``shapes.ticket_json`` renders it)."""

    id: int
    subject: str
    description: str
    status: int
    priority: int
    source: int
    type: str | None
    group_id: int | None
    responder_id: int | None
    requester_id: int
    company_id: int | None
    custom_fields: dict[str, Any]
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    due_by: datetime
    fr_due_by: datetime
    attachments: list[Json] = field(default_factory=list)
    spam: bool = False
    deleted: bool = False
    parent_id: int | None = None
    children: list[int] = field(default_factory=list)
    merged_into: int | None = None


@dataclass(frozen=True, slots=True)
class CustomField:
    """A custom ticket, contact or company field: API name, label, type, choices."""

    name: str
    label: str
    type: str
    choices: tuple[str, ...] = ()
