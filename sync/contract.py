"""The contract every helpdesk connector implements, and the errors connectors raise.

A connector does all I/O with one helpdesk: it lists tickets changed since a moment,
loads one ticket with its internal comments, attachment names and the context facts the
decision core needs, resolves names (groups, agents, statuses) to ids, applies typed
actions, and finds its own earlier writes again (for crash recovery). Pagination, field
names, rate limits and retries stay inside the connector.

Error tree (what the engine does with each):

    ConnectorError            base; carries helpdesk, ticket id and request id, never a body
    ├── RetriableError        429 / 5xx / timeout after the connector's own retries: retry later
    ├── FatalError            other 4xx: the ticket fails (dead letter after N attempts)
    └── AuthError             401/403 credentials: the pass stops, nothing is written
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from sync.actions import Action
from sync.errors import HelpdeskSyncError
from sync.model import Context, Ticket


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


@dataclass(frozen=True, slots=True)
class TicketRef:
    """A changed ticket as the list endpoint shows it: enough to decide whether to load it."""

    id: str
    version: str
    """The helpdesk's change stamp for this state of the ticket (ISO 8601 UTC)."""
    stamp: datetime
    """``version`` as an aware datetime; the cursor moves along it."""
    snapshot: bytes | None = field(default=None, compare=False, repr=False)
    """The listing row as the connector saw it (compact, connector-private): lets ``load``
    skip re-reading what the list already returned. Never logged (it holds ticket data)."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """A ticket fully loaded for a decision."""

    ref: TicketRef
    ticket: Ticket
    context: Context = field(default_factory=Context)


@dataclass(frozen=True, slots=True)
class Effect:
    """One action to apply, with its deterministic idempotency key."""

    key: str
    action: Action


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof that an effect exists in the helpdesk."""

    key: str
    remote_id: str | None = None
    """Id of what was created (note, child ticket), when there is one."""
    reconciled: bool = False
    """True when found already applied (after a crash) instead of written now."""


@runtime_checkable
class Connector(Protocol):
    """What the engine needs from a helpdesk."""

    name: str
    """The configured connector name (state, logs and cursors are keyed by it)."""
    kind: str
    """``freshdesk``, ``movidesk`` or ``salesforce``."""

    def check(self) -> str:
        """Verify credentials and connectivity cheaply; return a one-line description."""
        ...

    def changed_since(self, since: datetime, until: datetime | None = None) -> Iterator[TicketRef]:
        """Tickets whose change stamp is >= ``since`` (and < ``until``), stamp ascending.

        Must never skip a ticket however large the backlog; may return a ticket more than
        once (the engine de-duplicates by id and version).
        """
        ...

    def load(self, ref: TicketRef) -> Loaded:
        """The ticket with internal comments, attachment names and context facts."""
        ...

    def apply(self, loaded: Loaded, effects: Sequence[Effect]) -> list[Receipt]:
        """Apply effects of one decision, in order, combining calls where the API allows.

        Returns one receipt per effect applied, in order. On an error, the receipts of the
        effects already applied are attached to the exception as ``receipts``.
        """
        ...

    def find_applied(self, loaded: Loaded, effect: Effect) -> Receipt | None:
        """Look in the helpdesk for an effect written before a crash (by its key marker)."""
        ...
