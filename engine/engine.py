"""One pass of the sync engine: poll a connector, decide, and apply effects exactly once.

Theory of operation
-------------------
* Tickets come from ``connector.changed_since(cursor - overlap)`` in stamp order. The
  overlap re-reads recent tickets on purpose (equal timestamps, clock skew, late commits);
  ``ticket_versions`` de-duplicates them by (ticket, version), so nothing is missed and
  nothing is processed twice.
* Every effect has a derived key (``sync.effects``). Before a write its journal row is
  ``sent``; after the helpdesk answers it is ``confirmed``. A crash in between leaves a
  ``sent`` row: the next time the ticket is processed the engine asks the connector to
  find the write (its marker) before writing again.
* The cursor advances to a ticket's stamp only after that ticket's effects are durable and
  every earlier ticket of the pass is done (or quarantined). A failing ticket holds the
  cursor back; it is retried on later passes and quarantined after ``max_attempts``.
* Echo suppression follows from the keys: helpdesk-sync's own write bumps the ticket's
  version, the next pass re-decides it, and every effect it asks for is already confirmed.
* Several processes: the caller holds the connector's lease (``engine.ownership``) and passes
  its ``fence``; the engine calls it after deciding a ticket and before a due timer's
  check, ahead of any write. ``LeaseLost`` (another process took the connector over) stops
  the pass there with ``PassResult.lease_lost``; the new owner settles what was in flight.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from cli.settings import ScopeSettings
from engine.ownership import LeaseLost
from engine.store import Store
from sync.contract import (
    AuthError,
    Connector,
    ConnectorError,
    Effect,
    Loaded,
    Receipt,
    TicketRef,
)
from sync.decide import Decision, decide, evaluate_timer, project
from sync.effects import effect_key
from sync.mapping_loader import CompiledMapping
from sync.masking import mask_text
from sync.textnorm import fold

log = logging.getLogger("helpdesk_sync.engine")

TIMER_PAGE = 200
"""Due timers read from the store at a time."""


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
    cursor: datetime | None = None
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


class _NullReporter:
    def ticket_done(self, report: TicketReport) -> None:
        return None


def _no_fence() -> None:
    """No lease to check: a single process, a test, or ``--dry-run``."""


class Engine:
    """Runs passes of one connector with its mapping against the state store."""

    def __init__(
        self,
        connector: Connector,
        mapping: CompiledMapping,
        store: Store,
        *,
        clock: Callable[[], datetime],
        overlap: timedelta = timedelta(minutes=5),
        initial_lookback: timedelta = timedelta(days=1),
        max_attempts: int = 5,
        dry_run: bool = False,
        stop: threading.Event | None = None,
        scope: ScopeSettings | None = None,
        fence: Callable[[], None] | None = None,
    ) -> None:
        self.connector = connector
        self.mapping = mapping
        self.store = store
        self.clock = clock
        self.overlap = overlap
        self.initial_lookback = initial_lookback
        self.max_attempts = max_attempts
        self.dry_run = dry_run
        self.stop = stop or threading.Event()
        self._fence = fence or _no_fence
        """Called before a ticket's or a timer's writes; raises ``LeaseLost`` to stop them."""
        self._keep = True
        self._busy = threading.Lock()
        """Polls and timer checks of one connector never overlap (scheduler jobs, threads)."""
        scope = scope or ScopeSettings()
        self._groups = frozenset(fold(g) for g in scope.groups)
        self._types = frozenset(fold(t) for t in scope.request_types)

    @property
    def name(self) -> str:
        return self.connector.name

    def run_pass(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor_name: str = "poll",
        reporter: Reporter | None = None,
        keep_reports: bool = True,
    ) -> PassResult:
        """Process every ticket changed since the cursor (or ``since``), then return counts.

        ``since`` fixes where a fresh cursor starts (backfill); an existing cursor wins so a
        run started again resumes where it stopped.
        """
        with self._busy:
            result = self._run_pass(since, until, cursor_name, reporter, keep_reports)
            if not self.dry_run and not result.stopped:
                try:
                    fired, cancelled = self._fire_timers()
                except LeaseLost as exc:
                    self._lease_lost(result, exc)
                else:
                    result.timers_fired += fired
                    result.timers_cancelled += cancelled
        return result

    def _lease_lost(self, result: PassResult, exc: LeaseLost) -> None:
        result.stopped = result.lease_lost = True
        log.warning(
            "pass stopped: %s",
            exc,
            extra={"event": "pass.lease_lost", "connector": self.name},
        )

    def _run_pass(
        self,
        since: datetime | None,
        until: datetime | None,
        cursor_name: str,
        reporter: Reporter | None,
        keep_reports: bool,
    ) -> PassResult:
        reporter = reporter or _NullReporter()
        result = PassResult(connector=self.name)
        self._keep = keep_reports  # a long backfill keeps counts only: memory stays flat
        stored = self.store.get_cursor(self.name, cursor_name)
        if stored is not None:
            start = stored - self.overlap
            if since is not None:
                start = max(start, since)
        else:
            start = since if since is not None else self.clock() - self.initial_lookback
        held_back = False
        try:
            for ref in self.connector.changed_since(start, until):
                if self.stop.is_set():
                    result.stopped = True
                    break
                result.seen += 1
                try:
                    done = self._handle(ref, result, reporter)
                except LeaseLost as exc:  # nothing more is written; the new owner goes on
                    self._lease_lost(result, exc)
                    break
                if not done:
                    held_back = True
                elif not held_back and not self.dry_run:
                    result.cursor = self.store.advance_cursor(self.name, ref.stamp, cursor_name)
        except AuthError:
            raise
        except ConnectorError as exc:
            # Listing failed after the connector's own retries (a 429 storm past the total
            # wait, timeouts, a refused connection): stop here, keep what was done.
            result.stopped = True
            result.unavailable = mask_text(f"{type(exc).__name__}: {exc}")
            log.error(
                "listing failed",
                extra={
                    "event": "pass.unavailable",
                    "connector": self.name,
                    "error_class": type(exc).__name__,
                    "error": str(exc),
                },
            )
        except Exception as exc:  # a bug while listing: classified, never a raw traceback
            result.stopped = True
            result.internal_error = mask_text(f"{type(exc).__name__}: {exc}")
            log.exception(
                "pass failed",
                extra={
                    "event": "pass.internal_error",
                    "connector": self.name,
                    "error_class": type(exc).__name__,
                },
            )
        if result.cursor is None:
            result.cursor = self.store.get_cursor(self.name, cursor_name)
        log.info(
            "pass done",
            extra={
                "event": "pass.done",
                "connector": self.name,
                "seen": result.seen,
                "decided": result.decided,
                "skipped": result.skipped,
                "applied": result.applied,
                "reconciled": result.reconciled,
                "failed": result.failed,
                "quarantined": result.quarantined,
            },
        )
        return result

    # ------------------------------------------------------------------ per ticket

    def _handle(self, ref: TicketRef, result: PassResult, reporter: Reporter) -> bool:
        """Process one ticket; True when it no longer holds the cursor back."""
        if self.store.is_quarantined(self.name, ref.id):
            result.skipped += 1
            return True
        if self.store.processed_version(self.name, ref.id) == ref.version:
            result.skipped += 1
            return True
        try:
            report = self._process(ref)
        except (AuthError, LeaseLost):
            raise
        except ConnectorError as exc:
            return self._failed(ref, str(exc), result, reporter)
        except Exception as exc:  # a poison ticket must not stop the others
            log.exception(
                "ticket failed",
                extra={"event": "ticket.error", "connector": self.name, "ticket_id": ref.id},
            )
            return self._failed(ref, f"{type(exc).__name__}: {exc}", result, reporter)
        result.decided += 1
        result.applied += report.applied
        result.reconciled += report.reconciled
        result.timers_fired += report.timers_fired
        result.timers_cancelled += report.timers_cancelled
        if self._keep:
            result.tickets.append(report)
        reporter.ticket_done(report)
        return True

    def _failed(self, ref: TicketRef, error: str, result: PassResult, reporter: Reporter) -> bool:
        error = mask_text(error)  # API messages and exceptions may quote a customer's data
        report = TicketReport(ref.id, ref.version, "error", None, error=error)
        if self._keep:
            result.tickets.append(report)
        reporter.ticket_done(report)
        if self.dry_run:
            result.failed += 1
            return False
        attempts = self.store.record_failure(self.name, ref.id, ref.version, error)
        log.warning(
            "ticket failed",
            extra={
                "event": "ticket.failed",
                "connector": self.name,
                "ticket_id": ref.id,
                "attempt": attempts,
                "error": error,
            },
        )
        if attempts >= self.max_attempts:
            self.store.quarantine(self.name, ref.id, ref.version, error, attempts)
            result.quarantined += 1
            report.outcome = "quarantined"
            log.error(
                "ticket quarantined",
                extra={
                    "event": "ticket.quarantined",
                    "connector": self.name,
                    "ticket_id": ref.id,
                    "attempt": attempts,
                },
            )
            return True
        result.failed += 1
        return False

    def _process(self, ref: TicketRef) -> TicketReport:
        loaded = self.connector.load(ref)
        now = self.clock()
        decision = decide(self.mapping, loaded.ticket, loaded.context, now)
        if not self.dry_run:
            self._fence()  # still the owner? (renews the lease) — before anything is written
        if not self._in_scope(loaded, decision):
            report = TicketReport(ref.id, ref.version, "out_of_scope", decision.request_type)
            if not self.dry_run:
                self.store.mark_processed(self.name, ref.id, ref.version, "out_of_scope")
            return report
        effects = [Effect(effect_key(self.name, ref.id, a), a) for a in decision.actions]
        report = TicketReport(ref.id, ref.version, decision.outcome, decision.request_type)
        self._log_decision(ref, decision)
        if self.dry_run:
            report.planned = [e.action.kind for e in effects]
            self.store.record_decision(
                self.name,
                ref.id,
                ref.version,
                decision.request_type,
                decision.outcome,
                [a.to_dict() for a in decision.actions],
                now,
                dry_run=True,
            )
            return report
        self.store.record_decision(
            self.name,
            ref.id,
            ref.version,
            decision.request_type,
            decision.outcome,
            [a.to_dict() for a in decision.actions],
            now,
        )
        self._settle_leftovers(ref, decision, effects, report)
        pending = self._pending(loaded, effects, report)
        report.planned = [e.action.kind for e in pending]
        if pending:
            self._apply(loaded, pending, report)
        for timer in decision.timers:  # started once, ever: a re-decision does not restart it
            started = self.store.start_timer(
                self.name, ref.id, timer.id, timer.request_type, timer.due, timer.sop
            )
            if started and timer.due <= now:
                # Overdue at start (a backfill of an old comment): check it on the ticket
                # just loaded, as the decision leaves it, instead of loading it again.
                after = replace(
                    loaded, ticket=project(self.mapping, loaded.ticket, decision.actions)
                )
                state = self._check_timer(ref.id, timer.id, timer.request_type, after, now)
                report.timers_fired += state == "fired"
                report.timers_cancelled += state == "cancelled"
        with self.store.transaction() as tx:
            tx.mark_processed(self.name, ref.id, ref.version, decision.outcome)
            tx.clear_failures(self.name, ref.id)
        return report

    def _settle_leftovers(
        self, ref: TicketRef, decision: Decision, effects: list[Effect], report: TicketReport
    ) -> None:
        """Close journal rows of this ticket that the current decision no longer writes.

        A ``sent`` route or status whose write did land before a crash is now in effect on
        the ticket, so the decision lists it as already satisfied: confirm it. Anything else
        left planned/sent belongs to an older decision (the agent changed the comment).
        """
        wanted = {e.key for e in effects}
        satisfied = {effect_key(self.name, ref.id, a) for a in decision.satisfied}
        for entry in self.store.journal_for_ticket(self.name, ref.id):
            if entry.state not in ("planned", "sent") or entry.key in wanted:
                continue
            if entry.key in satisfied:
                self.store.mark_confirmed(entry.key, None, reconciled=True)
                report.reconciled += 1
            else:
                self.store.mark_failed(
                    entry.key, "superseded: the current decision no longer asks for this effect"
                )

    def fire_timers(self) -> tuple[int, int]:
        """Check due SLA timers now (the scheduler's own job): (fired, cancelled)."""
        with self._busy:
            return self._fire_timers()

    def _fire_timers(self) -> tuple[int, int]:
        """Every due timer, a page at a time (memory stays one page however many are due)."""
        fired = cancelled = 0
        now = self.clock()
        after = None
        while not self.stop.is_set():
            page = self.store.due_timers(self.name, now, limit=TIMER_PAGE, after=after)
            for row in page:
                if self.stop.is_set():
                    break
                self._fence()
                ref = TicketRef(row.ticket_id, version="", stamp=now)
                try:
                    loaded = self.connector.load(ref)
                    state = self._check_timer(
                        row.ticket_id, row.timer_id, row.request_type, loaded, now
                    )
                except (AuthError, LeaseLost):
                    raise
                except ConnectorError as exc:  # the timer stays pending; the next check retries
                    self._timer_failed(row.ticket_id, row.timer_id, exc)
                    continue
                except Exception as exc:  # one bad timer never stops the others
                    log.exception(
                        "timer check failed",
                        extra={
                            "event": "timer.internal_error",
                            "connector": self.name,
                            "ticket_id": row.ticket_id,
                            "timer": row.timer_id,
                            "error_class": type(exc).__name__,
                        },
                    )
                    continue
                fired += state == "fired"
                cancelled += state == "cancelled"
            if len(page) < TIMER_PAGE:
                break
            after = page[-1]
        return fired, cancelled

    def _check_timer(
        self, ticket_id: str, timer_id: str, request_type: str, loaded: Loaded, now: datetime
    ) -> str | None:
        """Fire a due timer's actions (exactly once) or cancel it; None: stays pending."""
        verdict = evaluate_timer(
            self.mapping, request_type, timer_id, loaded.ticket, loaded.context, now
        )
        try:
            if verdict.fire:
                scope = f"{ticket_id}#timer:{timer_id}"
                effects = [Effect(effect_key(self.name, scope, a), a) for a in verdict.actions]
                report = TicketReport(ticket_id, "", "timer", request_type)
                pending = self._pending(loaded, effects, report, journal_id=scope)
                if pending:
                    self._apply(loaded, pending, report)
        except AuthError:
            raise
        except ConnectorError as exc:  # the timer stays pending; the next check retries
            self._timer_failed(ticket_id, timer_id, exc)
            return None
        state = "fired" if verdict.fire else "cancelled"
        self.store.finish_timer(self.name, ticket_id, timer_id, state, verdict.reason)
        log.info(
            "timer %s %s",
            timer_id,
            state,
            extra={
                "event": f"timer.{state}",
                "connector": self.name,
                "ticket_id": ticket_id,
                "timer": timer_id,
                "reason": verdict.reason,
            },
        )
        return state

    def _timer_failed(self, ticket_id: str, timer_id: str, exc: ConnectorError) -> None:
        log.warning(
            "timer check failed",
            extra={
                "event": "timer.error",
                "connector": self.name,
                "ticket_id": ticket_id,
                "timer": timer_id,
                "error": str(exc),
            },
        )

    def _in_scope(self, loaded: Loaded, decision: Decision) -> bool:
        """Configured scope: only tickets of these groups/queues and request types."""
        if self._groups and fold(loaded.ticket.queue or "") not in self._groups:
            return False
        return not self._types or fold(decision.request_type or "") in self._types

    def _pending(
        self,
        loaded: Loaded,
        effects: list[Effect],
        report: TicketReport,
        journal_id: str | None = None,
    ) -> list[Effect]:
        """Effects still to write: new ones, and ``sent`` ones the helpdesk does not show.

        ``journal_id`` files a timer's effects apart from the ticket's own decision, so a
        re-decision of the ticket never settles them.
        """
        entries = self.store.effects_for([e.key for e in effects])
        pending: list[Effect] = []
        for effect in effects:
            entry = entries.get(effect.key)
            if entry is None:
                self.store.plan_effect(
                    self.name,
                    journal_id or loaded.ref.id,
                    effect.key,
                    effect.action.kind,
                    effect.action.to_dict(),
                )
                pending.append(effect)
            elif entry.state == "confirmed":
                continue
            elif entry.state in ("sent", "failed"):
                # sent: the write may have landed before a crash; failed: an earlier attempt
                # may have landed too (a lost answer, a superseded decision). Look first.
                found = self.connector.find_applied(loaded, effect)
                if found is not None:
                    self.store.mark_confirmed(effect.key, found.remote_id, reconciled=True)
                    report.reconciled += 1
                    self._log_effect(loaded, effect, "effect.reconciled")
                else:
                    pending.append(effect)
            else:  # planned: never sent, write it
                pending.append(effect)
        return pending

    def _apply(self, loaded: Loaded, pending: list[Effect], report: TicketReport) -> None:
        self.store.mark_sent([e.key for e in pending])
        try:
            receipts = self.connector.apply(loaded, pending)
        except ConnectorError as exc:
            done: list[Receipt] = list(getattr(exc, "receipts", []) or [])
            self._confirm(loaded, pending, done, report)
            raise
        self._confirm(loaded, pending, receipts, report)

    def _confirm(
        self, loaded: Loaded, pending: list[Effect], receipts: list[Receipt], report: TicketReport
    ) -> None:
        by_key = {e.key: e for e in pending}
        for receipt in receipts:
            self.store.mark_confirmed(receipt.key, receipt.remote_id, reconciled=receipt.reconciled)
            report.applied += 1
            effect = by_key.get(receipt.key)
            if effect is not None:
                self._log_effect(loaded, effect, "effect.applied")

    def _log_decision(self, ref: TicketRef, decision: Decision) -> None:
        log.info(
            "decided %s: %s",
            decision.request_type or "-",
            decision.outcome,
            extra={
                "event": "ticket.decided",
                "connector": self.name,
                "ticket_id": ref.id,
                "version": ref.version,
                "request_type": decision.request_type,
                "outcome": decision.outcome,
                "missing": [m.label for m in decision.missing],
                "actions": [a.kind for a in decision.actions],
                "dry_run": self.dry_run,
            },
        )

    def _log_effect(self, loaded: Loaded, effect: Effect, event: str) -> None:
        log.info(
            "%s %s",
            event.split(".", 1)[1],
            effect.action.kind,
            extra={
                "event": event,
                "connector": self.name,
                "ticket_id": loaded.ref.id,
                "effect_key": effect.key,
                "kind": effect.action.kind,
            },
        )
