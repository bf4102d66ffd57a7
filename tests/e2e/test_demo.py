"""``helpdesk-sync demo`` with every sandbox: what it writes to Movidesk, and the summary.

What it writes to Salesforce is ``test_demo_salesforce``'s.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import cli.demo_movidesk
from daemon import main
from sandboxes.movidesk import MovideskSandbox
from sandboxes.movidesk.demo_seed import DEMO_TICKETS
from sandboxes.salesforce.demo_seed import DEMO_CASES


@pytest.fixture
def sandboxes(monkeypatch: pytest.MonkeyPatch) -> list[MovideskSandbox]:
    """The Movidesk sandboxes the demo builds, kept for the assertions."""
    built: list[MovideskSandbox] = []

    class Recorded(MovideskSandbox):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            built.append(self)

    monkeypatch.setattr(cli.demo_movidesk, "MovideskSandbox", Recorded)
    return built


def _by_key(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = document["tickets"]
    assert [row["subject"] for row in rows] == [t.subject for t in DEMO_TICKETS]
    return {demo.key: row for demo, row in zip(DEMO_TICKETS, rows, strict=True)}


def test_demo_only_movidesk_writes_one_patch_per_decision(
    sandboxes: list[MovideskSandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--only", "movidesk", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    (box,) = sandboxes
    rows = _by_key(document)
    assert box.day_limit is None
    assert box.throttled == 0
    assert box.lockouts == 0
    assert "day limit" in document["limits"]

    patches: dict[int, list[dict[str, Any]]] = {}
    for write in box.writes:
        if write.method == "PATCH":
            assert write.ticket_id is not None
            patches.setdefault(write.ticket_id, []).append(write.body)
    posts = [w for w in box.writes if w.method == "POST"]

    # One PATCH per decision that writes; the complete checklist gets none.
    assert rows["falha_complete"]["outcome"] == "emissor: complete"
    assert rows["falha_complete"]["ticket"] not in patches
    assert rows["falha_complete"]["written"] == []
    for key in ("checklist_incomplete", "basic_info_missing", "checklist_missing"):
        (body,) = patches[rows[key]["ticket"]]
        assert rows[key]["outcome"] == "emissor: incomplete"
        assert set(body) == {"actions"}, key  # the note only: status, owner and team kept
        assert body["actions"][0]["type"] == 1
        assert "[helpdesk-sync] Análise do ticket pendente" in body["actions"][0]["description"]
    (basic,) = patches[rows["basic_info_missing"]["ticket"]]
    assert "Nome da empresa" in basic["actions"][0]["description"]

    # Ouvidoria by phone: the new ticket for the ombudsman owner, then one PATCH resolving.
    ouvidoria = rows["ouvidoria"]["ticket"]
    (created,) = posts
    assert created.body["subject"] == f"OUVIDORIA - {ouvidoria}"
    assert created.body["ownerTeam"] == "Ouvidoria"
    assert created.body["status"] == "Aberto"
    assert box.persons[created.body["owner"]["id"]]["businessName"] == "Richard"
    assert rows["ouvidoria"]["new_tickets"] == [created.ticket_id]
    (resolve,) = patches[ouvidoria]
    assert (resolve["status"], resolve["justification"]) == ("Resolvido", "Solucionado")
    assert [a["type"] for a in resolve["actions"]] == [1]

    # By chat: an orientation note only.
    (chat,) = patches[rows["ouvidoria_chat"]["ticket"]]
    assert set(chat) == {"actions"}
    assert rows["ouvidoria_chat"]["new_tickets"] == []

    # Every write came from the first pass: the echo pass wrote nothing.
    assert len(box.writes) == 6 == len(document["writes"])
    assert sum(len(p) for p in patches.values()) == 5
    assert document["echo_pass"]["applied"] == 0
    assert document["echo_pass"]["failed"] == 0
    assert document["first_pass"]["applied"] == 7  # 4 notes; new ticket + note + resolve
    for mapping in ("emissor", "ouvidoria"):
        assert document["by_mapping"][mapping]["echo_pass"]["applied"] == 0


def test_demo_runs_every_sandbox_by_default(
    sandboxes: list[MovideskSandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"freshdesk", "movidesk", "salesforce", "ok"}
    assert document["ok"] is True
    assert len(document["freshdesk"]["tickets"]) == 9
    assert document["freshdesk"]["echo_pass"]["applied"] == 0
    assert len(document["movidesk"]["tickets"]) == len(DEMO_TICKETS)
    assert document["movidesk"]["echo_pass"]["applied"] == 0
    assert len(document["salesforce"]["cases"]) == len(DEMO_CASES)
    assert document["salesforce"]["echo_pass"]["applied"] == 0
    assert len(sandboxes) == 1
    assert len(sandboxes[0].writes) == 6


def test_demo_text_keeps_the_freshdesk_part_and_adds_movidesk_and_salesforce(
    sandboxes: list[MovideskSandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    def without_timers(text: str) -> list[str]:
        # Timer due times follow the clock's minute: compared apart from the rest.
        return [line for line in text.splitlines() if not line.startswith("SLA timer")]

    assert main(["demo", "--only", "freshdesk"]) == 0
    alone = capsys.readouterr().out
    assert "Movidesk" not in alone
    assert not sandboxes
    assert main(["demo"]) == 0
    both = capsys.readouterr().out
    freshdesk_part, rest = both.split("\n\nhelpdesk-sync demo: Movidesk", 1)
    movidesk_part, salesforce_part = rest.split("\n\nhelpdesk-sync demo: Salesforce", 1)
    assert without_timers(freshdesk_part + "\n") == without_timers(alone)
    assert "mappings 'emissor' (seed 002) and 'ouvidoria' (seed 004)" in movidesk_part
    assert "day limit" in movidesk_part
    assert "'OUVIDORIA - " in movidesk_part
    assert "second pass (echo of our own writes): 0 effects written" in movidesk_part
    assert " sandbox on loopback, mapping 'eps' (seeds 000 and 001)" in salesforce_part
    assert "Sforce-Auto-Assign: FALSE" in salesforce_part
    assert "second pass (echo of our own writes): 0 effects written" in salesforce_part
    assert "demo: freshdesk ok (9 tickets" in both
    assert "movidesk ok (6 tickets" in both
    assert f"salesforce ok ({len(DEMO_CASES)} cases" in both
    (summary,) = [line for line in both.splitlines() if line.startswith("demo: ")]
    assert [part.split(" (")[0] for part in summary.split("; ")[:3]] == [
        "demo: freshdesk ok",
        "movidesk ok",
        "salesforce ok",
    ]
    assert both.rstrip().endswith("exit 0")

    assert main(["demo", "--only", "movidesk"]) == 0
    only = capsys.readouterr().out
    assert only.startswith("helpdesk-sync demo: Movidesk sandbox on loopback")
    assert "Freshdesk" not in only
    assert "Salesforce" not in only
    assert "\ndemo: " not in only
