"""What commands print: a pass's summary, its cursor, durations as people read them (the
backfill progress in ``cli.progress`` and the status page use them too)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

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


def duration(seconds: float) -> str:
    """A duration as people write it, rounded up to the second (its sign dropped):
    ``42 s``, ``1 min``, ``4 min 10 s``, ``2 h 05 min``, ``12 d 2 h``."""
    whole = math.ceil(abs(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    if whole < 86400:
        hours, rest = divmod(whole, 3600)
        return f"{hours} h {rest // 60:02d} min"
    days, rest = divmod(whole, 86400)
    return f"{days} d {rest // 3600} h"


__all__ = ["cursor_text", "duration", "print_pass"]
