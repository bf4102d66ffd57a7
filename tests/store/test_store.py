"""The state store's promises, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from sync.errors import ConfigError
from sync.store import Store, masked_url

T0 = datetime(2026, 11, 19, 13, 0, tzinfo=UTC)


def test_cursor_starts_empty_and_never_moves_back(store: Store) -> None:
    assert store.get_cursor("fd") is None
    assert store.advance_cursor("fd", T0) == T0
    assert store.advance_cursor("fd", T0 - timedelta(hours=1)) == T0
    assert store.advance_cursor("fd", T0 + timedelta(seconds=1)) == T0 + timedelta(seconds=1)
    assert store.get_cursor("fd", "backfill:x") is None
    stored = store.get_cursor("fd")
    assert stored is not None
    assert stored.tzinfo is not None


def test_concurrent_cursor_advances_end_at_the_max(
    store: Store, open_store: Callable[[], Store]
) -> None:
    stamps = [T0 + timedelta(seconds=i) for i in range(40)]
    stores = [open_store() for _ in range(4)]

    def worker(index: int) -> None:
        mine = stores[index % len(stores)]
        for stamp in stamps[index::8]:
            mine.advance_cursor("fd", stamp)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get_cursor("fd") == stamps[-1]


def test_processed_versions_upsert(store: Store) -> None:
    assert store.processed_version("fd", "42") is None
    store.mark_processed("fd", "42", "2026-11-19T13:00:00Z", "complete")
    store.mark_processed("fd", "42", "2026-11-19T13:05:00Z", "incomplete")
    assert store.processed_version("fd", "42") == "2026-11-19T13:05:00Z"
    assert store.processed_version("other", "42") is None


def test_journal_is_idempotent_and_moves_through_states(store: Store) -> None:
    first = store.plan_effect("fd", "42", "k1", "add_note", {"text": "Faltando: CPF"})
    again = store.plan_effect("fd", "42", "k1", "add_note", {"text": "different"})
    assert first == again
    assert first.state == "planned"
    assert first.payload == {"text": "Faltando: CPF"}
    assert [e.key for e in store.unfinished("fd")] == ["k1"]

    store.mark_sent(["k1"])
    sent = store.get_effect("k1")
    assert sent is not None
    assert (sent.state, sent.attempts) == ("sent", 1)
    store.mark_confirmed("k1", "note-9", reconciled=True)
    done = store.effects_for(["k1", "missing"])
    assert list(done) == ["k1"]
    assert (done["k1"].state, done["k1"].remote_id) == ("confirmed", "note-9")
    assert store.unfinished("fd") == []

    store.plan_effect("fd", "42", "k2", "route", {})
    store.mark_failed("k2", "400 Validation failed")
    assert [(e.key, e.state) for e in store.journal_for_ticket("fd", "42")] == [
        ("k1", "confirmed"),
        ("k2", "failed"),
    ]
    assert {e.key for e in store.all_effects("fd")} == {"k1", "k2"}


def test_plan_effect_race_from_threads(store: Store, open_store: Callable[[], Store]) -> None:
    stores = [open_store() for _ in range(4)]
    errors: list[BaseException] = []

    def worker(mine: Store) -> None:
        try:
            for i in range(20):
                mine.plan_effect("fd", "1", f"key-{i}", "add_note", {"i": i})
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.all_effects("fd")) == 20


def test_failures_count_then_quarantine_and_release(store: Store) -> None:
    assert store.record_failure("fd", "7", "v1", "503 Service Unavailable") == 1
    assert store.record_failure("fd", "7", "v1", "503 Service Unavailable") == 2
    letter_id = store.quarantine("fd", "7", "v1", "503 Service Unavailable", 2)
    assert store.quarantine("fd", "7", "v1", "again", 3) == letter_id  # one active entry
    assert store.is_quarantined("fd", "7")
    [letter] = store.dead_letters()
    assert (letter.id, letter.ticket_id, letter.attempts) == (letter_id, "7", 2)
    assert letter.created_at.tzinfo is not None

    released = store.release(letter_id)
    assert [r.id for r in released] == [letter_id]
    assert not store.is_quarantined("fd", "7")
    assert store.dead_letters() == []
    assert len(store.dead_letters(include_retried=True)) == 1
    assert store.record_failure("fd", "7", "v1", "again") == 1  # fresh attempts


def test_audit_trail_newest_first_with_actions(store: Store) -> None:
    store.record_decision(
        "fd", "1", "v1", "Voucher", "incomplete", [{"kind": "add_note", "text": "Faltando"}], T0
    )
    store.record_decision("fd", "2", "v1", None, "unmapped", [], T0, dry_run=True)
    rows = store.audit_trail("fd")
    assert [(r.ticket_id, r.outcome, r.dry_run) for r in rows] == [
        ("2", "unmapped", True),
        ("1", "incomplete", False),
    ]
    assert rows[1].actions == [{"kind": "add_note", "text": "Faltando"}]
    assert store.audit_trail(ticket_id="1")[0].request_type == "Voucher"


def test_leases_are_exclusive_until_they_expire(store: Store) -> None:
    assert store.acquire_lease("fd", "replica-a", timedelta(seconds=30), T0)
    assert not store.acquire_lease("fd", "replica-b", timedelta(seconds=30), T0)
    assert store.acquire_lease("fd", "replica-a", timedelta(seconds=30), T0)  # renew
    later = T0 + timedelta(seconds=31)
    assert store.acquire_lease("fd", "replica-b", timedelta(seconds=30), later)
    store.release_lease("fd", "replica-b")
    assert store.acquire_lease("fd", "replica-a", timedelta(seconds=30), later)


def _crash_inside_a_transaction(store: Store) -> None:
    with store.transaction() as tx:
        tx.mark_processed("fd", "9", "v1", "complete")
        tx.advance_cursor("fd", T0)
        raise RuntimeError("crash inside the transaction")


def test_transaction_groups_operations(store: Store) -> None:
    with pytest.raises(RuntimeError):
        _crash_inside_a_transaction(store)
    assert store.processed_version("fd", "9") is None
    assert store.get_cursor("fd") is None


def test_reopening_migrates_once(store_url: str, open_store: Callable[[], Store]) -> None:
    stores = []
    threads = [threading.Thread(target=lambda: stores.append(open_store())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stores) == 3
    stores[0].advance_cursor("fd", T0)
    with Store(store_url) as again:
        assert again.get_cursor("fd") == T0


def test_password_never_shown() -> None:
    url = "postgresql+psycopg://sync:s3cr3t-pw@127.0.0.1:1/nothing"
    assert "s3cr3t-pw" not in masked_url(url)
    with pytest.raises(ConfigError) as caught:
        Store(url)
    assert "s3cr3t-pw" not in str(caught.value)
    assert "***" in str(caught.value)


def test_sqlite_creates_parent_directories(tmp_path: object) -> None:
    from pathlib import Path

    target = Path(str(tmp_path)) / "deep" / "er" / "state.sqlite"
    with Store(f"sqlite:///{target}") as opened:
        opened.advance_cursor("fd", T0)
    assert target.exists()
