"""The state store's schema: column types, the current tables, and the migrations to them.

Tables (schema version 3; `MIGRATIONS` below says what each version added):

| table | column | meaning |
|---|---|---|
| `schema_version` | `version` | PK; one row per applied migration; the highest is current |
| | `applied_at` | when that migration ran (UTC) |
| `cursor_positions` | `connector`, `name` | PK; `name`: `poll` or `backfill:<since>:<until>` |
| | `position` | the connector's opaque cursor: every ticket before it is done (v3; v1's |
| | | `cursors.stamp` became a datetime cursor) |
| | `updated_at` | last time the cursor moved |
| `ticket_versions` | `connector`, `ticket_id` | PK |
| | `version` | the last processed helpdesk version (change stamp) of the ticket |
| | `outcome` | the decision outcome at that version |
| | `processed_at` | when it was processed |
| `journal` | `key` | PK; the effect's deterministic idempotency key (`sync.effects`) |
| | `connector`, `ticket_id` | whose effect it is (indexed) |
| | `kind` | action kind (`add_note`, `route`, …) |
| | `payload` | the action as JSON text, CPF/CNPJ/e-mail/phone masked |
| | `state` | `planned` → `sent` → `confirmed` or `failed`; only `sent` is ambiguous |
| | `remote_id` | id of what the helpdesk created (note, task, child ticket), when known |
| | `reconciled` | true when confirmed by finding an earlier write instead of writing now |
| | `attempts` | how many times it was sent |
| | `error` | last error (connector message, never a body) |
| | `created_at`, `updated_at` | when planned / last changed |
| `failures` | `connector`, `ticket_id` | PK; tickets whose processing failed and is retried |
| | `attempts` | consecutive failures so far |
| | `last_error`, `last_version` | the latest failure's message and ticket version |
| | `updated_at` | time of the latest failure |
| `dead_letters` | `id` | PK, autoincrement |
| | `connector`, `ticket_id` | the ticket; one active row (`retried_at` NULL) at most |
| | `version`, `error`, `attempts` | the version, last error and attempts when quarantined |
| | `created_at` | when quarantined |
| | `retried_at` | when released for retry (NULL while active) |
| `audit` | `id` | PK, autoincrement |
| | `connector`, `ticket_id`, `version` | the decided ticket state |
| | `request_type`, `outcome` | what the decision core concluded |
| | `actions` | the decided actions as JSON text (never comment bodies) |
| | `dry_run` | true for decisions made with `--dry-run` (nothing written) |
| | `decided_at` | the decision's `now` |
| `leases` | `connector` | PK; one process writes a connector at a time (`engine.ownership`); |
| | | `<connector>#wanted`: a `run --once`/`backfill` waiting for it (asks for a handover) |
| | `owner` | the process holding the lease (`host:pid:random`) |
| | `expires_at` | after this instant anyone may take it (the database's clock on PostgreSQL) |
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    select,
)
from sqlalchemy.types import TypeDecorator

from sync.contract import DatetimeCursor


def utc(value: datetime) -> datetime:
    """``value`` in UTC; naive datetimes are refused because their instant is unknown."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware (UTC) datetime")
    return value.astimezone(UTC)


# ---------------------------------------------------------------------------------------
# column types
# ---------------------------------------------------------------------------------------


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always binds and returns aware UTC datetimes.

    Why: SQLite has no time zone type; values are stored there as fixed-width UTC strings
    (sortable and comparable in SQL) and get ``tzinfo=UTC`` back on the way out, so both
    backends hand callers the same aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONText(TypeDecorator[Any]):
    """JSON stored as text, so both backends hold byte-identical documents."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


# ---------------------------------------------------------------------------------------
# schema (the current version; see MIGRATIONS)
# ---------------------------------------------------------------------------------------

METADATA = MetaData()
_Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER PKs only

schema_version_table = Table(
    "schema_version",
    METADATA,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UTCDateTime, nullable=False),
)

_V1_METADATA = MetaData()
"""Tables as version 1 created them, where a later version replaced them."""

_cursors_v1 = Table(
    "cursors",
    _V1_METADATA,
    Column("connector", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("stamp", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

cursors = Table(
    "cursor_positions",
    METADATA,
    Column("connector", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("position", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

ticket_versions = Table(
    "ticket_versions",
    METADATA,
    Column("connector", Text, primary_key=True),
    Column("ticket_id", Text, primary_key=True),
    Column("version", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("processed_at", UTCDateTime, nullable=False),
)

journal = Table(
    "journal",
    METADATA,
    Column("key", Text, primary_key=True),
    Column("connector", Text, nullable=False),
    Column("ticket_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("payload", JSONText, nullable=False),
    Column("state", Text, nullable=False),
    Column("remote_id", Text),
    Column("reconciled", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_journal_ticket", "connector", "ticket_id"),
    Index("ix_journal_state", "connector", "state", "created_at"),
)

failures = Table(
    "failures",
    METADATA,
    Column("connector", Text, primary_key=True),
    Column("ticket_id", Text, primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("last_version", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

dead_letters_table = Table(
    "dead_letters",
    METADATA,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("connector", Text, nullable=False),
    Column("ticket_id", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("retried_at", UTCDateTime),
)
dead_letter_active = dead_letters_table.c.retried_at.is_(None)
Index(
    "ux_dead_letters_active",
    dead_letters_table.c.connector,
    dead_letters_table.c.ticket_id,
    unique=True,
    sqlite_where=dead_letter_active,
    postgresql_where=dead_letter_active,
)

audit = Table(
    "audit",
    METADATA,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("connector", Text, nullable=False),
    Column("ticket_id", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("request_type", Text),
    Column("outcome", Text, nullable=False),
    Column("actions", JSONText, nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    Index("ix_audit_ticket", "connector", "ticket_id", "decided_at"),
    Index("ix_audit_decided", "decided_at"),
)

leases = Table(
    "leases",
    METADATA,
    Column("connector", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

timers = Table(
    "timers",
    METADATA,
    Column("connector", Text, primary_key=True),
    Column("ticket_id", Text, primary_key=True),
    Column("timer_id", Text, primary_key=True),
    Column("request_type", Text, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("sop", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("reason", Text),
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_timers_due", "connector", "state", "due_at"),
)

_V1_TABLES = (ticket_versions, journal, failures, dead_letters_table, audit, leases)


def _migrate_v1(conn: Connection) -> None:
    """Version 1: the base tables.

    Why it uses the module's Table objects: they are the v1 schema. When a later version
    changes one of these tables, copy that table's v1 definition in here first (as
    ``_cursors_v1``) so a fresh store still replays history step by step.
    """
    _V1_METADATA.create_all(conn, tables=[_cursors_v1])
    METADATA.create_all(conn, tables=list(_V1_TABLES))


def _migrate_v2(conn: Connection) -> None:
    """Version 2: SLA timers (``timers``)."""
    METADATA.create_all(conn, tables=[timers])


def _migrate_v3(conn: Connection) -> None:
    """Version 3: cursors are opaque text the connector defines (``cursor_positions``).

    A version-1 cursor was a change stamp; it becomes that stamp as a datetime cursor
    (``sync.contract.DatetimeCursor``), which is what every connector of that time reads.
    """
    METADATA.create_all(conn, tables=[cursors])
    rows = conn.execute(select(_cursors_v1)).all()
    for row in rows:
        conn.execute(
            cursors.insert().values(
                connector=row.connector,
                name=row.name,
                position=DatetimeCursor.encode(row.stamp),
                updated_at=row.updated_at,
            )
        )
    _cursors_v1.drop(conn)


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_migrate_v1, _migrate_v2, _migrate_v3)
"""Schema steps in order; step ``i`` (0-based) upgrades to version ``i + 1``. Append only."""

SCHEMA_VERSION: Final = len(MIGRATIONS)


