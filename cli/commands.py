"""The operational commands: ``run``, ``backfill``, ``check``, ``dead-letters``, ``timers``
and ``demo``; each takes the parsed arguments and returns the exit code.

Their options are declared in ``daemon.build_parser``; the exit codes in
``cli.exit_codes``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from cli.exit_codes import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_INTERRUPTED,
    EXIT_LEASE,
    EXIT_OK,
    pass_code,
    worst,
)
from cli.output import print_pass
from cli.progress import Progress
from cli.runtime import (
    build_engine,
    fence,
    load_runtime,
    missing_store,
    open_store,
    process_leases,
    take,
)
from cli.signals import stop_on_signals


def cmd_run(args: argparse.Namespace) -> int:
    """``run``: scheduled polling until SIGTERM/SIGINT, or one pass with ``--once``."""
    from cli.service import schedule
    from sync.errors import ConfigError

    runtime = load_runtime(args)
    if isinstance(runtime, int):
        return runtime
    settings, mappings = runtime
    enabled = [c.name for c in settings.connectors if c.enabled]
    if not enabled:
        print("error: no enabled connectors in the configuration", file=sys.stderr)
        return EXIT_CONFIG
    stop = threading.Event()
    store = open_store(settings)
    leases = process_leases(settings, store, enabled, args.dry_run)
    try:
        engines = {
            n: build_engine(
                settings,
                mappings,
                store,
                n,
                dry_run=args.dry_run,
                stop=stop,
                fence=fence(leases, n),
            )
            for n in enabled
        }
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.once:
        with stop_on_signals(stop):
            return _run_once(args, engines, leases, store, stop)
    return schedule(settings, engines, leases, stop, store)


def _run_once(
    args: argparse.Namespace,
    engines: dict[str, Any],
    leases: dict[str, Any],
    store: Any,
    stop: threading.Event,
) -> int:
    """One pass per connector, each under its lease (taken just before, given up after)."""
    from engine.ownership import holding
    from sync.contract import AuthError

    codes: list[int] = []
    try:
        with holding(leases):
            for name, engine in engines.items():
                if stop.is_set():  # a signal: the connectors not started yet wait for later
                    codes.append(EXIT_LEASE)
                    break
                lease = leases.get(name)
                if lease is not None and not take(lease, args.wait):
                    codes.append(EXIT_LEASE)
                    continue
                try:
                    result = engine.run_pass()
                except AuthError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return EXIT_AUTH
                finally:
                    if lease is not None:
                        lease.release()
                print_pass(result, args.format)
                codes.append(pass_code(result, interrupted=stop.is_set()))
    finally:
        store.close()
    return worst(codes)


def cmd_backfill(args: argparse.Namespace) -> int:
    """``backfill``: the same engine over history, under the connector's lease; resumable."""
    from sync.errors import ConfigError

    runtime = load_runtime(args)
    if isinstance(runtime, int):
        return runtime
    settings, mappings = runtime
    store = open_store(settings)
    until = args.until or open_ended_until(store, args.connector, args.since)
    if until <= args.since:
        store.close()
        print("error: --until must be after --since", file=sys.stderr)
        return EXIT_CONFIG
    stop = threading.Event()
    try:
        settings.connector(args.connector)
        leases = process_leases(settings, store, [args.connector], args.dry_run)
        engine = build_engine(
            settings,
            mappings,
            store,
            args.connector,
            dry_run=args.dry_run,
            stop=stop,
            fence=fence(leases, args.connector),
        )
    except ConfigError as exc:
        store.close()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    from engine.ownership import holding

    received: list[int] = []
    try:
        with stop_on_signals(stop, received), holding(leases):
            lease = leases.get(args.connector)
            if lease is not None and not take(lease, args.wait):
                return EXIT_LEASE
            code = _backfill_pass(args, engine, until, stop)
        if stop.is_set():
            print(
                "backfill stopped after the ticket in hand, progress kept: run the same "
                "command again to resume",
                file=sys.stderr,
            )
            if signal.SIGINT in received:
                return EXIT_INTERRUPTED  # Ctrl-C: the shell's convention, 128 + SIGINT
        return code
    finally:
        store.close()


def open_ended_until(store: Any, connector: str, since: datetime) -> datetime:
    """The end of a backfill run without ``--until``: the moment the same command first
    ran (kept in the store), so running it again after a kill resumes the same run from its
    cursor instead of starting a new one; what changed since is ``run``'s to poll."""
    key = f"backfill:{since.isoformat()}:open-ended"
    kept = store.get_cursor(connector, key)
    if kept is not None:
        until = datetime.fromisoformat(kept)
        print(
            f"resuming the backfill from {since.isoformat()} to {until.isoformat()} "
            "(the moment this command first ran; give --until for another run)",
            file=sys.stderr,
        )
        return until
    until = datetime.now(UTC).replace(microsecond=0)
    store.save_cursor(connector, until.isoformat(), key)
    return until


def _backfill_pass(
    args: argparse.Namespace, engine: Any, until: datetime, stop: threading.Event
) -> int:
    """One backfill pass with its progress (a bar on a terminal, log records otherwise);
    the bar is closed before anything else is printed (an error, the summary, the hint)."""
    from cli.progress import api_stats_of
    from sync.contract import AuthError

    progress = Progress(
        engine.name,
        tty=sys.stderr.isatty(),
        api_stats=api_stats_of(engine.connector),
        stop=stop,
    )
    cursor_name = f"backfill:{args.since.isoformat()}:{until.isoformat()}"
    try:
        with progress:
            result = engine.run_pass(
                since=args.since,
                until=until,
                cursor_name=cursor_name,
                reporter=progress,
                keep_reports=args.format == "json",
            )
    except AuthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_AUTH
    print_pass(result, args.format)
    return pass_code(result, interrupted=stop.is_set())


def cmd_dead_letters(args: argparse.Namespace) -> int:
    """``dead-letters list|retry [ID]``."""
    runtime = load_runtime(args)
    if isinstance(runtime, int):
        return runtime
    settings, _ = runtime
    absent = missing_store(settings)
    if absent is not None:
        if args.action == "retry":
            print(f"error: no state store at {absent}: nothing to retry", file=sys.stderr)
            return EXIT_CONFIG
        print("[]" if args.format == "json" else f"no dead letters (no state store at {absent})")
        return EXIT_OK
    store = open_store(settings)
    try:
        if args.action == "retry":
            released = store.release(args.id, connector=args.connector)
            if args.id is not None and not released:
                print(f"error: no active dead letter with id {args.id}", file=sys.stderr)
                return EXIT_CONFIG
            print(f"released {len(released)} ticket(s); they are retried on the next pass")
            return EXIT_OK
        rows = store.dead_letters(args.connector)
        if args.format == "json":
            print(
                json.dumps(
                    [asdict(r) for r in rows],
                    default=str,
                    ensure_ascii=False,
                )
            )
            return EXIT_OK
        if not rows:
            print("no dead letters")
        for r in rows:
            print(
                f"#{r.id} {r.connector} ticket {r.ticket_id} (version {r.version}, "
                f"{r.attempts} attempts, {r.created_at:%Y-%m-%d %H:%M}Z): {r.error}"
            )
        return EXIT_OK
    finally:
        store.close()


def cmd_timers(args: argparse.Namespace) -> int:
    """``timers list [--connector NAME] [--all]``: SLA timers with their due times."""
    runtime = load_runtime(args)
    if isinstance(runtime, int):
        return runtime
    settings, _ = runtime
    absent = missing_store(settings)
    if absent is not None:
        print("[]" if args.format == "json" else f"no timers (no state store at {absent})")
        return EXIT_OK
    store = open_store(settings)
    try:
        rows = store.list_timers(args.connector, state=None if args.all else "pending")
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps([asdict(r) for r in rows], default=str, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print("no pending timers" if not args.all else "no timers")
    for r in rows:
        line = (
            f"{r.connector} ticket {r.ticket_id} {r.timer_id}: due "
            f"{r.due_at.isoformat()} ({r.state}) — {r.request_type} [{r.sop}]"
        )
        if r.reason and r.state != "pending":
            line += f"; {r.reason}"
        print(line)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """``demo``: the Freshdesk, Movidesk and Salesforce sandboxes on loopback (or the one
    ``--only`` names), two engine passes each, a table of what was written."""
    from cli.demo import run_demo

    return run_demo(fmt=args.format, keep=args.keep, only=args.only)


__all__ = ["cmd_backfill", "cmd_dead_letters", "cmd_demo", "cmd_run", "cmd_timers"]
