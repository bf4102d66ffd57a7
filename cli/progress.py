"""Backfill progress people can watch: tickets listed, decided and written, a rate, an ETA.

Theory of operation
-------------------
* Every count comes from the pass itself, through the engine's ``reporter`` hooks
  (``engine.reports.Reporter``): ``ticket_listed`` for each reference the pass takes
  from the listing (the summary's ``seen``), ``ticket_skipped`` for those the engine
  skips (already processed at that version, or quarantined), ``ticket_done`` for the
  tickets decided or failed and the effects they wrote, ``listing_done`` once the
  listing is exhausted.
* The total is what has been listed so far: the helpdesks give no count of a window
  ahead of time, so while the listing goes on the bar reads ``listed ≥ N`` and the ETA is
  a lower bound (``ETA ≥ …``); once the listing is complete they are exact.
* The ETA is counts only: tickets listed and not yet processed, divided by the rate at
  which tickets were processed over the last ``rate_window`` seconds (since the start
  while younger). It never extrapolates the time span between ``--since`` and
  ``--until``: tickets are not spread evenly over it.
* API waits: the connector's ``api_stats()["waited_seconds"]`` is sampled every
  ``tick`` seconds. When it grows, the bar says ``waiting for API limit N s`` (counting
  down) until the wait is over or the next ticket is done; the total waited is shown too.
  Waits a connector counts before sleeping (Freshdesk's rate budget, ``Retry-After`` and
  backoff) are announced while they last; those counted after (Freshdesk's sub-limit
  pacing, Movidesk's day limit) reach the total, and each logs its own line.
* On a terminal (stderr a tty) the bar is a ``tqdm`` bar and log records are written
  above it through ``cli.logs.logs_above_bar``, so a log line never breaks it. Elsewhere
  (a service, a pipe, CI) no bar is drawn: one ``backfill.progress`` log record every
  ``log_every`` seconds carries the same counts, rate and ETA, and a last one
  (``final: true``) the counts the summary prints.
"""

from __future__ import annotations

import functools
import logging
import math
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TextIO

from cli.output import duration

log = logging.getLogger("helpdesk_sync.daemon")

Clock = Callable[[], float]
ApiStats = Callable[[], Mapping[str, float]]

LOG_EVERY = 30.0
"""Seconds between two ``backfill.progress`` log records when no bar is drawn."""
TICK = 1.0
"""Seconds between two looks at the API waits (and redraws of the bar) while nothing
else happens."""
RATE_WINDOW = 300.0
"""The rate (and so the ETA) is measured over this many recent seconds."""
DRAW_EVERY = 0.1
"""Seconds between two redraws of the bar at most (a fast pass must not flood the terminal)."""
MIN_WAIT = 0.5
"""API waits shorter than this are counted in the total but not announced."""


def rate_text(per_second: float) -> str:
    """Tickets per second, or per minute when slower than one a second."""
    if per_second >= 1:
        return f"{per_second:.1f} tickets/s"
    return f"{per_second * 60:.1f} tickets/min"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The counts at one moment, and what follows from them."""

    listed: int
    listing_complete: bool
    decided: int
    failed: int
    skipped: int
    written: int
    rate: float | None
    """Tickets processed (decided, failed or skipped) per second, recently."""
    api_waited: float
    """Seconds the connector has waited for API limits since the pass began."""
    waiting: float | None
    """Seconds left of the API wait in progress, else None."""
    stopping: bool
    """A signal asked the pass to stop after the ticket in hand."""
    elapsed: float
    """Seconds since the pass began."""
    final: bool = False
    """The pass is over: these are the counts its summary prints."""

    @property
    def processed(self) -> int:
        """Tickets the pass is done with: decided, failed or skipped."""
        return self.decided + self.failed + self.skipped

    @property
    def remaining(self) -> int:
        """Tickets listed and not processed yet (more may come while listing goes on)."""
        return max(0, self.listed - self.processed)

    @property
    def eta(self) -> float | None:
        """Seconds until every ticket listed so far is processed, at the recent rate; None
        when unknown (no rate yet, nothing left while the listing goes on, or stopping)."""
        if self.stopping or self.final:
            return None
        if not self.remaining:
            return 0.0 if self.listing_complete else None
        return self.remaining / self.rate if self.rate else None

    def text(self) -> str:
        """The bar's status: ``listed ≥ 120 (still listing) · decided 25 · …``."""
        if self.listing_complete:
            listed = f"listed {self.listed} (all)"
        elif self.final:
            listed = f"listed {self.listed} (listing not finished)"
        else:
            listed = f"listed ≥ {self.listed} (still listing)"
        parts = [listed, f"decided {self.decided}", f"written {self.written}"]
        if self.failed:
            parts.append(f"failed {self.failed}")
        if self.skipped:
            parts.append(f"skipped {self.skipped}")
        if self.rate:
            parts.append(rate_text(self.rate))
        if self.final:
            parts.append(f"{'stopped after' if self.stopping else 'took'} {duration(self.elapsed)}")
        elif self.stopping:
            parts.append("stopping after the ticket in hand")
        else:
            eta = self.eta
            lower = "" if self.listing_complete else "≥ "
            parts.append("ETA ?" if eta is None else f"ETA {lower}{duration(eta)}")
        if self.waiting is not None and not self.final:
            parts.append(f"waiting for API limit {duration(self.waiting)}")
        elif self.api_waited >= MIN_WAIT:
            parts.append(f"API waits {duration(self.api_waited)}")
        return " · ".join(parts)

    def fields(self) -> dict[str, Any]:
        """The counts as log record fields (``backfill.progress``)."""
        eta = self.eta
        return {
            "listed": self.listed,
            "listing_complete": self.listing_complete,
            "decided": self.decided,
            "failed": self.failed,
            "skipped": self.skipped,
            "written": self.written,
            "tickets_per_second": round(self.rate, 3) if self.rate is not None else None,
            "eta_seconds": math.ceil(eta) if eta is not None else None,
            "eta_is_lower_bound": not self.listing_complete,
            "elapsed_seconds": round(self.elapsed, 1),
            "api_waited_seconds": round(self.api_waited, 1),
            "waiting_for_api_seconds": (
                math.ceil(self.waiting) if self.waiting is not None else None
            ),
            "stopping": self.stopping,
            "final": self.final,
        }


@dataclass(frozen=True, slots=True)
class _Wait:
    seconds: float
    seen: float
    mark: tuple[int, int]
    """(listed, processed) when the wait was seen: progress after it ends the wait."""


class Progress:
    """The reporter of a backfill pass: a bar on a terminal, log records elsewhere.

    Use it as a context manager around the pass (the bar, the log redirection and the
    ticker thread live inside) and pass it as the engine's ``reporter``.
    """

    def __init__(
        self,
        connector: str,
        *,
        tty: bool,
        api_stats: ApiStats | None = None,
        stop: threading.Event | None = None,
        clock: Clock = time.monotonic,
        file: TextIO | None = None,
        log_every: float | None = None,
        tick: float | None = None,
        rate_window: float = RATE_WINDOW,
    ) -> None:
        self.connector = connector
        self.tty = tty
        self._api_stats = api_stats
        self._stop = stop
        self._clock = clock
        self._file = file
        self._log_every = LOG_EVERY if log_every is None else log_every
        self._tick = TICK if tick is None else tick
        """Seconds between the ticker's beats; 0: no ticker thread (tests call ``tick``)."""
        self._rate_window = rate_window
        self._lock = threading.RLock()
        self.listed = 0
        self.listing_complete = False
        self.decided = 0
        self.failed = 0
        self.skipped = 0
        self.written = 0
        self._started = clock()
        self._logged = self._started
        self._samples: deque[tuple[float, int]] = deque([(self._started, 0)])
        self._api_base: float | None = None
        self._api_waited = 0.0
        self._wait: _Wait | None = None
        self._bar: Any = None
        self._drawn = -math.inf
        self._stack = ExitStack()
        self._ticker: threading.Thread | None = None
        self._closing = threading.Event()
        self._closed = False
        self._sample_api(self._started)  # what was waited before the pass is not its own

    # ------------------------------------------------------------------ counting

    def ticket_done(self, report: Any) -> None:
        """The engine's reporter hook: one ticket finished (``report.error`` if it failed)."""
        with self._lock:
            if report.error:
                self.failed += 1
            else:
                self.decided += 1
                self.written += report.applied
            self._processed_one()

    def ticket_listed(self) -> None:
        """The listing yielded one more ticket reference."""
        with self._lock:
            self.listed += 1
            self._show(self._clock())

    def ticket_skipped(self) -> None:
        """The engine skipped the last ticket listed (already processed, or quarantined)."""
        with self._lock:
            self.skipped += 1
            self._processed_one()

    def listing_done(self) -> None:
        """The listing has nothing more: ``listed`` is the whole pass."""
        with self._lock:
            self.listing_complete = True
            self._drawn = -math.inf  # always shown at once
            self._show(self._clock())

    def _processed_one(self) -> None:
        now = self._clock()
        processed = self.decided + self.failed + self.skipped
        if now - self._samples[-1][0] >= 1.0:  # one a second at most: memory stays flat
            self._samples.append((now, processed))
        while len(self._samples) > 2 and self._samples[1][0] <= now - self._rate_window:
            self._samples.popleft()
        self._show(now)

    # ------------------------------------------------------------------ reading

    def snapshot(self) -> Snapshot:
        """The counts now, with the API waits sampled and the rate measured."""
        with self._lock:
            now = self._clock()
            self._sample_api(now)
            return self._snapshot(now)

    def _snapshot(self, now: float, *, final: bool = False) -> Snapshot:
        processed = self.decided + self.failed + self.skipped
        return Snapshot(
            listed=self.listed,
            listing_complete=self.listing_complete,
            decided=self.decided,
            failed=self.failed,
            skipped=self.skipped,
            written=self.written,
            rate=self._rate(now, processed),
            api_waited=self._api_waited,
            waiting=self._waiting(now, processed),
            stopping=self.stopping,
            elapsed=now - self._started,
            final=final,
        )

    @property
    def stopping(self) -> bool:
        """A signal asked the pass to stop after the ticket in hand."""
        return self._stop is not None and self._stop.is_set()

    def _rate(self, now: float, processed: int) -> float | None:
        since, before = self._samples[0]
        if processed <= before or now <= since:
            return None if processed == 0 else 0.0
        return (processed - before) / (now - since)

    def _sample_api(self, now: float) -> None:
        """Read the connector's API waits; a growth is a wait to announce."""
        if self._api_stats is None:
            return
        try:
            total = float(self._api_stats().get("waited_seconds", 0.0) or 0.0)
        except Exception:  # noqa: BLE001 — progress output must never stop a pass
            return
        if self._api_base is None:
            self._api_base = total
        waited = total - self._api_base
        grew = waited - self._api_waited
        if grew >= MIN_WAIT:
            processed = self.decided + self.failed + self.skipped
            self._wait = _Wait(grew, now, (self.listed, processed))
        self._api_waited = max(self._api_waited, waited)

    def _waiting(self, now: float, processed: int) -> float | None:
        wait = self._wait
        if wait is None or wait.mark != (self.listed, processed):
            return None
        left = wait.seen + wait.seconds - now
        return left if left > 0 else None

    # ------------------------------------------------------------------ showing

    def _show(self, now: float) -> None:
        """Redraw the bar, or log a record when one is due (no bar)."""
        if self._closed:
            return
        if self._bar is not None:
            if now - self._drawn >= DRAW_EVERY:
                self._draw(self._snapshot(now))
                self._drawn = now
        elif not self.tty and now - self._logged >= self._log_every:
            self._sample_api(now)
            self._log(self._snapshot(now))
            self._logged = now

    def _draw(self, snap: Snapshot) -> None:
        bar = self._bar
        with bar.get_lock():
            bar.total = snap.listed
            bar.n = snap.processed
            bar.status = snap.text()
        bar.refresh()

    def _log(self, snap: Snapshot) -> None:
        log.info(
            "backfill progress: %s",
            snap.text(),
            extra={"event": "backfill.progress", "connector": self.connector, **snap.fields()},
        )

    def tick(self) -> None:
        """Look at the API waits and redraw (or log when due): the ticker's beat."""
        with self._lock:
            now = self._clock()
            self._sample_api(now)
            self._show(now)

    def _run_ticker(self, every: float) -> None:
        while not self._closing.wait(every):
            try:
                self.tick()
            except Exception:  # progress output must never stop or disturb a pass
                log.debug("backfill progress: ticker failed", exc_info=True)
                return

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Progress:
        """Draw the bar (on a terminal) with log records above it; start the ticker."""
        if self.tty:
            from cli.logs import logs_above_bar

            self._stack.enter_context(logs_above_bar(bar_class()))
            self._bar = self._stack.enter_context(_open_bar(self.connector, self._file))
            self.tick()
        if self._tick:
            self._ticker = threading.Thread(
                target=self._run_ticker, args=(self._tick,), name="backfill-progress", daemon=True
            )
            self._ticker.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the ticker, show the last counts and end the bar's line (or log them)."""
        if self._closed:
            return
        self._closing.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            now = self._clock()
            self._sample_api(now)
            snap = self._snapshot(now, final=True)
            if self._bar is not None:
                self._draw(snap)
            elif not self.tty:
                self._log(snap)
            self._closed = True
        self._stack.close()  # the bar's line ends here, then logging goes back to stderr


@functools.cache
def bar_class() -> type[Any]:
    """A tqdm bar whose text after the bar is ours (``status``), without tqdm's monitor
    thread; tqdm is imported on first use, not by every command."""
    from tqdm import tqdm

    class Bar(tqdm):  # type: ignore[type-arg]
        monitor_interval = 0
        status = ""

        @property
        def format_dict(self) -> dict[str, Any]:
            data = dict(super().format_dict)
            data["status"] = self.status
            return data

    return Bar


@contextmanager
def _open_bar(connector: str, file: TextIO | None) -> Iterator[Any]:
    bar = bar_class()(
        total=0,
        file=file or sys.stderr,
        desc=f"backfill {connector}",
        bar_format="{desc} {percentage:3.0f}%|{bar}| {status}",
        dynamic_ncols=file is None,
        ncols=None if file is None else 160,
        mininterval=0.2,
        leave=True,
    )
    try:
        yield bar
    finally:
        bar.close()


def api_stats_of(connector: Any) -> ApiStats | None:
    """The connector's ``api_stats`` (every connector has one), or None."""
    stats = getattr(connector, "api_stats", None)
    return stats if callable(stats) else None


__all__ = [
    "LOG_EVERY",
    "Progress",
    "Snapshot",
    "api_stats_of",
    "bar_class",
    "duration",
    "rate_text",
]
