"""The engine of one connector: a pass polls, decides, writes exactly once, checks timers.

Theory of operation
-------------------
* ``engine.poller`` lists the changed tickets and moves the cursor; for each ticket it
  calls ``Engine.begin`` (load, decide, journal) and, once ``engine.writer`` has written
  a batch, ``Engine.finish`` (timers, processed mark). ``engine.timers`` checks due SLA
  timers after the pass or on its own schedule. The store (``engine.store``) holds every
  state; the journal's states move only along ``engine.journal.TRANSITIONS``.
* Every effect has a derived key (``sync.effects``), so the same decision always asks for
  the same effects and the journal tells which the helpdesk already has. Echo suppression
  follows: helpdesk-sync's own write bumps the ticket's version, the next pass re-decides
  it, and every effect it asks for is already confirmed.
* Several processes: the caller holds the connector's lease (``engine.ownership``) and
  passes its ``fence``; the engine calls it after deciding a ticket and before a due
  timer's check, ahead of any write. ``LeaseLost`` (another process took the connector
  over) stops the pass there with ``PassResult.lease_lost``; the new owner settles what was
  in flight.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from sync.contract import AuthError, Connector, ConnectorError, Effect, Loaded, TicketRef
from sync.decide import Decision, decide, project
from sync.effects import effect_key
from sync.mapping_loader import CompiledMapping
from sync.masking import mask_text
from sync.textnorm import fold

from .ownership import LeaseLost
from .poller import Pending, Poller
from .reports import NullReporter, PassResult, Reporter, TicketReport
from .store import Store
from .timers import TIMER_PAGE, Timers
from .writer import Staged, Writer

log = logging.getLogger("helpdesk_sync.engine")


class Scope(Protocol):
    """Which tickets the mapping applies to (``ScopeSettings``); empty means all."""

    @property
    def groups(self) -> Iterable[str]: ...

    @property
    def request_types(self) -> Iterable[str]: ...


@dataclass(slots=True)
class _Decided:
    """A ticket decided and journaled, waiting for its writes."""

    loaded: Loaded
    decision: Decision
    now: datetime
    report: TicketReport
    staged: Staged


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


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
        initial_lookback: timedelta = timedelta(days=1),
        max_attempts: int = 5,
        dry_run: bool = False,
        stop: threading.Event | None = None,
        scope: Scope | None = None,
        fence: Callable[[], None] | None = None,
    ) -> None:
        self.connector = connector
        self.mapping = mapping
        self.store = store
        self.clock = clock
        self.initial_lookback = initial_lookback
        self.max_attempts = max_attempts
        self.dry_run = dry_run
        self.stop = stop or threading.Event()
        self._fence = fence or _no_fence
        """Called before a ticket's or a timer's writes; raises ``LeaseLost`` to stop them."""
        self._keep = True
        self._busy = threading.Lock()
        """Polls and timer checks of one connector never overlap (scheduler jobs, threads)."""
        self._groups = frozenset(fold(g) for g in (scope.groups if scope else ()))
        self._types = frozenset(fold(t) for t in (scope.request_types if scope else ()))
        self.writer = Writer(connector, store)
        self.timers = Timers(
            connector, mapping, store, self.writer, fence=self._fence, stop=self.stop
        )

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

        ``since`` fixes where a fresh cursor starts (backfill) and is a lower bound after;
        an existing cursor wins so a run started again resumes where it stopped.
        """
        with self._busy:
            result = PassResult(connector=self.name)
            self._keep = keep_reports  # a long backfill keeps counts only: memory stays flat
            if since is None and self.store.get_cursor(self.name, cursor_name) is None:
                since = self.clock() - self.initial_lookback
            poller = Poller(
                self.connector,
                self.store,
                self.writer,
                self,
                stop=self.stop,
                dry_run=self.dry_run,
                on_lease_lost=self._lease_lost,
            )
            reporter = reporter or NullReporter()
            poller.run(result, reporter, cursor_name=cursor_name, since=since, until=until)
            self._log_pass(result)
            if not self.dry_run and not result.stopped:
                try:
                    fired, cancelled = self.timers.fire_due(self.clock())
                except LeaseLost as exc:
                    self._lease_lost(result, exc)
                else:
                    result.timers_fired += fired
                    result.timers_cancelled += cancelled
        return result

    def fire_timers(self) -> tuple[int, int]:
        """Check due SLA timers now (the scheduler's own job): (fired, cancelled)."""
        with self._busy:
            return self.timers.fire_due(self.clock())

    # ------------------------------------------------------------------ one ticket

    def begin(self, ref: TicketRef, result: PassResult, reporter: Reporter) -> Pending:
        """Load, decide and journal one listed ticket (``TicketSteps``)."""
        if self.store.is_quarantined(self.name, ref.id) or (
            self.store.processed_version(self.name, ref.id) == ref.version
        ):
            result.skipped += 1
            reporter.ticket_skipped()
            return Pending(ref, done=True)
        try:
            decided = self._process(ref)
        except (AuthError, LeaseLost):
            raise
        except ConnectorError as exc:
            return Pending(ref, done=self._failed(ref, str(exc), result, reporter))
        except Exception as exc:  # a poison ticket must not stop the others
            log.exception("ticket failed", extra=self._bug(ref))
            return Pending(ref, done=self._failed(ref, _describe(exc), result, reporter))
        if isinstance(decided, TicketReport):
            self._done(decided, result, reporter)
            return Pending(ref, done=True)
        return Pending(ref, staged=decided.staged, decided=decided)

    def _process(self, ref: TicketRef) -> TicketReport | _Decided:
        """The story of one ticket up to its writes: what the writer gets, or the report."""
        loaded = self.connector.load(ref)
        now = self.clock()
        decision = decide(self.mapping, loaded.ticket, loaded.context, now)
        if not self.dry_run:
            self._fence()  # still the owner? (renews the lease) — before anything is written
        report = TicketReport(ref.id, ref.version, decision.outcome, decision.request_type)
        report.explain(decision)  # why: missing fields, SOP citations, actions (masked)
        if not self._in_scope(loaded, decision):
            report.outcome = "out_of_scope"
            if not self.dry_run:
                self.store.mark_processed(self.name, ref.id, ref.version, "out_of_scope")
            return report
        self._log_decision(ref, decision)
        self._record(ref, decision, now)
        effects = [Effect(effect_key(self.name, ref.id, a), a) for a in decision.actions]
        if self.dry_run:
            report.planned = [e.action.kind for e in effects]
            return report
        satisfied = {effect_key(self.name, ref.id, a) for a in decision.satisfied}
        self.writer.settle_leftovers(ref.id, {e.key for e in effects}, satisfied, report)
        staged = self.writer.stage(loaded, effects, report)
        return _Decided(loaded, decision, now, report, staged)

    def finish(self, pending: Pending, result: PassResult, reporter: Reporter) -> None:
        """After the writes: start the decision's timers and mark the version processed."""
        decided: _Decided = pending.decided
        ref = pending.ref
        if decided.staged.error is not None:
            pending.done = self._failed(ref, decided.staged.error, result, reporter)
            return
        try:
            self._start_timers(decided)
            with self.store.transaction() as tx:
                tx.mark_processed(self.name, ref.id, ref.version, decided.decision.outcome)
                tx.clear_failures(self.name, ref.id)
        except (AuthError, LeaseLost):
            raise
        except ConnectorError as exc:
            pending.done = self._failed(ref, str(exc), result, reporter)
            return
        except Exception as exc:  # a poison ticket must not stop the others
            log.exception("ticket failed", extra=self._bug(ref))
            pending.done = self._failed(ref, _describe(exc), result, reporter)
            return
        pending.done = True
        self._done(decided.report, result, reporter)

    def _start_timers(self, decided: _Decided) -> None:
        """Start each timer once, ever (a re-decision does not restart it); one already due
        (a backfill of an old comment) is checked at once on the ticket as the decision
        leaves it, instead of loading it again."""
        loaded, decision, now = decided.loaded, decided.decision, decided.now
        report = decided.report
        ticket_id = loaded.ref.id
        for timer in decision.timers:
            started = self.store.start_timer(
                self.name, ticket_id, timer.id, timer.request_type, timer.due, timer.sop
            )
            if started and timer.due <= now:
                after = replace(
                    loaded, ticket=project(self.mapping, loaded.ticket, decision.actions)
                )
                state = self.timers.check(ticket_id, timer.id, timer.request_type, after, now)
                report.timers_fired += state == "fired"
                report.timers_cancelled += state == "cancelled"

    def _record(self, ref: TicketRef, decision: Decision, now: datetime) -> None:
        self.store.record_decision(
            self.name,
            ref.id,
            ref.version,
            decision.request_type,
            decision.outcome,
            [a.to_dict() for a in decision.actions],
            now,
            dry_run=self.dry_run,
        )

    def _in_scope(self, loaded: Loaded, decision: Decision) -> bool:
        """Configured scope: only tickets of these groups/queues and request types."""
        if self._groups and fold(loaded.ticket.queue or "") not in self._groups:
            return False
        return not self._types or fold(decision.request_type or "") in self._types

    # ------------------------------------------------------------------ outcomes

    def _done(self, report: TicketReport, result: PassResult, reporter: Reporter) -> None:
        result.decided += 1
        result.applied += report.applied
        result.reconciled += report.reconciled
        result.timers_fired += report.timers_fired
        result.timers_cancelled += report.timers_cancelled
        if self._keep:
            result.tickets.append(report)
        reporter.ticket_done(report)

    def _bug(self, ref: TicketRef) -> dict[str, str]:
        """Log fields of an unexpected error on one ticket (logged with its traceback)."""
        return {"event": "ticket.error", "connector": self.name, "ticket_id": ref.id}

    def _failed(self, ref: TicketRef, error: str, result: PassResult, reporter: Reporter) -> bool:
        """Count a failure; True when the ticket no longer holds the cursor (quarantined)."""
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

    def _lease_lost(self, result: PassResult, exc: LeaseLost) -> None:
        result.stopped = result.lease_lost = True
        log.warning(
            "pass stopped: %s",
            exc,
            extra={"event": "pass.lease_lost", "connector": self.name},
        )

    def _log_pass(self, result: PassResult) -> None:
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


__all__ = ["TIMER_PAGE", "Engine", "PassResult", "Reporter", "Scope", "TicketReport"]
