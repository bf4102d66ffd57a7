"""SIGTERM and SIGINT as a request to stop: the pass ends after the ticket in hand.

``run`` as a service, ``run --once`` and ``backfill`` all stop the same way: the signal sets
the engine's ``stop`` event, the engine finishes and persists the ticket it is writing,
the pass ends (``PassResult.stopped``), the command gives its leases up and exits. A
second signal while stopping changes nothing; the handlers that were there before come
back when the command is done.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger("helpdesk_sync.daemon")

SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(stop: threading.Event, received: list[int] | None = None) -> Iterator[None]:
    """While inside, SIGTERM/SIGINT set ``stop`` instead of ending the process; the signal
    numbers are appended to ``received`` (Ctrl-C is told apart from a supervisor's stop)."""

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("stopping on signal %s", signum, extra={"event": "daemon.stopping"})
        if received is not None:
            received.append(signum)
        stop.set()

    previous = {s: signal.signal(s, _stop) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


__all__ = ["SIGNALS", "stop_on_signals"]
