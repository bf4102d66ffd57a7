"""Salesforce Service Cloud connector (REST API via simple-salesforce): Cases end to end.

Theory of operation
-------------------
* The class composes the package: ``client`` (every call: rebuild on an expired session,
  typed errors, retries, the daily budget), ``listing`` (SOQL windows on
  ``SystemModstamp``, child pages, comment-only changes), ``directory`` (queues and
  users, cached), ``normalize`` (records to tickets, pure), ``writes`` (effects to
  collections records, pure), ``account`` (the org's names, for ``check``).
* Reading costs about one call per 2000 cases on a backlog: a SOQL page brings whole cases
  with their comments and files, and ``load`` uses the record the ref carries (no call);
  ``reload`` is one SOQL by Id.
* Writes take up to ``write_batch`` (200) cases a call (``write_batch`` on the contract):
  every case is planned first (names resolved: an unknown queue or user rejects that
  case's effects, nothing sent for it); then ONE ``PATCH composite/sobjects`` per 200
  Case records (all field changes of a case in its one record) and ONE ``POST
  composite/sobjects`` per 200 CaseComments and Tasks, each with ``allOrNone: false`` and
  ``Sforce-Auto-Assign: FALSE``. Each row's answer becomes its effects' result: a failed
  row rejects the effects it carried (typed by its ``statusCode``) and, for a Case row,
  that case's comments and tasks are not sent (rejected: "not sent"); other cases go on.
  Rows refused for a row lock (``UNABLE_TO_LOCK_ROW``: nothing written) are resent alone
  with backoff. A POST whose answer was lost is never resent: ``lookup`` finds it.
* ``lookup`` reads, for the whole batch, the cases' CaseComments (``WHERE ParentId IN``)
  and Tasks (``WHERE WhatId IN``) and matches each effect's marker client-side (long text
  fields cannot be filtered in SOQL); field effects compare the cases' current values
  (``WHERE Id IN``). At most one query of each kind per 200 cases.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from sync.account import AccountNames
from sync.actions import AddNote, CreateChildTicket, CreateTask
from sync.contract import (
    AuthError,
    ConnectorError,
    Cursor,
    DatetimeCursor,
    Effect,
    EffectResult,
    FatalError,
    Loaded,
    TicketRef,
    TicketWrites,
)
from sync.masking import mask_value

from .._http import USER_AGENT
from .._names import resolved
from .._notes import has_marker
from . import normalize, writes
from .account import account_names
from .client import (
    AUTO_ASSIGN,
    HELPDESK,
    Credentials,
    SalesforceClient,
    error_details,
    is_lock,
    login,
)
from .directory import Directory
from .listing import Listing, Reader, chunks
from .settings import API_NAME, SalesforceSettings

COLLECTION = "composite/sobjects"
COLLECTION_SIZE = 200
"""Records in one sObject Collections call (the API's maximum)."""

Outcome = str | ConnectorError
"""A record's answer: the Id written, or the error that refused it."""


class SalesforceConnector:
    """``sync.contract.Connector`` for one Salesforce org's Cases."""

    kind = "salesforce"

    def __init__(
        self,
        name: str,
        client: SalesforceClient,
        *,
        request_type_field: str = "Type",
        subcategory_field: str | None = None,
        comment_field: str | None = None,
        case_fields: Sequence[str] = (),
        rules: writes.WriteRules | None = None,
        page_size: int = 2000,
        write_batch: int = COLLECTION_SIZE,
        overlap: timedelta = timedelta(minutes=5),
        now: Callable[[], datetime] | None = None,
        who: str = "",
    ) -> None:
        self.name = name
        self.client = client
        self.request_type_field = request_type_field
        self.subcategory_field = subcategory_field
        self.comment_field = comment_field
        self.rules = rules or writes.WriteRules()
        self.write_batch = write_batch
        self.cursors = DatetimeCursor(overlap)
        self.who = who
        fields = normalize.case_select(
            [
                request_type_field,
                subcategory_field,
                comment_field,
                self.rules.critical_field,
                *case_fields,
            ]
        )
        self.reader = Reader(client, page_size)
        self.listing = Listing(self.reader, name, fields, now=now or (lambda: datetime.now(UTC)))
        self.directory = Directory(Reader(client, page_size))

    def __repr__(self) -> str:
        return f"SalesforceConnector({self.name!r})"

    # ------------------------------------------------------------------ check, list, load

    def api_stats(self) -> dict[str, float]:
        """API calls, answers that said not now (``REQUEST_LIMIT_EXCEEDED``: the daily
        allocation or the concurrent-request limit), seconds waited before retries and the
        org's remaining daily requests as last reported (metrics, backfill progress)."""
        stats: dict[str, float] = {
            "calls": self.client.calls,
            "throttled": self.client.throttled,
            "waited_seconds": self.client.waited,
        }
        if self.client.usage is not None:
            used, total = self.client.usage
            stats["remaining"] = max(0, total - used)
        return stats

    def check(self) -> str:
        """``GET limits/``: proves the credentials and reads the daily API usage."""
        data = self.client.limits()
        daily = data.get("DailyApiRequests") if isinstance(data, Mapping) else None
        host = self.client.sf.sf_instance
        who = f" as {mask_value('email', self.who)}" if self.who else ""
        if not isinstance(daily, Mapping) or not daily.get("Max"):
            return f"salesforce {host}{who}"
        total = int(daily["Max"])
        used = total - int(daily.get("Remaining") or 0)
        self.client.note_usage(used, total)
        return f"salesforce {host}{who}: {used} of {total} daily API requests used"

    def account_names(self) -> AccountNames:
        """The org's queues, owners, Case statuses, Case fields and request types, for
        ``check``: one ``GET sobjects/Case/describe/``, one QueueSobject query and the
        directory's queue and user lookups."""
        return account_names(
            self.client, self.directory, self.request_type_field, self.subcategory_field
        )

    def changes(
        self, cursor: Cursor | None, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[TicketRef]:
        """Cases changed from the cursor's stamp less the overlap (never before ``since``)."""
        return self.listing.changed_since(self.cursors.start(cursor, since), until)

    def _loaded(self, ref: TicketRef, record: Mapping[str, Any]) -> Loaded:
        ticket = normalize.ticket(
            record,
            request_type_field=self.request_type_field,
            subcategory_field=self.subcategory_field,
            comment_field=self.comment_field,
        )
        context = normalize.context(record, self.directory.user_name)
        return Loaded(ref=ref, ticket=ticket, context=context)

    def _read_case(self, case_id: str) -> dict[str, Any]:
        soql = self.listing.case_query(f"Id = {normalize.soql_id(case_id)}")
        for record in self.reader.records(soql):
            return record
        raise FatalError("case not found", helpdesk=HELPDESK, ticket_id=case_id, status=404)

    def load(self, ref: TicketRef) -> Loaded:
        """The normalized case; no call when the ref carries its record."""
        record: dict[str, Any] = json.loads(ref.snapshot) if ref.snapshot else {}
        if "Id" not in record or "SystemModstamp" not in record:
            record = self._read_case(ref.id)
        return self._loaded(ref, record)

    def reload(self, ticket_id: str) -> Loaded:
        """The case as it is now: one SOQL by Id."""
        record = self._read_case(ticket_id)
        ref = TicketRef(ticket_id, version=normalize.version(record))
        return self._loaded(ref, record)

    # ------------------------------------------------------------------ writes

    def _resolvers(self) -> dict[str, Callable[[str], Any]]:
        return {"queue": self.directory.queue_id, "owner": self.directory.owner_id}

    def write(self, batch: Sequence[TicketWrites]) -> list[EffectResult]:
        """The effects of up to ``write_batch`` cases in one PATCH and one POST of
        sObject Collections (per 200 records); one result per effect answered."""
        order = {e.key: i for i, e in enumerate(e for item in batch for e in item.effects)}
        results: list[EffectResult] = []
        plans: list[writes.CasePlan] = []
        for item in batch:
            case_id = item.loaded.ticket.id
            try:
                plan = resolved(
                    lambda ids, item=item, case_id=case_id: writes.plan_case(
                        case_id, item.effects, ids, self.rules
                    ),
                    self._resolvers(),
                )
            except AuthError:
                raise
            except ConnectorError as exc:
                error = _for_case(exc, case_id)
                results.extend(EffectResult.rejected(e.key, error) for e in item.effects)
                continue
            results.extend(plan.refused)
            plans.append(plan)
        refused_cases: dict[str, ConnectorError] = {}
        updates = [plan.update for plan in plans if plan.update is not None]
        for record, outcome in self._send("PATCH", updates):
            results.extend(_results(record, outcome))
            if isinstance(outcome, ConnectorError):
                refused_cases[record.case_id] = outcome
        inserts: list[writes.Record] = []
        for plan in plans:
            error = refused_cases.get(plan.case_id)
            if error is None:
                inserts.extend(plan.inserts)
                continue
            not_sent = type(error)(
                f"not sent: the case update was refused ({error})",
                helpdesk=HELPDESK,
                ticket_id=plan.case_id,
            )
            results.extend(
                EffectResult.rejected(key, not_sent) for r in plan.inserts for key in r.keys
            )
        for record, outcome in self._send("POST", inserts):
            results.extend(_results(record, outcome))
        return sorted(results, key=lambda r: order.get(r.key, len(order)))

    def _send(
        self, method: str, records: Sequence[writes.Record]
    ) -> Iterator[tuple[writes.Record, Outcome]]:
        """Records in calls of 200; rows refused for a row lock resent alone with backoff."""
        what = f"{method} {COLLECTION}"
        for chunk in chunks(records, COLLECTION_SIZE):
            todo: list[writes.Record] = list(chunk)
            attempt = 1
            while todo:
                single = todo[0].case_id if len({r.case_id for r in todo}) == 1 else None
                try:
                    answer = self.client.restful(
                        COLLECTION,
                        method=method,
                        json={"allOrNone": False, "records": [r.body for r in todo]},
                        headers=AUTO_ASSIGN,
                        idempotent=method == "PATCH",
                        ticket_id=single,
                    )
                except AuthError:
                    raise
                except ConnectorError as exc:
                    for record in todo:
                        yield record, _for_case(exc, record.case_id)
                    break
                if not isinstance(answer, list) or len(answer) != len(todo):
                    for record in todo:
                        yield (
                            record,
                            FatalError(
                                f"{what}: expected one result per record",
                                helpdesk=HELPDESK,
                                ticket_id=record.case_id,
                            ),
                        )
                    break
                locked: list[writes.Record] = []
                for record, row in zip(todo, answer, strict=True):
                    row = row if isinstance(row, Mapping) else {}
                    if row.get("success") is True:
                        yield record, str(row.get("id") or record.case_id)
                        continue
                    message, codes = error_details(row.get("errors") or [])
                    if is_lock(codes, message) and attempt < self.client.attempts:
                        locked.append(record)
                    else:
                        yield record, writes.row_error(row, what, record.case_id)
                todo = locked
                if todo:
                    self.client.sleep(self.client.delay(attempt))
                    attempt += 1

    # ------------------------------------------------------------------ reconciliation

    def lookup(self, batch: Sequence[TicketWrites]) -> list[EffectResult]:
        """Effects written before: markers in the cases' comments and tasks, field values
        in the cases; one query of each kind needed per 200 cases."""
        notes = _wanted(batch, AddNote)
        tasks = _wanted(batch, CreateTask)
        kids = _wanted(batch, CreateChildTicket)
        fields = _wanted(batch, *writes.FIELD_ACTIONS)
        found: list[EffectResult] = []
        if notes:
            rows = self._children("SELECT Id, ParentId, CommentBody FROM CaseComment "
                                  "WHERE ParentId IN {ids}", "ParentId", notes)  # fmt: skip
            found += _by_marker(notes, rows, "CommentBody")
        if tasks:
            rows = self._children(
                "SELECT Id, WhatId, Description FROM Task WHERE WhatId IN {ids}", "WhatId", tasks
            )
            found += _by_marker(tasks, rows, "Description")
        if kids:
            rows = self._children(
                "SELECT Id, ParentId, Description FROM Case WHERE ParentId IN {ids}",
                "ParentId",
                kids,
            )
            found += _by_marker(kids, rows, "Description")
        if fields:
            found += self._find_fields(fields)
        return found

    def _children(
        self, soql: str, parent: str, wanted: Mapping[str, list[Effect]]
    ) -> dict[str, list[dict[str, Any]]]:
        rows: dict[str, list[dict[str, Any]]] = {}
        for row in self.reader.by_ids(lambda ids: soql.format(ids=ids), list(wanted)):
            rows.setdefault(str(row.get(parent)), []).append(row)
        return rows

    def _find_fields(self, wanted: Mapping[str, list[Effect]]) -> list[EffectResult]:
        names = ["Id", "OwnerId", "Status", "Priority"]
        if self.rules.critical_field and self.rules.critical_field not in names:
            names.append(self.rules.critical_field)
        # Field API names checked by the settings; ids by ``soql_ids``.
        soql = f"SELECT {', '.join(names)} FROM Case WHERE Id IN {{ids}}"  # noqa: S608
        cases = {
            str(r["Id"]): r for r in self.reader.by_ids(lambda ids: soql.format(ids=ids), wanted)
        }
        found: list[EffectResult] = []
        for case_id, effects in wanted.items():
            case = cases.get(case_id)
            if case is None:
                continue
            for effect in effects:
                try:
                    shown = resolved(
                        lambda ids, effect=effect, case=case: writes.holds(
                            effect.action, case, ids, self.rules
                        ),
                        self._resolvers(),
                    )
                except AuthError:
                    raise
                except FatalError:
                    shown = False  # a name unknown now was not written before either
                if shown:
                    found.append(EffectResult.already_there(effect.key, case_id))
        return found


def _wanted(batch: Sequence[TicketWrites], *kinds: type) -> dict[str, list[Effect]]:
    """Case Id -> its effects of these action kinds."""
    out: dict[str, list[Effect]] = {}
    for item in batch:
        for effect in item.effects:
            if isinstance(effect.action, kinds):
                out.setdefault(item.loaded.ticket.id, []).append(effect)
    return out


def _by_marker(
    wanted: Mapping[str, list[Effect]], rows: Mapping[str, list[dict[str, Any]]], text: str
) -> list[EffectResult]:
    found: list[EffectResult] = []
    for case_id, effects in wanted.items():
        for effect in effects:
            for row in rows.get(case_id, []):
                if has_marker(effect.key, row.get(text)):
                    found.append(EffectResult.already_there(effect.key, str(row["Id"])))
                    break
    return found


def _results(record: writes.Record, outcome: Outcome) -> list[EffectResult]:
    if isinstance(outcome, ConnectorError):
        return [EffectResult.rejected(key, outcome) for key in record.keys]
    return [EffectResult.applied(key, outcome) for key in record.keys]


def _for_case(error: ConnectorError, case_id: str) -> ConnectorError:
    """The error with the case named (a call's error is shared by its records)."""
    if error.ticket_id == case_id:
        return error
    text = str(error).removeprefix(f"{HELPDESK}: ").removeprefix(f"{HELPDESK} ticket ")
    kw: dict[str, Any] = {"helpdesk": HELPDESK, "ticket_id": case_id, "status": error.status}
    if hasattr(error, "retry_after"):
        kw["retry_after"] = error.retry_after
    try:
        return type(error)(text, **kw)
    except TypeError:
        return error


# ---------------------------------------------------------------------------------------
# the factory the registry uses
# ---------------------------------------------------------------------------------------


def build(settings: SalesforceSettings, *, overlap: timedelta) -> SalesforceConnector:
    """A ready connector from its settings (no call is made until the first use)."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    creds = Credentials.of(settings)
    client = SalesforceClient(
        lambda: login(creds, session),
        connector=settings.name,
        budget_share=settings.daily_budget_share,
        timeout=settings.timeout_seconds,
    )
    rules = writes.WriteRules(
        critical_field=settings.critical_field,
        resolve_status=settings.resolve_status,
        task_timezone=settings.task_timezone,
    )
    sources = [v for v in settings.fields.values() if re.match(API_NAME, v)]
    return SalesforceConnector(
        settings.name,
        client,
        request_type_field=settings.request_type_field,
        subcategory_field=settings.subcategory_field,
        comment_field=settings.comment_field,
        case_fields=[*settings.case_fields, *sources],
        rules=rules,
        page_size=settings.page_size,
        write_batch=settings.write_batch,
        overlap=overlap,
        who=settings.username or "",
    )


__all__ = ["COLLECTION", "SalesforceConnector", "build"]
