"""Movidesk's request budget: 10 calls in any minute by day, none counted at night.

Theory of operation
-------------------
* Movidesk allows 10 requests per minute to its APIs during the day (07:01–18:59 in
  America/Sao_Paulo) and does not limit the night (reference: Zenvia "Tickets API"
  page; jonasandre/movidesk-cli ``internal/movidesk/client.go`` paces 10 per minute too).
  No ``X-RateLimit-*`` header reports the quota, so ``DayNightBudget`` paces calls BEFORE
  they are sent with a sliding log of send times: by day the 11th call in 60 s (plus a
  small margin for the time a request takes to arrive) waits until the oldest one leaves
  the window, so a steady run never meets a 429. Night calls are logged too, so a burst
  just before 07:01 still counts in the first minute of the day.
* What the budget does not see is handled by ``HttpClient`` (``connectors._http``): a 429
  (over the limit, or the lock after three failed requests, body "Too many failed
  requests") is retried after its ``Retry-After``/``retry-after`` seconds without using
  up an attempt; other 4xx are never retried, so a bad write does not feed the lock.
* The clock is injectable (``now``: aware datetimes, ``sleep``): tests drive it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .._http import RateBudget

log = logging.getLogger("helpdesk_sync.connectors.movidesk")

DEFAULT_DAY_WINDOW = "07:01-18:59"
"""Local minutes (inclusive) during which the per-minute limit applies."""
DEFAULT_TIMEZONE = "America/Sao_Paulo"
DAY_LIMIT_PER_MINUTE = 10
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_day_window(text: str) -> tuple[clock_time, clock_time]:
    """``"07:01-18:59"`` as (first, last) minute of the day; ``ValueError`` names the form."""
    match = _WINDOW.match(text)
    if match is None:
        raise ValueError(f"day window '{text}' must look like 07:01-18:59")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    try:
        first, last = clock_time(h1, m1), clock_time(h2, m2)
    except ValueError:
        raise ValueError(f"day window '{text}' names a time that does not exist") from None
    if last < first:
        raise ValueError(f"day window '{text}' ends before it starts")
    return first, last


def zone(name: str) -> ZoneInfo:
    """A time zone by IANA name; ``ValueError`` when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{name}'") from None


class DayNightBudget(RateBudget):
    """``limit`` calls in any ``window`` seconds during the local day; unlimited at night.

    Plugs into ``HttpClient`` as its ``budget``: ``before_call`` paces, ``after_response``
    has nothing to read (Movidesk sends no rate headers).
    """

    def __init__(
        self,
        limit: int = DAY_LIMIT_PER_MINUTE,
        *,
        day_window: str = DEFAULT_DAY_WINDOW,
        timezone: str = DEFAULT_TIMEZONE,
        window: float = 60.0,
        margin: float | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(window=window, sleep=sleep)
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.first, self.last = parse_day_window(day_window)
        self.zone = zone(timezone)
        self.margin = window / 50 if margin is None else margin
        self.now = now
        self._sent: deque[float] = deque()
        self._pace_lock = threading.Lock()

    def is_day(self, moment: datetime) -> bool:
        """True when ``moment`` falls in the day window (local minutes, inclusive)."""
        local = moment.astimezone(self.zone).time().replace(second=0, microsecond=0)
        return self.first <= local <= self.last

    def _night_starts_in(self, moment: datetime) -> float:
        """Seconds from ``moment`` (by day) until the night begins."""
        local = moment.astimezone(self.zone)
        end = local.replace(
            hour=self.last.hour, minute=self.last.minute, second=0, microsecond=0
        ) + timedelta(minutes=1)
        return max(0.0, (end - local).total_seconds())

    def before_call(self) -> float:
        """Wait (once) until one more call fits in the day's window; log the send time."""
        with self._pace_lock:
            moment = self.now()
            stamp = moment.timestamp()
            span = self.window + self.margin
            while self._sent and self._sent[0] <= stamp - span:
                self._sent.popleft()
            wait = 0.0
            if self.is_day(moment) and len(self._sent) >= self.limit:
                wait = min(self._sent[0] + span - stamp, self._night_starts_in(moment))
            if wait > 0:
                log.info(
                    "movidesk day limit: %d calls in the last minute, waiting %.1fs",
                    len(self._sent),
                    wait,
                    extra={"event": "http.rate_wait", "delay": round(wait, 3)},
                )
                self.sleep(wait)
                self.waited += wait
                # One sleep is enough: the oldest send has left the window by then. A clock
                # that did not move while sleeping (a test's) must not make this spin.
                stamp = max(self.now().timestamp(), stamp + wait)
                while self._sent and self._sent[0] <= stamp - span:
                    self._sent.popleft()
            self._sent.append(stamp)
            return wait

    def after_response(self, headers: Mapping[str, str]) -> None:
        """Movidesk reports no quota in headers: nothing to record."""
        return None


__all__ = [
    "DAY_LIMIT_PER_MINUTE",
    "DEFAULT_DAY_WINDOW",
    "DEFAULT_TIMEZONE",
    "DayNightBudget",
    "parse_day_window",
    "zone",
]
