"""How the decision core does on the labelled corpus of agent-written tickets.

Usage: python bench/corpus.py [--mapping NAME] [--format text|json] [--dir FOLDER]

Reads tests/corpus/*.yaml (or FOLDER/*.yaml; bench/holdout holds tickets written after
the core was last tuned, never tuned against: the honest figure), decides every ticket
with its mapping bound to the file's field sources, and compares with the decision the
SOP expects. Per
mapping: tickets, false missing notes (a ticket the SOP calls complete, or handled by a
rule, told something is missing or invalid; count and % of the tickets expected
complete), false routes (escalated when it must not be), wrong targets, other mismatches
(type, missing list, critical flag, outcome, not escalated); then every mistake with the
decision's explanation. Exit 0 whatever the mistakes; 2 when a corpus file is malformed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.errors import MappingError
from tests.corpus.loader import (
    CORPUS_DIR,
    CorpusError,
    load_corpus,
    render_mistake,
    render_summary,
    run_corpus,
    unknown_names,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mapping", help="only this mapping's corpus file(s)")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument(
        "--dir",
        "--corpus",
        dest="corpus",
        type=Path,
        default=CORPUS_DIR,
        help="folder of corpus files (default tests/corpus; bench/holdout is the held-out set)",
    )
    args = parser.parse_args(argv)
    try:
        cases = load_corpus(args.corpus, args.mapping)
    except (CorpusError, MappingError) as exc:
        print(f"malformed corpus:\n{exc}", file=sys.stderr)
        return 2
    if args.mapping and not cases:
        print(f"no corpus tickets for mapping '{args.mapping}'", file=sys.stderr)
        return 2
    reports = run_corpus(args.corpus, args.mapping)
    unknown = unknown_names(cases)

    if args.format == "json":
        out = {
            "tickets": sum(r.tickets for r in reports.values()),
            "mappings": [r.to_dict() for r in reports.values()],
            "unknown_to_current_mapping": unknown,
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0

    total = sum(r.tickets for r in reports.values())
    print(f"corpus: {total} tickets in {len(reports)} mapping(s)\n")
    for report in reports.values():
        print(render_summary(report))
    for name, names in unknown.items():
        print(f"\nexpected by the SOP, unknown to mappings/{name}.yaml today: {', '.join(names)}")
    for report in reports.values():
        if not report.mistakes:
            continue
        print(f"\n=== {report.mapping}: {len(report.mistakes)} ticket(s) with mistakes ===")
        for result in report.mistakes:
            print()
            print(render_mistake(result))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # piped into `head`: not an error
        sys.stderr.close()
        sys.exit(0)
