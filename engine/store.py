"""Durable state of helpdesk-sync: cursors, processed versions, the effect journal, failures,
dead letters, the decision audit and replica leases (SQLAlchemy 2.x Core).

Why a journal and not just a cursor: helpdesk writes are not transactional with this
store, so exactly-once needs a record of every effect *before* it is written (``planned``),
*while* it may be in flight (``sent``) and *after* the helpdesk answered (``confirmed`` or
``failed``). Only ``sent`` rows are ambiguous after a crash — the write may or may not have
reached the helpdesk — and the engine resolves them with ``Connector.find_applied``.

Backends: a SQLite file by default (WAL, ``busy_timeout``, foreign keys; write
transactions start with ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing)
or PostgreSQL (``postgresql+psycopg://…``), which several replicas can share. Every
concurrent write is a single ``INSERT … ON CONFLICT …`` statement, atomic and race-safe on
both. The schema is created and upgraded on open (``MIGRATIONS``), under
``pg_advisory_xact_lock`` on PostgreSQL and ``BEGIN IMMEDIATE`` on SQLite, so two processes
opening one store at once migrate it once. All timestamps are timezone-aware UTC; naive
datetimes are refused. The URL's password never appears in ``repr``/``str`` or in errors.

The schema, its column types and its migrations are in ``engine.schema`` (every column is
documented there); the row types callers get back are in ``engine.rows``.

Why this module is long: it is one class of operations (``_Operations``), shared by
``Store`` and ``StoreTransaction``, whose methods are each one statement or two over one
schema; splitting it by table would split the transaction plumbing every method shares
(``_read``/``_write`` on a connection or an open transaction) across files without making
any one method easier to read.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    case,
    create_engine,
    delete,
    event,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from engine.journal import OPEN, State, sources
from sync.errors import HelpdeskSyncError
from sync.masking import mask_data

from .rows import (
    AuditRow,
    DeadLetter,
    EffectState,
    JournalEntry,
    LeaseRow,
    StoreCounts,
    TimerRow,
    audit_row,
    dead_letter,
    error_text,
    journal_entry,
)
from .schema import (
    METADATA,
    MIGRATIONS,
    SCHEMA_VERSION,
    audit,
    cursors,
    dead_letter_active,
    dead_letters_table,
    failures,
    journal,
    leases,
    schema_version_table,
    ticket_versions,
    timers,
)

__all__ = [
    "CONFIRMED",
    "FAILED",
    "METADATA",
    "MIGRATIONS",
    "PLANNED",
    "POLL",
    "SCHEMA_VERSION",
    "SENT",
    "AuditRow",
    "DeadLetter",
    "EffectState",
    "JournalEntry",
    "LeaseRow",
    "Store",
    "StoreError",
    "StoreTransaction",
    "TimerRow",
    "backfill_cursor_name",
]

POLL: Final = "poll"
"""Cursor name of the daemon's regular polling."""

PLANNED: Final = State.PLANNED.value
SENT: Final = State.SENT.value
CONFIRMED: Final = State.CONFIRMED.value
FAILED: Final = State.FAILED.value

_SQLITE_BUSY_MS = 30_000
_PG_MIGRATION_LOCK = 0x68_73_2D_73_74_6F_72_65  # "hs-store": one advisory lock for migrations
_FORBIDDEN_AUDIT_KEYS = frozenset({"comments", "body"})


class StoreError(HelpdeskSyncError):
    """The state store cannot be opened or used; the message never contains a password."""


def backfill_cursor_name(since: datetime, until: datetime) -> str:
    """The cursor name of a backfill run, so a restarted run resumes where it stopped."""
    return f"backfill:{_utc(since).isoformat()}:{_utc(until).isoformat()}"


def _utc(value: datetime) -> datetime:
    """``value`` in UTC; naive datetimes are refused because their instant is unknown."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware (UTC) datetime")
    return value.astimezone(UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------------------
# operations (shared by Store and StoreTransaction)
# ---------------------------------------------------------------------------------------


class _Operations:
    """Every state operation, written against a connection supplied by the subclass.

    Why: ``Store`` runs each call in its own short transaction, ``StoreTransaction`` runs
    several in one; both expose exactly the same methods.
    """

    _dialect_name: str
    _clock: Callable[[], datetime]

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _now(self) -> datetime:
        return _utc(self._clock())

    def _insert(self, table: Table) -> Any:
        """A dialect INSERT that supports ``ON CONFLICT`` (both backends have it)."""
        return (pg_insert if self._dialect_name == "postgresql" else sqlite_insert)(table)

    # ------------------------------------------------------------------ cursors

    def get_cursor(self, connector: str, name: str = POLL) -> str | None:
        """The stored cursor (opaque text), or None when ``name`` was never saved."""
        with self._read() as conn:
            return conn.execute(
                select(cursors.c.position).where(
                    cursors.c.connector == connector, cursors.c.name == name
                )
            ).scalar_one_or_none()

    def save_cursor(self, connector: str, position: str, name: str = POLL) -> str:
        """Store ``position`` as the cursor and return it.

        The store never reads a cursor (the connector defines it), so it cannot tell
        forward from backward: the connector's owner (``engine.ownership``) is the only
        writer, and an older position saved late by a process that lost its lease only
        makes the next pass re-read tickets it de-duplicates by version — never skip one.
        One ``INSERT … ON CONFLICT DO UPDATE``, race-safe on both backends.
        """
        if not position:
            raise ValueError("an empty cursor cannot be stored")
        ins = self._insert(cursors)
        stmt = ins.values(
            connector=connector, name=name, position=position, updated_at=self._now()
        ).on_conflict_do_update(
            index_elements=[cursors.c.connector, cursors.c.name],
            set_={"position": ins.excluded.position, "updated_at": ins.excluded.updated_at},
        )
        with self._write() as conn:
            conn.execute(stmt)
        return position

    # ------------------------------------------------------------------ ticket versions

    def processed_version(self, connector: str, ticket_id: str) -> str | None:
        """The last version of the ticket that was fully processed, or None."""
        with self._read() as conn:
            return conn.execute(
                select(ticket_versions.c.version).where(
                    ticket_versions.c.connector == connector,
                    ticket_versions.c.ticket_id == ticket_id,
                )
            ).scalar_one_or_none()

    def mark_processed(self, connector: str, ticket_id: str, version: str, outcome: str) -> None:
        """Record ``version`` as the ticket's last processed version (upsert)."""
        ins = self._insert(ticket_versions)
        stmt = ins.values(
            connector=connector,
            ticket_id=ticket_id,
            version=version,
            outcome=outcome,
            processed_at=self._now(),
        ).on_conflict_do_update(
            index_elements=[ticket_versions.c.connector, ticket_versions.c.ticket_id],
            set_={
                "version": ins.excluded.version,
                "outcome": ins.excluded.outcome,
                "processed_at": ins.excluded.processed_at,
            },
        )
        with self._write() as conn:
            conn.execute(stmt)

    # ------------------------------------------------------------------ journal

    def plan_effect(
        self, connector: str, ticket_id: str, key: str, kind: str, payload: dict[str, Any]
    ) -> JournalEntry:
        """Journal an effect as ``planned`` before it is written; idempotent and race-safe.

        When ``key`` is already journaled the existing entry is returned unchanged (its
        state tells the caller whether to write, reconcile or skip).
        """
        now = self._now()
        stmt = (
            self._insert(journal)
            .values(
                key=key,
                connector=connector,
                ticket_id=ticket_id,
                kind=kind,
                payload=mask_data(payload),  # recovery needs the key, not customer data
                state=PLANNED,
                reconciled=False,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=[journal.c.key])
        )
        with self._write() as conn:
            conn.execute(stmt)
            return journal_entry(conn.execute(select(journal).where(journal.c.key == key)).one())

    def get_effect(self, key: str) -> JournalEntry | None:
        """The journal entry of ``key``, or None."""
        with self._read() as conn:
            row = conn.execute(select(journal).where(journal.c.key == key)).first()
        return None if row is None else journal_entry(row)

    def effects_for(self, keys: Sequence[str]) -> dict[str, JournalEntry]:
        """Journal entries of the given keys that exist, by key (one query)."""
        if not keys:
            return {}
        with self._read() as conn:
            rows = conn.execute(select(journal).where(journal.c.key.in_(list(keys)))).all()
        return {entry.key: entry for entry in map(journal_entry, rows)}

    def mark_sent(self, keys: Sequence[str]) -> None:
        """Mark effects ``sent`` just before writing them, counting the attempt.

        From here until ``mark_confirmed``/``mark_failed`` a crash leaves the effect
        ambiguous: the helpdesk may or may not have it. Confirmed entries stay confirmed.
        """
        if not keys:
            return
        with self._write() as conn:
            conn.execute(
                update(journal)
                .where(journal.c.key.in_(list(keys)), journal.c.state.in_(sources(State.SENT)))
                .values(state=SENT, attempts=journal.c.attempts + 1, updated_at=self._now())
            )

    def mark_confirmed(self, key: str, remote_id: str | None, reconciled: bool) -> None:
        """The helpdesk has the effect (written now, or found after a crash: ``reconciled``).

        Raises ``KeyError`` when ``key`` was never planned.
        """
        with self._write() as conn:
            result = conn.execute(
                update(journal)
                .where(journal.c.key == key, journal.c.state.in_(sources(State.CONFIRMED)))
                .values(
                    state=CONFIRMED,
                    remote_id=func.coalesce(remote_id, journal.c.remote_id),
                    reconciled=reconciled,
                    error=None,
                    updated_at=self._now(),
                )
            )
            if result.rowcount == 0 and conn.execute(
                select(journal.c.key).where(journal.c.key == key)
            ).first() is None:
                raise KeyError(f"no journal entry with key {key!r}")

    def mark_failed(self, key: str, error: str) -> None:
        """The helpdesk refused the effect; a confirmed entry is never downgraded.

        Raises ``KeyError`` when ``key`` was never planned.
        """
        with self._write() as conn:
            if conn.execute(select(journal.c.key).where(journal.c.key == key)).first() is None:
                raise KeyError(f"no journal entry with key {key!r}")
            conn.execute(
                update(journal)
                .where(journal.c.key == key, journal.c.state.in_(sources(State.FAILED)))
                .values(state=FAILED, error=error_text(error), updated_at=self._now())
            )

    def unfinished(self, connector: str) -> list[JournalEntry]:
        """Entries still ``planned`` or ``sent`` (ambiguous after a crash), oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                select(journal)
                .where(journal.c.connector == connector, journal.c.state.in_(OPEN))
                .order_by(journal.c.created_at, journal.c.key)
            ).all()
        return [journal_entry(r) for r in rows]

    def journal_for_ticket(self, connector: str, ticket_id: str) -> list[JournalEntry]:
        """Every journal entry of one ticket, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                select(journal)
                .where(journal.c.connector == connector, journal.c.ticket_id == ticket_id)
                .order_by(journal.c.created_at, journal.c.key)
            ).all()
        return [journal_entry(r) for r in rows]

    def all_effects(self, connector: str | None = None) -> list[JournalEntry]:
        """Every journal entry (optionally of one connector), oldest first; for tests and tools."""
        stmt = select(journal).order_by(journal.c.created_at, journal.c.key)
        if connector is not None:
            stmt = stmt.where(journal.c.connector == connector)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [journal_entry(r) for r in rows]

    # ------------------------------------------------------------------ failures

    def record_failure(self, connector: str, ticket_id: str, version: str, error: str) -> int:
        """Count one more failure of the ticket and return the attempts so far (atomic)."""
        ins = self._insert(failures)
        stmt = (
            ins.values(
                connector=connector,
                ticket_id=ticket_id,
                attempts=1,
                last_error=error_text(error),
                last_version=version,
                updated_at=self._now(),
            )
            .on_conflict_do_update(
                index_elements=[failures.c.connector, failures.c.ticket_id],
                set_={
                    "attempts": failures.c.attempts + 1,
                    "last_error": ins.excluded.last_error,
                    "last_version": ins.excluded.last_version,
                    "updated_at": ins.excluded.updated_at,
                },
            )
            .returning(failures.c.attempts)
        )
        with self._write() as conn:
            return int(conn.execute(stmt).scalar_one())

    def clear_failures(self, connector: str, ticket_id: str) -> None:
        """Forget the ticket's failures (it succeeded, or was released for fresh attempts)."""
        with self._write() as conn:
            conn.execute(
                delete(failures).where(
                    failures.c.connector == connector, failures.c.ticket_id == ticket_id
                )
            )

    # ------------------------------------------------------------------ dead letters

    def quarantine(
        self, connector: str, ticket_id: str, version: str, error: str, attempts: int
    ) -> int:
        """Quarantine the ticket and return the dead letter's id.

        At most one active dead letter exists per ticket: quarantining it again updates that
        row (version, error, attempts) and returns its id.
        """
        ins = self._insert(dead_letters_table)
        stmt = (
            ins.values(
                connector=connector,
                ticket_id=ticket_id,
                version=version,
                error=error_text(error),
                attempts=attempts,
                created_at=self._now(),
                retried_at=None,
            )
            .on_conflict_do_update(
                index_elements=[dead_letters_table.c.connector, dead_letters_table.c.ticket_id],
                index_where=dead_letter_active,
                set_={
                    "version": ins.excluded.version,
                    "error": ins.excluded.error,
                    "attempts": ins.excluded.attempts,
                },
            )
            .returning(dead_letters_table.c.id)
        )
        with self._write() as conn:
            return int(conn.execute(stmt).scalar_one())

    def dead_letters(
        self, connector: str | None = None, include_retried: bool = False
    ) -> list[DeadLetter]:
        """Dead letters, oldest first: active ones, or all with ``include_retried``."""
        stmt = select(dead_letters_table).order_by(
            dead_letters_table.c.created_at, dead_letters_table.c.id
        )
        if connector is not None:
            stmt = stmt.where(dead_letters_table.c.connector == connector)
        if not include_retried:
            stmt = stmt.where(dead_letter_active)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [dead_letter(r) for r in rows]

    def is_quarantined(self, connector: str, ticket_id: str) -> bool:
        """True while the ticket has an active dead letter."""
        with self._read() as conn:
            row = conn.execute(
                select(dead_letters_table.c.id).where(
                    dead_letters_table.c.connector == connector,
                    dead_letters_table.c.ticket_id == ticket_id,
                    dead_letter_active,
                )
            ).first()
        return row is not None

    def release(
        self, dead_letter_id: int | None = None, *, connector: str | None = None
    ) -> list[DeadLetter]:
        """Release active dead letters for retry and return them (``retried_at`` set).

        With an id, that one (if active); without, all active ones, optionally of one
        connector. Their failure counts are cleared so each ticket gets fresh attempts.
        """
        conditions = [dead_letter_active]
        if dead_letter_id is not None:
            conditions.append(dead_letters_table.c.id == dead_letter_id)
        if connector is not None:
            conditions.append(dead_letters_table.c.connector == connector)
        now = self._now()
        with self._write() as conn:
            rows = conn.execute(
                update(dead_letters_table)
                .where(*conditions)
                .values(retried_at=now)
                .returning(*dead_letters_table.c)
            ).all()
            for row in rows:
                conn.execute(
                    delete(failures).where(
                        failures.c.connector == row.connector,
                        failures.c.ticket_id == row.ticket_id,
                    )
                )
        return sorted((dead_letter(r) for r in rows), key=lambda d: (d.created_at, d.id))

    # ------------------------------------------------------------------ audit

    def record_decision(
        self,
        connector: str,
        ticket_id: str,
        version: str,
        request_type: str | None,
        outcome: str,
        actions: list[dict[str, Any]],
        decided_at: datetime,
        dry_run: bool = False,
    ) -> int:
        """Append a decision to the audit trail and return its id.

        ``actions`` are the decided actions' dicts; ticket comments (customer data) are
        never stored, and an action dict carrying ``comments``/``body`` is refused.
        """
        for action in actions:
            leaked = _FORBIDDEN_AUDIT_KEYS.intersection(action)
            if leaked:
                raise ValueError(f"audit actions must not carry {sorted(leaked)}")
        stmt = (
            audit.insert()
            .values(
                connector=connector,
                ticket_id=ticket_id,
                version=version,
                request_type=request_type,
                outcome=outcome,
                actions=mask_data(actions),
                dry_run=dry_run,
                decided_at=_utc(decided_at),
            )
            .returning(audit.c.id)
        )
        with self._write() as conn:
            return int(conn.execute(stmt).scalar_one())

    def audit_trail(
        self, connector: str | None = None, ticket_id: str | None = None, limit: int = 100
    ) -> list[AuditRow]:
        """Recorded decisions, newest first, optionally of one connector and/or ticket."""
        stmt = select(audit).order_by(audit.c.decided_at.desc(), audit.c.id.desc()).limit(limit)
        if connector is not None:
            stmt = stmt.where(audit.c.connector == connector)
        if ticket_id is not None:
            stmt = stmt.where(audit.c.ticket_id == ticket_id)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [audit_row(r) for r in rows]

    # ------------------------------------------------------------------ leases

    def acquire_lease(
        self, connector: str, owner: str, ttl: timedelta, now: datetime | None = None
    ) -> bool:
        """Take or renew the connector's lease until ``now + ttl``; False if another holds it.

        Succeeds when the lease is free, expired at ``now`` or already ``owner``'s. One
        ``INSERT … ON CONFLICT DO UPDATE … WHERE`` statement: atomic across replicas.
        Without ``now`` the lease is timed by the database's clock on PostgreSQL (so
        replicas on hosts whose clocks disagree still agree on expiry) and by the store's
        clock on SQLite (one host's file).
        """
        ins = self._insert(leases)
        with self._write() as conn:
            at = _utc(now) if now is not None else self._lease_clock(conn)
            stmt = (
                ins.values(connector=connector, owner=owner, expires_at=at + ttl)
                .on_conflict_do_update(
                    index_elements=[leases.c.connector],
                    set_={"owner": ins.excluded.owner, "expires_at": ins.excluded.expires_at},
                    where=or_(leases.c.owner == ins.excluded.owner, leases.c.expires_at <= at),
                )
                .returning(leases.c.owner)
            )
            return conn.execute(stmt).first() is not None

    def lease_holder(self, connector: str, now: datetime | None = None) -> LeaseRow | None:
        """The unexpired lease of ``connector`` (owner and expiry), or None when it is free."""
        with self._read() as conn:
            at = _utc(now) if now is not None else self._lease_clock(conn)
            row = conn.execute(
                select(leases.c.owner, leases.c.expires_at).where(
                    leases.c.connector == connector, leases.c.expires_at > at
                )
            ).first()
        if row is None:
            return None
        return LeaseRow(connector, row.owner, row.expires_at, at)

    def _lease_clock(self, conn: Connection) -> datetime:
        """Now on the clock leases are timed by: PostgreSQL's own, else the store's."""
        if self._dialect_name == "postgresql":
            return _utc(conn.execute(select(func.clock_timestamp())).scalar_one())
        return self._now()

    # ------------------------------------------------------------------ timers

    def start_timer(
        self,
        connector: str,
        ticket_id: str,
        timer_id: str,
        request_type: str,
        due_at: datetime,
        sop: str,
    ) -> bool:
        """Persist a started SLA timer; False when it already exists (started once, ever)."""
        now = self._now()
        stmt = (
            self._insert(timers)
            .values(
                connector=connector,
                ticket_id=ticket_id,
                timer_id=timer_id,
                request_type=request_type,
                due_at=_utc(due_at),
                sop=sop,
                state="pending",
                reason=None,
                started_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(
                index_elements=[timers.c.connector, timers.c.ticket_id, timers.c.timer_id]
            )
            .returning(timers.c.timer_id)  # rowcount of ON CONFLICT is unreliable on psycopg
        )
        with self._write() as conn:
            return conn.execute(stmt).scalar_one_or_none() is not None

    def due_timers(
        self,
        connector: str,
        now: datetime,
        *,
        limit: int | None = None,
        after: TimerRow | None = None,
    ) -> list[TimerRow]:
        """Pending timers of a connector whose due time has come, earliest first.

        Pages with ``limit`` and ``after`` (the last row of the previous page, keyset order
        due time, ticket, timer): a timer that stays pending (its check failed) is not
        served again in the same sweep, and memory stays one page however many are due.
        """
        query = select(timers).where(
            timers.c.connector == connector,
            timers.c.state == "pending",
            timers.c.due_at <= _utc(now),
        )
        if after is not None:
            due = _utc(after.due_at)
            query = query.where(
                or_(
                    timers.c.due_at > due,
                    and_(timers.c.due_at == due, timers.c.ticket_id > after.ticket_id),
                    and_(
                        timers.c.due_at == due,
                        timers.c.ticket_id == after.ticket_id,
                        timers.c.timer_id > after.timer_id,
                    ),
                )
            )
        query = query.order_by(timers.c.due_at, timers.c.ticket_id, timers.c.timer_id)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [TimerRow(**dict(r)) for r in conn.execute(query).mappings()]

    def counts(self, connector: str) -> StoreCounts:
        """What ops watch for one connector, by grouped counts (no rows are read): journal
        effects by kind and state, active dead letters, pending and overdue timers."""
        now = self._now()
        with self._read() as conn:
            effects = conn.execute(
                select(journal.c.kind, journal.c.state, func.count())
                .where(journal.c.connector == connector)
                .group_by(journal.c.kind, journal.c.state)
            ).all()
            letters = conn.execute(
                select(func.count())
                .select_from(dead_letters_table)
                .where(dead_letters_table.c.connector == connector, dead_letter_active)
            ).scalar_one()
            pending = conn.execute(
                select(func.count(), func.sum(case((timers.c.due_at < now, 1), else_=0)))
                .where(timers.c.connector == connector, timers.c.state == "pending")
            ).one()
        return StoreCounts(
            effects={(str(k), str(st)): int(n) for k, st, n in effects},
            dead_letters=int(letters),
            timers_pending=int(pending[0] or 0),
            timers_overdue=int(pending[1] or 0),
        )

    def list_timers(
        self, connector: str | None = None, *, state: str | None = "pending"
    ) -> list[TimerRow]:
        """Timers (pending by default), by due time."""
        query = select(timers).order_by(timers.c.due_at)
        if connector is not None:
            query = query.where(timers.c.connector == connector)
        if state is not None:
            query = query.where(timers.c.state == state)
        with self._read() as conn:
            return [TimerRow(**dict(r)) for r in conn.execute(query).mappings()]

    def finish_timer(
        self, connector: str, ticket_id: str, timer_id: str, state: str, reason: str
    ) -> None:
        """Mark a pending timer ``fired`` or ``cancelled`` (never back to pending)."""
        with self._write() as conn:
            conn.execute(
                update(timers)
                .where(
                    timers.c.connector == connector,
                    timers.c.ticket_id == ticket_id,
                    timers.c.timer_id == timer_id,
                    timers.c.state == "pending",
                )
                .values(state=state, reason=reason, updated_at=self._now())
            )

    def release_lease(self, connector: str, owner: str) -> bool:
        """Give the lease up if ``owner`` holds it; True when it did."""
        with self._write() as conn:
            result = conn.execute(
                delete(leases).where(leases.c.connector == connector, leases.c.owner == owner)
            )
            return result.rowcount > 0


# ---------------------------------------------------------------------------------------
# Store
# ---------------------------------------------------------------------------------------


class StoreTransaction(_Operations):
    """The store's operations inside one transaction: all of them commit or none.

    Use only within its ``with store.transaction() as tx:`` block and in that thread.
    """

    def __init__(self, store: Store, conn: Connection) -> None:
        self._store = store
        self._conn: Connection | None = conn
        self._dialect_name = store._dialect_name
        self._clock = store._clock

    def _connection(self) -> AbstractContextManager[Connection]:
        if self._conn is None:
            raise StoreError("transaction already ended")
        return nullcontext(self._conn)

    def _read(self) -> AbstractContextManager[Connection]:
        return self._connection()

    def _write(self) -> AbstractContextManager[Connection]:
        return self._connection()

    def _end(self) -> None:
        self._conn = None

    def __repr__(self) -> str:
        return f"StoreTransaction({self._store.masked_url})"


class Store(_Operations):
    """The state store: open (creating/upgrading the schema), use, ``close()``.

    Thread-safe within one process: one Engine (connection pool) and a short transaction
    per call. Group calls atomically with ``transaction()``.
    """

    def __init__(self, url: str, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._clock = clock
        self._closed = False
        self._url = _parse_url(url)
        self.masked_url: str = _mask(self._url)
        """The URL with its password replaced by ``***`` (safe to print and log)."""
        self._dialect_name = self._url.get_backend_name()
        if self._dialect_name not in ("sqlite", "postgresql"):
            raise StoreError(
                f"unsupported state store {self.masked_url}: use sqlite:///FILE or "
                "postgresql+psycopg://USER:PASSWORD@HOST/DB"
            )
        self._serial: threading.RLock | None = None
        self._engine = self._create_engine()
        self.applied_migrations: tuple[int, ...] = ()
        """Schema versions this open applied (empty when the schema was current)."""
        try:
            self.applied_migrations = self._migrate()
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise StoreError(f"cannot open state store {self}: {self._reason(exc)}") from None
        except BaseException:
            self._engine.dispose()
            raise

    # ------------------------------------------------------------------ opening

    def _create_engine(self) -> Engine:
        url = self._url
        if self._dialect_name == "postgresql":
            connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": 10}
            try:
                return create_engine(
                    url, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args
                )
            except (ImportError, ArgumentError) as exc:
                raise StoreError(
                    f"cannot open state store {self.masked_url}: {self._reason(exc)} "
                    "(install the driver: pip install 'helpdesk-sync[postgres]')"
                ) from None
        database = url.database or ""
        memory = database in ("", ":memory:") or database.startswith("file::memory:")
        if memory:
            # One shared connection, serialised: each new in-memory connection is a new DB.
            self._serial = threading.RLock()
            engine = create_engine(
                url,
                poolclass=StaticPool,
                hide_parameters=True,
                connect_args={"check_same_thread": False},
            )
        else:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url, hide_parameters=True, connect_args={"timeout": _SQLITE_BUSY_MS / 1000}
            )
        _configure_sqlite(engine, wal=not memory)
        return engine

    def _migrate(self) -> tuple[int, ...]:
        """Bring the schema to ``SCHEMA_VERSION``, serialised across processes."""
        migrations = MIGRATIONS
        with self._write() as conn:
            if self._dialect_name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            schema_version_table.create(conn, checkfirst=True)
            current = conn.execute(select(func.max(schema_version_table.c.version))).scalar()
            current = int(current or 0)
            if current > len(migrations):
                raise StoreError(
                    f"state store {self.masked_url} has schema version {current}, newer than "
                    f"this helpdesk-sync supports ({len(migrations)}): upgrade helpdesk-sync"
                )
            applied: list[int] = []
            for version in range(current + 1, len(migrations) + 1):
                migrations[version - 1](conn)
                conn.execute(
                    schema_version_table.insert().values(version=version, applied_at=self._now())
                )
                applied.append(version)
        return tuple(applied)

    def _reason(self, exc: BaseException) -> str:
        """The driver's own message (not SQLAlchemy's wrapper), with any password removed."""
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        message = " ".join(line.strip() for line in reason if line.strip()) or type(exc).__name__
        for secret in (self._url.password, self._url.query.get("password")):
            if secret and isinstance(secret, str):
                message = message.replace(secret, "***")
        return message

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Connection]:
        if self._closed:
            raise StoreError(f"{self} is closed")
        with self._serial or nullcontext():
            with self._engine.connect() as conn:
                if self._dialect_name == "sqlite":
                    conn.execution_options(hs_write=write)
                with conn.begin():
                    yield conn

    def _read(self) -> AbstractContextManager[Connection]:
        return self._transaction(write=False)

    def _write(self) -> AbstractContextManager[Connection]:
        return self._transaction(write=True)

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        """Group several operations atomically; ``tx`` has the same methods as the store.

        ``with store.transaction() as tx: tx.mark_processed(...); tx.advance_cursor(...)``
        commits at the end of the block and rolls back if it raises. Inside the block call
        ``tx``'s methods, not the store's (those run in transactions of their own, and on
        SQLite would wait for the write lock the block holds). Keep the block short and
        free of helpdesk calls.
        """
        with self._transaction(write=True) as conn:
            tx = StoreTransaction(self, conn)
            try:
                yield tx
            finally:
                tx._end()

    @property
    def schema_version(self) -> int:
        """The schema version stored in the database."""
        with self._read() as conn:
            return int(conn.execute(select(func.max(schema_version_table.c.version))).scalar())

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close every pooled connection; the store is unusable afterwards."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.masked_url})"

    __str__ = __repr__


def _mask(url: URL) -> str:
    """The URL as text with every password (user info or ``password=`` query) as ``***``."""
    if "password" in url.query:
        url = url.update_query_dict({"password": "***"})
    return url.render_as_string(hide_password=True).replace("password=%2A%2A%2A", "password=***")


def _parse_url(url: str) -> URL:
    """Parse the URL without ever echoing it (it may hold a password)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        raise StoreError(
            f"invalid state store URL ({scheme}://…): expected sqlite:///FILE or "
            "postgresql+psycopg://USER:PASSWORD@HOST/DB"
        ) from None
    if parsed.drivername == "postgresql":  # psycopg 3 is the driver this project ships
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    """Pragmas on every connection, and ``BEGIN IMMEDIATE`` for write transactions.

    Why: pysqlite's implicit BEGIN is deferred, so two writers that both read first
    deadlock into ``database is locked``; taking the write lock up front makes them queue
    on ``busy_timeout`` instead (SQLAlchemy's documented recipe for SQLite transactions).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")
            if wal:
                _enable_wal(cursor)
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("hs_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _enable_wal(cursor: Any) -> None:
    """Switch the database file to WAL (persistent), retrying while another opener holds it.

    Why the loop: changing the journal mode can fail with ``database is locked`` at once,
    without waiting on ``busy_timeout``, when several processes open a new file together.
    """
    deadline = time.monotonic() + _SQLITE_BUSY_MS / 1000
    delay = 0.005
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
