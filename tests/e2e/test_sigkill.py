"""SIGKILL at random points of a real backfill process: no effect lost, none duplicated.

The Freshdesk sandbox serves on loopback from this test process, so its state survives
every kill of the ``helpdesk-sync backfill`` subprocess. Kill points are seeded
(``HELPDESK_SYNC_KILL_SEED`` overrides the default; the seed is printed). Half of the kills
come from the sandbox itself, the instant a write has been applied and before its answer
leaves: the window between a write reaching the helpdesk and the journal commit.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.demo import add_demo_ticket, prepare_account
from connectors.freshdesk import FreshdeskConnector
from engine.store import Store
from sandboxes.demo_data import DEMO_TICKETS
from sandboxes.freshdesk import DEFAULT_API_KEY, Faults, FreshdeskSandbox, Write
from sync.decide import decide
from sync.effects import effect_key
from sync.mapping_loader import load_mapping

from ..contract.harness import MARKER

ROOT = Path(__file__).resolve().parents[2]
TICKETS = 240
KILLS = 24
MARKED_KINDS = {"add_note", "create_task", "create_child_ticket", "create_ticket"}
FIELD_KINDS = {"route", "set_status", "set_priority", "mark_critical", "resolve"}


def seed_tickets(box: FreshdeskSandbox, now: datetime) -> list[int]:
    account = prepare_account(box)
    start = now - timedelta(hours=10)
    return [  # threes share one second
        add_demo_ticket(
            box,
            account,
            DEMO_TICKETS[index % len(DEMO_TICKETS)],
            start + timedelta(seconds=index // 3 * 7),
        )
        for index in range(TICKETS)
    ]


def expected_effects(
    url: str, ticket_ids: list[int], now: datetime
) -> tuple[dict[str, tuple[int, str]], set[int]]:
    """What the decisions ask for, from the tickets as seeded (before any write)."""
    connector = FreshdeskConnector(
        "sac",
        url,
        DEFAULT_API_KEY,
        request_type_field="cf_categoria",
        subcategory_field="cf_subcategoria",
    )
    mapping = load_mapping("sac")
    expected: dict[str, tuple[int, str]] = {}
    field_tickets: set[int] = set()
    for ref in connector.changed_since(now - timedelta(days=1)):
        if int(ref.id) not in ticket_ids:
            continue
        loaded = connector.load(ref)
        decision = decide(mapping, loaded.ticket, loaded.context, now)
        for action in decision.actions:
            if action.kind in MARKED_KINDS:
                expected[effect_key("sac", ref.id, action)] = (int(ref.id), action.kind)
            elif action.kind in FIELD_KINDS:
                field_tickets.add(int(ref.id))
    connector.http.close()
    return expected, field_tickets


class Killer:
    """Kills the running backfill right after chosen writes reach the sandbox."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.armed_at: int | None = None
        self.seen = 0
        self.kills_in_write_window = 0

    def __call__(self, write: Write) -> None:
        self.seen += 1
        if self.armed_at is not None and self.seen >= self.armed_at and self.pid:
            self.armed_at = None
            self.kills_in_write_window += 1
            os.kill(self.pid, signal.SIGKILL)


@pytest.mark.slow
def test_sigkill_backfill_loses_and_duplicates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = int(os.environ.get("HELPDESK_SYNC_KILL_SEED", "20261124"))
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    box = FreshdeskSandbox()
    ticket_ids = seed_tickets(box, now)
    killer = Killer()
    # a realistic round trip (30 ms) so that 24 kills land before the work is done
    box.inject(Faults(slow=10**9, delay=0.03))
    box.inject(Faults(method="POST", after_write=killer))
    box.inject(Faults(method="PUT", after_write=killer))

    with box.serve() as server:
        expected, field_tickets = expected_effects(server.url, ticket_ids, now)
        state = tmp_path / "state.sqlite"
        config = tmp_path / "config.yaml"
        config.write_text(
            json.dumps(
                {
                    "state_url": f"sqlite:///{state}",
                    "log_format": "json",
                    "health_address": "127.0.0.1:0",
                    "log_level": "WARNING",
                    "connectors": [
                        {
                            "name": "sac",
                            "kind": "freshdesk",
                            "base_url": server.url,
                            "mapping": "sac",
                            "api_key": DEFAULT_API_KEY,
                            "request_type_field": "cf_categoria",
                            "subcategory_field": "cf_subcategoria",
                            "timeout_seconds": 5,
                        }
                    ],
                }
            ),
            encoding="utf-8",
        )
        since = (now - timedelta(days=1)).isoformat()
        until = (now + timedelta(days=1)).isoformat()
        command = [
            sys.executable,
            str(ROOT / "daemon.py"),
            "backfill",
            "--connector",
            "sac",
            "--since",
            since,
            "--until",
            until,
            "--config",
            str(config),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_SYNC")}

        kills = 0
        runs = 0
        while kills < KILLS:
            runs += 1
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            killer.pid = process.pid
            if kills % 2 == 0:  # inside a write: applied by the helpdesk, not yet journaled
                killer.armed_at = killer.seen + rng.randint(1, 12)
                timeout = 30.0
            else:  # anywhere: start-up, listing, loading, deciding, between writes
                killer.armed_at = None
                timeout = rng.uniform(0.4, 2.5)
            try:
                _, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                _, stderr = process.communicate()
            killer.armed_at = None
            if process.returncode == -signal.SIGKILL:
                kills += 1
            elif process.returncode == 0:
                break  # finished before the kill: everything is done
            else:
                pytest.fail(f"backfill exited {process.returncode}: {stderr[-2000:]}")
        final = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert final.returncode == 0, final.stderr[-2000:]

    present: Counter[str] = Counter()
    for notes in box.conversations.values():
        for note in notes:
            present.update(MARKER.findall(note["body"]))
    for ticket in box.tickets.values():
        present.update(MARKER.findall(ticket.description or ""))
    puts = Counter(w.ticket_id for w in box.writes if w.method == "PUT")

    lost = sorted(k for k in expected if present[k] == 0)
    duplicated = sorted(k for k, n in present.items() if n > 1)
    duplicated_updates = sorted(t for t, n in puts.items() if n > 1)
    with Store(f"sqlite:///{state}") as store:
        unfinished = store.unfinished("sac")
        reconciled = sum(1 for e in store.all_effects() if e.reconciled)
    with capsys.disabled():
        sys.stdout.write(
            f"\nSIGKILL test: seed {seed}; {kills} kills ({killer.kills_in_write_window} inside a "
            f"write, before its journal commit) over {runs} runs; {len(ticket_ids)} tickets; "
            f"effects expected {len(expected) + len(field_tickets)} "
            f"({len(expected)} notes/tasks/tickets, {len(field_tickets)} field updates); "
            f"reconciled after restart {reconciled}; lost {len(lost)}; "
            f"duplicated {len(duplicated) + len(duplicated_updates)}\n"
        )
    assert kills >= 20
    assert killer.kills_in_write_window >= 10
    assert lost == []
    assert duplicated == []
    assert duplicated_updates == []
    assert set(puts) == field_tickets  # every field update happened, once
    assert set(present) == set(expected)  # nothing written that no decision asked for
    assert unfinished == []
