"""Backfill progress as people see it, from a real ``helpdesk-sync backfill`` against the
Freshdesk sandbox on loopback: log records off a terminal whose counts are the summary's,
and on a terminal (a pseudo-terminal) a bar that log lines and Ctrl-C leave intact."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cli.demo import seed
from daemon import main
from sandboxes.freshdesk import DEFAULT_API_KEY, Faults, FreshdeskSandbox, RunningServer

from ..core.test_progress import render

ROOT = Path(__file__).resolve().parents[2]
TICKETS = 9
"""The demo seed's tickets."""
HINT = "backfill stopped after the ticket in hand, progress kept: run the same command again"


@dataclass
class Helpdesk:
    box: FreshdeskSandbox
    server: RunningServer

    def writes(self) -> int:
        with self.box._lock:
            return len(self.box.writes)

    def slow(self, delay: float) -> None:
        """Every call takes ``delay`` seconds: the pass lasts long enough to watch."""
        self.box.inject(Faults(slow=10**9, delay=delay))


@pytest.fixture
def helpdesk() -> Iterator[Helpdesk]:
    box = FreshdeskSandbox()
    seed(box, datetime.now(UTC))
    with box.serve() as server:
        yield Helpdesk(box, server)


@pytest.fixture(autouse=True)
def no_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPDESK_SYNC_CONFIG", raising=False)


def config(tmp_path: Path, helpdesk: Helpdesk, log_format: str = "auto") -> Path:
    path = tmp_path / "helpdesk-sync.yaml"
    settings = {
        "state_url": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "log_format": log_format,
        "health_address": "127.0.0.1:0",
        "connectors": [
            {
                "name": "sac",
                "kind": "freshdesk",
                "base_url": helpdesk.server.url,
                "mapping": "sac",
                "api_key": DEFAULT_API_KEY,
                "request_type_field": "cf_categoria",
                "subcategory_field": "cf_subcategoria",
                "interval_seconds": 5,
            }
        ],
    }
    path.write_text(json.dumps(settings), encoding="utf-8")  # JSON is valid YAML
    return path


def backfill_args(config_path: Path, fmt: str = "json") -> list[str]:
    since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    return [
        "backfill",
        "--connector",
        "sac",
        "--since",
        since,
        "--format",
        fmt,
        "--config",
        str(config_path),
    ]


def command(config_path: Path, fmt: str = "json") -> list[str]:
    return [sys.executable, str(ROOT / "daemon.py"), *backfill_args(config_path, fmt)]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_SYNC")}


def progress_records(stderr: str) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [r for r in records if r.get("event") == "backfill.progress"]


def assert_matches_summary(record: dict[str, Any], summary: dict[str, Any]) -> None:
    """A progress record's counts are the ones the summary prints."""
    assert record["final"] is True
    counts = {k: record[k] for k in ("listed", "decided", "skipped", "failed", "written")}
    assert counts == {
        "listed": summary["seen"],
        "decided": summary["decided"],
        "skipped": summary["skipped"],
        "failed": summary["failed"] + summary["quarantined"],
        "written": summary["applied"],
    }


def wait_for_writes(helpdesk: Helpdesk, process: subprocess.Popen[Any], writes: int) -> None:
    deadline = time.monotonic() + 30
    while helpdesk.writes() < writes:  # in the middle of the pass
        assert process.poll() is None, "the backfill ended before it was interrupted"
        assert time.monotonic() < deadline, "the backfill never wrote"
        time.sleep(0.01)


# ----------------------------------------------------------------------------- no terminal


def test_off_a_terminal_progress_log_records_carry_the_summary_counts(
    tmp_path: Path, helpdesk: Helpdesk
) -> None:
    path = config(tmp_path, helpdesk)  # log_format auto: JSON lines off a terminal
    # one 429 with Retry-After: 2 on a ticket's load: the pass waits 2 s for the API
    helpdesk.box.inject(Faults(rate_limited=1, retry_after=2, path=r"/tickets/5$"))

    first = subprocess.run(
        command(path), capture_output=True, text=True, cwd=ROOT, env=clean_env(), timeout=120
    )
    assert first.returncode == 0, first.stderr
    assert "\r" not in first.stderr  # no bar drawn where nobody watches
    summary = json.loads(first.stdout)
    assert (summary["seen"], summary["decided"]) == (TICKETS, TICKETS)
    [final] = progress_records(first.stderr)  # a short pass: the last record only
    assert_matches_summary(final, summary)
    assert final["listing_complete"] is True
    assert final["eta_seconds"] is None  # over: no ETA, how long it took instead
    assert final["api_waited_seconds"] >= 2
    assert re.search(
        r"listed 9 \(all\) · decided 9 · written \d+ · .* took \d+ s", final["message"]
    )
    assert "API waits 2 s" in final["message"]

    again = subprocess.run(  # the same command: the run resumes, its echoes are skipped
        command(path), capture_output=True, text=True, cwd=ROOT, env=clean_env(), timeout=120
    )
    assert again.returncode == 0, again.stderr
    [final] = progress_records(again.stderr)
    assert_matches_summary(final, json.loads(again.stdout))
    assert final["decided"] == 0


def test_progress_records_come_every_few_seconds_while_the_pass_goes_on(
    tmp_path: Path,
    helpdesk: Helpdesk,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("cli.progress.LOG_EVERY", 0.2)  # the default is 30 s
    monkeypatch.setattr("cli.progress.TICK", 0.05)
    helpdesk.box.inject(Faults(rate_limited=1, retry_after=2, path=r"/tickets/5$"))
    helpdesk.slow(0.03)

    assert main(backfill_args(config(tmp_path, helpdesk))) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    records = progress_records(captured.err)
    *periodic, final = records
    assert len(periodic) >= 5
    assert_matches_summary(final, summary)
    assert not any(r["final"] for r in periodic)
    for key in ("listed", "decided", "written"):  # counts only grow, up to the summary's
        values = [r[key] for r in records]
        assert values == sorted(values)
    assert all(r["decided"] + r["failed"] + r["skipped"] <= r["listed"] for r in records)
    assert periodic[0]["listed"] < TICKETS
    with_eta = [r for r in periodic if r["eta_seconds"] is not None]
    assert with_eta  # an ETA from counts while tickets were left
    assert all(r["eta_is_lower_bound"] != r["listing_complete"] for r in periodic)
    # the 2 s Retry-After was announced as a wait for the API while it lasted
    waiting = [r for r in periodic if r["waiting_for_api_seconds"] is not None]
    assert waiting
    assert all("waiting for API limit" in r["message"] for r in waiting)
    assert {r["decided"] for r in waiting} == {4}  # tickets 1-4 done, ticket 5's load waits


def test_ctrl_c_off_a_terminal_last_progress_record_then_the_resume_hint(
    tmp_path: Path, helpdesk: Helpdesk
) -> None:
    helpdesk.slow(0.05)
    err_path = tmp_path / "stderr.log"
    with err_path.open("w", encoding="utf-8") as err:
        process = subprocess.Popen(
            command(config(tmp_path, helpdesk)),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=ROOT,
            env=clean_env(),
        )
        wait_for_writes(helpdesk, process, 3)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 130
    stderr = err_path.read_text(encoding="utf-8")
    summary = json.loads(out)
    assert summary["seen"] < TICKETS  # it really stopped early
    [final] = progress_records(stderr)
    assert_matches_summary(final, summary)
    assert final["stopping"] is True
    assert "stopped after" in final["message"]
    lines = stderr.splitlines()
    hint = next(i for i, line in enumerate(lines) if line.startswith(HINT))
    assert hint > next(i for i, line in enumerate(lines) if '"backfill.progress"' in line)


# ----------------------------------------------------------------------------- terminal


def on_a_terminal(
    argv: list[str], until: Any = None
) -> tuple[subprocess.Popen[bytes], str, list[str]]:
    """Run ``argv`` with its stderr on a pseudo-terminal 160 columns wide; ``until`` is
    called once it runs (to interrupt it). Returns the process, its stdout and the lines
    the terminal shows."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=ROOT,
        env=clean_env(),
    )
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal's other side is closed: the process is gone
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if until is not None:
        until(process)
    out, _ = process.communicate(timeout=60)
    reader.join(timeout=10)
    os.close(master)
    raw = b"".join(chunks).decode("utf-8")
    return process, out.decode("utf-8"), render(raw)


LOG_LINE = re.compile(r"\d\d:\d\d:\d\d (INFO|WARNING|ERROR) ")
BAR_LINE = re.compile(r"backfill sac +\d+%\|.*\| listed ")


def test_on_a_terminal_a_bar_with_log_lines_above_it(tmp_path: Path, helpdesk: Helpdesk) -> None:
    helpdesk.slow(0.03)
    argv = command(config(tmp_path, helpdesk), fmt="text")  # log_format auto: text here
    process, out, lines = on_a_terminal(argv)
    assert process.returncode == 0, lines
    summary = re.search(r"seen (\d+), decided (\d+).*effects applied (\d+)", out)
    assert summary is not None, out
    seen, decided, applied = map(int, summary.groups())
    # every log line is whole, on its own line; the bar is never mixed into one
    logged = [line for line in lines if LOG_LINE.match(line)]
    assert len([line for line in logged if " decided " in line]) == TICKETS
    assert not [line for line in logged if "backfill sac" in line or "%|" in line]
    assert all(LOG_LINE.match(line) or BAR_LINE.match(line) for line in lines), lines
    # one bar, drawn last before the lease is given up, with the summary's counts
    [bar] = [line for line in lines if BAR_LINE.match(line)]
    assert bar.startswith("backfill sac 100%|")
    assert f"listed {seen} (all) · decided {decided} · written {applied} · " in bar
    assert re.search(r" · took \d+ s$", bar)
    assert "lease given up" in lines[-1]


def test_ctrl_c_on_a_terminal_closes_the_bar_before_the_resume_hint(
    tmp_path: Path, helpdesk: Helpdesk
) -> None:
    helpdesk.slow(0.05)
    argv = command(config(tmp_path, helpdesk), fmt="text")

    def ctrl_c(process: subprocess.Popen[bytes]) -> None:
        wait_for_writes(helpdesk, process, 3)
        process.send_signal(signal.SIGINT)

    process, out, lines = on_a_terminal(argv, until=ctrl_c)
    assert process.returncode == 130, lines
    summary = re.search(r"seen (\d+), decided (\d+).*effects applied (\d+)", out)
    assert summary is not None, out
    seen, decided, applied = map(int, summary.groups())
    assert seen < TICKETS
    [bar] = [line for line in lines if BAR_LINE.match(line)]
    assert f"listed {seen} (listing not finished) · decided {decided} · written {applied}" in bar
    assert re.search(r" · stopped after \d+ s$", bar)
    hint = next(i for i, line in enumerate(lines) if line.startswith(HINT))
    assert hint > lines.index(bar)  # on a line of its own, after the bar's
    assert lines[hint] == HINT + " to resume"
