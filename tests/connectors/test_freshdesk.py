"""FreshdeskConnector against the sandbox (through ``responses``), plus the HTTP plumbing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import responses

from connectors._http import HttpClient, RateBudget, RetryPolicy, api_error, parse_retry_after
from connectors.freshdesk import FreshdeskConnector
from sandboxes.freshdesk import (
    DEFAULT_BASE_URL,
    Faults,
    FreshdeskSandbox,
    Write,
)
from sync.actions import (
    AddNote,
    CreateChildTicket,
    CreateTask,
    CreateTicket,
    MarkCritical,
    Merge,
    Resolve,
    Route,
    SetPriority,
    SetStatus,
)
from sync.contract import (
    AuthError,
    Connector,
    DatetimeCursor,
    Effect,
    EffectResult,
    FatalError,
    Loaded,
    Outcome,
    RetriableError,
    TicketRef,
)
from sync.effects import marker

T0 = datetime(2026, 11, 19, 12, 0, 0, tzinfo=UTC)
SINCE = T0 - timedelta(days=1)
SECRET = "sk-live-0123456789abcdef"


class FakeTime:
    """One fake clock for sandbox, retries and rate budget; ``sleep`` records and advances."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


class World:
    """A sandbox installed in ``responses`` and a connector talking to it."""

    def __init__(self, clock: FakeTime, **sandbox_kw: Any) -> None:
        self.clock = clock
        self.sandbox = FreshdeskSandbox(clock=clock, sleep=clock.sleep, **sandbox_kw)

    def connector(self, *, budget: RateBudget | None = None, **kw: Any) -> FreshdeskConnector:
        http = HttpClient(
            "freshdesk",
            DEFAULT_BASE_URL,
            sleep=self.clock.sleep,
            jitter=lambda delay: 0.0,
            now=self.clock,
            budget=budget,
        )
        kw.setdefault("api_key", self.sandbox.api_key)
        return FreshdeskConnector("sac", DEFAULT_BASE_URL, http=http, **kw)

    def calls(self, method: str, pattern: str = "") -> list[str]:
        return [c.path for c in self.sandbox.calls if c.method == method and pattern in c.path]


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
def account(world: World) -> dict[str, int]:
    """Groups, agents, fields and one ticket (with notes and attachments) in the sandbox."""
    sb = world.sandbox
    ids = {
        "sac": sb.add_group("SAC"),
        "financeiro": sb.add_group("Financeiro"),
        "distribuidores": sb.add_group("Distribuidores"),
        "ana": sb.add_agent("Ana Souza", "ana.souza@example.com"),
        "bruno": sb.add_agent("Bruno Lima", "bruno.lima@example.com"),
        "waiting": sb.add_custom_status("Aguardando cliente"),
    }
    sb.add_custom_field("cf_categoria", "Categoria")
    sb.add_custom_field("cf_subcategoria", "Subcategoria")
    sb.add_custom_field("cf_prazo_tarefa", "Prazo", type="custom_date")
    ticket = sb.add_ticket(
        "Pedido incompleto",
        status=ids["waiting"],
        group_id=ids["sac"],
        responder_id=ids["ana"],
        custom_fields={"cf_categoria": "Pedidos", "cf_subcategoria": "Ruptura do pedido"},
        created_at=T0 - timedelta(hours=3),
        tags=["vip"],
        type="Question",
        attachments=[("pedido.pdf", "application/pdf")],
    )
    sb.add_note(
        ticket,
        "<p>Pedido: 123</p>",
        private=True,
        user_id=ids["ana"],
        created_at=T0 - timedelta(hours=2),
        attachments=[("print.png", "image/png")],
    )
    sb.add_note(
        ticket, "<p>Obrigado</p>", private=False, source=0, created_at=T0 - timedelta(hours=1)
    )
    ids["ticket"] = ticket
    return ids


def refs_of(connector: FreshdeskConnector) -> list[TicketRef]:
    return list(connector.changed_since(SINCE))


def loaded(connector: FreshdeskConnector, ticket_id: int) -> Loaded:
    ref = next(r for r in refs_of(connector) if r.id == str(ticket_id))
    return connector.load(ref)


def effects(*actions: Any) -> list[Effect]:
    return [Effect(f"key{i}", action) for i, action in enumerate(actions)]


# ------------------------------------------------------------------ contract, check


def test_it_is_a_connector(world: World) -> None:
    connector = world.connector()
    assert isinstance(connector, Connector)
    assert connector.kind == "freshdesk"
    assert connector.name == "sac"


def test_check_names_the_domain_and_a_masked_agent(world: World) -> None:
    assert world.connector().check() == "freshdesk sandbox as a***@s***.example"
    assert world.calls("GET") == ["/api/v2/agents/me"]


def test_check_with_a_wrong_key_is_an_auth_error(world: World) -> None:
    with pytest.raises(AuthError) as info:
        world.connector(api_key=SECRET).check()
    assert info.value.status == 401
    assert "You have to be logged in" in str(info.value)


# ------------------------------------------------------------------ changed_since


def test_changed_since_sends_utc_z_and_keeps_the_window_fixed(world: World) -> None:
    for i in range(12):
        world.sandbox.add_ticket(f"t{i}", updated_at=T0 + timedelta(seconds=i))
    since = datetime(2026, 11, 18, 9, 0, 0, 500_000, tzinfo=UTC).astimezone()  # local offset
    refs = list(world.connector(per_page=5).changed_since(since))
    assert [r.id for r in refs] == [str(i) for i in range(1, 13)]
    assert refs[0].version == "2026-11-19T12:00:00Z"
    assert DatetimeCursor.decode(refs[0].cursor) == T0
    lists = [c for c in world.sandbox.calls if c.path == "/api/v2/tickets"]
    assert len(lists) == 3
    for call in lists:
        assert call.query["updated_since"] == ["2026-11-18T09:00:00Z"]
        assert call.query["order_by"] == ["updated_at"]
        assert call.query["order_type"] == ["asc"]
    assert world.calls("GET", "/conversations") == []  # listing loads nothing more


def test_changed_since_stops_at_until(world: World) -> None:
    for i in range(6):
        world.sandbox.add_ticket(f"t{i}", updated_at=T0 + timedelta(minutes=i))
    refs = list(world.connector().changed_since(SINCE, T0 + timedelta(minutes=3)))
    stamps = [DatetimeCursor.decode(r.cursor) for r in refs]
    assert stamps == [T0 + timedelta(minutes=i) for i in range(3)]


@pytest.mark.parametrize("seed", range(6))
def test_many_tickets_sharing_one_second_are_all_seen_despite_shuffled_ties(
    clock: FakeTime, seed: int
) -> None:
    world = World(clock, shuffle_ties=True, seed=seed)
    created = [world.sandbox.add_ticket(f"t{i}", updated_at=T0) for i in range(13)]
    created.append(world.sandbox.add_ticket("later", updated_at=T0 + timedelta(seconds=1)))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        world.sandbox.install(mock)
        refs = list(world.connector(per_page=5).changed_since(SINCE))
    assert {r.id for r in refs} == {str(i) for i in created}
    assert len(refs) == len(created)  # each once
    assert refs[-1].id == str(created[-1])  # stamp order kept


@pytest.mark.parametrize("seed", range(6))
def test_backlog_beyond_the_page_cap_misses_nothing(clock: FakeTime, seed: int) -> None:
    world = World(clock, shuffle_ties=True, seed=seed, page_cap=3)
    created = [
        world.sandbox.add_ticket(f"t{i}", updated_at=T0 + timedelta(seconds=i // 3))
        for i in range(40)
    ]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        world.sandbox.install(mock)
        refs = list(world.connector(per_page=5, page_cap=3).changed_since(SINCE))
    assert {r.id for r in refs} == {str(i) for i in created}
    stamps = [DatetimeCursor.decode(r.cursor) for r in refs]
    assert stamps == sorted(stamps)
    assert all(c.status == 200 for c in world.sandbox.calls)  # never asked for page 4
    windows = {c.query["updated_since"][0] for c in world.sandbox.calls}
    assert len(windows) > 1


def test_a_single_second_larger_than_the_cap_is_a_clear_error(clock: FakeTime) -> None:
    world = World(clock, page_cap=3)
    for i in range(16):
        world.sandbox.add_ticket(f"t{i}", updated_at=T0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        world.sandbox.install(mock)
        seen: list[TicketRef] = []
        with pytest.raises(
            FatalError, match=r"more than 15 tickets share updated_at 2026-11-19T12:00:00Z"
        ):
            seen.extend(world.connector(per_page=5, page_cap=3).changed_since(SINCE))
    assert len(seen) == 15


# ------------------------------------------------------------------ load


def test_load_builds_the_normalized_ticket(world: World, account: dict[str, int]) -> None:
    connector = world.connector(
        request_type_field="cf_categoria", subcategory_field="cf_subcategoria"
    )
    ticket = loaded(connector, account["ticket"]).ticket
    assert ticket.id == ticket.number == str(account["ticket"])
    assert ticket.source == "freshdesk"
    assert ticket.request_type == "Pedidos > Ruptura do pedido"
    assert ticket.subject == "Pedido incompleto"
    assert ticket.status == "Aguardando cliente"
    assert ticket.owner == "Ana Souza"
    assert ticket.queue == "SAC"
    assert ticket.fields["cf_categoria"] == "Pedidos"
    assert ticket.fields["type"] == "Question"
    assert ticket.fields["priority"] == "Low"
    assert ticket.fields["tags"] == ["vip"]
    assert [(c.body, c.internal, c.author) for c in ticket.comments] == [
        ("<p>Pedido: 123</p>", True, "Ana Souza"),
        ("<p>Obrigado</p>", False, "Sandbox Admin"),
    ]
    assert [(a.name, a.content_type) for a in ticket.attachments] == [
        ("pedido.pdf", "application/pdf"),
        ("print.png", "image/png"),
    ]
    assert ticket.created_at == T0 - timedelta(hours=3)


def test_request_type_from_the_type_field(world: World, account: dict[str, int]) -> None:
    assert loaded(world.connector(), account["ticket"]).ticket.request_type == "Question"


def test_load_costs_one_call_per_ticket_once_names_are_cached(world: World) -> None:
    group = world.sandbox.add_group("SAC")
    for i in range(20):
        ticket = world.sandbox.add_ticket(
            f"t{i}", group_id=group, updated_at=T0 + timedelta(seconds=i)
        )
        world.sandbox.add_note(ticket, "<p>x</p>", created_at=T0 + timedelta(seconds=i), bump=False)
    connector = world.connector()
    refs = refs_of(connector)
    before = len(world.sandbox.calls)
    for ref in refs:
        connector.load(ref)
    paths = [c.path for c in world.sandbox.calls[before:]]
    lookups = [p for p in paths if "/tickets" not in p]
    assert sorted(lookups) == [
        "/api/v2/agents",
        "/api/v2/contact_fields",  # no document field on contacts: no contact is read
        "/api/v2/groups",
        "/api/v2/ticket_fields",  # statuses and field labels in one call
    ]
    assert len(paths) - len(lookups) == 20  # one view (include=conversations) per ticket
    views = [c for c in world.sandbox.calls[before:] if "/tickets/" in c.path]
    # the requester came with the list rows (include=requester), not with each view
    assert {tuple(c.query["include"]) for c in views} == {("conversations",)}


def test_list_row_mode_reuses_the_row_and_reads_only_conversations(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector(ticket_attachments=False)
    ref = next(r for r in refs_of(connector) if r.id == str(account["ticket"]))
    connector.load(ref)
    ticket_calls = [c.path for c in world.sandbox.calls if "/tickets/" in c.path]
    assert ticket_calls == [f"/api/v2/tickets/{account['ticket']}/conversations"]


def test_more_than_ten_conversations_are_read_in_full(world: World) -> None:
    ticket = world.sandbox.add_ticket("chatty")
    for i in range(12):
        world.sandbox.add_note(ticket, f"<p>n{i}</p>", created_at=T0 + timedelta(minutes=i))
    result = loaded(world.connector(), ticket).ticket
    assert [c.body for c in result.comments] == [f"<p>n{i}</p>" for i in range(12)]


# ------------------------------------------------------------------ apply


def test_field_effects_share_exactly_one_put(world: World, account: dict[str, int]) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    batch = effects(
        Route(group="financeiro", owner="bruno.lima@example.com"),
        SetStatus("Pending"),
        SetPriority("Alta"),
    )
    receipts = connector.write_ticket(item, batch)
    assert receipts == [EffectResult.applied(e.key, str(account["ticket"])) for e in batch]
    assert [(w.method, w.body) for w in world.sandbox.writes] == [
        (
            "PUT",
            {
                "group_id": account["financeiro"],
                "responder_id": account["bruno"],
                "status": 3,
                "priority": 3,
            },
        )
    ]
    assert len(world.calls("PUT")) == 1


def test_statuses_match_labels_accent_insensitively_and_english_defaults(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    assert connector.status_id("AGUARDANDO CLIENTE") == account["waiting"]
    assert connector.status_id("resolved") == 4
    assert connector.status_id("Pendente") == 3
    assert connector.priority_id("Média") == 2
    assert connector.priority_id("urgent") == 4
    with pytest.raises(
        FatalError, match="unknown status 'Sumido'; known: Aguardando cliente, Closed"
    ):
        connector.status_id("Sumido")


def test_mark_critical_is_urgent_plus_a_tag_and_resolve_is_status_4(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    connector.write_ticket(item, effects(MarkCritical("reclamação no Procon"), Resolve()))
    assert world.sandbox.writes[-1].body == {"priority": 4, "tags": ["vip", "critico"], "status": 4}


def test_add_note_escapes_html_and_carries_the_marker(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    note_effect = Effect("abc123", AddNote("CPF <b>x</b> & co\nlinha 2"))
    [receipt] = connector.write_ticket(item, [note_effect])
    [write] = world.sandbox.writes
    assert write.path == f"/api/v2/tickets/{account['ticket']}/notes"
    assert write.body == {
        "body": "<div>CPF &lt;b&gt;x&lt;/b&gt; &amp; co<br>linha 2</div>"
        "<p>— helpdesk-sync hs-ref:abc123</p>",
        "private": True,
    }
    note = world.sandbox.conversations[account["ticket"]][-1]
    assert receipt == EffectResult.applied("abc123", str(note["id"]))
    assert marker("abc123") in note["body_text"]  # survives as plain text too


def test_task_is_a_private_note_and_sets_the_due_field_in_the_put(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector(task_due_field="cf_prazo_tarefa")
    item = loaded(connector, account["ticket"])
    due = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)  # 22/11 23:30 in São Paulo
    batch = [
        Effect("t1", CreateTask("Ligar para o cliente", due, owner="Ana Souza")),
        Effect("s1", SetStatus("Pending")),
    ]
    receipts = connector.write_ticket(item, batch)
    put, note = world.sandbox.writes
    assert (put.method, put.body) == (
        "PUT",
        {"status": 3, "custom_fields": {"cf_prazo_tarefa": "2026-11-22"}},
    )
    assert note.body["body"].startswith(
        "<div>Tarefa de acompanhamento: Ligar para o cliente — prazo 22/11/2026 23:30 "
        "(America/Sao_Paulo)<br>Responsável: Ana Souza</div>"
    )
    assert marker("t1") in note.body["body"]
    assert [r.key for r in receipts] == ["t1", "s1"]


def test_create_child_ticket_sends_parent_status_priority(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    action = CreateChildTicket("Distribuidor X", "Cliente <ACME>", group="Distribuidores")
    [receipt] = connector.write_ticket(item, [Effect("c1", action)])
    [write] = world.sandbox.writes
    assert write.body == {
        "subject": "Distribuidor X",
        "description": "<div>Cliente &lt;ACME&gt;</div><p>— helpdesk-sync hs-ref:c1</p>",
        "status": 2,
        "priority": 1,
        "group_id": account["distribuidores"],
        "requester_id": world.sandbox.default_requester,
        "parent_id": account["ticket"],
    }
    assert world.sandbox.tickets[int(receipt.remote_id or 0)].parent_id == account["ticket"]


def test_child_ticket_for_another_requester(world: World, account: dict[str, int]) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    action = CreateChildTicket("s", "d", requester_email="dist@example.com")
    connector.write_ticket(item, [Effect("c2", action)])
    assert world.sandbox.writes[-1].body["email"] == "dist@example.com"
    assert "requester_id" not in world.sandbox.writes[-1].body


def test_create_ticket_with_internal_note_and_find_it_again(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    effect = Effect(
        "o1", CreateTicket("Ouvidoria", "Relato", status="Open", internal_note="Ver SAC")
    )
    assert connector.find_applied(item, effect) is None
    [receipt] = connector.write_ticket(item, [effect])
    created = world.sandbox.tickets[int(receipt.remote_id or 0)]
    assert created.parent_id is None
    assert marker("o1") in world.sandbox.conversations[created.id][0]["body"]
    found = connector.find_applied(item, effect)
    assert found == EffectResult.already_there("o1", receipt.remote_id)


def test_merge_sends_primary_and_both_ids(world: World, account: dict[str, int]) -> None:
    primary = world.sandbox.add_ticket("older")
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    effect = Effect("m1", Merge(into=str(primary), note="Duplicado"))
    assert connector.find_applied(item, effect) is None
    [receipt] = connector.write_ticket(item, [effect])
    write = world.sandbox.writes[-1]
    assert (write.method, write.path) == ("PUT", "/api/v2/tickets/merge")
    assert write.body["primary_id"] == primary
    assert write.body["ticket_ids"] == [primary, account["ticket"]]
    assert write.body["note_in_primary"]["private"] is True
    assert receipt.remote_id == str(primary)
    assert world.sandbox.tickets[account["ticket"]].status == 5
    assert connector.find_applied(item, effect) == EffectResult.already_there("m1", str(primary))


def test_unknown_group_is_fatal_lists_known_groups_and_writes_nothing(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    with pytest.raises(FatalError) as info:
        connector.write_ticket(item, effects(AddNote("x"), Route(group="Jurídico")))
    assert "unknown group 'Jurídico'; known: Distribuidores, Financeiro, SAC" in str(info.value)
    assert world.sandbox.writes == []
    assert world.calls("GET", "/groups") == ["/api/v2/groups", "/api/v2/groups"]  # refreshed once


def test_an_error_midway_keeps_the_results_done(world: World, account: dict[str, int]) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    batch = effects(AddNote("first"), Merge(into="9999"))
    results = connector.write_ticket(item, batch)
    assert [(r.key, r.outcome) for r in results] == [
        ("key0", Outcome.APPLIED),
        ("key1", Outcome.REJECTED),
    ]
    assert isinstance(results[1].error, FatalError)
    assert results[1].error.status == 404


def test_a_400_is_not_retried_and_names_ticket_and_api_message(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    connector.status_id("Aguardando cliente")  # cached, then an admin deletes the status
    del world.sandbox.statuses[account["waiting"]]
    [result] = connector.write_ticket(item, effects(SetStatus("Aguardando cliente")))
    assert isinstance(result.error, FatalError)
    text = str(result.reason)
    assert text.startswith(
        f"freshdesk ticket {account['ticket']}: 400 Validation failed: status: "
        "It should be one of these values: '2,3,4,5'"
    )
    assert str(result.error.request_id).startswith("sbx-")
    assert len(world.calls("PUT")) == 1
    assert world.clock.sleeps == []


# ------------------------------------------------------------------ retries and rate limits


def test_429_with_retry_after_is_honoured_and_the_pass_continues(world: World) -> None:
    for i in range(3):
        world.sandbox.add_ticket(f"t{i}", updated_at=T0 + timedelta(seconds=i))
    world.sandbox.inject(
        Faults(rate_limited=1, retry_after=7, path=r"/conversations$|/tickets/\d+$")
    )
    connector = world.connector()
    loaded_ids = [connector.load(ref).ticket.id for ref in refs_of(connector)]
    assert loaded_ids == ["1", "2", "3"]
    assert world.clock.sleeps == [7.0]


def test_429_on_a_note_post_is_retried_it_was_never_processed(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    world.sandbox.inject(Faults(rate_limited=2, retry_after=3, method="POST"))
    connector.write_ticket(item, effects(AddNote("x")))
    assert len(world.sandbox.writes) == 1
    assert world.clock.sleeps == [3.0, 3.0]


def test_5xx_burst_is_retried_with_exponential_backoff(world: World) -> None:
    world.sandbox.add_ticket("t")
    world.sandbox.inject(Faults(server_errors=3, server_error_status=502))
    assert len(refs_of(world.connector())) == 1
    assert world.clock.sleeps == [1.0, 2.0, 4.0]


def test_5xx_beyond_the_attempts_is_retriable_for_the_engine(world: World) -> None:
    world.sandbox.inject(Faults(server_errors=10, server_error_status=503))
    with pytest.raises(RetriableError) as info:
        world.connector().check()
    assert info.value.status == 503
    assert "503 Service Unavailable" in str(info.value)
    assert len(world.sandbox.calls) == 5


def test_timeouts_on_reads_are_retried(world: World) -> None:
    world.sandbox.add_ticket("t")
    world.sandbox.inject(Faults(timeouts=2, dropped=1))
    assert len(refs_of(world.connector())) == 1
    assert world.clock.sleeps == [1.0, 2.0, 4.0]


def test_a_note_whose_answer_is_lost_is_not_resent_but_found(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    world.sandbox.inject(Faults(dropped_after_write=1))
    effect = Effect("lost1", AddNote("nota"))
    [result] = connector.write_ticket(item, [effect])
    assert result.outcome is Outcome.REJECTED
    assert isinstance(result.error, RetriableError)
    assert len(world.sandbox.writes) == 1  # not retried: a retry would duplicate the note
    again = loaded(connector, account["ticket"])
    found = connector.find_applied(again, effect)
    note = world.sandbox.conversations[account["ticket"]][-1]
    assert found == EffectResult.already_there("lost1", str(note["id"]))


def test_put_is_retried_on_a_timeout_it_is_idempotent(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    world.sandbox.inject(Faults(dropped_after_write=1))
    connector.write_ticket(item, effects(SetStatus("Pending")))
    assert [w.method for w in world.sandbox.writes] == ["PUT", "PUT"]
    assert world.sandbox.tickets[account["ticket"]].status == 3


def test_rate_budget_paces_a_long_run_to_zero_429(clock: FakeTime) -> None:
    world = World(clock, plan="growth")  # 200 credits per minute
    for i in range(150):
        world.sandbox.add_ticket(f"t{i}", updated_at=T0 - timedelta(hours=1) + timedelta(seconds=i))
    budget = RateBudget(clock=clock.monotonic, sleep=clock.sleep)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        world.sandbox.install(mock)
        connector = world.connector(budget=budget)
        for ref in refs_of(connector):
            connector.load(ref)  # 2 credits each
    assert [c for c in world.sandbox.calls if c.status == 429] == []
    assert budget.waited > 0
    assert sum(c.credits for c in world.sandbox.calls) > 200
    assert clock.sleeps
    assert all(0 < s <= 60 for s in clock.sleeps)


def test_without_the_budget_the_same_run_meets_429(clock: FakeTime) -> None:
    world = World(clock, plan="growth")
    for i in range(150):
        world.sandbox.add_ticket(f"t{i}", updated_at=T0 - timedelta(hours=1) + timedelta(seconds=i))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        world.sandbox.install(mock)
        connector = world.connector()
        for ref in refs_of(connector):
            connector.load(ref)
    assert any(c.status == 429 for c in world.sandbox.calls)


# ------------------------------------------------------------------ find_applied


class Crash(BaseException):
    """The process dies right after the helpdesk took a write."""


def test_find_applied_finds_a_note_written_before_a_crash(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    due = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    written = [
        Effect("crash1", AddNote("antes")),
        Effect("crash2", CreateTask("Ligar", due)),
    ]
    pending = Effect("crash3", CreateChildTicket("Distribuidor", "d"))

    def crash(write: Write) -> None:
        raise Crash

    world.sandbox.inject(Faults(after_write=crash))
    with pytest.raises(Crash):
        connector.write_ticket(item, [written[0], pending, written[1]])
    world.sandbox.faults.clear()
    restarted = world.connector()  # a new process: empty caches
    again = loaded(restarted, account["ticket"])
    note = world.sandbox.conversations[account["ticket"]][-1]
    for effect in written:  # both in the decision's one note, each found by its marker
        found = restarted.find_applied(again, effect)
        assert found == EffectResult.already_there(effect.key, str(note["id"]))
    assert restarted.find_applied(again, pending) is None
    assert [w.path for w in world.sandbox.writes] == [f"/api/v2/tickets/{account['ticket']}/notes"]


def test_find_applied_rereads_conversations_when_load_is_stale(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    effect = Effect("late", AddNote("x"))
    world.sandbox.add_note(account["ticket"], f"<p>x</p><p>{marker('late')}</p>")
    assert connector.find_applied(item, effect) is not None


def test_find_applied_for_child_tickets_reads_their_descriptions(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    done, other = (
        Effect("ch1", CreateChildTicket("a", "b")),
        Effect("ch2", CreateChildTicket("c", "d")),
    )
    [receipt] = connector.write_ticket(item, [done])
    found = connector.find_applied(item, done)
    assert found == EffectResult.already_there("ch1", receipt.remote_id)
    assert connector.find_applied(item, other) is None


def test_find_applied_for_field_updates_compares_the_ticket(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    route = Effect("r1", Route(group="Financeiro"))
    critical = Effect("mc", MarkCritical("x"))
    assert connector.find_applied(item, route) is None
    assert connector.find_applied(item, critical) is None
    connector.write_ticket(item, [route, critical])
    found = connector.find_applied(item, route)
    assert found == EffectResult.already_there("r1", str(account["ticket"]))
    assert connector.find_applied(item, critical) is not None
    assert connector.find_applied(item, Effect("s", SetStatus("Closed"))) is None


# ------------------------------------------------------------------ secrets


def test_the_api_key_never_appears_in_errors_reprs_or_logs(
    world: World, account: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world.sandbox.api_key = SECRET
    connector = world.connector(api_key=SECRET)
    texts = [repr(connector), repr(connector.http), repr(connector.http.session.auth)]
    item = loaded(connector, account["ticket"])
    world.sandbox.inject(Faults(server_errors=10))
    for call in (
        connector.check,
        lambda: world.connector(api_key="wrong-" + SECRET).check(),
    ):
        with pytest.raises(Exception) as info:  # noqa: PT011 - any error text is checked
            call()
        texts.extend([str(info.value), repr(info.value)])
    [failed] = connector.write_ticket(item, effects(AddNote("x")))
    texts.extend([str(failed.reason), repr(failed), repr(failed.error)])
    world.sandbox.faults.clear()
    [bad] = connector.write_ticket(item, effects(Merge(into="424242")))
    assert isinstance(bad.error, FatalError)
    texts.append(str(bad.reason))
    texts.extend(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert any("retrying" in t for t in texts)
    for text in texts:
        assert SECRET not in text
        assert "Authorization" not in text


# ------------------------------------------------------------------ HTTP plumbing


def response(status: int, body: bytes, reason: str = "Bad Request") -> requests.Response:
    out = requests.Response()
    out.status_code = status
    out._content = body
    out.reason = reason
    return out


def test_api_error_reads_freshdesk_and_other_shapes() -> None:
    fd = (
        b'{"description":"Validation failed",'
        b'"errors":[{"field":"status","message":"bad","code":"invalid_value"}]}'
    )
    assert api_error(response(400, fd)) == (
        "Validation failed: status: bad (invalid_value)",
        ("invalid_value",),
    )
    auth = b'{"code":"invalid_credentials","message":"You have to be logged in."}'
    assert api_error(response(401, auth)) == ("You have to be logged in.", ("invalid_credentials",))
    sf = b'[{"message":"Session expired","errorCode":"INVALID_SESSION_ID"}]'
    assert api_error(response(401, sf)) == (
        "Session expired (INVALID_SESSION_ID)",
        ("INVALID_SESSION_ID",),
    )
    movidesk = b'"Customers is required"'
    assert api_error(response(400, movidesk)) == ("Customers is required", ())
    assert api_error(response(400, b'"  "')) == ("Bad Request", ())
    assert api_error(
        response(502, b"<html>Bad Gateway for ticket 42 CPF</html>", "Bad Gateway")
    ) == (
        "Bad Gateway",
        (),
    )


def test_retry_after_as_seconds_or_http_date(clock: FakeTime) -> None:
    assert parse_retry_after("12", clock) == 12.0
    assert parse_retry_after("Thu, 19 Nov 2026 12:00:30 GMT", clock) == 30.0
    assert parse_retry_after("soon", clock) is None
    assert parse_retry_after(None, clock) is None


def http_client(clock: FakeTime, **kw: Any) -> HttpClient:
    return HttpClient(
        "freshdesk",
        "https://x.freshdesk.com",
        sleep=clock.sleep,
        jitter=lambda d: 0.0,
        now=clock,
        **kw,
    )


@responses.activate
def test_retry_after_is_clamped_and_total_wait_is_capped(clock: FakeTime) -> None:
    url = "https://x.freshdesk.com/api/v2/agents/me"
    responses.get(url, status=429, headers={"Retry-After": "600"})
    policy = RetryPolicy(attempts=10, max_retry_after=50, max_total_wait=120)
    with pytest.raises(RetriableError) as info:
        http_client(clock, policy=policy).get("/api/v2/agents/me")
    assert clock.sleeps == [50.0, 50.0]  # a third 50 s sleep would pass 120 s in total
    assert info.value.retry_after == 600
    assert info.value.status == 429


@responses.activate
def test_other_4xx_are_not_retried_and_the_query_stays_out(clock: FakeTime) -> None:
    responses.get("https://x.freshdesk.com/api/v2/agents", status=404)
    with pytest.raises(FatalError) as info:
        http_client(clock).get("/api/v2/agents", params={"email": "ana@example.com"})
    assert "ana@example.com" not in str(info.value)
    assert "(GET /api/v2/agents)" in str(info.value)
    assert clock.sleeps == []


@responses.activate
def test_writes_retry_only_when_declared_safe(clock: FakeTime) -> None:
    url = "https://x.freshdesk.com/api/v2/tickets/1/notes"
    responses.post(url, status=503)
    client = http_client(clock)
    with pytest.raises(RetriableError):
        client.request("POST", "/api/v2/tickets/1/notes", json={"body": "x"})
    assert len(responses.calls) == 1
    with pytest.raises(RetriableError):
        client.request("POST", "/api/v2/tickets/1/notes", json={"body": "x"}, retry_writes=True)
    assert len(responses.calls) == 1 + 5


@responses.activate
def test_links_to_another_host_are_refused(clock: FakeTime) -> None:
    with pytest.raises(FatalError, match=r"another host: evil\.example"):
        http_client(clock).get("https://evil.example/api/v2/tickets?page=2")
    assert len(responses.calls) == 0


@responses.activate
def test_user_agent_and_timeout_on_every_call(clock: FakeTime) -> None:
    responses.get("https://x.freshdesk.com/api/v2/agents/me", json={})
    client = http_client(clock, timeout=7.0)
    client.get("/api/v2/agents/me")
    assert responses.calls[0].request.headers["User-Agent"].startswith("helpdesk-sync/")
    assert client.timeout == (7.0, 7.0)


def test_rate_budget_waits_for_the_window_only_at_the_reserve(clock: FakeTime) -> None:
    budget = RateBudget(reserve=2, clock=clock.monotonic, sleep=clock.sleep)
    assert budget.before_call() == 0.0
    budget.after_response({"X-RateLimit-Total": "200", "X-RateLimit-Remaining": "3"})
    clock.now += timedelta(seconds=10)
    assert budget.before_call() == 0.0
    budget.after_response({"X-RateLimit-Remaining": "2"})
    assert budget.before_call() == 50.0  # window started at the first call, 10 s ago
    budget.after_response({})  # a 429 without headers changes nothing
    assert budget.before_call() == 0.0


# ------------------------------------------------------------------ validation before writing


def test_names_of_tickets_to_create_are_checked_before_any_write(
    world: World, account: dict[str, int]
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    batch = effects(AddNote("x"), CreateChildTicket("s", "d", group="Inexistente"))
    with pytest.raises(FatalError, match="unknown group 'Inexistente'"):
        connector.write_ticket(item, batch)
    assert world.sandbox.writes == []


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (Route(team="Squad A"), "cannot route to team 'Squad A'"),
        (Merge(into="ABC-1"), "cannot merge into 'ABC-1'"),
        (SetPriority("Altíssima"), "unknown priority 'Altíssima'"),
    ],
)
def test_effects_freshdesk_cannot_express_fail_before_writing(
    world: World, account: dict[str, int], action: Any, message: str
) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    with pytest.raises(FatalError, match=message):
        connector.write_ticket(item, effects(AddNote("x"), action))
    assert world.sandbox.writes == []


def test_a_queue_name_routes_to_the_group(world: World, account: dict[str, int]) -> None:
    connector = world.connector()
    item = loaded(connector, account["ticket"])
    connector.write_ticket(item, effects(Route(queue="Financeiro", team="ignored")))
    assert world.sandbox.writes[-1].body == {"group_id": account["financeiro"]}


def test_the_registry_builds_this_connector_from_settings() -> None:
    from pydantic import SecretStr

    from cli.settings import ConnectorSettings
    from connectors.registry import build_connector

    settings = ConnectorSettings(
        name="sac",
        kind="freshdesk",
        base_url="https://acme.freshdesk.com",
        mapping="sac",
        api_key=SecretStr(SECRET),
        request_type_field="cf_categoria",
        subcategory_field="cf_subcategoria",
        task_due_field="cf_prazo_tarefa",
        timeout_seconds=12,
    )
    connector = build_connector(settings)
    assert isinstance(connector, FreshdeskConnector)
    assert connector.domain == "acme"
    assert connector.http.timeout == (10.0, 12)
    assert SECRET not in repr(connector)


@responses.activate
def test_a_storm_of_429s_is_waited_out(clock: FakeTime) -> None:
    """Five 429s in a row on one list call, then an answer: the call succeeds, having
    slept each Retry-After, instead of failing when five attempts are used up."""
    url = "https://x.freshdesk.com/api/v2/tickets"
    for _ in range(5):
        responses.get(url, status=429, headers={"Retry-After": "7"})
    responses.get(url, json=[], status=200)
    response = http_client(clock).get("/api/v2/tickets")
    assert response.json() == []
    assert clock.sleeps == [7.0] * 5


@responses.activate
def test_a_429_storm_still_ends_at_the_total_wait(clock: FakeTime) -> None:
    url = "https://x.freshdesk.com/api/v2/tickets"
    responses.get(url, status=429, headers={"Retry-After": "60"})
    with pytest.raises(RetriableError) as info:
        http_client(clock).get("/api/v2/tickets")
    assert info.value.status == 429
    assert sum(clock.sleeps) <= 300.0
    assert clock.sleeps == [60.0] * 5  # a sixth 60 s sleep would pass 300 s in total


@responses.activate
def test_other_failures_still_stop_after_the_attempts(clock: FakeTime) -> None:
    url = "https://x.freshdesk.com/api/v2/tickets"
    responses.get(url, status=503)
    with pytest.raises(RetriableError):
        http_client(clock).get("/api/v2/tickets")
    assert len(responses.calls) == 5
