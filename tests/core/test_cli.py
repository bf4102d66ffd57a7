"""``explain`` and ``mappings`` as a user runs them: what they print and their exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from daemon import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "eps_voucher.json"
NOW = "2026-11-19T19:10:00Z"
HEAD = '{"id": "1", "created_at": "2026-11-19T19:00:00Z", "updated_at": "2026-11-19T19:00:00Z"'


def test_explain_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["explain", "--mapping", "eps", "--now", NOW, "--format", "json", str(EXAMPLE)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"request_type", "sop", "complete", "missing", "invalid", "actions"} <= set(out)
    assert out["request_type"] == "Voucher"
    assert out["sop"] == ["000_55e322616c6228d0.txt § Voucher"]
    assert out["complete"] is False
    assert [m["label"] for m in out["missing"]] == ["Quem autorizou a exceção"]
    assert [a["kind"] for a in out["actions"]] == ["add_note", "set_status"]
    assert out["actions"][1]["status"] == "Em andamento"
    assert "• Quem autorizou a exceção" in out["actions"][0]["text"]


def test_explain_text_routes_a_complete_ticket(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["comments"].append(
        {
            "id": "00a2",
            "body": "Exceção autorizada por: Carla (supervisora)",
            "internal": True,
            "created_at": "2026-11-19T19:02:00Z",
        }
    )
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code = main(["explain", "--mapping", "eps", "--now", NOW, str(path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "Outcome: complete (complete: yes)" in out
    assert "route: target=Backoffice EPS" in out
    assert "create_task: subject=Prazo BKO: tratar Voucher (48 horas úteis), " in out
    # 48 business hours from the completing comment (Thu 16:02), skipping Fri 20 (holiday).
    assert "due=2026-11-27T14:02:00-03:00" in out


def test_explain_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(EXAMPLE.read_text(encoding="utf-8")))
    assert main(["explain", "--mapping", "eps", "--now", NOW, "--format", "json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["request_type"] == "Voucher"


def test_explain_masks_invalid_cpf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["comments"][0]["body"] = doc["comments"][0]["body"].replace(
        "529.982.247-25", "529.982.247-26"
    )
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["explain", "--mapping", "eps", "--now", NOW, str(path)]) == 0
    out = capsys.readouterr().out
    assert "CPF do cliente: " in out
    assert "529.982.247-26" not in out
    assert "52998224726" not in out


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '{"id": "1",\n "created_at": "2026-11-19T19:00:00Z",\n "updated_at": 5,\n}',
            "t.json:4: invalid JSON",
        ),
        (
            '{"id": "1",\n "created_at": "2026-11-19T19:00:00Z"}',
            "t.json:1: updated_at: required field missing",
        ),
        (
            '{"id": "1",\n "created_at": "2026-11-19T19:00:00",\n'
            ' "updated_at": "2026-11-19T19:00:00Z"}',
            "t.json:2: created_at: Input should have timezone info",
        ),
        (
            HEAD + ',\n "comments": [{"id": "c", "created_at": "2026-11-19T19:00:00Z"}]}',
            "t.json:2: comments[0].body: required field missing",
        ),
        (
            HEAD + ',\n "prioridade": "alta"}',
            "t.json:2: prioridade: unknown field",
        ),
    ],
)
def test_explain_bad_input_exits_2_naming_file_line_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, expected: str
) -> None:
    path = tmp_path / "t.json"
    path.write_text(body, encoding="utf-8")
    assert main(["explain", "--mapping", "eps", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err


def test_explain_unknown_mapping_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--mapping", "nope", str(EXAMPLE)]) == 2
    assert "unknown mapping 'nope'; known: " in capsys.readouterr().err


def test_explain_bad_now_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--mapping", "eps", "--now", "2026-11-19 19:10", str(EXAMPLE)]) == 2
    assert "--now '2026-11-19 19:10'" in capsys.readouterr().err


def test_explain_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--mapping", "eps", "/nonexistent/t.json"]) == 2
    assert "/nonexistent/t.json: cannot read" in capsys.readouterr().err


def test_mappings_check_validates_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mappings", "--check"]) == 0
    out = capsys.readouterr().out
    assert "eps.yaml (20 request types)" in out


def test_mappings_check_bad_dir_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.yaml").write_text("name: x\ntitle: [\n", encoding="utf-8")
    assert main(["mappings", "--check", "--mappings-dir", str(tmp_path)]) == 2
    assert f"{tmp_path / 'x.yaml'}:" in capsys.readouterr().err


def test_mappings_table_lists_types_fields_targets_and_sop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["mappings", "eps"]) == 0
    out = capsys.readouterr().out
    assert "  Desbloqueio de IP\n    required: Nº do IP Público, Motivo da Solicitação\n" in out
    assert "targets:  Backoffice EPS" in out
    assert "sop:      000_55e322616c6228d0.txt § Desbloqueio de IP" in out


def test_mappings_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mappings", "eps", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    voucher = next(r for r in rows if r["type"] == "Voucher")
    assert voucher["targets"] == ["Backoffice EPS"]
    assert "warranty_exception: Quem autorizou a exceção" in voucher["conditional"]


def test_python_daemon_py_runs_the_same_cli() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "daemon.py"),
            "explain",
            "--mapping",
            "eps",
            "--now",
            NOW,
            "--format",
            "json",
            str(EXAMPLE),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outcome"] == "incomplete"


SAC_CADASTRO = {
    "id": "77",
    "source": "freshdesk",
    "request_type": "Cadastro > Status do cadastro com o distribuidor",
    "created_at": "2026-11-24T12:00:00Z",
    "updated_at": "2026-11-24T14:00:00Z",
    "fields": {"cf_distribuidor": "Martins Atacado"},
    "field_labels": {"cf_distribuidor": "Distribuidor"},
    "organization": {"name": "Mercadinho Sol", "document": "11.222.333/0001-81"},
    "requester": {"name": "Joana", "email": "joana@mercadinho.com.br", "phone": "(11) 98765-4321"},
    "comments": [
        {
            "id": "n1",
            "created_at": "2026-11-24T13:00:00Z",
            "body": "<p>Cliente ligou do (11) 98765-4321 cobrando a aprova&ccedil;&atilde;o,"
            " o cadastro ainda n&atilde;o foi aprovado pelo distribuidor.</p>",
        }
    ],
}


def test_explain_masks_pii_in_action_texts_and_names_each_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(SAC_CADASTRO), encoding="utf-8")
    now = "2026-11-24T15:00:00Z"
    assert main(["explain", "--mapping", "sac", "--now", now, str(path)]) == 0
    out = capsys.readouterr().out
    # The child ticket's description carries the data found in the helpdesk fields...
    assert "create_child_ticket" in out
    assert "Distribuidor: Martins Atacado" in out
    # (as the helpdesk holds it, formatted, then masked)
    assert "CNPJ do cliente: 11.***.***/****-81" in out
    # ...and no CPF, CNPJ, e-mail or phone is printed raw anywhere.
    for raw in ("11.222.333/0001-81", "11222333000181", "98765-4321", "joana@mercadinho"):
        assert raw not in out
    assert "Distribuidor = Martins Atacado (helpdesk field: fields.cf_distribuidor)" in out
    assert "(helpdesk field: organization.document)" in out
    assert main(["explain", "--mapping", "sac", "--now", now, "--format", "json", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "11.222.333/0001-81" not in json.dumps(doc, ensure_ascii=False)
    sources = {f["field"]: (f["source"], f["where"]) for f in doc["fields"]}
    assert sources["distribuidor"] == ("field", "fields.cf_distribuidor")
    assert sources["status_cadastro"] == ("prose", "comment n1")
