"""Rate limits of the Movidesk sandbox: the per-minute budget and the 3-failure lock.

Per-minute budget: "Our API's allow up to 10 requests per minute" (Zenvia 2025 Tickets
API page, KB 510136; KB 189 and 256 say the same, and link a page on "API access hours
and limits"). The sandbox applies ``day_limit`` (10) requests per rolling minute between
07:01 and 18:59 America/Sao_Paulo by the sandbox clock and ``night_limit`` (None =
unlimited) otherwise; that day/night split and the rolling window are unverified (the
hours page was not found). A request over the budget gets 429 with ``Retry-After``: the
seconds until the oldest counted request leaves the window. Refused requests are not
counted.

The lock: "In the Tickets API, after 3 requests with error, the code 429 - Too many failed
requests will be returned, blocking requests for 60 seconds. This time is left after 3
more consecutive errors. The waiting time is in the retry-after parameter of the response
header." (same page). Errors are answers >= 400 other than 429 on ``/tickets`` paths; a
success resets the count; every lock is counted in ``lockouts``. ``lockout_after=None``
turns the lock off (tests that send many refused writes in a row).

``time_scale`` works as in the Freshdesk sandbox: the sandbox clock runs ``time_scale``
times faster than the wall clock, so a wait of N sandbox seconds is announced as
``ceil(N / time_scale)`` wall seconds; nothing sleeps.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("America/Sao_Paulo")
DAY_START = time(7, 1)
DAY_END = time(18, 59, 59, 999999)
WINDOW = timedelta(minutes=1)


class RateLimits:
    """The per-minute budget and the failure lock of one account (a mixin of the sandbox)."""

    day_limit: int | None
    night_limit: int | None
    lockout_after: int | None
    lockout_seconds: float
    time_scale: float
    lockouts: int
    throttled: int
    now: Callable[[], datetime]
    _recent: deque[datetime]
    _failures: int
    _locked_until: datetime | None

    def is_day(self, moment: datetime) -> bool:
        """07:01–18:59 in São Paulo: the day budget applies."""
        local = moment.astimezone(LOCAL_ZONE).time()
        return DAY_START <= local <= DAY_END

    def _wall_seconds(self, sandbox_seconds: float) -> int:
        return max(1, math.ceil(sandbox_seconds / self.time_scale))

    def _lock_wait(self, moment: datetime) -> int | None:
        """Seconds (wall) until the tickets API opens again, or None when it is open."""
        if self._locked_until is None:
            return None
        left = (self._locked_until - moment).total_seconds()
        if left <= 0:
            self._locked_until = None
            return None
        return self._wall_seconds(left)

    def _budget_wait(self, moment: datetime) -> int | None:
        """Charge one request to the rolling minute; the Retry-After when over budget."""
        while self._recent and self._recent[0] <= moment - WINDOW:
            self._recent.popleft()
        limit = self.day_limit if self.is_day(moment) else self.night_limit
        if limit is not None and len(self._recent) >= limit:
            self.throttled += 1
            oldest = self._recent[-limit] if limit else moment
            return self._wall_seconds((oldest + WINDOW - moment).total_seconds())
        self._recent.append(moment)
        return None

    def _count_outcome(self, status: int, moment: datetime) -> None:
        """Feed the failure lock with one tickets-API answer."""
        if status == 429:
            return
        if status < 400:
            self._failures = 0
            return
        self._failures += 1
        if self.lockout_after is not None and self._failures >= self.lockout_after:
            self._failures = 0
            self.lockouts += 1
            self._locked_until = moment + timedelta(seconds=self.lockout_seconds)
