"""The engine's promises, checked against every connector through its sandbox.

Written once against ``tests/contract/harness.py``; a new helpdesk adds a harness and
inherits every test: end to end routing, exactly-once effects across crashes, faults,
no missed ticket, dead letters. What was written is read from the sandbox's state.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from engine.engine import Engine, PassResult
from engine.store import Store
from sync.mapping_loader import load_mapping

from .harness import Crash, Harness, mocked


def engine(h: Harness, store: Store, **kw: object) -> Engine:
    """A fresh engine, as after a process restart: new connector, same store."""
    return Engine(
        h.connector(),
        load_mapping(h.mapping),
        store,
        clock=h.clock,
        initial_lookback=timedelta(days=2),
        **kw,  # type: ignore[arg-type]
    )


def assert_exactly_once(h: Harness, store: Store) -> None:
    """Every marker-carrying effect the journal confirmed exists once in the helpdesk."""
    present = h.markers()
    assert all(count == 1 for count in present.values()), present
    confirmed = {
        e.key
        for e in store.all_effects()
        if e.state == "confirmed"
        and e.kind in {"add_note", "create_task", "create_child_ticket", "create_ticket"}
    }
    assert set(present) == confirmed


def run_until_done(h: Harness, store: Store, passes: int = 5) -> PassResult:
    result = engine(h, store).run_pass()
    for _ in range(passes):
        if result.ok:
            break
        h.clock.advance(minutes=1)
        result = engine(h, store).run_pass()
    return result


# --------------------------------------------------------------------- end to end


def test_end_to_end_routes_notes_children_and_tasks(harness: Harness, store: Store) -> None:
    ka = harness.complete_ticket(0)
    distributor = harness.complete_ticket(1)
    finance = harness.complete_ticket(2)
    incomplete = harness.incomplete_ticket()
    harness.clock.advance(minutes=1)

    result = engine(harness, store).run_pass()

    assert result.ok
    assert result.decided == 4
    outcomes = {t.ticket_id: t.outcome for t in result.tickets}
    assert outcomes == {
        ka: "complete",
        distributor: "complete",
        finance: "complete",
        incomplete: "incomplete",
    }
    assert len(harness.field_updates(ka)) == 1  # group + status in ONE update
    assert len(harness.children_of(distributor)) == 1
    assert harness.children_of(ka) == []
    notes = harness.notes_on(incomplete)
    assert len(notes) == 1
    assert "CNPJ do cliente" in notes[0]
    assert_exactly_once(harness, store)


def test_incomplete_ticket_gets_one_note_until_its_comment_changes(
    harness: Harness, store: Store
) -> None:
    ticket = harness.incomplete_ticket()
    harness.clock.advance(minutes=1)
    engine(harness, store).run_pass()
    for _ in range(3):  # later passes: our own note bumped the ticket; nothing new
        harness.clock.advance(minutes=2)
        again = engine(harness, store).run_pass()
        assert again.applied == 0
    assert len(harness.notes_on(ticket)) == 1

    harness.complete_the_comment(ticket)
    harness.clock.advance(minutes=1)
    fixed = engine(harness, store).run_pass()

    routed = [t for t in fixed.tickets if t.ticket_id == ticket]
    assert routed[-1].outcome == "complete"
    assert len(harness.field_updates(ticket)) == 1
    notes = harness.notes_on(ticket)
    assert len(notes) > 1  # the "missing" note, then what routing writes (note, task)
    assert len(set(notes)) == len(notes)
    assert_exactly_once(harness, store)


def test_echo_of_our_own_writes_produces_nothing(harness: Harness, store: Store) -> None:
    for variant in range(3):
        harness.complete_ticket(variant)
    harness.clock.advance(minutes=1)
    first = engine(harness, store).run_pass()
    assert first.applied > 0
    harness.clock.advance(minutes=1)
    second = engine(harness, store).run_pass()
    assert second.applied == 0
    assert second.reconciled == 0


# --------------------------------------------------------------------- crash safety

CRASH_POINTS = [
    pytest.param("PUT", r"/tickets/\d+$", id="after-update"),
    pytest.param("POST", r"/notes$", id="after-note"),
    pytest.param("POST", r"/tickets$", id="after-child-ticket"),
]


@pytest.mark.parametrize(("method", "path"), CRASH_POINTS)
def test_crash_after_each_kind_of_write_then_restart(
    harness: Harness, store: Store, method: str, path: str
) -> None:
    tickets = [harness.complete_ticket(v) for v in range(3)] + [harness.incomplete_ticket()]
    harness.clock.advance(minutes=1)
    harness.crash_after(method, path)

    with pytest.raises(Crash):
        engine(harness, store).run_pass()
    harness.clock.advance(minutes=1)
    result = engine(harness, store).run_pass()  # the restart

    assert result.ok
    assert_exactly_once(harness, store)
    for ticket in tickets[:3]:
        assert len(harness.field_updates(ticket)) == 1
    assert len(harness.children_of(tickets[1])) == 1
    assert len(harness.notes_on(tickets[3])) == 1


# --------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("kind", "count"),
    [
        pytest.param("429", 2, id="429-retry-after"),
        pytest.param("5xx", 3, id="5xx-burst"),
        pytest.param("timeout", 2, id="timeouts"),
        pytest.param("drop", 2, id="dropped"),
    ],
)
def test_faults_lose_and_duplicate_nothing(
    harness: Harness, store: Store, kind: str, count: int
) -> None:
    tickets = [harness.complete_ticket(v) for v in range(3)]
    harness.clock.advance(minutes=1)
    harness.fail(kind=kind, count=count)

    result = run_until_done(harness, store)

    assert result.ok
    assert {t for t in tickets} <= {r.ticket_id for r in result.tickets}
    assert_exactly_once(harness, store)
    for ticket in tickets:
        assert len(harness.field_updates(ticket)) == 1
    if kind == "429" and harness.retry_after:
        assert 7 in harness.sleeps  # Retry-After honoured
    elif kind == "429":
        assert harness.sleeps  # no Retry-After (Salesforce): waited with a backoff


def test_poison_ticket_is_quarantined_and_the_others_go_on(harness: Harness, store: Store) -> None:
    poison = harness.complete_ticket(0)
    healthy = [harness.complete_ticket(v) for v in (1, 2)]
    harness.clock.advance(minutes=1)
    harness.fail(kind="5xx", count=10**6, path=rf"/tickets/{poison}(/|$)")

    results = [engine(harness, store, max_attempts=3).run_pass() for _ in range(3)]

    assert [r.quarantined for r in results] == [0, 0, 1]
    assert results[0].failed == 1
    for ticket in healthy:
        assert len(harness.field_updates(ticket)) == 1
    letters = store.dead_letters()
    assert [(d.ticket_id, d.attempts) for d in letters] == [(poison, 3)]
    assert harness.poison_error in letters[0].error
    # quarantined: later passes skip it and the cursor moves on
    later = engine(harness, store, max_attempts=3).run_pass()
    assert later.failed == 0
    assert poison not in {t.ticket_id for t in later.tickets}


# --------------------------------------------------------------------- no missed ticket


def test_many_tickets_sharing_one_updated_at(harness: Harness, store: Store) -> None:
    stamp = harness.clock() - timedelta(minutes=10)
    tickets = [harness.complete_ticket(v, at=stamp) for v in range(60)]
    for ticket in tickets:
        harness.set_stamp(ticket, stamp)
    harness.clock.advance(minutes=1)

    result = engine(harness, store).run_pass()

    assert {t.ticket_id for t in result.tickets} == set(tickets)
    assert result.decided == 60
    assert_exactly_once(harness, store)


def test_a_backfill_over_a_long_backlog_decides_each_ticket_once(
    harness: Harness, store: Store
) -> None:
    """Tickets last updated 200 days ago to yesterday, one of them 90 days old give or take
    seconds: a helpdesk that keeps old tickets apart (Movidesk moves those not updated for
    90 days from ``/tickets`` to ``/tickets/past``) has that one cross the boundary while
    the backfill runs. Every ticket is decided once and written once, also when the
    backfill is run again."""
    now = harness.clock()
    harness.clock.tick = timedelta(seconds=1)  # time passes while the backfill runs
    ages = [
        timedelta(days=200),
        timedelta(days=120),
        timedelta(days=91),
        timedelta(days=90) - timedelta(seconds=5),
        timedelta(days=30),
        timedelta(days=1),
    ]
    tickets = []
    for variant, age in enumerate(ages):
        ticket = harness.complete_ticket(variant % 3, at=now - age)
        harness.set_stamp(ticket, now - age)
        tickets.append(ticket)
    since = now - timedelta(days=210)

    result = engine(harness, store).run_pass(since=since, cursor_name="backfill")

    decided = Counter(t.ticket_id for t in result.tickets if t.ticket_id in tickets)
    assert decided == Counter(tickets)
    assert result.ok
    assert_exactly_once(harness, store)
    for ticket in tickets:
        assert len(harness.field_updates(ticket)) == 1
    # Run again (a resumed backfill): nothing is written twice.
    harness.clock.advance(minutes=1)
    assert engine(harness, store).run_pass(since=since, cursor_name="backfill").ok
    assert_exactly_once(harness, store)
    for ticket in tickets:
        assert len(harness.field_updates(ticket)) == 1


def test_backlog_larger_than_the_page_cap(store: Store) -> None:
    from .harness import FreshdeskHarness

    with mocked() as rsps:
        h = FreshdeskHarness(rsps, page_cap=3, per_page=5)
        h.clock.tick = timedelta(milliseconds=300)  # writes spread over seconds, as in life
        base = h.clock() - timedelta(hours=5)
        tickets = [h.complete_ticket(v, at=base + timedelta(seconds=v // 2)) for v in range(40)]
        h.clock.advance(minutes=1)
        result = engine(h, store).run_pass()
    decided = [t.ticket_id for t in result.tickets if t.ticket_id in tickets]
    # every seeded ticket decided; the child tickets the pass created are listed too
    assert sorted(set(decided), key=int) == tickets
    assert result.failed == 0
