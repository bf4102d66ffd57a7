"""``check`` compares the names the mappings and configuration use with the helpdesk
account: run as ops run it, against a Freshdesk sandbox account set up the usual way."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon import main
from sandboxes.freshdesk import DEFAULT_API_KEY, FreshdeskSandbox, RunningServer
from sandboxes.freshdesk.seeds import setup_sac_account

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[RunningServer]:
    box = FreshdeskSandbox()
    setup_sac_account(box)
    with box.serve() as running:
        yield running


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_FD_KEY", DEFAULT_API_KEY)
    monkeypatch.delenv("HELPDESK_SYNC_CONFIG", raising=False)


def config_file(tmp_path: Path, url: str, mappings: Path, **extra: object) -> Path:
    """A YAML config as ops write it (one key a line, so problems can name the line)."""
    lines = [
        f"state_url: sqlite:///{tmp_path / 'state.sqlite'}",
        f"mappings_dir: {mappings}",
        "connectors:",
        "  - name: sac",
        "    kind: freshdesk",
        f"    base_url: {url}",
        "    mapping: sac",
        "    api_key_env: TEST_FD_KEY",
        "    request_type_field: cf_categoria",
        "    subcategory_field: cf_subcategoria",
    ]
    for key, value in extra.items():
        if isinstance(value, dict):
            lines.append(f"    {key}:")
            lines += [f"      {k}: {v}" for k, v in value.items()]
        else:
            lines.append(f"    {key}: {value}")
    path = tmp_path / "helpdesk-sync.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def shipped_mappings(tmp_path: Path) -> Path:
    mine = tmp_path / "mappings"
    mine.mkdir()
    shutil.copy(ROOT / "mappings" / "sac.yaml", mine / "sac.yaml")
    return mine


def edit(path: Path, line: int, old: str, new: str) -> None:
    """Replace ``old`` on one line of a file (1-based), as an operator's typo would."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new)
    path.write_text("".join(lines), encoding="utf-8")


def test_the_shipped_mapping_and_a_usual_config_match_the_account(
    tmp_path: Path, server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_file(
        tmp_path,
        server.url,
        shipped_mappings(tmp_path),
        task_due_field="cf_prazo_tarefa",
        fields={"cnpj": "cf_cnpj"},
    )
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "account names: ok (" in out
    assert "missing" not in out


def test_check_names_each_missing_group_status_field_and_type_with_its_line(
    tmp_path: Path, server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    mappings = shipped_mappings(tmp_path)
    sac = mappings / "sac.yaml"
    edit(sac, 677, "{group: Financeiro}", "{group: Financeiro SAC}")  # no such group
    edit(sac, 496, "{status: Open}", "{status: Aberto pelo cliente}")  # no such status
    edit(sac, 803, "Reembolso", "Reembolsos")  # no such category (its aliases neither)
    config = config_file(
        tmp_path,
        server.url,
        mappings,
        task_due_field="cf_prazo_followup",  # the account's field is cf_prazo_tarefa
        fields={"cnpj": "cf_cnpj_cliente"},  # the account's field is cf_cnpj
    )

    assert main(["check", "--config", str(config)]) == 2
    out = capsys.readouterr().out
    assert "ACCOUNT NAMES MISSING" in out
    problems = [line.strip() for line in out.splitlines() if "does not exist" in line]
    assert problems == [
        f"{config}:13: connectors[0].fields.cnpj: field 'cf_cnpj_cliente' does not exist in "
        "the freshdesk account (closest: 'cf_cnpj')",
        f"{config}:11: connectors[0].task_due_field: field 'cf_prazo_followup' does not exist "
        "in the freshdesk account (closest: 'cf_prazo_tarefa')",
        f"{sac}:803: types[8].name: request type 'Reembolsos' does not exist in the freshdesk "
        "account (closest: 'Reembolso')",
        f"{sac}:496: defaults.on_incomplete[1].set_status.status: status 'Aberto pelo cliente' "
        "does not exist in the freshdesk account",
        f"{sac}:677: types[3].rules[5].actions[0].route.group: group/queue/team "
        "'Financeiro SAC' does not exist in the freshdesk account (closest: 'Financeiro')",
    ]

    assert main(["check", "--format", "json", "--config", str(config)]) == 2
    report = json.loads(capsys.readouterr().out)
    [connector] = report["connectors"]
    assert connector["status"] == "ACCOUNT NAMES MISSING"
    assert [p.strip() for p in connector["account"]["problems"]] == problems
    assert report["exit"] == 2


def test_a_free_text_type_field_is_reported_as_not_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box = FreshdeskSandbox()
    box.add_custom_field("cf_categoria", "Categoria")  # a text field: any value goes
    box.add_custom_field("cf_subcategoria", "Subcategoria")
    for name in ("SAC", "Financeiro", "NRP", "Trademaster", "Distribuidores", "KA", "Cashback"):
        box.add_group(name)
    with box.serve() as running:
        config = config_file(tmp_path, running.url, shipped_mappings(tmp_path))
        code = main(["check", "--config", str(config)])
    out = capsys.readouterr().out
    assert "35 request type name(s) not checked: the request type field 'cf_categoria' has " in out
    # what the account lacks is still named: the SOP's agent Denis is not an agent here
    assert "create_task.owner: agent/owner 'Denis' does not exist" in out
    assert code == 2
