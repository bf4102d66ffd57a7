"""Listing changed cases: SOQL on ``SystemModstamp``, child pages, comment-only changes.

Theory of operation
-------------------
* One SOQL page brings up to ``page_size`` (``Sforce-Query-Options: batchSize``, 200 to
  2000) whole cases: fields, internal CaseComments and file titles as subqueries, so a
  backlog costs about one read call per 2000 cases and ``load`` none (each ref carries its
  record as its snapshot). Top-level pages follow ``nextRecordsUrl``; so do NESTED child
  results whose ``done`` is false (the library never follows them): ``complete`` reads
  the rest of a case's comments or files before the case is handed out.
* The window is ``SystemModstamp >= <start> AND SystemModstamp < <bound>`` with
  ``ORDER BY SystemModstamp, Id``: ``>=`` on a floored whole-second literal, never ``>``
  (rows share a second; ``>`` on the last stamp skips the rest of it), and rows before the
  exact start or at/after the bound are dropped here. ``bound`` is ``until``, else the
  moment the listing began: a pass never chases the echoes of its own writes. The
  ``DatetimeCursor`` re-reads ``overlap`` behind the cursor (late commits); a case whose
  (Id, version) was already handed out in this listing is not handed out again.
* A new CaseComment may not move its case's ``SystemModstamp`` (UNVERIFIED), so the pass
  first lists internal comments changed in the window (``SELECT Id, ParentId,
  SystemModstamp FROM CaseComment ...``). A comment the case query brings with its case
  is covered; the parents of those left are read after the case query, 200 ids a query
  (``WHERE Id IN (...)``), in the order of their earliest comment.
* Cursors never run ahead of a change not yet handed out: a case's cursor is the earlier
  of its stamp and the earliest comment still uncovered; a parent read for its comments
  has its earliest comment's stamp. So resuming from any ref's cursor (less the overlap)
  re-reads every change not handed out before it.
* A ref's ``version`` is the newest stamp of the case and its internal comments
  (``normalize.version``): a new comment is a new version even when the case's stamp
  stands still.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sync.contract import DatetimeCursor, FatalError, TicketRef

from .client import HELPDESK, SalesforceClient
from .normalize import (
    CHILDREN,
    case_soql,
    children,
    compact,
    parse_stamp,
    soql_datetime,
    soql_ids,
    version,
)

log = logging.getLogger("helpdesk_sync.connectors.salesforce")

T = TypeVar("T")
ORDER = "SystemModstamp, Id"
ID_PAGE = 200
"""Ids in one ``WHERE Id IN (...)`` (keeps the query URL well under the limits)."""


def ceil_second(moment: datetime) -> datetime:
    """The next whole second (the moment itself when it is one)."""
    floor = moment.replace(microsecond=0)
    return floor if floor == moment else floor + timedelta(seconds=1)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for at in range(0, len(items), size):
        yield items[at : at + size]


@dataclass(slots=True)
class Reader:
    """SOQL results record by record, top-level and nested pages followed."""

    client: SalesforceClient
    page_size: int = 2000

    def records(self, soql: str) -> Iterator[dict[str, Any]]:
        """Every record of a query, each with its child results complete."""
        page = self.client.query(soql, page_size=self.page_size)
        while True:
            rows = page.get("records")
            if not isinstance(rows, list):
                raise FatalError("query answer without a records list", helpdesk=HELPDESK)
            for row in rows:
                yield self.complete(row)
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            page = self.client.query_more(str(page["nextRecordsUrl"]), page_size=self.page_size)

    def complete(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The record with every child subquery read to its end (nested ``nextRecordsUrl``)."""
        out = dict(record)
        for name in CHILDREN:
            result = out.get(name)
            if not isinstance(result, Mapping) or result.get("done", True):
                continue
            rows = list(result.get("records") or [])
            page: Mapping[str, Any] = result
            while not page.get("done", True) and page.get("nextRecordsUrl"):
                page = self.client.query_more(str(page["nextRecordsUrl"]))
                rows.extend(page.get("records") or [])
            out[name] = {"totalSize": len(rows), "done": True, "records": rows}
        return out

    def by_ids(self, soql_of: Callable[[str], str], ids: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Records of ``soql_of("(<ids>)")``, ``ID_PAGE`` ids a query."""
        unique = list(dict.fromkeys(ids))
        for part in chunks(unique, ID_PAGE):
            yield from self.records(soql_of(soql_ids(part)))


def ticket_ref(record: Mapping[str, Any], cursor_at: datetime) -> TicketRef:
    """A case record as a ref: its version, the cursor given, the record as snapshot."""
    return TicketRef(
        id=str(record["Id"]),
        version=version(record),
        cursor=DatetimeCursor.encode(cursor_at),
        snapshot=compact(record),
    )


@dataclass(slots=True)
class _Pending:
    """Comments changed in the window whose case has not been handed out with them."""

    comments: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    """Comment Id -> (its stamp, its case Id)."""

    def cover(self, record: Mapping[str, Any]) -> None:
        for row in children(record, "CaseComments"):
            self.comments.pop(str(row.get("Id")), None)

    def earliest(self) -> datetime | None:
        return min((stamp for stamp, _ in self.comments.values()), default=None)

    def parents(self) -> list[tuple[datetime, str]]:
        """(earliest stamp, case Id) of every case with uncovered comments, earliest first."""
        first: dict[str, datetime] = {}
        for stamp, parent in self.comments.values():
            if parent not in first or stamp < first[parent]:
                first[parent] = stamp
        return sorted((stamp, parent) for parent, stamp in first.items())


@dataclass(slots=True)
class Listing:
    """The changed cases of one org."""

    reader: Reader
    connector: str
    fields: Sequence[str]
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def case_query(self, where: str, order: str = "") -> str:
        return case_soql(self.fields, where, order)

    def changed_since(self, start: datetime, until: datetime | None = None) -> Iterator[TicketRef]:
        """Cases whose record or internal comments changed in ``[start, until)``."""
        start = start.astimezone(UTC)
        bound = (until if until is not None else self.now()).astimezone(UTC)
        if bound <= start:
            return
        window = (
            f"SystemModstamp >= {soql_datetime(start)} "
            f"AND SystemModstamp < {soql_datetime(ceil_second(bound))}"
        )
        pending = _Pending()
        where = f"IsPublished = false AND {window} ORDER BY {ORDER}"
        comment_soql = f"SELECT Id, ParentId, SystemModstamp FROM CaseComment WHERE {where}"  # noqa: S608
        for row in self.reader.records(comment_soql):
            stamp = parse_stamp(str(row["SystemModstamp"]))
            if start <= stamp < bound:
                pending.comments[str(row["Id"])] = (stamp, str(row["ParentId"]))
        seen: set[tuple[str, str]] = set()
        for record in self.reader.records(self.case_query(window, ORDER)):
            stamp = parse_stamp(str(record["SystemModstamp"]))
            if not start <= stamp < bound:
                continue
            pending.cover(record)
            earliest = pending.earliest()
            ref = ticket_ref(record, stamp if earliest is None else min(stamp, earliest))
            if (ref.id, ref.version) not in seen:
                seen.add((ref.id, ref.version))
                yield ref
        parents = pending.parents()
        if not parents:
            return
        log.info(
            "%d case(s) with internal comments their stamp did not show",
            len(parents),
            extra={"event": "salesforce.comment_only_changes", "connector": self.connector},
        )
        first = {parent: stamp for stamp, parent in parents}
        order = [parent for _, parent in parents]
        for part in chunks(order, ID_PAGE):
            rows = self.reader.by_ids(lambda ids: self.case_query(f"Id IN {ids}"), part)
            found = {str(r["Id"]): r for r in rows}
            for parent in part:
                record = found.get(parent)
                if record is None:
                    continue  # deleted since its comment changed
                ref = ticket_ref(record, first[parent])
                if (ref.id, ref.version) not in seen:
                    seen.add((ref.id, ref.version))
                    yield ref


__all__ = ["ID_PAGE", "ORDER", "Listing", "Reader", "ceil_second", "chunks", "ticket_ref"]
