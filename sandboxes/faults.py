"""Fault injection shared by the helpdesk sandboxes: 429 and 5xx bursts, timeouts, drops,
delays, and a hook right after a write.

``Faults`` describes failures to inject, consumed by count by the matching requests;
``DroppedConnection`` and ``SandboxTimeout`` are how the dispatcher asks its adapter (the
``responses`` callback or the loopback server) to drop a connection or time a client out.
``FaultInjection`` is a mixin of each sandbox (Freshdesk, Movidesk, Salesforce): it picks
the fault, if any, that one request meets, and ``_fault_before`` applies what is the same
for every API (drop, time out, answer slowly), leaving the 429 and 5xx answers to the
sandbox, in its API's shape. One class for every sandbox, so one test harness drives
them all the same way.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Query = Mapping[str, list[str]]
"""A request's query string as parsed (``urllib.parse.parse_qs``)."""


class DroppedConnection(Exception):
    """The handler asks its adapter to close the connection without any response."""


class SandboxTimeout(Exception):
    """The handler asks its adapter to time the client out."""


@dataclass(slots=True)
class Faults:
    """Failures to inject; counts are consumed by the matching requests.

    ``path``/``method`` restrict the faults to matching requests (``path`` is a regex
    searched in the URL path); ``where``, when given, is one more condition on
    ``(method, path, query)`` (the query as parsed: name -> values), for what the path
    alone cannot tell on this API (``GET /tickets?id=N`` is one ticket, without ``id`` a
    list; ``PATCH /tickets?id=N`` writes ticket N). Per request the order is: dropped,
    timeouts, rate_limited, server_errors, slow; after a successful write: ``after_write`` then
    ``dropped_after_write`` (the write happened, the answer is lost).
    """

    rate_limited: int = 0
    retry_after: int = 2
    server_errors: int = 0
    server_error_status: int = 503
    timeouts: int = 0
    dropped: int = 0
    dropped_after_write: int = 0
    slow: int = 0
    delay: float = 0.0
    path: str | None = None
    method: str | None = None
    after_write: Callable[[Any], None] | None = None
    """Called with the sandbox's ``Write`` record right after a matching write."""
    where: Callable[[str, str, Query], bool] | None = None

    def matches(self, method: str, path: str, query: Query | None = None) -> bool:
        """True when this set applies to the request."""
        if self.method and self.method.upper() != method:
            return False
        if self.path and re.search(self.path, path) is None:
            return False
        return self.where is None or self.where(method, path, query or {})


class FaultInjection:
    """The faults a sandbox account has been asked to inject (a mixin of the sandbox)."""

    faults: list[Faults]
    _lock: threading.RLock
    sleep: Callable[[float], None]

    def _fault_before(
        self, method: str, path: str, query: Query | None, log_no_answer: Callable[[], None]
    ) -> tuple[str, Any] | None:
        """The fault this request meets, applied where every API is alike: a dropped
        connection or a timeout is logged (``log_no_answer``) and raised for the adapter, a
        slow answer waits; a ``("429", retry_after)`` or ``("5xx", status)`` is returned for
        the sandbox to answer in its API's shape; None when there is none."""
        with self._lock:
            fault = self._take_fault(method, path, query)
        if fault == "dropped":
            log_no_answer()
            raise DroppedConnection(path)
        if fault == "timeout":
            log_no_answer()
            raise SandboxTimeout(path)
        if isinstance(fault, tuple) and fault[0] == "slow":
            self.sleep(fault[1])
            return None
        return fault if isinstance(fault, tuple) else None

    def inject(self, faults: Faults) -> Faults:
        """Activate a set of faults (consumed by count); returns it for inspection."""
        with self._lock:
            self.faults.append(faults)
            return faults

    def _take_fault(
        self, method: str, path: str, query: Query | None = None
    ) -> str | tuple[str, Any] | None:
        for faults in self.faults:
            if not faults.matches(method, path, query):
                continue
            if faults.dropped > 0:
                faults.dropped -= 1
                return "dropped"
            if faults.timeouts > 0:
                faults.timeouts -= 1
                return "timeout"
            if faults.rate_limited > 0:
                faults.rate_limited -= 1
                return ("429", faults.retry_after)
            if faults.server_errors > 0:
                faults.server_errors -= 1
                return ("5xx", faults.server_error_status)
            if faults.slow > 0:
                faults.slow -= 1
                return ("slow", faults.delay)
        return None

    def _take_after_write(self, method: str, path: str, query: Query | None = None) -> bool:
        for faults in self.faults:
            if faults.dropped_after_write > 0 and faults.matches(method, path, query):
                faults.dropped_after_write -= 1
                return True
        return False
