"""The state store on SQLite and PostgreSQL: every operation, its races and its schema."""

from __future__ import annotations

import dataclasses
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, Table, create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from engine import schema as schema_module
from engine import store as store_module
from engine.ownership import (
    AliveMark,
    ConnectorLease,
    Heartbeat,
    LeaseLost,
    new_owner_id,
    owner_is_gone,
    wanted_key,
)
from engine.store import (
    METADATA,
    SCHEMA_VERSION,
    AuditRow,
    DeadLetter,
    JournalEntry,
    LeaseRow,
    Store,
    StoreError,
    backfill_cursor_name,
)
from sync.contract import DatetimeCursor
from sync.errors import HelpdeskSyncError

T = TypeVar("T")
C0 = "2026-11-20T13:00:00+00:00"
C1 = "2026-11-20T13:00:01+00:00"
T0 = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
THREADS = 8


class FakeClock:
    """A settable clock so row order and timestamps are deterministic."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **kw: float) -> None:
        with self._lock:
            self.now += timedelta(**kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked(store_url: str, clock: FakeClock) -> Iterator[Store]:
    """A store on each backend whose ``now`` is ``clock``."""
    with Store(store_url, clock=clock) as opened:
        yield opened


def in_threads(fn: Callable[[int], T], n: int = THREADS) -> list[T]:
    """Run ``fn(i)`` in ``n`` threads released at once; return the results in order."""
    barrier = threading.Barrier(n)

    def run(i: int) -> T:
        barrier.wait(timeout=30)
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def datetimes_of(row: Any) -> list[datetime]:
    return [v for v in dataclasses.asdict(row).values() if isinstance(v, datetime)]


def assert_aware_utc(*values: datetime | None) -> None:
    for value in values:
        assert value is not None
        assert value.tzinfo is not None
        assert value.utcoffset() == timedelta(0)


# ---------------------------------------------------------------------------------------
# cursors
# ---------------------------------------------------------------------------------------


def test_cursor_starts_empty_then_is_saved(store: Store) -> None:
    assert store.get_cursor("fd") is None
    assert store.save_cursor("fd", C0) == C0
    assert store.get_cursor("fd") == C0
    assert store.save_cursor("fd", C1) == C1
    assert store.get_cursor("fd") == C1


def test_cursor_is_opaque_text_stored_as_given(store: Store) -> None:
    """The store never reads a cursor: the connector's text comes back byte for byte."""
    odd = '{"modstamp": "2026-11-20T13:00:00.000+0000", "comment_id": "00a5f00000Q1"}'
    store.save_cursor("sf", odd)
    assert store.get_cursor("sf") == odd
    with pytest.raises(ValueError, match="empty"):
        store.save_cursor("sf", "")


def test_cursors_are_per_connector_and_name(store: Store) -> None:
    name = backfill_cursor_name(T0 - timedelta(days=7), T0)
    store.save_cursor("fd", C0)
    store.save_cursor("fd", "backfill-pos", name)
    store.save_cursor("sf", C1)
    assert store.get_cursor("fd") == C0
    assert store.get_cursor("fd", name) == "backfill-pos"
    assert store.get_cursor("sf") == C1
    assert store.get_cursor("mv") is None


def test_backfill_cursor_name_is_stable_utc() -> None:
    brt = timezone(timedelta(hours=-3))
    since = datetime(2026, 11, 1, 9, 0, tzinfo=brt)
    assert backfill_cursor_name(since, T0) == (
        "backfill:2026-11-01T12:00:00+00:00:2026-11-20T13:00:00+00:00"
    )


def test_concurrent_saves_neither_fail_nor_mix(store: Store) -> None:
    positions = [f"pos-{i}" for i in range(THREADS)]
    results = in_threads(lambda i: store.save_cursor("fd", positions[i]))
    assert results == positions
    assert store.get_cursor("fd") in positions


def test_a_version_2_datetime_cursor_becomes_a_datetime_cursor(store_url: str) -> None:
    """Upgrading a store of the datetime-cursor era keeps where each connector was."""
    database = make_url(store_url).database
    if store_url.startswith("sqlite") and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(store_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for step in store_module.MIGRATIONS[:2]:
                step(conn)
            schema_module.schema_version_table.create(conn, checkfirst=True)
            for version in (1, 2):
                conn.execute(
                    schema_module.schema_version_table.insert().values(
                        version=version, applied_at=T0
                    )
                )
            conn.execute(
                schema_module._cursors_v1.insert().values(
                    connector="fd", name="poll", stamp=T0, updated_at=T0
                )
            )
    finally:
        engine.dispose()
    with Store(store_url) as upgraded:
        assert upgraded.applied_migrations == (3,)
        position = upgraded.get_cursor("fd")
    assert position == "2026-11-20T13:00:00+00:00"
    assert DatetimeCursor.decode(position) == T0


# ---------------------------------------------------------------------------------------
# ticket versions
# ---------------------------------------------------------------------------------------


def test_processed_version_upsert(store: Store) -> None:
    assert store.processed_version("fd", "1") is None
    store.mark_processed("fd", "1", "v1", "complete")
    assert store.processed_version("fd", "1") == "v1"
    store.mark_processed("fd", "1", "v2", "incomplete")
    assert store.processed_version("fd", "1") == "v2"
    assert store.processed_version("fd", "2") is None
    assert store.processed_version("sf", "1") is None


# ---------------------------------------------------------------------------------------
# journal
# ---------------------------------------------------------------------------------------


def test_plan_effect_is_idempotent(store: Store) -> None:
    first = store.plan_effect("fd", "1", "k1", "add_note", {"text": "Olá", "n": [1, 2]})
    assert first.state == "planned"
    assert first.attempts == 0
    assert first.payload == {"text": "Olá", "n": [1, 2]}
    store.mark_sent(["k1"])
    again = store.plan_effect("fd", "1", "k1", "add_note", {"text": "different"})
    assert again.state == "sent"
    assert again.payload == {"text": "Olá", "n": [1, 2]}
    assert again.created_at == first.created_at
    assert len(store.all_effects()) == 1


def test_plan_effect_is_race_safe(store: Store) -> None:
    entries = in_threads(lambda i: store.plan_effect("fd", "1", "k", "route", {"by": i}))
    assert len({e.payload["by"] for e in entries}) == 1
    assert all(e == entries[0] for e in entries)
    assert [e.key for e in store.all_effects()] == ["k"]


def test_journal_state_transitions(store: Store) -> None:
    store.plan_effect("fd", "1", "k", "add_note", {"text": "x"})
    store.mark_sent(["k"])
    sent = store.get_effect("k")
    assert sent is not None
    assert (sent.state, sent.attempts, sent.ambiguous) == ("sent", 1, True)

    store.mark_failed("k", "422 Unprocessable")
    failed = store.get_effect("k")
    assert failed is not None
    assert (failed.state, failed.error, failed.ambiguous) == ("failed", "422 Unprocessable", False)

    store.mark_sent(["k"])  # a retry
    store.mark_confirmed("k", "note-9", reconciled=False)
    done = store.get_effect("k")
    assert done is not None
    assert (done.state, done.attempts, done.remote_id) == ("confirmed", 2, "note-9")
    assert done.error is None
    assert done.reconciled is False
    assert done.updated_at >= done.created_at

    # confirmed is terminal
    store.mark_sent(["k"])
    store.mark_failed("k", "late error")
    final = store.get_effect("k")
    assert final is not None
    assert (final.state, final.attempts, final.error) == ("confirmed", 2, None)


def test_mark_confirmed_reconciled_keeps_known_remote_id(store: Store) -> None:
    store.plan_effect("fd", "1", "k", "create_task", {"subject": "s"})
    store.mark_sent(["k"])
    store.mark_confirmed("k", "task-1", reconciled=False)
    store.mark_confirmed("k", None, reconciled=True)
    entry = store.get_effect("k")
    assert entry is not None
    assert (entry.remote_id, entry.reconciled) == ("task-1", True)


def test_unknown_keys(store: Store) -> None:
    assert store.get_effect("nope") is None
    with pytest.raises(KeyError):
        store.mark_confirmed("nope", None, reconciled=False)
    with pytest.raises(KeyError):
        store.mark_failed("nope", "x")
    store.mark_sent(["nope"])  # nothing to do, no error
    store.mark_sent([])
    assert store.effects_for([]) == {}


def test_effects_for_returns_existing_keys(store: Store) -> None:
    for key in ("a", "b", "c"):
        store.plan_effect("fd", "1", key, "route", {"key": key})
    found = store.effects_for(["a", "c", "missing"])
    assert sorted(found) == ["a", "c"]
    assert found["c"].payload == {"key": "c"}
    assert isinstance(found["a"], JournalEntry)


def test_unfinished_lists_planned_and_sent_oldest_first(clocked: Store, clock: FakeClock) -> None:
    for key in ("k3-planned", "k1-sent", "k2-confirmed", "k4-failed", "k0-planned"):
        clocked.plan_effect("fd", "1", key, "add_note", {})
        clock.advance(seconds=1)
    clocked.plan_effect("sf", "1", "other-connector", "add_note", {})
    clocked.mark_sent(["k1-sent", "k2-confirmed", "k4-failed"])
    clocked.mark_confirmed("k2-confirmed", None, reconciled=False)
    clocked.mark_failed("k4-failed", "boom")
    assert [e.key for e in clocked.unfinished("fd")] == ["k3-planned", "k1-sent", "k0-planned"]
    assert [e.state for e in clocked.unfinished("fd")] == ["planned", "sent", "planned"]
    assert [e.key for e in clocked.unfinished("sf")] == ["other-connector"]
    assert clocked.unfinished("mv") == []


def test_journal_for_ticket(clocked: Store, clock: FakeClock) -> None:
    clocked.plan_effect("fd", "1", "b", "route", {})
    clock.advance(seconds=1)
    clocked.plan_effect("fd", "1", "a", "add_note", {})
    clocked.plan_effect("fd", "2", "c", "add_note", {})
    clocked.plan_effect("sf", "1", "d", "add_note", {})
    assert [e.key for e in clocked.journal_for_ticket("fd", "1")] == ["b", "a"]
    assert [e.key for e in clocked.all_effects("fd")] == ["b", "a", "c"]  # ties: by key
    assert len(clocked.all_effects()) == 4


# ---------------------------------------------------------------------------------------
# failures and dead letters
# ---------------------------------------------------------------------------------------


def test_record_failure_counts_and_clears(store: Store) -> None:
    assert [store.record_failure("fd", "1", "v1", f"e{i}") for i in range(3)] == [1, 2, 3]
    assert store.record_failure("fd", "2", "v1", "e") == 1
    assert store.record_failure("sf", "1", "v1", "e") == 1
    store.clear_failures("fd", "1")
    assert store.record_failure("fd", "1", "v2", "e") == 1
    store.clear_failures("fd", "nobody")  # no-op


def test_record_failure_is_atomic(store: Store) -> None:
    counts = in_threads(lambda i: store.record_failure("fd", "1", "v", f"e{i}"))
    assert sorted(counts) == list(range(1, THREADS + 1))


def test_long_errors_are_cut(store: Store) -> None:
    store.plan_effect("fd", "1", "k", "add_note", {})
    store.mark_failed("k", "x" * 10_000)
    entry = store.get_effect("k")
    assert entry is not None
    assert entry.error is not None
    assert len(entry.error) <= 2000


def test_quarantine_and_release_cycle(store: Store) -> None:
    for _ in range(3):
        attempts = store.record_failure("fd", "1", "v1", "500")
    first = store.quarantine("fd", "1", "v1", "500", attempts)
    assert store.is_quarantined("fd", "1")
    assert not store.is_quarantined("fd", "2")
    assert not store.is_quarantined("sf", "1")

    # quarantining again updates the one active row
    assert store.quarantine("fd", "1", "v2", "502", 4) == first
    [letter] = store.dead_letters()
    assert isinstance(letter, DeadLetter)
    assert (letter.id, letter.version, letter.error, letter.attempts) == (first, "v2", "502", 4)
    assert letter.retried_at is None
    assert_aware_utc(letter.created_at)

    [released] = store.release(first)
    assert released.id == first
    assert_aware_utc(released.retried_at)
    assert not store.is_quarantined("fd", "1")
    assert store.dead_letters() == []
    assert [d.id for d in store.dead_letters(include_retried=True)] == [first]
    assert store.record_failure("fd", "1", "v2", "500") == 1  # fresh attempts
    assert store.release(first) == []  # no longer active

    second = store.quarantine("fd", "1", "v3", "500", 5)
    assert second != first
    assert [d.id for d in store.dead_letters("fd", include_retried=True)] == [first, second]


def test_release_all_or_per_connector(store: Store) -> None:
    ids = {
        (c, t): store.quarantine(c, t, "v", "e", 5)
        for c, t in [("fd", "1"), ("fd", "2"), ("sf", "1")]
    }
    assert {d.ticket_id for d in store.dead_letters("fd")} == {"1", "2"}
    released = store.release(connector="fd")
    assert sorted(d.id for d in released) == sorted([ids["fd", "1"], ids["fd", "2"]])
    assert [d.connector for d in store.dead_letters()] == ["sf"]
    assert store.release(ids["sf", "1"], connector="fd") == []  # id of another connector
    assert [d.id for d in store.release()] == [ids["sf", "1"]]
    assert store.dead_letters() == []


def test_release_clears_failures_of_released_tickets_only(store: Store) -> None:
    store.record_failure("fd", "1", "v", "e")
    store.record_failure("fd", "2", "v", "e")
    letter = store.quarantine("fd", "1", "v", "e", 1)
    store.release(letter)
    assert store.record_failure("fd", "1", "v", "e") == 1
    assert store.record_failure("fd", "2", "v", "e") == 2


# ---------------------------------------------------------------------------------------
# audit
# ---------------------------------------------------------------------------------------


def test_audit_trail_newest_first_with_json_round_trip(store: Store) -> None:
    actions: list[dict[str, Any]] = [
        {"kind": "add_note", "text": "Faltam: CPF (dígito inválido) — ação", "purpose": "missing"},
        {"kind": "create_task", "due": "2026-11-21T12:00:00+00:00", "owner": None, "n": [1, 2.5]},
    ]
    store.record_decision("fd", "1", "v1", "Voucher", "incomplete", actions, T0)
    store.record_decision("fd", "1", "v2", None, "no_rule", [], T0 + timedelta(hours=2))
    store.record_decision("fd", "2", "v1", "EPS", "complete", [], T0 + timedelta(hours=1))
    store.record_decision("sf", "1", "v1", "X", "complete", [], T0 + timedelta(hours=3), True)

    trail = store.audit_trail()
    assert [(r.connector, r.ticket_id, r.version) for r in trail] == [
        ("sf", "1", "v1"),
        ("fd", "1", "v2"),
        ("fd", "2", "v1"),
        ("fd", "1", "v1"),
    ]
    oldest = trail[-1]
    assert isinstance(oldest, AuditRow)
    assert oldest.actions == actions
    assert (oldest.request_type, oldest.outcome, oldest.dry_run) == ("Voucher", "incomplete", False)
    assert oldest.decided_at == T0
    assert trail[0].dry_run is True
    assert trail[1].request_type is None
    assert [r.version for r in store.audit_trail("fd", "1")] == ["v2", "v1"]
    assert [r.ticket_id for r in store.audit_trail(connector="fd")] == ["1", "2", "1"]
    assert len(store.audit_trail(limit=2)) == 2


def test_audit_refuses_comment_bodies(store: Store) -> None:
    with pytest.raises(ValueError, match="comments"):
        store.record_decision("fd", "1", "v", "X", "ok", [{"comments": ["secret"]}], T0)
    assert store.audit_trail() == []


# ---------------------------------------------------------------------------------------
# leases
# ---------------------------------------------------------------------------------------


def test_lease_exclusivity_renewal_and_expiry(store: Store) -> None:
    ttl = timedelta(seconds=30)
    assert store.acquire_lease("fd", "a", ttl, T0)
    assert not store.acquire_lease("fd", "b", ttl, T0 + timedelta(seconds=10))
    assert store.acquire_lease("fd", "a", ttl, T0 + timedelta(seconds=20))  # renew to T0+50s
    assert not store.acquire_lease("fd", "b", ttl, T0 + timedelta(seconds=49))
    assert store.acquire_lease("sf", "b", ttl, T0)  # leases are per connector
    assert store.acquire_lease("fd", "b", ttl, T0 + timedelta(seconds=50))  # expired
    assert not store.acquire_lease("fd", "a", ttl, T0 + timedelta(seconds=51))


def test_release_lease(store: Store) -> None:
    ttl = timedelta(minutes=5)
    assert store.acquire_lease("fd", "a", ttl, T0)
    assert not store.release_lease("fd", "b")  # not b's to release
    assert not store.acquire_lease("fd", "b", ttl, T0)
    assert store.release_lease("fd", "a")
    assert store.acquire_lease("fd", "b", ttl, T0)


def test_lease_race_has_one_winner(store: Store) -> None:
    won = in_threads(lambda i: store.acquire_lease("fd", f"r{i}", timedelta(seconds=30), T0))
    assert won.count(True) == 1


def test_lease_holder_names_owner_and_expiry(store: Store) -> None:
    ttl = timedelta(seconds=30)
    assert store.lease_holder("fd", T0) is None
    assert store.acquire_lease("fd", "host:12:ab", ttl, T0)
    holder = store.lease_holder("fd", T0 + timedelta(seconds=10))
    assert isinstance(holder, LeaseRow)
    assert (holder.owner, holder.expires_at) == ("host:12:ab", T0 + ttl)
    assert holder.remaining == timedelta(seconds=20)
    assert_aware_utc(holder.expires_at, holder.checked_at)
    assert store.lease_holder("fd", T0 + ttl) is None  # run out: free
    assert store.lease_holder("sf", T0) is None


def test_leases_run_on_the_database_clock(store_url: str) -> None:
    """PostgreSQL times leases by its own clock, whatever the process's clock says."""
    skewed = FakeClock(datetime(2001, 1, 1, tzinfo=UTC))  # a host whose clock is far off
    ttl = timedelta(seconds=30)
    with Store(store_url, clock=skewed) as store:
        assert store.acquire_lease("fd", "a", ttl)
        assert not store.acquire_lease("fd", "b", ttl)
        holder = store.lease_holder("fd")
        assert holder is not None
        assert holder.owner == "a"
        if store_url.startswith("sqlite"):  # one host's file: that host's clock
            assert holder.expires_at == skewed.now + ttl
        else:
            real = datetime.now(UTC) + ttl
            assert abs(holder.expires_at - real) < timedelta(seconds=20)
        assert timedelta(0) < holder.remaining <= ttl


# ---------------------------------------------------------------------------------------
# ownership: one process writes a connector at a time (engine.ownership)
# ---------------------------------------------------------------------------------------

FAR = datetime(2999, 1, 1, tzinfo=UTC)


class FakeWaiting:
    """Monotonic time that moves only when slept; ``on_sleep`` runs at every pause."""

    def __init__(self, on_sleep: Callable[[], None] = lambda: None) -> None:
        self.now = 0.0
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.on_sleep()


def lease_of(
    store: Store, owner: str, ttl: float = 30, waiting: FakeWaiting | None = None, **kw: Any
) -> ConnectorLease:
    waiting = waiting or FakeWaiting()
    return ConnectorLease(
        store,
        "fd",
        owner,
        timedelta(seconds=ttl),
        sleep=waiting.sleep,
        monotonic=waiting.monotonic,
        **kw,
    )


def test_owner_ids_are_unique_and_say_where_the_owner_runs() -> None:
    first, second = new_owner_id(), new_owner_id()
    assert first != second
    host, pid, token = first.split(":")
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())
    assert len(token) == 6


def test_fence_renews_and_stops_a_process_that_was_taken_over(store: Store) -> None:
    mine = lease_of(store, "a")
    assert mine.try_acquire() is None
    assert mine.held
    mine.fence()  # still ours: renewed
    assert not store.acquire_lease("fd", "b", timedelta(seconds=30))

    # "a" was paused past its lease and "b" took the connector over
    assert store.acquire_lease("fd", "b", timedelta(seconds=30), FAR)
    with pytest.raises(LeaseLost, match="taken over by b"):
        mine.fence()
    assert not mine.held
    with pytest.raises(LeaseLost):  # and stays stopped until it takes the lease again
        mine.fence()
    holder = mine.try_acquire()
    assert holder is not None
    assert holder.owner == "b"


def test_a_lease_that_ran_out_untaken_is_renewed_by_its_owner(store: Store) -> None:
    mine = lease_of(store, "a", ttl=1)
    assert mine.try_acquire() is None
    with store.transaction() as tx:  # expire it in place (nobody took it)
        assert tx.release_lease("fd", "a")
        assert tx.acquire_lease("fd", "a", timedelta(seconds=1), T0)
    mine.fence()  # nobody wrote meanwhile: carrying on is safe
    assert store.lease_holder("fd").owner == "a"  # type: ignore[union-attr]


def test_wait_gives_up_after_its_bound_naming_the_holder(store: Store) -> None:
    holder = lease_of(store, "a")
    assert holder.try_acquire() is None
    waiting = FakeWaiting()
    waiter = lease_of(store, "b", waiting=waiting)
    found = waiter.wait(3)
    assert found is not None
    assert found.owner == "a"
    assert waiting.now >= 3
    assert not waiter.held
    assert store.lease_holder(wanted_key("fd")) is None  # its wish is withdrawn


def test_wait_takes_the_lease_once_its_holder_gives_it_up(store: Store) -> None:
    holder = lease_of(store, "a")
    assert holder.try_acquire() is None
    waiting = FakeWaiting(on_sleep=holder.release)
    waiter = lease_of(store, "b", waiting=waiting)
    assert waiter.wait(60) is None
    assert waiter.held
    assert waiting.now < 1


def test_an_idle_service_hands_over_to_a_waiting_process(store: Store) -> None:
    service = lease_of(store, "service")
    assert service.try_acquire(defer=True) is None
    beat = Heartbeat([service], handover=True)
    with service.working():  # mid-pass: no handover
        assert store.acquire_lease(wanted_key("fd"), "backfill", timedelta(seconds=30))
        beat.beat()
        assert service.held
    assert store.release_lease(wanted_key("fd"), "backfill")

    waiter = lease_of(store, "backfill", waiting=FakeWaiting(on_sleep=beat.beat))
    assert waiter.wait(60) is None  # the heartbeat saw the wish and gave the lease up
    assert not service.held
    busy = service.try_acquire(defer=True)
    assert busy is not None
    assert busy.owner == "backfill"
    waiter.release()
    assert service.try_acquire(defer=True) is None


def test_a_free_lease_is_left_to_a_waiting_process(store: Store) -> None:
    assert store.acquire_lease(wanted_key("fd"), "backfill", timedelta(seconds=30))
    replica = lease_of(store, "replica")
    wanted = replica.try_acquire(defer=True)
    assert wanted is not None
    assert wanted.owner == "backfill"
    assert store.lease_holder("fd") is None
    assert replica.try_acquire() is None  # not deferring (a waiting process itself)


def test_a_released_lease_is_not_revived_by_the_heartbeat(store: Store) -> None:
    mine = lease_of(store, "a")
    assert mine.try_acquire() is None
    beat = Heartbeat([mine])
    beat.beat()
    assert store.lease_holder("fd").owner == "a"  # type: ignore[union-attr]
    mine.release()
    beat.beat()
    assert store.lease_holder("fd") is None
    assert beat.period == 10


def test_a_dead_owner_on_this_host_is_taken_over_at_once(store: Store, tmp_path: Path) -> None:
    alive = AliveMark("a", tmp_path)
    first = lease_of(store, "a", alive_dir=tmp_path)
    assert first.try_acquire() is None
    second = lease_of(store, "b", alive_dir=tmp_path)
    busy = second.try_acquire()
    assert busy is not None
    assert busy.owner == "a"  # alive: its lease stands

    os.close(alive._fd)  # type: ignore[arg-type]  # the process dies: the kernel drops the lock
    alive._fd = None
    assert second.try_acquire() is None
    assert not alive.path.exists()
    with pytest.raises(LeaseLost):
        first.fence()


def test_an_owner_unknown_on_this_host_is_waited_out(store: Store, tmp_path: Path) -> None:
    assert store.acquire_lease("fd", "elsewhere:1:abc", timedelta(seconds=30))
    assert not owner_is_gone("elsewhere:1:abc", tmp_path)
    busy = lease_of(store, "b", alive_dir=tmp_path).try_acquire()
    assert busy is not None
    assert busy.owner == "elsewhere:1:abc"


def test_alive_mark_is_removed_on_clean_exit(tmp_path: Path) -> None:
    mark = AliveMark("a", tmp_path)
    assert mark.path.exists()
    assert not owner_is_gone("a", tmp_path)
    mark.close()
    assert not mark.path.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_dead_owners_fresh_mark_outlives_the_next_process_start(
    store: Store, tmp_path: Path
) -> None:
    """The next process's own mark must not sweep the evidence it needs: a backfill killed
    mid-pass and started again breaks the dead one's lease at once, not after its ttl."""
    dead = AliveMark("dead", tmp_path)
    assert lease_of(store, "dead", alive_dir=tmp_path).try_acquire() is None
    os.close(dead._fd)  # type: ignore[arg-type]  # SIGKILL: the file stays, unlocked
    dead._fd = None
    newcomer = AliveMark("new", tmp_path)  # the restarted process starts
    assert dead.path.exists()
    assert lease_of(store, "new", alive_dir=tmp_path).try_acquire() is None
    assert not dead.path.exists()  # removed when its lease was broken
    newcomer.close()


def test_old_marks_of_dead_owners_are_swept_by_the_next_one(tmp_path: Path) -> None:
    dead, alive = AliveMark("dead", tmp_path), AliveMark("alive", tmp_path)
    os.close(dead._fd)  # type: ignore[arg-type]  # killed: its file stays, unlocked
    dead._fd = None
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(dead.path, (day_ago, day_ago))
    os.utime(alive.path, (day_ago, day_ago))  # old but alive: its lock keeps it
    newcomer = AliveMark("new", tmp_path)
    assert sorted(tmp_path.iterdir()) == sorted([alive.path, newcomer.path])
    alive.close()
    newcomer.close()


# ---------------------------------------------------------------------------------------
# transactions
# ---------------------------------------------------------------------------------------


def test_transaction_commits_together(store: Store) -> None:
    with store.transaction() as tx:
        tx.mark_processed("fd", "1", "v1", "complete")
        tx.clear_failures("fd", "1")
        assert tx.save_cursor("fd", C0) == C0
        assert tx.processed_version("fd", "1") == "v1"  # reads see the open transaction
    assert store.processed_version("fd", "1") == "v1"
    assert store.get_cursor("fd") == C0


def test_transaction_rolls_back_on_error(store: Store) -> None:
    store.save_cursor("fd", C0)

    def crash_between_two_writes() -> None:
        with store.transaction() as tx:
            tx.mark_processed("fd", "1", "v1", "complete")
            tx.save_cursor("fd", C1)
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        crash_between_two_writes()
    assert store.processed_version("fd", "1") is None
    assert store.get_cursor("fd") == C0


def test_transaction_object_dies_with_its_block(store: Store) -> None:
    with store.transaction() as tx:
        pass
    with pytest.raises(StoreError, match="ended"):
        tx.get_cursor("fd")


def test_transactions_from_threads(store: Store) -> None:
    def work(i: int) -> None:
        with store.transaction() as tx:
            tx.mark_processed("fd", str(i), "v", "ok")
            tx.save_cursor("fd", f"pos-{i}")

    in_threads(work)
    assert store.get_cursor("fd") in {f"pos-{i}" for i in range(THREADS)}
    assert all(store.processed_version("fd", str(i)) == "v" for i in range(THREADS))


# ---------------------------------------------------------------------------------------
# schema
# ---------------------------------------------------------------------------------------


def test_reopen_is_a_no_op(store_url: str) -> None:
    with Store(store_url) as first:
        assert first.applied_migrations == tuple(range(1, SCHEMA_VERSION + 1))
        first.save_cursor("fd", C0)
    with Store(store_url) as again:
        assert again.applied_migrations == ()
        assert again.schema_version == SCHEMA_VERSION
        assert again.get_cursor("fd") == C0


def test_concurrent_opens_migrate_once(store_url: str) -> None:
    stores = in_threads(lambda i: Store(store_url), n=4)
    try:
        applied = [s.applied_migrations for s in stores]
        assert sorted(applied) == [(), (), (), tuple(range(1, SCHEMA_VERSION + 1))]
        assert all(s.schema_version == SCHEMA_VERSION for s in stores)
    finally:
        for s in stores:
            s.close()


def test_concurrent_processes_migrate_once(store_url: str) -> None:
    code = (
        "import sys; from engine.store import Store\n"
        "with Store(sys.argv[1]) as s: print(len(s.applied_migrations), s.schema_version)"
    )
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, store_url],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outputs]
    assert sorted(out.split()[0] for out, _ in outputs) == ["0", "0", str(SCHEMA_VERSION)]
    assert {out.split()[1] for out, _ in outputs} == {str(SCHEMA_VERSION)}


def test_a_new_migration_step_runs_once(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(store_url):
        pass
    calls: list[int] = []

    def v2(conn: Connection) -> None:
        calls.append(2)
        Table("v2_extra", MetaData(), Column("id", Integer, primary_key=True)).create(conn)

    monkeypatch.setattr(store_module, "MIGRATIONS", (*store_module.MIGRATIONS, v2))
    with Store(store_url) as upgraded:
        assert upgraded.applied_migrations == (SCHEMA_VERSION + 1,)
        assert upgraded.schema_version == SCHEMA_VERSION + 1
    with Store(store_url) as again:
        assert again.applied_migrations == ()
    assert calls == [2]


def test_newer_schema_is_refused(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "MIGRATIONS", (*store_module.MIGRATIONS, lambda c: None))
    with Store(store_url):
        pass
    monkeypatch.undo()
    with pytest.raises(StoreError, match="newer than"):
        Store(store_url)


def test_database_matches_the_declared_tables(store_url: str) -> None:
    with Store(store_url):
        pass
    engine = create_engine(store_url, poolclass=NullPool)
    try:
        inspector = inspect(engine)
        for table in METADATA.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name
        indexes = {i["name"]: i for i in inspector.get_indexes("dead_letters")}
        assert indexes["ux_dead_letters_active"]["unique"]
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------
# datetimes
# ---------------------------------------------------------------------------------------


def test_every_datetime_comes_back_aware_utc(store: Store) -> None:
    brt = timezone(timedelta(hours=-3))
    store.plan_effect("fd", "1", "k", "add_note", {})
    store.mark_sent(["k"])
    store.quarantine("fd", "1", "v", "e", 3)
    store.release()
    store.record_decision("fd", "1", "v", "X", "ok", [], datetime(2026, 11, 20, 10, tzinfo=brt))
    values: list[datetime] = []
    for row in [
        *store.all_effects(),
        *store.dead_letters(include_retried=True),
        *store.audit_trail(),
    ]:
        values.extend(datetimes_of(row))
    assert len(values) == 5
    assert_aware_utc(*values)


def test_naive_datetimes_are_refused(store: Store) -> None:
    naive = datetime(2026, 11, 20, 13, 0)
    with pytest.raises(ValueError, match="naive"):
        store.acquire_lease("fd", "a", timedelta(seconds=1), naive)
    with pytest.raises(ValueError, match="naive"):
        store.record_decision("fd", "1", "v", "X", "ok", [], naive)
    assert store.get_cursor("fd") is None


# ---------------------------------------------------------------------------------------
# URLs, secrets, lifecycle
# ---------------------------------------------------------------------------------------


def test_repr_masks_the_password(store_url: str) -> None:
    password = make_url(store_url).password
    with Store(store_url) as opened, opened.transaction() as tx:
        texts = [repr(opened), str(opened), opened.masked_url, repr(tx)]
    for text in texts:
        assert make_url(store_url).get_backend_name() in text
        if password:
            assert str(password) not in text
            assert "***" in text


def test_connection_refused_error_hides_password() -> None:
    url = "postgresql+psycopg://helpdesk:s3cr3t-pw@127.0.0.1:1/state?connect_timeout=5"
    with pytest.raises(StoreError) as caught:
        Store(url)
    message = str(caught.value)
    assert isinstance(caught.value, HelpdeskSyncError)
    assert "s3cr3t-pw" not in message
    assert "helpdesk:***@127.0.0.1:1/state" in message
    assert "cannot open state store" in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_password_query_parameter_is_masked_too() -> None:
    url = "postgresql+psycopg://helpdesk@127.0.0.1:1/state?password=s3cr3t-pw&connect_timeout=5"
    with pytest.raises(StoreError) as caught:
        Store(url)
    assert "s3cr3t-pw" not in str(caught.value)
    assert "password=***" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://helpdesk:s3cr3t-pw@host:notaport/state",
        "not a url with s3cr3t-pw",
        "mysql://helpdesk:s3cr3t-pw@host/state",
    ],
)
def test_bad_urls_never_echo_the_password(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        Store(url)
    assert "s3cr3t-pw" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_sqlite_file_setup(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "state.db"
    with Store(f"sqlite:///{path}") as opened:
        opened.save_cursor("fd", C0)
        assert str(opened) == f"Store(sqlite:///{path})"
    assert path.exists()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_sqlite_in_memory_is_shared_across_threads() -> None:
    with Store("sqlite://") as memory:
        in_threads(lambda i: memory.save_cursor("fd", f"pos-{i}"))
        assert memory.get_cursor("fd") in {f"pos-{i}" for i in range(THREADS)}


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    opened = Store(f"sqlite:///{tmp_path / 's.db'}")
    opened.close()
    opened.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        opened.get_cursor("fd")


# ---------------------------------------------------------------------------------------
# SLA timers
# ---------------------------------------------------------------------------------------


def test_a_timer_is_started_once_ever_and_finished_once(store: Store) -> None:
    due = T0 + timedelta(hours=48)
    assert store.start_timer("sac", "7", "ruptura_48h", "Ruptura do pedido", due, "003#04")
    assert not store.start_timer("sac", "7", "ruptura_48h", "Ruptura do pedido", T0, "003#04")
    assert [t.due_at for t in store.list_timers("sac")] == [due]  # the first due time stays
    assert store.due_timers("sac", due - timedelta(seconds=1)) == []
    store.finish_timer("sac", "7", "ruptura_48h", "fired", "due")
    store.finish_timer("sac", "7", "ruptura_48h", "cancelled", "late")  # never overwritten
    assert store.due_timers("sac", due) == []
    [row] = store.list_timers("sac", state=None)
    assert (row.state, row.reason) == ("fired", "due")


def test_due_timers_come_in_pages_in_keyset_order(store: Store) -> None:
    """Ties on the due time are ordered by ticket and timer; ``after`` resumes exactly."""
    started = []
    for i in range(7):
        due = T0 + timedelta(minutes=i // 3)  # three timers share each minute
        for timer in ("b_timer", "a_timer"):
            store.start_timer("sac", f"t{i}", timer, "Tipo", due, "sop")
            started.append((due, f"t{i}", timer))
    store.start_timer("other", "t0", "a_timer", "Tipo", T0, "sop")  # another connector
    store.start_timer("sac", "late", "a_timer", "Tipo", T0 + timedelta(days=1), "sop")  # not due

    seen = []
    after = None
    while True:
        page = store.due_timers("sac", T0 + timedelta(hours=1), limit=4, after=after)
        seen.extend((t.due_at, t.ticket_id, t.timer_id) for t in page)
        if len(page) < 4:
            break
        after = page[-1]
    assert seen == sorted(started)
    assert len(seen) == 14


def test_a_timer_left_pending_is_not_served_twice_in_one_sweep(store: Store) -> None:
    for i in range(5):
        store.start_timer("sac", f"t{i}", "x", "Tipo", T0, "sop")
    first = store.due_timers("sac", T0, limit=2)
    store.finish_timer("sac", first[0].ticket_id, "x", "fired", "due")  # first[1] stays pending
    rest = store.due_timers("sac", T0, limit=10, after=first[-1])
    assert [t.ticket_id for t in rest] == ["t2", "t3", "t4"]
