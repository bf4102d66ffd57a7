"""helpdesk-sync command line: ``helpdesk-sync COMMAND`` or ``python daemon.py COMMAND``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sync.cli import add_explain_parser, add_mappings_parser


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="helpdesk-sync",
        description="Enforce support SOPs in Salesforce Service Cloud, Movidesk and Freshdesk.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_explain_parser(sub)
    add_mappings_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error of ours.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
