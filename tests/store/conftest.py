"""Fixtures of the store tests: ``store`` and ``store_url`` on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.store import store_fixture, store_url_fixture

store = store_fixture()
store_url = store_url_fixture()
