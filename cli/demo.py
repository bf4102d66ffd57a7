"""``helpdesk-sync demo``: the engine against loopback Freshdesk, Movidesk and Salesforce sandboxes.

No credentials, no network. Starts ``FreshdeskSandbox`` on 127.0.0.1, seeds the SAC
tickets of ``demo_data``, runs one engine pass with the ``sac`` mapping and a second one
(which must write nothing: the echo of the first pass's own writes), and prints per
ticket what was decided and what was written to the helpdesk. Then the same with the
Movidesk sandbox and the ``emissor`` and ``ouvidoria`` mappings (``demo_movidesk``), then
the Salesforce sandbox and the ``eps`` mapping (``demo_salesforce``), and a combined
summary. ``--only freshdesk`` / ``--only movidesk`` / ``--only salesforce`` runs one of
them; the Freshdesk part prints the same either way.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cli.demo_movidesk import MovideskDemoRun, run_movidesk
from cli.demo_movidesk import counts as movidesk_counts
from cli.demo_movidesk import document as movidesk_document
from cli.demo_movidesk import print_table as print_movidesk
from cli.demo_salesforce import SalesforceDemoRun, run_salesforce
from cli.demo_salesforce import counts as salesforce_counts
from cli.demo_salesforce import document as salesforce_document
from cli.demo_salesforce import print_table as print_salesforce
from cli.logs import setup_logging
from connectors.freshdesk import SAO_PAULO, FreshdeskConnector
from engine.engine import Engine, PassResult
from engine.store import Store
from sandboxes.demo_data import DEMO_TICKETS, SAC_GROUPS, DemoTicket
from sandboxes.freshdesk import DEFAULT_API_KEY, FreshdeskSandbox, Write
from sync.mapping_loader import load_mapping

HELPDESKS: tuple[str, ...] = ("freshdesk", "movidesk", "salesforce")
"""The sandboxes ``demo`` runs by default, in order (``--only`` picks one)."""


@dataclass(frozen=True, slots=True)
class SacAccount:
    """Ids a SAC sandbox account was set up with."""

    sac_group: int
    agent: int


def prepare_account(sandbox: FreshdeskSandbox) -> SacAccount:
    """The SAC groups every mapping target needs, an agent, and the category fields."""
    for name in SAC_GROUPS:
        sandbox.add_group(name)
    agent = sandbox.add_agent("Ana Souza", "ana.souza@example.com")
    sandbox.add_agent("Denis", "denis@example.com")  # the SOP's WhatsApp contact (sac.yaml)
    sandbox.add_custom_field("cf_categoria", "Categoria")
    sandbox.add_custom_field("cf_subcategoria", "Subcategoria")
    sac = next(g for g, v in sandbox.groups.items() if v["name"] == "SAC")
    return SacAccount(sac, agent)


def add_demo_ticket(
    sandbox: FreshdeskSandbox, account: SacAccount, demo: DemoTicket, at: datetime
) -> int:
    """One demo ticket, last updated ``at`` by its agent's private notes."""
    ticket_id = sandbox.add_ticket(
        demo.subject,
        group_id=account.sac_group,
        responder_id=account.agent,
        custom_fields={"cf_categoria": demo.category, "cf_subcategoria": demo.subcategory},
        created_at=at - timedelta(minutes=10),
        updated_at=at,
    )
    for note in demo.notes:
        sandbox.add_note(
            ticket_id, note, user_id=account.agent, created_at=at, attachments=demo.attachments
        )
    return ticket_id


def seed(sandbox: FreshdeskSandbox, now: datetime) -> dict[int, DemoTicket]:
    """The account and the demo tickets, a minute apart; returns id -> demo entry."""
    account = prepare_account(sandbox)
    return {
        add_demo_ticket(sandbox, account, demo, now - timedelta(hours=2, minutes=-index)): demo
        for index, demo in enumerate(DEMO_TICKETS)
    }


def _written(writes: list[Write], ticket_id: int, sandbox: FreshdeskSandbox) -> list[str]:
    out = []
    for write in writes:
        body = write.body if isinstance(write.body, dict) else {}
        if write.method == "PUT" and write.path.endswith(f"/tickets/{ticket_id}"):
            parts = []
            if "group_id" in body:
                parts.append(f"group={sandbox.groups[body['group_id']]['name']}")
            if "status" in body:
                parts.append(f"status={sandbox.statuses[body['status']][0]}")
            out.append("update " + " ".join(parts))
        elif write.method == "POST" and write.path.endswith(f"/tickets/{ticket_id}/notes"):
            text = body.get("body", "")
            # One note per decision: a follow-up task, when there is one, rides in it.
            task = "Tarefa de acompanhamento" in text
            out.append("private note (with follow-up task)" if task else "private note")
        elif write.method == "POST" and body.get("parent_id") == ticket_id:
            out.append(f"child ticket #{write.ticket_id}")
    return out


@dataclass(slots=True)
class FreshdeskDemoRun:
    """What the Freshdesk demo did: its two passes, the seeded tickets, the timers left."""

    sandbox: FreshdeskSandbox
    seeded: dict[int, DemoTicket]
    first: PassResult
    echo: PassResult
    timers: list[Any]

    @property
    def ok(self) -> bool:
        """Every seeded ticket processed, and the echo pass wrote nothing."""
        return self.first.ok and self.first.decided == len(self.seeded) and self.echo.applied == 0


DemoRun = FreshdeskDemoRun | MovideskDemoRun | SalesforceDemoRun
"""What one sandbox's part of the demo did."""


def run_freshdesk(state: Path) -> FreshdeskDemoRun:
    """Seed, serve and run the ``sac`` mapping twice; the state database at ``state``."""
    sandbox = FreshdeskSandbox()
    seeded = seed(sandbox, datetime.now(UTC))
    with sandbox.serve() as server, Store(f"sqlite:///{state}") as store:
        connector = FreshdeskConnector(
            "demo",
            server.url,
            DEFAULT_API_KEY,
            request_type_field="cf_categoria",
            subcategory_field="cf_subcategoria",
            timeout=10,
        )
        engine = Engine(
            connector,
            load_mapping("sac"),
            store,
            clock=lambda: datetime.now(UTC),
            initial_lookback=timedelta(days=1),
        )
        first = engine.run_pass()
        echo = engine.run_pass()
        timers = store.list_timers("demo")
    return FreshdeskDemoRun(sandbox, seeded, first, echo, timers)


def _freshdesk_document(run: FreshdeskDemoRun) -> dict[str, Any]:
    rows = _rows(run.first, run.sandbox, run.seeded)
    return {"tickets": rows, "first_pass": _counts(run.first), "echo_pass": _counts(run.echo)}


def _print_freshdesk(run: FreshdeskDemoRun) -> None:
    _print_table(_rows(run.first, run.sandbox, run.seeded), run.first, run.echo)
    for timer in run.timers:
        sys.stdout.write(
            f"SLA timer pending: ticket {timer.ticket_id} {timer.timer_id} due "
            f"{timer.due_at.astimezone(SAO_PAULO):%d/%m/%Y %H:%M} (São Paulo)\n"
        )


def run_demo(fmt: str = "text", keep: Path | None = None, only: str | None = None) -> int:
    """Run the demo; 0 when every seeded ticket was processed and the echo pass wrote nothing.

    ``only`` (``freshdesk``, ``movidesk`` or ``salesforce``) runs one sandbox; by default
    all run, one after the other, and a combined summary follows their tables. One sandbox
    alone prints its own document (``--format json``); all print ``{"freshdesk": ...,
    "movidesk": ..., "salesforce": ..., "ok": ...}``. ``keep`` holds the state of every
    demo connector (``demo``, ``demo-emissor``, ``demo-ouvidoria``, ``demo-eps``).
    """
    setup_logging("text", "WARNING")
    logging.getLogger("helpdesk_sync").setLevel(logging.WARNING)
    helpdesks = (only,) if only else HELPDESKS
    with tempfile.TemporaryDirectory(prefix="helpdesk-sync-demo-") as tmp:
        state = keep or Path(tmp) / "state.sqlite"
        freshdesk = run_freshdesk(state) if "freshdesk" in helpdesks else None
        movidesk = run_movidesk(state) if "movidesk" in helpdesks else None
        salesforce = run_salesforce(state) if "salesforce" in helpdesks else None
    runs: dict[str, DemoRun] = {}
    if freshdesk is not None:
        runs["freshdesk"] = freshdesk
    if movidesk is not None:
        runs["movidesk"] = movidesk
    if salesforce is not None:
        runs["salesforce"] = salesforce
    ok = all(run.ok for run in runs.values())
    if fmt == "json":
        documents: dict[str, Any] = {}
        if freshdesk is not None:
            documents["freshdesk"] = _freshdesk_document(freshdesk)
        if movidesk is not None:
            documents["movidesk"] = movidesk_document(movidesk)
        if salesforce is not None:
            documents["salesforce"] = salesforce_document(salesforce)
        if len(documents) == 1:
            (out,) = documents.values()
        else:
            out = {**documents, "ok": ok}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    else:
        if freshdesk is not None:
            _print_freshdesk(freshdesk)
        if movidesk is not None:
            if freshdesk is not None:
                sys.stdout.write("\n")
            print_movidesk(movidesk)
        if salesforce is not None:
            if freshdesk is not None or movidesk is not None:
                sys.stdout.write("\n")
            print_salesforce(salesforce)
        if len(runs) > 1:
            _print_summary(runs, ok)
    return 0 if ok else 1


def _print_summary(runs: dict[str, DemoRun], ok: bool) -> None:
    parts = []
    for name, run in runs.items():
        unit = "tickets"
        if isinstance(run, FreshdeskDemoRun):
            seeded, first, echo = len(run.seeded), _counts(run.first), _counts(run.echo)
        elif isinstance(run, SalesforceDemoRun):
            first, echo = salesforce_counts(run.first), salesforce_counts(run.echo)
            seeded, unit = run.seeded, "cases"
        else:
            seeded, first, echo = run.seeded, movidesk_counts(run.first), movidesk_counts(run.echo)
        parts.append(
            f"{name} {'ok' if run.ok else 'FAILED'} ({seeded} {unit}, "
            f"{first['applied']} effects written, echo pass {echo['applied']})"
        )
    sys.stdout.write(f"\ndemo: {'; '.join(parts)}; exit {0 if ok else 1}\n")


def _counts(result: PassResult) -> dict[str, int]:
    return {
        "seen": result.seen,
        "decided": result.decided,
        "skipped": result.skipped,
        "applied": result.applied,
        "failed": result.failed,
    }


def _rows(result: PassResult, sandbox: FreshdeskSandbox, seeded: dict[int, Any]) -> list[dict]:
    reports = {int(t.ticket_id): t for t in result.tickets}
    rows = []
    for ticket_id, demo in seeded.items():
        report = reports.get(ticket_id)
        category = " > ".join(x for x in (demo.category, demo.subcategory) if x) or "(none)"
        rows.append(
            {
                "ticket": ticket_id,
                "category": category,
                "outcome": report.outcome if report else "not seen",
                "written": _written(sandbox.writes, ticket_id, sandbox),
                "sop_expects": demo.expected,
            }
        )
    return rows


def _print_table(rows: list[dict], first: PassResult, echo: PassResult) -> None:
    out = sys.stdout
    out.write("helpdesk-sync demo: Freshdesk sandbox on loopback, mapping 'sac' (seed 003)\n\n")
    header = f"{'#':>3}  {'category':<44} {'outcome':<16} written to the helpdesk"
    out.write(header + "\n" + "-" * len(header) + "\n")
    for row in rows:
        written = ", ".join(row["written"]) or "nothing"
        out.write(
            f"{row['ticket']:>3}  {row['category'][:44]:<44} {row['outcome']:<16} {written}\n"
        )
        out.write(f"{'':>3}  {'':<44} {'':<16} SOP: {row['sop_expects']}\n")
    out.write(
        f"\nfirst pass: {first.decided} tickets decided, {first.applied} effects written; "
        f"second pass (echo of our own writes): {echo.applied} effects written, "
        f"{echo.skipped} skipped\n"
    )
