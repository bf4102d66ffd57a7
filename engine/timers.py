"""SLA timers: check due timers against the ticket as it is now, fire or cancel each once.

A decision starts its timers (``Store.start_timer``: once ever per ticket and timer id).
``Timers.fire_due`` reads due timers a page at a time (memory stays one page however many
are due), reloads each ticket, asks the core (``evaluate_timer``) whether the timer fires
or is cancelled, and writes a firing timer's effects through the writer under the journal
id ``<ticket>#timer:<timer>`` — exactly once, like a decision's. A timer whose write or
load fails stays pending and is checked again next time; one bad timer never stops the
others; ``AuthError`` and ``LeaseLost`` stop the sweep.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sync.contract import AuthError, Connector, ConnectorError, Effect, Loaded
from sync.decide import evaluate_timer
from sync.effects import effect_key
from sync.mapping_loader import CompiledMapping

from .ownership import LeaseLost
from .reports import TicketReport
from .store import Store
from .writer import Writer

log = logging.getLogger("helpdesk_sync.engine")

TIMER_PAGE = 200
"""Due timers read from the store at a time."""


class Timers:
    """Due-timer checks of one connector."""

    def __init__(
        self,
        connector: Connector,
        mapping: CompiledMapping,
        store: Store,
        writer: Writer,
        *,
        fence: Callable[[], None],
        stop: threading.Event,
    ) -> None:
        self.connector = connector
        self.mapping = mapping
        self.store = store
        self.writer = writer
        self.fence = fence
        self.stop = stop
        self.name = connector.name

    def fire_due(self, now: datetime) -> tuple[int, int]:
        """Every timer due at ``now``: (fired, cancelled)."""
        fired = cancelled = 0
        after = None
        while not self.stop.is_set():
            page = self.store.due_timers(self.name, now, limit=TIMER_PAGE, after=after)
            for row in page:
                if self.stop.is_set():
                    break
                self.fence()
                try:
                    loaded = self.connector.reload(row.ticket_id)
                    state = self.check(row.ticket_id, row.timer_id, row.request_type, loaded, now)
                except (AuthError, LeaseLost):
                    raise
                except ConnectorError as exc:  # stays pending; the next check retries
                    self._failed(row.ticket_id, row.timer_id, str(exc))
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

    def check(
        self, ticket_id: str, timer_id: str, request_type: str, loaded: Loaded, now: datetime
    ) -> str | None:
        """Fire a due timer's actions (exactly once) or cancel it; None: stays pending."""
        verdict = evaluate_timer(
            self.mapping, request_type, timer_id, loaded.ticket, loaded.context, now
        )
        if verdict.fire:
            scope = f"{ticket_id}#timer:{timer_id}"
            effects = [Effect(effect_key(self.name, scope, a), a) for a in verdict.actions]
            report = TicketReport(ticket_id, "", "timer", request_type)
            staged = self.writer.write_now(loaded, effects, report, journal_id=scope)
            if staged.error is not None:
                self._failed(ticket_id, timer_id, staged.error)
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

    def _failed(self, ticket_id: str, timer_id: str, error: str) -> None:
        log.warning(
            "timer check failed",
            extra={
                "event": "timer.error",
                "connector": self.name,
                "ticket_id": ticket_id,
                "timer": timer_id,
                "error": error,
            },
        )


__all__ = ["TIMER_PAGE", "Timers"]
