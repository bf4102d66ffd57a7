"""The Salesforce connector against stubbed REST calls, in the shapes the API answers.

Every call is the real request simple-salesforce sends (``responses`` intercepts the
session it is given): SOQL as ``GET query/?q=`` and ``GET <nextRecordsUrl>``, writes as
``PATCH``/``POST composite/sobjects``. Bodies follow the Salesforce REST API: query pages
``{totalSize, done, records, nextRecordsUrl?}`` with ``attributes`` on every record and
nested child results of the same shape; collection answers one row per record
(``{"id", "success": true, "errors": []}`` or ``{"success": false, "errors": [{"statusCode",
"message", "fields"}]}``, HTTP 200); errors of single calls ``[{"message", "errorCode"}]``;
usage in ``Sforce-Limit-Info: api-usage=used/total``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from simple_salesforce import Salesforce

from connectors.salesforce import BudgetPaused, SalesforceClient, SalesforceConnector, WriteRules
from connectors.salesforce.settings import SalesforceSettings
from sync.actions import Action, AddNote, CreateTask, MarkCritical, Route, SetStatus
from sync.contract import (
    AuthError,
    DatetimeCursor,
    Effect,
    FatalError,
    Loaded,
    Outcome,
    RetriableError,
    TicketRef,
    TicketWrites,
)
from sync.effects import effect_key, marker

INSTANCE = "https://acme.my.salesforce.com"
BASE = f"{INSTANCE}/services/data/v59.0/"
COLLECTION = BASE + "composite/sobjects"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
QUEUES = {"Backoffice EPS": "00G5e000001AbcDEAS", "Supervisor EPS": "00G5e000001AbcEEAS"}
USERS = {"Ana Lima": "0055e000003XyzAAAQ"}
Answer = dict[str, Any] | list[Any] | tuple[int, Any] | tuple[int, Any, dict[str, str]]


def attrs(kind: str, record_id: str) -> dict[str, str]:
    """The ``attributes`` every SOQL record carries."""
    return {"type": kind, "url": f"/services/data/v59.0/sobjects/{kind}/{record_id}"}


def sf_stamp(clock: str) -> str:
    """A stamp as Salesforce writes it (UTC, milliseconds, ``+0000``)."""
    return f"2024-05-01T{clock}.000+0000"


def case_id(n: int) -> str:
    return f"5005e00000{n:08d}"


def child(rows: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any] | None:
    """A nested child result as SOQL returns it (``null`` when there are no rows)."""
    if not rows and next_url is None:
        return None
    out: dict[str, Any] = {"totalSize": len(rows), "done": next_url is None, "records": rows}
    if next_url:
        out["nextRecordsUrl"] = next_url
    return out


def comment(cid: str, n: int, clock: str, body: str, author: str = "Ana Lima") -> dict[str, Any]:
    return {
        "attributes": attrs("CaseComment", f"00a5e0000{n:09d}"),
        "Id": f"00a5e0000{n:09d}",
        "CommentBody": body,
        "IsPublished": False,
        "CreatedDate": sf_stamp(clock),
        "SystemModstamp": sf_stamp(clock),
        "CreatedBy": {"attributes": attrs("User", "0055e000003XyzAAAQ"), "Name": author},
    }  # fmt: skip


def file_link(title: str, extension: str) -> dict[str, Any]:
    return {
        "attributes": attrs("ContentDocumentLink", "06A5e000000001"),
        "ContentDocument": {"attributes": attrs("ContentDocument", "0695e000000001"),
                            "Title": title, "FileExtension": extension},
    }  # fmt: skip


def case(
    n: int,
    clock: str,
    *,
    comments: list[dict[str, Any]] | None = None,
    comments_next: str | None = None,
    files: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A Case record as ``SELECT ... FROM Case`` returns it."""
    cid = case_id(n)
    record: dict[str, Any] = {
        "attributes": attrs("Case", cid),
        "Id": cid,
        "CaseNumber": f"{1000 + n:08d}",
        "Subject": "Reemissão de certificado",
        "Status": "New",
        "Priority": "Medium",
        "Origin": "Web",
        "Reason": None,
        "Type": "Reemissão",
        "IsClosed": False,
        "IsEscalated": False,
        "OwnerId": QUEUES["Backoffice EPS"],
        "Owner": {"attributes": {"type": "Name", "url": "/services/data/v59.0/sobjects/Group/"
                                                          "00G5e000001AbcDEAS"},
                  "Name": "Backoffice EPS", "Type": "Queue"},
        "ParentId": None,
        "ContactId": "0035e000004QwErAAK",
        "Contact": {"attributes": attrs("Contact", "0035e000004QwErAAK"),
                    "Name": "Maria Souza", "Email": "maria@example.com",
                    "Phone": "+55 11 99999-0000"},
        "AccountId": None,
        "Account": None,
        "SuppliedName": None,
        "SuppliedEmail": None,
        "SuppliedPhone": None,
        "Description": "Preciso reemitir o certificado.",
        "CreatedDate": sf_stamp("08:00:00"),
        "LastModifiedDate": sf_stamp(clock),
        "SystemModstamp": sf_stamp(clock),
        "CaseComments": child(comments or [], comments_next),
        "ContentDocumentLinks": child(files or []),
    }  # fmt: skip
    record.update(fields)
    return record


def page(records: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"totalSize": len(records), "done": next_url is None, "records": records}
    if next_url:
        out["nextRecordsUrl"] = next_url
    return out


def queue_rows() -> dict[str, Any]:
    return page([
        {"attributes": attrs("Group", gid),
         "Id": gid, "Name": name, "DeveloperName": name.replace(" ", "_")}
        for name, gid in QUEUES.items()
    ])  # fmt: skip


def user_rows() -> dict[str, Any]:
    return page([
        {"attributes": attrs("User", uid),
         "Id": uid, "Name": name, "Username": "ana@acme.com", "Email": "ana@acme.com"}
        for name, uid in USERS.items()
    ])  # fmt: skip


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: Any

    @property
    def soql(self) -> str:
        return parse_qs(urlsplit(self.url).query)["q"][0]


@dataclass
class Org:
    """A stubbed org: answers SOQL by a fragment of its text, collections by a handler."""

    rsps: responses.RequestsMock
    usage: str = "api-usage=25/15000"
    sent: list[Sent] = field(default_factory=list)
    queries: list[tuple[str, list[Answer]]] = field(default_factory=list)
    pages: dict[str, list[Answer]] = field(default_factory=dict)
    writes: dict[str, list[Callable[[dict[str, Any]], Answer]]] = field(default_factory=dict)
    builds: int = 0
    sleeps: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rsps.add_callback(responses.GET, BASE + "query/", callback=self._query)
        for method in ("PATCH", "POST"):
            self.rsps.add_callback(method, COLLECTION, callback=self._collection)

    # -- stubbing
    def on(self, fragment: str, *answers: Answer) -> None:
        """SOQL containing ``fragment`` gets these answers in turn (the last one repeats)."""
        self.queries.append((fragment, list(answers)))

    def next_page(self, path: str, *answers: Answer) -> None:
        """``GET <nextRecordsUrl>`` answers."""
        self.pages[path] = list(answers)
        self.rsps.add_callback(responses.GET, INSTANCE + path, callback=self._next)

    def on_write(self, method: str, *handlers: Callable[[dict[str, Any]], Answer]) -> None:
        self.writes[method] = list(handlers)

    def _reply(self, answers: list[Answer]) -> tuple[int, dict[str, str], str]:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        status, body, headers = 200, answer, {}
        if isinstance(answer, tuple):
            status, body = answer[0], answer[1]
            headers = answer[2] if len(answer) > 2 else {}  # type: ignore[misc]
        headers = {"Content-Type": "application/json;charset=UTF-8",
                   "Sforce-Limit-Info": self.usage, **headers}  # fmt: skip
        return status, headers, json.dumps(body)

    def _record(self, request: Any) -> Sent:
        body = json.loads(request.body) if request.body else None
        sent = Sent(request.method, request.url, dict(request.headers), body)
        self.sent.append(sent)
        return sent

    def _query(self, request: Any) -> tuple[int, dict[str, str], str]:
        soql = self._record(request).soql
        for fragment, answers in self.queries:
            if fragment in soql:
                return self._reply(answers)
        raise AssertionError(f"unexpected SOQL: {soql}")

    def _next(self, request: Any) -> tuple[int, dict[str, str], str]:
        self._record(request)
        return self._reply(self.pages[urlsplit(request.url).path])

    def _collection(self, request: Any) -> tuple[int, dict[str, str], str]:
        sent = self._record(request)
        handlers = self.writes[request.method]
        handler = handlers.pop(0) if len(handlers) > 1 else handlers[0]
        return self._reply([handler(sent.body)])

    # -- what was sent
    def soqls(self, fragment: str = "") -> list[str]:
        return [s.soql for s in self.sent if s.method == "GET" and "q=" in s.url
                and fragment in s.soql]  # fmt: skip

    def collection_calls(self, method: str) -> list[Sent]:
        return [s for s in self.sent if s.method == method and s.url == COLLECTION]

    # -- the connector
    def connector(self, *, share: float = 0.9, **kw: Any) -> SalesforceConnector:
        session = requests.Session()

        def factory() -> Salesforce:
            self.builds += 1
            return Salesforce(
                session_id=f"00D5e0000000001!token{self.builds}",
                instance_url=INSTANCE,
                session=session,
                version="59.0",
            )

        client = SalesforceClient(
            factory, connector="eps", budget_share=share, sleep=self.sleeps.append
        )
        kw.setdefault("comment_field", "Comentario_Interno__c")
        kw.setdefault("rules", WriteRules(critical_field="IsEscalated"))
        return SalesforceConnector("eps", client, now=lambda: NOW, **kw)


def all_ok(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record written: ids of updates kept, new ids for inserts."""
    rows = []
    for i, record in enumerate(body["records"]):
        new_id = record.get("id") or f"00a5e0001{i:09d}"
        rows.append({"id": new_id, "success": True, "errors": []})
    return rows


@pytest.fixture
def org() -> Iterator[Org]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield Org(rsps)


def writes_for(n: int, *actions: Action) -> TicketWrites:
    from connectors.salesforce import normalize

    ticket = normalize.ticket(case(n, "09:00:00"))
    loaded = Loaded(TicketRef(ticket.id, "v1"), ticket)
    effects = tuple(Effect(effect_key("eps", ticket.id, a), a) for a in actions)
    return TicketWrites(loaded, effects)


ROUTED = (
    Route(queue="Backoffice EPS"),
    SetStatus(status="Escalado"),
    AddNote(text="Caso encaminhado ao Backoffice EPS.", purpose="routed"),
)

# ---------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------


def test_listing_uses_ge_on_whole_seconds_and_finds_a_late_row_of_the_same_second(
    org: Org,
) -> None:
    org.on("FROM CaseComment WHERE", page([]))
    org.on(
        "FROM Case WHERE SystemModstamp",
        page([case(1, "10:00:05"), case(2, "10:00:05")]),
        page([case(1, "10:00:05"), case(2, "10:00:05"), case(3, "10:00:05")]),
    )
    sf = org.connector(overlap=timedelta(0))
    first = list(sf.changes(None, since=datetime(2024, 5, 1, 10, 0, 4, 500000, tzinfo=UTC)))
    assert [r.id for r in first] == [case_id(1), case_id(2)]
    # Resuming from the last ref's cursor re-reads its second with >=: the row committed
    # late in that same second is found (a strict > would have skipped it).
    again = list(sf.changes(first[-1].cursor))
    assert [r.id for r in again] == [case_id(1), case_id(2), case_id(3)]
    assert [r.version for r in again[:2]] == [r.version for r in first]  # engine de-duplicates
    soql = org.soqls("FROM Case WHERE SystemModstamp")
    window = "SystemModstamp >= 2024-05-01T10:00:04Z AND SystemModstamp < 2024-05-01T12:00:00Z"
    assert f"WHERE {window}" in soql[0]
    assert "SystemModstamp >= 2024-05-01T10:00:05Z" in soql[1]
    assert all(q.endswith("ORDER BY SystemModstamp, Id") and " > " not in q for q in soql)
    subquery = (
        "(SELECT Id, CommentBody, IsPublished, CreatedDate, SystemModstamp, CreatedBy.Name "
        "FROM CaseComments WHERE IsPublished = false ORDER BY CreatedDate)"
    )
    assert subquery in soql[0]
    files = (
        "(SELECT ContentDocument.Title, ContentDocument.FileExtension FROM ContentDocumentLinks)"
    )
    assert files in soql[0]
    heads = [s.headers for s in org.sent]
    assert all(h["Sforce-Query-Options"] == "batchSize=2000" for h in heads)


def test_listing_pages_by_next_records_url_and_hands_out_a_case_once(org: Org) -> None:
    org.on("FROM CaseComment WHERE", page([]))
    org.on("FROM Case WHERE", page([case(1, "10:00:01"), case(2, "10:00:02")],
                                   "/services/data/v59.0/query/01g5e00000AbCdE-2000"))  # fmt: skip
    # Rows of the same (Id, SystemModstamp) come once, even when a page repeats one.
    org.next_page("/services/data/v59.0/query/01g5e00000AbCdE-2000",
                  page([case(2, "10:00:02"), case(3, "10:00:03")]))  # fmt: skip
    refs = list(org.connector().changes(None, since=NOW - timedelta(hours=3)))
    assert [r.id for r in refs] == [case_id(1), case_id(2), case_id(3)]
    assert [DatetimeCursor.decode(r.cursor).second for r in refs] == [1, 2, 3]
    more = [s for s in org.sent if "01g5e00000AbCdE-2000" in s.url]
    assert len(more) == 1
    assert more[0].headers["Sforce-Query-Options"] == "batchSize=2000"


def test_nested_comment_pages_are_followed_before_the_case_is_handed_out(org: Org) -> None:
    nested = "/services/data/v59.0/query/0r85e00000XyZ-200"
    org.on("FROM CaseComment WHERE", page([]))
    org.on("FROM Case WHERE", page([case(1, "10:00:09",
                                         comments=[comment(case_id(1), 1, "09:00:00", "primeiro")],
                                         comments_next=nested)]))  # fmt: skip
    org.next_page(nested, {"totalSize": 2, "done": True,
                           "records": [comment(case_id(1), 2, "10:00:09", "segundo")]})  # fmt: skip
    sf = org.connector()
    (ref,) = sf.changes(None, since=NOW - timedelta(hours=3))
    calls = len(org.sent)
    ticket = sf.load(ref).ticket
    assert len(org.sent) == calls  # load used the record the ref carries
    assert [c.body for c in ticket.comments] == ["primeiro", "segundo"]
    assert ref.version == sf_stamp("10:00:09")


def test_a_comment_that_did_not_move_its_case_lists_the_case(org: Org) -> None:
    org.on("FROM CaseComment WHERE", page([
        {"attributes": attrs("CaseComment", "00a5e0000000000007"),
         "Id": "00a5e0000000000007", "ParentId": case_id(7),
         "SystemModstamp": sf_stamp("10:30:00")},
        {"attributes": attrs("CaseComment", "00a5e0000000000001"),
         "Id": "00a5e0000000000001", "ParentId": case_id(1),
         "SystemModstamp": sf_stamp("10:40:00")},
    ]))  # fmt: skip
    # Case 1's comment comes with its case (covered); case 7's stamp stayed at 08:00.
    covered = case(1, "10:40:00", comments=[comment(case_id(1), 1, "10:40:00", "nota")])
    org.on("FROM Case WHERE SystemModstamp", page([covered, case(2, "11:00:00")]))
    old = case(7, "08:00:00", comments=[comment(case_id(7), 7, "10:30:00", "novo comentário")])
    org.on("FROM Case WHERE Id IN", page([old]))
    refs = list(org.connector().changes(None, since=NOW - timedelta(hours=3)))
    assert [r.id for r in refs] == [case_id(1), case_id(2), case_id(7)]
    assert org.soqls("FROM Case WHERE Id IN")[0].endswith(f"WHERE Id IN ('{case_id(7)}')")
    assert "FROM CaseComment WHERE IsPublished = false AND SystemModstamp >= " in org.soqls(
        "FROM CaseComment"
    )[0]
    # The new comment is a new version of case 7 although its own stamp did not move.
    assert refs[2].version == sf_stamp("10:30:00")
    # No cursor runs ahead of the uncovered comment (10:30) until case 7 is handed out.
    assert [DatetimeCursor.decode(r.cursor).strftime("%H:%M") for r in refs] == [
        "10:30", "10:30", "10:30"]  # fmt: skip


def test_a_case_is_normalized_with_its_comment_field_files_and_parties(org: Org) -> None:
    org.on("FROM CaseComment WHERE", page([]))
    record = case(
        4,
        "10:00:00",
        comments=[comment(case_id(4), 4, "09:10:00", "Cliente enviou a foto.", "Ana Lima")],
        files=[file_link("documento", "pdf"), file_link("selfie.jpg", "jpg")],
        Comentario_Interno__c="Nº do Pedido GAR: 123456\nMotivo: reemissão",
        Type="Reemissão",
    )
    org.on("FROM Case WHERE", page([record]))
    sf = org.connector()
    (ref,) = sf.changes(None, since=NOW - timedelta(hours=3))
    ticket = sf.load(ref).ticket
    assert (ticket.id, ticket.number, ticket.source) == (case_id(4), "00001004", "salesforce")
    assert (ticket.queue, ticket.owner, ticket.status) == ("Backoffice EPS", None, "New")
    assert ticket.request_type == "Reemissão"
    assert ticket.fields["Comentario_Interno__c"].startswith("Nº do Pedido GAR")
    assert ticket.fields["Priority"] == "Medium"
    assert "Owner" not in ticket.fields
    bodies = [(c.body, c.internal, c.author) for c in ticket.comments]
    assert bodies == [
        ("Cliente enviou a foto.", True, "Ana Lima"),
        ("Nº do Pedido GAR: 123456\nMotivo: reemissão", True, None),
    ]
    assert [a.name for a in ticket.attachments] == ["documento.pdf", "selfie.jpg"]
    assert ticket.requester is not None
    assert ticket.requester.email == "maria@example.com"
    assert "Comentario_Interno__c" in org.soqls("FROM Case WHERE")[0]


def test_reload_is_one_soql_by_id(org: Org) -> None:
    org.on(f"WHERE Id = '{case_id(5)}'", page([case(5, "10:00:00", Status="Escalado")]))
    loaded = org.connector().reload(case_id(5))
    assert loaded.ticket.status == "Escalado"
    assert len(org.sent) == 1


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cases", [3, 250])
def test_writes_go_in_collections_of_200_with_auto_assign_off(org: Org, cases: int) -> None:
    org.on("FROM Group WHERE Type = 'Queue'", queue_rows())
    org.on_write("PATCH", all_ok)
    org.on_write("POST", all_ok)
    batch = [writes_for(n, *ROUTED) for n in range(cases)]
    results = org.connector().write(batch)
    patches, posts = org.collection_calls("PATCH"), org.collection_calls("POST")
    assert len(patches) == len(posts) == math.ceil(cases / 200)
    for call in patches + posts:
        assert call.headers["Sforce-Auto-Assign"] == "FALSE"
        assert call.body["allOrNone"] is False
        assert len(call.body["records"]) <= 200
    updates = [r for call in patches for r in call.body["records"]]
    assert updates[0] == {"attributes": {"type": "Case"}, "id": case_id(0),
                          "OwnerId": QUEUES["Backoffice EPS"], "Status": "Escalado"}  # fmt: skip
    assert [u["id"] for u in updates] == [case_id(n) for n in range(cases)]
    notes = [r for call in posts for r in call.body["records"]]
    key = batch[0].effects[2].key
    assert notes[0] == {
        "attributes": {"type": "CaseComment"},
        "ParentId": case_id(0),
        "CommentBody": f"Caso encaminhado ao Backoffice EPS.\n\n— helpdesk-sync {marker(key)}",
        "IsPublished": False,
    }
    assert len(results) == 3 * cases
    assert all(r.outcome is Outcome.APPLIED for r in results)
    assert results[2].remote_id == "00a5e0001000000000"
    assert len(org.soqls("FROM Group")) == 1  # queues read once, cached


def test_a_task_carries_due_reminder_owner_and_marker(org: Org) -> None:
    org.on("FROM User WHERE IsActive = true", user_rows())
    org.on("FROM Group WHERE Type = 'Queue'", queue_rows())
    org.on_write("POST", all_ok)
    due = datetime(2024, 5, 3, 20, 30, tzinfo=UTC)  # 17:30 in São Paulo
    task = CreateTask(subject="Prazo BKO: tratar Reemissão (48 horas úteis)", due=due,
                      owner="Backoffice EPS")  # fmt: skip
    item = writes_for(1, task)
    (result,) = org.connector().write([item])
    (record,) = org.collection_calls("POST")[0].body["records"]
    assert record == {
        "attributes": {"type": "Task"},
        "WhatId": case_id(1),
        "Subject": "Prazo BKO: tratar Reemissão (48 horas úteis)",
        "ActivityDate": "2024-05-03",
        "ReminderDateTime": "2024-05-03T20:30:00.000Z",
        "IsReminderSet": True,
        "Description": f"— helpdesk-sync {marker(item.effects[0].key)}",
        "OwnerId": QUEUES["Backoffice EPS"],
    }
    assert result.outcome is Outcome.APPLIED
    assert not org.collection_calls("PATCH")


def test_a_refused_row_fails_its_case_alone(org: Org) -> None:
    org.on("FROM Group WHERE Type = 'Queue'", queue_rows())

    def refuse_second(body: dict[str, Any]) -> list[dict[str, Any]]:
        rows = all_ok(body)
        rows[1] = {"success": False, "errors": [{
            "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "message": "Status: bad value for restricted picklist field: Escalado",
            "fields": ["Status"]}]}  # fmt: skip
        return rows

    org.on_write("PATCH", refuse_second)
    org.on_write("POST", all_ok)
    batch = [writes_for(n, *ROUTED) for n in range(3)]
    results = {r.key: r for r in org.connector().write(batch)}
    for n in (0, 2):
        assert all(results[e.key].outcome is Outcome.APPLIED for e in batch[n].effects)
    refused = [results[e.key] for e in batch[1].effects]
    assert all(r.outcome is Outcome.REJECTED for r in refused)
    assert isinstance(refused[0].error, FatalError)
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" in (refused[0].reason or "")
    assert refused[0].error.ticket_id == case_id(1)
    assert "not sent" in (refused[2].reason or "")  # its note waited for the case update
    (post,) = org.collection_calls("POST")
    assert [r["ParentId"] for r in post.body["records"]] == [case_id(0), case_id(2)]


def test_an_unknown_queue_rejects_that_case_before_anything_is_sent(org: Org) -> None:
    org.on("FROM Group WHERE Type = 'Queue'", queue_rows())
    org.on_write("PATCH", all_ok)
    org.on_write("POST", all_ok)
    bad = writes_for(1, Route(queue="Fila Inexistente"), AddNote(text="Nota."))
    good = writes_for(2, *ROUTED)
    results = {r.key: r for r in org.connector().write([bad, good])}
    for effect in bad.effects:
        assert results[effect.key].outcome is Outcome.REJECTED
        assert "unknown queue 'Fila Inexistente'" in (results[effect.key].reason or "")
    sent = [r for s in org.sent if s.url == COLLECTION for r in s.body["records"]]
    assert {r.get("id") or r.get("ParentId") for r in sent} == {case_id(2)}


def test_mark_critical_sets_the_configured_checkbox(org: Org) -> None:
    org.on_write("PATCH", all_ok)
    item = writes_for(1, MarkCritical(reason="Caso crítico"), SetStatus(status="Escalado"))
    org.connector().write([item])
    (call,) = org.collection_calls("PATCH")
    assert call.body["records"] == [{"attributes": {"type": "Case"}, "id": case_id(1),
                                     "IsEscalated": True, "Status": "Escalado"}]  # fmt: skip


# ---------------------------------------------------------------------------------------
# errors, session, budget
# ---------------------------------------------------------------------------------------

EXPIRED = (401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])


def test_an_expired_session_is_rebuilt_and_the_call_resent_with_its_headers(org: Org) -> None:
    org.on("FROM Group WHERE Type = 'Queue'", queue_rows())
    org.on_write("PATCH", lambda body: EXPIRED, all_ok)
    org.on_write("POST", all_ok)
    results = org.connector().write([writes_for(1, *ROUTED)])
    assert all(r.outcome is Outcome.APPLIED for r in results)
    first, again = org.collection_calls("PATCH")
    assert org.builds == 2
    assert first.headers["Authorization"].endswith("token1")
    assert again.headers["Authorization"].endswith("token2")
    assert again.headers["Sforce-Auto-Assign"] == "FALSE"
    assert again.body == first.body


def test_a_session_refused_again_after_the_rebuild_is_an_auth_error(org: Org) -> None:
    org.on("FROM CaseComment WHERE", EXPIRED)
    sf = org.connector()
    with pytest.raises(AuthError) as caught:
        list(sf.changes(None, since=NOW - timedelta(hours=1)))
    assert org.builds == 2
    assert len(org.sent) == 2
    assert "INVALID_SESSION_ID" in str(caught.value)


def test_request_limit_exceeded_is_retriable_not_auth(org: Org) -> None:
    body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    org.on("FROM CaseComment WHERE", (403, body))
    with pytest.raises(RetriableError) as caught:
        list(org.connector().changes(None, since=NOW - timedelta(hours=1)))
    assert not isinstance(caught.value, AuthError)
    assert caught.value.status == 403
    assert "REQUEST_LIMIT_EXCEEDED" in str(caught.value)
    assert len(org.sent) == 1  # not retried in place: the pass stops and comes back later


def test_unable_to_lock_row_is_retried_with_backoff(org: Org) -> None:
    busy = "unable to obtain exclusive access to this record"
    lock = [{"message": busy, "errorCode": "UNABLE_TO_LOCK_ROW"}]

    def lock_first_row(body: dict[str, Any]) -> list[dict[str, Any]]:
        rows = all_ok(body)
        rows[0] = {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW",
                   "message": busy, "fields": []}]}  # fmt: skip
        return rows

    org.on("FROM Group WHERE Type = 'Queue'", queue_rows())
    # The whole call refused once (400), then one row locked, then that row alone written.
    org.on_write("PATCH", lambda body: (400, lock), lock_first_row, all_ok)
    org.on_write("POST", all_ok)
    batch = [writes_for(n, *ROUTED) for n in range(2)]
    results = org.connector().write(batch)
    assert all(r.outcome is Outcome.APPLIED for r in results)
    patches = org.collection_calls("PATCH")
    assert [len(p.body["records"]) for p in patches] == [2, 2, 1]
    assert patches[2].body["records"][0]["id"] == case_id(0)
    assert patches[2].headers["Sforce-Auto-Assign"] == "FALSE"
    assert len(org.sleeps) == 2
    assert all(s > 0 for s in org.sleeps)


def test_a_refused_call_keeps_the_api_message_and_never_the_body(org: Org) -> None:
    org.on("FROM CaseComment WHERE", (400, [{"message": "No such column 'Foo__c' on entity 'Case'",
                                       "errorCode": "INVALID_FIELD"}]))  # fmt: skip
    with pytest.raises(FatalError) as caught:
        list(org.connector().changes(None, since=NOW - timedelta(hours=1)))
    text = str(caught.value)
    assert "INVALID_FIELD" in text
    assert "No such column" in text
    assert "[{" not in text
    assert "q=" not in text


def test_the_budget_pauses_at_the_configured_share(
    org: Org, caplog: pytest.LogCaptureFixture
) -> None:
    org.on("FROM CaseComment WHERE", page([]))
    org.on("FROM Case WHERE", page([case(1, "11:30:00")]))
    org.usage = "api-usage=89/100"
    sf = org.connector(share=0.9)
    assert len(list(sf.changes(None, since=NOW - timedelta(hours=1)))) == 1
    org.usage = "api-usage=90/100"
    with pytest.raises(BudgetPaused) as caught:
        list(sf.changes(None, since=NOW - timedelta(hours=1)))
    assert isinstance(caught.value, RetriableError)
    assert "90 of 100" in str(caught.value)
    sent = len(org.sent)
    with pytest.raises(BudgetPaused):
        list(sf.changes(None, since=NOW - timedelta(hours=1)))
    assert len(org.sent) == sent  # paused: nothing more is sent
    assert [r.event for r in caplog.records if hasattr(r, "event")].count(
        "salesforce.budget_paused"
    ) == 1


# ---------------------------------------------------------------------------------------
# lookup after a crash
# ---------------------------------------------------------------------------------------


def test_lookup_finds_a_comment_by_its_marker_and_fields_by_value(org: Org) -> None:
    org.on("FROM Group WHERE Type = 'Queue'", queue_rows())
    found_note = writes_for(1, *ROUTED)
    lost_note = writes_for(2, AddNote(text="Outra nota."))
    note_key = found_note.effects[2].key
    org.on("FROM CaseComment WHERE ParentId IN", page([
        {"attributes": attrs("CaseComment", "00a5e0000000000031"),
         "Id": "00a5e0000000000031", "ParentId": case_id(1), "CommentBody": "Cliente ligou."},
        {"attributes": attrs("CaseComment", "00a5e0000000000032"),
         "Id": "00a5e0000000000032", "ParentId": case_id(1),
         "CommentBody": f"Caso encaminhado.\n\n— helpdesk-sync {marker(note_key)}"},
    ]))  # fmt: skip
    org.on("FROM Case WHERE Id IN", page([
        {"attributes": attrs("Case", case_id(1)),
         "Id": case_id(1), "OwnerId": QUEUES["Backoffice EPS"], "Status": "New",
         "Priority": "Medium", "IsEscalated": False},
    ]))  # fmt: skip
    found = org.connector().lookup([found_note, lost_note])
    assert {(r.key, r.remote_id) for r in found} == {
        (note_key, "00a5e0000000000032"),
        (found_note.effects[0].key, case_id(1)),  # the case is in the queue already
    }
    assert all(r.outcome is Outcome.ALREADY_THERE for r in found)
    (comments_soql,) = org.soqls("FROM CaseComment WHERE")
    assert comments_soql.endswith(f"WHERE ParentId IN ('{case_id(1)}', '{case_id(2)}')")
    assert len(org.soqls("FROM Task")) == 0  # no task effects: no task query


# ---------------------------------------------------------------------------------------
# settings
# ---------------------------------------------------------------------------------------


def test_settings_name_the_missing_piece_of_an_auth_option() -> None:
    base = {"name": "eps", "kind": "salesforce", "mapping": "eps"}
    with pytest.raises(ValueError, match="auth 'password' needs security_token"):
        SalesforceSettings(**base, username="u@acme.com", password="x")
    with pytest.raises(ValueError, match="auth 'session' needs instance_url"):
        SalesforceSettings(**base, session_id="00D!x")
    with pytest.raises(ValueError, match="My Domain"):
        SalesforceSettings(**base, auth="client_credentials", consumer_key="k",
                           consumer_secret="s")  # fmt: skip
    ok = SalesforceSettings(**base, session_id_env="SF_SESSION", instance_url=INSTANCE)
    assert ok.auth_mode() == "session"
    assert ok.request_type_field == "Type"
