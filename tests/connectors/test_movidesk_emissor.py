"""The Emissor mapping end to end on the Movidesk sandbox: Bloco 1 branches and Bloco 2.

The real ``Engine`` (SQLite store in ``tmp_path``, ``load_mapping("emissor")``, a fixed
clock inside the account's day) runs over the account ``setup_emissor_account`` seeds,
through ``responses``; each test asserts what was written to the sandbox for one branch,
that it was written once, and that a second pass (the echo of our own writes) writes
nothing. The context facts come from the connector (``connectors.movidesk.context``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses

from connectors.movidesk import MovideskConnector, WriteRules
from connectors.movidesk.context import same_subject, yes_no
from engine.engine import Engine
from engine.store import Store
from sandboxes.movidesk import (
    DEFAULT_TOKEN,
    EmissorAccount,
    Faults,
    MovideskSandbox,
    Write,
    setup_emissor_account,
)
from sandboxes.movidesk import emissor_data as data
from sandboxes.movidesk.demo_seed import DEMO_STATUS_JUSTIFICATIONS
from sync.mapping_loader import load_mapping

T0 = datetime(2026, 11, 19, 13, 0, tzinfo=UTC)  # Thursday 10:00 in São Paulo
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class Clock:
    """One fake clock: wall time for the engine and sandbox, monotonic for the caches."""

    now: datetime = T0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)

    def monotonic(self) -> float:
        return (self.now - T0).total_seconds()


@dataclass
class World:
    """The sandbox account, the connector and the engine of one test."""

    clock: Clock
    sandbox: MovideskSandbox
    account: EmissorAccount
    connector: MovideskConnector
    engine: Engine
    restart: Callable[[str], Engine]
    """A fresh connector and engine on the same store, as after a crash: the mapping's."""

    def run(self) -> list[Write]:
        """One pass; the writes it made."""
        before = len(self.sandbox.writes)
        result = self.engine.run_pass()
        assert not result.stopped, result
        assert result.failed == 0, result
        return self.sandbox.writes[before:]

    def ticket(self, situation: str) -> int:
        return self.account.tickets[situation]


def sources(account: EmissorAccount) -> dict[str, str | None]:
    f = account.fields
    return {
        "onboarding_category": "Onboarding",
        "onboarding_field": str(f["em_onboarding"]),
        "onboarding_ticket_field": str(f["ticket_onboarding"]),
        "non_payment_field": str(f["bloqueio_inadimplencia"]),
        "block_reason_field": str(f["motivo_bloqueio"]),
        "linked_card_field": str(f["card_vinculado"]),
    }


def make_world(tmp_path: Path, mock: responses.RequestsMock, **kw: Any) -> World:
    clock = Clock()
    sandbox = MovideskSandbox(clock=clock, sleep=clock.sleep, day_limit=None)
    sandbox.install(mock)
    account = setup_emissor_account(sandbox)
    context_sources = kw.pop("context_sources", sources(account))
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}", clock=clock)

    def start(mapping: str) -> tuple[MovideskConnector, Engine]:
        connector = MovideskConnector(
            mapping,
            sandbox.base_url,
            DEFAULT_TOKEN,
            agent_ref=sandbox.me,
            # The account's statuses and the justifications each demands, as configured.
            rules=WriteRules(
                agent_ref=sandbox.me, status_justifications=DEMO_STATUS_JUSTIFICATIONS
            ),
            day_limit_per_minute=None,
            now=clock,
            sleep=clock.sleep,
            monotonic=clock.monotonic,
            context_sources=context_sources,
            **kw,
        )
        engine = Engine(
            connector,
            load_mapping(mapping),
            store,
            clock=clock,
            initial_lookback=timedelta(days=30),
        )
        return connector, engine

    connector, engine = start("emissor")
    return World(clock, sandbox, account, connector, engine, lambda m: start(m)[1])


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def world(tmp_path: Path, mock: responses.RequestsMock) -> World:
    return make_world(tmp_path, mock)


def to(writes: list[Write], ticket_id: int) -> list[Write]:
    return [w for w in writes if w.ticket_id == ticket_id]


def notes(write: Write) -> list[str]:
    """The internal notes a PATCH added, as plain text."""
    body = write.body if isinstance(write.body, dict) else {}
    return [
        html.unescape(_TAGS.sub(" ", str(a.get("description") or "")))
        for a in body.get("actions") or []
        if a.get("type") == 1
    ]


def only_patch(writes: list[Write], ticket_id: int) -> dict[str, Any]:
    """The ONE write a ticket got: a PATCH; its body."""
    mine = to(writes, ticket_id)
    assert [w.method for w in mine] == ["PATCH"], mine
    body = mine[0].body
    assert isinstance(body, dict)
    return body


def passes(world: World) -> list[Write]:
    """Two passes: the writes of the first; the second (our echo) must write nothing."""
    first = world.run()
    world.clock.now += timedelta(minutes=2)
    assert world.run() == []
    return first


# ------------------------------------------------------------------ pure helpers


def test_same_subject_and_yes_no() -> None:
    assert same_subject("App não abre", "App nao abre no celular")
    assert same_subject("Importar vendas de outubro", "Importar vendas outubro")
    assert not same_subject("Erro ao transmitir NFS-e", "Implantação eNotas - Clínica Sorriso")
    assert not same_subject("App não abre", "App não abre", "Falha no sistema", "Financeiro")
    assert [yes_no(v) for v in ("Sim", "não", "x", None)] == [True, False, None, None]


# ------------------------------------------------------------------ Bloco 1, passo 1


def test_missing_basic_info_is_a_note_naming_it(world: World) -> None:
    nobody = world.sandbox.add_person("Cliente sem cadastro")  # no e-mail, no organization
    agent = world.account.agents["carla.mendes"]
    created = world.clock.now - timedelta(hours=1)
    ticket = world.sandbox.add_ticket(
        "Integração parou",
        clients=[nobody],
        owner=agent,
        owner_team="Suporte N1",
        category="Falha no sistema",
        created_at=created,
        actions=[{"html": data.FALHA_COMPLETE, "type": 1, "created_by": agent}],
    )
    body = only_patch(passes(world), ticket)
    [note] = notes(to(world.sandbox.writes, ticket)[0])
    assert "Faltando" in note
    assert "Nome da empresa" in note
    assert "E-mail da conta" in note
    assert "status" not in body  # the status stays as it is


def test_onboarding_is_merged_into_the_onboarding_ticket(world: World) -> None:
    first = passes(world)
    ticket, principal = world.ticket("onboarding"), world.ticket("onboarding_main")
    body = only_patch(first, ticket)
    [note] = notes(to(first, ticket)[0])
    assert f"Ticket mesclado ao ticket {principal}" in note
    assert f"ticket do onboarding {principal}" in note
    assert (body["status"], body["justification"]) == (
        "Pendente Onboarding",
        "Cliente em onboarding",
    )
    assert to(first, principal) == []  # the onboarding ticket itself is left alone
    stored = world.sandbox.tickets[ticket]
    assert (stored.status, stored.justification) == ("Pendente Onboarding", "Cliente em onboarding")


def test_onboarding_without_a_known_ticket_asks_the_agent_to_find_it(world: World) -> None:
    first = passes(world)
    ticket = world.ticket("onboarding_unknown")
    body = only_patch(first, ticket)
    [note] = notes(to(first, ticket)[0])
    assert "localize-o e mescle" in note
    assert body["status"] == "Pendente Onboarding"


# ------------------------------------------------------------------ Bloco 1, passo 2


def test_non_payment_goes_to_finance_with_a_note(world: World) -> None:
    first = passes(world)
    ticket = world.ticket("finance_block")
    body = only_patch(first, ticket)
    [note] = notes(to(first, ticket)[0])
    assert body["ownerTeam"] == "Financeiro-Atendimento"
    assert body["owner"] == {"id": world.account.agents["patricia.lima"]}
    assert (body["status"], body["justification"]) == (
        "Pendente Financeiro",
        "Bloqueio por inadimplência",
    )
    assert "Motivo do bloqueio: Fatura de outubro em aberto há 35 dias" in note
    assert "#finan-suporte" in note


# ------------------------------------------------------------------ Bloco 1, passo 3


def test_a_newer_ticket_with_a_card_takes_this_one(world: World) -> None:
    first = passes(world)
    ticket, with_card = world.ticket("duplicate_card"), world.ticket("duplicate_card_newer")
    body = only_patch(first, ticket)
    [note] = notes(to(first, ticket)[0])
    assert body["owner"] == {"id": world.account.agents["diego.rocha"]}
    assert "status" not in body  # stays "Novo"
    assert f"({with_card})" in note
    assert "Diego Rocha" in note


def test_without_a_card_the_newer_ticket_is_merged_into_the_older(world: World) -> None:
    first = passes(world)
    ticket, older = world.ticket("duplicate_merge"), world.ticket("duplicate_merge_older")
    body = only_patch(first, ticket)
    [note] = notes(to(first, ticket)[0])
    assert f"Ticket mesclado ao ticket {older}" in note
    assert (body["status"], body["justification"]) == (
        "Pendente Suporte",
        "Ticket duplicado (mesmo assunto)",
    )


def test_the_older_ticket_of_a_pair_without_card_is_left_alone(world: World) -> None:
    first = passes(world)
    assert to(first, world.ticket("duplicate_merge_older")) == []


def test_the_ticket_with_the_card_is_left_alone(world: World) -> None:
    first = passes(world)
    assert to(first, world.ticket("duplicate_card_newer")) == []


# ------------------------------------------------------------------ Bloco 2


def test_checklists_complete_is_left_alone_incomplete_gets_one_note(world: World) -> None:
    first = passes(world)
    assert to(first, world.ticket("falha_complete")) == []
    ticket = world.ticket("checklist_incomplete")
    body = only_patch(first, ticket)
    [note] = notes(to(first, ticket)[0])
    assert "Checklist: Emissão de notas / Rejeição (correção)" in note
    assert "Descrição da análise realizada" in note
    assert "'Motivo da rejeição identificado?' sem resposta" in note
    assert "com 2 respostas" in note
    assert "status" not in body


def test_tickets_outside_the_flows_are_not_written(world: World) -> None:
    first = passes(world)
    for situation in ("onboarding_main", "ouvidoria", "ouvidoria_chat", "past"):
        assert to(first, world.ticket(situation)) == [], situation


# ------------------------------------------------------------------ cost


def org_queries(world: World) -> list[str]:
    return [
        c.query["$filter"][0]
        for c in world.sandbox.calls
        if c.method == "GET" and "organization/id" in "".join(c.query.get("$filter", []))
    ]


def orgs_in(query: str) -> set[str]:
    return set(re.findall(r"organization/id eq '(\d+)'", query))


def test_context_costs_one_batched_query_and_our_writes_keep_it_true(world: World) -> None:
    world.run()
    # One query reads the 8 organizations of the listed page together.
    [query] = org_queries(world)
    assert world.connector.context.calls == 1
    assert len(orgs_in(query)) == 8
    assert "baseStatus ne 'Closed'" in query
    call = next(c for c in world.sandbox.calls if "organization/id" in str(c.query))
    assert call.query["$top"] == ["100"]
    assert call.query["$orderby"] == ["id asc"]
    assert call.query["$select"] == ["id,subject,category,createdDate,tags,baseStatus"]
    # Our writes were applied to the cached rows instead of reading them again: the
    # merged ticket's new status, its base now unknown (never taken for one in attendance).
    merged = world.ticket("duplicate_merge")
    key = world.connector.context._orgs[str(merged)]
    [row] = [r for r in world.connector.context._cache[key].rows if r["id"] == merged]
    assert row["status"] == "Pendente Suporte"
    assert "baseStatus" not in row
    world.clock.now += timedelta(seconds=30)  # within the TTL: the echo pass reads nothing
    assert world.run() == []
    assert world.connector.context.calls == 1


def test_context_reads_page_through_many_open_tickets(
    tmp_path: Path, mock: responses.RequestsMock
) -> None:
    world = make_world(tmp_path, mock)
    ph = world.ticket("duplicate_card_newer")
    client = world.sandbox.tickets[ph].clients[0]
    for n in range(130):  # a busy customer: more open tickets than one page
        world.sandbox.add_ticket(
            f"Dúvida {n}", clients=[client], created_at=T0 - timedelta(days=40), actions=[]
        )
    world.run()
    reads = [c for c in world.sandbox.calls if "organization/id" in str(c.query)]
    assert len(reads) == 2  # the batch of 8 organizations, in two pages
    assert any("id gt " in c.query["$filter"][0] for c in reads)
    # Still the duplicate branch: the card ticket was found among 130 others.
    [note] = notes(to(world.sandbox.writes, world.ticket("duplicate_card"))[0])
    assert f"({ph})" in note


def test_without_context_settings_no_extra_call_and_no_facts(
    tmp_path: Path, mock: responses.RequestsMock
) -> None:
    world = make_world(tmp_path, mock, context_sources={})
    world.run()
    assert world.connector.context.calls == 0
    assert org_queries(world) == []
    for situation in ("finance_block", "onboarding", "duplicate_merge"):
        for write in to(world.sandbox.writes, world.ticket(situation)):  # Bloco 2 notes only
            assert "ownerTeam" not in write.body, situation
            assert "status" not in write.body, situation


# ------------------------------------------------------------------ Ouvidoria (seed 004)


class Crash(BaseException):
    """The process dies: not an ``Exception``, nothing in the engine catches it."""


def ombudsman_cases(world: World, ticket: int) -> list[int]:
    subject = f"OUVIDORIA - {ticket}"
    return [t.id for t in world.sandbox.tickets.values() if t.subject == subject]


def our_notes(world: World, ticket: int, words: str) -> list[str]:
    return [
        a.html
        for a in world.sandbox.tickets[ticket].actions
        if a.type == 1 and words in html.unescape(a.html) and "hs-ref:" in a.html
    ]


@pytest.mark.parametrize(
    "after",
    [
        pytest.param("POST", id="after-creating-the-case"),
        pytest.param("PATCH", id="after-resolving-the-ticket"),
    ],
)
def test_the_ombudsman_case_is_opened_once_also_after_a_crash(
    tmp_path: Path, mock: responses.RequestsMock, after: str
) -> None:
    world = make_world(tmp_path, mock)
    ticket = world.ticket("ouvidoria")
    crashed: list[Write] = []

    def crash(write: Write) -> None:
        # Dies right after the helpdesk took the write, before the journal commit.
        if not crashed and (write.method == "POST" or write.ticket_id == ticket):
            crashed.append(write)
            raise Crash

    world.sandbox.inject(Faults(method=after, after_write=crash))
    with pytest.raises(Crash):
        world.restart("ouvidoria").run_pass()
    assert crashed
    world.clock.now += timedelta(minutes=1)

    result = world.restart("ouvidoria").run_pass()  # the restart
    world.clock.now += timedelta(minutes=2)
    echo = world.restart("ouvidoria").run_pass()

    assert result.ok
    assert echo.ok
    assert echo.applied == 0
    [case] = ombudsman_cases(world, ticket)
    assert world.sandbox.tickets[case].owner is not None
    assert world.sandbox.tickets[case].base_status == "InAttendance"  # "Aberto"
    assert len(our_notes(world, case, f"Número do ticket resolvido: {ticket}")) == 1
    assert world.sandbox.tickets[ticket].base_status == "Resolved"
    assert len(our_notes(world, ticket, "Cliente solicitou OUVIDORIA")) == 1
    assert result.reconciled >= 1  # the write before the crash was found, not sent again
