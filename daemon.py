"""helpdesk-sync command line: ``helpdesk-sync COMMAND`` or ``python daemon.py COMMAND``.

Exit codes: 0 done; 1 done but tickets failed or were quarantined; 2 usage, bad input,
bad configuration or bad mapping; 3 the helpdesk refused the credentials; 75 (EX_TEMPFAIL)
``run --once``/``backfill``: another process holds a connector (or took it over
mid-pass), so this one did not write it; try again later.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from cli.explain import add_explain_parser, add_mappings_parser

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_CONFIG = 2
EXIT_AUTH = 3
EXIT_UNAVAILABLE = 69
"""EX_UNAVAILABLE: a helpdesk kept failing while being listed (past its retries); what was
done is kept, the cursor stays behind what was not seen; the next run goes on."""
EXIT_INTERNAL = 70
"""EX_SOFTWARE: an unexpected error (a bug); logged as JSON with its masked traceback."""
EXIT_LEASE = 75
"""EX_TEMPFAIL: another process owns a connector; nothing was written for it; retry later."""

log = logging.getLogger("helpdesk_sync.daemon")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="YAML config file (default: $HELPDESK_SYNC_CONFIG)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output on stdout")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="helpdesk-sync",
        description="Enforce support SOPs in Salesforce Service Cloud, Movidesk and Freshdesk.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_explain_parser(sub)
    add_mappings_parser(sub)

    p = sub.add_parser("run", help="poll every configured helpdesk on its schedule")
    _add_common(p)
    p.add_argument("--once", action="store_true", help="one pass over every connector, then exit")
    p.add_argument("--dry-run", action="store_true", help="decide and report; write nothing")
    _add_wait(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("backfill", help="run the engine over a connector's history (resumable)")
    _add_common(p)
    p.add_argument("--connector", required=True)
    p.add_argument("--since", required=True, type=_parse_when, help="YYYY-MM-DD or ISO time")
    p.add_argument("--until", type=_parse_when, help="YYYY-MM-DD or ISO time (default: now)")
    p.add_argument("--dry-run", action="store_true", help="decide and report; write nothing")
    _add_wait(p)
    p.set_defaults(handler=cmd_backfill)

    p = sub.add_parser("check", help="validate config and mappings; test each connection")
    _add_common(p)
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("dead-letters", help="list or release quarantined tickets")
    _add_common(p)
    p.add_argument("action", choices=("list", "retry"))
    p.add_argument("id", nargs="?", type=int, help="dead letter id (retry: default all)")
    p.add_argument("--connector", help="only this connector")
    p.set_defaults(handler=cmd_dead_letters)

    p = sub.add_parser("timers", help="list SLA timers (pending by default)")
    _add_common(p)
    p.add_argument("action", choices=("list",))
    p.add_argument("--connector", help="only this connector")
    p.add_argument("--all", action="store_true", help="also fired and cancelled timers")
    p.set_defaults(handler=cmd_timers)

    p = sub.add_parser("demo", help="run the engine against a local Freshdesk sandbox")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--keep", type=Path, help="keep the demo state database at this path")
    p.set_defaults(handler=cmd_demo)
    return parser


def _add_wait(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--wait",
        type=_parse_seconds,
        metavar="SECONDS",
        help="run --once and backfill: how long to wait for a connector another process "
        f"holds before exiting {EXIT_LEASE} (default: twice the connector's lease)",
    )


def _parse_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 10**7:
        raise argparse.ArgumentTypeError(f"'{value}' is not a number of seconds >= 0")
    return seconds


def _parse_when(value: str) -> datetime:
    """A date (midnight UTC) or an ISO date-time with offset."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{value}' is not YYYY-MM-DD or ISO 8601") from exc
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"'{value}' needs a UTC offset")
    return parsed


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # a bug: one classified, masked log line, never a raw traceback
        log.exception(
            "internal error",
            extra={"event": "command.internal_error", "error_class": type(exc).__name__},
        )
        print(
            f"error: internal error ({type(exc).__name__}); see the log (exit {EXIT_INTERNAL})",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


# ----------------------------------------------------------------------------- runtime


def _runtime(args: argparse.Namespace) -> Any:
    """Settings, mappings and store, or a printed error (exit code as int)."""
    from cli.logs import setup_logging
    from cli.settings import load_settings
    from sync.errors import ConfigError, MappingError
    from sync.mapping_loader import load_mapping

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(settings.log_format, settings.log_level)
    from sync.field_sources import bind_sources

    try:
        mappings = {
            c.name: load_mapping(c.mapping, settings.mappings_dir) for c in settings.connectors
        }
    except MappingError as exc:
        print(f"error: bad mapping:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    for conf in settings.connectors:
        try:
            mappings[conf.name] = bind_sources(mappings[conf.name], conf.fields)
        except ValueError as exc:
            print(f"error: connectors[{conf.name}].fields: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    return settings, mappings


def _engine(settings: Any, mappings: dict[str, Any], store: Any, name: str, **kw: Any) -> Any:
    """The connector's engine; ``fence=`` a lease's fence when several processes may run."""
    from connectors.registry import build_connector
    from engine.engine import Engine

    conf = settings.connector(name)
    return Engine(
        build_connector(conf),
        mappings[name],
        store,
        clock=lambda: datetime.now(UTC),
        overlap=timedelta(seconds=settings.overlap_seconds),
        initial_lookback=timedelta(hours=conf.initial_lookback_hours),
        max_attempts=settings.max_attempts,
        scope=conf.scope,
        **kw,
    )


def _open_store(settings: Any) -> Any:
    from engine.store import Store

    return Store(settings.state_url)


# ----------------------------------------------------------------------------- leases


def _leases(settings: Any, store: Any, names: Sequence[str], dry_run: bool) -> dict[str, Any]:
    """One lease per connector this process writes (none for ``--dry-run``: it writes nothing)."""
    from engine.ownership import process_leases

    return {} if dry_run else process_leases(store, names, settings.lease_ttl)


def _fence(leases: dict[str, Any], name: str) -> Any:
    lease = leases.get(name)
    return None if lease is None else lease.fence


def _take(lease: Any, wait: float | None) -> bool:
    """``run --once``/``backfill``: the connector's lease, waiting up to ``wait`` seconds.

    False (with a message naming the holder) when another process kept it all along.
    """
    from engine.ownership import LeaseLost, log_refused

    seconds = 2 * lease.ttl.total_seconds() if wait is None else wait
    try:
        holder = lease.wait(seconds)
    except LeaseLost as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    if holder is None:
        return True
    until = holder.expires_at.isoformat(timespec="seconds")
    print(
        f"error: connector {lease.connector} is busy: process {holder.owner} holds it "
        f"(lease until {until}); waited {seconds:g} s and wrote nothing for it. Try again "
        f"later, or give --wait more seconds (exit {EXIT_LEASE})",
        file=sys.stderr,
    )
    log_refused(lease, holder, seconds)
    return False


def _pass_code(result: Any) -> int:
    if result.internal_error:
        return EXIT_INTERNAL
    if not result.ok:
        return EXIT_FAILURES
    if result.unavailable:
        return EXIT_UNAVAILABLE
    return EXIT_LEASE if result.lease_lost else EXIT_OK


_SEVERITY = (EXIT_INTERNAL, EXIT_FAILURES, EXIT_UNAVAILABLE, EXIT_LEASE)
"""Which exit code wins when connectors ended differently: a bug, failed tickets, a
helpdesk that kept failing, a connector left to another process."""


def _worst(codes: Sequence[int]) -> int:
    """The code that says the most of several connectors' passes (``_SEVERITY``)."""
    for code in _SEVERITY:
        if code in codes:
            return code
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """``run``: scheduled polling until SIGTERM/SIGINT, or one pass with ``--once``."""
    from sync.errors import ConfigError

    runtime = _runtime(args)
    if isinstance(runtime, int):
        return runtime
    settings, mappings = runtime
    enabled = [c.name for c in settings.connectors if c.enabled]
    if not enabled:
        print("error: no enabled connectors in the configuration", file=sys.stderr)
        return EXIT_CONFIG
    stop = threading.Event()
    store = _open_store(settings)
    leases = _leases(settings, store, enabled, args.dry_run)
    try:
        engines = {
            n: _engine(
                settings,
                mappings,
                store,
                n,
                dry_run=args.dry_run,
                stop=stop,
                fence=_fence(leases, n),
            )
            for n in enabled
        }
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.once:
        return _run_once(args, engines, leases, store)
    return _schedule(settings, engines, leases, stop, store)


def _run_once(
    args: argparse.Namespace, engines: dict[str, Any], leases: dict[str, Any], store: Any
) -> int:
    """One pass per connector, each under its lease (taken just before, given up after)."""
    from engine.ownership import holding
    from sync.contract import AuthError

    codes: list[int] = []
    try:
        with holding(leases):
            for name, engine in engines.items():
                lease = leases.get(name)
                if lease is not None and not _take(lease, args.wait):
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
                _print_pass(result, args.format)
                codes.append(_pass_code(result))
    finally:
        store.close()
    return _worst(codes)


def _schedule(
    settings: Any,
    engines: dict[str, Any],
    leases: dict[str, Any],
    stop: threading.Event,
    store: Any,
) -> int:
    """One APScheduler job per connector; the same connector never runs twice at once.

    With several processes a connector's jobs run only while this process holds its lease
    (kept between passes by the heartbeat); otherwise the pass is skipped, logged, and tried
    again when the holder's lease would run out: a dead owner is replaced within its lease.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    from engine.ownership import LeaseLost, holding, working
    from sync.contract import AuthError

    scheduler = BackgroundScheduler(timezone=UTC)

    def job(name: str) -> None:
        with working(leases.get(name)) as lease:
            if lease is not None and not _own(scheduler, lease, f"poll:{name}"):
                return
            try:
                engines[name].run_pass()
            except AuthError as exc:
                log.error(
                    "credentials refused: %s",
                    exc,
                    extra={"event": "connector.auth", "connector": name},
                )
            except Exception:  # a failing pass must not kill the scheduler; next run retries
                log.exception("pass failed", extra={"event": "pass.error", "connector": name})

    def timer_job(name: str) -> None:
        with working(leases.get(name)) as lease:
            if lease is not None and not _own(None, lease, f"timers:{name}"):
                return
            try:
                engines[name].fire_timers()
            except LeaseLost:  # logged by the lease; the new owner checks the timers
                return
            except Exception:  # the next run retries; a failing check must not kill it
                log.exception(
                    "timer check failed", extra={"event": "timers.error", "connector": name}
                )

    for name in engines:
        conf = settings.connector(name)
        # Timers get their own job so a quiet helpdesk (no changes to poll) still gets them.
        scheduler.add_job(
            timer_job,
            "interval",
            args=[name],
            id=f"timers:{name}",
            seconds=60,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=60,
        )
        scheduler.add_job(
            job,
            "interval",
            args=[name],
            id=f"poll:{name}",
            seconds=conf.interval_seconds,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=conf.interval_seconds,
            next_run_time=datetime.now(UTC),
        )

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("stopping on signal %s", signum, extra={"event": "daemon.stopping"})
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with holding(leases, handover=True):
        scheduler.start()
        log.info("running", extra={"event": "daemon.started", "connectors": list(engines)})
        stop.wait()
        scheduler.shutdown(wait=True)  # the current ticket finishes and is persisted
    store.close()
    log.info("stopped", extra={"event": "daemon.stopped"})
    return EXIT_OK


def _own(scheduler: Any, lease: Any, job_id: str) -> bool:
    """Take or keep the connector's lease for a service job; False (logged): skip this run.

    A skipped poll is tried again when the holder's lease would run out, so a dead
    owner's connector is taken over within its lease, well inside one interval.
    """
    from engine.ownership import LeaseLost, log_busy

    try:
        holder = lease.try_acquire(defer=True)
    except LeaseLost as exc:
        log.info("%s", exc, extra={"event": "lease.busy", "connector": lease.connector})
        return False
    if holder is not None and scheduler is not None:  # the timer check: the poll job logs
        log_busy(lease, holder)
        _retry_at(scheduler, job_id, holder.remaining + timedelta(seconds=0.25))
    return holder is None


def _retry_at(scheduler: Any, job_id: str, delay: timedelta) -> None:
    """Run the job again after ``delay`` when that comes before its next scheduled run."""
    when = datetime.now(UTC) + delay
    job = scheduler.get_job(job_id)
    if job is not None and (job.next_run_time is None or when < job.next_run_time):
        scheduler.modify_job(job_id, next_run_time=when)


class _Progress:
    """Backfill progress: a bar with counts and ETA on a terminal, log lines otherwise."""

    def __init__(self, since: datetime, until: datetime, tty: bool) -> None:
        self.since, self.until, self.tty = since, until, tty
        self.started = datetime.now(UTC)
        self.count = 0
        self.errors = 0

    def ticket_done(self, report: Any) -> None:
        self.count += 1
        if report.error:
            self.errors += 1
        if self.tty:
            self._bar(report)
        elif self.count % 100 == 0:
            log.info(
                "backfill progress",
                extra={"event": "backfill.progress", "tickets": self.count, "errors": self.errors},
            )

    def _bar(self, report: Any) -> None:
        total = (self.until - self.since).total_seconds() or 1
        try:
            stamp = datetime.fromisoformat(report.version.replace("Z", "+00:00"))
            done = min(max((stamp - self.since).total_seconds() / total, 0.0), 1.0)
        except ValueError:
            done = 0.0
        elapsed = (datetime.now(UTC) - self.started).total_seconds()
        eta = f"{elapsed / done - elapsed:5.0f}s" if done > 0.001 else "  ?  "
        bar = "#" * int(done * 30)
        sys.stderr.write(
            f"\r[{bar:<30}] {done:4.0%} tickets {self.count} errors {self.errors} ETA {eta}"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def cmd_backfill(args: argparse.Namespace) -> int:
    """``backfill``: the same engine over history, under the connector's lease; resumable."""
    from sync.errors import ConfigError

    runtime = _runtime(args)
    if isinstance(runtime, int):
        return runtime
    settings, mappings = runtime
    until = args.until or datetime.now(UTC)
    if until <= args.since:
        print("error: --until must be after --since", file=sys.stderr)
        return EXIT_CONFIG
    store = _open_store(settings)
    try:
        settings.connector(args.connector)
        leases = _leases(settings, store, [args.connector], args.dry_run)
        engine = _engine(
            settings,
            mappings,
            store,
            args.connector,
            dry_run=args.dry_run,
            fence=_fence(leases, args.connector),
        )
    except ConfigError as exc:
        store.close()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    from engine.ownership import holding

    try:
        with holding(leases):
            lease = leases.get(args.connector)
            if lease is not None and not _take(lease, args.wait):
                return EXIT_LEASE
            return _backfill_pass(args, engine, until)
    finally:
        store.close()


def _backfill_pass(args: argparse.Namespace, engine: Any, until: datetime) -> int:
    from sync.contract import AuthError

    progress = _Progress(args.since, until, sys.stderr.isatty())
    cursor_name = f"backfill:{args.since.isoformat()}:{until.isoformat()}"
    try:
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
    finally:
        progress.close()
    _print_pass(result, args.format)
    return _pass_code(result)


def _print_pass(result: Any, fmt: str) -> None:
    import json

    summary = {
        "connector": result.connector,
        "seen": result.seen,
        "decided": result.decided,
        "skipped": result.skipped,
        "applied": result.applied,
        "reconciled": result.reconciled,
        "failed": result.failed,
        "quarantined": result.quarantined,
        "timers_fired": result.timers_fired,
        "timers_cancelled": result.timers_cancelled,
        "cursor": result.cursor.isoformat() if result.cursor else None,
        "lease_lost": result.lease_lost,
        "unavailable": result.unavailable,
        "internal_error": result.internal_error,
    }
    if fmt == "json":
        summary["tickets"] = [asdict(t) for t in result.tickets]
        print(json.dumps(summary, ensure_ascii=False, default=str))
        return
    print(
        f"{result.connector}: seen {result.seen}, decided {result.decided}, "
        f"skipped {result.skipped}, effects applied {result.applied}, "
        f"reconciled {result.reconciled}, failed {result.failed}, "
        f"quarantined {result.quarantined}; timers fired {result.timers_fired}, "
        f"cancelled {result.timers_cancelled}; cursor {summary['cursor']}"
        + ("; stopped: another process took the connector over" if result.lease_lost else "")
        + (f"; stopped: helpdesk unavailable ({result.unavailable})" if result.unavailable else "")
        + (f"; stopped: internal error ({result.internal_error})" if result.internal_error else "")
    )


def cmd_check(args: argparse.Namespace) -> int:
    """``check``: config, mappings, state store and every connection."""
    from connectors.registry import build_connector
    from sync.contract import AuthError, ConnectorError
    from sync.errors import ConfigError

    runtime = _runtime(args)
    if isinstance(runtime, int):
        return runtime
    settings, mappings = runtime
    print(f"config: ok ({len(settings.connectors)} connector(s))")
    store = _open_store(settings)
    print(f"state: ok ({store})")
    owners = {conf.name: store.lease_holder(conf.name) for conf in settings.connectors}
    store.close()
    code = EXIT_OK
    for conf in settings.connectors:
        holder = owners[conf.name]
        owned = (
            f"owned by {holder.owner} until {holder.expires_at.isoformat(timespec='seconds')}"
            if holder is not None
            else "no owner"
        )
        line = (
            f"connector {conf.name}: {conf.kind} {conf.base_url} mapping {conf.mapping} "
            f"({len(mappings[conf.name].types)} types; {owned})"
        )
        try:
            detail = build_connector(conf).check()
        except ConfigError as exc:
            print(f"{line}: CONFIG ERROR {exc}")
            code = max(code, EXIT_CONFIG)
        except AuthError as exc:
            print(f"{line}: AUTH ERROR {exc}")
            code = max(code, EXIT_AUTH)
        except ConnectorError as exc:
            print(f"{line}: UNREACHABLE {exc}")
            code = max(code, EXIT_FAILURES)
        else:
            print(f"{line}: ok — {detail}")
    return code


def cmd_dead_letters(args: argparse.Namespace) -> int:
    """``dead-letters list|retry [ID]``."""
    import json

    runtime = _runtime(args)
    if isinstance(runtime, int):
        return runtime
    settings, _ = runtime
    store = _open_store(settings)
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
    import json

    runtime = _runtime(args)
    if isinstance(runtime, int):
        return runtime
    settings, _ = runtime
    store = _open_store(settings)
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
    """``demo``: a loopback Freshdesk sandbox with SAC tickets, one engine pass, a table."""
    from cli.demo import run_demo

    return run_demo(fmt=args.format, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
