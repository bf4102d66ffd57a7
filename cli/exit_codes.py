"""Exit codes of the command line, and which one a pass (or several) ends with.

0 done; 1 done but tickets failed or were quarantined; 2 usage, bad input, bad
configuration or bad mapping; 3 the helpdesk refused the credentials; 69, 70, 75 and 130
below.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_CONFIG = 2
EXIT_AUTH = 3
EXIT_UNAVAILABLE = 69
"""EX_UNAVAILABLE: a helpdesk kept failing while being listed (past its retries); what was
done is kept, the cursor stays behind what was not seen; the next run goes on."""
EXIT_INTERNAL = 70
"""EX_SOFTWARE: an unexpected error (a bug); logged as JSON with its masked traceback."""
EXIT_LEASE = 75
"""EX_TEMPFAIL: another process owns a connector (nothing was written for it), or the
command was stopped by SIGTERM/SIGINT before the end (what was done is kept); run it
again later and it goes on where it stopped."""

EXIT_INTERRUPTED = 130
"""A backfill stopped with Ctrl-C (SIGINT; the shell's 128 + 2): the ticket in hand was
finished and kept; the same command run again resumes."""

SEVERITY = (EXIT_INTERNAL, EXIT_FAILURES, EXIT_UNAVAILABLE, EXIT_LEASE)
"""Which exit code wins when connectors ended differently: a bug, failed tickets, a
helpdesk that kept failing, a connector left to another process."""


def pass_code(result: Any, *, interrupted: bool = False) -> int:
    """The exit code one connector's pass ends with (``interrupted``: stopped by a signal)."""
    if result.internal_error:
        return EXIT_INTERNAL
    if not result.ok:
        return EXIT_FAILURES
    if result.unavailable:
        return EXIT_UNAVAILABLE
    stopped_early = interrupted and result.stopped
    return EXIT_LEASE if result.lease_lost or stopped_early else EXIT_OK


def worst(codes: Sequence[int]) -> int:
    """The code that says the most of several connectors' passes (``SEVERITY``)."""
    for code in SEVERITY:
        if code in codes:
            return code
    return EXIT_OK


__all__ = [
    "EXIT_AUTH",
    "EXIT_CONFIG",
    "EXIT_FAILURES",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_LEASE",
    "EXIT_OK",
    "EXIT_UNAVAILABLE",
    "SEVERITY",
    "pass_code",
    "worst",
]
