"""helpdesk-sync command line: ``helpdesk-sync COMMAND`` or ``python daemon.py COMMAND``.

Exit codes: 0 done; 1 done but tickets failed or were quarantined; 2 usage, bad input,
bad configuration or bad mapping; 3 the helpdesk refused the credentials; 75 (EX_TEMPFAIL)
``run --once``/``backfill``: another process holds a connector (or took it over
mid-pass), so this one did not write it; try again later.

This module is the entry point: the argument parser and the dispatch to the commands in
``cli.commands`` (exit codes in ``cli.exit_codes``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from cli.arguments import add_common, add_wait, parse_when
from cli.check import cmd_check
from cli.commands import (
    cmd_backfill,
    cmd_dead_letters,
    cmd_demo,
    cmd_run,
    cmd_timers,
)
from cli.exit_codes import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_FAILURES,
    EXIT_INTERNAL,
    EXIT_LEASE,
    EXIT_OK,
    EXIT_UNAVAILABLE,
)
from cli.explain import add_explain_parser, add_mappings_parser

log = logging.getLogger("helpdesk_sync.daemon")


def package_version() -> str:
    """The installed distribution's version (pyproject.toml), or "unknown" from a bare
    checkout that was never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("helpdesk-sync")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="helpdesk-sync",
        description="Enforce support SOPs in Salesforce Service Cloud, Movidesk and Freshdesk.",
    )
    parser.add_argument(
        "--version", action="version", version=f"helpdesk-sync {package_version()}"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_explain_parser(sub)
    add_mappings_parser(sub)

    p = sub.add_parser("run", help="poll every configured helpdesk on its schedule")
    add_common(p)
    p.add_argument("--once", action="store_true", help="one pass over every connector, then exit")
    p.add_argument("--dry-run", action="store_true", help="decide and report; write nothing")
    add_wait(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("backfill", help="run the engine over a connector's history (resumable)")
    add_common(p)
    p.add_argument("--connector", required=True)
    p.add_argument("--since", required=True, type=parse_when, help="YYYY-MM-DD or ISO time")
    p.add_argument(
        "--until",
        type=parse_when,
        help="YYYY-MM-DD or ISO time (default: the moment this backfill first ran; after a "
        "kill, run the same command again and it resumes from its cursor)",
    )
    p.add_argument("--dry-run", action="store_true", help="decide and report; write nothing")
    add_wait(p)
    p.set_defaults(handler=cmd_backfill)

    p = sub.add_parser("check", help="validate config and mappings; test each connection")
    add_common(p)
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("dead-letters", help="list or release quarantined tickets")
    add_common(p)
    p.add_argument("action", choices=("list", "retry"))
    p.add_argument("id", nargs="?", type=int, help="dead letter id (retry: default all)")
    p.add_argument("--connector", help="only this connector")
    p.set_defaults(handler=cmd_dead_letters)

    p = sub.add_parser("timers", help="list SLA timers (pending by default)")
    add_common(p)
    p.add_argument("action", choices=("list",))
    p.add_argument("--connector", help="only this connector")
    p.add_argument("--all", action="store_true", help="also fired and cancelled timers")
    p.set_defaults(handler=cmd_timers)

    p = sub.add_parser(
        "demo", help="run the engine against local Freshdesk, Movidesk and Salesforce sandboxes"
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--keep", type=Path, help="keep the demo state database at this path")
    p.add_argument(
        "--only",
        choices=("freshdesk", "movidesk", "salesforce"),
        help="run one sandbox (default: all three)",
    )
    p.set_defaults(handler=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # a bug: one classified, masked log line, never a raw traceback
        log.exception(
            "internal error",
            extra={"event": "command.internal_error", "error_class": type(exc).__name__},
        )
        print(
            f"error: internal error ({type(exc).__name__}); see the log (exit {EXIT_INTERNAL})",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


__all__ = [
    "EXIT_AUTH",
    "EXIT_CONFIG",
    "EXIT_FAILURES",
    "EXIT_INTERNAL",
    "EXIT_LEASE",
    "EXIT_OK",
    "EXIT_UNAVAILABLE",
    "build_parser",
    "cmd_backfill",
    "cmd_check",
    "cmd_dead_letters",
    "cmd_demo",
    "cmd_run",
    "cmd_timers",
    "main",
]


if __name__ == "__main__":
    sys.exit(main())
