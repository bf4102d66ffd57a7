"""Typed effects a decision asks for; connectors turn each into API calls.

Names (queues, groups, owners, statuses) stay names here; connectors resolve them to ids.
Every action is a frozen value so the writer can derive a deterministic idempotency key
from its canonical payload.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Action:
    """Base of all actions; ``kind`` is the stable wire name."""

    kind: ClassVar[str] = "action"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``kind`` plus the fields, datetimes as ISO 8601."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


@dataclass(frozen=True, slots=True)
class Route(Action):
    """Move the ticket to a queue (Salesforce), group (Freshdesk), team and/or owner."""

    kind: ClassVar[str] = "route"
    queue: str | None = None
    group: str | None = None
    team: str | None = None
    owner: str | None = None

    @property
    def target(self) -> str:
        """The most specific destination, for display."""
        return self.owner or self.team or self.group or self.queue or ""

    def to_dict(self) -> dict[str, Any]:
        out = Action.to_dict(self)
        out["target"] = self.target
        return out


@dataclass(frozen=True, slots=True)
class SetStatus(Action):
    """Set the ticket status by name; ``justification`` for helpdesks that demand one."""

    kind: ClassVar[str] = "set_status"
    status: str
    justification: str | None = None


@dataclass(frozen=True, slots=True)
class AddNote(Action):
    """Add an internal (private) note, plain pt-BR text; connectors format it."""

    kind: ClassVar[str] = "add_note"
    text: str
    purpose: str = "note"
    """Why the note is written (``incomplete``, ``routed``, ``finance_block``, ...)."""


@dataclass(frozen=True, slots=True)
class CreateTask(Action):
    """A follow-up with a due date for the agent (or a named owner)."""

    kind: ClassVar[str] = "create_task"
    subject: str
    due: datetime
    owner: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class CreateChildTicket(Action):
    """A child ticket linked to the current one (e.g. to the distributor)."""

    kind: ClassVar[str] = "create_child_ticket"
    subject: str
    description: str
    group: str | None = None
    owner: str | None = None
    requester_email: str | None = None
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class CreateTicket(Action):
    """A new, unlinked ticket (e.g. the ombudsman ticket)."""

    kind: ClassVar[str] = "create_ticket"
    subject: str
    description: str
    status: str | None = None
    owner: str | None = None
    group: str | None = None
    requester_email: str | None = None
    internal_note: str | None = None
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class Merge(Action):
    """Merge the current ticket into ``into`` (the ticket that stays)."""

    kind: ClassVar[str] = "merge"
    into: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Resolve(Action):
    """Close the current ticket as resolved."""

    kind: ClassVar[str] = "resolve"
    status: str | None = None
    """The helpdesk's name for resolved, when the mapping gives one."""


@dataclass(frozen=True, slots=True)
class SetPriority(Action):
    """Set the ticket priority by name."""

    kind: ClassVar[str] = "set_priority"
    priority: str


@dataclass(frozen=True, slots=True)
class MarkCritical(Action):
    """Use the helpdesk's critical-case marking (Salesforce checkbox, tag, ...)."""

    kind: ClassVar[str] = "mark_critical"
    reason: str


ACTION_TYPES: tuple[type[Action], ...] = (
    Route,
    SetStatus,
    AddNote,
    CreateTask,
    CreateChildTicket,
    CreateTicket,
    Merge,
    Resolve,
    SetPriority,
    MarkCritical,
)
"""Every action kind. Each layer that handles actions keeps a table keyed by these
(effect identity here, connectors' write plans); a test fails when one lacks a kind."""

__all__ = [
    "ACTION_TYPES",
    "Action",
    "AddNote",
    "CreateChildTicket",
    "CreateTask",
    "CreateTicket",
    "MarkCritical",
    "Merge",
    "Resolve",
    "Route",
    "SetPriority",
    "SetStatus",
]
