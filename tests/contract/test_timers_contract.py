"""SLA timers end to end, per connector: they fire once when due, and never when not needed.

The SAC distributor deadlines (seed 003, "03. Cadastro — Status do cadastro com o
distribuidor"): no answer in 72 business hours → a follow-up note to the agent; no answer
in 15 days → a note to return to the customer. The clock is simulated; the ticket is
escalated on Thursday 2026-11-19 10:00 (São Paulo), before a national holiday (Fri 20) and
a weekend.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.engine import Engine
from engine.store import Store
from sync.mapping_loader import load_mapping

from .harness import Crash, Harness

# The comment is written at 10:00 Thu and decided a minute later; the distributor timers
# count from the decision (``counted_from: decision``: our child ticket asks the distributor).
# 10:01 Thu + 72 business hours (08-18, Mon-Fri, no Fri 20): Thu 7 h 59, Mon 23..Fri 27 50 h,
# Mon 30 10 h, Tue Dec 1 08:00 + 4 h 01 -> Tue 2026-12-01 12:01 -03:00 = 15:01 UTC.
DUE_72H = datetime(2026, 12, 1, 15, 1, tzinfo=UTC)
DUE_15D = datetime(2026, 12, 4, 13, 1, tzinfo=UTC)  # 15 calendar days, same local time
FOLLOW_UP = "Prazo de 72 horas úteis vencido"
NO_ANSWER = "15 dias sem resposta do distribuidor"


def engine(h: Harness, store: Store) -> Engine:
    return Engine(
        h.connector(),
        load_mapping(h.mapping),
        store,
        clock=h.clock,
        initial_lookback=timedelta(days=2),
    )


def at(h: Harness, moment: datetime, store: Store) -> None:
    h.clock.now = moment
    engine(h, store).run_pass()


def notes_with(h: Harness, ticket: str, text: str) -> int:
    return sum(1 for body in h.notes_on(ticket) if text in body)


def escalate(h: Harness, store: Store) -> str:
    ticket = h.complete_ticket(1)  # "Status do cadastro: sem resposta" → distributor child
    h.clock.advance(minutes=1)
    engine(h, store).run_pass()
    assert len(h.children_of(ticket)) == 1
    assert {t.timer_id: t.due_at for t in store.list_timers()} == {
        "distribuidor_72h": DUE_72H,
        "distribuidor_15d": DUE_15D,
    }
    return ticket


def test_unanswered_child_fires_72h_follow_up_once_then_15_day_note_once(
    harness: Harness, store: Store
) -> None:
    ticket = escalate(harness, store)

    at(harness, DUE_72H - timedelta(minutes=1), store)  # a minute early: nothing
    assert notes_with(harness, ticket, FOLLOW_UP) == 0
    at(harness, DUE_72H, store)
    at(harness, DUE_72H + timedelta(hours=1), store)
    assert notes_with(harness, ticket, FOLLOW_UP) == 1
    assert notes_with(harness, ticket, NO_ANSWER) == 0

    at(harness, DUE_15D, store)
    at(harness, DUE_15D + timedelta(days=1), store)
    assert notes_with(harness, ticket, FOLLOW_UP) == 1
    assert notes_with(harness, ticket, NO_ANSWER) == 1
    assert store.list_timers() == []
    assert {(t.timer_id, t.state) for t in store.list_timers(state=None)} == {
        ("distribuidor_72h", "fired"),
        ("distribuidor_15d", "fired"),
    }


def test_answering_the_child_ticket_cancels_the_timers(harness: Harness, store: Store) -> None:
    ticket = escalate(harness, store)
    harness.clock.advance(days=1)
    harness.answer_children(ticket)

    at(harness, DUE_15D + timedelta(hours=1), store)

    assert notes_with(harness, ticket, FOLLOW_UP) == 0
    assert notes_with(harness, ticket, NO_ANSWER) == 0
    cancelled = {t.timer_id: t.reason for t in store.list_timers(state="cancelled")}
    assert cancelled == {
        "distribuidor_72h": "its condition no longer holds",
        "distribuidor_15d": "its condition no longer holds",
    }


def test_resolved_ticket_timers_never_fire(harness: Harness, store: Store) -> None:
    ticket = escalate(harness, store)
    harness.clock.advance(hours=2)
    harness.resolve(ticket)

    at(harness, DUE_15D + timedelta(hours=1), store)

    assert notes_with(harness, ticket, FOLLOW_UP) == 0
    assert notes_with(harness, ticket, NO_ANSWER) == 0
    assert {t.reason for t in store.list_timers(state="cancelled")} == {"ticket is Resolved"}


def test_crash_between_the_timer_write_and_its_journal_commit(
    harness: Harness, store: Store
) -> None:
    ticket = escalate(harness, store)
    harness.clock.now = DUE_72H
    harness.crash_after("POST", rf"/tickets/{ticket}/notes$")

    with pytest.raises(Crash):
        engine(harness, store).run_pass()
    assert notes_with(harness, ticket, FOLLOW_UP) == 1  # written, not journaled

    at(harness, DUE_72H + timedelta(minutes=5), store)  # the restart

    assert notes_with(harness, ticket, FOLLOW_UP) == 1
    assert [t.timer_id for t in store.list_timers(state="fired")] == ["distribuidor_72h"]


# ------------------------------------------------------------------ a backfill of old tickets

VOUCHER = "48h sem retorno do cliente na ruptura"


def test_a_timer_already_due_at_start_fires_once_on_the_ticket_just_loaded(
    harness: Harness, store: Store
) -> None:
    """Backfill: the comment is 3 days old, so the 48 h voucher step is overdue at once."""
    written = harness.clock() - timedelta(days=3)
    ticket = harness.rupture_without_return(at=written)

    engine(harness, store).run_pass(since=written - timedelta(hours=1))

    assert notes_with(harness, ticket, VOUCHER) == 1
    assert harness.reads_of(ticket) == 1  # the decision's load; the timer reads nothing more
    assert [(t.timer_id, t.due_at) for t in store.list_timers(state="fired")] == [
        ("ruptura_48h", written.replace(second=0, microsecond=0) + timedelta(hours=48))
    ]
    harness.clock.advance(hours=1)
    engine(harness, store).run_pass()  # the echo of our note, and a later timer sweep
    assert notes_with(harness, ticket, VOUCHER) == 1


def test_a_resolved_old_ticket_starts_no_overdue_action(harness: Harness, store: Store) -> None:
    written = harness.clock() - timedelta(days=3)
    ticket = harness.rupture_without_return(at=written)
    harness.resolve(ticket)

    engine(harness, store).run_pass(since=written - timedelta(hours=1))

    assert notes_with(harness, ticket, VOUCHER) == 0
    assert {t.reason for t in store.list_timers(state="cancelled")} == {"ticket is Resolved"}


def test_waits_started_by_our_own_child_ticket_count_from_the_decision(
    harness: Harness, store: Store
) -> None:
    """Backfill of a 20-day-old distributor escalation: the child ticket is created now, so
    the distributor's 72 business hours and 15 days start now and nothing fires at once."""
    written = harness.clock() - timedelta(days=20)
    ticket = harness.complete_ticket(1, at=written)

    engine(harness, store).run_pass(since=written - timedelta(hours=1))

    assert len(harness.children_of(ticket)) == 1
    assert notes_with(harness, ticket, FOLLOW_UP) == 0
    assert notes_with(harness, ticket, NO_ANSWER) == 0
    pending = {t.timer_id: t.due_at for t in store.list_timers()}
    assert pending["distribuidor_15d"] == harness.clock() + timedelta(days=15)
    assert pending["distribuidor_72h"] > harness.clock() + timedelta(days=3)
