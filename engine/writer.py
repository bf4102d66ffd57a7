"""The one writer: the only code that calls a connector's writes and moves the journal.

Theory of operation
-------------------
* ``stage`` journals a ticket's effects before anything is written (``planned``; race-safe
  and idempotent) and sorts them: ``confirmed`` ones are done, ``planned`` ones are to
  write, ``sent``/``failed`` ones are ambiguous — an earlier attempt may have landed — and
  are looked up first.
* ``flush`` takes the staged effects of one or more tickets and, ``write_batch`` tickets
  per call: looks up the ambiguous ones (``Connector.lookup``), confirms what it found,
  marks the rest ``sent`` and writes them (``Connector.write``). Each ``EffectResult``
  moves its row along ``engine.journal.TRANSITIONS``: ``applied``/``already_there`` →
  ``confirmed``, ``rejected`` → ``failed`` with the reason. An effect without a result got
  no answer and stays ``sent``: it is looked up before it is written again.
* A ticket is durable when every one of its effects is ``confirmed``; otherwise its
  ``Staged.error`` says why, and the caller fails the ticket (the cursor stays behind it).
* ``AuthError`` stops everything (raised); a whole call that fails fails the tickets it
  carried and the next call goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sync.contract import (
    AuthError,
    Connector,
    ConnectorError,
    Effect,
    EffectResult,
    Loaded,
    Outcome,
    TicketWrites,
)
from sync.masking import mask_text

from .journal import AMBIGUOUS, OPEN, State
from .reports import TicketReport
from .store import Store

log = logging.getLogger("helpdesk_sync.writer")

SUPERSEDED = "superseded: the current decision no longer asks for this effect"
NO_ANSWER = "no answer from the helpdesk for this write: it is looked up before a retry"


@dataclass(slots=True)
class Staged:
    """One ticket's (or one timer's) effects on their way to the helpdesk."""

    loaded: Loaded
    report: TicketReport
    effects: list[Effect]
    """Effects not yet confirmed, in the decision's order."""
    ambiguous: set[str] = field(default_factory=set)
    """Keys of effects that may already be in the helpdesk: looked up before writing."""
    error: str | None = None
    """Why the ticket is not durable after ``flush`` (the first refusal), None when it is."""

    @property
    def durable(self) -> bool:
        return self.error is None and not self.effects

    def _fail(self, reason: str) -> None:
        if self.error is None:
            self.error = mask_text(reason)


class Writer:
    """Writes staged effects of one connector exactly once, in batches."""

    def __init__(self, connector: Connector, store: Store) -> None:
        self.connector = connector
        self.store = store
        self.name = connector.name
        self.batch = max(1, int(getattr(connector, "write_batch", 1) or 1))

    # ------------------------------------------------------------------ journal

    def settle_leftovers(
        self, ticket_id: str, wanted: set[str], satisfied: set[str], report: TicketReport
    ) -> None:
        """Close open journal rows of a ticket that its current decision no longer writes.

        A ``sent`` route or status that did land before a crash is now in effect on the
        ticket, so the decision lists it as already satisfied: confirm it. Anything else
        left open belongs to an older decision (the agent changed the comment).
        """
        for entry in self.store.journal_for_ticket(self.name, ticket_id):
            if entry.state not in OPEN or entry.key in wanted:
                continue
            if entry.key in satisfied:
                self.store.mark_confirmed(entry.key, None, reconciled=True)
                report.reconciled += 1
            else:
                self.store.mark_failed(entry.key, SUPERSEDED)

    def stage(
        self,
        loaded: Loaded,
        effects: Sequence[Effect],
        report: TicketReport,
        journal_id: str | None = None,
    ) -> Staged:
        """Journal ``effects`` (``planned`` when new) and return what is left to do.

        ``journal_id`` files a timer's effects apart from the ticket's own decision, so a
        re-decision of the ticket never settles them.
        """
        entries = self.store.effects_for([e.key for e in effects])
        staged = Staged(loaded, report, [])
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
            elif entry.state == State.CONFIRMED:
                continue
            elif entry.state in AMBIGUOUS:
                staged.ambiguous.add(effect.key)
            staged.effects.append(effect)
        return staged

    # ------------------------------------------------------------------ helpdesk

    def flush(self, staged: Sequence[Staged]) -> None:
        """Look up, then write, the effects of ``staged``; ``write_batch`` tickets a call."""
        for chunk in _chunks([s for s in staged if s.ambiguous], self.batch):
            self._call(chunk, self._look_up)
        for item in staged:
            item.report.planned = [e.action.kind for e in item.effects]
        for chunk in _chunks([s for s in staged if s.effects and s.error is None], self.batch):
            self._call(chunk, self._write)

    def write_now(
        self, loaded: Loaded, effects: Sequence[Effect], report: TicketReport, journal_id: str
    ) -> Staged:
        """Stage and flush the effects of one ticket at once (a timer firing)."""
        staged = self.stage(loaded, effects, report, journal_id)
        self.flush([staged])
        return staged

    def _call(self, chunk: list[Staged], step: Callable[[list[Staged]], None]) -> None:
        """One connector call for ``chunk``; its failure fails the chunk's tickets only."""
        try:
            step(chunk)
        except AuthError:
            raise
        except ConnectorError as exc:
            for item in chunk:
                item._fail(str(exc))
        except Exception as exc:  # a bug in a connector: these tickets fail, others go on
            log.exception(
                "write failed",
                extra={
                    "event": "writer.internal_error",
                    "connector": self.name,
                    "tickets": [s.loaded.ref.id for s in chunk],
                    "error_class": type(exc).__name__,
                },
            )
            for item in chunk:
                item._fail(f"{type(exc).__name__}: {exc}")

    def _look_up(self, chunk: list[Staged]) -> None:
        batch = [
            TicketWrites(s.loaded, tuple(e for e in s.effects if e.key in s.ambiguous))
            for s in chunk
        ]
        found = {
            r.key: r for r in self.connector.lookup(batch) if r.outcome is Outcome.ALREADY_THERE
        }
        for item in chunk:
            for effect in [e for e in item.effects if e.key in found]:
                self._confirm(item, effect, found[effect.key], "effect.reconciled")
            item.ambiguous.clear()

    def _write(self, chunk: list[Staged]) -> None:
        self.store.mark_sent([e.key for s in chunk for e in s.effects])
        results = {
            r.key: r
            for r in self.connector.write([TicketWrites(s.loaded, tuple(s.effects)) for s in chunk])
        }
        for item in chunk:
            for effect in list(item.effects):
                result = results.get(effect.key)
                if result is None:
                    item._fail(NO_ANSWER)  # stays ``sent``: ambiguous until looked up
                elif result.durable:
                    event = "effect.applied"
                    if result.outcome is Outcome.ALREADY_THERE:
                        event = "effect.reconciled"
                    self._confirm(item, effect, result, event)
                else:
                    reason = mask_text(result.reason or "rejected")
                    self.store.mark_failed(effect.key, reason)
                    item._fail(reason)

    def _confirm(self, item: Staged, effect: Effect, result: EffectResult, event: str) -> None:
        reconciled = event == "effect.reconciled"
        self.store.mark_confirmed(effect.key, result.remote_id, reconciled=reconciled)
        if reconciled:
            item.report.reconciled += 1
        else:
            item.report.applied += 1
        item.effects.remove(effect)
        log.info(
            "%s %s",
            event.split(".", 1)[1],
            effect.action.kind,
            extra={
                "event": event,
                "connector": self.name,
                "ticket_id": item.loaded.ref.id,
                "effect_key": effect.key,
                "kind": effect.action.kind,
            },
        )


def _chunks(items: list[Staged], size: int) -> Iterator[list[Staged]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = ["NO_ANSWER", "SUPERSEDED", "Staged", "Writer"]
