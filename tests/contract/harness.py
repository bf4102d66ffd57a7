"""Helpdesk harnesses for the shared engine contract tests.

A harness wraps one connector and a stateful sandbox of its helpdesk: it seeds tickets
written as agents write them, injects faults and crashes, and reports what helpdesk-sync
wrote, read from the sandbox's own state (not from the engine's journal). Each new
helpdesk adds one harness; every test in ``test_engine_contract.py`` then runs against it.

Freshdesk runs in three account styles (``HARNESSES``):

* ``freshdesk``: the category in ``cf_categoria``/``cf_subcategoria``, every SOP datum in
  the agent's private note as labelled prose;
* ``freshdesk-sac-fields``: the SAC account set up the usual way
  (``setup_sac_account``): identifiers in labelled custom fields (``cf_cnpj`` "CNPJ",
  ``cf_numero_do_pedido``, ``cf_distribuidor``, ``cf_forma_de_pagamento``), the rest in
  free-text HTML notes with entities, prints attached to the private note as
  ``application/octet-stream``, requesters with phone and a company with its CNPJ, and the
  follow-up due date mirrored into ``cf_prazo_tarefa``;
* ``freshdesk-type``: the same account with the category in the ticket ``type``.

``movidesk`` runs ``MovideskConnector`` against ``MovideskSandbox``: a SAC account with the
statuses the mapping writes, one team per SAC group, the category in ``category`` and the
subcategory in a custom field, every SOP datum in the agent's internal action (HTML). The
Freshdesk-shaped fault and crash paths of the shared tests are translated to Movidesk calls
(one ``PATCH /tickets?id=N`` carries a decision's fields and note).

``salesforce`` runs ``SalesforceConnector`` against ``SalesforceSandbox`` through
simple-salesforce's own calls: a SAC org (one queue per SAC group, the SAC statuses, the
category in ``Categoria__c``, the data in an internal CaseComment, prints as files). Its
writes batch several cases in one sObject Collections call, so the Freshdesk-shaped
crash points are translated to the records written, the poison case is a row the org
refuses every time (``poison_error``), and its rate limit sends no ``Retry-After``.

``memory`` runs the connector template (``memory_connector``) on the in-memory
``memory_desk``: a sequence cursor, batched writes answered per record, external ids. Its
tickets are the ``freshdesk`` style's (the category in two fields, the data in notes).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import requests
import responses
from simple_salesforce import Salesforce

from cli.demo import prepare_account
from connectors._http import HttpClient, RetryPolicy
from connectors.freshdesk import FreshdeskConnector
from connectors.movidesk import MovideskConnector
from connectors.movidesk.api import MovideskHttp
from connectors.salesforce import SalesforceClient, SalesforceConnector
from sandboxes import movidesk as mv
from sandboxes import salesforce as sfs
from sandboxes.demo_data import SAC_GROUPS
from sandboxes.freshdesk import (
    DEFAULT_API_KEY,
    DEFAULT_BASE_URL,
    Faults,
    FreshdeskSandbox,
    SacNote,
    Write,
    add_sac_ticket,
    setup_sac_account,
)
from sync.contract import Connector, Effect, EffectResult, Loaded
from sync.effects import MARKER_PREFIX

from .memory_connector import MemoryConnector
from .memory_desk import MemoryDesk, Record

MARKER = re.compile(re.escape(MARKER_PREFIX) + r"([0-9a-f]{32})")
START = datetime(2026, 11, 19, 13, 0, tzinfo=UTC)  # Thursday 10:00 in São Paulo


class Crash(BaseException):
    """Simulates the process dying: not an ``Exception``, so nothing in the engine catches it."""


@dataclass
class FakeClock:
    """One clock for the sandbox and the engine; advances only when told."""

    now: datetime = START
    tick: timedelta = timedelta(0)
    """Added after every reading: a clock that moves while a pass runs."""

    def __call__(self) -> datetime:
        current = self.now
        self.now += self.tick
        return current

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Harness(Protocol):
    """What a contract test needs from a helpdesk under test."""

    kind: str
    mapping: str
    clock: FakeClock
    sleeps: list[float]
    retry_after: bool
    """The helpdesk's rate-limit answer says how long to wait (``Retry-After``)."""
    poison_error: str
    """What the dead letter of a ticket that keeps failing names (``503``, a row lock)."""

    def connector(self) -> Connector: ...

    def complete_ticket(self, variant: int = 0, *, at: datetime | None = None) -> str: ...

    def incomplete_ticket(self, *, at: datetime | None = None) -> str: ...

    def rupture_without_return(self, *, at: datetime | None = None) -> str: ...

    def reads_of(self, ticket_id: str) -> int: ...

    def complete_the_comment(self, ticket_id: str) -> None: ...

    def markers(self) -> Counter[str]: ...

    def field_updates(self, ticket_id: str) -> list[Any]: ...

    def notes_on(self, ticket_id: str) -> list[str]: ...

    def children_of(self, ticket_id: str) -> list[str]: ...

    def crash_after(self, method: str, path: str, times: int = 1) -> None: ...

    def fail(self, *, kind: str, count: int, path: str | None = None) -> None: ...

    def clear_faults(self) -> None: ...

    def set_stamp(self, ticket_id: str, stamp: datetime) -> None: ...

    def answer_children(self, ticket_id: str) -> None: ...

    def resolve(self, ticket_id: str) -> None: ...


# ------------------------------------------------------------------------- Freshdesk

# Complete SAC comments of three escalation kinds (seed 003): a KA route, a distributor
# child ticket, and a finance route.
COMPLETE = (
    (
        "Problemas no Site",
        None,
        "<div>Descrição do problema: erro ao finalizar pedido no carrinho<br>"
        "CNPJ: 11.222.333/0001-81</div>",
        (("print.png", "image/png"),),
    ),
    (
        "Cadastro",
        "Status do cadastro com o distribuidor",
        "• CNPJ do cliente: 45.723.174/0001-10\n• Status do cadastro: sem resposta\n"
        "• Distribuidor: Atacadão Nordeste",
        (),
    ),
    (
        "Ruptura do pedido",
        None,
        "Número do pedido: 100045872\nForma de pagamento - boleto antecipado\n"
        "Opção de estorno: reembolso\nBanco: Itaú\nAgência: 0912\nConta corrente: 45521-3\n"
        "Valor do reembolso: R$ 312,40",
        (),
    ),
)
INCOMPLETE = ("Cashback", "Contestação", "Motivo da contestação: cupom não apareceu")
RUPTURE_NO_RETURN = (
    "Ruptura do pedido",
    None,
    "Número do pedido: 100045990\nForma de pagamento: Pix\n"
    "Opção de estorno: Sem retorno do cliente",
    (),
)
"""A rupture whose customer never answered: starts the 48 h voucher timer (seed 003)."""
FIX = "CNPJ do cliente: 11.222.333/0001-81"


@dataclass(frozen=True)
class SacTicket:
    """A SAC ticket as agents leave it in a real account (``freshdesk-sac-fields``)."""

    category: str
    subcategory: str | None
    fields: dict[str, Any]
    notes: tuple[SacNote, ...]
    customer: str


# The same three escalations, the way SAC agents fill them in: identifiers in the ticket's
# labelled fields, the rest written freely in an HTML private note (entities and all), the
# print attached to that note by the browser as application/octet-stream.
SAC_COMPLETE = (
    SacTicket(
        "Problemas no Site",
        None,
        {"cf_cnpj": "11.222.333/0001-81"},
        (
            SacNote(
                "<div>Descri&ccedil;&atilde;o do problema: erro ao finalizar pedido no "
                "carrinho</div><div>Cliente enviou o print da tela do checkout.</div>",
                (("print_checkout.png", "application/octet-stream"),),
            ),
        ),
        "mercadinho",
    ),
    SacTicket(
        "Cadastro",
        "Status do cadastro com o distribuidor",
        {"cf_cnpj": "45.723.174/0001-10", "cf_distribuidor": "Atacadão Nordeste"},
        (
            SacNote(
                "<p>Status do cadastro: sem resposta&nbsp;</p>"
                "<p>Cliente aguarda a aprova&ccedil;&atilde;o h&aacute; 5 dias.</p>"
            ),
        ),
        "atacarejo",
    ),
    SacTicket(
        "Ruptura do pedido",
        None,
        {"cf_numero_do_pedido": "100045872", "cf_forma_de_pagamento": "Boleto antecipado"},
        (
            SacNote(
                "<div>Op&ccedil;&atilde;o de estorno: reembolso</div>"
                "<div>Banco: Ita&uacute;<br>Ag&ecirc;ncia: 0912<br>Conta corrente: 45521-3<br>"
                "Valor do reembolso: R$&nbsp;312,40</div>"
            ),
        ),
        "mercadinho",
    ),
)
SAC_INCOMPLETE = SacTicket(
    "Cashback",
    "Contestação",
    {},
    (SacNote("<p>Motivo da contesta&ccedil;&atilde;o: cupom n&atilde;o apareceu</p>"),),
    "avulso",  # a requester with no company: no CNPJ anywhere
)
SAC_RUPTURE_NO_RETURN = SacTicket(
    "Ruptura do pedido",
    None,
    {"cf_numero_do_pedido": "100045990", "cf_forma_de_pagamento": "Pix"},
    (SacNote("<p>Op&ccedil;&atilde;o de estorno: Sem retorno do cliente</p>"),),
    "mercadinho",
)
SAC_FIX = {"cf_cnpj": "11.222.333/0001-81"}
"""What the agent completes on the incomplete ticket: the CNPJ field, in the ticket form."""


@dataclass
class FreshdeskHarness:
    """Freshdesk connector against ``FreshdeskSandbox`` through ``responses``."""

    rsps: responses.RequestsMock
    clock: FakeClock = field(default_factory=FakeClock)
    sleeps: list[float] = field(default_factory=list)
    kind: str = "freshdesk"
    mapping: str = "sac"
    retry_after: bool = True
    poison_error: str = "503"
    page_cap: int = 300
    per_page: int = 100
    style: str = "notes"
    """``notes`` (data in note prose), ``sac-fields`` (a real SAC account: labelled custom
    fields, HTML notes, prints on notes) or ``type`` (the category in the ticket type)."""

    def __post_init__(self) -> None:
        assert self.style in ("notes", "sac-fields", "type"), self.style
        self.sandbox = FreshdeskSandbox(
            clock=self.clock, page_cap=self.page_cap, per_page_max=100, shuffle_ties=True, seed=3
        )
        self.sandbox.install(self.rsps, DEFAULT_BASE_URL)
        if self.style == "notes":
            self.account: Any = prepare_account(self.sandbox)
        else:
            self.account = setup_sac_account(self.sandbox)
        self.agent = self.account.agent

    def connector(self) -> Connector:
        http = HttpClient(
            "freshdesk",
            DEFAULT_BASE_URL,
            policy=RetryPolicy(attempts=4, backoff_base=0.5),
            sleep=self.sleeps.append,
            jitter=lambda delay: delay,
            now=self.clock,
        )
        return FreshdeskConnector(
            "fd",
            DEFAULT_BASE_URL,
            DEFAULT_API_KEY,
            request_type_field="type" if self.style == "type" else "cf_categoria",
            subcategory_field="cf_subcategoria",
            task_due_field="cf_prazo_tarefa" if self.style == "sac-fields" else None,
            http=http,
            per_page=self.per_page,
            page_cap=self.page_cap,
        )

    def _ticket(
        self,
        category: str,
        sub: str | None,
        note: str,
        attachments: tuple[tuple[str, str], ...],
        at: datetime | None,
    ) -> str:
        at = at or self.clock()
        if self.style == "type":
            return str(
                add_sac_ticket(
                    self.sandbox,
                    self.account,
                    subject=f"{category} {sub or ''}".strip(),
                    category=category,
                    subcategory=sub,
                    category_in="type",
                    notes=(SacNote(note, attachments),),
                    at=at,
                )
            )
        ticket_id = self.sandbox.add_ticket(
            f"{category} {sub or ''}".strip(),
            group_id=self.account.sac_group,
            responder_id=self.agent,
            custom_fields={"cf_categoria": category, "cf_subcategoria": sub},
            created_at=at - timedelta(minutes=5),
            updated_at=at,
        )
        self.sandbox.add_note(
            ticket_id, note, user_id=self.agent, created_at=at, attachments=attachments
        )
        return str(ticket_id)

    def _sac_ticket(self, spec: SacTicket, at: datetime | None) -> str:
        ticket_id = add_sac_ticket(
            self.sandbox,
            self.account,
            subject=f"{spec.category} {spec.subcategory or ''}".strip(),
            category=spec.category,
            subcategory=spec.subcategory,
            fields=spec.fields,
            notes=spec.notes,
            customer=spec.customer,
            at=at or self.clock(),
        )
        return str(ticket_id)

    def complete_ticket(self, variant: int = 0, *, at: datetime | None = None) -> str:
        if self.style == "sac-fields":
            return self._sac_ticket(SAC_COMPLETE[variant % len(SAC_COMPLETE)], at)
        category, sub, note, attachments = COMPLETE[variant % len(COMPLETE)]
        return self._ticket(category, sub, note, attachments, at)

    def incomplete_ticket(self, *, at: datetime | None = None) -> str:
        if self.style == "sac-fields":
            return self._sac_ticket(SAC_INCOMPLETE, at)
        return self._ticket(*INCOMPLETE, (), at)

    def rupture_without_return(self, *, at: datetime | None = None) -> str:
        if self.style == "sac-fields":
            return self._sac_ticket(SAC_RUPTURE_NO_RETURN, at)
        return self._ticket(*RUPTURE_NO_RETURN, at)

    def reads_of(self, ticket_id: str) -> int:
        """Successful GET calls on this ticket (the ticket, its conversations, its children)."""
        path = f"/api/v2/tickets/{ticket_id}"
        with self.sandbox._lock:
            return sum(
                1
                for c in self.sandbox.calls
                if c.method == "GET"
                and c.status == 200
                and (c.path == path or c.path.startswith(path + "/"))
            )

    def complete_the_comment(self, ticket_id: str) -> None:
        if self.style == "sac-fields":  # the agent fills the CNPJ field in the ticket form
            self.sandbox.set_fields(int(ticket_id), custom_fields=SAC_FIX, at=self.clock())
            return
        self.sandbox.add_note(int(ticket_id), FIX, user_id=self.agent, created_at=self.clock())

    def markers(self) -> Counter[str]:
        """How often each effect key is present in the helpdesk (notes, tasks, tickets)."""
        found: Counter[str] = Counter()
        with self.sandbox._lock:
            for notes in self.sandbox.conversations.values():
                for note in notes:
                    found.update(MARKER.findall(note["body"]))
            for ticket in self.sandbox.tickets.values():
                found.update(MARKER.findall(ticket.description or ""))
        return found

    def _writes(self) -> list[Write]:
        with self.sandbox._lock:
            return list(self.sandbox.writes)

    def field_updates(self, ticket_id: str) -> list[Any]:
        return [
            w.body
            for w in self._writes()
            if w.method == "PUT" and w.path.endswith(f"/tickets/{ticket_id}")
        ]

    def notes_on(self, ticket_id: str) -> list[str]:
        return [
            w.body.get("body", "")
            for w in self._writes()
            if w.method == "POST" and w.path.endswith(f"/tickets/{ticket_id}/notes")
        ]

    def children_of(self, ticket_id: str) -> list[str]:
        return [
            str(w.ticket_id)
            for w in self._writes()
            if w.method == "POST"
            and w.path.endswith("/tickets")
            and w.body.get("parent_id") == int(ticket_id)
        ]

    def crash_after(self, method: str, path: str, times: int = 1) -> None:
        left = [times]

        def crash(write: Write) -> None:
            if left[0] > 0:
                left[0] -= 1
                raise Crash(f"crash after {write.method} {write.path}")

        self.sandbox.inject(Faults(method=method, path=path, after_write=crash))

    def fail(self, *, kind: str, count: int, path: str | None = None) -> None:
        faults = {
            "429": Faults(rate_limited=count, retry_after=7),
            "5xx": Faults(server_errors=count),
            "timeout": Faults(timeouts=count),
            "drop": Faults(dropped=count),
        }[kind]
        faults.path = path
        self.sandbox.inject(faults)

    def clear_faults(self) -> None:
        """The helpdesk answers normally again."""
        with self.sandbox._lock:
            self.sandbox.faults.clear()

    def set_stamp(self, ticket_id: str, stamp: datetime) -> None:
        self.sandbox.touch(int(ticket_id), stamp)

    def answer_children(self, ticket_id: str) -> None:
        """The distributor answers: its child ticket is resolved."""
        with self.sandbox._lock:
            for child in self.sandbox.tickets[int(ticket_id)].children:
                self.sandbox.tickets[child].status = 4
                self.sandbox.tickets[child].updated_at = self.sandbox.now()

    def resolve(self, ticket_id: str) -> None:
        with self.sandbox._lock:
            self.sandbox.tickets[int(ticket_id)].status = 4
            self.sandbox.tickets[int(ticket_id)].updated_at = self.sandbox.now()


# ------------------------------------------------------------------------- Movidesk

MOVIDESK_STATUSES = (
    ("Open", "InAttendance"),
    ("Pending", "Stopped"),
    ("Resolved", "Resolved"),
    ("Closed", "Closed"),
)
"""The statuses the SAC mapping writes and checks, none demanding a justification."""
MOVIDESK_FIELD_KEYS = frozenset(
    {"status", "justification", "owner", "ownerTeam", "urgency", "tags", "customFieldValues"}
)
"""Keys of a PATCH body that change the ticket's fields (``actions`` adds a note)."""
FIELD_KINDS = frozenset(
    {"route", "set_status", "resolve", "set_priority", "mark_critical", "merge"}
)
"""Effects that change the ticket itself: a decision's note names their markers too, but
they have no object of their own (notes, tasks and tickets do)."""
QueryArgs = Mapping[str, list[str]]


def _agent_html(note: str) -> str:
    """A note as agents leave it in Movidesk's editor: HTML kept, plain text a ``<p>`` a line."""
    if note.lstrip().startswith("<"):
        return note
    return "".join(f"<p>{html.escape(line)}</p>" for line in note.split("\n"))


def _query_id(query: QueryArgs) -> str | None:
    values = query.get("id") or []
    return values[-1] if values else None


class _ListingSandbox(mv.MovideskSandbox):
    """``MovideskSandbox`` that also counts, per ticket, the list rows it answered."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.listed: Counter[str] = Counter()

    def _list(self, query: QueryArgs, *, past: bool) -> list[dict[str, Any]]:
        rows = super()._list(query, past=past)
        self.listed.update(str(row["id"]) for row in rows if "id" in row)
        return rows


class _KindRecordingConnector(MovideskConnector):
    """``MovideskConnector`` that remembers the action kind of every effect it writes.

    One Movidesk PATCH carries a decision's field changes and its one internal note, whose
    footer names the marker of EVERY effect of the PATCH (routes and statuses included, so
    the connector finds them after a crash). ``markers`` uses these kinds to leave the field
    effects out: the contract compares the markers with the effects that write an object
    of their own (notes, tasks, tickets).
    """

    kinds: dict[str, str]

    def write_ticket(self, loaded: Loaded, effects: Sequence[Effect]) -> list[EffectResult]:
        self.kinds.update((e.key, e.action.kind) for e in effects)
        return super().write_ticket(loaded, effects)


@dataclass
class MovideskHarness:
    """Movidesk connector against ``MovideskSandbox`` through ``responses``.

    Movidesk's limits stay on: the sandbox's 10 requests a minute by day and its tickets-API
    lock after three failed requests (60 s), the connector's day pacing. The harness's
    sleep records each wait AND moves the shared fake clock by it, so paced calls and
    waited-out locks pass simulated time the way they pass real time (a sleep that only
    recorded would leave the lock closed forever). ``START`` is a Thursday 10:00 in São
    Paulo: the day budget applies.
    """

    rsps: responses.RequestsMock
    clock: FakeClock = field(default_factory=FakeClock)
    sleeps: list[float] = field(default_factory=list)
    kind: str = "movidesk"
    mapping: str = "sac"
    retry_after: bool = True
    poison_error: str = "503"
    kinds: dict[str, str] = field(default_factory=dict)
    """Effect key -> action kind, of every effect a connector of this harness wrote."""

    def __post_init__(self) -> None:
        self.sandbox = _ListingSandbox(
            clock=self.clock,
            day_limit=10,
            night_limit=None,
            lockout_after=3,
            shuffle_ties=True,
            seed=3,
        )
        self.sandbox.install(self.rsps, mv.DEFAULT_BASE_URL)
        for name, base in MOVIDESK_STATUSES:
            self.sandbox.add_status(name, base)
        # The agent helpdesk-sync writes as: the person the API token belongs to.
        self.agent_ref = self.sandbox.me
        self.agent = self.sandbox.add_person(
            "Ana Souza", profile_type=1, email="ana.souza@example.com", teams=("SAC",)
        )
        for group in SAC_GROUPS:
            if group != "SAC":
                login = group.lower().replace(" ", ".")
                self.sandbox.add_person(
                    f"Atendente {group}",
                    profile_type=1,
                    email=f"{login}@example.com",
                    teams=(group,),
                )
        self.subcategory_field = self.sandbox.add_custom_field("Subcategoria")
        company = self.sandbox.add_person(
            "Mercadinho Bom Preço Ltda",
            person_type=2,
            email="contato@mercadinho.example",
        )
        self.client = self.sandbox.add_person(
            "Joana Lima",
            email="joana@mercadinho.example",
            phone="+55 11 98765-4321",
            organization=company,
        )
        self.walk_in = self.sandbox.add_person("Carlos Pereira", email="carlos@example.com")
        """A client with no company: no CNPJ anywhere but in the agent's note."""

    def _sleep(self, seconds: float) -> None:
        """A wait of the connector (retry, Retry-After, day pacing): recorded, and the
        simulated time passes."""
        self.sleeps.append(seconds)
        self.clock.advance(seconds=seconds)

    def connector(self) -> Connector:
        http = MovideskHttp(
            "movidesk",
            mv.DEFAULT_BASE_URL,
            policy=RetryPolicy(attempts=4, backoff_base=0.5),
            sleep=self._sleep,
            jitter=lambda delay: delay,
            now=self.clock,
        )
        connector = _KindRecordingConnector(
            "movidesk",
            mv.DEFAULT_BASE_URL,
            mv.DEFAULT_TOKEN,
            agent_ref=self.agent_ref,
            request_type_field="category",
            subcategory_field=str(self.subcategory_field),
            field_labels={str(self.subcategory_field): "Subcategoria"},
            http=http,
            day_limit_per_minute=10,
            now=self.clock,
            sleep=self._sleep,
        )
        connector.kinds = self.kinds
        return connector

    def _ticket(
        self,
        category: str,
        sub: str | None,
        note: str,
        attachments: tuple[tuple[str, str], ...],
        at: datetime | None,
        *,
        client: str | None = None,
    ) -> str:
        at = at or self.clock()
        ticket_id = self.sandbox.add_ticket(
            f"{category} {sub or ''}".strip(),
            clients=[client or self.client],
            owner=self.agent,
            owner_team="SAC",
            status="Open",
            category=category,
            custom_fields={self.subcategory_field: sub} if sub else None,
            created_at=at - timedelta(minutes=5),
            actions=[
                {
                    "html": _agent_html(note),
                    "type": 1,
                    "created_by": self.agent,
                    "created_at": at,
                    "attachments": [name for name, _ in attachments],
                }
            ],
        )
        return str(ticket_id)

    def complete_ticket(self, variant: int = 0, *, at: datetime | None = None) -> str:
        return self._ticket(*COMPLETE[variant % len(COMPLETE)], at)

    def incomplete_ticket(self, *, at: datetime | None = None) -> str:
        return self._ticket(*INCOMPLETE, (), at, client=self.walk_in)

    def rupture_without_return(self, *, at: datetime | None = None) -> str:
        return self._ticket(*RUPTURE_NO_RETURN, at)

    def reads_of(self, ticket_id: str) -> int:
        """Reads of this ticket: successful ``GET /tickets?id=N`` calls, plus each list row
        that carried it. On Movidesk one list call brings whole tickets and ``load`` reads
        nothing more, so the row is the decision's one read of the ticket (Freshdesk's
        ``GET /tickets/{id}``)."""
        with self.sandbox._lock:
            direct = sum(
                1
                for c in self.sandbox.calls
                if c.method == "GET"
                and c.status == 200
                and c.path.endswith("/tickets")
                and _query_id(c.query) == ticket_id
            )
            return direct + self.sandbox.listed[ticket_id]

    def complete_the_comment(self, ticket_id: str) -> None:
        self.sandbox.add_action(
            int(ticket_id), _agent_html(FIX), type=1, created_by=self.agent, created_at=self.clock()
        )

    def markers(self) -> Counter[str]:
        """How often each effect key with an object of its own is in the helpdesk: the
        markers in every action of every ticket (the decisions' notes and the tickets
        helpdesk-sync opened). Keys of field effects (``FIELD_KINDS``), which a decision's
        note names too, are left out (``_KindRecordingConnector``); a key of unknown kind
        is counted."""
        found: Counter[str] = Counter()
        with self.sandbox._lock:
            for ticket in self.sandbox.tickets.values():
                for action in ticket.actions:
                    if not action.is_deleted:
                        found.update(MARKER.findall(action.html))
        return Counter(
            {k: n for k, n in found.items() if self.kinds.get(k, "?") not in FIELD_KINDS}
        )

    def _writes(self) -> list[mv.Write]:
        with self.sandbox._lock:
            return list(self.sandbox.writes)

    def _patches(self, ticket_id: str) -> list[dict[str, Any]]:
        return [
            w.body
            for w in self._writes()
            if w.method == "PATCH" and _query_id(w.query) == ticket_id
        ]

    def field_updates(self, ticket_id: str) -> list[Any]:
        """The PATCHes of this ticket that changed fields (a decision's note may ride along)."""
        return [b for b in self._patches(ticket_id) if MOVIDESK_FIELD_KEYS & set(b)]

    def notes_on(self, ticket_id: str) -> list[str]:
        """The internal actions helpdesk-sync added to this ticket, as sent."""
        return [
            str(action.get("description") or "")
            for body in self._patches(ticket_id)
            for action in body.get("actions") or []
            if action.get("id") == 0 and action.get("type") == 1
        ]

    def children_of(self, ticket_id: str) -> list[str]:
        return [
            str(w.ticket_id)
            for w in self._writes()
            if w.method == "POST"
            and any(
                isinstance(p, dict) and str(p.get("id")) == ticket_id
                for p in w.body.get("parentTickets") or []
            )
        ]

    @staticmethod
    def _crash_point(method: str, path: str) -> Callable[[mv.Write], bool]:
        """A Freshdesk-shaped write (method, path regex) as a test on Movidesk writes."""
        note_on = re.fullmatch(r"/tickets/(\d+)/notes\$", path)
        if method == "POST" and note_on:  # a note on one ticket: that ticket's PATCH
            ticket = note_on.group(1)
            return lambda w: (
                w.method == "PATCH" and _query_id(w.query) == ticket and bool(w.body.get("actions"))
            )
        if method == "POST" and path.endswith("/notes$"):  # a note: a PATCH adding one
            return lambda w: w.method == "PATCH" and bool(w.body.get("actions"))
        if method == "PUT" and path.startswith("/tickets/"):  # a field update
            return lambda w: w.method == "PATCH" and bool(MOVIDESK_FIELD_KEYS & set(w.body))
        if method == "POST" and path == "/tickets$":  # a ticket created
            return lambda w: w.method == "POST"
        raise ValueError(f"no Movidesk equivalent of {method} {path}")

    def crash_after(self, method: str, path: str, times: int = 1) -> None:
        point = self._crash_point(method, path)
        left = [times]

        def crash(write: mv.Write) -> None:
            if left[0] > 0 and point(write):
                left[0] -= 1
                raise Crash(f"crash after {write.method} {write.path}?id={write.ticket_id}")

        self.sandbox.inject(mv.Faults(path=r"/tickets$", after_write=crash))

    def fail(self, *, kind: str, count: int, path: str | None = None) -> None:
        faults = {
            "429": mv.Faults(rate_limited=count, retry_after=7),
            "5xx": mv.Faults(server_errors=count),
            "timeout": mv.Faults(timeouts=count),
            "drop": mv.Faults(dropped=count),
        }[kind]
        about = re.fullmatch(r"/tickets/(\d+)\(/\|\$\)", path or "")
        if path is None:
            pass  # every call
        elif path == r"/api/v2/tickets$":  # the list: /tickets or /tickets/past without id
            faults.method = "GET"
            faults.path = r"/tickets(/past)?$"
            faults.where = lambda method, url, query: "id" not in query
        elif about:  # any call about one ticket: ?id=N
            ticket = about.group(1)
            faults.path = r"/tickets$"
            faults.where = lambda method, url, query: _query_id(query) == ticket
        else:
            raise ValueError(f"no Movidesk equivalent of the path {path}")
        self.sandbox.inject(faults)

    def clear_faults(self) -> None:
        """The helpdesk answers normally again."""
        with self.sandbox._lock:
            self.sandbox.faults.clear()

    def set_stamp(self, ticket_id: str, stamp: datetime) -> None:
        self.sandbox.touch(int(ticket_id), stamp)

    def _set_status(self, ticket_id: int, status: str) -> None:
        with self.sandbox._lock:
            ticket = self.sandbox.tickets[ticket_id]
            now = self.sandbox.now()
            ticket.status = status
            ticket.base_status = self.sandbox.statuses[status].base
            ticket.justification = None
            if ticket.base_status == "Resolved":
                ticket.resolved_in = now
            ticket.last_update = now

    def answer_children(self, ticket_id: str) -> None:
        """The distributor answers: its child ticket is resolved."""
        with self.sandbox._lock:
            children = list(self.sandbox.tickets[int(ticket_id)].children)
        for child in children:
            self._set_status(child, "Resolved")

    def resolve(self, ticket_id: str) -> None:
        self._set_status(int(ticket_id), "Resolved")


# ------------------------------------------------------------------------- Salesforce

SF_STATUSES = (("Open", False), ("Pending", False), ("Resolved", True), ("Closed", True))
"""The SAC statuses the mapping writes and reads, as the org's CaseStatus values."""
SF_WRITES = r"/composite/sobjects$"
"""Every write the connector sends: sObject Collections (updates PATCH, inserts POST)."""


@dataclass
class SalesforceHarness:
    """``SalesforceConnector`` against ``SalesforceSandbox`` through ``responses``, reached
    by simple-salesforce's own calls.

    A SAC org: one queue per SAC group (each owning Case and Task), the SAC statuses, the
    category joined with its subcategory in a custom field (``Categoria__c``, "Cadastro >
    Status do cadastro com o distribuidor"), every SOP datum in the agent's internal
    CaseComment (plain text, as Salesforce keeps it), prints as files on the case. An
    active assignment rule would move every case written without ``Sforce-Auto-Assign:
    FALSE`` to the SAC queue. Salesforce sends no 429 and no ``Retry-After``: the shared
    ``429`` fault is its ``REQUEST_LIMIT_EXCEEDED`` (a 403); writes of several cases share
    one collections call, so the poison case is a row the org refuses every time (a
    record lock that never clears), not a 503 about one ticket.
    """

    rsps: responses.RequestsMock
    clock: FakeClock = field(default_factory=FakeClock)
    sleeps: list[float] = field(default_factory=list)
    kind: str = "salesforce"
    mapping: str = "sac"
    poison_error: str = "UNABLE_TO_LOCK_ROW"
    retry_after: bool = False
    """Whether the helpdesk announces how long to wait (Salesforce does not)."""

    def __post_init__(self) -> None:
        self.sandbox = sfs.SalesforceSandbox(clock=self.clock, assignment_queue="SAC")
        self.sandbox.install(self.rsps)
        for group in SAC_GROUPS:
            self.sandbox.add_queue(group, developer_name=re.sub(r"\W+", "_", group))
        for name, closed in SF_STATUSES:
            self.sandbox.add_status(name, is_closed=closed)
        self.sandbox.add_field("Case", "Categoria__c", type="string")
        self.agent = self.sandbox.add_user("Ana Souza", username="ana.souza@example.com")

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds=seconds)

    def connector(self) -> Connector:
        session = requests.Session()
        client = SalesforceClient(
            lambda: Salesforce(
                session_id=sfs.DEFAULT_SESSION,
                instance_url=sfs.DEFAULT_BASE_URL,
                session=session,
                version="59.0",
            ),
            connector="salesforce",
            sleep=self._sleep,
        )
        return SalesforceConnector(
            "salesforce", client, request_type_field="Categoria__c", now=self.clock
        )

    def _ticket(
        self,
        category: str,
        sub: str | None,
        note: str,
        attachments: tuple[tuple[str, str], ...],
        at: datetime | None,
    ) -> str:
        at = at or self.clock()
        return self.sandbox.add_case(
            f"{category} {sub or ''}".strip(),
            owner_id=self.agent,
            status="Open",
            fields={"Categoria__c": f"{category} > {sub}" if sub else category},
            comments=[(note, False, self.agent, at)],
            files=[name for name, _ in attachments],
            created_at=at - timedelta(minutes=5),
        )

    def complete_ticket(self, variant: int = 0, *, at: datetime | None = None) -> str:
        return self._ticket(*COMPLETE[variant % len(COMPLETE)], at)

    def incomplete_ticket(self, *, at: datetime | None = None) -> str:
        return self._ticket(*INCOMPLETE, (), at)

    def rupture_without_return(self, *, at: datetime | None = None) -> str:
        return self._ticket(*RUPTURE_NO_RETURN, at)

    def reads_of(self, ticket_id: str) -> int:
        """Query pages that handed this case out (the listing's and any read by id)."""
        with self.sandbox._lock:
            return self.sandbox.listed[ticket_id]

    def complete_the_comment(self, ticket_id: str) -> None:
        self.sandbox.add_comment(ticket_id, FIX, created_by=self.agent, created_at=self.clock())

    def markers(self) -> Counter[str]:
        """Each effect key in the org: our comments, tasks and child cases carry one."""
        found: Counter[str] = Counter()
        with self.sandbox._lock:
            for sobject, text in (
                ("CaseComment", "CommentBody"),
                ("Task", "Description"),
                ("Case", "Description"),
            ):
                for record in self.sandbox.records(sobject):
                    found.update(MARKER.findall(str(record.get(text) or "")))
        return found

    def _writes(self) -> list[Any]:
        with self.sandbox._lock:
            return list(self.sandbox.writes)

    def field_updates(self, ticket_id: str) -> list[Any]:
        return [
            w.body
            for w in self._writes()
            if w.sobject == "Case" and w.method == "PATCH" and w.record_id == ticket_id
        ]

    def notes_on(self, ticket_id: str) -> list[str]:
        return [
            str(w.body.get("CommentBody"))
            for w in self._writes()
            if w.sobject == "CaseComment" and w.method == "POST"
            and w.body.get("ParentId") == ticket_id
        ]  # fmt: skip

    def children_of(self, ticket_id: str) -> list[str]:
        return [
            w.record_id
            for w in self._writes()
            if w.sobject == "Case" and w.method == "POST" and w.body.get("ParentId") == ticket_id
        ]

    @staticmethod
    def _crash_point(method: str, path: str) -> Callable[[Any], bool]:
        """A Freshdesk-shaped write (method, path regex) as a test on Salesforce writes."""
        note_on = re.fullmatch(r"/tickets/(\d+)/notes\$", path)
        if method == "POST" and (note_on or path.endswith("/notes$")):
            return lambda w: w.method == "POST" and w.sobject == "CaseComment"
        if method == "PUT" and path.startswith("/tickets/"):  # a field update
            return lambda w: w.method == "PATCH" and w.sobject == "Case"
        if method == "POST" and path == "/tickets$":  # a ticket created
            return lambda w: w.method == "POST" and w.sobject == "Case"
        raise ValueError(f"no Salesforce equivalent of {method} {path}")

    def crash_after(self, method: str, path: str, times: int = 1) -> None:
        point = self._crash_point(method, path)
        left = [times]

        def crash(write: Any) -> None:
            if left[0] > 0 and point(write):
                left[0] -= 1
                raise Crash(f"crash after {write.method} {write.sobject} {write.record_id}")

        self.sandbox.inject(sfs.Faults(path=SF_WRITES, after_write=crash))

    def fail(self, *, kind: str, count: int, path: str | None = None) -> None:
        about = re.fullmatch(r"/tickets/(\d+|[A-Za-z0-9]{15,18})\(/\|\$\)", path or "")
        if about:  # one case keeps failing: the org refuses its row every time
            self.sandbox.lock_record(about.group(1), times=None if count > 1000 else count)
            return
        faults = {
            "429": sfs.Faults(rate_limited=count),
            "5xx": sfs.Faults(server_errors=count),
            "timeout": sfs.Faults(timeouts=count),
            "drop": sfs.Faults(dropped=count),
        }[kind]
        if path == r"/api/v2/tickets$":  # the listing: the SOQL queries
            faults.method = "GET"
            faults.path = r"/query/?$"
        elif path is not None:
            raise ValueError(f"no Salesforce equivalent of the path {path}")
        self.sandbox.inject(faults)

    def clear_faults(self) -> None:
        with self.sandbox._lock:
            self.sandbox.faults.clear()
            self.sandbox.locks.clear()

    def set_stamp(self, ticket_id: str, stamp: datetime) -> None:
        self.sandbox.touch(ticket_id, stamp)

    def answer_children(self, ticket_id: str) -> None:
        """The distributor answers: its child case is resolved."""
        for child in self.children_of(ticket_id):
            self.sandbox.set_case_status(child, "Resolved")

    def resolve(self, ticket_id: str) -> None:
        self.sandbox.set_case_status(ticket_id, "Resolved")


# ------------------------------------------------------------------------- memory desk


@dataclass
class MemoryHarness:
    """The connector template (``MemoryConnector``) against ``MemoryDesk``: no HTTP."""

    clock: FakeClock = field(default_factory=FakeClock)
    sleeps: list[float] = field(default_factory=list)
    kind: str = "memory"
    mapping: str = "sac"
    retry_after: bool = True
    poison_error: str = "503"
    agent: str = "Ana Souza"

    def __post_init__(self) -> None:
        self.desk = MemoryDesk(self.clock, groups=SAC_GROUPS)

    def connector(self) -> Connector:
        return MemoryConnector("mem", self.desk, sleep=self.sleeps.append)

    def _ticket(
        self,
        category: str,
        sub: str | None,
        note: str,
        attachments: tuple[tuple[str, str], ...],
        at: datetime | None,
    ) -> str:
        at = at or self.clock()
        ticket_id = self.desk.add_ticket(
            f"{category} {sub or ''}".strip(),
            category=category,
            subcategory=sub,
            group="SAC",
            owner=self.agent,
            created_at=at - timedelta(minutes=5),
            updated_at=at,
        )
        self.desk.add_comment(
            ticket_id, note, author=self.agent, created_at=at, attachments=attachments
        )
        return str(ticket_id)

    def complete_ticket(self, variant: int = 0, *, at: datetime | None = None) -> str:
        return self._ticket(*COMPLETE[variant % len(COMPLETE)], at)

    def incomplete_ticket(self, *, at: datetime | None = None) -> str:
        return self._ticket(*INCOMPLETE, (), at)

    def rupture_without_return(self, *, at: datetime | None = None) -> str:
        return self._ticket(*RUPTURE_NO_RETURN, at)

    def reads_of(self, ticket_id: str) -> int:
        """Successful reads of this ticket (``GET /api/v2/tickets/{id}``)."""
        path = f"/api/v2/tickets/{ticket_id}"
        return sum(1 for c in self.desk.calls if (c.method, c.path, c.status) == ("GET", path, 200))

    def complete_the_comment(self, ticket_id: str) -> None:
        self.desk.add_comment(int(ticket_id), FIX, author=self.agent, created_at=self.clock())

    def markers(self) -> Counter[str]:
        """How often each effect key is in the desk: records of notes, tasks and tickets."""
        return Counter(
            key for r in self.desk.records if r.method == "POST" for key in r.external_ids
        )

    def field_updates(self, ticket_id: str) -> list[Any]:
        return [
            r.body for r in self.desk.records if r.method == "PUT" and r.ticket_id == int(ticket_id)
        ]

    def notes_on(self, ticket_id: str) -> list[str]:
        path = f"/api/v2/tickets/{ticket_id}/notes"
        return [r.body["text"] for r in self.desk.records if r.path == path]

    def children_of(self, ticket_id: str) -> list[str]:
        return [
            str(r.ticket_id)
            for r in self.desk.records
            if r.path == "/api/v2/tickets" and r.body.get("parent_id") == int(ticket_id)
        ]

    def crash_after(self, method: str, path: str, times: int = 1) -> None:
        left = [times]

        def crash(record: Record) -> None:
            if left[0] > 0:
                left[0] -= 1
                raise Crash(f"crash after {record.method} {record.path}")

        self.desk.after_write(method, path, crash)

    def fail(self, *, kind: str, count: int, path: str | None = None) -> None:
        self.desk.fail(kind, count, path, retry_after=7)

    def clear_faults(self) -> None:
        self.desk.clear_faults()

    def set_stamp(self, ticket_id: str, stamp: datetime) -> None:
        self.desk.touch(int(ticket_id), stamp)

    def answer_children(self, ticket_id: str) -> None:
        """The distributor answers: its child ticket is resolved."""
        for child in self.desk.tickets[int(ticket_id)].children:
            self.desk.set_status(child, "Resolved")

    def resolve(self, ticket_id: str) -> None:
        self.desk.set_status(int(ticket_id), "Resolved")


HARNESSES: dict[str, Callable[[responses.RequestsMock], Harness]] = {
    "freshdesk": lambda rsps: FreshdeskHarness(rsps),
    "freshdesk-sac-fields": lambda rsps: FreshdeskHarness(rsps, style="sac-fields"),
    "freshdesk-type": lambda rsps: FreshdeskHarness(rsps, style="type"),
    "memory": lambda rsps: MemoryHarness(),
    "movidesk": lambda rsps: MovideskHarness(rsps),
    "salesforce": lambda rsps: SalesforceHarness(rsps),
}


@contextmanager
def mocked() -> Iterator[responses.RequestsMock]:
    """A ``responses`` mock that lets the sandbox answer every route."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
