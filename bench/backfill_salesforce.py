"""Backfill against the loopback Salesforce sandbox: calls per case, wall time, memory.

Usage: python bench/backfill.py --connector salesforce [--tickets 10000]
       python bench/backfill.py --connector salesforce --quick     # 500 cases

What runs where
---------------
* A child process (``multiprocessing``, spawned) holds ``SalesforceSandbox`` set up as the
  EPS org (``sandboxes.salesforce.setup_eps_org``: queues Backoffice EPS, Supervisor EPS
  and GSO, the N2 agents, the statuses) and seeded with N cases written the way N1 agents
  write them: the labelled corpus's agent comments (``tests/corpus/eps*.yaml``), one
  complete case per request type of the matrix plus the incomplete ones, cycled, their
  stamps spread over the backfill span and their files attached. It serves HTTP on
  127.0.0.1; its memory (all N cases, the call log) never counts against the engine.
* This (main) process runs what ``helpdesk-sync backfill`` runs for a Salesforce
  connector: ``Engine`` with the ``eps`` mapping, ``SalesforceConnector`` (its
  simple-salesforce client reaches the sandbox through ``sandboxes.salesforce.loopback``),
  a ``Store`` on a temporary SQLite file, one ``run_pass(since, until)``.
* Salesforce has no per-minute limit (the org's daily allocation is what counts, and the
  client pauses before ``daily_budget_share`` of it): there is no floor, the figures are
  API calls per case against the allocation and the machine's wall time.

What is printed (counts come from the sandbox's call log):
* reads/case: successful GET calls (SOQL pages and ``nextRecordsUrl`` pages, the
  directory of queues and users, lookups); target <= 0.02 (issue 12), 0.01 aimed.
* writes/case: successful ``composite/sobjects`` calls (PATCH of Case records, POST of
  CaseComment and Task records, 200 a call); target <= 0.02.
* effects asked vs written, journal states, error answers.
* RSS of the engine process: a sample every 10 % of the cases, before, and the peak.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from backfill import CountingHandler, Tally, journal_states, peak_rss_mb, rss_mb

DAILY_LIMIT = 1_000_000
"""The sandbox org's daily allocation: large enough never to pause the run."""


def seed_cases(sandbox: Any, count: int, first: datetime, last: datetime) -> dict[str, int]:
    """The EPS org and ``count`` cases in ``[first, last]``; expected outcome -> count."""
    from sandboxes.salesforce.seeds import setup_eps_org
    from tests.corpus.loader import load_corpus

    org = setup_eps_org(sandbox)
    templates = [
        case
        for case in load_corpus(mapping="eps")
        if case.ticket.request_type
        and not case.ticket.fields
        and not case.sources
        and case.expect.outcome in ("complete", "incomplete")
    ]
    agents = [org.users[name] for name in ("ana.souza", "bruno.lima", "carla.mendes")]
    span = (last - first).total_seconds()
    seeded: Counter[str] = Counter()
    for index in range(count):
        case = templates[index % len(templates)]
        ticket = case.ticket
        at = first + timedelta(seconds=int(index * span / max(1, count)))
        agent = agents[index % len(agents)]
        created = at - timedelta(hours=1)
        case_id = sandbox.add_case(
            f"{ticket.subject or ticket.request_type} #{index + 1}",
            owner_id=agent,
            status="Novo",
            type=ticket.request_type,
            comments=[
                (c.body, False, agent, created + timedelta(minutes=10 + n))
                for n, c in enumerate(ticket.comments)
                if c.internal
            ],
            files=[a.name for a in ticket.attachments],
            created_at=created,
        )
        sandbox.touch(case_id, at)  # last edited at ``at``: inside the backfill window
        seeded[case.expect.outcome] += 1
    return dict(seeded)


def _kind(method: str, path: str) -> str:
    tail = path.split("/services/data/v59.0/", 1)[-1].strip("/")
    if tail.startswith("query"):
        return f"{method} query" if tail in ("query", "queryAll") else f"{method} queryMore"
    return f"{method} {tail.split('/')[0] if tail != 'composite/sobjects' else tail}"


def sandbox_main(conn: Any, options: dict[str, Any]) -> None:
    """Child process: seed, serve on loopback, answer ``stats`` / ``stop`` on the pipe."""
    from sandboxes.salesforce import SalesforceSandbox

    sandbox = SalesforceSandbox(daily_limit=DAILY_LIMIT, assignment_queue="GSO")
    started = time.perf_counter()
    seeded = seed_cases(sandbox, options["tickets"], options["first"], options["last"])
    seeded_in = time.perf_counter() - started
    running = sandbox.serve()
    conn.send({"url": running.url, "seeded": seeded, "seeded_in": seeded_in})
    while True:
        message = conn.recv()
        if message == "stats":
            with sandbox._lock:
                ok: Counter[str] = Counter()
                errors: Counter[str] = Counter()
                for call in sandbox.calls:
                    kind = _kind(call.method, call.path)
                    if 200 <= call.status < 300:
                        ok[kind] += 1
                    else:
                        errors[f"{kind} {call.status}"] += 1
                records = Counter(f"{w.method} {w.sobject}" for w in sandbox.writes)
                auto = sum(1 for w in sandbox.writes if w.sobject == "Case" and w.auto_assign)
            conn.send({"ok": dict(ok), "errors": dict(errors), "records": dict(records),
                       "auto_assign": auto})  # fmt: skip
        elif message == "stop":
            running.stop()
            conn.send("stopped")
            return


def verdict(ok: bool) -> str:
    return "target met" if ok else "TARGET NOT MET"


def run(args: argparse.Namespace) -> int:
    """One backfill of ``args.tickets`` cases; prints its figures."""
    from simple_salesforce import Salesforce

    from connectors.salesforce import SalesforceClient, SalesforceConnector, WriteRules
    from engine.engine import Engine
    from engine.store import Store
    from sandboxes.salesforce import DEFAULT_BASE_URL, DEFAULT_SESSION
    from sandboxes.salesforce.loopback import loopback_session
    from sync.mapping_loader import load_mapping

    until = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    since = until - timedelta(days=args.span_days)
    options = {
        "tickets": args.tickets,
        "first": since + timedelta(minutes=1),
        "last": until - timedelta(minutes=1),
    }
    context = mp.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=sandbox_main, args=(child, options), daemon=True)
    process.start()
    hello = parent.recv()

    handler = CountingHandler()
    root = logging.getLogger("helpdesk_sync")
    root.setLevel(logging.WARNING)
    root.addHandler(handler)
    root.propagate = False

    session = loopback_session(hello["url"], DEFAULT_BASE_URL)
    client = SalesforceClient(
        lambda: Salesforce(
            session_id=DEFAULT_SESSION, instance_url=DEFAULT_BASE_URL, session=session
        ),
        connector="bench",
    )
    connector = SalesforceConnector("bench", client, rules=WriteRules(critical_field="IsEscalated"))
    with tempfile.TemporaryDirectory(prefix="helpdesk-sync-bench-") as tmp:
        state = Path(tmp) / "state.sqlite"
        with Store(f"sqlite:///{state}") as store:
            engine = Engine(
                connector,
                load_mapping("eps"),
                store,
                clock=lambda: datetime.now(UTC),
                max_attempts=args.max_attempts,
            )
            rss_before = rss_mb()
            print(
                f"backfill (salesforce, eps): {args.tickets} cases "
                f"(seeded in {hello['seeded_in']:.1f} s; corpus labels {hello['seeded']})",
                flush=True,
            )
            started = time.perf_counter()
            tally = Tally(args.tickets, started)
            result = engine.run_pass(
                since=since,
                until=until,
                cursor_name=f"backfill:{since.isoformat()}:{until.isoformat()}",
                reporter=tally,
                keep_reports=False,
            )
            wall = time.perf_counter() - started
            peak = peak_rss_mb()
        journal = journal_states(state)
    parent.send("stats")
    stats = parent.recv()
    parent.send("stop")
    parent.recv()
    process.join(timeout=10)
    root.removeHandler(handler)

    cases = max(1, result.decided)
    ok = Counter(stats["ok"])
    reads = sum(n for k, n in ok.items() if k.startswith("GET "))
    writes = ok["PATCH composite/sobjects"] + ok["POST composite/sobjects"]
    asked = sum(tally.asked.values())
    print(
        f"cases: {result.decided}  (seen {result.seen}, skipped {result.skipped}, "
        f"failed {result.failed}, quarantined {result.quarantined})"
    )
    print(f"outcomes: {dict(sorted(tally.outcomes.items()))}")
    print(
        f"reads/case: {reads / cases:.4f}  ({reads} GET: "
        + ", ".join(f"{k} {n}" for k, n in sorted(ok.items()) if k.startswith("GET "))
        + f")  target <= 0.02: {verdict(reads / cases <= 0.02)}"
    )
    print(
        f"writes/case: {writes / cases:.4f}  (PATCH {ok['PATCH composite/sobjects']}, POST "
        f"{ok['POST composite/sobjects']} collections; records "
        f"{dict(sorted(stats['records'].items()))})  target <= 0.02: "
        f"{verdict(writes / cases <= 0.02)}"
    )
    print(
        f"  effects asked: {asked}, written (applied): {tally.applied}  "
        f"{verdict(asked == tally.applied)}; by kind: {dict(sorted(tally.asked.items()))}"
    )
    print(
        f"  Case writes without Sforce-Auto-Assign: FALSE: {stats['auto_assign']}  "
        f"{verdict(stats['auto_assign'] == 0)}"
    )
    print(f"  journal: {dict(sorted(journal.items()))}")
    if stats["errors"]:
        print(f"error answers: {dict(stats['errors'])}")
    if handler.events:
        print(f"engine warnings: {dict(handler.events)}")
    calls = sum(ok.values())
    print(
        f"wall: {wall:.1f} s  ({calls} calls, {result.decided / wall:.0f} cases/s; no floor: "
        f"Salesforce counts calls per day, {calls} of the org's allocation)"
    )
    curve = "  ".join(f"{n}:{mb:.0f}" for n, mb in tally.samples)
    print(f"RSS curve (cases:MB): {curve}")
    print(f"peak RSS (engine process): {peak:.1f} MB  (before the pass: {rss_before:.1f} MB)")
    return 0 if result.ok and result.decided == args.tickets else 1
