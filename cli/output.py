"""What ``run --once`` and ``backfill`` print: a pass's summary and backfill progress
(``Progress``, from ``cli.progress``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from cli.progress import Progress
from sync.contract import Cursor


def print_pass(result: Any, fmt: str) -> None:
    """One line per pass on stdout (``text``), or one JSON object with its tickets."""
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
        "cursor": cursor_text(result.cursor),
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


def cursor_text(cursor: Cursor | None) -> str | None:
    """A pass's cursor as printed: the connector's text (a datetime cursor reads as its
    ISO 8601 stamp)."""
    return cursor or None


__all__ = ["Progress", "cursor_text", "print_pass"]
