"""The one-off commands that need no helpdesk: ``explain`` and ``mappings``.

Results go to stdout, errors to stderr. Exit codes: 0 done, 2 bad input or bad mapping.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sync.actions import Action, Route
from sync.decide import Decision, decide
from sync.errors import InputError, MappingError
from sync.mapping_loader import CompiledMapping, load_mapping, load_mappings
from sync.mapping_schema import ActionSpec, TypeSpec
from sync.masking import mask_text
from sync.ticket_io import parse_ticket_document

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def add_explain_parser(sub: Any) -> None:
    """Register ``explain``."""
    p = sub.add_parser("explain", help="decide one ticket (normalized JSON) and print why")
    p.add_argument("--mapping", required=True, help="mapping name (eps, emissor, sac, ...) or path")
    p.add_argument("--now", help="decision time, ISO 8601 with offset (default: now)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--mappings-dir", type=Path, help="directory of mapping YAML files")
    p.add_argument("file", help="ticket JSON file, or - for standard input")
    p.set_defaults(handler=run_explain)


def add_mappings_parser(sub: Any) -> None:
    """Register ``mappings``."""
    p = sub.add_parser("mappings", help="list request types per mapping, or --check them")
    p.add_argument("name", nargs="?", help="one mapping (default: all)")
    p.add_argument("--check", action="store_true", help="validate every mapping and exit")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--mappings-dir",
        type=Path,
        help="directory of mapping YAML files (default: the configuration's mappings_dir, "
        "then the shipped mappings)",
    )
    p.add_argument(
        "--config", type=Path, help="configuration file (default: $HELPDESK_SYNC_CONFIG)"
    )
    p.set_defaults(handler=run_mappings)


def _parse_now(value: str | None) -> datetime:
    """``--now`` as an aware datetime; the clock is read here, at the edge, never in the core."""
    if value is None:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no UTC offset")
    return parsed


def run_explain(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """``helpdesk-sync explain``."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        now = _parse_now(args.now)
    except ValueError:
        print(
            f"error: --now '{args.now}' is not an ISO 8601 date-time with a UTC offset "
            "(e.g. 2026-11-19T16:10:00-03:00)",
            file=err,
        )
        return EXIT_BAD_INPUT
    try:
        mapping = load_mapping(args.mapping, args.mappings_dir)
    except MappingError as exc:
        print(f"error: bad mapping:\n{exc}", file=err)
        return EXIT_BAD_INPUT
    filename = "<stdin>" if args.file == "-" else args.file
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: {filename}: cannot read: {exc}", file=err)
        return EXIT_BAD_INPUT
    try:
        ticket, context = parse_ticket_document(text, filename)
    except InputError as exc:
        print(f"error: bad ticket:\n{exc}", file=err)
        return EXIT_BAD_INPUT
    decision = decide(mapping, ticket, context, now)
    if args.format == "json":
        json.dump(_masked(decision.to_dict()), out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        out.write(format_decision(decision, ticket.display_number))
    return EXIT_OK


def _masked(data: Any) -> Any:
    """The decision's JSON with every text scrubbed of CPF, CNPJ, e-mail and phone."""
    if isinstance(data, str):
        return mask_text(data)
    if isinstance(data, list):
        return [_masked(item) for item in data]
    if isinstance(data, dict):
        return {key: _masked(value) for key, value in data.items()}
    return data


def format_decision(decision: Decision, number: str) -> str:
    """Readable multi-line explanation of a decision."""
    lines = [
        f"Ticket {number} (id {decision.ticket_id}) — mapping {decision.mapping}",
        f"Request type: {decision.request_type or '(none)'}",
        f"SOP: {'; '.join(decision.sop)}",
        f"Outcome: {decision.outcome} (complete: {'yes' if decision.complete else 'no'})",
    ]
    if decision.missing:
        lines.append("Missing:")
        lines.extend(f"  - {m.label}" for m in decision.missing)
    if decision.invalid:
        lines.append("Invalid:")
        lines.extend(
            f"  - {i.label}: {i.reason}" + (f" [value: {i.value}]" if i.value else "")
            for i in decision.invalid
        )
    if decision.found:
        lines.append("Found (value, where it came from):")
        lines.extend(f"  - {f.describe()}" for f in decision.found)
    if decision.rules:
        lines.append("Rules applied: " + ", ".join(decision.rules))
    lines.append("Actions:" if decision.actions else "Actions: none")
    for index, action in enumerate(decision.actions, 1):
        lines.extend(_format_action(index, action))
    if decision.timers:
        lines.append("Timers started (act by themselves when due, if still needed):")
        lines.extend(f"  - {t.id}: due {t.due.isoformat()} [{t.sop}]" for t in decision.timers)
    if decision.suggestions:
        lines.append("Suggested types (not applied): " + ", ".join(decision.suggestions))
    if decision.explanation:
        lines.append("Why:")
        lines.extend(f"  - {e}" for e in decision.explanation)
    return "\n".join(lines) + "\n"


def _format_action(index: int, action: Action) -> list[str]:
    data = action.to_dict()
    kind = data.pop("kind")
    text = data.pop("text", None)
    description = data.pop("description", None)
    note = data.pop("internal_note", None)
    if isinstance(action, Route):
        data = {"target": action.target}
    shown = ", ".join(f"{k}={mask_text(str(v))}" for k, v in data.items() if v not in (None, ""))
    lines = [f"  {index}. {kind}" + (f": {shown}" if shown else "")]
    for block in (text, description, note):
        if block:
            # Action texts quote ticket data: CPF, CNPJ, e-mail and phone never print raw.
            lines.extend(f"     | {mask_text(line)}" for line in str(block).splitlines())
    return lines


def run_mappings(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """``helpdesk-sync mappings [NAME] [--check]``."""
    out = out or sys.stdout
    err = err or sys.stderr
    directory = args.mappings_dir
    if directory is None:  # the directory the daemon would use (config file, environment)
        from cli.settings import load_settings
        from sync.errors import ConfigError

        try:
            directory = load_settings(getattr(args, "config", None)).mappings_dir
        except ConfigError as exc:
            print(f"error: {exc}", file=err)
            return EXIT_BAD_INPUT
    try:
        if args.name:
            mappings = {args.name: load_mapping(args.name, directory)}
        else:
            mappings = load_mappings(directory)
    except MappingError as exc:
        print(f"error: bad mapping:\n{exc}", file=err)
        return EXIT_BAD_INPUT
    if args.check:
        for mapping in mappings.values():
            print(f"ok: {mapping.path} ({len(mapping.types)} request types)", file=out)
        return EXIT_OK
    rows = [_type_row(m, t.spec) for m in mappings.values() for t in m.types.values()]
    if args.format == "json":
        json.dump(rows, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return EXIT_OK
    for mapping in mappings.values():
        out.write(f"{mapping.name}: {mapping.spec.title} ({mapping.path})\n")
        for rule in mapping.spec.preflight:
            targets = ", ".join(_targets(rule.actions)) or "-"
            out.write(f"  preflight {rule.id}: {targets}  [{rule.sop or mapping.spec.sop[0]}]\n")
        for row in (r for r in rows if r["mapping"] == mapping.name):
            out.write(f"  {row['type']}\n")
            out.write(f"    required: {', '.join(row['required']) or '-'}\n")
            if row["conditional"]:
                out.write(f"    conditional: {'; '.join(row['conditional'])}\n")
            out.write(f"    targets:  {', '.join(row['targets']) or '- (no escalation)'}\n")
            out.write(f"    sop:      {row['sop']}\n")
    return EXIT_OK


def _type_row(mapping: CompiledMapping, spec: TypeSpec) -> dict[str, Any]:
    fields = mapping.spec.fields
    required = [fields[k].label for k in spec.require]
    if spec.at_least_one_of:
        required.append(" e/ou ".join(fields[k].label for k in spec.at_least_one_of))
    required.extend(mapping.spec.attachments[k].label for k in spec.require_attachments)
    if spec.checklist:
        required.append(f"Checklist - {spec.checklist.title}")
    conditional = []
    targets: list[str] = []
    rules = mapping.types[spec.name].rules
    for rule in rules:
        needs = [fields[k].label for k in rule.require]
        if rule.at_least_one_of:
            needs.append(" e/ou ".join(fields[k].label for k in rule.at_least_one_of))
        needs.extend(mapping.spec.attachments[k].label for k in rule.require_attachments)
        if needs:
            conditional.append(f"{rule.id}: {', '.join(needs)}")
        targets.extend(_targets(rule.actions))
    targets.extend(_targets(spec.actions))
    return {
        "mapping": mapping.name,
        "type": spec.name,
        "aliases": spec.aliases,
        "required": required,
        "conditional": conditional,
        "targets": list(dict.fromkeys(targets)),
        "sop": str(spec.sop),
    }


def _targets(actions: list[ActionSpec]) -> list[str]:
    out = []
    for item in actions:
        if item.route:
            r = item.route
            out.append(" / ".join(x for x in (r.queue, r.group, r.team, r.owner) if x))
        elif item.create_child_ticket:
            child = item.create_child_ticket
            out.append(f"child ticket → {child.group or child.subject}")
        elif item.create_ticket:
            out.append(f"new ticket → {item.create_ticket.owner or item.create_ticket.subject}")
        elif item.merge:
            out.append("merge")
    return out
