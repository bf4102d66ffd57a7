"""``python -m sandboxes.freshdesk``: serve a sandbox account on loopback until killed.

Prints the base URL on the first line of stdout, then answers HTTP until interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __doc__ as PACKAGE_DOC
from .limits import PLANS
from .sandbox import FreshdeskSandbox
from .seeds import seed_demo
from .state import DEFAULT_API_KEY


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sandboxes.freshdesk --port N [--seed demo]``: serve until killed."""
    summary = PACKAGE_DOC.splitlines()[0] if PACKAGE_DOC else None
    parser = argparse.ArgumentParser(prog="python -m sandboxes.freshdesk", description=summary)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", choices=["none", "demo"], default="none")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--plan", choices=sorted(PLANS), default="unlimited")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--shuffle-ties", action="store_true")
    args = parser.parse_args(argv)
    sandbox = FreshdeskSandbox(
        api_key=args.api_key,
        plan=args.plan,
        time_scale=args.time_scale,
        shuffle_ties=args.shuffle_ties,
    )
    if args.seed == "demo":
        seed_demo(sandbox)
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
