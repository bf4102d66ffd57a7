"""Listing changed tickets: windows under Freshdesk's page cap, and ties inside one second.

Theory of operation
-------------------
* Listing (``changed_since``): ``GET /api/v2/tickets?updated_since=<since>Z&order_by=
  updated_at&order_type=asc&per_page=100``, following ``Link: rel="next"`` as given with
  ``updated_since`` fixed for the whole window. Freshdesk serves at most 300 pages, so when
  the next page would pass the cap a new window starts at the last ``updated_at`` seen
  (inclusive: those boundary tickets come again, the engine de-duplicates by (id, version)).
  With a plan's tickets-list sub-limit configured (Growth: 20 per minute), a window is that
  many pages: the list is read in bursts the limit allows, between the loads it feeds.
  A window that is one single second from start to cap cannot be sliced further: that is a
  ``FatalError``, never a silent skip (tap-freshdesk's +1 s bookmark loses tickets there).
* Each window is read completely before its tickets are handed out: the engine's own
  writes bump ``updated_at`` and would otherwise move tickets of the window being paged,
  shifting offsets and skipping rows.
* Ties: the order among tickets sharing one ``updated_at`` is not guaranteed, so a tie that
  straddles a page boundary can show one ticket twice and another never. The rows of one
  second still occupy a fixed range of positions (the sort by ``updated_at`` is reliable),
  so the listing counts the rows of each second against the distinct ids it saw and, when
  some are missing, re-reads the pages of that second until all are seen (bounded; then a
  ``FatalError``). With a server that keeps ties stable this costs nothing.
* What a ref carries: the list asks ``include=requester`` (+2 credits a page of 100, docs
  "List All Tickets"), so every ref's snapshot holds the requester's name, e-mail and
  phones; with ``keep_rows`` (the connector's ``ticket_attachments=False``) it also holds a
  compact copy of the row (``SNAPSHOT_KEYS``), which ``load`` uses instead of the ticket
  GET. A window of 30,000 refs carries only that.
* All I/O goes through the connector's ``HttpClient``, given to ``Listing``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync.contract import DatetimeCursor, FatalError, TicketRef

from .._http import HttpClient
from .api import HELPDESK, parse, rows, utc

log = logging.getLogger("helpdesk_sync.connectors.freshdesk")

SNAPSHOT_KEYS = (
    "id",
    "subject",
    "type",
    "status",
    "priority",
    "tags",
    "custom_fields",
    "group_id",
    "responder_id",
    "requester_id",
    "company_id",
    "association_type",
    "created_at",
    "updated_at",
)
"""What ``load`` reads from a list row: a window of 30,000 refs carries only these (and the
slim ``requester`` of ``include=requester``)."""
REQUESTER_KEYS = ("id", "name", "email", "phone", "mobile")
"""``include=requester`` embeds exactly these (docs "List All Tickets" / "View a Ticket")."""


def list_params(since: datetime, page: int, per_page: int) -> dict[str, Any]:
    """The query of one page of the tickets list."""
    # include=requester (+2 credits a page of 100, docs "List All Tickets") carries the
    # requester's name, e-mail and phones with each row: no call per requester.
    return {
        "updated_since": utc(since),
        "order_by": "updated_at",
        "order_type": "asc",
        "per_page": per_page,
        "page": page,
        "include": "requester",
    }


def ticket_ref(row: Mapping[str, Any], keep_row: bool) -> TicketRef:
    """A list row as a ref: its stamp, and the snapshot ``load`` may use (see above)."""
    stamp = str(row["updated_at"])
    slim: dict[str, Any] = {}
    if keep_row:
        slim = {key: row[key] for key in SNAPSHOT_KEYS if key in row}
    requester = row.get("requester")
    if isinstance(requester, Mapping) and requester:
        slim["requester"] = {k: requester.get(k) for k in REQUESTER_KEYS if k in requester}
    snapshot = None
    if slim:
        snapshot = json.dumps(slim, separators=(",", ":"), ensure_ascii=False).encode()
    cursor = DatetimeCursor.encode(parse(stamp))
    return TicketRef(id=str(row["id"]), version=stamp, cursor=cursor, snapshot=snapshot)


@dataclass(slots=True)
class _Tie:
    """The rows of one ``updated_at`` second while a window is scanned."""

    stamp: str | None = None
    ids: set[str] = field(default_factory=set)
    count: int = 0
    """Rows of this second in the current window (its fixed position range)."""
    pages: set[int] = field(default_factory=set)

    def start(self, stamp: str) -> None:
        self.stamp, self.ids, self.count, self.pages = stamp, set(), 0, set()

    def new_window(self) -> None:
        self.count, self.pages = 0, set()


@dataclass(slots=True)
class Listing:
    """The tickets list of one account, read window by window."""

    http: HttpClient
    connector: str
    """The connector's name, for log lines."""
    per_page: int = 100
    page_cap: int = 300
    """Freshdesk serves at most this many pages of one query."""
    window_pages: int = 300
    """Pages read before a window's tickets are handed out (at most ``page_cap``)."""
    tie_rounds: int = 30
    """Re-reads of one second's pages before its unstable order is a ``FatalError``."""
    keep_rows: bool = False
    """Keep each row's ``SNAPSHOT_KEYS`` in its ref (``load`` reads no ticket then)."""

    def changed_since(self, since: datetime, until: datetime | None = None) -> Iterator[TicketRef]:
        """Tickets with ``updated_at >= since`` (and ``< until``), ascending; none skipped."""
        cursor = since.astimezone(UTC).replace(microsecond=0)
        while True:
            batch, next_cursor = self.window(cursor, until)
            yield from batch
            if next_cursor is None:
                return
            cursor = next_cursor

    def window(
        self, cursor: datetime, until: datetime | None
    ) -> tuple[list[TicketRef], datetime | None]:
        """All refs of one listing window, and where the next window starts (None: done)."""
        tie = _Tie()
        tie.new_window()
        batch: list[TicketRef] = []
        page = 1
        response = self.http.get("/api/v2/tickets", params=self._params(cursor, page))
        while True:
            for row in rows(response, "GET /api/v2/tickets"):
                stamp = str(row["updated_at"])
                if stamp != tie.stamp:
                    batch.extend(self._finish_tie(tie, cursor))
                    if until is not None and parse(stamp) >= until:
                        return batch, None
                    tie.start(stamp)
                tie.count += 1
                tie.pages.add(page)
                if str(row["id"]) not in tie.ids:
                    tie.ids.add(str(row["id"]))
                    batch.append(ticket_ref(row, self.keep_rows))
            next_url = response.links.get("next", {}).get("url")
            if next_url is None:
                batch.extend(self._finish_tie(tie, cursor))
                return batch, None
            if page + 1 > self.page_cap:
                break
            if page >= self.window_pages and tie.stamp is not None and parse(tie.stamp) > cursor:
                break  # a full window that can be cut at its last second: hand it out
            page += 1
            response = self.http.get(next_url)
        assert tie.stamp is not None  # a full window has rows
        last = parse(tie.stamp)
        if last <= cursor:
            raise FatalError(
                f"more than {self.page_cap * self.per_page} tickets share updated_at "
                f"{tie.stamp}: the list cannot be sliced below one second (Freshdesk's "
                f"{self.page_cap}-page cap); nothing was skipped, the pass stops here",
                helpdesk=HELPDESK,
            )
        log.info(
            "window of %d pages read, next window from %s",
            page,
            tie.stamp,
            extra={"event": "freshdesk.window", "connector": self.connector, "since": tie.stamp},
        )
        return batch, last

    def _params(self, since: datetime, page: int) -> dict[str, Any]:
        return list_params(since, page, self.per_page)

    def _finish_tie(self, tie: _Tie, cursor: datetime) -> Iterator[TicketRef]:
        """Re-read the pages of a second whose rows showed fewer distinct ids than rows."""
        if tie.stamp is None or len(tie.ids) >= tie.count or len(tie.pages) < 2:
            return
        for round_no in range(1, self.tie_rounds + 1):
            log.info(
                "tickets sharing %s: %d of %d seen, re-reading pages (round %d)",
                tie.stamp,
                len(tie.ids),
                tie.count,
                round_no,
                extra={"event": "freshdesk.tie_reread", "connector": self.connector},
            )
            for page in sorted(tie.pages):
                found = rows(
                    self.http.get("/api/v2/tickets", params=self._params(cursor, page)),
                    "GET /api/v2/tickets",
                )
                for row in found:
                    if str(row["updated_at"]) == tie.stamp and str(row["id"]) not in tie.ids:
                        tie.ids.add(str(row["id"]))
                        yield ticket_ref(row, self.keep_rows)
                if len(tie.ids) >= tie.count:
                    return
        raise FatalError(
            f"{tie.count} tickets share updated_at {tie.stamp} but only {len(tie.ids)} distinct "
            f"ones were seen after {self.tie_rounds} re-reads (their order keeps changing)",
            helpdesk=HELPDESK,
        )


__all__ = ["REQUESTER_KEYS", "SNAPSHOT_KEYS", "Listing", "list_params", "ticket_ref"]
