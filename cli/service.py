"""``run`` as a service: scheduled polls and timer checks per connector until a signal."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from cli.exit_codes import EXIT_AUTH, EXIT_CONFIG, EXIT_OK
from cli.signals import stop_on_signals

log = logging.getLogger("helpdesk_sync.daemon")


def schedule(
    settings: Any,
    engines: dict[str, Any],
    leases: dict[str, Any],
    stop: threading.Event,
    store: Any,
) -> int:
    """One APScheduler job per connector; the same connector never runs twice at once.

    A helpdesk that refuses a connector's credentials stops the service: the jobs in
    flight finish, the leases are given up, and ``run`` exits 3 (``EXIT_AUTH``), so a
    supervisor that does not restart on 3 (the systemd unit's ``RestartPreventExitStatus``)
    leaves it stopped and visible instead of polling in vain every interval.

    With several processes a connector's jobs run only while this process holds its lease
    (kept between passes by the heartbeat); otherwise the pass is skipped, logged, and tried
    again when the holder's lease would run out: a dead owner is replaced within its lease.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    from cli.health import Health, serve
    from engine.ownership import LeaseLost, holding, working
    from sync.contract import AuthError

    scheduler = BackgroundScheduler(timezone=UTC)
    health = Health(
        store,
        {name: float(settings.connector(name).interval_seconds) for name in engines},
        connectors={name: engine.connector for name, engine in engines.items()},
    )
    refused: dict[str, str] = {}
    """Connectors whose credentials the helpdesk refused: the service stops, exit 3."""

    def give_up(name: str, exc: Exception) -> None:
        refused[name] = str(exc)
        health.pass_error(name, "auth", str(exc))
        log.error(
            "credentials refused: %s; stopping (exit 3): fix the key and start again",
            exc,
            extra={"event": "connector.auth", "connector": name},
        )
        stop.set()

    def job(name: str) -> None:
        with working(leases.get(name)) as lease:
            if lease is not None and not _own(scheduler, lease, f"poll:{name}"):
                health.skipped(name)
                return
            try:
                health.pass_done(name, engines[name].run_pass())
            except AuthError as exc:
                give_up(name, exc)
            except Exception as exc:  # a failing pass must not kill the scheduler
                health.pass_error(name, "error", type(exc).__name__)
                log.exception("pass failed", extra={"event": "pass.error", "connector": name})

    def timer_job(name: str) -> None:
        with working(leases.get(name)) as lease:
            if lease is not None and not _own(None, lease, f"timers:{name}"):
                return
            try:
                engines[name].fire_timers()
            except LeaseLost:  # logged by the lease; the new owner checks the timers
                return
            except AuthError as exc:
                give_up(name, exc)
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

    try:
        served = serve(health, settings.health_address) if settings.health_address else None
    except OSError as exc:  # the address is taken or not this host's: a configuration fix
        log.error(
            "cannot serve health on %s: %s (set health_address to a free HOST:PORT)",
            settings.health_address,
            exc,
            extra={"event": "health.error"},
        )
        store.close()
        return EXIT_CONFIG
    with stop_on_signals(stop), holding(leases, handover=True):
        scheduler.start()
        log.info("running", extra={"event": "daemon.started", "connectors": list(engines)})
        stop.wait()
        scheduler.shutdown(wait=True)  # the current ticket finishes and is persisted
    if served is not None:
        served.stop()
    store.close()
    log.info("stopped", extra={"event": "daemon.stopped"})
    return EXIT_AUTH if refused else EXIT_OK


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


__all__ = ["schedule"]
