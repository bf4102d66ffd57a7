"""State-store fixtures on SQLite and on a real PostgreSQL server.

PostgreSQL comes from ``HELPDESK_SYNC_TEST_POSTGRES_URL`` (``.ci/run`` starts a throwaway
server and sets it). Without it the PostgreSQL cases skip with a reason — except in CI,
where they fail, because CI must prove the store on both backends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sync.store import Store

PG_ENV = "HELPDESK_SYNC_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def postgres_url_or_skip() -> str:
    """The test server's URL; skip (or fail in CI) when there is none."""
    url = os.environ.get(PG_ENV)
    if url:
        return url
    message = (
        f"PostgreSQL not reachable: set {PG_ENV} "
        "(e.g. postgresql+psycopg://postgres@127.0.0.1:54329/helpdesk_sync_test); "
        ".ci/run starts one"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty state store on each backend (a fresh schema on PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite'}"
        return
    base = postgres_url_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store(store_url) as opened:
        yield opened


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], Store]]:
    """Opens more stores on the same database (other processes, restarts)."""
    opened: list[Store] = []

    def _open() -> Store:
        opened.append(Store(store_url))
        return opened[-1]

    yield _open
    for item in opened:
        item.close()
