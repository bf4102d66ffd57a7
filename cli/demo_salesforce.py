"""The Salesforce part of ``helpdesk-sync demo``: the EPS escalation matrix on loopback.

Starts ``SalesforceSandbox`` on 127.0.0.1 with the EPS org and the cases of
``sandboxes.salesforce.demo_seed``, and runs one engine with the ``eps`` mapping (seeds
000 and 001) on a ``SalesforceConnector``: a first pass, then a second one, the echo of
its own writes, which must write nothing. Per seeded case the table shows the outcome,
what was written to the org (the Case update with owner, status and ``IsEscalated``,
the internal CaseComment, the Task with its due time) and what the org holds afterwards.

The org has an active case assignment rule that moves every case written without
``Sforce-Auto-Assign: FALSE`` to the GSO queue: an owner other than the decided one would
show in the table. Its minimum query batch is lowered to ``PAGE_SIZE`` so the seeded
cases are listed in more than one page, the later ones through ``nextRecordsUrl``.

Demo-only plumbing (``sandboxes.salesforce.loopback``): simple-salesforce always builds
``https://<instance>/services/...`` URLs, while the served sandbox answers plain HTTP.
The connector's ``requests.Session`` carries a transport adapter mounted on the
instance's ``https://`` prefix that sends each request, path and query unchanged, to the
loopback server's ``http://`` address. The sandbox does not look at the host, and its
``nextRecordsUrl`` is a path the library appends to the same instance, so query pages
take the same way. A real org is reached by the connector's ordinary session.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from simple_salesforce import Salesforce

from connectors.salesforce import SalesforceClient, SalesforceConnector, WriteRules
from engine.engine import Engine, PassResult
from engine.store import Store
from sandboxes.salesforce import (
    DEFAULT_BASE_URL,
    DEFAULT_SESSION,
    Call,
    SalesforceSandbox,
    Write,
    normalize,
)
from sandboxes.salesforce.demo_seed import COMMENT_FIELD, seed_demo
from sandboxes.salesforce.loopback import loopback_session
from sync.mapping_loader import load_mapping

MAPPING = "eps"
CONNECTOR = f"demo-{MAPPING}"
"""The demo connector's name (its state in the demo database)."""
SEED = "seeds 000 and 001"
API_VERSION = "59.0"
ASSIGNMENT_QUEUE = "GSO"
"""Where the org's active case assignment rule sends a case written without the header."""
PAGE_SIZE = 5
"""Query batch size of the demo (the org's minimum lowered to it): more than one page."""
CRITICAL_FIELD = "IsEscalated"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
TRANSPORT_NOTE = (
    "simple-salesforce speaks https to the instance; a demo-only transport adapter sends "
    "its requests to the sandbox's plain-HTTP loopback address"
)


@dataclass(slots=True)
class SalesforceDemoRun:
    """What the Salesforce demo did: its two passes, the rows, the write and call logs."""

    first: PassResult
    echo: PassResult
    rows: list[dict[str, Any]]
    writes: list[Write]
    calls: list[Call] = field(default_factory=list)
    seeded: int = 0

    @property
    def ok(self) -> bool:
        """Every seeded case decided, none failed, the echo pass wrote nothing."""
        seen = {normalize(t.ticket_id) for t in self.first.tickets}
        decided = {normalize(str(row["case"])) for row in self.rows} <= seen
        return decided and self.first.ok and self.echo.ok and self.echo.applied == 0


def connector(served_url: str) -> SalesforceConnector:
    """A connector on the EPS org through the loopback transport, marking critical cases
    with ``IsEscalated`` and reading the "Comentário Interno" field."""
    session = loopback_session(served_url)
    client = SalesforceClient(
        lambda: Salesforce(
            session_id=DEFAULT_SESSION,
            instance_url=DEFAULT_BASE_URL,
            session=session,
            version=API_VERSION,
        ),
        connector=CONNECTOR,
        timeout=10,
    )
    return SalesforceConnector(
        CONNECTOR,
        client,
        comment_field=COMMENT_FIELD,
        rules=WriteRules(critical_field=CRITICAL_FIELD, resolve_status="Fechado"),
        page_size=PAGE_SIZE,
    )


def run_salesforce(state: Path) -> SalesforceDemoRun:
    """Seed, serve and run the ``eps`` mapping twice; the state database at ``state``."""
    sandbox = SalesforceSandbox(assignment_queue=ASSIGNMENT_QUEUE, min_batch_size=PAGE_SIZE)
    seeded = seed_demo(sandbox, datetime.now(UTC))
    with sandbox.serve() as server, Store(f"sqlite:///{state}") as store:
        engine = Engine(
            connector(server.url),
            load_mapping(MAPPING),
            store,
            clock=lambda: datetime.now(UTC),
            initial_lookback=timedelta(days=1),
        )
        first = engine.run_pass()
        echo = engine.run_pass()
    reports = {normalize(t.ticket_id): t for t in first.tickets}
    rows = []
    for case_id, demo in seeded.cases.items():
        report = reports.get(normalize(case_id))
        rows.append(
            {
                "case": case_id,
                "number": sandbox.record(case_id)["CaseNumber"],
                "key": demo.key,
                "subject": demo.subject,
                "type": demo.type,
                "outcome": report.outcome if report else "not seen",
                "request_type": report.request_type if report else None,
                "planned": list(report.planned) if report else [],
                "written": _written(sandbox, case_id),
                "org": _org(sandbox, case_id),
                "sop_expects": demo.expected,
            }
        )
    return SalesforceDemoRun(
        first, echo, rows, list(sandbox.writes), list(sandbox.calls), len(seeded.cases)
    )


def _name(sandbox: SalesforceSandbox, record_id: Any) -> str:
    """A queue's or user's name by id (the id itself when unknown)."""
    try:
        return str(sandbox.record(str(record_id))["Name"])
    except KeyError:
        return str(record_id)


def _due(value: Any) -> str:
    """A Salesforce UTC stamp (wire text or stored datetime) in São Paulo time."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).replace("Z", "+00:00").replace("+0000", "+00:00")
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(SAO_PAULO):%d/%m/%Y %H:%M}"


def _case_fields(sandbox: SalesforceSandbox, body: Mapping[str, Any]) -> list[str]:
    parts = []
    if "OwnerId" in body:
        parts.append(f"owner={_name(sandbox, body['OwnerId'])}")
    if "Status" in body:
        parts.append(f"status={body['Status']}")
    if CRITICAL_FIELD in body:
        parts.append(f"{CRITICAL_FIELD}={str(body[CRITICAL_FIELD]).lower()}")
    if "Priority" in body:
        parts.append(f"priority={body['Priority']}")
    return parts


def _written(sandbox: SalesforceSandbox, case_id: str) -> list[str]:
    """What the org received for the case: its Case update, comments and tasks."""
    full = normalize(case_id)
    out = []
    for write in sandbox.writes:
        body = write.body if isinstance(write.body, dict) else {}
        if write.sobject == "Case" and normalize(write.record_id) == full:
            header = "" if write.auto_assign else " (Sforce-Auto-Assign: FALSE)"
            out.append("Case " + ", ".join(_case_fields(sandbox, body)) + header)
        elif write.sobject == "CaseComment" and normalize(str(body.get("ParentId"))) == full:
            out.append("internal CaseComment" if not body.get("IsPublished") else "CaseComment")
        elif write.sobject == "Task" and normalize(str(body.get("WhatId"))) == full:
            owner = f" for {_name(sandbox, body['OwnerId'])}" if body.get("OwnerId") else ""
            due = body.get("ReminderDateTime")
            when = f", due {_due(due)} (São Paulo)" if due else ""
            out.append(f"Task '{body.get('Subject', '')}'{owner}{when}")
    return out


def _org(sandbox: SalesforceSandbox, case_id: str) -> dict[str, Any]:
    """What the org holds for the case after both passes."""
    record = sandbox.record(case_id)
    full = normalize(case_id)
    owner_id = str(record["OwnerId"])
    ours = [
        c
        for c in sandbox.records("CaseComment")
        if c["ParentId"] == full and "hs-ref:" in str(c["CommentBody"])
    ]
    tasks = [t for t in sandbox.records("Task") if t["WhatId"] == full]
    found = sandbox.find(owner_id)
    return {
        "owner": _name(sandbox, owner_id),
        "owner_is_queue": found is not None and found[0] == "Group",
        "status": record["Status"],
        "critical": bool(record.get(CRITICAL_FIELD)),
        "notes": [str(c["CommentBody"]) for c in ours],
        "tasks": [
            {
                "subject": str(t["Subject"]),
                "owner": _name(sandbox, t["OwnerId"]),
                "due": _due(t["ReminderDateTime"]) if t.get("ReminderDateTime") else None,
            }
            for t in tasks
        ],
    }


def counts(result: PassResult) -> dict[str, int]:
    """The pass's counts."""
    keys = ("seen", "decided", "skipped", "applied", "failed")
    return {k: int(getattr(result, k)) for k in keys}


def _query_pages(calls: list[Call]) -> int:
    """``nextRecordsUrl`` pages the connector fetched (locators ``query/01g...-N``)."""
    return sum(1 for c in calls if c.method == "GET" and "/query/01g" in c.path)


def _case_writes(writes: list[Write]) -> tuple[int, int]:
    """(Case updates, of which sent with ``Sforce-Auto-Assign: FALSE``)."""
    cases = [w for w in writes if w.sobject == "Case"]
    return len(cases), sum(1 for w in cases if not w.auto_assign)


def document(run: SalesforceDemoRun) -> dict[str, Any]:
    """The ``--format json`` document of the Salesforce demo."""
    case_writes, without_rules = _case_writes(run.writes)
    return {
        "cases": run.rows,
        "first_pass": counts(run.first),
        "echo_pass": counts(run.echo),
        "writes": [
            {
                "method": w.method,
                "sobject": w.sobject,
                "record": w.record_id,
                "fields": sorted(k for k in w.body if k != "attributes"),
                "auto_assign": w.auto_assign,
            }
            for w in run.writes
            if isinstance(w.body, dict)
        ],
        "assignment_rule": {
            "queue": ASSIGNMENT_QUEUE,
            "case_writes": case_writes,
            "with_auto_assign_false": without_rules,
        },
        "requests": len(run.calls),
        "query_pages": _query_pages(run.calls),
        "transport": TRANSPORT_NOTE,
    }


def _org_line(org: Mapping[str, Any]) -> str:
    kind = "queue" if org["owner_is_queue"] else "user"
    parts = [f"owner {org['owner']} ({kind})", f"status {org['status']}"]
    if org["critical"]:
        parts.append(CRITICAL_FIELD)
    parts.append(f"{len(org['notes'])} note(s), {len(org['tasks'])} task(s)")
    return "org now: " + ", ".join(parts)


def print_table(run: SalesforceDemoRun) -> None:
    """The Salesforce table, in the style of the other helpdesks' tables."""
    out = sys.stdout
    out.write(f"helpdesk-sync demo: Salesforce sandbox on loopback, mapping '{MAPPING}' ({SEED})\n")
    case_writes, without_rules = _case_writes(run.writes)
    out.write(
        f"{TRANSPORT_NOTE}\nactive case assignment rule (to {ASSIGNMENT_QUEUE}): "
        f"{without_rules} of {case_writes} case updates sent Sforce-Auto-Assign: FALSE\n\n"
    )
    header = f"{'#':>8}  {'type':<36} {'outcome':<12} written to the helpdesk"
    out.write(header + "\n" + "-" * len(header) + "\n")
    pad = f"{'':>8}  {'':<36} {'':<12}"
    for row in run.rows:
        written = row["written"] or ["nothing"]
        out.write(f"{row['number']:>8}  {row['type'][:36]:<36} {row['outcome'][:12]:<12} ")
        out.write(f"{written[0]}\n")
        for more in written[1:]:
            out.write(f"{pad} {more}\n")
        out.write(f"{pad} {_org_line(row['org'])}\n")
        out.write(f"{pad} SOP: {row['sop_expects']}\n")
    first, echo = counts(run.first), counts(run.echo)
    out.write(
        f"\nfirst pass: {first['decided']} cases decided, {first['applied']} effects written; "
        f"second pass (echo of our own writes): {echo['applied']} effects written, "
        f"{echo['skipped']} skipped\n"
        f"{len(run.calls)} requests over both passes, {_query_pages(run.calls)} of them query "
        f"pages through nextRecordsUrl\n"
    )


__all__ = [
    "MAPPING",
    "SalesforceDemoRun",
    "counts",
    "document",
    "print_table",
    "run_salesforce",
]
