"""``check`` compares the names the Movidesk mappings and configuration use with the account.

Against ``MovideskSandbox`` through ``responses`` (no sockets): the demo's account
(``sandboxes.movidesk.demo_seed``) with the demo's configuration matches the shipped
Emissor and Ouvidoria mappings; a renamed team or field is one located problem; the
configuration's own names are located in the config file; what Movidesk's API cannot list
(statuses, categories, custom field ids) is reported as not checked, never guessed.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from cli.demo_movidesk import connector as demo_connector
from connectors.movidesk import MovideskConnector
from connectors.movidesk.account import (
    BUILT_IN_FIELDS,
    NO_CATEGORIES,
    NO_STATUSES,
    service_levels,
)
from connectors.movidesk.settings import MovideskSettings
from daemon import main
from sandboxes.movidesk import DEFAULT_TOKEN, MovideskSandbox, setup_emissor_account
from sandboxes.movidesk.demo_seed import DEMO_STATUS_JUSTIFICATIONS, seed_demo
from sync.account import config_names, mapping_names, missing

ROOT = Path(__file__).resolve().parents[2]
NOTE = re.compile(r"account names: (\d+) (.+?) name\(s\) not checked: (.+)$")


@pytest.fixture
def sandbox() -> MovideskSandbox:
    """The demo's account: the Emissor account and the demo tickets, no day limit."""
    box = MovideskSandbox(day_limit=None)
    seed_demo(box, datetime.now(UTC))
    return box


@pytest.fixture
def mock(sandbox: MovideskSandbox) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sandbox.install(rsps)
        yield rsps


@pytest.fixture(autouse=True)
def no_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPDESK_SYNC_CONFIG", raising=False)


def yaml_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON is YAML: names with ':' stay whole


def config_file(
    tmp_path: Path,
    sandbox: MovideskSandbox,
    mappings: Path,
    names: tuple[str, ...] = ("emissor",),
    **extra: Any,
) -> Path:
    """The demo's configuration as ops write it, one connector a mapping (one key a line,
    so problems can name the line); ``extra`` adds keys to the first connector."""
    lines = [
        f"state_url: sqlite:///{tmp_path / 'state.sqlite'}",
        f"mappings_dir: {mappings}",
        "connectors:",
    ]
    for index, name in enumerate(names):
        lines += [
            f"  - name: demo-{name}",
            "    kind: movidesk",
            f"    base_url: {sandbox.base_url}",
            f"    mapping: {name}",
            f"    api_key: {DEFAULT_TOKEN}",
            f"    agent_ref: {yaml_value(sandbox.me)}",
            "    day_limit_per_minute: null",
            "    status_justifications:",
        ]
        lines += [
            f"      {yaml_value(status)}: {yaml_value(list(justifications))}"
            for status, justifications in DEMO_STATUS_JUSTIFICATIONS.items()
        ]
        if index:
            continue
        for key, value in extra.items():
            if isinstance(value, dict):
                lines.append(f"    {key}:")
                lines += [f"      {yaml_value(k)}: {yaml_value(v)}" for k, v in value.items()]
            else:
                lines.append(f"    {key}: {yaml_value(value)}")
    path = tmp_path / "helpdesk-sync.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def shipped_mappings(tmp_path: Path, *names: str) -> Path:
    mine = tmp_path / "mappings"
    mine.mkdir()
    for name in names:
        shutil.copy(ROOT / "mappings" / f"{name}.yaml", mine / f"{name}.yaml")
    return mine


def edit(path: Path, old: str, new: str) -> int:
    """Replace ``old`` on the one line holding it, as an operator's typo would; its line."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if old in line]
    assert len(found) == 1, (old, found)
    lines[found[0]] = lines[found[0]].replace(old, new)
    path.write_text("".join(lines), encoding="utf-8")
    return found[0] + 1


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [i + 1 for i, line in enumerate(lines) if text in line]
    assert len(found) == 1, (text, found)
    return found[0]


def check(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", "--config", str(config)])
    return code, capsys.readouterr().out


def notes(out: str) -> dict[str, tuple[int, str]]:
    """Kind words -> (count, reason) of the "not checked" lines of the last connector."""
    found: dict[str, tuple[int, str]] = {}
    for line in out.splitlines():
        match = NOTE.search(line.strip())
        if match:
            found[match.group(2)] = (int(match.group(1)), match.group(3))
    return found


def problems(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if "does not exist" in line]


def make_connector(sandbox: MovideskSandbox, **kw: Any) -> MovideskConnector:
    return MovideskConnector(
        "accounts",
        sandbox.base_url,
        DEFAULT_TOKEN,
        agent_ref=sandbox.me,
        day_limit_per_minute=None,
        **kw,
    )


# ---------------------------------------------------------------------- the demo account


@pytest.mark.usefixtures("mock")
def test_the_demo_configuration_and_its_mappings_match_the_demo_account(
    tmp_path: Path, sandbox: MovideskSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    mappings = shipped_mappings(tmp_path, "emissor", "ouvidoria")
    config = config_file(tmp_path, sandbox, mappings, names=("emissor", "ouvidoria"))

    code, out = check(config, capsys)

    assert code == 0, out
    assert problems(out) == []
    assert len(re.findall(r"account names: ok \(\d+ checked\)", out)) == 2
    found = notes(out)
    assert found["status"][1] == NO_STATUSES
    assert found["request type"][1] == f"{NO_CATEGORIES} (request_type_field 'category')"


@pytest.mark.parametrize("mapping", ["emissor", "ouvidoria"])
@pytest.mark.usefixtures("mock")
def test_the_demo_connector_checks_teams_owners_and_fields_of_its_mapping(
    sandbox: MovideskSandbox, mapping: str
) -> None:
    """The demo's own connector (``cli.demo_movidesk``): no problem, and the names it can
    check (teams, agents, built-in fields) are checked, not skipped."""
    connector = demo_connector(sandbox, sandbox.base_url, mapping)
    settings = MovideskSettings(
        name=f"demo-{mapping}",
        kind="movidesk",
        base_url=sandbox.base_url,
        mapping=mapping,
        agent_ref=sandbox.me,
        status_justifications={k: list(v) for k, v in DEMO_STATUS_JUSTIFICATIONS.items()},
    )
    uses = [
        *config_names("demo", {}, 0, settings.account_names()),
        *mapping_names(ROOT / "mappings" / f"{mapping}.yaml"),
    ]
    account = connector.account_names()
    report = missing(uses, account)

    assert report.problems == []
    checked = {(u.kind, u.value) for u in uses if account.has(u.kind, u.value)}
    assert ("owner", sandbox.me) in checked  # agent_ref
    assert ("field", "category") in checked  # request_type_field
    if mapping == "emissor":
        assert {("group", "Financeiro-Atendimento"), ("field", "cliente_empresa")} <= checked
    else:
        assert ("owner", "Richard") in checked  # create_ticket.owner
    unchecked = [NOTE.match(f"account names: {n}") for n in report.unchecked]
    assert {m.group(2) for m in unchecked if m} == {"status", "request type"}


# ---------------------------------------------------------------------- located problems


@pytest.mark.usefixtures("mock")
def test_a_renamed_team_and_field_in_a_mapping_are_one_located_problem_each(
    tmp_path: Path, sandbox: MovideskSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    mappings = shipped_mappings(tmp_path, "emissor")
    emissor = mappings / "emissor.yaml"
    config = config_file(tmp_path, sandbox, mappings)
    _, before = check(config, capsys)
    team_line = edit(emissor, "{team: Financeiro-Atendimento}", "{team: Financeiro-Atendimentos}")
    field_line = edit(emissor, "organization.name, cliente_empresa]", "organization.name, empresa]")
    edit(emissor, "{status: Pendente Financeiro,", "{status: Pendente Cobrança,")

    code, out = check(config, capsys)

    assert code == 2
    assert "ACCOUNT NAMES MISSING" in out
    assert problems(out) == [
        f"{emissor}:{field_line}: fields.nome_empresa.ticket_field[1]: field 'empresa' does "
        "not exist in the movidesk account (closest: 'cliente_empresa')",
        f"{emissor}:{team_line}: preflight[4].actions[0].route.team: group/queue/team "
        "'Financeiro-Atendimentos' does not exist in the movidesk account (closest: "
        "'Financeiro-Atendimento')",
    ]
    # Movidesk lists no statuses: the renamed one is counted as not checked, not guessed.
    assert "Pendente Cobrança" not in out
    assert notes(out)["status"] == notes(before)["status"]

    assert main(["check", "--format", "json", "--config", str(config)]) == 2
    report = json.loads(capsys.readouterr().out)
    [entry] = report["connectors"]
    assert entry["status"] == "ACCOUNT NAMES MISSING"
    assert [p.strip() for p in entry["account"]["problems"]] == problems(out)
    assert any(n.endswith(NO_STATUSES) for n in entry["account"]["unchecked"])


@pytest.mark.usefixtures("mock")
def test_the_configurations_own_names_are_located_in_the_config_file(
    tmp_path: Path, sandbox: MovideskSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    mappings = shipped_mappings(tmp_path, "emissor")
    config = config_file(
        tmp_path,
        sandbox,
        mappings,
        team_owners={"Suporte N1": "Carla Mendes", "Ouvidoria N2": "richard@enotas.example"},
        task_due_field="Prazo do follow-up",  # a label, not a custom field id
        onboarding_field="45999",  # a custom field id: not listable, so not checked
        fields={"email_conta": "cliente_emial"},
        scope={"groups": ["Suporte N1", "Suporte N3"]},
    )

    code, out = check(config, capsys)

    assert code == 2
    where = str(config)
    assert problems(out) == [
        f"{where}:{line_of(config, 'email_conta')}: connectors[0].fields.email_conta: field "
        "'cliente_emial' does not exist in the movidesk account (closest: 'cliente_email', "
        "'cliente_empresa', 'client_id')",
        f"{where}:{line_of(config, 'Suporte N3')}: connectors[0].scope.groups[1]: "
        "group/queue/team 'Suporte N3' does not exist in the movidesk account (closest: "
        "'Suporte N1')",
        f"{where}:{line_of(config, 'Ouvidoria N2')}: connectors[0].team_owners.Ouvidoria N2: "
        "group/queue/team 'Ouvidoria N2' does not exist in the movidesk account (closest: "
        "'Ouvidoria')",
        f"{where}:{line_of(config, 'task_due_field')}: connectors[0].task_due_field: field "
        "'Prazo do follow-up' does not exist in the movidesk account",
    ]
    # The owner of the missing team exists (by e-mail): only the team is a problem.
    assert "richard@enotas.example" not in "\n".join(problems(out))
    count, reason = notes(out)["field"]
    assert count == 1  # onboarding_field
    assert reason.startswith("custom field ids (Movidesk's API documents no list")


@pytest.mark.usefixtures("mock")
def test_an_owner_of_team_owners_and_agent_ref_are_agents(
    tmp_path: Path, sandbox: MovideskSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    mappings = shipped_mappings(tmp_path, "emissor")
    config = config_file(tmp_path, sandbox, mappings, team_owners={"Ouvidoria": "Richard Alves"})

    code, out = check(config, capsys)

    assert code == 2
    assert problems(out) == [
        f"{config}:{line_of(config, 'Richard Alves')}: connectors[0].team_owners.Ouvidoria: "
        "agent/owner 'Richard Alves' does not exist in the movidesk account (closest: "
        "'Richard', 'Bruna Alves')"
    ]


# ---------------------------------------------------------------------- what is read


@pytest.mark.usefixtures("mock")
def test_a_category_account_reads_only_the_agents_and_lists_nothing_it_cannot(
    sandbox: MovideskSandbox,
) -> None:
    connector = make_connector(sandbox)
    before = len(sandbox.calls)

    names = connector.account_names()

    assert [c.path for c in sandbox.calls[before:]] == ["/public/v1/persons"]
    assert names.unchecked == {
        "status": NO_STATUSES,
        "field": "custom field ids (Movidesk's API documents no list of custom fields; "
        "built-in fields are checked)",
        "type": f"{NO_CATEGORIES} (request_type_field 'category')",
    }
    assert sorted(names.known["group"]) == [
        "Financeiro-Atendimento",
        "Onboarding",
        "Ouvidoria",
        "Suporte N1",
    ]
    for label in ("Patrícia Lima", "patricia.lima@enotas.example", "patricia.lima"):
        assert names.has("owner", label) is True
    assert names.has("owner", "Patricia Souza") is False
    assert names.has("status", "Fechado") is None
    assert names.has("type", "Hardware") is None
    assert names.has("field", "45001") is None  # a custom field id
    assert names.has("field", "ownerTeam") is True
    assert names.has("field", "owner") is False  # the row's owner is ``owner_id``


@pytest.mark.usefixtures("mock")
def test_a_custom_field_as_request_type_is_not_checked(sandbox: MovideskSandbox) -> None:
    names = make_connector(sandbox, request_type_field="45001").account_names()

    assert names.has("type", "Falha no sistema") is None
    assert "custom field" in names.unchecked["type"]
    assert not [c for c in sandbox.calls if c.path.endswith("/services")]


@pytest.mark.usefixtures("mock")
def test_service_levels_are_the_request_types(sandbox: MovideskSandbox) -> None:
    emissor = sandbox.add_service("Emissor")
    falha = sandbox.add_service("Falha no sistema", parent=emissor)
    sandbox.add_service("Apps", parent=falha)
    sandbox.add_service("Emissão de notas", parent=emissor, categories=["Emissão de notas"])
    hardware = sandbox.add_service("Hardware", is_active=False)
    sandbox.add_service("Impressora fiscal", parent=hardware)
    connector = make_connector(
        sandbox, request_type_field="serviceFirstLevel", subcategory_field="serviceSecondLevel"
    )

    names = connector.account_names()

    assert sorted(names.known["type"]) == [
        "Emissor",
        "Emissor > Emissão de notas",
        "Emissor > Falha no sistema",
        "Hardware",
        "Hardware > Impressora fiscal",
    ]
    assert names.has("type", "Emissor/Falha no sistema") is True
    assert names.has("type", "Emissor > Apps") is False  # a third level
    assert names.closest("type", "Emissor > Falhas no sistema")[0] == "Emissor > Falha no sistema"
    [call] = [c for c in sandbox.calls if c.path.endswith("/services")]
    assert call.query == {
        "token": [DEFAULT_TOKEN],
        "$select": ["id,name,parentServiceId"],
        "$orderby": ["id"],
        "$top": ["100"],
        "$skip": ["0"],
    }

    third = make_connector(
        sandbox, request_type_field="serviceSecondLevel", subcategory_field="45001"
    ).account_names()
    assert third.has("type", "Falha no sistema") is True
    assert third.has("type", "Falha no sistema > anything in a custom field") is True
    assert third.has("type", "Falhas > anything") is False


@pytest.mark.usefixtures("mock")
def test_services_are_read_page_by_page(sandbox: MovideskSandbox) -> None:
    top = sandbox.add_service("Serviços")
    for n in range(150):
        sandbox.add_service(f"Serviço {n:03d}", parent=top)
    connector = make_connector(
        sandbox, request_type_field="serviceFirstLevel", subcategory_field="serviceSecondLevel"
    )

    names = connector.account_names()

    assert len(names.known["type"]) == 151
    skips = [c.query["$skip"] for c in sandbox.calls if c.path.endswith("/services")]
    assert skips == [["0"], ["100"]]


def test_service_levels_survive_a_cycle_and_an_unknown_parent() -> None:
    services = [
        {"id": 1, "name": "A", "parentServiceId": None},
        {"id": 2, "name": "B", "parentServiceId": 1},
        {"id": 3, "name": "C", "parentServiceId": 4},
        {"id": 4, "name": "D", "parentServiceId": 3},
        {"id": 5, "name": "E", "parentServiceId": 99},
    ]
    levels = service_levels(services)
    assert levels[2] == (2, ["A", "B"])
    assert levels[3] == (2, ["D", "C"])
    assert levels[5] == (1, ["E"])


@pytest.mark.usefixtures("mock")
def test_the_built_in_fields_are_every_field_a_loaded_ticket_carries(
    sandbox: MovideskSandbox,
) -> None:
    account = setup_emissor_account(sandbox)
    connector = make_connector(sandbox)

    for ticket_id in account.tickets.values():
        fields = connector.reload(str(ticket_id)).ticket.fields
        assert {k for k in fields if not k.isdigit()} <= set(BUILT_IN_FIELDS)


def test_the_settings_name_what_the_account_must_hold() -> None:
    settings = MovideskSettings(
        name="emissor",
        kind="movidesk",
        mapping="emissor",
        agent_ref="184000001",
        team_owners={"Ouvidoria": "Richard"},
        status_justifications={"Pendente Financeiro": ["Bloqueio por inadimplência"]},
        task_due_field="45010",
        onboarding_field="45001",
        onboarding_category="Onboarding",
        custom_field_labels={"45003": "Bloqueio por inadimplência"},
    )

    assert settings.account_names() == [
        ("field", ("request_type_field",), "category"),
        ("owner", ("agent_ref",), "184000001"),
        ("status", ("merge_status",), "Fechado"),
        ("status", ("resolve_status",), "Resolvido"),
        ("status", ("status_justifications", "Pendente Financeiro"), "Pendente Financeiro"),
        ("group", ("team_owners", "Ouvidoria"), "Ouvidoria"),
        ("owner", ("team_owners", "Ouvidoria"), "Richard"),
        ("field", ("task_due_field",), "45010"),
        ("field", ("onboarding_field",), "45001"),
        ("field", ("custom_field_labels", "45003"), "45003"),
        ("type", ("onboarding_category",), "Onboarding"),
    ]
    # A category is a request type only while the request type is the category.
    by_service = settings.model_copy(update={"request_type_field": "serviceFirstLevel"})
    assert ("type", ("onboarding_category",), "Onboarding") not in by_service.account_names()


# ---------------------------------------------------------------------- the sandbox route


@pytest.mark.usefixtures("mock")
def test_the_sandbox_serves_services_in_the_layout_shape(sandbox: MovideskSandbox) -> None:
    parent = sandbox.add_service("Emissor", default_category="Falha no sistema")
    child = sandbox.add_service("Apps", parent=parent, categories=["Falha no sistema"])
    url = f"{sandbox.base_url}/services"

    listed = requests.get(url, params={"token": DEFAULT_TOKEN}, timeout=5).json()
    one = requests.get(url, params={"token": DEFAULT_TOKEN, "id": child}, timeout=5).json()
    roots = requests.get(
        url,
        params={"token": DEFAULT_TOKEN, "$select": "id,name", "$filter": "parentServiceId eq null"},
        timeout=5,
    ).json()
    unknown = requests.get(url, params={"token": DEFAULT_TOKEN, "id": 1}, timeout=5)
    wrong = requests.get(url, params={"token": DEFAULT_TOKEN, "$select": "title"}, timeout=5)

    assert [s["name"] for s in listed] == ["Emissor", "Apps"]
    assert one == {
        "id": child,
        "name": "Apps",
        "description": None,
        "parentServiceId": parent,
        "serviceForTicketType": 2,
        "isVisible": 3,
        "allowSelection": 3,
        "allowFinishTicket": True,
        "isActive": True,
        "automationMacro": None,
        "defaultCategory": None,
        "defaultUrgency": None,
        "allowAllCategories": False,
        "categories": ["Falha no sistema"],
    }
    assert listed[0]["allowAllCategories"] is True
    assert listed[0]["defaultCategory"] == "Falha no sistema"
    assert roots == [{"id": parent, "name": "Emissor"}]
    assert unknown.status_code == 404
    assert wrong.status_code == 400
