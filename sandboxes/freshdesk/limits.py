"""Rate limits of the Freshdesk sandbox: plans, credits per call, per-minute windows.

Follows the reference's rate-limit facts: each plan has a per-minute credit budget and,
on paid plans, sub-limits for listing tickets, creating and updating them; a list call
costs 1 credit plus 2 per ``include``, a ticket view 1 plus 1 per ``include``. Windows
are fixed calendar minutes of the sandbox clock (scaled by ``time_scale``); a call over a
limit gets the seconds to the next window as ``Retry-After``. ``RateLimits`` is a mixin of
``FreshdeskSandbox``: it reads the plan, clock and window counters the account holds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class RatePlan:
    """Per-minute limits of a Freshdesk plan (reference table); None = no sub-limit."""

    name: str
    per_minute: int
    tickets_list: int | None = None
    ticket_create: int | None = None
    ticket_update: int | None = None


PLANS: Mapping[str, RatePlan] = {
    "trial": RatePlan("trial", 50),
    "growth": RatePlan("growth", 200, 20, 80, 80),
    "pro": RatePlan("pro", 400, 100, 160, 160),
    "enterprise": RatePlan("enterprise", 700, 200, 280, 280),
    "unlimited": RatePlan("unlimited", 10**9),
}


class RateLimits:
    """Credits and per-minute windows of one sandbox account (a mixin of the sandbox)."""

    plan: RatePlan
    time_scale: float
    clock: Callable[[], datetime]
    _window: int | None
    _used: dict[str, int]

    def _credits(self, method: str, path: str, query: Mapping[str, list[str]]) -> int:
        # Docs "List All Tickets": each include +2 credits; "View a Ticket": +1 each.
        includes = [v for raw in query.get("include", []) for v in raw.split(",") if v]
        if method == "GET" and path == "/api/v2/tickets":
            return 1 + 2 * len(includes)
        if method == "GET" and re.fullmatch(r"/api/v2/tickets/\d+", path):
            return 1 + len(includes)
        return 1

    def _bucket(self, method: str, path: str) -> str | None:
        if path == "/api/v2/tickets":
            return {"GET": "tickets_list", "POST": "ticket_create"}.get(method)
        if method == "PUT" and re.fullmatch(r"/api/v2/tickets/\d+", path):
            return "ticket_update"
        return None

    def _consume(self, method: str, path: str, credits: int) -> int | None:
        """Charge a call to the minute window; the Retry-After seconds when over a limit."""
        now = self.clock().astimezone(UTC)
        window = math.floor(now.timestamp() / 60)
        if window != self._window:
            self._window = window
            self._used = {"total": 0}
        left = 60 - (now.timestamp() - window * 60)
        retry_after = max(1, math.ceil(left / self.time_scale))
        if self._used["total"] + credits > self.plan.per_minute:
            return retry_after
        bucket = self._bucket(method, path)
        limit = getattr(self.plan, bucket) if bucket else None
        if bucket and limit is not None and self._used.get(bucket, 0) + 1 > limit:
            return retry_after
        self._used["total"] += credits
        if bucket:
            self._used[bucket] = self._used.get(bucket, 0) + 1
        return None
