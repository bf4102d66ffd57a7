"""What the Movidesk sandbox stores and logs: tickets, actions, statuses, fields, calls, writes.

Plain records without behaviour, shared by every other module of the package: the account
state (``state``) holds ``StoredTicket``/``StoredAction`` values and the account's
configuration (``StatusRule``, ``CustomFieldDef``); the dispatcher logs a ``Call`` per
request and a ``Write`` per successful write (tests and benchmarks read both). Persons are
stored as dicts in the shape ``GET /persons`` answers (``state.add_person``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Json = dict[str, Any]
Response = tuple[int, dict[str, str], bytes]
BASE_STATUSES = ("New", "InAttendance", "Stopped", "Canceled", "Resolved", "Closed")
"""Read-only ``baseStatus`` values (KB 256 layout, pt-BR page; the Zenvia 2025 English page
spells ``InAttention``)."""


@dataclass(frozen=True, slots=True)
class Write:
    """One successful write as the sandbox received it."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    body: Any
    ticket_id: int | None
    """The ticket written: ``?id=`` of a PATCH, or the ticket a POST created."""
    at: datetime


@dataclass(frozen=True, slots=True)
class Call:
    """One request the sandbox answered (or refused); ``status`` 0 = no answer (fault)."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    status: int
    at: datetime


@dataclass(frozen=True, slots=True)
class StatusRule:
    """One status of the account: its base status and the justifications it accepts.

    An empty ``justifications`` means the status takes none; otherwise one of them is
    required whenever a write sets this status (KB 256: "O preenchimento desse campo é
    obrigatório quando o status do ticket o exigir").
    """

    name: str
    base: str
    justifications: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CustomFieldDef:
    """A ticket custom field of the account (no public endpoint lists them: reference
    "Persons"): numeric id, rule id, label, ``text`` (``value``) or ``list`` (``items``)."""

    id: int
    rule_id: int
    label: str
    type: str = "text"
    choices: tuple[str, ...] = ()


@dataclass(slots=True)
class StoredAction:
    """An action (message or internal note) as the sandbox stores it."""

    id: int
    type: int
    """1 internal, 2 public (layout)."""
    origin: int
    html: str
    created_by: str | None
    created_at: datetime
    status: str | None = None
    justification: str | None = None
    is_deleted: bool = False
    tags: list[str] = field(default_factory=list)
    attachments: list[Json] = field(default_factory=list)


@dataclass(slots=True)
class StoredTicket:
    """A ticket as the sandbox stores it (``shapes.ticket_json`` renders it)."""

    id: int
    type: int
    subject: str
    status: str
    base_status: str
    justification: str | None
    origin: int
    created_at: datetime
    last_update: datetime
    created_by: str | None
    owner: str | None
    owner_team: str | None
    clients: list[str]
    protocol: str | None = None
    category: str | None = None
    urgency: str | None = None
    tags: list[str] = field(default_factory=list)
    cc: str | None = None
    actions: list[StoredAction] = field(default_factory=list)
    custom_fields: list[Json] = field(default_factory=list)
    """``customFieldValues`` entries as stored: customFieldId, customFieldRuleId, line,
    value, items."""
    parents: list[int] = field(default_factory=list)
    children: list[int] = field(default_factory=list)
    owner_history: list[Json] = field(default_factory=list)
    status_history: list[Json] = field(default_factory=list)
    resolved_in: datetime | None = None
    closed_in: datetime | None = None
    reopened_in: datetime | None = None
    service_first_level_id: int | None = None
    service_levels: tuple[str | None, str | None, str | None] = (None, None, None)
    is_deleted: bool = False

    def next_action_id(self) -> int:
        """Action ids count per ticket (``/tickets/htmldescription?id=N&actionId=M``)."""
        return max((a.id for a in self.actions), default=0) + 1
