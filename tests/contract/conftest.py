"""Fixtures of the contract tests: every helpdesk harness in turn, and a fresh store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.store import Store

from .harness import HARNESSES, Harness, mocked


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """Each helpdesk's sandbox behind ``responses`` (a test module may narrow it)."""
    with mocked() as rsps:
        yield HARNESSES[request.param](rsps)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite state store."""
    with Store(f"sqlite:///{tmp_path / 'state.sqlite'}") as opened:
        yield opened
