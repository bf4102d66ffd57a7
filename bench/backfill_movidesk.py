"""Backfill against the loopback Movidesk sandbox, by day (10 calls a minute) and by night.

Usage: python bench/backfill.py --connector movidesk [--tickets 10000] [--limits both]
       python bench/backfill.py --connector movidesk --quick     # 500 tickets, both runs

What runs where
---------------
* A child process (``multiprocessing``, spawned) holds ``MovideskSandbox`` set up as the
  Emissor account (``sandboxes.movidesk.setup_emissor_account``, without its tickets) and
  seeded with N tickets written the way agents write them: the account's Emissor actions
  (``sandboxes.movidesk.emissor_data``) and variations of them -- complete checklists,
  incomplete ones (a question left blank, two marks, no analysis), requesters with neither
  company nor e-mail (basic information missing), tickets with no checklist yet, and the
  onboarding / non-payment / duplicate situations -- cycling through the account's client
  companies, ``lastUpdate`` spread over the backfill span. It serves HTTP on 127.0.0.1.
* Both processes read ONE scaled clock: sandbox time = ``origin + (monotonic() - mark) *
  time_scale`` (``CLOCK_MONOTONIC`` is system-wide on Linux). The sandbox judges day and
  night and its rolling minute on it; the connector's ``DayNightBudget`` gets it as ``now``
  with a 60 s window and a ``sleep`` that divides by the scale, so pacing and the sandbox
  count the same minute. ``--limits day`` starts the clock at 07:02 in Sao Paulo and holds
  the day budget (10 requests per rolling minute) for the whole run: the sandbox's night
  limit is set to the day's and the budget's day window to 00:00-23:59, because a
  10,000-ticket backfill that writes to most tickets needs more than the 718 minutes of
  one day (the run prints where the clock ended). ``--limits night`` starts at 19:02 with
  no budget, at time scale 1: there is nothing to wait for. The sandbox announces the
  Retry-After of a 429 in wall seconds, so the client's own retry sleep is not scaled.
* This (main) process runs what ``helpdesk-sync backfill`` runs for a Movidesk connector
  (``connectors.registry``): ``Engine`` with the ``emissor`` mapping, ``MovideskConnector``
  writing as the token's agent, a ``Store`` on a temporary SQLite file, one ``run_pass``.
  ``until`` is the clock's origin: the engine's writes move tickets past it.

What is printed (counts come from the sandbox's call and write logs):
* reads/ticket: successful GET calls (list pages, ``GET /tickets?id=``, ``/persons``);
  context reads/ticket apart: the customers' open tickets the Emissor facts need, batched.
* writes: successful PATCH and POST calls, each counted apart, against the decisions that
  asked for effects (one PATCH expected per decision with any effect but a new ticket, one
  POST per new ticket), and effects asked (the engine's reports) vs written (applied).
* 429s (over budget / locked) and ``lockouts`` (3 failed requests in a row).
* wall against the floor: calls answered (the sandbox does not count refused ones against
  the budget) / 10 per minute, in windows of ``60 / time_scale`` wall seconds. At night there is
  no limit: no floor, the wall time is the machine's.
* RSS of the engine process: a sample every 10 % of the tickets, before, and the peak.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from backfill import CountingHandler, journal_states, peak_rss_mb, rss_mb

from engine.reports import NullReporter

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
DAY_START, NIGHT_START = clock_time(7, 2), clock_time(19, 2)
DAY_LIMIT = 10
"""Requests per rolling minute by day (the sandbox's ``day_limit`` and the connector's)."""
ALL_DAY = "00:00-23:59"
"""The day run holds the day budget around the clock (see the module docstring)."""
POST_KINDS = frozenset({"create_ticket", "create_child_ticket"})
"""Action kinds the Movidesk connector sends as a POST each; the rest share ONE PATCH."""

# ---------------------------------------------------------------------------------------
# seed data: the Emissor account's actions and variations of them
# ---------------------------------------------------------------------------------------

EMISSAO_COMPLETE = (
    "<p>Checklist - Emissão de notas / Rejeição (correção)</p><p>Tipo de documento:</p>"
    "<p>( ) NF-e&nbsp;(x) NFS-e&nbsp;( ) NFC-e</p><p>Motivo da rejeição identificado?</p>"
    "<p>(x) Sim&nbsp;( ) Não</p><p>Emissão/correção realizada no painel do cliente?</p>"
    "<p>(x) Sim&nbsp;( ) Não</p><p>Descrição da análise realizada:</p><p>Rejeição E160: "
    "codigo de servico {code} nao cadastrado na prefeitura, corrigido no painel e nota "
    "reemitida com sucesso.</p>"
)
FALHA_BLANK_QUESTION = (
    "<p>Checklist - Falha no sistema</p><p>A falha refere-se a:</p><p>( ) Apps&nbsp;(x) "
    "Painel Emissor&nbsp;( ) Integração API&nbsp;( ) Integração SEFAZ/Prefeitura</p>"
    "<p>Cliente passou dados de acesso?</p><p>(x) Sim&nbsp;( ) Não&nbsp;( ) Não se aplica</p>"
    "<p>Emissão automática está habilitada?</p><p>( ) Sim&nbsp;( ) Não&nbsp;( ) Não se "
    "aplica</p><p>Cadastro da empresa está preenchido corretamente no eNotas?</p><p>(x) "
    "Sim&nbsp;( ) Não</p><p>Descrição da análise realizada:</p><p>Painel nao carrega a lista "
    "de notas do mes {month}, testado em outro navegador e o erro continua.</p>"
)
FALHA_NO_ANALYSIS = (
    "<p>Checklist - Falha no sistema</p><p>A falha refere-se a:</p><p>( ) Apps&nbsp;( ) "
    "Painel Emissor&nbsp;( ) Integração API&nbsp;(x) Integração SEFAZ/Prefeitura</p>"
    "<p>Cliente passou dados de acesso?</p><p>( ) Sim&nbsp;(x) Não&nbsp;( ) Não se aplica</p>"
    "<p>Emissão automática está habilitada?</p><p>(x) Sim&nbsp;( ) Não&nbsp;( ) Não se "
    "aplica</p><p>Cadastro da empresa está preenchido corretamente no eNotas?</p><p>(x) "
    "Sim&nbsp;(x) Não</p><p>Descrição da análise realizada:</p><p></p>"
)
MONTHS = ("janeiro", "fevereiro", "marco", "abril", "maio", "junho", "julho", "agosto")


def _variants() -> list[tuple[str, str, str, list[tuple[str, int, Any]], bool]]:
    """(name, subject, category, actions, anonymous requester) of each seeded situation.

    ``actions`` are (html, type, attachment or None); type 2 is the customer's message,
    type 1 the agent's internal note. ``anonymous``: the requester has neither company nor
    e-mail (the basic information of Bloco 1, passo 1, is missing)."""
    from sandboxes.movidesk import emissor_data as data

    return [
        (
            "falha_complete",
            "Notas do Mercado Livre não sincronizam",
            "Falha no sistema",
            [(data.FALHA_CUSTOMER, 2, None), (data.FALHA_COMPLETE, 1, "print_integracao.png")],
            False,
        ),
        (
            "emissao_complete",
            "Nota rejeitada E160",
            "Emissão de notas",
            [(data.INCOMPLETE_CUSTOMER, 2, None), (EMISSAO_COMPLETE, 1, None)],
            False,
        ),
        (
            "checklist_incomplete",
            "Nota rejeitada",
            "Emissão de notas",
            [(data.INCOMPLETE_CUSTOMER, 2, None), (data.INCOMPLETE_CHECKLIST, 1, None)],
            False,
        ),
        (
            "falha_blank_question",
            "Painel não carrega notas",
            "Falha no sistema",
            [(data.DUPLICATE_OLD_CUSTOMER, 2, None), (FALHA_BLANK_QUESTION, 1, None)],
            False,
        ),
        (
            "falha_no_analysis",
            "Prefeitura rejeita lote",
            "Falha no sistema",
            [(data.ONBOARDING_CUSTOMER, 2, None), (FALHA_NO_ANALYSIS, 1, "print_lote.png")],
            False,
        ),
        (
            "falha_no_basic_info",
            "Integração parou",
            "Falha no sistema",
            [(data.FALHA_CUSTOMER, 2, None), (data.FALHA_COMPLETE, 1, None)],
            True,
        ),
        (
            "duplicate_card_note",
            "App não abre no celular",
            "Falha no sistema",
            [(data.DUPLICATE_NEW_CUSTOMER, 2, None), (data.DUPLICATE_CARD_NOTE, 1, "logcat.txt")],
            False,
        ),
        (
            "no_checklist",
            "App não abre",
            "Falha no sistema",
            [(data.DUPLICATE_OLD_CUSTOMER, 2, None)],
            False,
        ),
        (
            "finance_block",
            "Não consigo emitir notas",
            "Emissão de notas",
            [(data.FINANCE_CUSTOMER, 2, None), (data.FINANCE_AGENT, 1, "print_embed.png")],
            False,
        ),
        (
            "onboarding",
            "Código de serviço inválido",
            "Emissão de notas",
            [(data.ONBOARDING_UNKNOWN_CUSTOMER, 2, None), (data.ONBOARDING_UNKNOWN_AGENT, 1, None)],
            False,
        ),
        (
            "service_request",
            "Importar vendas de outubro",
            "Solicitação de serviço",
            [(data.MERGE_OLD_CUSTOMER, 2, "vendas.xlsx"), (data.MERGE_OLD_AGENT, 1, None)],
            False,
        ),
    ]


TICKETS_PER_CUSTOMER = 5
"""Consecutive tickets of one customer company (a real account has thousands of them)."""
CONTEXT_KEYS = {
    "onboarding_field": "em_onboarding",
    "onboarding_ticket_field": "ticket_onboarding",
    "non_payment_field": "bloqueio_inadimplencia",
    "block_reason_field": "motivo_bloqueio",
    "linked_card_field": "card_vinculado",
}
"""The connector's ``context_sources`` -> the account's custom field (by seed key)."""
# What the agent filled on the ticket in some situations, so Bloco 1 fires: the custom
# field values (by seed key), the status, and a subject kept without its number (the two
# tickets of a duplicate pair must be on the same subject).
SITUATION_FIELDS: dict[str, dict[str, str]] = {
    "finance_block": {
        "bloqueio_inadimplencia": "Sim",
        "motivo_bloqueio": "Fatura em aberto há 35 dias",
    },
    "onboarding": {"em_onboarding": "Sim"},
    "duplicate_card_note": {"card_vinculado": "DEV-{index}"},
}
SITUATION_STATUS = {"duplicate_card_note": "Em atendimento"}
SAME_SUBJECT = frozenset({"duplicate_card_note", "no_checklist"})


def seed_tickets(
    sandbox: Any, count: int, first: datetime, last: datetime
) -> tuple[dict[str, int], dict[str, str]]:
    """The Emissor account and ``count`` tickets in ``[first, last]``: situation -> count,
    and the connector's ``context_sources`` for this account."""
    from sandboxes.movidesk import emissor_data as data
    from sandboxes.movidesk import setup_emissor_account

    account = setup_emissor_account(sandbox, with_tickets=False)
    agents = [a for a, (_, teams) in data.AGENTS.items() if "Suporte N1" in teams]
    customers = []
    for n in range(max(1, count // TICKETS_PER_CUSTOMER)):
        company = sandbox.add_person(
            f"Empresa {n + 1} Serviços Ltda", person_type=2, email=f"contato@empresa{n + 1}.example"
        )
        customers.append(
            sandbox.add_person(
                f"Cliente {n + 1}", email=f"cliente@empresa{n + 1}.example", organization=company
            )
        )
    anonymous = [
        sandbox.add_person(f"Cliente sem cadastro {n}") for n in range(1, 4)
    ]  # no e-mail, no company
    variants = _variants()
    span = (last - first).total_seconds()
    seeded: Counter[str] = Counter()
    fields = account.fields
    for index in range(count):
        name, subject, category, actions, anon = variants[index % len(variants)]
        at = first + timedelta(seconds=int(index * span / max(1, count)))
        created = at - timedelta(hours=1 + index % 5)
        client = (
            anonymous[index % len(anonymous)]
            if anon
            else customers[(index // TICKETS_PER_CUSTOMER) % len(customers)]
        )
        agent = account.agents[agents[index % len(agents)]]
        specs = []
        for step, (html, kind, attachment) in enumerate(actions):
            text = html.format(code=1400 + index % 97, month=MONTHS[index % len(MONTHS)])
            specs.append(
                {
                    "html": text,
                    "type": kind,
                    "origin": 3 if kind == 2 else 2,
                    "created_by": client if kind == 2 else agent,
                    "created_at": created + timedelta(minutes=20 * step),
                    "attachments": [attachment] if attachment else [],
                }
            )
        sandbox.add_ticket(
            subject if name in SAME_SUBJECT else f"{subject} #{index + 1}",
            clients=[client],
            owner=agent,
            owner_team="Suporte N1",
            status=SITUATION_STATUS.get(name, "Novo"),
            category=category,
            created_at=created,
            updated_at=at,
            actions=specs,
            custom_fields={
                fields[key]: value.format(index=index)
                for key, value in SITUATION_FIELDS.get(name, {}).items()
            },
        )
        seeded[name] += 1
    sources = {source: str(fields[key]) for source, key in CONTEXT_KEYS.items()}
    return dict(seeded), {**sources, "onboarding_category": "Onboarding"}


# ---------------------------------------------------------------------------------------
# the shared clock and the sandbox process
# ---------------------------------------------------------------------------------------


def scaled_clock(origin: datetime, mark: float, scale: float) -> Callable[[], datetime]:
    """Sandbox time: ``origin`` at monotonic ``mark``, running ``scale`` times faster."""
    return lambda: origin + timedelta(seconds=(time.monotonic() - mark) * scale)


def _kind(method: str, path: str, query: Any) -> str:
    path = re.sub(r"^.*/public/v1", "", path)
    if path == "/tickets" and method == "GET":
        if "id" in query:
            return "ticket"
        where = "".join(query.get("$filter", []))
        return "context" if "clients/any" in where else "list"
    if path == "/tickets/past":
        return "list past"
    if path == "/persons":
        return "persons"
    return path.strip("/") or "other"


def summarize(calls: list[Any]) -> dict[str, Any]:
    """Counts from the sandbox's call log: answered, refused (429), errors, by kind."""
    ok: Counter[str] = Counter()
    limited: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for call in calls:
        kind = f"{call.method} {_kind(call.method, call.path, call.query)}"
        if call.status == 429:
            limited[kind] += 1
        elif 200 <= call.status < 300:
            ok[kind] += 1
        else:
            errors[f"{kind} {call.status}"] += 1
    return {"ok": dict(ok), "limited": dict(limited), "errors": dict(errors)}


def sandbox_main(conn: Any, options: dict[str, Any]) -> None:
    """Child process: seed, serve on loopback, answer ``stats`` / ``stop`` on the pipe."""
    from sandboxes.movidesk import DEFAULT_TOKEN, MovideskSandbox

    clock = scaled_clock(options["origin"], options["mark"], options["time_scale"])
    sandbox = MovideskSandbox(
        token=DEFAULT_TOKEN,
        clock=clock,
        day_limit=DAY_LIMIT,
        night_limit=DAY_LIMIT if options["day"] else None,
        time_scale=options["time_scale"],
    )
    started = time.perf_counter()
    seeded, sources = seed_tickets(sandbox, options["tickets"], options["first"], options["last"])
    seeded_in = time.perf_counter() - started
    running = sandbox.serve()
    conn.send(
        {
            "url": running.url,
            "token": DEFAULT_TOKEN,
            "agent": sandbox.me,
            "statuses": {s.name: list(s.justifications) for s in sandbox.statuses.values()},
            "seeded": seeded,
            "seeded_in": seeded_in,
            "context_sources": sources,
        }
    )
    while True:
        message = conn.recv()
        if message == "stats":
            with sandbox._lock:
                calls = list(sandbox.calls)
                writes = Counter(w.method for w in sandbox.writes)
                out = {
                    **summarize(calls),
                    "writes": dict(writes),
                    "lockouts": sandbox.lockouts,
                    "throttled": sandbox.throttled,
                    "now": sandbox.now(),
                    "day": sandbox.is_day(sandbox.now()),
                }
            conn.send(out)
        elif message == "stop":
            running.stop()
            conn.send("stopped")
            return


# ---------------------------------------------------------------------------------------
# the engine process
# ---------------------------------------------------------------------------------------


class Tally(NullReporter):
    """The engine's reporter: counts only (constant memory), and an RSS sample per step."""

    def __init__(self, total: int, started: float) -> None:
        self.total = total
        self.started = started
        self.step = max(1, total // 10)
        self.count = 0
        self.outcomes: Counter[str] = Counter()
        self.asked: Counter[str] = Counter()
        self.applied = 0
        self.writing = 0
        """Decisions that asked for at least one effect."""
        self.expected_patch = 0
        self.expected_post = 0
        self.samples: list[tuple[int, float]] = []

    def ticket_done(self, report: Any) -> None:
        self.count += 1
        self.outcomes[report.outcome] += 1
        kinds = list(report.planned)
        self.asked.update(kinds)
        self.applied += report.applied
        self.writing += bool(kinds)
        self.expected_post += sum(1 for k in kinds if k in POST_KINDS)
        self.expected_patch += any(k not in POST_KINDS for k in kinds)
        if self.count % self.step == 0:
            rss = rss_mb()
            self.samples.append((self.count, rss))
            elapsed = time.perf_counter() - self.started
            print(
                f"  ... {self.count}/{self.total} tickets  {elapsed:7.1f} s  RSS {rss:6.1f} MB",
                file=sys.stderr,
                flush=True,
            )


def origin_at(local: clock_time) -> datetime:
    """Today's ``local`` time in Sao Paulo, as UTC (where the shared clock starts)."""
    today = datetime.now(SAO_PAULO).date()
    return datetime.combine(today, local, tzinfo=SAO_PAULO).astimezone(UTC).replace(microsecond=0)


def verdict(ok: bool) -> str:
    return "target met" if ok else "TARGET NOT MET"


def run_once(args: argparse.Namespace, limits: str) -> int:
    """One backfill at the day (``limits="day"``) or night rate; prints its figures."""
    from connectors._http import RetryPolicy
    from connectors.movidesk import DayNightBudget, MovideskConnector, WriteRules
    from connectors.movidesk.api import HELPDESK, MovideskHttp
    from connectors.movidesk.limits import DEFAULT_DAY_WINDOW
    from engine.engine import Engine
    from engine.store import Store
    from sync.mapping_loader import load_mapping

    day = limits == "day"
    scale = args.time_scale if day else 1.0
    window = 60.0 / scale
    origin = origin_at(DAY_START if day else NIGHT_START)
    until = origin
    since = until - timedelta(days=args.span_days)
    mark = time.monotonic()
    clock = scaled_clock(origin, mark, scale)
    options = {
        "day": day,
        "time_scale": scale,
        "origin": origin,
        "mark": mark,
        "tickets": args.tickets,
        "first": since + timedelta(minutes=1),
        "last": until - timedelta(minutes=1),
    }
    context = mp.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=sandbox_main, args=(child, options), daemon=True)
    process.start()
    hello = parent.recv()

    handler = CountingHandler()
    root = logging.getLogger("helpdesk_sync")
    root.setLevel(logging.WARNING)
    root.addHandler(handler)
    if args.verbose:
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(logging.WARNING)
        root.addHandler(stream)
    root.propagate = False

    # The connector's own budget (what ``day_limit_per_minute`` builds), given the shared
    # clock: a 60 s window of sandbox time, slept in wall time.
    budget = DayNightBudget(
        DAY_LIMIT,
        day_window=ALL_DAY if day else DEFAULT_DAY_WINDOW,
        now=clock,
        sleep=lambda s: time.sleep(s / scale),
    )
    http = MovideskHttp(
        HELPDESK, hello["url"], timeout=30.0, policy=RetryPolicy(), budget=budget, now=clock
    )
    rules = WriteRules(
        agent_ref=hello["agent"],
        status_justifications={k: tuple(v) for k, v in hello["statuses"].items()},
    )
    connector = MovideskConnector(
        "bench",
        hello["url"],
        hello["token"],
        agent_ref=hello["agent"],
        rules=rules,
        http=http,
        now=clock,
        # The Emissor preflight's facts, read as configured for a real account; their cache
        # ages on sandbox time, as it would in a backfill that runs for hours.
        context_sources=hello["context_sources"],
        monotonic=lambda: (clock() - origin).total_seconds(),
    )
    with tempfile.TemporaryDirectory(prefix="helpdesk-sync-bench-") as tmp:
        state = Path(tmp) / "state.sqlite"
        with Store(f"sqlite:///{state}") as store:
            engine = Engine(
                connector,
                load_mapping("emissor"),
                store,
                clock=clock,
                max_attempts=args.max_attempts,
            )
            rss_before = rss_mb()
            rate = (
                f"DAY rate: {DAY_LIMIT} requests per rolling minute for the whole run, "
                f"time scale {scale:g} (rate window {window:.2f} s)"
                if day
                else "NIGHT rate: no request limit (time scale 1)"
            )
            print(
                f"backfill (movidesk, emissor): {args.tickets} tickets "
                f"(seeded in {hello['seeded_in']:.1f} s), {rate}, sandbox clock from "
                f"{origin.astimezone(SAO_PAULO):%H:%M} Sao Paulo",
                flush=True,
            )
            print(f"  seeded situations: {dict(sorted(hello['seeded'].items()))}")
            started = time.perf_counter()
            tally = Tally(args.tickets, started)
            result = engine.run_pass(
                since=since,
                until=until,
                cursor_name=f"backfill:{since.isoformat()}:{until.isoformat()}",
                reporter=tally,
                keep_reports=False,
            )
            wall = time.perf_counter() - started
            peak = peak_rss_mb()
        journal = journal_states(state)
    parent.send("stats")
    stats = parent.recv()
    parent.send("stop")
    parent.recv()
    process.join(timeout=10)
    http.close()
    root.removeHandler(handler)

    tickets = max(1, result.decided)
    ok = Counter(stats["ok"])
    limited = Counter(stats["limited"])
    context_reads = ok["GET context"]
    reads = sum(n for k, n in ok.items() if k.startswith("GET ")) - context_reads
    patches, posts = ok["PATCH tickets"], ok["POST tickets"]
    answered = sum(ok.values()) + sum(Counter(stats["errors"]).values())
    asked = sum(tally.asked.values())
    read_rate = reads / tickets
    per_decision = patches / max(1, tally.writing)
    print(
        f"tickets: {result.decided}  (seen {result.seen}, skipped {result.skipped}, "
        f"failed {result.failed}, quarantined {result.quarantined})"
    )
    print(f"outcomes: {dict(sorted(tally.outcomes.items()))}")
    print(
        f"reads/ticket: {read_rate:.4f}  ({reads} GET: "
        + ", ".join(
            f"{k} {n}" for k, n in sorted(ok.items()) if k.startswith("GET ") and "context" not in k
        )
        + f")  target <= 0.02: {verdict(read_rate <= 0.02)}"
    )
    print(
        f"  context reads/ticket: {context_reads / tickets:.4f}  ({context_reads} GET of the "
        "customers' open tickets, batched per listed page, for the onboarding/non-payment/"
        f"duplicate facts); all reads/ticket: {(reads + context_reads) / tickets:.4f}"
    )
    print(
        f"writes: PATCH {patches}, POST {posts}  (decisions that write: {tally.writing}; "
        f"expected one PATCH per decision with field/note effects: {tally.expected_patch}, "
        f"one POST per new ticket: {tally.expected_post}; sandbox write log: "
        f"{dict(sorted(stats['writes'].items()))})"
    )
    print(
        f"  PATCH per writing decision: {per_decision:.3f}  target 1: "
        f"{verdict(patches == tally.expected_patch and posts == tally.expected_post)}"
    )
    print(
        f"  effects asked: {asked}, written (applied): {tally.applied}  "
        f"{verdict(asked == tally.applied)}; by kind: {dict(sorted(tally.asked.items()))}"
    )
    print(f"  journal: {dict(sorted(journal.items()))}")
    print(
        f"lockouts: {stats['lockouts']}  target 0: {verdict(stats['lockouts'] == 0)};  429s: "
        f"{sum(limited.values())} {dict(limited) if limited else ''}(paced calls; at a high "
        "time scale a few milliseconds of wall jitter can let one through: it is waited "
        "out and retried)"
    )
    if stats["errors"]:
        print(f"other error answers: {dict(stats['errors'])}")
    if handler.events:
        print(f"engine warnings: {dict(handler.events)}")
    if day:
        # Refused (429) requests are not counted by the sandbox's budget: the calls the
        # limit had to let through are the answered ones.
        floor = answered / DAY_LIMIT * window
        ratio = wall / floor if floor else float("inf")
        print(
            f"wall: {wall:.1f} s  floor: {floor:.1f} s  ratio: {ratio:.3f}  (calls answered "
            f"{answered} / {DAY_LIMIT} per minute, window {window:.2f} s)  target <= 1.10: "
            f"{verdict(ratio <= 1.10)}"
        )
        print(
            f"  rate budget waited {budget.waited / scale:.1f} s (wall); sandbox clock at the "
            f"end {stats['now'].astimezone(SAO_PAULO):%H:%M} Sao Paulo"
            + (
                " -- past 18:59: a real account would have switched to the night rate"
                if not stats["day"]
                else ""
            )
        )
    else:
        print(
            f"wall: {wall:.1f} s  floor: none (night rate, no limit; {answered} calls, "
            f"{answered / wall:.0f} calls/s, {result.decided / wall:.0f} tickets/s)"
        )
    curve = "  ".join(f"{n}:{mb:.0f}" for n, mb in tally.samples)
    print(f"RSS curve (tickets:MB): {curve}")
    print(f"peak RSS (engine process): {peak:.1f} MB  (before the pass: {rss_before:.1f} MB)")
    return 0 if result.ok and result.decided == args.tickets else 1


def run(args: argparse.Namespace) -> int:
    """``--limits day``, ``night`` or ``both`` (day first)."""
    runs = ["day", "night"] if args.limits == "both" else [args.limits]
    code = 0
    for index, limits in enumerate(runs):
        if index:
            print()
        code = max(code, run_once(args, limits))
    return code
