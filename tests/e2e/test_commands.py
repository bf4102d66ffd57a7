"""The operational commands as ops run them, against the Freshdesk sandbox on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.demo import seed
from daemon import main
from engine.store import Store
from sandboxes.freshdesk import DEFAULT_API_KEY, Faults, FreshdeskSandbox, RunningServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox() -> Iterator[tuple[FreshdeskSandbox, RunningServer]]:
    box = FreshdeskSandbox()
    seed(box, datetime.now(UTC))
    with box.serve() as server:
        yield box, server


def write_config(tmp_path: Path, url: str, **extra: object) -> Path:
    config = {
        "state_url": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "log_format": "json",
        "health_address": "127.0.0.1:0",
        "max_attempts": 2,
        "connectors": [
            {
                "name": "sac",
                "kind": "freshdesk",
                "base_url": url,
                "mapping": "sac",
                "api_key_env": "TEST_FD_KEY",
                "request_type_field": "cf_categoria",
                "subcategory_field": "cf_subcategoria",
                "interval_seconds": 5,
                **extra,
            }
        ],
    }
    path = tmp_path / "helpdesk-sync.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is valid YAML
    return path


def start_run(config: Path, key: str = DEFAULT_API_KEY) -> subprocess.Popen[str]:
    """``helpdesk-sync run`` as the service runs it: its own process, logs on stderr."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "daemon.py"), "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TEST_FD_KEY": key},
    )


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_FD_KEY", DEFAULT_API_KEY)
    monkeypatch.delenv("HELPDESK_SYNC_CONFIG", raising=False)


def test_run_once_writes_back_and_logs_masked_json(
    tmp_path: Path,
    sandbox: tuple[FreshdeskSandbox, RunningServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    box, server = sandbox
    config = write_config(tmp_path, server.url)

    assert main(["run", "--once", "--config", str(config)]) == 0

    out, err = capsys.readouterr()
    assert out.startswith("sac: seen 9, decided 9, skipped 0, effects applied 20,")
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    decided = [e for e in events if e.get("event") == "ticket.decided"]
    applied = [e for e in events if e.get("event") == "effect.applied"]
    assert len(decided) == 9
    assert len(applied) == 20
    assert all("effect_key" in e for e in applied)
    assert "11.222.333/0001-81" not in err  # CNPJs from the comments never reach the logs
    assert DEFAULT_API_KEY not in err
    assert sum(1 for w in box.writes if w.method == "PUT") == 5

    # a second run: only echoes of our own writes, nothing new
    assert main(["run", "--once", "--config", str(config)]) == 0
    assert "effects applied 0," in capsys.readouterr().out


def test_run_dry_run_writes_nothing(
    tmp_path: Path,
    sandbox: tuple[FreshdeskSandbox, RunningServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    box, server = sandbox
    config = write_config(tmp_path, server.url)
    assert main(["run", "--once", "--dry-run", "--format", "json", "--config", str(config)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["decided"] == 9
    assert box.writes == []
    planned = {t["ticket_id"]: t["planned"] for t in summary["tickets"]}
    assert planned["1"] == ["route", "set_status", "add_note", "create_task"]
    with Store(f"sqlite:///{tmp_path / 'state.sqlite'}") as store:
        assert store.get_cursor("sac") is None
        assert store.all_effects() == []


def test_backfill_is_resumable_and_prints_a_summary(
    tmp_path: Path,
    sandbox: tuple[FreshdeskSandbox, RunningServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    box, server = sandbox
    config = write_config(tmp_path, server.url)
    since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    args = ["backfill", "--connector", "sac", "--since", since, "--config", str(config)]

    assert main(args) == 0
    first = capsys.readouterr().out
    assert "decided 9" in first
    writes = len(box.writes)

    assert main(args) == 0  # run again: resumes after its cursor, nothing new to write
    second = capsys.readouterr().out
    assert "effects applied 0" in second
    assert "decided 0" in second  # the same run resumed: its own echoes are not its to read
    assert len(box.writes) == writes


def test_poison_ticket_goes_to_dead_letters_then_retry(
    tmp_path: Path,
    sandbox: tuple[FreshdeskSandbox, RunningServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    box, server = sandbox
    config = write_config(tmp_path, server.url, timeout_seconds=2)
    box.inject(Faults(server_errors=10**6, path=r"/tickets/3(/|$)"))

    assert main(["run", "--once", "--config", str(config)]) == 1
    assert main(["run", "--once", "--config", str(config)]) == 1  # 2nd failure: quarantined
    capsys.readouterr()

    assert main(["dead-letters", "list", "--config", str(config)]) == 0
    listing = capsys.readouterr().out
    assert "sac ticket 3 (version" in listing
    assert "2 attempts" in listing

    box.faults.clear()
    assert main(["dead-letters", "retry", "--config", str(config)]) == 0
    assert "released 1 ticket(s)" in capsys.readouterr().out
    assert main(["run", "--once", "--config", str(config)]) == 0
    assert main(["dead-letters", "list", "--config", str(config)]) == 0
    assert "no dead letters" in capsys.readouterr().out


def test_check_reports_each_connector(
    tmp_path: Path,
    sandbox: tuple[FreshdeskSandbox, RunningServer],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, server = sandbox
    config = write_config(tmp_path, server.url)
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "config: ok (1 connector(s))" in out
    assert f"connector sac: freshdesk {server.url} mapping sac (35 types; no owner): ok" in out

    # ops see which process owns a connector
    with Store(f"sqlite:///{tmp_path / 'state.sqlite'}") as store:
        assert store.acquire_lease("sac", "web-2:4711:9f3a2c", timedelta(seconds=30))
    assert main(["check", "--config", str(config)]) == 0
    assert "(35 types; owned by web-2:4711:9f3a2c until " in capsys.readouterr().out

    monkeypatch.setenv("TEST_FD_KEY", "wrong-key")
    assert main(["check", "--config", str(config)]) == 3
    out = capsys.readouterr().out
    assert "AUTH ERROR" in out
    assert "wrong-key" not in out


def test_invalid_config_names_the_key_and_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path, "https://acme.freshdesk.com", interval_secs=5)
    assert main(["run", "--once", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "connectors[0].interval_secs: unknown key" in err


def test_unknown_field_source_key_names_it_and_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(
        tmp_path, "https://acme.freshdesk.com", fields={"numero_do_pedido": "cf_pedido"}
    )
    assert main(["run", "--once", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "connectors[sac].fields: numero_do_pedido: not a field of mapping 'sac'" in err


def test_missing_secret_is_a_config_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEST_FD_KEY")
    config = write_config(tmp_path, "https://acme.freshdesk.com")
    assert main(["run", "--once", "--config", str(config)]) == 2
    assert "environment variable TEST_FD_KEY is not set" in capsys.readouterr().err


def test_demo_runs_without_credentials_or_network() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(ROOT / "daemon.py"), "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_SYNC")},
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    assert "Problemas no Site" in result.stdout
    assert "update group=KA status=Pending" in result.stdout
    assert "second pass (echo of our own writes): 0 effects written" in result.stdout


def test_run_stops_gracefully_on_sigterm(
    tmp_path: Path,
    sandbox: tuple[FreshdeskSandbox, RunningServer],
) -> None:
    box, server = sandbox
    config = write_config(tmp_path, server.url)
    process = start_run(config)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sum(1 for w in box.writes if w.method == "PUT") < 5:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert '"event": "daemon.stopped"' in err
    with Store(f"sqlite:///{tmp_path / 'state.sqlite'}") as store:
        assert store.get_cursor("sac") is not None
        assert {e.state for e in store.all_effects()} == {"confirmed"}


def test_run_stops_with_exit_3_when_the_helpdesk_refuses_the_credentials(
    tmp_path: Path,
    sandbox: tuple[FreshdeskSandbox, RunningServer],
) -> None:
    box, server = sandbox
    config = write_config(tmp_path, server.url)
    process = start_run(config, "revoked-key")
    _, err = process.communicate(timeout=60)  # no signal: it stops by itself

    assert process.returncode == 3, err
    assert '"event": "connector.auth"' in err
    assert '"event": "daemon.stopped"' in err
    assert "revoked-key" not in err
    assert box.writes == []


def test_scope_limits_the_tickets_acted_on(
    tmp_path: Path,
    sandbox: tuple[FreshdeskSandbox, RunningServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    box, server = sandbox
    config = write_config(tmp_path, server.url, scope={"request_types": ["Problemas no Site"]})
    assert main(["run", "--once", "--format", "json", "--config", str(config)]) == 0
    summary = json.loads(capsys.readouterr().out)
    outcomes = {t["ticket_id"]: t["outcome"] for t in summary["tickets"]}
    assert outcomes["1"] == "complete"
    assert outcomes["2"] == "out_of_scope"
    assert {w.ticket_id for w in box.writes} == {1, 7}


def test_timers_list_shows_pending_timers_with_due_times(
    tmp_path: Path,
    sandbox: tuple[FreshdeskSandbox, RunningServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, server = sandbox
    config = write_config(tmp_path, server.url)
    assert main(["run", "--once", "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["timers", "list", "--connector", "sac", "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "sac ticket 5 credito_5d",  # 5 business days come before 72 business hours
        "sac ticket 2 distribuidor_72h",
        "sac ticket 2 distribuidor_15d",
    ]
    assert "(pending) — Cadastro > Status do cadastro com o distribuidor" in lines[1]
    assert "003_411e92168c32257f.txt §" in lines[1]


def test_helpdesk_failing_while_listed_ends_with_a_summary_and_exit_69(
    tmp_path: Path,
    sandbox: tuple[FreshdeskSandbox, RunningServer],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import functools

    import connectors._http as http

    monkeypatch.setattr(
        http,
        "RetryPolicy",
        functools.partial(http.RetryPolicy, backoff_base=0.01, max_backoff=0.02),
    )
    box, server = sandbox
    box.inject(Faults(server_errors=100, path=r"/api/v2/tickets$"))
    config = write_config(tmp_path, server.url)

    code = main(["run", "--once", "--format", "json", "--config", str(config)])

    out, err = capsys.readouterr()
    assert code == 69
    summary = json.loads(out)
    assert summary["unavailable"].startswith("RetriableError")
    assert summary["decided"] == 0
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [e["error_class"] for e in events if e.get("event") == "pass.unavailable"] == [
        "RetriableError"
    ]
    assert "Traceback" not in err


def test_an_unexpected_error_is_one_masked_json_line_and_exit_70(
    tmp_path: Path,
    sandbox: tuple[FreshdeskSandbox, RunningServer],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.engine import Engine

    def broken(self: Engine, **kw: object) -> object:
        raise RuntimeError("bug while handling CPF 529.982.247-25")

    monkeypatch.setattr(Engine, "run_pass", broken)
    _, server = sandbox
    config = write_config(tmp_path, server.url)

    assert main(["run", "--once", "--config", str(config)]) == 70

    _, err = capsys.readouterr()
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    [event] = [e for e in events if e.get("event") == "command.internal_error"]
    assert event["error_class"] == "RuntimeError"
    assert "RuntimeError" in event["exception"]  # the traceback, as one JSON field
    assert "529.982.247-25" not in err
    assert "internal error (RuntimeError)" in err


def test_commands_that_only_read_state_never_create_a_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "https://acme.freshdesk.com")
    state = tmp_path / "state.sqlite"

    assert main(["timers", "list", "--config", str(config)]) == 0
    assert f"no timers (no state store at {state})" in capsys.readouterr().out
    assert main(["dead-letters", "list", "--format", "json", "--config", str(config)]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert main(["dead-letters", "retry", "--config", str(config)]) == 2
    assert "nothing to retry" in capsys.readouterr().err
    main(["check", "--config", str(config)])  # the helpdesk is unreachable: not the point
    assert f"state: none yet at {state}" in capsys.readouterr().out

    assert not state.exists()


def test_version_names_the_installed_package(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"helpdesk-sync {version('helpdesk-sync')}"


def test_check_in_json_and_a_broken_mapping_no_connector_uses(
    tmp_path: Path,
    sandbox: tuple[FreshdeskSandbox, RunningServer],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    _, server = sandbox
    shipped = ROOT / "mappings"
    mine = tmp_path / "mappings"
    mine.mkdir()
    shutil.copy(shipped / "sac.yaml", mine / "sac.yaml")
    config = write_config(tmp_path, server.url)
    data = json.loads(config.read_text())
    data["mappings_dir"] = str(mine)
    config.write_text(json.dumps(data))

    assert main(["check", "--format", "json", "--config", str(config)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mappings"] == {"ok": ["sac"], "errors": []}
    assert report["state"]["status"] == "none yet"
    [connector] = report["connectors"]
    assert (connector["name"], connector["status"], connector["types"]) == ("sac", "ok", 35)
    assert report["exit"] == 0

    # A mapping no connector uses, broken: check names its file and line, exit 2.
    (mine / "ouvidoria.yaml").write_text("name: ouvidoria\ntypes: [\n", encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 2
    out = capsys.readouterr().out
    assert "mappings: BAD" in out
    assert "ouvidoria.yaml" in out

    # mappings --check reads the same directory, from the config or the environment.
    assert main(["mappings", "--check", "--config", str(config)]) == 2
    assert "ouvidoria.yaml" in capsys.readouterr().err
    monkeypatch.setenv("HELPDESK_SYNC_MAPPINGS_DIR", str(mine))
    assert main(["mappings", "--check"]) == 2
    capsys.readouterr()
    (mine / "ouvidoria.yaml").unlink()
    assert main(["mappings", "--check"]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {mine / 'sac.yaml'}")
