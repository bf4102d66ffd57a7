"""What a pass reports: per ticket (``TicketReport``), per pass (``PassResult``), live
(``Reporter``). Plain data the command line prints and tests read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sync.contract import Cursor


@dataclass(slots=True)
class TicketReport:
    """What happened to one ticket in a pass (for tables, progress and tests)."""

    ticket_id: str
    version: str
    outcome: str
    request_type: str | None
    planned: list[str] = field(default_factory=list)
    """Action kinds the decision asked for (after de-duplication against the journal)."""
    applied: int = 0
    reconciled: int = 0
    error: str | None = None
    timers_fired: int = 0
    """SLA timers already due when this decision started them, checked at once."""
    timers_cancelled: int = 0


@dataclass(slots=True)
class PassResult:
    """Counts of one pass."""

    connector: str
    seen: int = 0
    decided: int = 0
    skipped: int = 0
    """Already processed at this version (overlap re-reads, echoes of our own writes)."""
    applied: int = 0
    reconciled: int = 0
    failed: int = 0
    quarantined: int = 0
    cursor: Cursor | None = None
    """The connector's cursor after the pass (opaque text; a datetime cursor reads as its
    ISO 8601 stamp)."""
    timers_fired: int = 0
    timers_cancelled: int = 0
    tickets: list[TicketReport] = field(default_factory=list)
    stopped: bool = False
    lease_lost: bool = False
    """Another process took the connector over: the pass stopped before writing more."""
    unavailable: str | None = None
    """Why the helpdesk could not be listed (after its retries): the pass stopped there,
    what was done before is kept and the cursor stays behind what was not seen."""
    internal_error: str | None = None
    """An unexpected error outside any one ticket (a bug): the pass stopped there."""

    @property
    def ok(self) -> bool:
        """True when every ticket of the pass was processed."""
        return self.failed == 0 and self.quarantined == 0


class Reporter(Protocol):
    """Receives progress while a pass runs (progress bar, log lines, tests)."""

    def ticket_done(self, report: TicketReport) -> None: ...


class NullReporter:
    """A reporter that ignores everything."""

    def ticket_done(self, report: TicketReport) -> None:
        return None


__all__ = ["NullReporter", "PassResult", "Reporter", "TicketReport"]
