"""``python -m sandboxes.movidesk``: serve a sandbox account on loopback until killed.

Prints the API base URL (``http://127.0.0.1:PORT/public/v1``) on the first line of
stdout, then answers HTTP until interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __doc__ as PACKAGE_DOC
from .sandbox import MovideskSandbox
from .seeds import setup_emissor_account
from .state import DEFAULT_TOKEN


def _limit(text: str) -> int | None:
    return None if text.lower() == "none" else int(text)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sandboxes.movidesk --port N [--seed emissor]``: serve until killed."""
    summary = PACKAGE_DOC.splitlines()[0] if PACKAGE_DOC else None
    parser = argparse.ArgumentParser(prog="python -m sandboxes.movidesk", description=summary)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", choices=["none", "emissor"], default="none")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--day-limit", type=_limit, default=10, help="requests/minute; none")
    parser.add_argument("--night-limit", type=_limit, default=None, help="requests/minute")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--shuffle-ties", action="store_true")
    args = parser.parse_args(argv)
    sandbox = MovideskSandbox(
        token=args.token,
        day_limit=args.day_limit,
        night_limit=args.night_limit,
        time_scale=args.time_scale,
        shuffle_ties=args.shuffle_ties,
    )
    if args.seed == "emissor":
        setup_emissor_account(sandbox)
    running = sandbox.serve(args.host, args.port)
    sys.stdout.write(f"{running.url}\n")
    sys.stdout.flush()
    try:
        running.thread.join()
    except KeyboardInterrupt:
        running.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
