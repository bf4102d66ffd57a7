"""What ``run --once`` and ``backfill`` print: a pass's summary and backfill progress."""


from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sync.contract import Cursor

log = logging.getLogger("helpdesk_sync.daemon")


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


class Progress:
    """Backfill progress: a bar with counts and ETA on a terminal, log lines otherwise."""

    def __init__(self, since: datetime, until: datetime, tty: bool) -> None:
        self.since, self.until, self.tty = since, until, tty
        self.started = datetime.now(UTC)
        self.count = 0
        self.errors = 0

    def ticket_done(self, report: Any) -> None:
        """The engine's reporter hook: one ticket finished (``report.error`` if it failed)."""
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
        """End the bar's line on a terminal."""
        if self.tty:
            sys.stderr.write("\n")


__all__ = ["Progress", "cursor_text", "print_pass"]
