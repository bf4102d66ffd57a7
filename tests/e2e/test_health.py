"""``run``'s /healthz, /readyz and /metrics: values after a sandbox pass with known outcomes,
readiness failing on refused credentials and on a stale connector, and the live service."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cli.health import Health, RunningHealth, serve
from engine.engine import Engine
from engine.store import Store
from sandboxes.freshdesk import DEFAULT_API_KEY
from sync.mapping_loader import load_mapping
from tests.contract.harness import FreshdeskHarness, mocked
from tests.e2e.test_commands import ROOT, start_run, write_config

INTERVAL = 60.0
NAME = "fd"
"""The harness's Freshdesk connector."""


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, None when absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FreshdeskHarness, Health, RunningHealth]]:
    with mocked() as rsps:
        harness = FreshdeskHarness(rsps)
        with Store(f"sqlite:///{tmp_path / 'state.sqlite'}", clock=harness.clock) as store:
            health = Health(store, {NAME: INTERVAL}, clock=harness.clock)
            running = serve(health, "127.0.0.1:0")
            try:
                yield harness, health, running
            finally:
                running.stop()


def one_pass(harness: FreshdeskHarness, health: Health, store: Store) -> None:
    engine = Engine(
        harness.connector(),
        load_mapping(harness.mapping),
        store,
        clock=harness.clock,
        initial_lookback=timedelta(days=2),
    )
    health.pass_done(NAME, engine.run_pass())


def test_metrics_after_a_sandbox_pass_with_known_outcomes(
    served: tuple[FreshdeskHarness, Health, RunningHealth],
) -> None:
    harness, health, running = served
    for variant in range(3):  # KA route, distributor child ticket + timers, finance route
        harness.complete_ticket(variant)
    harness.incomplete_ticket()
    harness.clock.advance(minutes=1)
    one_pass(harness, health, health.store)

    status, text = get(f"http://{running.address}/metrics")

    assert status == 200
    f = NAME
    assert metric(text, "helpdesk_sync_passes_total", connector=f, result="ok") == 1
    assert metric(text, "helpdesk_sync_tickets_decided_total", connector=f, outcome="complete") == 3
    assert (
        metric(text, "helpdesk_sync_tickets_decided_total", connector=f, outcome="incomplete") == 1
    )
    notes = [e for e in health.store.all_effects(f) if e.kind == "add_note"]
    assert len(notes) == 4  # one per ticket
    confirmed = metric(
        text, "helpdesk_sync_effects", connector=f, kind="add_note", state="confirmed"
    )
    assert confirmed == 4
    assert (
        metric(
            text,
            "helpdesk_sync_effects",
            connector=f,
            kind="create_child_ticket",
            state="confirmed",
        )
        == 1
    )
    assert metric(text, "helpdesk_sync_dead_letters", connector=f) == 0
    assert metric(text, "helpdesk_sync_timers_pending", connector=f) == 2  # the child's 72 h/15 d
    assert metric(text, "helpdesk_sync_timers_overdue", connector=f) == 0
    lag = metric(text, "helpdesk_sync_cursor_lag_seconds", connector=f)
    assert lag is not None
    assert 0 <= lag <= 600  # the cursor sits at the newest ticket listed, minutes ago
    assert get(f"http://{running.address}/healthz") == (200, "ok\n")
    status, body = get(f"http://{running.address}/readyz")
    assert (status, json.loads(body)) == (200, {"ready": True, "problems": []})


def test_readiness_fails_before_the_first_pass_on_refused_credentials_and_when_stale(
    served: tuple[FreshdeskHarness, Health, RunningHealth],
) -> None:
    harness, health, running = served
    url = f"http://{running.address}/readyz"
    status, body = get(url)
    assert status == 503
    assert json.loads(body)["problems"] == ["fd: starting (no pass yet)"]

    one_pass(harness, health, health.store)
    assert get(url)[0] == 200

    health.pass_error(NAME, "auth", "freshdesk: 401 You have to be logged in.")
    status, body = get(url)
    assert status == 503
    assert json.loads(body)["problems"] == ["fd: auth: freshdesk: 401 You have to be logged in."]

    one_pass(harness, health, health.store)
    harness.clock.advance(seconds=3 * INTERVAL + 1)  # no job since: the connector is stale
    status, body = get(url)
    assert status == 503
    assert json.loads(body)["problems"] == ["fd: last pass 181 s ago (interval 60 s)"]

    health.skipped(NAME)  # another process owns it and works: ready again
    assert get(url)[0] == 200


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_run_serves_health_and_metrics_while_it_polls(tmp_path: Path) -> None:
    from sandboxes.freshdesk import FreshdeskSandbox

    box = FreshdeskSandbox()  # an empty account: passes still run and report
    with box.serve() as server:
        port = free_port()
        config = write_config(tmp_path, server.url)
        data = json.loads(config.read_text())
        data["health_address"] = f"127.0.0.1:{port}"
        config.write_text(json.dumps(data))
        process = start_run(config)
        try:
            deadline, ready = time.monotonic() + 30, (0, "")
            while time.monotonic() < deadline and ready[0] != 200:
                time.sleep(0.2)
                try:
                    ready = get(f"http://127.0.0.1:{port}/readyz")
                except OSError:
                    continue
            assert ready[0] == 200, ready
            status, text = get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200
            passes = metric(text, "helpdesk_sync_passes_total", connector="sac", result="ok")
            assert passes is not None
            assert passes >= 1
        finally:
            process.terminate()
            _, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert '"event": "health.started"' in err


def test_run_exits_2_when_the_health_address_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path, "https://acme.freshdesk.com")
        data = json.loads(config.read_text())
        data["health_address"] = f"127.0.0.1:{port}"
        config.write_text(json.dumps(data))
        done = subprocess.run(
            [sys.executable, str(ROOT / "daemon.py"), "run", "--config", str(config)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "TEST_FD_KEY": DEFAULT_API_KEY},
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert '"event": "health.error"' in done.stderr


def test_api_use_is_exported_per_connector(tmp_path: Path) -> None:
    with mocked() as rsps:
        harness = FreshdeskHarness(rsps)
        harness.complete_ticket(0)
        harness.clock.advance(minutes=1)
        harness.fail(kind="429", count=1)  # one "not now" with Retry-After: 7
        connector = harness.connector()
        with Store(f"sqlite:///{tmp_path / 'state.sqlite'}", clock=harness.clock) as store:
            health = Health(
                store, {NAME: INTERVAL}, clock=harness.clock, connectors={NAME: connector}
            )
            engine = Engine(
                connector,
                load_mapping(harness.mapping),
                store,
                clock=harness.clock,
                initial_lookback=timedelta(days=2),
            )
            health.pass_done(NAME, engine.run_pass())
            running = serve(health, "127.0.0.1:0")
            try:
                _, text = get(f"http://{running.address}/metrics")
            finally:
                running.stop()

    calls = metric(text, "helpdesk_sync_api_calls_total", connector=NAME)
    assert calls == connector.http.calls  # type: ignore[attr-defined]
    assert calls is not None
    assert calls >= 3  # the list (twice: the 429, then the answer), the ticket, the writes
    assert metric(text, "helpdesk_sync_api_throttled_total", connector=NAME) == 1
    waited = metric(text, "helpdesk_sync_api_wait_seconds_total", connector=NAME)
    assert waited is not None
    assert waited >= 7  # Retry-After honoured
    # No rate budget on this connector: no remaining quota to report, so no sample.
    assert metric(text, "helpdesk_sync_api_remaining", connector=NAME) is None
