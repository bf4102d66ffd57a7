"""Listing changed tickets: keyset pages on (``lastUpdate``, ``id``), and the 90-day split.

Theory of operation
-------------------
* One list call brings whole tickets: ``GET /tickets`` with ``$select``, the full
  ``$expand`` (``api.TICKET_EXPAND``), ``$orderby=lastUpdate asc,id asc`` and ``$top=100``,
  so a backfill costs one read call per 100 tickets and ``load`` none (each ref carries its
  row, compact, as its snapshot).
* Pages follow a keyset, never ``$skip`` (rows move while they are paged: every write bumps
  ``lastUpdate``): the first page asks ``lastUpdate ge <start>``, each next one
  ``lastUpdate gt T or (lastUpdate eq T and id gt N)`` after the last row (T, N) read, plus
  ``lastUpdate lt <until>`` (rounded up to the millisecond; rows at or after ``until`` are
  left out here) when there is an upper bound; a listing across the 90-day boundary is
  bounded by the moment it began when the caller gives no bound. A filter literal has milliseconds
  (``api.odata_datetime``) while stamps have seven fraction digits, so T is the last stamp
  cut to the millisecond: rows of that millisecond come again, and are skipped here by
  their exact (stamp, id) key; none is skipped by the server. A full page that brings
  nothing past the previous key (more than a page of tickets in one millisecond) is a
  ``FatalError``, never a silent skip or an endless loop.
* ``/tickets`` serves only tickets whose ``lastUpdate`` is less than 90 days old;
  ``/tickets/past`` the older ones (Zenvia "Tickets API" page; jonasandre/movidesk-cli
  ``internal/movidesk/tickets/tickets.go``). A listing that starts before the boundary
  (a backfill; with ``past_margin`` of slack) reads ``/tickets/past`` first, then
  ``/tickets``, then ``/tickets/past`` once more from where the first read ended: a ticket
  that crossed the boundary while ``/tickets`` was read is found there. A ticket seen on
  both sides with the same ``lastUpdate`` is handed out once.
* Refs: ``version`` is the ``lastUpdate`` text (the engine de-duplicates by (id, version)),
  ``cursor`` the ``DatetimeCursor`` of that stamp.
* All I/O goes through the connector's ``HttpClient``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.contract import DatetimeCursor, FatalError, TicketRef

from .._http import HttpClient
from .api import (
    HELPDESK,
    ceil_ms,
    checked_ticket,
    floor_ms,
    odata_datetime,
    parse_datetime,
    rows,
    stamp_key,
    ticket_query,
)
from .normalize import compact

log = logging.getLogger("helpdesk_sync.connectors.movidesk")

RECENT, PAST = "/tickets", "/tickets/past"
PAST_AFTER = timedelta(days=90)
"""``/tickets`` serves tickets whose ``lastUpdate`` is younger than this."""
PAST_MARGIN = timedelta(days=1)
"""A listing starting less than this after the boundary reads ``/tickets/past`` too."""
ORDER = "lastUpdate asc,id asc"
HEAVY = "An error has occurred"
"""Movidesk's answer to a query too heavy for it (KB 240544)."""

Key = tuple[str, int]
"""A row's exact position: (``stamp_key`` of its ``lastUpdate``, id)."""


def keyset_filter(last: Key | None, last_stamp: str | None, start: datetime) -> str:
    """The ``$filter`` of a page: from ``start``, or after the last row read."""
    if last is None or last_stamp is None:
        return f"lastUpdate ge {odata_datetime(floor_ms(start))}"
    literal = odata_datetime(floor_ms(parse_datetime(last_stamp)))
    return f"lastUpdate gt {literal} or (lastUpdate eq {literal} and id gt {last[1]})"


def ticket_ref(row: Mapping[str, Any]) -> TicketRef:
    """A list row as a ref: its stamp as version and cursor, the row as snapshot."""
    stamp = str(row["lastUpdate"])
    return TicketRef(
        id=str(row["id"]),
        version=stamp,
        cursor=DatetimeCursor.encode(parse_datetime(stamp)),
        snapshot=compact(row),
    )


@dataclass(slots=True)
class _Run:
    """What one listing has handed out (``seen`` only when both endpoints are read)."""

    dedupe: bool
    seen: set[tuple[str, str]] = field(default_factory=set)

    def fresh(self, row: Mapping[str, Any]) -> bool:
        if not self.dedupe:
            return True
        key = (str(row["id"]), str(row["lastUpdate"]))
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


@dataclass(slots=True)
class Listing:
    """The tickets of one account, read page by page on a keyset."""

    http: HttpClient
    connector: str
    page_size: int = 100
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    past_after: timedelta = PAST_AFTER
    past_margin: timedelta = PAST_MARGIN
    calls: int = 0
    """List calls made (for tests and the read-cost report)."""
    on_page: Callable[[list[dict[str, Any]]], None] | None = None
    """Told of each page read, before its tickets are handed out (context prefetch)."""

    def changed_since(self, start: datetime, until: datetime | None = None) -> Iterator[TicketRef]:
        """Tickets with ``lastUpdate >= start`` (and ``< until``), ascending; none skipped.

        A listing that reads both sides of the 90-day boundary without ``until`` ends where
        it began (now): the engine writes to the old tickets before ``/tickets`` is read,
        and those writes would otherwise come back in the same pass as fresh versions.
        """
        start = start.astimezone(UTC)
        began = self.now()
        boundary = began - self.past_after
        if start >= boundary + self.past_margin:
            yield from self._endpoint(RECENT, start, until, None, _Run(dedupe=False))
            return
        until = began if until is None else until
        run = _Run(dedupe=True)
        last: list[tuple[Key, str]] = []
        yield from self._endpoint(PAST, start, until, last, run)
        yield from self._endpoint(RECENT, start, until, None, run)
        resume = last[-1] if last else None
        log.info(
            "re-reading /tickets/past for tickets that crossed the 90-day boundary",
            extra={"event": "movidesk.past_catch_up", "connector": self.connector},
        )
        yield from self._endpoint(PAST, start, until, None, run, resume=resume)

    def _endpoint(
        self,
        path: str,
        start: datetime,
        until: datetime | None,
        record: list[tuple[Key, str]] | None,
        run: _Run,
        *,
        resume: tuple[Key, str] | None = None,
    ) -> Iterator[TicketRef]:
        """Every page of one endpoint from ``start`` (or after ``resume``)."""
        last_key, last_stamp = resume if resume else (None, None)
        call = f"GET {path}"
        while True:
            where = keyset_filter(last_key, last_stamp, start)
            if until is not None:
                where = f"({where}) and lastUpdate lt {odata_datetime(ceil_ms(until))}"
            page = self._page(path, where, call)
            if self.on_page is not None:
                self.on_page(page)
            progressed = False
            for row in page:
                checked_ticket(row, call)
                key = (stamp_key(row["lastUpdate"]), int(row["id"]))
                if last_key is not None and key <= last_key:
                    continue  # the millisecond of the last key, read again
                moment = parse_datetime(row["lastUpdate"])
                if until is not None and moment >= until:
                    return
                progressed = True
                last_key, last_stamp = key, str(row["lastUpdate"])
                if record is not None:
                    record.append((last_key, last_stamp))
                    del record[:-1]
                if moment >= start and run.fresh(row):
                    yield ticket_ref(row)
            if len(page) < self.page_size:
                return
            if not progressed:
                raise FatalError(
                    f"more than {self.page_size} tickets share one millisecond of lastUpdate "
                    f"({last_stamp}) on {path}: the keyset cannot move past them; nothing was "
                    "skipped, the pass stops here",
                    helpdesk=HELPDESK,
                )

    def _page(self, path: str, where: str, call: str) -> list[dict[str, Any]]:
        params = ticket_query(filter=where, orderby=ORDER, top=self.page_size)
        self.calls += 1
        try:
            return rows(self.http.get(path, params=params), call)
        except FatalError as exc:
            if exc.status == 400 and HEAVY.lower() in str(exc).lower():
                raise FatalError(
                    str(exc).removeprefix(f"{HELPDESK}: ")
                    + "; Movidesk found the list query too heavy: lower page_size",
                    helpdesk=HELPDESK,
                    status=exc.status,
                    request_id=exc.request_id,
                ) from exc
            raise


__all__ = ["ORDER", "PAST", "PAST_AFTER", "RECENT", "Listing", "keyset_filter", "ticket_ref"]
