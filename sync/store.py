"""The durable state of helpdesk-sync (SQLAlchemy Core): SQLite by default, or PostgreSQL.

Tables (schema version 1; README "State store" documents every column):

* ``schema_version`` — applied migrations.
* ``cursors`` (connector, name) — ``stamp``: every change before it is done; ``name`` is
  ``poll`` or ``backfill:<since>:<until>``.
* ``ticket_versions`` (connector, ticket_id) — the last processed version and outcome.
* ``journal`` (key) — one row per effect: kind, payload (JSON), state
  planned → sent → confirmed | failed, remote id, attempts, error.
* ``failures`` (connector, ticket_id) — consecutive failed attempts and the last error.
* ``dead_letters`` (id) — quarantined tickets; ``retried_at`` once released.
* ``audit`` (id) — every decision: ticket, version, type, outcome, actions, dry run, time.
* ``leases`` (connector) — which replica owns a connector until ``expires_at``.

Only a ``sent`` journal row is ambiguous after a crash: the write may or may not have
reached the helpdesk, so the engine asks the connector to find it before writing again.
Comment bodies are never stored; neither are secrets.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from .errors import ConfigError

SCHEMA_VERSION = 1


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the state store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, primary_key=True))
cursors = Table(
    "cursors",
    metadata,
    Column("connector", String(100), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("stamp", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
ticket_versions = Table(
    "ticket_versions",
    metadata,
    Column("connector", String(100), primary_key=True),
    Column("ticket_id", String(100), primary_key=True),
    Column("version", String(100), nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("processed_at", UtcDateTime, nullable=False),
)
journal = Table(
    "journal",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("connector", String(100), nullable=False, index=True),
    Column("ticket_id", String(100), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(12), nullable=False),
    Column("remote_id", String(100)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
failures = Table(
    "failures",
    metadata,
    Column("connector", String(100), primary_key=True),
    Column("ticket_id", String(100), primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("last_version", String(100)),
    Column("updated_at", UtcDateTime, nullable=False),
)
dead_letters_t = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector", String(100), nullable=False),
    Column("ticket_id", String(100), nullable=False),
    Column("version", String(100)),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("retried_at", UtcDateTime),
)
audit_t = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector", String(100), nullable=False, index=True),
    Column("ticket_id", String(100), nullable=False),
    Column("version", String(100)),
    Column("request_type", String(200)),
    Column("outcome", String(40), nullable=False),
    Column("actions", Text, nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
)
leases = Table(
    "leases",
    metadata,
    Column("connector", String(100), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

MIGRATIONS: list[Callable[[Connection], None]] = [
    lambda conn: metadata.create_all(conn),  # 1: the tables above
]
"""Schema upgrades in order; step N brings the schema to version N."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One effect's journal row."""

    key: str
    connector: str
    ticket_id: str
    kind: str
    payload: dict[str, Any]
    state: str
    remote_id: str | None
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A quarantined ticket."""

    id: int
    connector: str
    ticket_id: str
    version: str | None
    error: str
    attempts: int
    created_at: datetime
    retried_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One recorded decision."""

    id: int
    connector: str
    ticket_id: str
    version: str | None
    request_type: str | None
    outcome: str
    actions: list[dict[str, Any]]
    dry_run: bool
    decided_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def masked_url(url: str | URL) -> str:
    """The URL with its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


class _Ops:
    """The store's operations on one connection (a transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # cursors
    def get_cursor(self, connector: str, name: str = "poll") -> datetime | None:
        return self.conn.execute(
            select(cursors.c.stamp).where(cursors.c.connector == connector, cursors.c.name == name)
        ).scalar_one_or_none()

    def advance_cursor(self, connector: str, stamp: datetime, name: str = "poll") -> datetime:
        where = and_(cursors.c.connector == connector, cursors.c.name == name)
        moved = self.conn.execute(
            update(cursors)
            .where(where, cursors.c.stamp < stamp)
            .values(stamp=stamp, updated_at=_now())
        )
        if moved.rowcount == 0 and self.get_cursor(connector, name) is None:
            try:
                with self.conn.begin_nested():
                    self.conn.execute(
                        insert(cursors).values(
                            connector=connector, name=name, stamp=stamp, updated_at=_now()
                        )
                    )
            except IntegrityError:  # another process inserted first: move it forward instead
                self.conn.execute(
                    update(cursors)
                    .where(where, cursors.c.stamp < stamp)
                    .values(stamp=stamp, updated_at=_now())
                )
        current = self.get_cursor(connector, name)
        assert current is not None
        return current

    # processed versions
    def processed_version(self, connector: str, ticket_id: str) -> str | None:
        return self.conn.execute(
            select(ticket_versions.c.version).where(
                ticket_versions.c.connector == connector, ticket_versions.c.ticket_id == ticket_id
            )
        ).scalar_one_or_none()

    def mark_processed(self, connector: str, ticket_id: str, version: str, outcome: str) -> None:
        where = and_(
            ticket_versions.c.connector == connector, ticket_versions.c.ticket_id == ticket_id
        )
        values = {"version": version, "outcome": outcome, "processed_at": _now()}
        if self.conn.execute(update(ticket_versions).where(where).values(**values)).rowcount:
            return
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(ticket_versions).values(
                        connector=connector, ticket_id=ticket_id, **values
                    )
                )
        except IntegrityError:
            self.conn.execute(update(ticket_versions).where(where).values(**values))

    # journal
    def plan_effect(
        self, connector: str, ticket_id: str, key: str, kind: str, payload: dict[str, Any]
    ) -> JournalEntry:
        existing = self.get_effect(key)
        if existing is not None:
            return existing
        now = _now()
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(journal).values(
                        key=key,
                        connector=connector,
                        ticket_id=ticket_id,
                        kind=kind,
                        payload=json.dumps(payload, ensure_ascii=False, default=str),
                        state="planned",
                        attempts=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            pass  # planned concurrently by another process: same key, same effect
        entry = self.get_effect(key)
        assert entry is not None
        return entry

    def get_effect(self, key: str) -> JournalEntry | None:
        row = self.conn.execute(select(journal).where(journal.c.key == key)).mappings().first()
        return _entry(row) if row else None

    def effects_for(self, keys: Sequence[str]) -> dict[str, JournalEntry]:
        if not keys:
            return {}
        rows = self.conn.execute(select(journal).where(journal.c.key.in_(list(keys)))).mappings()
        return {row["key"]: _entry(row) for row in rows}

    def mark_sent(self, keys: Sequence[str]) -> None:
        if keys:
            self.conn.execute(
                update(journal)
                .where(journal.c.key.in_(list(keys)))
                .values(state="sent", attempts=journal.c.attempts + 1, updated_at=_now())
            )

    def mark_confirmed(self, key: str, remote_id: str | None, reconciled: bool = False) -> None:
        self.conn.execute(
            update(journal)
            .where(journal.c.key == key)
            .values(
                state="confirmed",
                remote_id=remote_id,
                error="reconciled after restart" if reconciled else None,
                updated_at=_now(),
            )
        )

    def mark_failed(self, key: str, error: str) -> None:
        self.conn.execute(
            update(journal)
            .where(journal.c.key == key)
            .values(state="failed", error=error, updated_at=_now())
        )

    def unfinished(self, connector: str) -> list[JournalEntry]:
        rows = self.conn.execute(
            select(journal)
            .where(journal.c.connector == connector, journal.c.state.in_(("planned", "sent")))
            .order_by(journal.c.created_at)
        ).mappings()
        return [_entry(r) for r in rows]

    def journal_for_ticket(self, connector: str, ticket_id: str) -> list[JournalEntry]:
        rows = self.conn.execute(
            select(journal)
            .where(journal.c.connector == connector, journal.c.ticket_id == ticket_id)
            .order_by(journal.c.created_at)
        ).mappings()
        return [_entry(r) for r in rows]

    def all_effects(self, connector: str | None = None) -> list[JournalEntry]:
        query = select(journal).order_by(journal.c.created_at)
        if connector is not None:
            query = query.where(journal.c.connector == connector)
        return [_entry(r) for r in self.conn.execute(query).mappings()]

    # failures and dead letters
    def record_failure(self, connector: str, ticket_id: str, version: str, error: str) -> int:
        where = and_(failures.c.connector == connector, failures.c.ticket_id == ticket_id)
        values = {"last_error": error[:2000], "last_version": version, "updated_at": _now()}
        if not self.conn.execute(
            update(failures).where(where).values(attempts=failures.c.attempts + 1, **values)
        ).rowcount:
            try:
                with self.conn.begin_nested():
                    self.conn.execute(
                        insert(failures).values(
                            connector=connector, ticket_id=ticket_id, attempts=1, **values
                        )
                    )
            except IntegrityError:
                self.conn.execute(
                    update(failures).where(where).values(attempts=failures.c.attempts + 1, **values)
                )
        return int(self.conn.execute(select(failures.c.attempts).where(where)).scalar_one())

    def clear_failures(self, connector: str, ticket_id: str) -> None:
        self.conn.execute(
            delete(failures).where(
                failures.c.connector == connector, failures.c.ticket_id == ticket_id
            )
        )

    def quarantine(
        self, connector: str, ticket_id: str, version: str | None, error: str, attempts: int
    ) -> int:
        active = self.conn.execute(
            select(dead_letters_t.c.id).where(
                dead_letters_t.c.connector == connector,
                dead_letters_t.c.ticket_id == ticket_id,
                dead_letters_t.c.retried_at.is_(None),
            )
        ).scalar_one_or_none()
        if active is not None:
            return int(active)
        result = self.conn.execute(
            insert(dead_letters_t).values(
                connector=connector,
                ticket_id=ticket_id,
                version=version,
                error=error[:2000],
                attempts=attempts,
                created_at=_now(),
            )
        )
        return int(result.inserted_primary_key[0])

    def is_quarantined(self, connector: str, ticket_id: str) -> bool:
        return (
            self.conn.execute(
                select(func.count())
                .select_from(dead_letters_t)
                .where(
                    dead_letters_t.c.connector == connector,
                    dead_letters_t.c.ticket_id == ticket_id,
                    dead_letters_t.c.retried_at.is_(None),
                )
            ).scalar_one()
            > 0
        )

    def dead_letters(
        self, connector: str | None = None, include_retried: bool = False
    ) -> list[DeadLetter]:
        query = select(dead_letters_t).order_by(dead_letters_t.c.id)
        if connector is not None:
            query = query.where(dead_letters_t.c.connector == connector)
        if not include_retried:
            query = query.where(dead_letters_t.c.retried_at.is_(None))
        return [DeadLetter(**dict(r)) for r in self.conn.execute(query).mappings()]

    def release(
        self, dead_letter_id: int | None = None, *, connector: str | None = None
    ) -> list[DeadLetter]:
        active = [
            d
            for d in self.dead_letters(connector)
            if dead_letter_id is None or d.id == dead_letter_id
        ]
        for letter in active:
            self.conn.execute(
                update(dead_letters_t)
                .where(dead_letters_t.c.id == letter.id)
                .values(retried_at=_now())
            )
            self.clear_failures(letter.connector, letter.ticket_id)
            # forget the processed version so the next pass decides the ticket again
            self.conn.execute(
                delete(ticket_versions).where(
                    ticket_versions.c.connector == letter.connector,
                    ticket_versions.c.ticket_id == letter.ticket_id,
                )
            )
        return active

    # audit
    def record_decision(
        self,
        connector: str,
        ticket_id: str,
        version: str | None,
        request_type: str | None,
        outcome: str,
        actions: list[dict[str, Any]],
        decided_at: datetime,
        dry_run: bool = False,
    ) -> None:
        self.conn.execute(
            insert(audit_t).values(
                connector=connector,
                ticket_id=ticket_id,
                version=version,
                request_type=request_type,
                outcome=outcome,
                actions=json.dumps(actions, ensure_ascii=False, default=str),
                dry_run=dry_run,
                decided_at=decided_at,
            )
        )

    def audit_trail(
        self, connector: str | None = None, ticket_id: str | None = None, limit: int = 100
    ) -> list[AuditRow]:
        query = select(audit_t).order_by(audit_t.c.id.desc()).limit(limit)
        if connector is not None:
            query = query.where(audit_t.c.connector == connector)
        if ticket_id is not None:
            query = query.where(audit_t.c.ticket_id == ticket_id)
        rows = self.conn.execute(query).mappings()
        return [AuditRow(**{**dict(r), "actions": json.loads(r["actions"])}) for r in rows]

    # leases (several replicas on one PostgreSQL)
    def acquire_lease(self, connector: str, owner: str, ttl: timedelta, now: datetime) -> bool:
        expires = now + ttl
        taken = self.conn.execute(
            update(leases)
            .where(
                leases.c.connector == connector,
                or_(leases.c.owner == owner, leases.c.expires_at <= now),
            )
            .values(owner=owner, expires_at=expires)
        ).rowcount
        if taken:
            return True
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(leases).values(connector=connector, owner=owner, expires_at=expires)
                )
        except IntegrityError:
            return False
        return True

    def release_lease(self, connector: str, owner: str) -> None:
        self.conn.execute(
            delete(leases).where(leases.c.connector == connector, leases.c.owner == owner)
        )


def _entry(row: Any) -> JournalEntry:
    data = dict(row)
    data["payload"] = json.loads(data["payload"])
    return JournalEntry(**data)


class Store:
    """The state store; every method runs in its own short transaction.

    ``with store.transaction() as tx:`` groups several operations atomically; ``tx`` has
    the same methods.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ConfigError(f"state_url: not a database URL ({masked_url(url)})") from exc
        if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(parsed, pool_pre_ping=True, future=True)
        except (ArgumentError, ImportError) as exc:
            raise ConfigError(f"state_url: cannot use {masked_url(url)}: {exc}") from exc
        if parsed.drivername.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._lock = threading.RLock()
        self._migrate()

    def __repr__(self) -> str:
        return f"Store({masked_url(self._url)})"

    __str__ = __repr__

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[_Ops]:
        """Several operations in one transaction."""
        try:
            with self.engine.begin() as conn:
                yield _Ops(conn)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"state store {masked_url(self._url)}: {type(exc).__name__}: {_short(exc)}"
            ) from None

    def _migrate(self) -> None:
        """Create or upgrade the schema; safe when several processes open the store at once.

        PostgreSQL serialises migrations with an advisory lock; on SQLite two first opens can
        still race on CREATE TABLE, so a failed attempt is retried (every step is
        idempotent: tables are created only when missing).
        """
        for attempt in range(5):
            try:
                with self.transaction() as tx:
                    conn = tx.conn
                    if self.engine.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(724311)"))
                    schema_version.create(conn, checkfirst=True)
                    current = conn.execute(select(func.max(schema_version.c.version))).scalar()
                    for number, step in enumerate(MIGRATIONS, start=1):
                        if number > (current or 0):
                            step(conn)
                            conn.execute(insert(schema_version).values(version=number))
                return
            except StoreError:
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def __getattr__(self, name: str) -> Any:
        operation = getattr(_Ops, name, None)
        if operation is None or name.startswith("_"):
            raise AttributeError(name)

        def run(*args: Any, **kwargs: Any) -> Any:
            with self.transaction() as tx:
                return getattr(tx, name)(*args, **kwargs)

        run.__name__ = name
        run.__doc__ = operation.__doc__
        return run


class StoreError(ConfigError):
    """The state store failed (unreachable, locked, broken); the message hides the password."""


def _short(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
