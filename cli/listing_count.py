"""Counting what a pass lists, from outside the engine: its connector, wrapped for one pass.

``counting_listing`` puts a stand-in for the engine's connector in place (``Engine`` holds
it as ``connector`` and builds each pass's poller from it). Every attribute is the
connector's own; ``changes`` yields the same references and tells ``Progress`` about each
one: listed, then — when the pass asks for the next one, so the engine has begun the last
— skipped if the engine skipped it (already processed at that version, or quarantined:
the test ``Engine.begin`` makes, read just before it does), and when the listing is
complete. The engine and the connectors are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from cli.progress import Progress
from sync.contract import Cursor, TicketRef


class CountedConnector:
    """The engine's connector for one pass, its listing counted for ``Progress``.

    Every attribute is the connector's own; only ``changes`` is wrapped.
    """

    def __init__(
        self, connector: Any, progress: Progress, already_done: Callable[[TicketRef], bool]
    ) -> None:
        self._connector = connector
        self._progress = progress
        self._already_done = already_done

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connector, name)

    def changes(
        self, cursor: Cursor | None, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[TicketRef]:
        """The connector's listing, each reference counted as it is yielded."""
        for ref in self._connector.changes(cursor, since, until):
            skip = self._already_done(ref)
            self._progress.ticket_listed()
            try:
                yield ref
            except GeneratorExit:
                # Closed before the engine took it: a stop requested meanwhile ends the
                # pass before the next ticket, which is not the pass's (nor its summary's).
                if self._progress.stopping:
                    self._progress.ticket_unlisted()
                raise
            # The pass asks for the next ticket: the engine is done beginning this one.
            if skip:
                self._progress.ticket_skipped()
        self._progress.listing_done()


@contextmanager
def counting_listing(engine: Any, progress: Progress) -> Iterator[None]:
    """Count what ``engine``'s next pass lists: its connector is wrapped while inside."""
    connector, store, name = engine.connector, engine.store, engine.name

    def already_done(ref: TicketRef) -> bool:
        # The test Engine.begin makes right after the listing yields the reference.
        return store.is_quarantined(name, ref.id) or (
            store.processed_version(name, ref.id) == ref.version
        )

    engine.connector = CountedConnector(connector, progress, already_done)
    try:
        yield
    finally:
        engine.connector = connector


__all__ = ["CountedConnector", "counting_listing"]
