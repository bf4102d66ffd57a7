"""Backfill progress as a person sees it: counts, a rate and an ETA from counts (a fake
clock), the listing still going on or complete, API waits, the log records a service
gets, and a bar on a terminal that log lines do not break (text and JSON logs)."""

from __future__ import annotations

import io
import json
import logging
import math
import re
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cli.logs import setup_logging
from cli.output import duration
from cli.progress import Progress
from engine.reports import TicketReport


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def done(applied: int = 0, error: str | None = None) -> TicketReport:
    outcome = "error" if error else "complete"
    return TicketReport("1", "v1", outcome, "Pedidos", applied=applied, error=error)


def quiet(clock: FakeClock, **kw: object) -> Progress:
    """No bar, no ticker thread, no log record unless a test asks for one."""
    return Progress("sac", tty=False, clock=clock, tick=0, log_every=math.inf, **kw)  # type: ignore[arg-type]


def render(raw: str) -> list[str]:
    """What a terminal shows for ``raw``: ``\\r`` returns to the line's start, ``\\n`` ends
    it, characters overwrite what was there."""
    lines: list[str] = []
    line: list[str] = []
    col = 0
    for char in raw:
        if char == "\r":
            col = 0
        elif char == "\n":
            lines.append("".join(line).rstrip())
            line, col = [], 0
        else:
            if col < len(line):
                line[col] = char
            else:
                line.append(char)
            col += 1
    if line:
        lines.append("".join(line).rstrip())
    return lines


# ----------------------------------------------------------------------------- counts


def test_eta_comes_from_counts_lower_bound_while_listing_exact_once_complete() -> None:
    clock = FakeClock()
    progress = quiet(clock)
    for _ in range(100):
        progress.ticket_listed()
    for _ in range(25):  # 25 decided in 10 s
        clock.advance(0.4)
        progress.ticket_done(done(applied=2))

    listing = progress.snapshot()
    assert listing.rate == pytest.approx(2.5)
    assert listing.eta == pytest.approx(30.0)  # 75 left at 2.5 a second
    assert "listed ≥ 100 (still listing) · decided 25 · written 50" in listing.text()
    assert "2.5 tickets/s · ETA ≥ 30 s" in listing.text()

    progress.listing_done()
    complete = progress.snapshot()
    assert complete.eta == pytest.approx(30.0)
    assert complete.text().startswith("listed 100 (all) · decided 25 · written 50")
    assert "ETA 30 s" in complete.text()
    assert "≥" not in complete.text()
    fields = complete.fields()
    assert (fields["listed"], fields["decided"], fields["written"]) == (100, 25, 50)
    assert (fields["eta_seconds"], fields["eta_is_lower_bound"]) == (30, False)


def test_no_eta_before_a_rate_or_when_the_listing_is_ahead_of_nothing() -> None:
    clock = FakeClock()
    progress = quiet(clock)
    assert "ETA ?" in progress.snapshot().text()  # nothing listed yet
    progress.ticket_listed()
    clock.advance(3)
    assert "ETA ?" in progress.snapshot().text()  # listed, nothing decided: no rate
    progress.ticket_done(done())
    # all listed so far are done, but the listing goes on: how long is unknown
    assert progress.snapshot().eta is None
    progress.listing_done()
    assert progress.snapshot().eta == 0


def test_the_rate_follows_the_recent_pace_not_the_average_since_the_start() -> None:
    clock = FakeClock()
    progress = quiet(clock, rate_window=60.0)
    for _ in range(200):
        progress.ticket_listed()
    progress.listing_done()
    for _ in range(120):  # two a second for a minute (the night: no day limit)
        clock.advance(0.5)
        progress.ticket_done(done())
    for _ in range(10):  # then one every 6 s (the day window's limit)
        clock.advance(6)
        progress.ticket_done(done())
    snap = progress.snapshot()
    assert snap.rate == pytest.approx(10 / 60, rel=0.15)
    assert "tickets/min" in snap.text()
    assert snap.eta == pytest.approx(70 / (10 / 60), rel=0.15)


def test_failed_and_skipped_tickets_count_as_processed() -> None:
    clock = FakeClock()
    progress = quiet(clock)
    for _ in range(4):
        progress.ticket_listed()
    clock.advance(2)
    progress.ticket_done(done(applied=3))
    progress.ticket_done(done(error="503 Service Unavailable"))
    progress.ticket_skipped()
    snap = progress.snapshot()
    assert (snap.decided, snap.failed, snap.skipped, snap.written) == (1, 1, 1, 3)
    assert snap.remaining == 1
    assert "failed 1 · skipped 1" in snap.text()


def test_api_waits_are_shown_as_such_while_they_last() -> None:
    clock = FakeClock()
    api = {"calls": 40.0, "waited_seconds": 100.0}  # waited before this pass: not its own
    progress = quiet(clock, api_stats=lambda: dict(api))
    for _ in range(3):
        progress.ticket_listed()
    clock.advance(1)
    progress.ticket_done(done())
    assert "API" not in progress.snapshot().text()

    api["waited_seconds"] = 112.0  # the rate budget is sleeping 12 s before the next call
    progress.tick()  # the ticker's beat sees it
    snap = progress.snapshot()
    assert snap.waiting == pytest.approx(12)
    assert "waiting for API limit 12 s" in snap.text()
    assert snap.fields()["waiting_for_api_seconds"] == 12
    clock.advance(5)
    assert "waiting for API limit 7 s" in progress.snapshot().text()

    clock.advance(7)
    progress.ticket_done(done())  # the wait is over: the next ticket went through
    after = progress.snapshot()
    assert after.waiting is None
    assert "waiting" not in after.text()
    assert "API waits 12 s" in after.text()
    assert after.fields()["api_waited_seconds"] == 12


def test_a_stop_request_replaces_the_eta() -> None:
    clock = FakeClock()
    stop = threading.Event()
    progress = quiet(clock, stop=stop)
    progress.ticket_listed()
    progress.ticket_listed()
    clock.advance(1)
    progress.ticket_done(done())
    stop.set()
    text = progress.snapshot().text()
    assert "stopping after the ticket in hand" in text
    assert "ETA" not in text


def test_durations_read_as_people_write_them() -> None:
    assert [duration(s) for s in (0, 0.2, 42, 60, 250, 7500, 1044000, -90)] == [
        "0 s",
        "1 s",
        "42 s",
        "1 min",
        "4 min 10 s",
        "2 h 05 min",
        "12 d 2 h",
        "1 min 30 s",
    ]


# ----------------------------------------------------------------------------- log records


def test_without_a_terminal_progress_is_periodic_log_records(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    progress = Progress("sac", tty=False, clock=clock, tick=0, log_every=30)
    caplog.set_level(logging.INFO, logger="helpdesk_sync")
    with progress:
        for _ in range(10):
            progress.ticket_listed()
        for _ in range(4):
            clock.advance(5)
            progress.ticket_done(done(applied=1))
        assert not [r for r in caplog.records if getattr(r, "event", "") == "backfill.progress"]
        clock.advance(11)  # 31 s since the start: one record is due
        progress.ticket_done(done(applied=2))
        progress.listing_done()
    records = [r for r in caplog.records if getattr(r, "event", "") == "backfill.progress"]
    assert len(records) == 2
    first, last = records
    assert (first.listed, first.decided, first.written, first.final) == (10, 5, 6, False)  # type: ignore[attr-defined]
    assert first.eta_seconds == 31  # type: ignore[attr-defined]
    assert first.eta_is_lower_bound  # type: ignore[attr-defined]
    assert (last.listed, last.decided, last.written, last.final) == (10, 5, 6, True)  # type: ignore[attr-defined]
    assert last.listing_complete  # type: ignore[attr-defined]
    assert "listed 10 (all) · decided 5 · written 6" in last.getMessage()
    assert "took 31 s" in last.getMessage()


# ----------------------------------------------------------------------------- terminal


@pytest.fixture
def root_logging() -> Iterator[None]:
    """The test sets the command's logging up; the root logger is put back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_log_line_during_the_bar_gets_its_own_line_and_the_bar_stays_intact(
    fmt: str, monkeypatch: pytest.MonkeyPatch, root_logging: None
) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)  # the command logs to stderr, the bar too
    setup_logging(fmt, "INFO")
    clock = FakeClock()
    engine_log = logging.getLogger("helpdesk_sync.engine")
    with Progress("sac", tty=True, file=terminal, clock=clock, tick=0) as progress:
        for _ in range(4):
            progress.ticket_listed()
        clock.advance(1)
        progress.ticket_done(done(applied=3))
        engine_log.info(
            "decided for ana.souza@example.com.br",
            extra={"event": "ticket.decided", "connector": "sac", "ticket_id": "7"},
        )
        mid_way = terminal.getvalue()
        for _ in range(3):
            clock.advance(1)
            progress.ticket_done(done(applied=1))
        progress.listing_done()
    [ours] = [h for h in logging.getLogger().handlers if getattr(h, "_helpdesk_sync", False)]
    assert type(ours) is logging.StreamHandler  # the command's own handler is back

    raw = terminal.getvalue()
    assert "ana.souza@example.com.br" not in raw  # masked through the bar's handler too
    lines = render(raw)
    logged = [line for line in lines if "decided for" in line]
    assert len(logged) == 1, lines
    [line] = logged
    assert "backfill sac" not in line
    assert "%|" not in line
    if fmt == "json":
        record = json.loads(line)
        assert (record["event"], record["ticket_id"]) == ("ticket.decided", "7")
        assert record["message"].startswith("decided for a")
    else:
        assert re.fullmatch(
            r"\d\d:\d\d:\d\d INFO    decided for \S+  connector=sac ticket_id=7", line
        )
    # before the line, the bar was on screen with the counts of that moment
    assert "listed ≥ 4 (still listing) · decided 1 · written 3" in mid_way
    # after it, the bar is drawn again below it and ends complete, on its own line
    assert lines.index(line) < len(lines) - 1
    assert re.fullmatch(
        r"backfill sac 100%\|\S+\| listed 4 \(all\) · decided 4 · written 6 · "
        r"1\.0 tickets/s · took 4 s",
        lines[-1],
    ), lines[-1]
    assert raw.endswith("\n")  # the bar's line is ended: what follows starts a new line


# ----------------------------------------------------------------------------- listing


def test_the_engine_reports_what_it_lists_skips_and_decides(tmp_path: Path) -> None:
    """The counts come from the pass itself: the engine's reporter hooks."""
    from engine.engine import Engine
    from engine.store import Store
    from sync.mapping_loader import load_mapping
    from tests.contract.harness import MemoryHarness

    h = MemoryHarness()
    for v in range(3):
        h.complete_ticket(v)
    h.incomplete_ticket()
    h.clock.advance(minutes=1)
    with Store(f"sqlite:///{tmp_path / 'state.sqlite'}", clock=h.clock) as store:
        engine = Engine(h.connector(), load_mapping("sac"), store, clock=h.clock)
        first = quiet(FakeClock())
        result = engine.run_pass(reporter=first)
        assert (first.listed, first.decided, first.skipped) == (result.seen, 4, 0)
        assert first.written == result.applied > 0
        assert first.listing_complete

        # the same window again: the versions already processed are skipped, the echoes
        # of the pass's own writes decided (and write nothing)
        again = quiet(FakeClock())
        repeat = engine.run_pass(since=h.clock() - timedelta(days=1), reporter=again)
        counts = (again.listed, again.skipped, again.decided, again.written)
        assert counts == (repeat.seen, repeat.skipped, repeat.decided, 0)
        assert again.listed == again.skipped + again.decided > 0


def test_a_pass_stopped_before_the_end_does_not_say_its_listing_is_complete(
    tmp_path: Path,
) -> None:
    from engine.engine import Engine
    from engine.store import Store
    from sync.mapping_loader import load_mapping
    from tests.contract.harness import MemoryHarness

    h = MemoryHarness()
    for v in range(3):
        h.complete_ticket(v)
    h.clock.advance(minutes=1)
    stop = threading.Event()

    class StopAfterFirst(Progress):
        def ticket_listed(self) -> None:
            super().ticket_listed()
            stop.set()  # Ctrl-C while the first ticket is in hand

    with Store(f"sqlite:///{tmp_path / 'state.sqlite'}", clock=h.clock) as store:
        engine = Engine(h.connector(), load_mapping("sac"), store, clock=h.clock, stop=stop)
        progress = StopAfterFirst(
            "sac", tty=False, stop=stop, clock=FakeClock(), tick=0, log_every=math.inf
        )
        result = engine.run_pass(reporter=progress)
    assert (progress.listed, result.seen) == (1, 1)
    assert not progress.listing_complete
