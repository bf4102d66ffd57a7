"""Config files as operators write them: each connector validated by its helpdesk's model,
and every mistake reported with the file, the line and the key to fix."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from cli.settings import ConnectorSettings, ScopeSettings, load_settings
from connectors import registry
from connectors.freshdesk.settings import FreshdeskSettings
from connectors.registry import CONNECTORS, PLANNED_KINDS, build_connector
from connectors.salesforce.settings import SalesforceSettings
from connectors.settings import ConnectorSettingsBase
from connectors.settings import ScopeSettings as SharedScopeSettings
from sync.errors import ConfigError

FRESHDESK = """\
state_url: sqlite:///state.sqlite
connectors:
  - name: sac
    kind: freshdesk
    base_url: https://acme.freshdesk.com
    mapping: sac
    api_key_env: FD_KEY
    request_type_field: cf_categoria
    task_due_field: cf_prazo
    plan: growth
    sub_limits:
      tickets_list: 10
    ticket_attachments: false
    scope:
      groups: [Financeiro]
"""

PLANS = "trial, growth, pro, enterprise, purchased_1000, purchased_2000"


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No config named by the environment, no ``.env`` from the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HELPDESK_SYNC_CONFIG", raising=False)
    monkeypatch.delenv("HELPDESK_SYNC_CONNECTORS", raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "helpdesk-sync.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


def test_a_freshdesk_connector_loads_with_its_own_keys(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FRESHDESK))
    conf = settings.connector("sac")
    assert isinstance(conf, FreshdeskSettings)
    assert conf.kind == "freshdesk"
    assert conf.request_type_field == "cf_categoria"
    assert conf.task_due_field == "cf_prazo"
    assert conf.ticket_attachments is False
    assert conf.limits() == {"tickets_list": 10, "ticket_create": 80, "ticket_update": 80}
    assert conf.scope == ScopeSettings(groups=["Financeiro"])
    assert conf.interval_seconds == 60  # shared defaults unchanged
    assert settings.lease_ttl("sac") == timedelta(seconds=30)


def test_scope_settings_are_the_shared_model() -> None:
    assert ScopeSettings is SharedScopeSettings


def test_a_planned_helpdesk_is_refused_as_not_available_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "PLANNED_KINDS", ("zendesk",))
    path = write(
        tmp_path,
        "connectors:\n"
        "  - name: helpdesk\n"
        "    kind: zendesk\n"
        "    base_url: https://acme.example.com\n"
        "    mapping: sac\n",
    )
    assert load_error(path) == (
        "invalid configuration:\n"
        f"{path}:3: connectors[0].kind: kind 'zendesk' of connector 'helpdesk' is not "
        "available yet; available: freshdesk, movidesk, salesforce"
    )


def test_an_unknown_kind_names_the_allowed_kinds(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "connectors:\n"
        "  - name: zd\n"
        "    base_url: https://acme.zendesk.com\n"
        "    kind: zendesk\n"
        "    mapping: sac\n",
    )
    assert load_error(path) == (
        "invalid configuration:\n"
        f"{path}:4: connectors[0].kind: unknown kind 'zendesk' of connector 'zd'; "
        "allowed: freshdesk, movidesk, salesforce"
    )


def test_a_missing_kind_is_a_missing_key(tmp_path: Path) -> None:
    path = write(tmp_path, "connectors:\n  - name: sac\n    mapping: sac\n")
    assert load_error(path) == (
        f"invalid configuration:\n{path}:2: connectors[0].kind: required key missing"
    )


def test_a_bad_plan_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, FRESHDESK.replace("plan: growth", "plan: gold"))
    assert load_error(path) == (
        "invalid configuration:\n"
        f"{path}:10: connectors[0].plan: unknown Freshdesk plan 'gold'; known: {PLANS}"
    )


def test_a_bad_sub_limit_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, FRESHDESK.replace("tickets_list: 10", "tickets_list: 0"))
    assert load_error(path) == (
        "invalid configuration:\n"
        f"{path}:11: connectors[0].sub_limits: sub-limit 'tickets_list' must be at least 1"
    )


def test_shared_key_errors_read_as_before(tmp_path: Path) -> None:
    """The union's tag never shows: paths and lines are the entry's own keys."""
    text = FRESHDESK.replace("    mapping: sac\n", "    mapping: sac\n    interval_seconds: 1\n")
    path = write(tmp_path, text + "    colour: blue\n")
    assert load_error(path) == (
        "invalid configuration:\n"
        f"{path}:7: connectors[0].interval_seconds: Input should be greater than or equal to 5\n"
        f"{path}:17: connectors[0].colour: unknown key"
    )


def test_the_connector_list_from_the_environment_is_validated_by_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = {
        "name": "env",
        "kind": "freshdesk",
        "base_url": "https://env.freshdesk.com",
        "mapping": "sac",
        "plan": "pro",
    }
    monkeypatch.setenv("HELPDESK_SYNC_CONNECTORS", json.dumps([entry]))
    settings = load_settings(write(tmp_path, FRESHDESK))
    assert [c.name for c in settings.connectors] == ["env"]
    assert isinstance(settings.connectors[0], FreshdeskSettings)
    assert settings.connectors[0].limits()["tickets_list"] == 100


def test_connector_settings_validates_like_a_config_entry() -> None:
    conf = ConnectorSettings(
        name="sac",
        kind="freshdesk",
        base_url="https://acme.freshdesk.com",
        mapping="sac",
        api_key=SecretStr("k"),
    )
    assert isinstance(conf, FreshdeskSettings)
    with pytest.raises(ConfigError) as info:
        ConnectorSettings(name="zd", kind="zendesk", base_url="https://x", mapping="sac")
    assert str(info.value) == (
        "connectors[zd].kind: unknown kind 'zendesk' of connector 'zd'; "
        "allowed: freshdesk, movidesk, salesforce"
    )


def test_every_registered_helpdesk_has_its_own_settings_model() -> None:
    for kind, entry in CONNECTORS.items():
        assert issubclass(entry.settings, ConnectorSettingsBase)
        assert entry.settings.model_fields["kind"].annotation is not str, kind
        assert kind not in PLANNED_KINDS


def test_building_a_kind_without_connector_names_the_available_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "PLANNED_KINDS", ("zendesk",))
    conf = ConnectorSettingsBase.model_construct(name="zd", kind="zendesk")
    with pytest.raises(ConfigError) as info:
        build_connector(conf)
    assert str(info.value) == (
        "connectors[zd].kind: 'zendesk' is not available yet; "
        "available: freshdesk, movidesk, salesforce"
    )


def test_a_salesforce_entry_builds_its_connector(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "connectors:\n"
        "  - name: eps\n"
        "    kind: salesforce\n"
        "    mapping: eps\n"
        "    auth: session\n"
        "    session_id: 00Dxx!token\n"
        "    instance_url: https://acme.my.salesforce.com\n",
    )
    [conf] = load_settings(path).connectors
    assert isinstance(conf, SalesforceSettings)
    connector = build_connector(conf)
    assert (connector.kind, connector.write_batch) == ("salesforce", 200)
    bad = path.read_text().replace("    session_id: 00Dxx!token\n", "")
    path.write_text(bad)
    assert "session_id" in load_error(path)


MOVIDESK = """\
connectors:
  - name: emissor
    kind: movidesk
    mapping: emissor
    api_key: token-for-tests
    agent_ref: "184000123"
    status_justifications:
      Pendente Financeiro: [Bloqueio por inadimplência]
    onboarding_field: "45001"
    non_payment_field: "45003"
    linked_card_field: "45006"
    context_ttl_seconds: 30
"""


def test_a_movidesk_config_reaches_its_connector(tmp_path: Path) -> None:
    conf = load_settings(write(tmp_path, MOVIDESK)).connector("emissor")
    connector = build_connector(conf, overlap=timedelta(minutes=7))
    assert connector.kind == "movidesk"
    sources = connector.context_sources  # type: ignore[attr-defined]
    assert sources["onboarding_field"] == "45001"
    assert sources["non_payment_field"] == "45003"
    assert sources["linked_card_field"] == "45006"
    assert connector.cursors.overlap == timedelta(minutes=7)  # type: ignore[attr-defined]
