"""Polling: list a connector's changed tickets, hand each to the engine, write in batches,
and move the cursor only past tickets whose effects are durable.

Theory of operation
-------------------
* The listing starts at the stored cursor (or, for a cursor never saved, at ``since``):
  ``Connector.changes`` re-reads behind it on purpose (its overlap), and
  ``ticket_versions`` de-duplicates those re-reads by (ticket, version), so nothing is
  missed and nothing is processed twice.
* Each ticket goes through ``TicketSteps.begin`` (load, decide, journal): it is done at
  once (skipped, out of scope, dry run), failed, or staged for writing. Staged tickets
  are written ``write_batch`` at a time (``Writer.flush``) and then finished
  (``TicketSteps.finish``: timers, processed mark).
* The cursor (``CursorKeeper``) moves to a ticket's cursor only when that ticket and every
  earlier one of the pass are done (or quarantined). A failing ticket holds it back for
  the rest of the pass; it is retried on later passes and quarantined after
  ``max_attempts``.
* The pass ends with counts whatever happens: a listing that fails after the connector's
  retries sets ``unavailable``, a bug sets ``internal_error``, ``LeaseLost`` sets
  ``lease_lost`` (nothing more is written; the new owner settles what was staged).
  ``AuthError`` is raised: no pass can succeed with those credentials.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sync.contract import AuthError, Connector, ConnectorError, TicketRef
from sync.masking import mask_text

from .ownership import LeaseLost
from .reports import PassResult, Reporter
from .store import Store
from .writer import Staged, Writer

log = logging.getLogger("helpdesk_sync.engine")


@dataclass(slots=True)
class Pending:
    """One listed ticket on its way through a pass."""

    ref: TicketRef
    staged: Staged | None = None
    """Its effects waiting for the writer (None: nothing left to write)."""
    decided: Any = None
    """What ``TicketSteps.begin`` needs again in ``finish`` (the decision)."""
    done: bool | None = None
    """True: done (the cursor may pass it); False: failed (holds the cursor); None: yet
    to be written."""


class TicketSteps(Protocol):
    """The per-ticket story the poller drives (``engine.engine.Engine``)."""

    def begin(self, ref: TicketRef, result: PassResult, reporter: Reporter) -> Pending: ...

    def finish(self, pending: Pending, result: PassResult, reporter: Reporter) -> None: ...


class CursorKeeper:
    """Saves the cursor of the last ticket before which every ticket is done."""

    def __init__(self, store: Store, connector: str, name: str, *, save: bool) -> None:
        self.store = store
        self.connector = connector
        self.name = name
        self.save = save
        self.held = False
        self.cursor: str | None = None
        self._waiting: deque[Pending] = deque()

    def track(self, pending: Pending) -> None:
        self._waiting.append(pending)

    def advance(self) -> None:
        """Move past the finished tickets at the head of the line, in listing order."""
        while self._waiting and self._waiting[0].done is not None:
            pending = self._waiting.popleft()
            if not pending.done:
                self.held = True
            if self.held or not self.save or not pending.ref.cursor:
                continue
            self.cursor = self.store.save_cursor(self.connector, pending.ref.cursor, self.name)


class Poller:
    """One listing pass of one connector."""

    def __init__(
        self,
        connector: Connector,
        store: Store,
        writer: Writer,
        steps: TicketSteps,
        *,
        stop: threading.Event,
        dry_run: bool,
        on_lease_lost: Callable[[PassResult, LeaseLost], None],
    ) -> None:
        self.connector = connector
        self.store = store
        self.writer = writer
        self.steps = steps
        self.stop = stop
        self.dry_run = dry_run
        self.on_lease_lost = on_lease_lost
        self.name = connector.name

    def run(
        self,
        result: PassResult,
        reporter: Reporter,
        *,
        cursor_name: str,
        since: datetime | None,
        until: datetime | None,
    ) -> None:
        """Process every ticket the listing shows; counts go to ``result``."""
        stored = self.store.get_cursor(self.name, cursor_name)
        keeper = CursorKeeper(self.store, self.name, cursor_name, save=not self.dry_run)
        queue: list[Pending] = []
        writing = 0  # tickets in ``queue`` with effects to write or look up: a batch counts these
        try:
            for ref in self.connector.changes(stored, since, until):
                if self.stop.is_set():
                    result.stopped = True
                    break
                result.seen += 1
                reporter.ticket_listed()
                pending = self.steps.begin(ref, result, reporter)
                keeper.track(pending)
                if pending.done is None:
                    queue.append(pending)
                    if pending.staged is not None and pending.staged.effects:
                        writing += 1
                if writing >= self.writer.batch:
                    self._flush(queue, result, reporter)
                    writing = 0
                keeper.advance()
            else:
                reporter.listing_done()
            self._flush(queue, result, reporter)
            keeper.advance()
        except LeaseLost as exc:  # nothing more is written; the new owner goes on
            self.on_lease_lost(result, exc)
        except AuthError:
            raise
        except ConnectorError as exc:
            # Listing failed after the connector's own retries (a 429 storm past the total
            # wait, timeouts, a refused connection): write what was decided, stop here.
            self._finish_after_listing(queue, keeper, result, reporter)
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
        result.cursor = keeper.cursor or self.store.get_cursor(self.name, cursor_name)

    def _finish_after_listing(
        self, queue: list[Pending], keeper: CursorKeeper, result: PassResult, reporter: Reporter
    ) -> None:
        try:
            self._flush(queue, result, reporter)
            keeper.advance()
        except LeaseLost as exc:
            self.on_lease_lost(result, exc)

    def _flush(self, queue: list[Pending], result: PassResult, reporter: Reporter) -> None:
        """Write the queued tickets' effects, then finish each ticket."""
        if not queue:
            return
        self.writer.flush([p.staged for p in queue if p.staged is not None])
        for pending in queue:
            self.steps.finish(pending, result, reporter)
        queue.clear()


__all__ = ["CursorKeeper", "Pending", "Poller", "TicketSteps"]
