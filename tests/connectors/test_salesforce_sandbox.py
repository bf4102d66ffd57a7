"""The Salesforce sandbox follows the API contract in shared/reference/salesforce.md.

Driven through the real ``simple_salesforce`` client with its HTTP intercepted by
``responses`` (and once over loopback HTTP with plain ``requests``): SOQL paging with
``nextRecordsUrl``, nested child lists and their own locators, ties on one second, sObject
writes and their validation, sObject Collections (partial failure, ``allOrNone``),
composite references, limits, sessions, record locks, assignment rules, CaseHistory.

Why this module is long: it is the one suite of one fake API; split by feature it would
repeat the same fixtures and helpers in every file, as the other sandboxes' suites keep
them in one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import responses
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sandboxes.salesforce import (
    DATA_PREFIX,
    DEFAULT_BASE_URL,
    DEFAULT_SESSION,
    EpsOrg,
    Faults,
    SalesforceSandbox,
    setup_eps_org,
)

START = datetime(2026, 11, 19, 13, 0, 0, tzinfo=UTC)


class FakeTime:
    """One clock for the sandbox; tests move it by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sandbox(clock: FakeTime) -> SalesforceSandbox:
    return SalesforceSandbox(clock=clock, min_batch_size=2, child_page_size=2)


@pytest.fixture
def org(sandbox: SalesforceSandbox) -> EpsOrg:
    return setup_eps_org(sandbox)


@pytest.fixture
def rsps(sandbox: SalesforceSandbox) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sandbox.install(mock)
        yield mock


@pytest.fixture
def sf(rsps: responses.RequestsMock) -> Salesforce:
    return Salesforce(
        session_id=DEFAULT_SESSION, instance_url=DEFAULT_BASE_URL, session=requests.Session()
    )


def _case(sandbox: SalesforceSandbox, org: EpsOrg, subject: str, **kw: Any) -> str:
    kw.setdefault("owner_id", org.queues["Backoffice EPS"])
    kw.setdefault("status", "Novo")
    return sandbox.add_case(subject, **kw)


# ---------------------------------------------------------------------- queries


def test_query_pages_follow_next_records_url(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce, clock: FakeTime
) -> None:
    ids = []
    for n in range(5):
        ids.append(_case(sandbox, org, f"Caso {n}"))
        clock.advance(1)
    soql = "SELECT Id, Subject FROM Case ORDER BY SystemModstamp, Id"
    options = {"Sforce-Query-Options": "batchSize=2"}

    first = sf.query(soql, headers=options)
    assert first["totalSize"] == 5
    assert first["done"] is False
    assert [r["Id"] for r in first["records"]] == ids[:2]
    assert first["nextRecordsUrl"].startswith(f"{DATA_PREFIX}/query/01g")
    assert first["records"][0]["attributes"] == {
        "type": "Case",
        "url": f"{DATA_PREFIX}/sobjects/Case/{ids[0]}",
    }
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True, headers=options)
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True, headers=options)
    assert [r["Id"] for r in second["records"]] == ids[2:4]
    assert [r["Subject"] for r in third["records"]] == ["Caso 4"]
    assert third["done"] is True
    assert "nextRecordsUrl" not in third
    every = sf.query_all(soql, headers=options)
    assert [r["Id"] for r in every["records"]] == ids


def test_expired_locator_is_invalid_query_locator(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    for n in range(3):
        _case(sandbox, org, f"Caso {n}")
    page = sf.query("SELECT Id FROM Case", headers={"Sforce-Query-Options": "batchSize=2"})
    sandbox.expire_cursors()
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_ties_on_one_second_need_greater_or_equal(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce, clock: FakeTime
) -> None:
    clock.now = START.replace(microsecond=750_000)
    first = _case(sandbox, org, "A")
    second = _case(sandbox, org, "B")
    stamp = sf.query(f"SELECT SystemModstamp FROM Case WHERE Id = '{first}'")["records"][0]
    assert stamp["SystemModstamp"] == "2026-11-19T13:00:00.000+0000"

    strictly_after = sf.query("SELECT Id FROM Case WHERE SystemModstamp > 2026-11-19T13:00:00Z")
    from_second = sf.query(
        "SELECT Id FROM Case WHERE SystemModstamp >= 2026-11-19T13:00:00.000Z ORDER BY Id"
    )
    with_offset = sf.query("SELECT Id FROM Case WHERE SystemModstamp = 2026-11-19T10:00:00-03:00")
    assert strictly_after["totalSize"] == 0
    assert [r["Id"] for r in from_second["records"]] == [first, second]
    assert with_offset["totalSize"] == 2


def test_child_subquery_and_relationship_fields(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce, clock: FakeTime
) -> None:
    agent = org.users["ana.souza"]
    noted = _case(
        sandbox,
        org,
        "Com notas",
        owner_id=org.queues["GSO"],
        comments=[
            ("nota 1", False, agent, START + timedelta(seconds=3)),
            ("resposta ao cliente", True, agent, START + timedelta(seconds=1)),
            ("nota 2", False, agent, START + timedelta(seconds=2)),
            ("nota 3", False, None, START + timedelta(seconds=4)),
        ],
        files=["print.png"],
    )
    bare = _case(sandbox, org, "Sem notas", owner_id=agent)
    result = sf.query(
        "SELECT Id, Subject, Owner.Name, Owner.Type, "
        "(SELECT Id, CommentBody, IsPublished, CreatedDate, CreatedBy.Name FROM CaseComments "
        "WHERE IsPublished = false ORDER BY CreatedDate), "
        "(SELECT ContentDocument.Title, ContentDocument.FileExtension FROM ContentDocumentLinks) "
        "FROM Case ORDER BY Subject"
    )
    rows = {r["Id"]: r for r in result["records"]}
    noted_row, bare_row = rows[noted], rows[bare]
    assert noted_row["Owner"]["Name"] == "GSO"
    assert noted_row["Owner"]["Type"] == "Queue"
    assert noted_row["Owner"]["attributes"]["type"] == "Name"
    assert bare_row["Owner"]["Type"] == "User"
    assert bare_row["CaseComments"] is None
    assert bare_row["ContentDocumentLinks"] is None

    comments = noted_row["CaseComments"]
    assert comments["totalSize"] == 3
    assert comments["done"] is False
    assert [c["CommentBody"] for c in comments["records"]] == ["nota 2", "nota 1"]
    assert comments["records"][0]["CreatedBy"]["Name"] == "Ana Souza"
    assert comments["records"][0]["CreatedDate"] == "2026-11-19T13:00:02.000+0000"
    rest = sf.query_more(comments["nextRecordsUrl"], identifier_is_url=True)
    assert [c["CommentBody"] for c in rest["records"]] == ["nota 3"]
    assert rest["done"] is True
    assert rest["records"][0]["CreatedBy"]["Name"] == "Integração API"
    files = noted_row["ContentDocumentLinks"]["records"]
    assert files[0]["ContentDocument"]["Title"] == "print"
    assert files[0]["ContentDocument"]["FileExtension"] == "png"


def test_where_clause_logic_in_like_and_nulls(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    sandbox.add_case("Voucher", owner_id=org.queues["GSO"], status="Escalado", type="EPS")
    sandbox.add_case("Nota fiscal", owner_id=org.queues["GSO"], status="Novo")
    sandbox.add_case(
        "Revogação",
        owner_id=org.users["bruno.lima"],
        status="Fechado",
        fields={"Tipo_de_Solicitacao__c": "Revogação de certificado"},
    )

    def subjects(where: str) -> list[str]:
        found = sf.query(f"SELECT Subject FROM Case WHERE {where} ORDER BY Subject")
        return [r["Subject"] for r in found["records"]]

    assert subjects("Status IN ('Novo', 'Escalado') AND NOT Subject LIKE 'nota%'") == ["Voucher"]
    assert subjects("Status NOT IN ('Novo', 'Escalado')") == ["Revogação"]
    assert subjects("(Type = null OR Type != 'EPS') AND IsClosed = false") == ["Nota fiscal"]
    assert subjects("Tipo_de_Solicitacao__c LIKE 'Revoga\\_%'") == []
    assert subjects("Tipo_de_Solicitacao__c LIKE 'revogação%'") == ["Revogação"]
    assert subjects("Owner.Name = 'GSO'") == ["Nota fiscal", "Voucher"]
    ordered = sf.query("SELECT Subject FROM Case ORDER BY Type DESC NULLS FIRST, Subject")
    assert [r["Subject"] for r in ordered["records"]] == ["Nota fiscal", "Revogação", "Voucher"]


@pytest.mark.parametrize(
    ("soql", "code", "text"),
    [
        ("SELECT Id, Foo FROM Case", "INVALID_FIELD", "No such column 'Foo' on entity 'Case'"),
        ("SELECT Id FROM Case WHERE Foo__c = 'x'", "INVALID_FIELD", "No such column 'Foo__c'"),
        (
            "SELECT Id FROM Case WHERE SystemModstamp > '2026-11-19T13:00:00Z'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "must be of type dateTime and should not be enclosed in quotes",
        ),
        ("SELECT Id FROM Case WHERE SystemModstamp > 2026-11-19T13:00:00", "MALFORMED_QUERY", ""),
        ("SELECT Id FROM Case WHERE A = 1 AND", "MALFORMED_QUERY", "unexpected token"),
        (
            "SELECT Id FROM Case WHERE IsClosed = false AND Status = 'Novo' OR Type = 'X'",
            "MALFORMED_QUERY",
            "unexpected token: 'OR'",
        ),
        ("SELECT Id FROM Widget", "INVALID_TYPE", "sObject type 'Widget' is not supported"),
        ("SELECT Id, (SELECT Id FROM Emails) FROM Case", "INVALID_TYPE", "relationship 'Emails'"),
        ("SELECT Id FROM ContentDocumentLink", "MALFORMED_QUERY", "Implementation restriction"),
    ],
)
def test_query_errors_are_salesforce_errors(
    org: EpsOrg, sf: Salesforce, soql: str, code: str, text: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    assert caught.value.status == 400
    assert caught.value.content[0]["errorCode"] == code
    assert text in caught.value.content[0]["message"]


def test_query_all_sees_deleted_rows(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    kept = _case(sandbox, org, "fica")
    gone = _case(sandbox, org, "sai")
    assert sf.Case.delete(gone) == 204
    live = sf.query("SELECT Id FROM Case")
    every = sf.query("SELECT Id, IsDeleted FROM Case ORDER BY Id", include_deleted=True)
    assert [r["Id"] for r in live["records"]] == [kept]
    assert [(r["Id"], r["IsDeleted"]) for r in every["records"]] == [(kept, False), (gone, True)]


# ---------------------------------------------------------------------- sObject writes


def test_sobject_create_get_update_delete(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce, clock: FakeTime
) -> None:
    created = sf.Case.create(
        {"Subject": "Pedido travado", "Status": "Novo", "Tipo_de_Solicitacao__c": "Voucher"}
    )
    assert created["success"] is True
    case_id = created["id"]
    assert len(case_id) == 18
    assert case_id.startswith("500")
    stored = sandbox.record(case_id)
    assert stored["OwnerId"] == sandbox.integration_user
    assert stored["CreatedDate"] == START

    clock.advance(90)
    assert sf.Case.update(case_id[:15], {"Status": "Fechado", "Priority": "High"}) == 204
    got = sf.Case.get(case_id)
    assert got["Status"] == "Fechado"
    assert got["IsClosed"] is True
    assert got["SystemModstamp"] == "2026-11-19T13:01:30.000+0000"
    assert got["CreatedDate"] == "2026-11-19T13:00:00.000+0000"
    assert got["ClosedDate"] == "2026-11-19T13:01:30.000+0000"

    assert sf.Case.delete(case_id) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Case.get(case_id)
    assert [(w.method, w.sobject, w.record_id) for w in sandbox.writes] == [
        ("POST", "Case", case_id),
        ("PATCH", "Case", case_id),
        ("DELETE", "Case", case_id),
    ]


@pytest.mark.parametrize(
    ("sobject", "fields", "code"),
    [
        ("Case", {"Subject": "x", "Foo__c": "y"}, "INVALID_FIELD"),
        (
            "Case",
            {"Subject": "x", "Status": "Resolvido"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
        ("Case", {"Subject": "x", "IsClosed": True}, "INVALID_FIELD_FOR_INSERT_UPDATE"),
        ("Case", {"Subject": "x", "OwnerId": "not-an-id"}, "MALFORMED_ID"),
        ("CaseComment", {"CommentBody": "sem caso"}, "REQUIRED_FIELD_MISSING"),
        ("Task", {"Subject": "x", "ActivityDate": "2026-11-20T10:00:00Z"}, "JSON_PARSER_ERROR"),
        (
            "Task",
            {"Subject": "x", "Priority": "Urgente"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
    ],
)
def test_create_validation(
    sandbox: SalesforceSandbox,
    org: EpsOrg,
    sf: Salesforce,
    sobject: str,
    fields: dict[str, Any],
    code: str,
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        getattr(sf, sobject).create(fields)
    assert caught.value.content[0]["errorCode"] == code
    assert sandbox.records(sobject) == []
    assert sandbox.writes == []


def test_comment_body_limit_is_in_bytes(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    case_id = _case(sandbox, org, "Comentário longo")
    accented = "ç" * 2001  # 4,002 bytes in UTF-8, 2,001 characters
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.CaseComment.create({"ParentId": case_id, "CommentBody": accented})
    assert caught.value.content[0]["errorCode"] == "STRING_TOO_LONG"
    assert caught.value.content[0]["fields"] == ["CommentBody"]
    fits = sf.CaseComment.create({"ParentId": case_id, "CommentBody": "ç" * 2000})
    assert sandbox.record(fits["id"])["IsPublished"] is False


def test_owner_must_be_active_user_or_queue_for_the_object(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    case_id = _case(sandbox, org, "Dono")
    tasks_only = sandbox.add_queue("Somente tarefas", sobject_types=("Task",))
    retired = sandbox.add_user("Ex Agente", is_active=False)
    with pytest.raises(SalesforceMalformedRequest) as wrong_queue:
        sf.Case.update(case_id, {"OwnerId": tasks_only})
    with pytest.raises(SalesforceMalformedRequest) as inactive:
        sf.Case.update(case_id, {"OwnerId": retired})
    assert wrong_queue.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert inactive.value.content[0]["errorCode"] == "INACTIVE_OWNER_OR_USER"
    assert sf.Case.update(case_id, {"OwnerId": org.queues["Supervisor EPS"]}) == 204
    assert sandbox.record(case_id)["OwnerId"] == org.queues["Supervisor EPS"]
    task = sf.Task.create(
        {"WhatId": case_id, "Subject": "Prazo", "OwnerId": tasks_only, "ActivityDate": "2026-11-23"}
    )
    assert sandbox.record(task["id"])["ActivityDate"].isoformat() == "2026-11-23"


def test_comment_bumps_case_only_when_configured(clock: FakeTime) -> None:
    for bumps in (False, True):
        sandbox = SalesforceSandbox(clock=clock, comment_bumps_case=bumps)
        org = setup_eps_org(sandbox)
        case_id = _case(sandbox, org, "stamp")
        before = sandbox.record(case_id)["SystemModstamp"]
        clock.advance(5)
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            sandbox.install(mock)
            sf = Salesforce(
                session_id=DEFAULT_SESSION,
                instance_url=DEFAULT_BASE_URL,
                session=requests.Session(),
            )
            sf.CaseComment.create({"ParentId": case_id, "CommentBody": "nota"})
        after = sandbox.record(case_id)["SystemModstamp"]
        assert (after > before) is bumps


# ---------------------------------------------------------------------- collections, composite


def test_collection_update_applies_good_rows_when_one_fails(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    a, b, c = (_case(sandbox, org, s) for s in "abc")
    rows = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Case"}, "id": a, "Status": "Escalado"},
                {"attributes": {"type": "Case"}, "id": b, "Status": "Resolvido"},
                {"attributes": {"type": "Case"}, "id": c, "Status": "Em andamento"},
            ],
        },
    )
    assert rows[0] == {"id": a, "success": True, "errors": []}
    assert rows[1]["success"] is False
    assert "id" not in rows[1]
    assert rows[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert rows[1]["errors"][0]["fields"] == ["Status"]
    assert [sandbox.record(i)["Status"] for i in (a, b, c)] == ["Escalado", "Novo", "Em andamento"]
    assert len(sandbox.calls) == 1


def test_collection_all_or_none_rolls_back(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    a = _case(sandbox, org, "a")
    rows = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "CaseComment"}, "ParentId": a, "CommentBody": "ok"},
                {"attributes": {"type": "CaseComment"}, "ParentId": a, "Nope__c": "x"},
            ],
        },
    )
    assert rows[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert rows[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert all(row["success"] is False for row in rows)
    assert sandbox.records("CaseComment") == []
    assert sandbox.writes == []


def test_collection_limits_and_delete(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    a, b = _case(sandbox, org, "a"), _case(sandbox, org, "b")
    too_many = [{"attributes": {"type": "Case"}, "Subject": str(n)} for n in range(201)]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects", method="POST", json={"records": too_many})
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    rows = sf.restful("composite/sobjects", method="DELETE", params={"ids": f"{a},{b}"})
    assert [row["id"] for row in rows] == [a, b]
    assert sandbox.records("Case") == []


def test_composite_with_reference(sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce) -> None:
    answer = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": False,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": f"{DATA_PREFIX}/sobjects/Case",
                    "referenceId": "novoCaso",
                    "body": {"Subject": "Via composite", "Status": "Novo"},
                },
                {
                    "method": "POST",
                    "url": f"{DATA_PREFIX}/sobjects/CaseComment",
                    "referenceId": "nota",
                    "body": {"ParentId": "@{novoCaso.id}", "CommentBody": "nota interna"},
                },
                {
                    "method": "GET",
                    "url": f"{DATA_PREFIX}/sobjects/Case/@{{novoCaso.id}}?fields=Subject",
                    "referenceId": "leitura",
                },
            ],
        },
    )
    first, second, third = answer["compositeResponse"]
    case_id = first["body"]["id"]
    assert first["httpStatusCode"] == 201
    assert first["httpHeaders"]["Location"] == f"{DATA_PREFIX}/sobjects/Case/{case_id}"
    assert second["httpStatusCode"] == 201
    assert sandbox.record(second["body"]["id"])["ParentId"] == case_id
    assert third["body"]["Subject"] == "Via composite"
    assert sandbox.api_used == 1


def test_composite_all_or_none_halts_the_others(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    answer = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": f"{DATA_PREFIX}/sobjects/Case",
                    "referenceId": "ok",
                    "body": {"Subject": "fica?"},
                },
                {
                    "method": "POST",
                    "url": f"{DATA_PREFIX}/sobjects/Case",
                    "referenceId": "bad",
                    "body": {"Subject": "x", "Status": "Inexistente"},
                },
                {"method": "GET", "url": f"{DATA_PREFIX}/limits", "referenceId": "after"},
            ],
        },
    )
    by_ref = {r["referenceId"]: r for r in answer["compositeResponse"]}
    assert by_ref["ok"]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert by_ref["bad"]["body"][0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert by_ref["after"]["httpStatusCode"] == 400
    assert sandbox.records("Case") == []


# ---------------------------------------------------------------------- limits, sessions, faults


def test_limits_and_limit_info_header(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    sandbox.reset_daily_usage(100)
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 14899}
    assert sf.api_usage["api-usage"].used == 101
    assert sf.api_usage["api-usage"].total == 15000
    sf.query("SELECT Id FROM Case")
    assert sf.api_usage["api-usage"].used == 102


def test_daily_limit_exhausted_is_refused(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    sandbox.daily_limit = 2
    sf.query("SELECT Id FROM Case")
    sf.query("SELECT Id FROM Case")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Case")
    assert caught.value.status == 403
    assert caught.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert [c.status for c in sandbox.calls] == [200, 200, 403]


def test_expired_session_raises_expired_session(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    sf.query("SELECT Id FROM Case")
    sandbox.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM Case")
    assert caught.value.content[0]["errorCode"] == "INVALID_SESSION_ID"
    fresh = Salesforce(
        session_id=sandbox.new_session(), instance_url=DEFAULT_BASE_URL, session=requests.Session()
    )
    assert fresh.query("SELECT Id FROM Case")["totalSize"] == 0


def test_server_errors_then_recovery(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    sandbox.inject(Faults(server_errors=1, path=r"/query"))
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM Case")
    assert caught.value.status == 503
    assert "Service Unavailable" in caught.value.content
    assert sf.query("SELECT Id FROM Case")["done"] is True
    sandbox.inject(Faults(dropped=1))
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.limits()


def test_unable_to_lock_row(sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce) -> None:
    a, b = _case(sandbox, org, "a"), _case(sandbox, org, "b")
    sandbox.lock_record(a, times=2)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Case.update(a, {"Status": "Escalado"})
    assert caught.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    rows = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {"attributes": {"type": "CaseComment"}, "ParentId": a, "CommentBody": "x"},
                {"attributes": {"type": "CaseComment"}, "ParentId": b, "CommentBody": "y"},
            ]
        },
    )
    assert rows[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert rows[1]["success"] is True
    assert sf.Case.update(a, {"Status": "Escalado"}) == 204
    assert sandbox.record(a)["Status"] == "Escalado"


# ---------------------------------------------------------------------- assignment, history


def test_assignment_rule_runs_unless_auto_assign_false(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce
) -> None:
    sandbox.assignment_queue = "GSO"
    agent = org.users["carla.mendes"]
    created = sf.Case.create({"Subject": "regra", "OwnerId": agent})
    case_id = created["id"]
    assert sandbox.record(case_id)["OwnerId"] == org.queues["GSO"]

    no_rule = {"Sforce-Auto-Assign": "false"}
    sf.Case.update(case_id, {"OwnerId": agent}, headers=no_rule)
    assert sandbox.record(case_id)["OwnerId"] == agent
    sf.Case.update(case_id, {"Status": "Em andamento"})
    assert sandbox.record(case_id)["OwnerId"] == org.queues["GSO"]

    rows = sf.restful(
        "composite/sobjects",
        method="PATCH",
        headers={"Sforce-Auto-Assign": "FALSE"},
        json={"records": [{"attributes": {"type": "Case"}, "id": case_id, "OwnerId": agent}]},
    )
    assert rows[0]["success"] is True
    assert sandbox.record(case_id)["OwnerId"] == agent
    assert [w.auto_assign for w in sandbox.writes] == [True, False, True, False]
    assert sandbox.calls[1].headers["sforce-auto-assign"] == "false"


def test_owner_changes_write_case_history(
    sandbox: SalesforceSandbox, org: EpsOrg, sf: Salesforce, clock: FakeTime
) -> None:
    case_id = _case(sandbox, org, "histórico")
    clock.advance(60)
    sf.Case.update(case_id, {"OwnerId": org.queues["Supervisor EPS"]})
    sf.Case.update(case_id, {"Status": "Escalado"})
    clock.advance(60)
    sf.Case.update(case_id, {"OwnerId": org.queues["GSO"]})
    history = sf.query(
        "SELECT Field, OldValue, NewValue, CreatedDate, CreatedBy.Name FROM CaseHistory "
        f"WHERE CaseId = '{case_id}' ORDER BY CreatedDate"
    )
    assert [(h["OldValue"], h["NewValue"]) for h in history["records"]] == [
        (org.queues["Backoffice EPS"], org.queues["Supervisor EPS"]),
        (org.queues["Supervisor EPS"], org.queues["GSO"]),
    ]
    assert history["records"][0]["Field"] == "Owner"
    assert history["records"][1]["CreatedDate"] == "2026-11-19T13:02:00.000+0000"
    nested = sf.query(
        f"SELECT Id, (SELECT NewValue FROM Histories) FROM Case WHERE Id = '{case_id}'"
    )
    assert nested["records"][0]["Histories"]["totalSize"] == 2


# ---------------------------------------------------------------------- wire


def test_serve_answers_over_loopback(sandbox: SalesforceSandbox, org: EpsOrg) -> None:
    case_id = _case(sandbox, org, "loopback")
    with sandbox.serve() as server:
        headers = {"Authorization": f"Bearer {DEFAULT_SESSION}"}
        answer = requests.get(
            f"{server.url}{DATA_PREFIX}/query/",
            params={"q": "SELECT Id, Subject FROM Case"},
            headers=headers,
            timeout=5,
        )
        patched = requests.patch(
            f"{server.url}{DATA_PREFIX}/sobjects/Case/{case_id}",
            json={"Subject": "via HTTP"},
            headers=headers,
            timeout=5,
        )
        refused = requests.get(f"{server.url}{DATA_PREFIX}/limits/", timeout=5)
    assert answer.status_code == 200
    assert answer.json()["records"][0]["Id"] == case_id
    assert answer.headers["Sforce-Limit-Info"] == "api-usage=1/15000"
    assert patched.status_code == 204
    assert sandbox.record(case_id)["Subject"] == "via HTTP"
    assert refused.status_code == 401


def test_oauth_password_grant_issues_a_session(
    sandbox: SalesforceSandbox, org: EpsOrg, rsps: responses.RequestsMock
) -> None:
    sandbox.set_password("ana.souza@eps.example", "segredo")
    url = f"{DEFAULT_BASE_URL}/services/oauth2/token"
    form = {
        "grant_type": "password",
        "client_id": "k",
        "client_secret": "s",
        "username": "ana.souza@eps.example",
    }
    refused = requests.post(url, data={**form, "password": "errada"}, timeout=5)
    granted = requests.post(url, data={**form, "password": "segredo"}, timeout=5)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    token = granted.json()
    assert token["token_type"] == "Bearer"
    assert token["instance_url"] == DEFAULT_BASE_URL
    sf = Salesforce(
        session_id=token["access_token"],
        instance_url=token["instance_url"],
        session=requests.Session(),
    )
    created = sf.Case.create({"Subject": "como Ana"})
    assert sandbox.record(created["id"])["CreatedById"] == org.users["ana.souza"]
