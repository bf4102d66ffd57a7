"""Nothing escapes a pass: a helpdesk that keeps failing while listed, a timer that raises,
a ticket that raises. Each ends classified in the pass result, and the rest goes on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import engine.engine as engine_module
import engine.timers as timers_module
from engine.store import Store

from .harness import Harness
from .test_engine_contract import assert_exactly_once, engine

LIST_PATH = r"/api/v2/tickets$"


@pytest.mark.parametrize(
    ("kind", "count"),
    [
        pytest.param("5xx", 50, id="5xx-past-the-retries"),
        pytest.param("timeout", 50, id="timeouts"),
        pytest.param("drop", 50, id="refused-connection"),
        pytest.param("429", 500, id="429-past-the-total-wait"),
    ],
)
def test_listing_that_keeps_failing_ends_the_pass_classified(
    harness: Harness, store: Store, kind: str, count: int
) -> None:
    tickets = [harness.complete_ticket(v) for v in range(3)]
    harness.clock.advance(minutes=1)
    harness.fail(kind=kind, count=count, path=LIST_PATH)

    result = engine(harness, store).run_pass()  # returns: no exception escapes

    assert result.stopped
    assert result.unavailable is not None
    assert result.unavailable.startswith("RetriableError")
    assert result.decided == 0
    if kind == "429" and harness.retry_after:
        assert 300 - 7 <= sum(harness.sleeps) <= 300  # Retry-After honoured, total bounded
    elif kind == "429":
        assert 0 < sum(harness.sleeps) <= 300  # backoff without Retry-After, bounded

    # The helpdesk recovers: the next pass does everything, once.
    harness.clear_faults()
    harness.clock.advance(minutes=1)
    again = engine(harness, store).run_pass()
    assert again.ok
    assert again.unavailable is None
    assert {r.ticket_id for r in again.tickets} >= set(tickets)
    assert_exactly_once(harness, store)


def test_a_timer_that_raises_does_not_stop_the_other_timers(
    harness: Harness, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = harness.rupture_without_return()
    good = harness.rupture_without_return()
    harness.clock.advance(minutes=1)
    assert engine(harness, store).run_pass().ok
    assert {t.ticket_id for t in store.list_timers()} == {bad, good}

    real = timers_module.evaluate_timer

    def evaluate(mapping, request_type, timer_id, ticket, context, now):  # type: ignore[no-untyped-def]
        if ticket.id == bad:
            raise KeyError("a bug in one timer's check")
        return real(mapping, request_type, timer_id, ticket, context, now)

    monkeypatch.setattr(timers_module, "evaluate_timer", evaluate)
    harness.clock.advance(hours=24 * 7)
    result = engine(harness, store).run_pass()

    assert result.internal_error is None
    assert result.timers_fired == 1
    pending = {t.ticket_id for t in store.list_timers()}
    assert pending == {bad}  # stays pending: retried on the next sweep
    assert_exactly_once(harness, store)


def test_a_ticket_that_raises_is_a_failed_ticket_and_the_others_go_on(
    harness: Harness, store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tickets = [harness.complete_ticket(v) for v in range(3)]
    harness.clock.advance(minutes=1)
    real = engine_module.decide

    def decide(mapping, ticket, context, now):  # type: ignore[no-untyped-def]
        if ticket.id == tickets[1]:
            raise ValueError("CPF 529.982.247-25 broke a rule")  # PII in an exception text
        return real(mapping, ticket, context, now)

    monkeypatch.setattr(engine_module, "decide", decide)
    result = engine(harness, store).run_pass()

    assert result.failed == 1
    assert result.decided == 2
    assert result.internal_error is None
    [report] = [r for r in result.tickets if r.ticket_id == tickets[1]]
    assert report.error is not None
    assert report.error.startswith("ValueError")
    assert "529.982.247-25" not in report.error  # `run --format json` prints it
    # What the store keeps of the failure is masked.
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        kept = " ".join(str(row) for row in db.execute("SELECT * FROM failures"))
    assert "broke a rule" in kept
    assert "529.982.247-25" not in kept
