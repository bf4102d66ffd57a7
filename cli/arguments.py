"""Options several commands share, and the value types of the command-line arguments."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, time
from pathlib import Path

from cli.exit_codes import EXIT_LEASE


def add_common(p: argparse.ArgumentParser) -> None:
    """``--config`` and ``--format`` of the commands that read the configuration."""
    p.add_argument("--config", type=Path, help="YAML config file (default: $HELPDESK_SYNC_CONFIG)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output on stdout")


def add_wait(p: argparse.ArgumentParser) -> None:
    """``--wait``: how long ``run --once`` and ``backfill`` wait for a busy connector."""
    p.add_argument(
        "--wait",
        type=parse_seconds,
        metavar="SECONDS",
        help="run --once and backfill: how long to wait for a connector another process "
        f"holds before exiting {EXIT_LEASE} (default: twice the connector's lease)",
    )


def parse_seconds(value: str) -> float:
    """A number of seconds, at least 0."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 10**7:
        raise argparse.ArgumentTypeError(f"'{value}' is not a number of seconds >= 0")
    return seconds


def parse_when(value: str) -> datetime:
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


__all__ = ["add_common", "add_wait", "parse_seconds", "parse_when"]
