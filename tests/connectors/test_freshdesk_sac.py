"""FreshdeskConnector on a SAC account set up the usual way: response shapes, what agents
see (requester, company, field labels, attachments on notes), child tickets across passes,
and one internal note per decision."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses

from connectors.freshdesk import FreshdeskConnector
from engine.engine import Engine
from engine.store import Store
from sandboxes.freshdesk import (
    Faults,
    SacAccount,
    SacNote,
    add_sac_ticket,
    setup_sac_account,
)
from sync.actions import AddNote, CreateChildTicket, CreateTask, Route, SetStatus
from sync.contract import Effect, EffectResult, FatalError, Outcome, RetriableError
from sync.mapping_loader import load_mapping
from sync.model import Party

from ..contract.harness import Crash, FreshdeskHarness, mocked
from .test_freshdesk import T0, FakeTime, World, loaded, refs_of


class Ticking:
    """A monotonic clock the test moves (party cache TTL)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def world(clock: FakeTime) -> Iterator[World]:
    w = World(clock)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        w.sandbox.install(mock)
        yield w


@pytest.fixture
def sac(world: World) -> SacAccount:
    return setup_sac_account(world.sandbox)


def sac_connector(world: World, **kw: Any) -> FreshdeskConnector:
    kw.setdefault("request_type_field", "cf_categoria")
    kw.setdefault("subcategory_field", "cf_subcategoria")
    return world.connector(**kw)


def ticket_on(world: World, sac: SacAccount, **kw: Any) -> int:
    kw.setdefault("subject", "Pedido veio incompleto")
    kw.setdefault("category", "Ruptura do pedido")
    kw.setdefault("customer", "mercadinho")
    kw.setdefault("at", T0 - timedelta(hours=1))
    return add_sac_ticket(world.sandbox, sac, **kw)


def gets(world: World, prefix: str) -> list[str]:
    return [c.path for c in world.sandbox.calls if c.method == "GET" and c.path.startswith(prefix)]


# ------------------------------------------------------------------ child tickets (bug 1)


@pytest.mark.parametrize("ticket_attachments", [True, False], ids=["view", "list-row"])
def test_a_ticket_that_got_a_child_loads_on_a_later_pass_and_its_child_is_found(
    world: World, sac: SacAccount, ticket_attachments: bool
) -> None:
    parent = ticket_on(world, sac, category="Cadastro")
    first = sac_connector(world, ticket_attachments=ticket_attachments)
    effect = Effect("ch1", CreateChildTicket("Distribuidor X", "Aprovar cadastro"))
    [receipt] = first.write_ticket(loaded(first, parent), [effect])
    child = int(receipt.remote_id or 0)
    world.clock.now += timedelta(minutes=5)

    later = sac_connector(world, ticket_attachments=ticket_attachments)  # a later pass
    again = loaded(later, parent)

    assert again.context.facts == {"child_answered": False, "children": 1}
    assert later.find_applied(again, effect) == EffectResult.already_there("ch1", str(child))
    assert later.find_applied(again, Effect("ch2", CreateChildTicket("Outro", "d"))) is None
    world.sandbox.tickets[child].status = 4  # the distributor answered
    assert loaded(later, parent).context.facts == {"child_answered": True, "children": 1}


def test_find_applied_on_a_ticket_without_children_reads_only_its_view(
    world: World, sac: SacAccount
) -> None:
    ticket = ticket_on(world, sac)
    connector = sac_connector(world)
    item = loaded(connector, ticket)
    before = len(world.sandbox.calls)
    assert connector.find_applied(item, Effect("ch1", CreateChildTicket("s", "d"))) is None
    assert [c.path for c in world.sandbox.calls[before:]] == [f"/api/v2/tickets/{ticket}"]
    assert gets(world, f"/api/v2/tickets/{ticket}/associated_tickets") == []


def test_associated_tickets_in_an_undocumented_shape_is_a_clear_error(
    world: World, sac: SacAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = ticket_on(world, sac)
    world.sandbox.add_ticket("child", parent_id=parent)
    bare = world.sandbox._associated

    def bare_list(ticket_id: int, query: Any) -> tuple[int, Any, dict[str, str]]:
        status, body, headers = bare(ticket_id, query)
        return status, body["tickets"], headers  # the shape the old code assumed

    monkeypatch.setattr(world.sandbox, "_associated", bare_list)
    with pytest.raises(FatalError) as info:
        loaded(sac_connector(world), parent)
    assert "associated_tickets: expected an object holding a 'tickets' list" in str(info.value)
    assert "got list" in str(info.value)


# ------------------------------------------------------------------ what agents see (2)


@pytest.mark.parametrize("ticket_attachments", [True, False], ids=["view", "list-row"])
def test_requester_company_labels_and_attachments_on_notes(
    world: World, sac: SacAccount, ticket_attachments: bool
) -> None:
    ticket = ticket_on(
        world,
        sac,
        fields={"cf_numero_do_pedido": "100045872", "cf_forma_de_pagamento": "Pix"},
        notes=(
            SacNote(
                "<p>Op&ccedil;&atilde;o de estorno: reembolso</p>",
                (("print.png", "application/octet-stream"),),
            ),
        ),
        attachments=[("pedido.pdf", "application/pdf")],
    )
    result = loaded(sac_connector(world, ticket_attachments=ticket_attachments), ticket).ticket

    assert result.requester == Party(
        name="Joana Pereira",
        email="joana@mercadinhoboavista.com.br",
        document=None,
        phone="(81) 99876-5432",
    )
    assert result.organization == Party(
        name="Mercadinho Boa Vista Ltda", document="11.222.333/0001-81"
    )
    assert result.fields["cf_numero_do_pedido"] == "100045872"
    assert result.fields["cf_forma_de_pagamento"] == "Pix"
    assert result.request_type == "Ruptura do pedido"
    assert {k: result.field_labels[k] for k in ("cf_cnpj", "cf_numero_do_pedido", "type")} == {
        "cf_cnpj": "CNPJ",
        "cf_numero_do_pedido": "Número do pedido",
        "type": "Type",
    }
    assert result.field_labels["cf_distribuidor"] == "Distribuidor"
    assert result.field_labels["cf_forma_de_pagamento"] == "Forma de pagamento"
    note = world.sandbox.conversations[ticket][0]
    on_note = [(a.name, a.content_type, a.comment_id) for a in result.attachments]
    expected = [("print.png", "application/octet-stream", str(note["id"]))]
    if ticket_attachments:  # the ticket's own attachments come with the view only
        expected.insert(0, ("pedido.pdf", "application/pdf", None))
    assert on_note == expected
    assert result.comments[0].body == "<p>Op&ccedil;&atilde;o de estorno: reembolso</p>"


def test_list_rows_carry_the_requester_so_no_contact_is_read(world: World, sac: SacAccount) -> None:
    ids = [
        ticket_on(world, sac, customer=c, at=T0 - timedelta(minutes=30 - i))
        for i, c in enumerate(["mercadinho", "atacarejo", "avulso", "mercadinho"])
    ]
    connector = sac_connector(world, ticket_attachments=False)
    refs = refs_of(connector)
    lists = [c for c in world.sandbox.calls if c.path == "/api/v2/tickets"]
    assert {tuple(c.query["include"]) for c in lists} == {("requester",)}
    assert [c.credits for c in lists] == [3]  # +2 credits per page of 100, not per ticket
    before = len(world.sandbox.calls)
    people = [connector.load(r).ticket for r in refs if int(r.id) in ids]
    paths = [c.path for c in world.sandbox.calls[before:]]
    assert [p.requester.name if p.requester else None for p in people] == [
        "Joana Pereira",
        "Marcos Albuquerque",
        "Carlos Andrade",
        "Joana Pereira",
    ]
    assert [p.organization.document if p.organization else None for p in people] == [
        "11.222.333/0001-81",
        "45.723.174/0001-10",
        None,
        "11.222.333/0001-81",
    ]
    assert [p for p in paths if p.startswith("/api/v2/contacts")] == []
    # one read per company, not per ticket
    assert sorted(p for p in paths if p.startswith("/api/v2/companies")) == sorted(
        f"/api/v2/companies/{sac.companies[k]}" for k in ("mercadinho", "atacarejo")
    )
    assert len([p for p in paths if p.startswith("/api/v2/tickets/")]) == 4  # conversations


def test_company_reads_are_cached_for_a_while_then_refreshed(world: World, sac: SacAccount) -> None:
    first, second = (ticket_on(world, sac, subject=f"t{i}") for i in range(2))
    ticking = Ticking()
    connector = sac_connector(world, party_ttl=600, monotonic=ticking)
    company = f"/api/v2/companies/{sac.companies['mercadinho']}"
    loaded(connector, first)
    loaded(connector, second)
    assert gets(world, company) == [company]
    world.sandbox.companies[sac.companies["mercadinho"]]["custom_fields"]["cnpj"] = (
        "45.723.174/0001-10"  # an agent corrects the company's CNPJ
    )
    ticking.now += 601
    organization = loaded(connector, first).ticket.organization
    assert organization is not None
    assert organization.document == "45.723.174/0001-10"
    assert gets(world, company) == [company, company]


def test_a_contact_document_field_is_read_once_per_contact(world: World, sac: SacAccount) -> None:
    world.sandbox.add_contact_field("cpf_cnpj", "CPF/CNPJ")  # contact fields carry no cf_
    person = world.sandbox.add_contact(
        "Rita Souza", None, mobile="(21) 98888-7777", custom_fields={"cpf_cnpj": "529.982.247-25"}
    )
    tickets = [
        world.sandbox.add_ticket(f"t{i}", requester_id=person, updated_at=T0 - timedelta(minutes=i))
        for i in range(3)
    ]
    connector = sac_connector(world, document_fields=("cf_cpf_cnpj",))
    for ticket in tickets:
        requester = loaded(connector, ticket).ticket.requester
        assert requester == Party(
            name="Rita Souza", document="529.982.247-25", phone="(21) 98888-7777"
        )
    assert gets(world, "/api/v2/contacts/") == [f"/api/v2/contacts/{person}"]
    assert gets(world, "/api/v2/contact_fields") == ["/api/v2/contact_fields"]


@pytest.mark.parametrize("status", [403, 404])
def test_a_company_that_cannot_be_read_leaves_the_organization_out(
    world: World, sac: SacAccount, status: int
) -> None:
    ticket = ticket_on(world, sac)
    world.sandbox.inject(Faults(path=r"/companies/", server_errors=1, server_error_status=status))
    result = loaded(sac_connector(world), ticket).ticket
    assert result.organization is None
    assert result.requester is not None


def test_a_ticket_in_an_undocumented_shape_is_a_clear_error(
    world: World, sac: SacAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = ticket_on(world, sac)
    monkeypatch.setattr(world.sandbox, "_ticket_fields", lambda query: (200, {"fields": []}, {}))
    with pytest.raises(FatalError, match=r"GET /api/v2/ticket_fields: expected a list"):
        loaded(sac_connector(world), ticket)


# ------------------------------------------------------------------ one note per decision (3)


def test_notes_and_tasks_of_one_decision_are_one_private_note(
    world: World, sac: SacAccount
) -> None:
    ticket = ticket_on(world, sac)
    connector = sac_connector(world, task_due_field="cf_prazo_tarefa")
    item = loaded(connector, ticket)
    due = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)  # 22/11 23:30 in São Paulo
    batch = [
        Effect("r1", Route(group="Financeiro")),
        Effect("n1", AddNote("Escalonado para o <Financeiro>")),
        Effect("t1", CreateTask("Acompanhar o reembolso", due, owner="Ana Souza")),
        Effect("s1", SetStatus("Pending")),
        Effect("n2", AddNote("Segunda nota")),
    ]
    receipts = connector.write_ticket(item, batch)

    put, note = world.sandbox.writes
    assert (put.method, put.path) == ("PUT", f"/api/v2/tickets/{ticket}")
    assert put.body == {
        "group_id": sac.groups["Financeiro"],
        "status": 3,
        "custom_fields": {"cf_prazo_tarefa": "2026-11-22"},
    }
    assert (note.method, note.path) == ("POST", f"/api/v2/tickets/{ticket}/notes")
    assert note.body == {
        "body": "<div>Escalonado para o &lt;Financeiro&gt;</div>"
        "<div>Segunda nota</div>"
        "<div>Tarefa de acompanhamento: Acompanhar o reembolso — prazo 22/11/2026 23:30 "
        "(America/Sao_Paulo)<br>Responsável: Ana Souza</div>"
        "<p>— helpdesk-sync hs-ref:n1 hs-ref:n2 hs-ref:t1</p>",
        "private": True,
    }
    note_id = str(world.sandbox.conversations[ticket][-1]["id"])
    assert receipts == [
        EffectResult.applied("r1", str(ticket)),
        EffectResult.applied("n1", note_id),
        EffectResult.applied("t1", note_id),
        EffectResult.applied("s1", str(ticket)),
        EffectResult.applied("n2", note_id),
    ]
    again = loaded(sac_connector(world), ticket)
    for effect in batch[1:3] + batch[4:]:
        found = sac_connector(world).find_applied(again, effect)
        assert found == EffectResult.already_there(effect.key, note_id)


def test_a_failed_note_keeps_the_results_of_what_was_written(
    world: World, sac: SacAccount
) -> None:
    ticket = ticket_on(world, sac)
    connector = sac_connector(world)
    item = loaded(connector, ticket)
    world.sandbox.inject(Faults(path=r"/notes$", server_errors=10))
    batch = [
        Effect("r1", Route(group="KA")),
        Effect("n1", AddNote("a")),
        Effect("t1", CreateTask("b", T0 + timedelta(days=1))),
    ]
    results = connector.write_ticket(item, batch)
    assert results[0] == EffectResult.applied("r1", str(ticket))
    assert [(r.key, r.outcome) for r in results[1:]] == [
        ("n1", Outcome.REJECTED),  # the note carried both: its call failed
        ("t1", Outcome.REJECTED),
    ]
    assert isinstance(results[1].error, RetriableError)
    assert [w.method for w in world.sandbox.writes] == ["PUT"]
    assert len([c for c in world.sandbox.calls if c.path.endswith("/notes")]) == 1  # no retry


# ------------------------------------------------------------------ engine, per pass (3)

STYLES = ["notes", "sac-fields", "type"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'state.sqlite'}") as opened:
        yield opened


def run(h: FreshdeskHarness, store: Store) -> Any:
    engine = Engine(
        h.connector(),
        load_mapping(h.mapping),
        store,
        clock=h.clock,
        initial_lookback=timedelta(days=2),
    )
    return engine.run_pass()


def writes_on(h: FreshdeskHarness, ticket: str) -> list[tuple[str, str]]:
    return [
        (w.method, w.path)
        for w in h.sandbox.writes
        if re.search(rf"/tickets/{ticket}(/notes)?$", w.path)
    ]


@pytest.mark.parametrize("style", STYLES)
def test_a_routed_ticket_gets_one_update_and_one_note_per_pass(store: Store, style: str) -> None:
    with mocked() as rsps:
        h = FreshdeskHarness(rsps, style=style)
        ticket = h.complete_ticket(0)  # Problemas no Site: route KA + status + note + task
        h.clock.advance(minutes=1)
        first = run(h, store)
        report = next(t for t in first.tickets if t.ticket_id == ticket)
        assert sorted(report.planned) == ["add_note", "create_task", "route", "set_status"]
        assert writes_on(h, ticket) == [
            ("PUT", f"/api/v2/tickets/{ticket}"),
            ("POST", f"/api/v2/tickets/{ticket}/notes"),
        ]
        [body] = h.notes_on(ticket)
        keys = re.findall(r"hs-ref:([0-9a-f]{32})", body)
        noted = {e.key for e in store.all_effects() if e.kind in ("add_note", "create_task")}
        assert set(keys) == noted
        assert len(keys) == 2
        h.clock.advance(minutes=2)
        second = run(h, store)  # the echo of our own writes
        assert second.applied == 0
        assert len(writes_on(h, ticket)) == 2


@pytest.mark.parametrize("style", STYLES)
def test_a_crash_between_the_note_and_the_journal_writes_nothing_new(
    store: Store, style: str
) -> None:
    with mocked() as rsps:
        h = FreshdeskHarness(rsps, style=style)
        ticket = h.complete_ticket(0)
        h.clock.advance(minutes=1)
        h.crash_after("POST", rf"/tickets/{ticket}/notes$")
        with pytest.raises(Crash):
            run(h, store)
        written = writes_on(h, ticket)
        assert [m for m, _ in written] == ["PUT", "POST"]
        h.clock.advance(minutes=1)
        restart = run(h, store)
        assert restart.ok
        assert writes_on(h, ticket) == written  # nothing new: both found by their markers
        assert all(n == 1 for n in h.markers().values())
        states = {e.kind: e.state for e in store.all_effects()}
        assert states == {
            "route": "confirmed",
            "set_status": "confirmed",
            "add_note": "confirmed",
            "create_task": "confirmed",
        }
