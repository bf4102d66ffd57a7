"""Backfill against the loopback Freshdesk sandbox under a plan's rate limits, time-scaled.

Usage: python bench/backfill.py [--tickets 10000] [--plan growth] [--time-scale 40]
       python bench/backfill.py --tickets 100000 --time-scale 80    # the memory curve
       python bench/backfill.py --quick               # smoke run, under a minute
       python bench/backfill.py --connector movidesk [--limits day|night|both] [--quick]
       python bench/backfill.py --connector salesforce [--quick]

``--connector movidesk`` runs the Movidesk backfill (``bench/backfill_movidesk.py``: the
Emissor account, by day at 10 requests a minute and by night), ``--connector salesforce``
the Salesforce one (``bench/backfill_salesforce.py``: the EPS org, calls per case); what
follows describes the Freshdesk run (the default).

What runs where
---------------
* A child process (``multiprocessing``, spawned) holds ``FreshdeskSandbox`` with the plan's
  limits (per-minute credits, the tickets-list / create / update sub-limits, include
  credits) and ``time_scale``: one sandbox minute -- one rate window -- lasts
  ``60 / time_scale`` wall seconds. It is seeded with N SAC tickets cycling through
  ``sandboxes.demo_data.DEMO_TICKETS`` (distinct ids, ``updated_at`` spread over the
  backfill span, three tickets sharing one second out of every ten to exercise ties) and
  serves HTTP on 127.0.0.1. Its own memory (all N tickets, the call log) never counts
  against the engine.
* This (main) process runs exactly what ``helpdesk-sync backfill`` runs: ``Engine`` with
  the ``sac`` mapping, ``FreshdeskConnector`` and a ``Store`` on a temporary SQLite file,
  one ``run_pass(since, until, cursor_name="backfill:...")``. Its ``HttpClient`` has a
  ``RateBudget(window=60 / time_scale)`` so the client paces itself to the same scaled
  window the sandbox enforces. Peak RSS is ``getrusage(RUSAGE_SELF).ru_maxrss`` of this
  process: the engine's peak, nothing else.
* ``until`` is the benchmark's start (tickets are seeded before it): the engine's own
  writes move tickets to the sandbox's "now", past ``until``, so the backfill never
  re-reads its own echoes.

Read mode: ``ticket_attachments=False`` by default. The SAC tickets carry their evidence
(attachments) on the agents' notes, which ``/conversations`` returns, not on the ticket
itself, so the list row plus one ``GET /tickets/{id}/conversations`` (1 credit) is the
whole ticket; ``--ticket-attachments`` uses ``GET /tickets/{id}?include=conversations``
(one call too, but 2 credits).

What is printed (counts come from the sandbox's own call log, not from the client):
* reads/ticket: successful GET calls (list pages, ticket/conversation reads, name
  lookups) per ticket, split into the pass proper (listing + one load per ticket) and
  what ``run_pass`` does after the last ticket (due SLA timers: each reloads its ticket).
* writes: successful POST/PUT calls, against the effects the decisions asked for (the
  engine's reports) and the journal's rows. Field effects (route, status, priority, ...)
  of one decision share ONE PUT, so writes are expected to be fewer than effects;
  "writes expected" counts one PUT per ticket with field effects plus one POST per
  note/task/ticket. Timer effects are journaled but not reported per ticket.
* wall: ``run_pass`` from start to end; floor: the least time the configured limits allow
  for the calls made, ``max(credits / per-minute, list calls / tickets-list limit, PUTs /
  update limit, creates / create limit)`` windows of ``60 / time_scale`` seconds; ratio =
  wall / floor (fixed windows let a run start with a full window, so a ratio a little
  under 1 is possible). A second floor counts only the calls required: one read per
  ticket, one list page per 100 tickets, the name lookups and the writes made.
* 429s received (by endpoint), and the engine process's RSS: a sample every 10 % of the
  tickets, the value before the pass, and the peak.

Choosing ``--time-scale``: the engine on the 2-core development machine does about 300
calls/s on one core while the sandbox serves it from the other, so the scaled limit
(``per_minute * time_scale / 60`` credits/s) must stay below that for wall time to track
the floor rather than the machine: 40 (Growth: 133 credits/s) for 10,000 tickets (about
4 minutes), 80 (267 credits/s) for 100,000 (about 20 minutes). At 100 (333 credits/s) the
engine is CPU-bound and the ratio measures the machine.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import multiprocessing as mp
import re
import resource
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.reports import NullReporter

FIELD_KINDS = frozenset({"route", "set_status", "set_priority", "mark_critical", "resolve"})
"""Action kinds the Freshdesk connector folds into one PUT per decision."""
TIE_EVERY, TIE_SIZE = 10, 3
"""Out of every ten tickets, three share one ``updated_at`` second."""
MOVIDESK_TIME_SCALE, MOVIDESK_QUICK_TIME_SCALE = 150.0, 60.0
"""Movidesk by day: 10 requests a minute; a window of 0.4 s (1 s with ``--quick``)."""


# ---------------------------------------------------------------------------------------
# sandbox process
# ---------------------------------------------------------------------------------------


def seed_tickets(sandbox: Any, count: int, first: datetime, last: datetime) -> None:
    """Groups, an agent, category fields and ``count`` SAC tickets in ``[first, last]``."""
    from cli.demo import add_demo_ticket, prepare_account
    from sandboxes.demo_data import DEMO_TICKETS

    account = prepare_account(sandbox)
    seconds = [i for i in range(count) if i % TIE_EVERY >= TIE_SIZE or i % TIE_EVERY == 0]
    distinct = max(1, len(seconds))
    span = (last - first).total_seconds()
    at = first
    slot = -1
    for index in range(count):
        if index % TIE_EVERY >= TIE_SIZE or index % TIE_EVERY == 0:
            slot += 1
            at = first + timedelta(seconds=int(slot * span / distinct))
        add_demo_ticket(sandbox, account, DEMO_TICKETS[index % len(DEMO_TICKETS)], at)


def _kind(method: str, path: str) -> str:
    if path == "/api/v2/tickets":
        return "list" if method == "GET" else "create"
    if re.fullmatch(r"/api/v2/tickets/\d+", path):
        return "ticket" if method == "GET" else "update"
    if path.endswith("/conversations"):
        return "conversations"
    if path.endswith("/notes"):
        return "note"
    return "other"


def summarize(sandbox: Any, calls: list[Any] | None = None) -> dict[str, Any]:
    """Counts from the sandbox's call log: reads, writes, credits, 429s, by endpoint kind."""
    if calls is None:
        with sandbox._lock:
            calls = list(sandbox.calls)
    ok: Counter[str] = Counter()
    limited: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    credits = 0
    for call in calls:
        kind = f"{call.method} {_kind(call.method, call.path)}"
        if call.status == 429:
            limited[kind] += 1
        elif 200 <= call.status < 300:
            ok[kind] += 1
            credits += call.credits
        else:
            errors[f"{kind} {call.status}"] += 1
            credits += call.credits
    return {
        "ok": dict(ok),
        "limited": dict(limited),
        "errors": dict(errors),
        "credits": credits,
        "tickets": len(sandbox.tickets),
    }


def sandbox_main(conn: Any, options: dict[str, Any]) -> None:
    """Child process: seed, serve on loopback, answer ``stats`` / ``stop`` on the pipe."""
    import socketserver

    from sandboxes.freshdesk import FreshdeskSandbox

    # The sandbox's handler writes the headers and the body of a response in two sends;
    # with Nagle on, the body waits for the client's delayed ACK (~40 ms on Linux
    # loopback) on every call. This process only serves the sandbox: turn Nagle off.
    socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    sandbox = FreshdeskSandbox(
        plan=options["plan"],
        time_scale=options["time_scale"],
        shuffle_ties=options["shuffle_ties"],
        seed=options["seed"],
    )
    started = time.perf_counter()
    seed_tickets(sandbox, options["tickets"], options["first"], options["last"])
    seeded_in = time.perf_counter() - started
    running = sandbox.serve()
    conn.send({"url": running.url, "seeded_in": seeded_in})
    while True:
        message = conn.recv()
        if message == "mark":
            with sandbox._lock:
                conn.send(len(sandbox.calls))
        elif isinstance(message, tuple) and message[0] == "stats":
            with sandbox._lock:
                calls = list(sandbox.calls)
            mark = message[1] if message[1] is not None else len(calls)
            conn.send((summarize(sandbox, calls[:mark]), summarize(sandbox, calls[mark:])))
        elif message == "stop":
            running.stop()
            conn.send("stopped")
            return


# ---------------------------------------------------------------------------------------
# engine process
# ---------------------------------------------------------------------------------------


def rss_mb() -> float:
    """Current resident set of this process in MB (Linux ``/proc``), else the peak."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return peak_rss_mb()
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    """Peak resident set of this process in MB (``ru_maxrss`` is KB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


class Tally(NullReporter):
    """The engine's reporter: counts only (constant memory), and an RSS sample per step."""

    def __init__(self, total: int, started: float) -> None:
        self.total = total
        self.started = started
        self.step = max(1, total // 10)
        self.count = 0
        self.first_at: float | None = None
        self.outcomes: Counter[str] = Counter()
        self.asked: Counter[str] = Counter()
        self.applied = 0
        self.expected_writes = 0
        self.samples: list[tuple[int, float]] = []

    def ticket_done(self, report: Any) -> None:
        if self.first_at is None:
            self.first_at = time.perf_counter()
        self.count += 1
        self.outcomes[report.outcome] += 1
        self.asked.update(report.planned)
        self.applied += report.applied
        kinds = list(report.planned)
        self.expected_writes += sum(1 for k in kinds if k not in FIELD_KINDS)
        self.expected_writes += any(k in FIELD_KINDS for k in kinds)
        if self.count % self.step == 0:
            rss = rss_mb()
            self.samples.append((self.count, rss))
            elapsed = time.perf_counter() - self.started
            print(
                f"  ... {self.count}/{self.total} tickets  {elapsed:7.1f} s  RSS {rss:6.1f} MB",
                file=sys.stderr,
                flush=True,
            )


class CountingHandler(logging.Handler):
    """Counts the engine's warning/error log events by ``event`` (retries, failures)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.events: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.events[getattr(record, "event", record.getMessage()[:40])] += 1


def journal_states(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT state, COUNT(*) FROM journal GROUP BY state").fetchall()
    return {str(state): int(n) for state, n in rows}


def floor_windows(plan: Any, stats: dict[str, Any]) -> dict[str, float]:
    """Rate windows each configured limit needs for the calls in ``stats``."""
    ok = Counter(stats["ok"])
    limits = {"per-minute credits": stats["credits"] / plan.per_minute}
    if plan.tickets_list:
        limits["tickets-list"] = ok["GET list"] / plan.tickets_list
    if plan.ticket_update:
        limits["ticket-update"] = ok["PUT update"] / plan.ticket_update
    if plan.ticket_create:
        limits["ticket-create"] = ok["POST create"] / plan.ticket_create
    return limits


def merged(*parts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ok": Counter(), "limited": Counter(), "errors": Counter()}
    out["credits"] = 0
    for part in parts:
        for key in ("ok", "limited", "errors"):
            out[key].update(part[key])
        out["credits"] += part["credits"]
    return out


def describe(stats: dict[str, Any], tickets: int) -> tuple[int, int, str]:
    ok = Counter(stats["ok"])
    reads = sum(n for k, n in ok.items() if k.startswith("GET "))
    writes = sum(n for k, n in ok.items() if not k.startswith("GET "))
    detail = ", ".join(f"{k} {n}" for k, n in sorted(ok.items()))
    return reads, writes, detail


def run(args: argparse.Namespace) -> int:
    from connectors._http import HttpClient, RateBudget, SubLimits
    from connectors.freshdesk import PLAN_SUB_LIMITS, FreshdeskConnector, sub_limit_bucket
    from engine.engine import Engine
    from engine.store import Store
    from sandboxes.freshdesk import DEFAULT_API_KEY, PLANS
    from sync.mapping_loader import load_mapping

    plan = PLANS[args.plan]
    window = 60.0 / args.time_scale
    until = datetime.now(UTC).replace(microsecond=0)
    since = until - timedelta(days=args.span_days)
    options = {
        "plan": args.plan,
        "time_scale": args.time_scale,
        "shuffle_ties": args.shuffle_ties,
        "seed": args.seed,
        "tickets": args.tickets,
        "first": since + timedelta(minutes=1),
        "last": until - timedelta(minutes=1),
    }
    context = mp.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=sandbox_main, args=(child, options), daemon=True)
    process.start()
    hello = parent.recv()
    url = hello["url"]

    handler = CountingHandler()
    root = logging.getLogger("helpdesk_sync")
    root.setLevel(logging.WARNING)
    root.addHandler(handler)
    if args.verbose:
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(logging.WARNING)
        root.addHandler(stream)
    root.propagate = False

    budget = RateBudget(window=window)
    # What ``plan: <name>`` in the config gives the connector, on the scaled window.
    sub_limits = {} if args.no_sub_limits else dict(PLAN_SUB_LIMITS.get(args.plan, {}))
    pacer = SubLimits(sub_limit_bucket, sub_limits, window=window) if sub_limits else None
    http = HttpClient("freshdesk", url, timeout=30.0, budget=budget, sub_limits=pacer)
    connector = FreshdeskConnector(
        "bench",
        url,
        DEFAULT_API_KEY,
        request_type_field="cf_categoria",
        subcategory_field="cf_subcategoria",
        http=http,
        ticket_attachments=args.ticket_attachments,
        sub_limits=sub_limits,
    )
    # Instrumentation only: note where the listing ends (the pass proper is over and the
    # engine goes on to whatever it does after the tickets, e.g. due SLA timers).
    mark: dict[str, Any] = {"calls": None, "at": None}
    listing = connector.changed_since

    def changed_since(since: datetime, until: datetime | None = None) -> Any:
        yield from listing(since, until)
        mark["at"] = time.perf_counter()
        parent.send("mark")
        mark["calls"] = parent.recv()

    connector.changed_since = changed_since  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(prefix="helpdesk-sync-bench-") as tmp:
        state = Path(tmp) / "state.sqlite"
        with Store(f"sqlite:///{state}") as store:
            engine = Engine(
                connector,
                load_mapping("sac"),
                store,
                clock=lambda: datetime.now(UTC),
                max_attempts=args.max_attempts,
            )
            extra: dict[str, Any] = {}
            if "keep_reports" in inspect.signature(engine.run_pass).parameters:
                extra["keep_reports"] = args.keep_reports
            rss_before = rss_mb()
            print(
                f"backfill: {args.tickets} tickets (seeded in {hello['seeded_in']:.1f} s), "
                f"plan {plan.name}, time scale {args.time_scale:g} "
                f"(rate window {window:.2f} s), "
                f"ticket_attachments={args.ticket_attachments}, "
                f"sub-limits paced={sub_limits or 'none'} "
                f"(list window {connector.window_pages} pages), "
                f"shuffle_ties={args.shuffle_ties}, keep_reports="
                f"{extra.get('keep_reports', 'n/a (engine keeps every report)')}",
                flush=True,
            )
            started = time.perf_counter()
            tally = Tally(args.tickets, started)
            result = engine.run_pass(
                since=since,
                until=until,
                cursor_name=f"backfill:{since.isoformat()}:{until.isoformat()}",
                reporter=tally,
                **extra,
            )
            wall = time.perf_counter() - started
            peak = peak_rss_mb()
            kept = len(result.tickets)
        journal = journal_states(state)
    parent.send(("stats", mark["calls"]))
    in_pass, after = parent.recv()
    parent.send("stop")
    parent.recv()
    process.join(timeout=10)
    http.close()

    total = merged(in_pass, after)
    tickets = max(1, result.decided)
    reads, writes, detail = describe(total, tickets)
    pass_reads, pass_writes, pass_detail = describe(in_pass, tickets)
    after_reads, after_writes, after_detail = describe(after, tickets)
    limited = Counter(total["limited"])
    limits = floor_windows(plan, total)
    binding = max(limits, key=lambda k: limits[k])
    floor = limits[binding] * window
    # The calls the backfill needs at least: one read per ticket (at the credits the read
    # mode costs), one list page per 100, the three name lookups, and the writes made.
    read_credits = 2 if args.ticket_attachments else 1
    pages = -(-args.tickets // 100)
    ok = Counter(total["ok"])
    need = {
        "ok": {"GET list": pages, "PUT update": ok["PUT update"], "POST create": ok["POST create"]},
        "credits": args.tickets * read_credits + pages + 3 + writes,
    }
    need_limits = floor_windows(plan, need)
    need_floor = max(need_limits.values()) * window
    asked = sum(tally.asked.values())
    first_ticket = (tally.first_at or started) - started
    pass_wall = (mark["at"] or started + wall) - started
    timers = (getattr(result, "timers_fired", None), getattr(result, "timers_cancelled", None))

    print(
        f"tickets: {result.decided}  (seen {result.seen}, skipped {result.skipped}, "
        f"failed {result.failed}, quarantined {result.quarantined})"
    )
    print(f"outcomes: {dict(sorted(tally.outcomes.items()))}")
    print(f"reads/ticket: {reads / tickets:.3f}  ({reads} GET)")
    print(
        f"  SLA timers: fired {timers[0]}, cancelled {timers[1]} (already due when started "
        f"are checked on the ticket just loaded; the rest after the pass)"
    )
    print(f"  in the pass: {pass_reads / tickets:.3f}/ticket  ({pass_detail})")
    print(
        f"  after the pass (the sweep of due timers): {after_reads / tickets:.3f}/ticket  "
        f"({after_detail or 'no calls'})"
    )
    print(
        f"writes: {writes}  (effects asked by the decisions: {asked}; "
        f"writes expected with one PUT per decision: {tally.expected_writes}; "
        f"in the pass {pass_writes}, after it {after_writes})"
    )
    print(
        f"  journal: {dict(sorted(journal.items()))}; effects asked by kind: "
        f"{dict(sorted(tally.asked.items()))}"
    )
    print(
        f"credits: {total['credits']} ({total['credits'] / tickets:.3f}/ticket); "
        f"all calls: {detail}"
    )
    print(f"429s: {sum(limited.values())}  {dict(limited) if limited else ''}".rstrip())
    if total["errors"]:
        print(f"other error answers: {dict(total['errors'])}")
    if handler.events:
        print(f"engine warnings: {dict(handler.events)}")
    print(
        f"wall: {wall:.1f} s  floor: {floor:.1f} s  ratio: {wall / floor:.3f}  "
        f"(calls made; binding limit: {binding}; windows needed: "
        + ", ".join(f"{k} {v:.1f}" for k, v in limits.items())
        + f"; window {window:.2f} s)"
    )
    print(
        f"  floor for the calls required (1 read/ticket, 1 list page/100, writes made): "
        f"{need_floor:.1f} s  ratio: {wall / need_floor:.3f}"
    )
    print(
        f"  listing before the first ticket: {first_ticket:.1f} s; pass proper "
        f"{pass_wall:.1f} s, after it {wall - pass_wall:.1f} s; rate budget waited "
        f"{budget.waited:.1f} s, sub-limits waited {pacer.waited if pacer else 0.0:.1f} s"
    )
    curve = "  ".join(f"{n}:{mb:.0f}" for n, mb in tally.samples)
    print(f"RSS curve (tickets:MB): {curve}")
    print(f"PassResult.tickets kept: {kept}")
    print(f"peak RSS (engine process): {peak:.1f} MB  (before the pass: {rss_before:.1f} MB)")
    return 0 if result.ok and result.decided == args.tickets else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--plan", default="growth", help="trial|growth|pro|enterprise")
    parser.add_argument(
        "--connector",
        choices=("freshdesk", "movidesk", "salesforce"),
        default="freshdesk",
        help="helpdesk to backfill (default freshdesk)",
    )
    parser.add_argument(
        "--limits",
        choices=("day", "night", "both"),
        default="both",
        help="movidesk only: the day budget (10/min, time-scaled), the night (none), or both",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="sandbox seconds per wall second; a rate window lasts 60/scale s (default 40; "
        f"movidesk by day {MOVIDESK_TIME_SCALE:g}, with --quick {MOVIDESK_QUICK_TIME_SCALE:g})",
    )
    parser.add_argument("--span-days", type=float, default=30.0, help="backfill window")
    parser.add_argument(
        "--ticket-attachments",
        action="store_true",
        help="load with GET /tickets/{id}?include=conversations (2 credits) instead",
    )
    parser.add_argument("--shuffle-ties", action="store_true", help="unstable order of ties")
    parser.add_argument(
        "--no-sub-limits",
        action="store_true",
        help="do not pace the plan's endpoint sub-limits (shows the 429s they prevent)",
    )
    parser.add_argument(
        "--keep-reports",
        action="store_true",
        help="let the engine keep every TicketReport in PassResult.tickets",
    )
    parser.add_argument("--max-attempts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="500 tickets, time scale 120")
    parser.add_argument("--verbose", action="store_true", help="show the engine's warnings")
    args = parser.parse_args()
    if args.connector == "salesforce":
        if args.quick:
            args.tickets = 500
        from backfill_salesforce import run as run_salesforce

        return run_salesforce(args)
    if args.connector == "movidesk":
        if args.quick:
            args.tickets = 500
        if args.time_scale is None:
            args.time_scale = MOVIDESK_QUICK_TIME_SCALE if args.quick else MOVIDESK_TIME_SCALE
        from backfill_movidesk import run as run_movidesk

        return run_movidesk(args)
    if args.time_scale is None:
        args.time_scale = 40.0
    if args.quick:
        args.tickets, args.time_scale = 500, 120.0
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
