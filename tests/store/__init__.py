"""Helpers to run tests against the state store on every backend (SQLite and PostgreSQL).

Why here and not only in ``conftest.py``: other test modules (the engine's) need a store on
both backends too, and conftest modules should not be imported. Use either

    from tests.store import store_fixture
    store = store_fixture()          # a fixture named ``store``, parametrized by backend

or ``with open_store(backend, tmp_path) as store: ...`` / ``with backend_url(...) as url``.

PostgreSQL comes from ``HELPDESK_SYNC_TEST_POSTGRES_URL`` (``.ci/run`` starts a throwaway
server and sets it). Each use gets its own schema (selected through ``search_path``) that
is dropped afterwards, so tests are isolated and runs leave nothing behind. Without the
variable PostgreSQL tests are skipped, or fail when ``CI`` is set: CI must test both.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from engine.store import Store

POSTGRES_URL_ENV = "HELPDESK_SYNC_TEST_POSTGRES_URL"
BACKENDS: tuple[str, ...] = ("sqlite", "postgresql")
SCHEMA_PREFIX = "hs_test_"


def postgres_base_url() -> str:
    """The test server's URL; skip (fail on CI) when it is not configured."""
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if url:
        return url
    hint = (
        f"PostgreSQL not reachable: set {POSTGRES_URL_ENV} (e.g. "
        "postgresql+psycopg://user:password@127.0.0.1:54329/db) — .ci/run starts one"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{hint}; CI must run the store tests on PostgreSQL", pytrace=False)
    pytest.skip(hint)


@contextmanager
def backend_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty, private database for ``backend``; cleaned up afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'state.sqlite'}"
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    base = make_url(postgres_base_url())
    schema = SCHEMA_PREFIX + secrets.token_hex(6)
    admin = create_engine(base, poolclass=NullPool)
    try:
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except SQLAlchemyError as exc:
            masked = base.render_as_string(hide_password=True)
            pytest.fail(f"PostgreSQL at {masked} not usable: {exc.orig or exc}", pytrace=False)
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@contextmanager
def open_store(backend: str, tmp_path: Path, **kwargs: Any) -> Iterator[Store]:
    """An open store on a fresh database of ``backend``, closed afterwards."""
    with backend_url(backend, tmp_path) as url, Store(url, **kwargs) as store:
        yield store


def store_fixture(name: str = "store") -> Callable[..., Iterator[Store]]:
    """A pytest fixture (named ``name``) giving a fresh store on each backend in turn."""

    @pytest.fixture(params=BACKENDS, name=name)
    def _store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
        with open_store(request.param, tmp_path) as store:
            yield store

    return _store


def store_url_fixture(name: str = "store_url") -> Callable[..., Iterator[str]]:
    """A pytest fixture (named ``name``) giving a fresh database URL on each backend."""

    @pytest.fixture(params=BACKENDS, name=name)
    def _store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
        with backend_url(request.param, tmp_path) as url:
            yield url

    return _store_url
