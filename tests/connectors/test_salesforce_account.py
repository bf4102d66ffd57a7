"""``check``'s account names on Salesforce: the org's queues, owners, Case statuses, Case
fields and request types against what the mappings and the configuration name.

``SalesforceSandbox`` answers through ``responses`` (the real simple-salesforce calls:
``GET sobjects/Case/describe/``, the QueueSobject, Group and User queries). The CLI runs
as ops run it (``helpdesk-sync check --config ...``) on the demo org
(``sandboxes.salesforce.demo_seed``) with a configuration like the demo's
(``cli.demo_salesforce``: comment field ``Comentario_Interno__c``, ``IsEscalated`` as the
critical checkbox); the finer cases call ``SalesforceConnector.account_names`` directly.
Also here: the throttled-answer count behind ``helpdesk_sync_api_throttled``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import responses
from simple_salesforce import Salesforce

from cli.health import Health
from connectors.salesforce import SalesforceClient, SalesforceConnector, WriteRules
from connectors.salesforce.account import QUEUE_OBJECTS_SOQL, valid_indexes
from connectors.salesforce.normalize import request_type
from connectors.salesforce.settings import SalesforceSettings
from daemon import main
from engine.store import Store
from sandboxes.salesforce import DEFAULT_BASE_URL, DEFAULT_SESSION, Faults, SalesforceSandbox
from sandboxes.salesforce.demo_seed import COMMENT_FIELD, DemoOrg, seed_demo
from sandboxes.salesforce.describe import valid_for
from sandboxes.salesforce.seeds import REQUEST_TYPES
from sync.contract import RetriableError
from tests.connectors.test_salesforce_eps import Clock

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 19, 13, 0, tzinfo=UTC)  # Thursday 10:00 in São Paulo
SESSION_ENV = "TEST_SF_SESSION"


@dataclass
class Org:
    sandbox: SalesforceSandbox
    demo: DemoOrg
    clock: Clock

    def connector(
        self, *, request_type_field: str = "Type", subcategory_field: str | None = None
    ) -> SalesforceConnector:
        """A connector on the org as the demo builds one (``cli.demo_salesforce``)."""
        session = requests.Session()
        client = SalesforceClient(
            lambda: Salesforce(
                session_id=DEFAULT_SESSION,
                instance_url=DEFAULT_BASE_URL,
                session=session,
                version="59.0",
            ),
            connector="demo-eps",
            sleep=self.clock.sleep,
        )
        return SalesforceConnector(
            "demo-eps",
            client,
            request_type_field=request_type_field,
            subcategory_field=subcategory_field,
            comment_field=COMMENT_FIELD,
            rules=WriteRules(critical_field="IsEscalated"),
            now=self.clock,
        )


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    monkeypatch.setenv(SESSION_ENV, DEFAULT_SESSION)
    monkeypatch.delenv("HELPDESK_SYNC_CONFIG", raising=False)
    clock = Clock(now=NOW)
    sandbox = SalesforceSandbox(clock=clock, assignment_queue="GSO")
    demo = seed_demo(sandbox, NOW)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sandbox.install(rsps)
        yield Org(sandbox, demo, clock)


def config_file(tmp_path: Path, mappings: Path, **extra: object) -> Path:
    """A YAML config as ops write it (one key a line, so problems can name the line): the
    demo's connector, signed in with an existing session."""
    lines = [
        f"state_url: sqlite:///{tmp_path / 'state.sqlite'}",
        f"mappings_dir: {mappings}",
        "connectors:",
        "  - name: demo-eps",
        "    kind: salesforce",
        "    mapping: eps",
        "    auth: session",
        f"    session_id_env: {SESSION_ENV}",
        f"    instance_url: {DEFAULT_BASE_URL}",
        f"    comment_field: {COMMENT_FIELD}",
        "    critical_field: IsEscalated",
    ]
    for key, value in extra.items():
        if isinstance(value, dict):
            lines.append(f"    {key}:")
            lines += [f"      {k}: {v}" for k, v in value.items()]
        elif isinstance(value, list):
            lines.append(f"    {key}:")
            lines += [f"      - {v}" for v in value]
        else:
            lines.append(f"    {key}: {value}")
    path = tmp_path / "helpdesk-sync.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def shipped_mappings(tmp_path: Path) -> Path:
    mine = tmp_path / "mappings"
    mine.mkdir()
    shutil.copy(ROOT / "mappings" / "eps.yaml", mine / "eps.yaml")
    return mine


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the only line holding ``text``."""
    found = [n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line]
    assert len(found) == 1, (text, found)
    return found[0]


def edit(path: Path, line: int, old: str, new: str) -> None:
    """Replace ``old`` on one line of a file (1-based), as an operator's typo would."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new)
    path.write_text("".join(lines), encoding="utf-8")


def problems(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if "does not exist" in line]


# ---------------------------------------------------------------------- check, as ops run it


def test_the_demo_org_holds_every_name_the_demo_configuration_and_eps_use(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_file(tmp_path, shipped_mappings(tmp_path), resolve_status="Fechado")
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "account names: ok (" in out, out
    assert "not checked" not in out  # queues, owners, statuses, fields and types all listed
    assert problems(out) == []
    describes = [c for c in org.sandbox.calls if c.path.endswith("/sobjects/Case/describe/")]
    assert len(describes) == 1


def test_the_default_resolve_status_is_checked_too(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Left out, ``resolve_status`` is "Closed", which this org (whose closed status is
    "Fechado") lacks: a resolve that names no status would be refused. No line: the value
    comes from the default."""
    config = config_file(tmp_path, shipped_mappings(tmp_path))
    assert main(["check", "--config", str(config)]) == 2
    assert problems(capsys.readouterr().out) == [
        f"{config}: connectors[0].resolve_status: status 'Closed' does not exist in the "
        "salesforce account"
    ]


def test_a_renamed_queue_status_and_field_are_each_named_with_file_line_and_path(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mappings = shipped_mappings(tmp_path)
    eps = mappings / "eps.yaml"
    queue = line_of(eps, "- route: {queue: Backoffice EPS}")
    edit(eps, queue, "Backoffice EPS", "Backoffice EPS SP")  # no such queue
    status = line_of(eps, "- set_status: {status: Em andamento}")
    edit(eps, status, "Em andamento", "Em atendimento")  # no such status
    origin = line_of(eps, "ticket_field: Origin")
    edit(eps, origin, "Origin", "Canal__c")  # no such Case field
    config = config_file(tmp_path, mappings, resolve_status="Fechado")

    assert main(["check", "--config", str(config)]) == 2
    out = capsys.readouterr().out
    assert "ACCOUNT NAMES MISSING" in out
    assert problems(out) == [
        f"{eps}:{origin}: fields.canal.ticket_field: field 'Canal__c' does not exist in the "
        "salesforce account",
        f"{eps}:{status}: defaults.on_incomplete[1].set_status.status: status 'Em atendimento' "
        "does not exist in the salesforce account (closest: 'Em andamento')",
        f"{eps}:{queue}: types[0].actions[0].route.queue: group/queue/team 'Backoffice EPS SP' "
        "does not exist in the salesforce account (closest: 'Backoffice EPS', "
        "'backoffice_eps')",
    ]


def test_config_names_the_org_lacks_name_the_config_key_and_line(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_file(
        tmp_path,
        shipped_mappings(tmp_path),
        resolve_status="Encerrado",
        case_fields=["Numero_Pedido_GAR__c", "Numero_Pedido__c"],
    )
    edit(config, 10, COMMENT_FIELD, "Comentario__c")
    text = config.read_text("utf-8").splitlines()

    assert main(["check", "--config", str(config)]) == 2
    assert problems(capsys.readouterr().out) == [
        f"{config}:10: connectors[0].comment_field: field 'Comentario__c' does not exist in "
        f"the salesforce account (closest: '{COMMENT_FIELD}')",
        f"{config}:{text.index('      - Numero_Pedido__c') + 1}: connectors[0].case_fields[1]: "
        "field 'Numero_Pedido__c' does not exist in the salesforce account (closest: "
        "'Numero_Pedido_GAR__c')",
        f"{config}:{text.index('    resolve_status: Encerrado') + 1}: "
        "connectors[0].resolve_status: status 'Encerrado' does not exist in the salesforce "
        "account (closest: 'Fechado')",
    ]


def test_a_request_type_missing_or_retired_from_the_picklist_is_reported(
    org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = [t for t in REQUEST_TYPES if t not in ("Desbloqueio de IP", "Nota Fiscal - Fenacon")]
    org.sandbox.set_picklist("Case", "Type", kept, inactive=["Nota Fiscal - Fenacon"])
    mappings = shipped_mappings(tmp_path)
    eps = mappings / "eps.yaml"
    config = config_file(tmp_path, mappings, resolve_status="Fechado")

    assert main(["check", "--config", str(config)]) == 2
    assert problems(capsys.readouterr().out) == [
        f"{eps}:{line_of(eps, '- name: Desbloqueio de IP')}: types[2].name: request type "
        "'Desbloqueio de IP' does not exist in the salesforce account",
        f"{eps}:{line_of(eps, '- name: Nota Fiscal - Fenacon')}: types[4].name: request type "
        "'Nota Fiscal - Fenacon' does not exist in the salesforce account",
    ]


# ---------------------------------------------------------------------- what the org lists


def test_queues_route_cases_owners_are_what_the_writes_accept(org: Org) -> None:
    org.sandbox.add_queue("Tarefas BKO", developer_name="Tarefas_BKO", sobject_types=["Task"])
    org.sandbox.add_queue("Leads", sobject_types=["Lead"])
    org.sandbox.add_user("Ex Agente", username="ex.agente@eps.example", is_active=False)
    names = org.connector().account_names()

    assert names.has("group", "Supervisor EPS")
    assert names.has("group", "supervisor_eps")  # the developer name the writes accept
    assert not names.has("group", "Tarefas BKO")  # owns Tasks only: no Case goes there
    assert names.has("owner", "Tarefas BKO")  # a task's owner may be that queue
    assert names.has("owner", "GSO")
    assert not names.has("owner", "Leads")  # owns neither Cases nor Tasks
    assert names.has("owner", "Ana Souza")
    assert names.has("owner", "ana.souza@eps.example")
    assert not names.has("owner", "Ex Agente")  # inactive: the org refuses it as owner
    assert names.has("status", "Concluído III")
    assert names.has("field", "IsEscalated")
    assert names.has("field", COMMENT_FIELD)
    assert not names.has("field", "Comentario Interno")  # a label: SOQL takes API names
    assert names.has("type", "Voucher")
    queries = [c.query.get("q", [""])[0] for c in org.sandbox.calls if c.path.endswith("/query/")]
    assert QUEUE_OBJECTS_SOQL in queries


def test_status_labels_and_inactive_values_are_not_names(org: Org) -> None:
    org.sandbox.add_status("Aguardando_N3", label="Aguardando N3")
    org.sandbox.set_picklist("Case", "Type", ["Voucher"], inactive=["Reemissão"])
    names = org.connector().account_names()

    assert names.has("status", "Aguardando_N3")
    assert not names.has("status", "Aguardando N3")  # the value is written, not the label
    assert names.has("type", "Voucher")
    assert not names.has("type", "Reemissão")


def test_a_dependent_subcategory_gives_the_pairs_its_controller_allows(org: Org) -> None:
    org.sandbox.add_field("Case", "Subtipo__c", type="picklist")
    org.sandbox.set_picklist(
        "Case",
        "Subtipo__c",
        ["Pix", "Boleto", "Antigo"],
        controller="Type",
        valid_for={
            "Pix": ["Liberação de pagamento"],
            "Boleto": ["Liberação de pagamento", "Voucher"],
            "Antigo": ["Dúvida comercial"],
        },
    )
    names = org.connector(subcategory_field="Subtipo__c").account_names()

    assert names.has("type", "Liberação de pagamento > Pix")
    assert names.has("type", "Voucher > Boleto")
    assert not names.has("type", "Voucher > Pix")
    assert names.has("type", "Dúvida comercial > Antigo")
    assert names.has("type", "Voucher")


def test_an_independent_subcategory_lists_subtypes_and_free_text_is_not_checked(
    org: Org,
) -> None:
    org.sandbox.add_field("Case", "Subtipo__c", type="picklist")
    org.sandbox.set_picklist("Case", "Subtipo__c", ["Pix", "Boleto"])
    org.sandbox.add_field("Case", "Detalhe__c", type="string")
    independent = org.connector(subcategory_field="Subtipo__c").account_names()
    assert independent.has("type", "Voucher > Pix")
    assert not independent.has("type", "Voucher > Cartão")
    free = org.connector(subcategory_field="Detalhe__c").account_names()
    assert free.has("type", "Voucher > anything at all")

    org.sandbox.add_field("Case", "Categoria__c", type="string")
    text = org.connector(request_type_field="Categoria__c").account_names()
    assert text.has("type", "Voucher") is None
    assert text.unchecked["type"] == (
        "the request type field 'Categoria__c' is a string field: its values are free text"
    )


def test_cases_are_read_with_their_subcategory(org: Org) -> None:
    org.sandbox.add_field("Case", "Subtipo__c", type="picklist")
    case_id = org.sandbox.add_case(
        "Pix",
        owner_id=org.demo.agents["paula.ribeiro"],
        status="Novo",
        type="Liberação de pagamento",
        fields={"Subtipo__c": "Pix"},
    )
    loaded = org.connector(subcategory_field="Subtipo__c").reload(case_id)
    assert loaded.ticket.request_type == "Liberação de pagamento > Pix"
    assert request_type({"Type": "Voucher", "Sub": None}, "Type", "Sub") == "Voucher"


def test_subcategory_field_must_be_an_api_name() -> None:
    base = {
        "name": "eps",
        "kind": "salesforce",
        "mapping": "eps",
        "auth": "session",
        "session_id": "x",
        "instance_url": DEFAULT_BASE_URL,
    }
    with pytest.raises(ValueError, match="subcategory_field"):
        SalesforceSettings.model_validate({**base, "subcategory_field": "Sub, Name FROM User"})
    settings = SalesforceSettings.model_validate({**base, "subcategory_field": "Sub__c"})
    names = settings.account_names()
    assert ("field", ("subcategory_field",), "Sub__c") in names
    assert ("status", ("resolve_status",), "Closed") in names


def test_valid_for_bits_round_trip() -> None:
    controlling = [f"v{i}" for i in range(20)]
    token = valid_for(controlling, ["v0", "v9", "v19"])
    assert valid_indexes(token) == [0, 9, 19]
    assert valid_indexes("gAAA") == [0]  # the first controlling value (public samples)
    assert valid_indexes(None) == []
    assert valid_indexes("not base64!") == []


# ---------------------------------------------------------------------- throttled answers


def test_request_limit_exceeded_answers_are_counted_as_throttled(org: Org, tmp_path: Path) -> None:
    connector = org.connector()
    org.sandbox.inject(Faults(rate_limited=2))  # ConcurrentPerOrgLongTxn, twice
    assert "daily API requests used" in connector.check()  # resent after each
    assert connector.api_stats()["throttled"] == 2
    # the backoff before each resend is a wait for the API, as metrics and progress show it
    assert connector.api_stats()["waited_seconds"] == pytest.approx(sum(org.clock.sleeps))
    assert connector.api_stats()["waited_seconds"] > 0

    org.sandbox.reset_daily_usage(org.sandbox.daily_limit)  # TotalRequests: not resent
    with pytest.raises(RetriableError, match="REQUEST_LIMIT_EXCEEDED"):
        connector.check()
    assert connector.api_stats()["throttled"] == 3

    with Store(f"sqlite:///{tmp_path / 'state.sqlite'}", clock=org.clock) as store:
        health = Health(
            store, {"demo-eps": 60.0}, clock=org.clock, connectors={"demo-eps": connector}
        )
        value = health.registry.get_sample_value(
            "helpdesk_sync_api_throttled_total", {"connector": "demo-eps"}
        )
    assert value == 3


def test_statuses_are_compared_as_spelled_since_the_writes_send_them_so(org: Org) -> None:
    account = org.connector().account_names()
    assert account.has("status", "Escalado") is True
    # Salesforce takes a picklist value only as spelled: "escalado" would be refused
    assert account.has("status", "escalado") is False
    assert account.closest("status", "escalado")[0] == "Escalado"
    # queues and users are looked up by the connector case-insensitively (their Ids are
    # written), request types matched the way the engine reads them
    assert account.has("group", "backoffice eps") is True
    assert account.has("type", "voucher") is True
