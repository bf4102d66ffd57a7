"""Several processes on one state store and one helpdesk account: one owner per connector.

Real ``helpdesk-sync`` processes (``run --once``, the ``run`` service, ``backfill``) run
against one store (SQLite file, PostgreSQL schema) and one Freshdesk sandbox served on
loopback from this test process, so the sandbox's state is the truth about what was
written: every effect the decisions ask for is present exactly once. Owners are SIGKILLed
the instant one of their writes has reached the helpdesk and before its answer leaves
(the window between a write and its journal commit); which process owns the connector is
read from the store's ``leases`` row (``host:pid:random``). Processes given a temporary
directory of their own cannot see each other's ``AliveMark``: they behave as on separate
hosts, so a dead owner's lease must run out before another takes over.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cli.demo import add_demo_ticket, prepare_account
from daemon import EXIT_LEASE, main
from engine.engine import Engine
from engine.ownership import ConnectorLease, new_owner_id
from engine.store import Store
from sandboxes.demo_data import DEMO_TICKETS
from sandboxes.freshdesk import (
    DEFAULT_API_KEY,
    Faults,
    FreshdeskSandbox,
    RunningServer,
    Write,
)
from sync.mapping_loader import load_mapping

from ..contract.harness import MARKER, FreshdeskHarness, mocked
from ..store import BACKENDS, backend_url
from .test_sigkill import expected_effects

ROOT = Path(__file__).resolve().parents[2]
TICKETS = 27
INTERVAL = 10
"""The connectors' poll interval (seconds): a killed owner's work is finished within it."""
LEASE = 2.0
DELAY = 0.01
"""Seconds each sandbox call takes: passes last long enough to be overlapped and killed."""


SUMMARY_DECIDED = r"seen \d+, decided (\d+)"
"""The count in a pass's summary line ("sac: seen 40, decided 38, ...")."""

# ----------------------------------------------------------------------------- fixtures


@dataclass
class Account:
    """One sandbox account serving on loopback, its tickets and what they ask for."""

    box: FreshdeskSandbox
    server: RunningServer
    now: datetime
    expected: dict[str, tuple[int, str]]
    field_tickets: set[int]

    def markers(self) -> Counter[str]:
        found: Counter[str] = Counter()
        with self.box._lock:
            for notes in self.box.conversations.values():
                for note in notes:
                    found.update(MARKER.findall(note["body"]))
            for ticket in self.box.tickets.values():
                found.update(MARKER.findall(ticket.description or ""))
        return found

    def puts(self) -> Counter[int | None]:
        with self.box._lock:
            return Counter(w.ticket_id for w in self.box.writes if w.method == "PUT")

    def writes(self) -> int:
        with self.box._lock:
            return len(self.box.writes)

    def done(self) -> bool:
        """Every effect asked for is in the helpdesk (at least once)."""
        return set(self.markers()) >= set(self.expected) and set(self.puts()) >= set(
            self.field_tickets
        )

    def assert_exactly_once(self) -> None:
        present, puts = self.markers(), self.puts()
        lost = sorted(k for k in self.expected if present[k] == 0)
        duplicated = sorted(k for k, n in present.items() if n > 1)
        duplicated_updates = sorted(t for t, n in puts.items() if n > 1)
        assert (lost, duplicated, duplicated_updates) == ([], [], [])
        assert set(present) == set(self.expected)  # nothing written that nobody asked for
        assert set(puts) == self.field_tickets


@pytest.fixture
def account() -> Iterator[Account]:
    now = datetime.now(UTC).replace(microsecond=0)
    box = FreshdeskSandbox()
    demo = prepare_account(box)
    start = now - timedelta(hours=6)
    ids = [
        add_demo_ticket(
            box, demo, DEMO_TICKETS[i % len(DEMO_TICKETS)], start + timedelta(seconds=i * 7)
        )
        for i in range(TICKETS)
    ]
    with box.serve() as server:
        expected, field_tickets = expected_effects(server.url, ids, now)
        box.inject(Faults(slow=10**9, delay=DELAY))
        yield Account(box, server, now, expected, field_tickets)


@pytest.fixture(params=BACKENDS)
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with backend_url(request.param, tmp_path) as url:
        yield url


# ----------------------------------------------------------------------------- processes


@dataclass
class Fleet:
    """The helpdesk-sync processes of one test, started and ended only by it."""

    tmp_path: Path
    state_url: str
    account: Account
    config: Path = field(init=False)
    processes: list[tuple[str, subprocess.Popen[bytes], Path]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.config = self.tmp_path / "config.yaml"
        settings = {
            "state_url": self.state_url,
            "log_format": "json",
            "health_address": "127.0.0.1:0",  # several processes on one host: any free port
            "lease_seconds": LEASE,
            "connectors": [
                {
                    "name": "sac",
                    "kind": "freshdesk",
                    "base_url": self.account.server.url,
                    "mapping": "sac",
                    "api_key": DEFAULT_API_KEY,
                    "request_type_field": "cf_categoria",
                    "subcategory_field": "cf_subcategoria",
                    "interval_seconds": INTERVAL,
                    "timeout_seconds": 30,  # a write held in a killer's gate is not retried
                }
            ],
        }
        self.config.write_text(json.dumps(settings), encoding="utf-8")

    def start(self, command: str, *, own_tmp: bool = False) -> subprocess.Popen[bytes]:
        """``once``, ``run`` (the service) or ``backfill``; ``own_tmp``: as on another host."""
        args = {
            "once": ["run", "--once", "--wait", "60"],
            "run": ["run"],
            "backfill": [
                "backfill",
                "--connector",
                "sac",
                "--since",
                (self.account.now - timedelta(days=1)).isoformat(),
                "--until",
                (self.account.now + timedelta(days=1)).isoformat(),
                "--wait",
                "60",
            ],
            "backfill-open": [  # no --until: the run ends where it first started
                "backfill",
                "--connector",
                "sac",
                "--since",
                (self.account.now - timedelta(days=1)).isoformat(),
                "--wait",
                "60",
            ],
        }[command]
        index = len(self.processes)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_SYNC")}
        if own_tmp:
            env["TMPDIR"] = str(self.tmp_path / f"tmp{index}")
            Path(env["TMPDIR"]).mkdir()
        log_path = self.tmp_path / f"{index}-{command}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, str(ROOT / "daemon.py"), *args, "--config", str(self.config)],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        self.processes.append((command, process, log_path))
        return process

    def pids(self) -> set[int]:
        return {p.pid for _, p, _ in self.processes if p.poll() is None}

    def log(self, process: subprocess.Popen[bytes]) -> str:
        path = next(path for _, p, path in self.processes if p is process)
        return path.read_text(encoding="utf-8", errors="replace")

    def events(self, process: subprocess.Popen[bytes], name: str) -> list[dict[str, Any]]:
        lines = (line for line in self.log(process).splitlines() if line.startswith("{"))
        return [e for e in map(json.loads, lines) if e.get("event") == name]

    def owner_pid(self, store: Store) -> int | None:
        holder = store.lease_holder("sac")
        return None if holder is None else int(holder.owner.split(":")[1])

    def wait_owned_by(self, store: Store, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 30
        while self.owner_pid(store) != process.pid:
            assert process.poll() is None, self.log(process)
            assert time.monotonic() < deadline, "the process never took the lease"
            time.sleep(0.05)

    def wait_mid_pass(self, process: subprocess.Popen[bytes], writes: int = 5) -> None:
        """Until the account took ``writes`` writes: the process is in the middle of a pass."""
        deadline = time.monotonic() + 30
        while self.account.writes() < writes:
            assert process.poll() is None, self.log(process)
            assert time.monotonic() < deadline, self.log(process)
            time.sleep(0.01)

    def wait_event(self, process: subprocess.Popen[bytes], name: str) -> dict[str, Any]:
        """The first ``name`` event the process logs (it must log one within 30 s)."""
        deadline = time.monotonic() + 30
        while not (found := self.events(process, name)):
            assert process.poll() is None, self.log(process)
            assert time.monotonic() < deadline, f"no {name}:\n{self.log(process)[-3000:]}"
            time.sleep(0.05)
        return found[0]

    def finish(self, timeout: float = 60) -> dict[subprocess.Popen[bytes], int]:
        """Wait for every command to exit; stop services (SIGTERM) once the work is done."""
        deadline = time.monotonic() + timeout
        while not self.account.done() or any(
            c != "run" and p.poll() is None for c, p, _ in self.processes
        ):
            assert time.monotonic() < deadline, self._logs()
            time.sleep(0.05)
        for command, process, _ in self.processes:
            if command == "run" and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for _, process, _ in self.processes:
            codes[process] = process.wait(timeout=30)
        return codes

    def stop_all(self) -> None:
        for _, process, _ in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    def _logs(self) -> str:
        return "\n".join(f"--- {c} ---\n{self.log(p)[-3000:]}" for c, p, _ in self.processes)


@pytest.fixture
def fleet(tmp_path: Path, state_url: str, account: Account) -> Iterator[Fleet]:
    fleet = Fleet(tmp_path, state_url, account)
    try:
        yield fleet
    finally:
        fleet.stop_all()


class OwnerKiller:
    """SIGKILLs the connector's owner right after its ``after``-th write reaches the helpdesk.

    With a ``gate`` that write is held (its answer not sent) until the test opens the gate:
    the other processes are up and waiting when the owner dies.
    """

    def __init__(
        self, fleet: Fleet, store: Store, after: int, gate: threading.Event | None = None
    ) -> None:
        self.fleet, self.store, self.after, self.gate = fleet, store, after, gate
        self.seen = 0
        self.killed: int | None = None
        self.killed_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self, write: Write) -> None:
        with self._lock:
            self.seen += 1
            if self.killed is not None or self.seen < self.after:
                return
            if self.gate is not None:
                self.gate.wait(timeout=30)
            pid = self.fleet.owner_pid(self.store)
            if pid is None or pid not in self.fleet.pids():  # only processes of this test
                return
            os.kill(pid, signal.SIGKILL)
            self.killed, self.killed_at = pid, time.monotonic()

    def arm(self) -> OwnerKiller:
        self.fleet.account.box.inject(Faults(method="POST", after_write=self))
        self.fleet.account.box.inject(Faults(method="PUT", after_write=self))
        return self

    def takeover_seconds(self) -> float:
        """From the kill until every effect asked for is in the helpdesk."""
        deadline = time.monotonic() + 30
        while self.killed_at is None:
            assert time.monotonic() < deadline, f"the owner was never killed\n{self.fleet._logs()}"
            time.sleep(0.02)
        deadline = self.killed_at + 3 * INTERVAL
        while not self.fleet.account.done():
            assert time.monotonic() < deadline, self.fleet._logs()
            time.sleep(0.02)
        return time.monotonic() - self.killed_at


@pytest.fixture
def store(state_url: str) -> Iterator[Store]:
    with Store(state_url) as opened:
        yield opened


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("count", [2, 3])
def test_processes_started_together_write_each_effect_once(
    fleet: Fleet, store: Store, count: int
) -> None:
    processes = [fleet.start("once") for _ in range(count)]
    codes = fleet.finish()
    assert [codes[p] for p in processes] == [0] * count, fleet._logs()
    fleet.account.assert_exactly_once()
    # each pass ran under the lease, one after the other: every process took it once
    assert all(len(fleet.events(p, "lease.acquired")) == 1 for p in processes)
    assert store.lease_holder("sac") is None  # released on a clean exit


def test_three_processes_owner_killed_another_finishes_within_one_interval(
    fleet: Fleet, store: Store
) -> None:
    killer = OwnerKiller(fleet, store, after=8).arm()
    # own temporary directories: as on three hosts, the dead owner's lease must run out
    processes = [fleet.start("once", own_tmp=True) for _ in range(3)]
    took = killer.takeover_seconds()
    codes = fleet.finish()
    fleet.account.assert_exactly_once()
    assert took < INTERVAL, f"finished {took:.1f} s after the kill"
    assert sorted(codes[p] for p in processes) == [-signal.SIGKILL, 0, 0], fleet._logs()


def test_service_hands_over_to_a_backfill_between_passes(fleet: Fleet, store: Store) -> None:
    service = fleet.start("run")
    fleet.wait_owned_by(store, service)
    backfill = fleet.start("backfill")
    codes = fleet.finish()
    assert (codes[service], codes[backfill]) == (0, 0), fleet._logs()
    fleet.account.assert_exactly_once()
    [handed] = fleet.events(service, "lease.handed_over")
    [taken] = fleet.events(backfill, "lease.acquired")
    assert handed["to"] == taken["owner"]


def test_sigterm_stops_a_backfill_after_the_ticket_in_hand_and_gives_its_lease_up(
    fleet: Fleet, store: Store
) -> None:
    backfill = fleet.start("backfill")
    fleet.wait_owned_by(store, backfill)
    fleet.wait_mid_pass(backfill)
    backfill.send_signal(signal.SIGTERM)
    assert backfill.wait(timeout=30) == EXIT_LEASE, fleet.log(backfill)  # resumable: 75
    assert fleet.events(backfill, "daemon.stopping")
    assert store.lease_holder("sac") is None  # given up at once, not left to run out
    assert not fleet.account.done()  # it really stopped early
    again = fleet.start("backfill")  # the same window again: resumes, finishes, once
    codes = fleet.finish()
    assert codes[again] == 0, fleet.log(again)
    fleet.account.assert_exactly_once()


def test_an_open_ended_backfill_stopped_with_ctrl_c_and_run_again_decides_each_ticket_once(
    fleet: Fleet, store: Store
) -> None:
    first = fleet.start("backfill-open")
    fleet.wait_owned_by(store, first)
    fleet.wait_mid_pass(first)
    first.send_signal(signal.SIGINT)  # Ctrl-C
    assert first.wait(timeout=30) == 130, fleet.log(first)
    assert "run the same command again to resume" in fleet.log(first)
    again = fleet.start("backfill-open")  # the same command, no --until: it resumes
    codes = fleet.finish()
    assert codes[again] == 0, fleet.log(again)
    fleet.account.assert_exactly_once()
    assert "resuming the backfill from" in fleet.log(again)
    decided = [int(m) for p in (first, again) for m in re.findall(SUMMARY_DECIDED, fleet.log(p))]
    assert sum(decided) == TICKETS, (decided, fleet._logs())


def test_an_open_ended_backfill_killed_and_run_again_decides_each_ticket_once(
    fleet: Fleet, store: Store
) -> None:
    first = fleet.start("backfill-open")
    fleet.wait_owned_by(store, first)
    fleet.wait_mid_pass(first)
    first.kill()  # SIGKILL: no handler runs, the ticket in hand is left half done
    assert first.wait(timeout=30) == -signal.SIGKILL
    again = fleet.start("backfill-open")  # the same command, no --until: it resumes
    codes = fleet.finish()
    assert codes[again] == 0, fleet.log(again)
    fleet.account.assert_exactly_once()
    assert "resuming the backfill from" in fleet.log(again)
    with fleet.account.box._lock:
        tickets = {str(t) for t in fleet.account.box.tickets if t <= TICKETS}
    before = [e["ticket_id"] for e in fleet.events(first, "ticket.decided")]
    after = [e["ticket_id"] for e in fleet.events(again, "ticket.decided")]
    assert 0 < len(before) < TICKETS
    assert len(after) == len(set(after))
    assert set(before) | set(after) == tickets, fleet._logs()
    # Only the ticket in hand at the kill may be decided again: its decision had not
    # been kept (when its writes had reached the helpdesk, they are found, not resent;
    # when they had moved the ticket past the run's end, ``run`` polls it instead).
    assert len(set(before) & set(after)) <= 1, (before, after)


def test_backfill_owner_killed_the_service_takes_over_within_one_interval(
    fleet: Fleet, store: Store
) -> None:
    gate = threading.Event()
    killer = OwnerKiller(fleet, store, after=4, gate=gate).arm()
    # own temporary directories: as on two hosts, the dead owner's lease must run out
    backfill = fleet.start("backfill", own_tmp=True)
    fleet.wait_owned_by(store, backfill)
    service = fleet.start("run", own_tmp=True)
    busy = fleet.wait_event(service, "lease.busy")  # it skips while the backfill owns it
    assert busy["holder"].split(":")[1] == str(backfill.pid)
    assert datetime.fromisoformat(busy["expires_at"]) > datetime.now(UTC) - timedelta(seconds=5)
    gate.set()
    took = killer.takeover_seconds()
    codes = fleet.finish()
    fleet.account.assert_exactly_once()
    assert took < INTERVAL, f"finished {took:.1f} s after the kill"
    assert (killer.killed, codes[backfill], codes[service]) == (
        backfill.pid,
        -signal.SIGKILL,
        0,
    ), fleet._logs()
    assert fleet.events(service, "lease.acquired")


def test_service_owner_killed_next_to_a_replica_and_a_backfill_the_rest_finish(
    fleet: Fleet, store: Store
) -> None:
    gate = threading.Event()
    killer = OwnerKiller(fleet, store, after=4, gate=gate).arm()
    first = fleet.start("run")
    fleet.wait_owned_by(store, first)
    replica = fleet.start("run")
    backfill = fleet.start("backfill")
    fleet.wait_event(replica, "lease.busy")
    fleet.wait_event(backfill, "lease.waiting")
    gate.set()
    took = killer.takeover_seconds()  # one host: the dead owner's lease is broken at once
    codes = fleet.finish()
    fleet.account.assert_exactly_once()
    assert took < INTERVAL, f"finished {took:.1f} s after the kill"
    assert (killer.killed, codes.pop(first)) == (first.pid, -signal.SIGKILL)
    assert set(codes.values()) == {0}, fleet._logs()
    broken = fleet.events(backfill, "lease.broken") + fleet.events(replica, "lease.broken")
    assert [b["holder"].split(":")[1] for b in broken] == [str(first.pid)]


# ------------------------------------------------------------- refusals and settings


@pytest.fixture
def no_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPDESK_SYNC_CONFIG", raising=False)


def test_busy_connector_refused_with_exit_75_and_nothing_written(
    tmp_path: Path,
    account: Account,
    no_config_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fleet = Fleet(tmp_path, f"sqlite:///{tmp_path / 'state.sqlite'}", account)
    with Store(fleet.state_url) as store:
        assert store.acquire_lease("sac", "elsewhere:4242:abc123", timedelta(minutes=5))
        config = ["--config", str(fleet.config)]
        assert main(["run", "--once", "--wait", "0.3", *config]) == EXIT_LEASE
        since = ["--since", (account.now - timedelta(days=1)).isoformat()]
        assert main(["backfill", "--connector", "sac", *since, "--wait", "0", *config]) == 75
        err = capsys.readouterr().err
        assert "connector sac is busy: process elsewhere:4242:abc123 holds it" in err
        assert "waited 0.3 s and wrote nothing for it" in err
        refused = [json.loads(x) for x in err.splitlines() if '"lease.refused"' in x]
        assert [r["holder"] for r in refused] == ["elsewhere:4242:abc123"] * 2
        assert account.writes() == 0
        assert store.all_effects() == []
        # --dry-run writes nothing and needs no lease
        assert main(["run", "--once", "--dry-run", *config]) == 0
        assert store.lease_holder("sac").owner == "elsewhere:4242:abc123"  # type: ignore[union-attr]


def test_lease_longer_than_the_interval_is_a_config_error(
    tmp_path: Path, account: Account, no_config_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = Fleet(tmp_path, f"sqlite:///{tmp_path / 'state.sqlite'}", account)
    settings = json.loads(fleet.config.read_text(encoding="utf-8"))
    settings["lease_seconds"] = INTERVAL
    fleet.config.write_text(json.dumps(settings), encoding="utf-8")
    assert main(["run", "--once", "--config", str(fleet.config)]) == 2
    err = capsys.readouterr().err
    assert "config.yaml:1: lease_seconds: " in err
    assert "must be shorter than connectors[sac].interval_seconds (10)" in err


def test_engine_stops_writing_once_another_process_took_over(tmp_path: Path) -> None:
    """Fencing: the renewal before each ticket's writes stops a pass that lost its lease."""
    with mocked() as rsps, Store(f"sqlite:///{tmp_path / 'state.sqlite'}") as store:
        h = FreshdeskHarness(rsps)
        tickets = [h.complete_ticket(i) for i in range(3)] + [h.incomplete_ticket()]
        h.clock.advance(minutes=1)
        ttl = timedelta(seconds=30)
        lease = ConnectorLease(store, "fd", new_owner_id(), ttl)
        assert lease.try_acquire() is None
        stolen: list[int] = []

        def take_over(write: Write) -> None:  # another process takes the connector over
            if not stolen:
                stolen.append(write.ticket_id or 0)
                assert store.acquire_lease("fd", "other:1:x", ttl, datetime(2999, 1, 1, tzinfo=UTC))

        h.sandbox.inject(Faults(after_write=take_over))

        def engine(fence: Any) -> Engine:
            return Engine(
                h.connector(),
                load_mapping(h.mapping),
                store,
                clock=h.clock,
                initial_lookback=timedelta(days=2),
                fence=fence,
            )

        result = engine(lease.fence).run_pass()
        assert result.lease_lost
        assert result.stopped
        assert result.decided == 1  # the ticket being written when it happened, no other
        assert {str(w.ticket_id) for w in h._writes()} == {str(stolen[0])}
        assert {e.ticket_id for e in store.all_effects()} == {str(stolen[0])}

        # the new owner finishes from the journal the old one left: exactly once
        done = engine(None).run_pass()
        assert done.ok
        assert not done.lease_lost
        assert {t.ticket_id for t in done.tickets} >= set(tickets) - {str(stolen[0])}
        assert all(n == 1 for n in h.markers().values())
        assert {str(w.ticket_id) for w in h._writes()} >= set(tickets)
