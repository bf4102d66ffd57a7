"""``helpdesk-sync demo --only salesforce``: what the EPS org holds after the demo.

Through the console entry point, as a user runs it: the Salesforce sandbox the demo
builds is kept, and per seeded case the test reads the org afterwards (owner queue or
agent, status, ``IsEscalated``, our internal CaseComments, Tasks and their due times),
the write log (every Case update sent ``Sforce-Auto-Assign: FALSE``, nothing written by
the echo pass) and the call log (query pages fetched through ``nextRecordsUrl`` over the
loopback transport).
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

import cli.demo_salesforce
from daemon import main
from sandboxes.salesforce import DEFAULT_BASE_URL, DEFAULT_SESSION, SalesforceSandbox
from sandboxes.salesforce.demo_seed import DEMO_CASES
from sandboxes.salesforce.loopback import loopback_session
from sync.mapping_loader import load_mapping

_TAGS = re.compile(r"<[^>]+>")
BACKOFFICE_CASES = ("voucher_complete", "pagamento", "ip_in_field")
SUPERVISOR_CASES = ("liberacao_pedido", "critical")
INCOMPLETE_CASES = ("voucher_incomplete", "reenvio_invalid_cpf")


@pytest.fixture
def sandboxes(monkeypatch: pytest.MonkeyPatch) -> list[SalesforceSandbox]:
    """The Salesforce sandboxes the demo builds, kept for the assertions."""
    built: list[SalesforceSandbox] = []

    class Recorded(SalesforceSandbox):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            built.append(self)

    monkeypatch.setattr(cli.demo_salesforce, "SalesforceSandbox", Recorded)
    return built


def _stamp(value: Any) -> datetime:
    """A stored or wire Salesforce datetime as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00").replace("+0000", "+00:00"))


class Org:
    """Reads of the demo's org, by seed key."""

    def __init__(self, box: SalesforceSandbox, document: dict[str, Any]) -> None:
        self.box = box
        rows = document["cases"]
        assert [row["key"] for row in rows] == [c.key for c in DEMO_CASES]
        self.rows = {row["key"]: row for row in rows}

    def id(self, key: str) -> str:
        return str(self.rows[key]["case"])

    def case(self, key: str) -> dict[str, Any]:
        return self.box.record(self.id(key))

    def queue(self, name: str) -> str:
        queue_id = self.box.queue_id(name)
        assert queue_id is not None
        return queue_id

    def agent(self, key: str) -> str:
        (demo,) = [c for c in DEMO_CASES if c.key == key]
        (user,) = [
            u for u in self.box.records("User") if u["Username"] == f"{demo.agent}@eps.example"
        ]
        return str(user["Id"])

    def notes(self, key: str) -> list[str]:
        """Our internal comments on the case, as plain text."""
        return [
            html.unescape(_TAGS.sub(" ", str(c["CommentBody"])))
            for c in self.box.records("CaseComment")
            if c["ParentId"] == self.id(key) and "hs-ref:" in str(c["CommentBody"])
        ]

    def tasks(self, key: str) -> list[dict[str, Any]]:
        return [t for t in self.box.records("Task") if t["WhatId"] == self.id(key)]

    def comment_time(self, key: str) -> datetime:
        """When the agent's own (newest) comment was written."""
        ours = [
            c
            for c in self.box.records("CaseComment")
            if c["ParentId"] == self.id(key) and "hs-ref:" not in str(c["CommentBody"])
        ]
        return max(_stamp(c["CreatedDate"]) for c in ours)


def test_demo_only_salesforce_escalates_each_case_as_the_matrix_says(
    sandboxes: list[SalesforceSandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--only", "salesforce", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    (box,) = sandboxes
    org = Org(box, document)
    assert box.assignment_queue == "GSO"  # an active rule: a missing header shows as GSO

    calendar = load_mapping("eps").calendar
    for key in BACKOFFICE_CASES:
        record = org.case(key)
        assert org.rows[key]["outcome"] == "complete", key
        assert record["OwnerId"] == org.queue("Backoffice EPS"), key
        assert record["Status"] == "Escalado", key
        assert record["IsEscalated"] is False, key
        (note,) = org.notes(key)
        assert "[helpdesk-sync] Caso escalado para Backoffice EPS" in note
        assert "48 horas úteis" in note
        (task,) = org.tasks(key)
        assert str(task["Subject"]).startswith("Prazo BKO: tratar ")
        assert task["OwnerId"] == org.queue("Backoffice EPS")
        if key != "ip_in_field":  # its data is in the field, not in a comment
            due = calendar.add_business_hours(org.comment_time(key), 48)
            assert _stamp(task["ReminderDateTime"]) == due.astimezone(UTC), key
    assert org.rows["voucher_complete"]["request_type"] == "Voucher"
    assert org.rows["pagamento"]["request_type"] == "Liberação de pagamento"
    (pagamento,) = org.notes("pagamento")
    assert "O comprovante anexado corresponde ao pedido (valor e data)." in pagamento
    assert org.rows["ip_in_field"]["request_type"] == "Desbloqueio de IP"
    (ip_note,) = org.notes("ip_in_field")
    assert "Nº do IP Público" in ip_note

    for key in SUPERVISOR_CASES:
        record = org.case(key)
        assert record["OwnerId"] == org.queue("Supervisor EPS"), key
        assert record["Status"] == "Escalado", key
        (note,) = org.notes(key)
        assert "[helpdesk-sync] Caso escalado para Supervisor EPS (segue para GSO)" in note
        assert org.tasks(key) == []
    assert org.case("liberacao_pedido")["IsEscalated"] is False
    assert org.case("critical")["IsEscalated"] is True

    for key in INCOMPLETE_CASES:
        record = org.case(key)
        assert org.rows[key]["outcome"] == "incomplete", key
        assert record["OwnerId"] == org.agent(key), key  # stays with the agent
        assert record["Status"] == "Em andamento", key
        (note,) = org.notes(key)
        assert "O caso NÃO foi escalado e continua com você." in note
        assert org.tasks(key) == []
    (voucher,) = org.notes("voucher_incomplete")
    missing = voucher.split("Faltando:")[1].split("Conferido automaticamente:")[0]
    assert [line.strip("• ").strip() for line in missing.strip().splitlines()] == [
        "Status do pedido GAR",
        "CPF do cliente",
    ]
    (reenvio,) = org.notes("reenvio_invalid_cpf")
    assert "CPF inválido: dígitos verificadores não conferem (informado: 123.***.***-00)" in reenvio
    assert "123.456.789-00" not in reenvio

    outside = org.case("outside_matrix")
    assert org.rows["outside_matrix"]["outcome"] == "unmapped"
    assert org.rows["outside_matrix"]["written"] == []
    assert (outside["OwnerId"], outside["Status"]) == (org.agent("outside_matrix"), "Novo")
    assert org.notes("outside_matrix") == []
    assert org.tasks("outside_matrix") == []

    # Every Case update kept the assignment rule off; nothing ended in GSO.
    case_writes = [w for w in box.writes if w.sobject == "Case"]
    assert len(case_writes) == 7
    assert all(not w.auto_assign for w in case_writes)
    assert org.queue("GSO") not in {c["OwnerId"] for c in box.records("Case")}
    assert document["assignment_rule"] == {
        "queue": "GSO",
        "case_writes": 7,
        "with_auto_assign_false": 7,
    }

    # One Case update, one comment per decision that writes, a Task per Backoffice case,
    # all from the first pass: the echo pass wrote nothing.
    assert (
        sorted(w.sobject for w in box.writes) == ["Case"] * 7 + ["CaseComment"] * 7 + ["Task"] * 3
    )
    assert len(document["writes"]) == len(box.writes)
    assert document["first_pass"]["failed"] == 0
    assert document["echo_pass"]["applied"] == 0
    assert document["echo_pass"]["failed"] == 0

    # The cases came in several query pages, the later ones through nextRecordsUrl.
    assert document["query_pages"] >= 1
    assert any(c.method == "GET" and "/query/01g" in c.path for c in box.calls)


def test_demo_only_salesforce_text_names_what_was_written(
    sandboxes: list[SalesforceSandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--only", "salesforce"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("helpdesk-sync demo: Salesforce sandbox on loopback, mapping 'eps'")
    assert "Freshdesk" not in out
    assert "Movidesk" not in out
    assert "\ndemo: " not in out
    assert "7 of 7 case updates sent Sforce-Auto-Assign: FALSE" in out
    assert "Case owner=Backoffice EPS, status=Escalado" in out
    assert "IsEscalated=true" in out
    assert "Task 'Prazo BKO: tratar Voucher (48 horas úteis)' for Backoffice EPS, due " in out
    assert "org now: owner Backoffice EPS (queue), status Escalado, 1 note(s), 1 task(s)" in out
    assert "second pass (echo of our own writes): 0 effects written" in out
    assert len(sandboxes) == 1


def test_the_loopback_session_reaches_the_served_sandbox_past_proxy_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    sandbox = SalesforceSandbox()
    with sandbox.serve() as server:
        session = loopback_session(server.url)
        answer = session.get(
            f"{DEFAULT_BASE_URL}/services/data/v59.0/limits",
            headers={"Authorization": f"Bearer {DEFAULT_SESSION}"},
            timeout=10,
        )
    assert answer.status_code == 200
    assert "DailyApiRequests" in answer.json()
    (call,) = sandbox.calls
    assert call.path == "/services/data/v59.0/limits"
