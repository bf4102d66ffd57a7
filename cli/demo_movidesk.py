"""The Movidesk half of ``helpdesk-sync demo``: the Emissor and Ouvidoria flows on loopback.

Starts ``MovideskSandbox`` on 127.0.0.1 with the Emissor account and the tickets of
``sandboxes.movidesk.demo_seed``, and runs two engines on it, one per mapping (``emissor``,
seed 002, and ``ouvidoria``, seed 004), each on its own ``MovideskConnector`` (the engine
takes one mapping per connector). Each engine makes a first pass and then a second one,
the echo of the writes of both, which must write nothing. Per seeded ticket the table
shows the outcome of the mapping that recognised it and what was written to the sandbox:
the decision's one PATCH (status and justification, owner and team, the internal note)
and the tickets it opened (POST).

Movidesk allows 10 requests a rolling minute by day (07:01-18:59 São Paulo) and none by
night; the demo turns that limit off in the sandbox (``day_limit=None``) and in the
connector (``day_limit_per_minute=None``) so it never waits, and says so in its output.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connectors.movidesk import MovideskConnector, WriteRules
from engine.engine import Engine, PassResult
from engine.store import Store
from sandboxes.movidesk import DEFAULT_TOKEN, MovideskSandbox, Write
from sandboxes.movidesk.demo_seed import DEMO_STATUS_JUSTIFICATIONS, seed_demo
from sync.mapping_loader import load_mapping

MAPPINGS: tuple[str, ...] = ("emissor", "ouvidoria")
"""The mappings the Movidesk demo runs, in order; connector ``demo-<mapping>`` each."""
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
SEEDS = {"emissor": "seed 002", "ouvidoria": "seed 004"}
CREATES = ("create_ticket", "create_child_ticket")
LIMIT_NOTE = (
    "Movidesk day limit (10 requests/min, 07:01-18:59 São Paulo) turned off for the demo "
    "in the sandbox (day_limit=None) and the connector (day_limit_per_minute=None)"
)


@dataclass(slots=True)
class MovideskDemoRun:
    """What the Movidesk demo did: per mapping its two passes, the rows, the write log."""

    first: dict[str, PassResult]
    echo: dict[str, PassResult]
    rows: list[dict[str, Any]]
    writes: list[Write]
    timers: list[Any] = field(default_factory=list)
    seeded: int = 0

    @property
    def ok(self) -> bool:
        """Every seeded ticket decided by every mapping, none failed, the echo wrote nothing."""
        decided = all(
            {str(row["ticket"]) for row in self.rows} <= {t.ticket_id for t in result.tickets}
            for result in self.first.values()
        )
        return (
            decided
            and all(r.ok for r in self.first.values())
            and all(r.ok and r.applied == 0 for r in self.echo.values())
        )


def connector(sandbox: MovideskSandbox, url: str, mapping: str) -> MovideskConnector:
    """A connector for one mapping, writing as the token's agent, with no day limit."""
    return MovideskConnector(
        f"demo-{mapping}",
        url,
        DEFAULT_TOKEN,
        agent_ref=sandbox.me,
        rules=WriteRules(agent_ref=sandbox.me, status_justifications=DEMO_STATUS_JUSTIFICATIONS),
        day_limit_per_minute=None,
        timeout=10,
    )


def run_movidesk(state: Path) -> MovideskDemoRun:
    """Seed, serve and run both mappings twice; the state database at ``state``."""
    sandbox = MovideskSandbox(day_limit=None)
    seeded = seed_demo(sandbox, datetime.now(UTC))
    with sandbox.serve() as server, Store(f"sqlite:///{state}") as store:
        engines = {
            name: Engine(
                connector(sandbox, server.url, name),
                load_mapping(name),
                store,
                clock=lambda: datetime.now(UTC),
                initial_lookback=timedelta(days=1),
            )
            for name in MAPPINGS
        }
        first = {name: engine.run_pass() for name, engine in engines.items()}
        echo = {name: engine.run_pass() for name, engine in engines.items()}
        created = {
            str(entry.remote_id): entry.ticket_id
            for name in MAPPINGS
            for entry in store.all_effects(f"demo-{name}")
            if entry.kind in CREATES and entry.remote_id
        }
        timers = [t for name in MAPPINGS for t in store.list_timers(f"demo-{name}")]
    rows = []
    for ticket_id, demo in seeded.tickets.items():
        rows.append(
            {
                "ticket": ticket_id,
                "subject": demo.subject,
                "category": demo.category,
                "outcome": _outcome(first, ticket_id),
                "written": _written(sandbox, ticket_id, created),
                "patches": sum(
                    1 for w in sandbox.writes if w.method == "PATCH" and w.ticket_id == ticket_id
                ),
                "new_tickets": sorted(
                    int(new) for new, source in created.items() if source == str(ticket_id)
                ),
                "sop_expects": demo.expected,
            }
        )
    return MovideskDemoRun(first, echo, rows, list(sandbox.writes), timers, len(seeded.tickets))


def _outcome(first: Mapping[str, PassResult], ticket_id: int) -> str:
    """``mapping: outcome`` of the mappings that recognised the ticket, else ``unmapped``."""
    found = []
    for name, result in first.items():
        report = next((t for t in result.tickets if t.ticket_id == str(ticket_id)), None)
        if report is None:
            found.append(f"{name}: not seen")
        elif report.outcome != "unmapped":
            found.append(f"{name}: {report.outcome}")
    return "; ".join(found) or "unmapped"


def _person(sandbox: MovideskSandbox, ref: Any) -> str:
    pid = str(ref.get("id")) if isinstance(ref, Mapping) else str(ref)
    person = sandbox.persons.get(pid)
    return str(person["businessName"]) if person else pid


def _fields(sandbox: MovideskSandbox, body: Mapping[str, Any]) -> list[str]:
    parts = []
    if "status" in body:
        justification = body.get("justification")
        parts.append(f"status={body['status']}" + (f" ({justification})" if justification else ""))
    if "owner" in body:
        parts.append(f"owner={_person(sandbox, body['owner'])}")
    if "ownerTeam" in body:
        parts.append(f"team={body['ownerTeam']}")
    for key in ("urgency", "category", "tags", "customFieldValues"):
        if key in body:
            parts.append(f"{key} changed")
    return parts


def _notes(body: Mapping[str, Any]) -> list[str]:
    actions = body.get("actions") or []
    return ["internal note" if a.get("type") == 1 else "public message" for a in actions]


def _written(sandbox: MovideskSandbox, ticket_id: int, created: Mapping[str, str]) -> list[str]:
    """What the sandbox received for the ticket: its PATCHes and the tickets opened from it."""
    out = []
    for write in sandbox.writes:
        body = write.body if isinstance(write.body, dict) else {}
        if write.method == "PATCH" and write.ticket_id == ticket_id:
            out.append("PATCH " + " + ".join(_fields(sandbox, body) + _notes(body)))
        elif write.method == "POST" and created.get(str(write.ticket_id)) == str(ticket_id):
            kind = "child ticket" if body.get("parentTickets") else "new ticket"
            details = ", ".join(_fields(sandbox, body) + _notes(body))
            out.append(f"{kind} #{write.ticket_id} '{body.get('subject', '')}' ({details})")
    return out


def counts(results: Mapping[str, PassResult]) -> dict[str, int]:
    """The passes' counts summed over the mappings."""
    keys = ("seen", "decided", "skipped", "applied", "failed")
    return {k: sum(int(getattr(r, k)) for r in results.values()) for k in keys}


def document(run: MovideskDemoRun) -> dict[str, Any]:
    """The ``--format json`` document of the Movidesk demo."""
    return {
        "tickets": run.rows,
        "first_pass": counts(run.first),
        "echo_pass": counts(run.echo),
        "by_mapping": {
            name: {
                "first_pass": counts({name: run.first[name]}),
                "echo_pass": counts({name: run.echo[name]}),
            }
            for name in run.first
        },
        "writes": [
            {"method": w.method, "ticket": w.ticket_id, "fields": sorted(w.body)}
            for w in run.writes
            if isinstance(w.body, dict)
        ],
        "limits": LIMIT_NOTE,
    }


def print_table(run: MovideskDemoRun) -> None:
    """The Movidesk table, in the Freshdesk table's style."""
    out = sys.stdout
    named = " and ".join(f"'{m}' ({SEEDS[m]})" for m in MAPPINGS)
    out.write(f"helpdesk-sync demo: Movidesk sandbox on loopback, mappings {named}\n")
    out.write(LIMIT_NOTE + "\n\n")
    header = f"{'#':>3}  {'category':<24} {'outcome':<26} written to the helpdesk"
    out.write(header + "\n" + "-" * len(header) + "\n")
    for row in run.rows:
        written = row["written"] or ["nothing"]
        out.write(
            f"{row['ticket']:>3}  {row['category'][:24]:<24} {row['outcome'][:26]:<26} "
            f"{written[0]}\n"
        )
        for more in written[1:]:
            out.write(f"{'':>3}  {'':<24} {'':<26} {more}\n")
        out.write(f"{'':>3}  {'':<24} {'':<26} SOP: {row['sop_expects']}\n")
    first, echo = counts(run.first), counts(run.echo)
    out.write(
        f"\nfirst pass: {first['decided']} decisions ({len(run.first)} mappings), "
        f"{first['applied']} effects written in {len(run.writes)} requests; "
        f"second pass (echo of our own writes): {echo['applied']} effects written, "
        f"{echo['skipped']} skipped\n"
    )
    for timer in run.timers:
        out.write(
            f"SLA timer pending: ticket {timer.ticket_id} {timer.timer_id} due "
            f"{timer.due_at.astimezone(SAO_PAULO):%d/%m/%Y %H:%M} (São Paulo)\n"
        )


__all__ = ["MAPPINGS", "MovideskDemoRun", "counts", "document", "print_table", "run_movidesk"]
