"""What the operational commands stand on: settings, mappings, store, engines and leases.

Errors an operator has to fix are printed on stderr here and come back as exit codes, so
each command reads as its own steps. Heavy imports stay inside the functions: ``explain``
and ``mappings`` start without the store, the scheduler or the connectors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cli.exit_codes import EXIT_CONFIG, EXIT_LEASE


def load_runtime(args: argparse.Namespace) -> Any:
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


def build_engine(settings: Any, mappings: dict[str, Any], store: Any, name: str, **kw: Any) -> Any:
    """The connector's engine; ``fence=`` a lease's fence when several processes may run."""
    from connectors.registry import build_connector
    from engine.engine import Engine

    conf = settings.connector(name)
    return Engine(
        build_connector(conf, overlap=timedelta(seconds=settings.overlap_seconds)),
        mappings[name],
        store,
        clock=lambda: datetime.now(UTC),
        initial_lookback=timedelta(hours=conf.initial_lookback_hours),
        max_attempts=settings.max_attempts,
        scope=conf.scope,
        **kw,
    )


def open_store(settings: Any) -> Any:
    """The state store the settings name (created on first use)."""
    from engine.store import Store

    return Store(settings.state_url)


def missing_store(settings: Any) -> str | None:
    """The path of a SQLite state file that does not exist yet, else None.

    Commands that only read state (``check``, ``timers``, ``dead-letters``) ask first and
    say there is no state yet instead of creating an empty database where they run. A
    PostgreSQL store is a server: it is opened (the schema is created on first use).
    """
    from sqlalchemy.engine import make_url

    url = make_url(settings.state_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database)
    return None if path.exists() else str(path)


# ----------------------------------------------------------------------------- leases


def process_leases(
    settings: Any, store: Any, names: Sequence[str], dry_run: bool
) -> dict[str, Any]:
    """One lease per connector this process writes (none for ``--dry-run``: it writes nothing)."""
    from engine.ownership import process_leases as leases

    return {} if dry_run else leases(store, names, settings.lease_ttl)


def fence(leases: dict[str, Any], name: str) -> Any:
    """The fence of connector ``name``'s lease, or None when this process takes none."""
    lease = leases.get(name)
    return None if lease is None else lease.fence


def take(lease: Any, wait: float | None) -> bool:
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


__all__ = [
    "build_engine",
    "fence",
    "load_runtime",
    "missing_store",
    "open_store",
    "process_leases",
    "take",
]
