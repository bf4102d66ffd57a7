"""The rows the state store hands back: frozen dataclasses, never SQLAlchemy rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Row

from sync.masking import mask_text

EffectState = Literal["planned", "sent", "confirmed", "failed"]
"""The journal's states; ``engine.journal`` holds the transitions allowed between them."""

_MAX_ERROR = 2000
"""Stored error messages are cut to this many characters (they come from connectors)."""


# ---------------------------------------------------------------------------------------
# rows
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreCounts:
    """Grouped counts of one connector's state (``Store.counts``), for metrics."""

    effects: dict[tuple[str, str], int]
    """(action kind, journal state) -> effects."""
    dead_letters: int
    timers_pending: int
    timers_overdue: int
    """Pending timers whose due time has passed (the timer check is behind)."""


@dataclass(frozen=True)
class TimerRow:
    """One SLA timer: pending until it fires or is cancelled."""

    connector: str
    ticket_id: str
    timer_id: str
    request_type: str
    due_at: datetime
    sop: str
    state: str
    reason: str | None
    started_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class JournalEntry:
    """One effect in the journal.

    ``state`` is ``planned`` (decided, never sent), ``sent`` (a write was attempted: after a
    crash it may or may not exist in the helpdesk — the only ambiguous state), ``confirmed``
    (the helpdesk has it) or ``failed`` (the helpdesk refused it).
    """

    key: str
    connector: str
    ticket_id: str
    kind: str
    payload: dict[str, Any]
    state: EffectState
    remote_id: str | None
    reconciled: bool
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def ambiguous(self) -> bool:
        """True when a crash may have left the write applied or not (state ``sent``)."""
        return self.state == "sent"


@dataclass(frozen=True)
class DeadLetter:
    """A quarantined ticket: it failed too often and is skipped until released."""

    id: int
    connector: str
    ticket_id: str
    version: str
    error: str
    attempts: int
    created_at: datetime
    retried_at: datetime | None


@dataclass(frozen=True)
class AuditRow:
    """One recorded decision (actions only; never comment bodies)."""

    id: int
    connector: str
    ticket_id: str
    version: str
    request_type: str | None
    outcome: str
    actions: list[dict[str, Any]]
    dry_run: bool
    decided_at: datetime


@dataclass(frozen=True)
class LeaseRow:
    """Who holds a connector's lease, read at ``checked_at`` (the clock leases are timed by)."""

    connector: str
    owner: str
    expires_at: datetime
    checked_at: datetime

    @property
    def remaining(self) -> timedelta:
        """How long the lease still runs unless its owner renews it."""
        return max(self.expires_at - self.checked_at, timedelta(0))


def journal_entry(row: Row[Any]) -> JournalEntry:
    m = row._mapping
    return JournalEntry(
        key=m["key"],
        connector=m["connector"],
        ticket_id=m["ticket_id"],
        kind=m["kind"],
        payload=m["payload"],
        state=m["state"],
        remote_id=m["remote_id"],
        reconciled=bool(m["reconciled"]),
        attempts=m["attempts"],
        error=m["error"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def dead_letter(row: Row[Any]) -> DeadLetter:
    m = row._mapping
    return DeadLetter(
        id=int(m["id"]),
        connector=m["connector"],
        ticket_id=m["ticket_id"],
        version=m["version"],
        error=m["error"],
        attempts=m["attempts"],
        created_at=m["created_at"],
        retried_at=m["retried_at"],
    )


def audit_row(row: Row[Any]) -> AuditRow:
    m = row._mapping
    return AuditRow(
        id=int(m["id"]),
        connector=m["connector"],
        ticket_id=m["ticket_id"],
        version=m["version"],
        request_type=m["request_type"],
        outcome=m["outcome"],
        actions=m["actions"],
        dry_run=bool(m["dry_run"]),
        decided_at=m["decided_at"],
    )


def error_text(error: str) -> str:
    """An error as the store keeps it: PII masked (API messages may quote customer data),
    bounded in length."""
    error = mask_text(error)
    return error if len(error) <= _MAX_ERROR else error[: _MAX_ERROR - 1] + "…"


