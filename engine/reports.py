"""What a pass reports: per ticket (``TicketReport``), per pass (``PassResult``), live
(``Reporter``). Plain data the command line prints, the status page shows and tests read.

A ticket's report also carries why it was decided so (``TicketReport.explain``): the
missing and invalid fields by their SOP labels, the SOP citations, the rules that applied,
one line per action asked for and the decision's explanation lines. Free text in it
(reasons, subjects, targets) is masked (``sync.masking``): reports leave the process
(status page, logs, JSON output).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Protocol

from sync.contract import Cursor
from sync.masking import mask_text

if TYPE_CHECKING:
    from sync.actions import Action
    from sync.decide import Decision

DETAIL_ATTRIBUTES: tuple[str, ...] = (
    "target",
    "status",
    "priority",
    "purpose",
    "subject",
    "into",
    "reason",
)
"""What names an action's object, most telling first (``describe_action``)."""
DETAIL_LIMIT = 80
"""Longest detail shown for one action (a subject may be long)."""


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
    missing: list[str] = field(default_factory=list)
    """Labels (as the SOP names them) of the required fields the ticket lacks."""
    invalid: list[str] = field(default_factory=list)
    """``label: reason`` of the values that failed their check (masked)."""
    sop: list[str] = field(default_factory=list)
    """The SOP citations the decision rests on (sections of the seed documents)."""
    rules: list[str] = field(default_factory=list)
    """The mapping's rules whose condition held."""
    actions: list[str] = field(default_factory=list)
    """One line per action the decision asks for (``describe_action``), masked."""
    explanation: list[str] = field(default_factory=list)
    """How the decision was reached, as ``explain`` words it (masked)."""

    def explain(self, decision: Decision) -> None:
        """Copy from ``decision`` why it was decided so (labels, citations, actions)."""
        self.missing = [m.label for m in decision.missing]
        self.invalid = [mask_text(f"{i.label}: {i.reason}") for i in decision.invalid]
        cited = [*decision.sop, *(m.sop for m in decision.missing)]
        cited += [i.sop for i in decision.invalid]
        self.sop = list(dict.fromkeys(c for c in cited if c))
        self.rules = list(decision.rules)
        self.actions = [describe_action(a) for a in decision.actions]
        self.explanation = [mask_text(line) for line in decision.explanation]


def describe_action(action: Action) -> str:
    """One masked line for an action: its kind and what it names ("route: Financeiro",
    "add_note: incomplete", "create_task: Retornar ao cliente (due 2026-12-01 18:00 UTC)").

    Generic on purpose (the first attribute of ``DETAIL_ATTRIBUTES`` the action has), so a
    new action kind is described without a table to update. Note bodies and descriptions
    are never shown: they quote the customer's data.
    """
    detail = ""
    for name in DETAIL_ATTRIBUTES:
        value = getattr(action, name, None)
        if isinstance(value, str) and value.strip():
            detail = " ".join(value.split())
            break
    if len(detail) > DETAIL_LIMIT:
        detail = detail[: DETAIL_LIMIT - 1] + "…"
    due = getattr(action, "due", None)
    when = f" (due {due.astimezone(UTC):%Y-%m-%d %H:%M} UTC)" if due is not None else ""
    return mask_text(f"{action.kind}: {detail}{when}" if detail else f"{action.kind}{when}")


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
    """Receives progress while a pass runs (progress bar, log lines, tests).

    ``ticket_listed`` comes for every reference the pass takes from the listing (the
    summary's ``seen``), before the ticket is begun; ``ticket_skipped`` when the engine
    skips it (already processed at that version, or quarantined); ``ticket_done`` when
    it is decided and written, or failed; ``listing_done`` once the listing is exhausted
    (not when the pass stopped before its end).
    """

    def ticket_listed(self) -> None: ...

    def ticket_skipped(self) -> None: ...

    def ticket_done(self, report: TicketReport) -> None: ...

    def listing_done(self) -> None: ...


class NullReporter:
    """A reporter that ignores everything (a base for reporters that want a few hooks)."""

    def ticket_listed(self) -> None:
        return None

    def ticket_skipped(self) -> None:
        return None

    def ticket_done(self, report: TicketReport) -> None:
        return None

    def listing_done(self) -> None:
        return None


__all__ = ["NullReporter", "PassResult", "Reporter", "TicketReport", "describe_action"]
