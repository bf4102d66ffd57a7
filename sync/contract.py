"""The connector contract (v2): what the engine asks of every helpdesk, and the errors.

A connector does all I/O with one helpdesk. It lists the tickets changed after a cursor,
loads one ticket with its internal comments, attachment names and the context facts the
decision core needs, writes effects, and finds its own earlier writes again (crash
recovery). Pagination, field names, rate limits and retries stay inside the connector;
the engine (``engine.poller``, ``engine.writer``) only sees the types below. This module
is pure: the engine and every connector import it, and it imports only ``sync``.

Theory of operation
-------------------
* **Cursor.** Opaque text the connector defines (``Cursor``): the engine stores the cursor
  of the last ticket whose effects are durable and hands it back on the next pass; it never
  reads, compares or builds one. Most helpdesks list by a change stamp, so the common case
  is ``DatetimeCursor``: the stamp in ISO 8601, re-read ``overlap`` behind on resume (equal
  stamps, clock skew, late commits). A helpdesk whose comments do not move the ticket's
  stamp may encode two stamps, or a stamp and an id, in its cursor instead.
* **Windows.** ``changes(cursor, since, until)``: ``since`` is a lower bound in time (a
  fresh cursor's start, or a backfill's window), ``until`` an upper bound; a connector may
  return a ticket more than once (the engine de-duplicates by id and version) but must
  never skip one.
* **Writes in batches.** ``write`` takes the effects of several tickets
  (``TicketWrites``) and answers one ``EffectResult`` per effect it got an answer for:
  ``applied`` (written now), ``already_there`` (found, nothing written) or ``rejected``
  with the helpdesk's reason. An effect without a result got no answer — it may or may not
  be in the helpdesk — and is looked up before it is ever written again. ``write_batch``
  says how many tickets one call takes: Salesforce's composite API takes 200 records of
  many cases, Freshdesk and Movidesk one ticket per request. ``PerTicketWrites`` is the
  default for the latter: ``write`` loops ``write_ticket``, ``lookup`` loops
  ``find_applied``.
* **Lookups in batches.** ``lookup`` finds effects written before a crash (a marker in a
  note's text, an external id, the ticket's current state) and answers ``already_there``
  for each one found.
* **Errors.** Per-effect refusals are results, never exception attributes. An exception
  out of ``write`` or ``lookup`` means the whole call failed: ``AuthError`` stops the
  pass; any other ``ConnectorError`` fails the tickets of the batch (retried later,
  quarantined after ``max_attempts``).

Error tree:

    ConnectorError            base; carries helpdesk, ticket id and request id, never a body
    ├── RetriableError        429 / 5xx / timeout after the connector's own retries: retry later
    ├── FatalError            other 4xx: the ticket fails (dead letter after N attempts)
    └── AuthError             401/403 credentials: the pass stops, nothing is written
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeAlias, runtime_checkable

from sync.actions import Action
from sync.errors import HelpdeskSyncError
from sync.model import Context, Ticket

Cursor: TypeAlias = str
"""Where a listing resumes: opaque text the connector defines and the engine only stores."""


class ConnectorError(HelpdeskSyncError):
    """A helpdesk call failed; the message names the helpdesk, ticket and API message."""

    def __init__(
        self,
        message: str,
        *,
        helpdesk: str = "",
        ticket_id: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.helpdesk = helpdesk
        self.ticket_id = ticket_id
        self.status = status
        self.request_id = request_id
        where = helpdesk + (f" ticket {ticket_id}" if ticket_id else "")
        super().__init__(f"{where}: {message}" if where else message)


class RetriableError(ConnectorError):
    """Worth retrying later (rate limit, server error, timeout)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)  # type: ignore[arg-type]


class FatalError(ConnectorError):
    """The helpdesk refused the request; retrying the same request will not help."""


class AuthError(ConnectorError):
    """Credentials are missing, wrong or lack permission."""


# ---------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketRef:
    """A changed ticket as the listing shows it: enough to decide whether to load it."""

    id: str
    version: str
    """The helpdesk's change stamp for this state of the ticket (compared for equality)."""
    cursor: Cursor = ""
    """Where the listing resumes once this ticket and every earlier one are done."""
    snapshot: bytes | None = field(default=None, compare=False, repr=False)
    """The listing row as the connector saw it (compact, connector-private): lets ``load``
    skip re-reading what the list already returned. Never logged (it holds ticket data)."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """A ticket fully loaded for a decision."""

    ref: TicketRef
    ticket: Ticket
    context: Context = field(default_factory=Context)


class DatetimeCursor:
    """The common cursor: a change stamp in ISO 8601 UTC, re-read ``overlap`` behind.

    ``encode`` writes a ticket's stamp as its ref's cursor; ``start`` turns a stored cursor
    (or none) and the engine's lower bound into the moment the listing starts at.
    """

    def __init__(self, overlap: timedelta = timedelta(minutes=5)) -> None:
        if overlap < timedelta(0):
            raise ValueError("overlap must not be negative")
        self.overlap = overlap

    @staticmethod
    def encode(stamp: datetime) -> Cursor:
        if stamp.tzinfo is None:
            raise ValueError(f"naive datetime {stamp.isoformat()} is not a cursor")
        return stamp.astimezone(UTC).isoformat()

    @staticmethod
    def decode(cursor: Cursor) -> datetime:
        try:
            stamp = datetime.fromisoformat(cursor)
        except ValueError:
            raise ValueError(f"not a datetime cursor: {cursor[:40]!r}") from None
        if stamp.tzinfo is None:
            raise ValueError(f"not a datetime cursor (no time zone): {cursor[:40]!r}")
        return stamp.astimezone(UTC)

    def start(self, cursor: Cursor | None, since: datetime | None) -> datetime:
        """Where to list from: ``overlap`` behind the cursor, never before ``since``."""
        if cursor is None:
            if since is None:
                raise ValueError("a listing needs a cursor or a start time")
            return since
        start = self.decode(cursor) - self.overlap
        return start if since is None else max(start, since)


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Effect:
    """One action to apply, with its deterministic idempotency key."""

    key: str
    action: Action


@dataclass(frozen=True, slots=True)
class TicketWrites:
    """The effects of one ticket in a batch, with the ticket as it was loaded."""

    loaded: Loaded
    effects: tuple[Effect, ...]


class Outcome(StrEnum):
    """What the helpdesk answered for one effect."""

    APPLIED = "applied"
    """Written by this call."""
    ALREADY_THERE = "already_there"
    """Found in the helpdesk (an earlier write, or the ticket already holds it)."""
    REJECTED = "rejected"
    """Refused, or the call carrying it failed; ``reason`` says why. It may still have
    landed (a timeout), so it is looked up before it is written again."""


@dataclass(frozen=True, slots=True)
class EffectResult:
    """The helpdesk's answer for one effect."""

    key: str
    outcome: Outcome
    remote_id: str | None = None
    """Id of what was created or found (note, task, child ticket), when there is one."""
    reason: str | None = None
    """Why it was rejected: the helpdesk's message, never a request or response body."""
    error: ConnectorError | None = field(default=None, compare=False, repr=False)
    """The typed error behind a rejection (its class, status and request id), when any."""

    @property
    def durable(self) -> bool:
        """The helpdesk has the effect."""
        return self.outcome is not Outcome.REJECTED

    @classmethod
    def applied(cls, key: str, remote_id: str | None = None) -> EffectResult:
        return cls(key, Outcome.APPLIED, remote_id)

    @classmethod
    def already_there(cls, key: str, remote_id: str | None = None) -> EffectResult:
        return cls(key, Outcome.ALREADY_THERE, remote_id)

    @classmethod
    def rejected(cls, key: str, reason: str | ConnectorError) -> EffectResult:
        if isinstance(reason, ConnectorError):
            return cls(key, Outcome.REJECTED, reason=str(reason), error=reason)
        return cls(key, Outcome.REJECTED, reason=reason)


# ---------------------------------------------------------------------------------------
# the contract
# ---------------------------------------------------------------------------------------


@runtime_checkable
class Connector(Protocol):
    """What the engine needs from a helpdesk."""

    name: str
    """The configured connector name (state, logs and cursors are keyed by it)."""
    kind: str
    """``freshdesk``, ``movidesk`` or ``salesforce``."""
    write_batch: int
    """How many tickets' effects one ``write`` call takes (1: one ticket per call)."""

    def check(self) -> str:
        """Verify credentials and connectivity cheaply; return a one-line description."""
        ...

    def changes(
        self, cursor: Cursor | None, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[TicketRef]:
        """Tickets changed after ``cursor`` (none: from ``since``), not before ``since``
        and before ``until``, in listing order; none skipped, repeats allowed."""
        ...

    def load(self, ref: TicketRef) -> Loaded:
        """The ticket with internal comments, attachment names and context facts."""
        ...

    def reload(self, ticket_id: str) -> Loaded:
        """The ticket as it is now, outside any listing (a due timer's check)."""
        ...

    def write(self, batch: Sequence[TicketWrites]) -> list[EffectResult]:
        """Write the effects of ``batch`` (at most ``write_batch`` tickets), each ticket's
        in order; one result per effect answered."""
        ...

    def lookup(self, batch: Sequence[TicketWrites]) -> list[EffectResult]:
        """Find effects of ``batch`` written before (a crash, a lost answer); one
        ``already_there`` result per effect found."""
        ...


class PerTicketWrites(ABC):
    """Batch methods for a helpdesk that writes one ticket per call (the default shape).

    A connector defines ``write_ticket`` and ``find_applied``; a ``ConnectorError`` from
    one ticket becomes ``rejected`` results for that ticket's unanswered effects and the
    next ticket goes on. ``AuthError`` stops the batch.
    """

    write_batch = 1

    @abstractmethod
    def write_ticket(self, loaded: Loaded, effects: Sequence[Effect]) -> list[EffectResult]:
        """Write one ticket's effects in order; one result per effect answered."""

    @abstractmethod
    def find_applied(self, loaded: Loaded, effect: Effect) -> EffectResult | None:
        """``already_there`` when the helpdesk shows ``effect`` (its marker, its state)."""

    def write(self, batch: Sequence[TicketWrites]) -> list[EffectResult]:
        results: list[EffectResult] = []
        for item in batch:
            try:
                results.extend(self.write_ticket(item.loaded, item.effects))
            except AuthError:
                raise
            except ConnectorError as exc:
                results.extend(EffectResult.rejected(e.key, exc) for e in item.effects)
        return results

    def lookup(self, batch: Sequence[TicketWrites]) -> list[EffectResult]:
        found: list[EffectResult] = []
        for item in batch:
            for effect in item.effects:
                result = self.find_applied(item.loaded, effect)
                if result is not None:
                    found.append(result)
        return found


__all__ = [
    "AuthError",
    "Connector",
    "ConnectorError",
    "Cursor",
    "DatetimeCursor",
    "Effect",
    "EffectResult",
    "FatalError",
    "Loaded",
    "Outcome",
    "PerTicketWrites",
    "RetriableError",
    "TicketRef",
    "TicketWrites",
]
