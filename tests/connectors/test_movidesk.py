"""MovideskConnector against stubbed requests (``responses``): exactly what is sent and read.

Every request is matched on its path, its query (token, ``$filter`` text, ``$select``,
``$expand``, ``$orderby``, ``$top``, ``id``) and, for writes, its JSON body, so each test
states the wire contract it relies on. A request nobody registered fails the test.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses
from pydantic import ValidationError
from responses import matchers

from cli.settings import load_settings
from connectors._http import RetryPolicy
from connectors._notes import DEFAULT_MARKER_FOOTER, footer_html, text_to_html
from connectors.movidesk import DayNightBudget, MovideskConnector, WriteRules
from connectors.movidesk.api import (
    TICKET_EXPAND,
    TICKET_SELECT,
    MovideskHttp,
    TokenAuth,
    mask_token,
    odata_datetime,
    parse_datetime,
    quote,
    stamp_key,
)
from connectors.movidesk.listing import ticket_ref
from connectors.movidesk.settings import MovideskSettings
from connectors.registry import build_connector
from sync.actions import (
    Action,
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
    FatalError,
    Loaded,
    Outcome,
    RetriableError,
    TicketWrites,
)
from sync.effects import effect_key, marker

BASE = "https://api.movidesk.com/public/v1"
TOKEN = "tok-SECRET-0123456789abcdef"
AGENT = "agent-1"
T0 = datetime(2026, 11, 19, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo: day
NIGHT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 23:00 in São Paulo
LIST = {"$select": TICKET_SELECT, "$expand": TICKET_EXPAND, "$orderby": "lastUpdate asc,id asc"}
PERSONS = {
    "$select": "id,businessName,userName,isActive,profileType,teams",
    "$expand": "emails",
    "$filter": "(profileType eq 1 or profileType eq 3)",
    "$orderby": "id",
    "$top": "100",
}
AGENTS = [
    {
        "id": "ag-0",
        "businessName": "Inativo",
        "isActive": False,
        "profileType": 1,
        "teams": ["Financeiro-Atendimento"],
        "emails": [],
    },
    {
        "id": "ag-1",
        "businessName": "Ana Souza",
        "userName": "ana",
        "isActive": True,
        "profileType": 1,
        "teams": ["Suporte N1", "Suporte N2"],
        "emails": [{"email": "ana@example.com", "isDefault": True}],
    },
    {
        "id": "ag-2",
        "businessName": "Bruno Lima",
        "isActive": True,
        "profileType": 3,
        "teams": ["Financeiro-Atendimento"],
        "emails": [{"email": "bruno@example.com"}],
    },
    {
        "id": "ag-3",
        "businessName": "Richard Alves",
        "isActive": True,
        "profileType": 1,
        "teams": ["Ouvidoria", "Suporte N2"],
        "emails": [],
    },
]


class FakeTime:
    """One fake clock for retries and the day budget; ``sleep`` records and advances."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def make(clock: FakeTime, **kw: Any) -> MovideskConnector:
    http = MovideskHttp(
        "movidesk",
        BASE,
        sleep=clock.sleep,
        jitter=lambda delay: 0.0,
        now=clock,
        policy=RetryPolicy(attempts=3, backoff_base=1.0),
    )
    kw.setdefault("agent_ref", AGENT)
    return MovideskConnector("emissor", BASE, TOKEN, http=http, **kw)


def query(**params: Any) -> Any:
    return matchers.query_param_matcher({"token": TOKEN, **{k: str(v) for k, v in params.items()}})


def expect(
    mock: responses.RequestsMock,
    method: str,
    path: str,
    params: dict[str, Any],
    answer: Any = None,
    *,
    body: Any = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> None:
    match = [query(**params)]
    if body is not None:
        match.append(matchers.json_params_matcher(body))
    kw: dict[str, Any] = {"status": status, "headers": headers, "match": match}
    if isinstance(answer, str | dict | list):
        kw["json"] = answer
    else:
        kw["body"] = b""
    mock.add(method, BASE + path, **kw)


def ticket_row(
    ticket_id: int = 101, last: str = "2026-11-19T12:58:00.1234567", **over: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": ticket_id,
        "protocol": None,
        "type": 2,
        "subject": "Nota rejeitada",
        "category": "Rejeição",
        "urgency": "Média",
        "status": "Em atendimento",
        "baseStatus": "InAttendance",
        "justification": None,
        "origin": 3,
        "createdDate": "2026-11-18T10:00:00.5000000",
        "lastUpdate": last,
        "ownerTeam": "Suporte N1",
        "tags": ["emissor"],
        "owner": {
            "id": "ag-1",
            "personType": 1,
            "profileType": 1,
            "businessName": "Ana Souza",
            "email": "ana@example.com",
        },
        "clients": [
            {
                "id": "cli-9",
                "businessName": "Carla Dias",
                "email": "carla@cliente.com.br",
                "phone": "(11) 98765-4321",
                "personType": 1,
                "profileType": 2,
                "cpfCnpj": "52998224725",
                "isDeleted": False,
                "organization": {
                    "id": "org-3",
                    "businessName": "Padaria Pão Bom",
                    "cpfCnpj": "11222333000181",
                    "email": "fin@paobom.com.br",
                },
            }
        ],
        "actions": [
            {
                "id": 1,
                "type": 2,
                "origin": 3,
                "description": "Minha nota foi rejeitada",
                "htmlDescription": "<p>Minha nota foi rejeitada</p>",
                "createdDate": "2026-11-18T10:00:00.5000000",
                "isDeleted": False,
                "createdBy": {"id": "cli-9", "businessName": "Carla Dias"},
                "attachments": [{"fileName": "rejeicao.png", "path": "h1"}],
            },
            {
                "id": 2,
                "type": 1,
                "origin": 2,
                "description": "Tipo de solicitação: Rejeição",
                "htmlDescription": "<p>Tipo de solicitação: Rejeição</p>",
                "createdDate": "2026-11-19T12:57:00.0000000",
                "isDeleted": False,
                "createdBy": {"id": "ag-1", "businessName": "Ana Souza"},
                "attachments": [{"fileName": "print.png", "path": "h2"}],
            },
            {
                "id": 3,
                "type": 1,
                "description": "apagada",
                "isDeleted": True,
                "createdDate": "2026-11-19T12:57:30.0000000",
                "attachments": [],
            },
        ],
        "customFieldValues": [
            {
                "customFieldId": 501,
                "customFieldRuleId": 77,
                "line": 1,
                "value": "2026-11-20T12:00:00",
                "items": [],
            },
            {
                "customFieldId": 502,
                "customFieldRuleId": 77,
                "line": 1,
                "value": None,
                "items": [{"customFieldItem": "Plano Pro"}],
            },
        ],
        "parentTickets": [],
        "childrenTickets": [],
    }
    row.update(over)
    return row


def loaded_of(connector: MovideskConnector, row: dict[str, Any]) -> Loaded:
    return connector.load(ticket_ref(row))


def effects(ticket_id: str, *actions: Action) -> list[Effect]:
    return [Effect(effect_key("emissor", ticket_id, a), a) for a in actions]


def note_html(*parts: str, keys: list[str]) -> str:
    return "".join(text_to_html(p) for p in parts) + footer_html(DEFAULT_MARKER_FOOTER, *keys)


def internal(html: str) -> dict[str, Any]:
    return {"id": 0, "type": 1, "description": html, "createdBy": {"id": AGENT}}


# ------------------------------------------------------------------ api


def test_datetimes_are_read_with_seven_digits_with_or_without_zone() -> None:
    assert parse_datetime("2026-11-19T13:00:00.1234567") == datetime(
        2026, 11, 19, 13, 0, 0, 123456, tzinfo=UTC
    )
    assert parse_datetime("2026-11-19T13:00:00.1234567Z") == parse_datetime(
        "2026-11-19T13:00:00.1234567"
    )
    assert parse_datetime("2026-11-19T13:00:00") == datetime(2026, 11, 19, 13, tzinfo=UTC)
    assert parse_datetime("2026-11-19T10:00:00-03:00") == datetime(2026, 11, 19, 13, tzinfo=UTC)
    assert stamp_key("2026-11-19T13:00:00.1234567") < stamp_key("2026-11-19T13:00:00.1234568Z")
    assert odata_datetime(datetime(2026, 11, 19, 13, 0, 0, 123999, tzinfo=UTC)) == (
        "2026-11-19T13:00:00.123Z"
    )
    assert quote("O'Brien") == "'O''Brien'"
    with pytest.raises(ValueError, match="not a Movidesk datetime"):
        parse_datetime("19/11/2026")


def test_the_token_is_never_shown() -> None:
    assert TOKEN not in repr(TokenAuth(TOKEN))
    assert mask_token(f"{BASE}/tickets?id=1&token={TOKEN}") == f"{BASE}/tickets?id=1&token=***"


# ------------------------------------------------------------------ listing


def test_listing_pages_on_a_keyset_never_skip(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    first = [
        ticket_row(11, "2026-11-19T12:58:00.0000000"),
        ticket_row(12, "2026-11-19T13:00:01.1234567"),
    ]
    second = [
        ticket_row(12, "2026-11-19T13:00:01.1234567"),
        ticket_row(13, "2026-11-19T13:00:02.5000000"),
    ]
    after_12 = (
        "lastUpdate gt 2026-11-19T13:00:01.123Z or "
        "(lastUpdate eq 2026-11-19T13:00:01.123Z and id gt 12)"
    )
    after_13 = (
        "lastUpdate gt 2026-11-19T13:00:02.500Z or "
        "(lastUpdate eq 2026-11-19T13:00:02.500Z and id gt 13)"
    )
    expect(
        mock,
        "GET",
        "/tickets",
        {**LIST, "$top": 2, "$filter": "lastUpdate ge 2026-11-19T12:55:00.000Z"},
        first,
    )
    expect(mock, "GET", "/tickets", {**LIST, "$top": 2, "$filter": after_12}, second)
    expect(mock, "GET", "/tickets", {**LIST, "$top": 2, "$filter": after_13}, [])
    connector = make(clock, page_size=2)

    refs = list(connector.changes(DatetimeCursor.encode(T0)))  # overlap: 5 minutes back

    assert [r.id for r in refs] == ["11", "12", "13"]  # 12, read again in its millisecond: once
    assert refs[1].version == "2026-11-19T13:00:01.1234567"
    assert refs[1].cursor == DatetimeCursor.encode(parse_datetime(refs[1].version))
    assert all("$skip" not in c.request.url for c in mock.calls)


def test_the_default_list_call_brings_100_whole_tickets_and_load_costs_nothing(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    rows = [
        ticket_row(1000 + i, f"2026-11-19T12:{10 + i // 10:02d}:{i % 10:02d}.0000000")
        for i in range(60)
    ]
    expect(
        mock,
        "GET",
        "/tickets",
        {
            "$select": TICKET_SELECT,
            "$expand": "owner,clients($expand=organization),actions($expand=attachments),"
            "customFieldValues($expand=items),parentTickets,childrenTickets",
            "$orderby": "lastUpdate asc,id asc",
            "$top": 100,
            "$filter": "lastUpdate ge 2026-11-19T12:00:00.000Z",
        },
        rows,
    )
    connector = make(clock)

    loaded = [connector.load(ref) for ref in connector.changes(None, since=T0 - timedelta(hours=1))]

    assert len(loaded) == 60
    assert len(mock.calls) / len(loaded) <= 0.02  # one list call, no call per load


def test_a_row_becomes_the_normalized_ticket(mock: responses.RequestsMock, clock: FakeTime) -> None:
    child = {"id": 900, "subject": "Distribuidor", "isDeleted": False, "baseStatus": "Resolved"}
    connector = make(clock, subcategory_field="502", field_labels={"501": "Prazo"})

    loaded = loaded_of(connector, ticket_row(childrenTickets=[child]))

    ticket = loaded.ticket
    assert (ticket.id, ticket.source, ticket.number) == ("101", "movidesk", "101")
    assert ticket.request_type == "Rejeição > Plano Pro"
    assert (ticket.status, ticket.queue, ticket.owner) == (
        "Em atendimento",
        "Suporte N1",
        "Ana Souza",
    )
    assert ticket.updated_at == datetime(2026, 11, 19, 12, 58, 0, 123456, tzinfo=UTC)
    assert [(c.id, c.internal, c.body) for c in ticket.comments] == [
        ("1", False, "<p>Minha nota foi rejeitada</p>"),
        ("2", True, "<p>Tipo de solicitação: Rejeição</p>"),
    ]  # the deleted action is not a comment
    assert [(a.name, a.comment_id) for a in ticket.attachments] == [
        ("rejeicao.png", "1"),
        ("print.png", "2"),
    ]
    assert ticket.fields["501"] == "2026-11-20T12:00:00"
    assert ticket.fields["502"] == "Plano Pro"
    assert ticket.fields["urgency"] == "Média"
    assert ticket.fields["tags"] == ["emissor"]
    assert ticket.fields["cliente_empresa"] == "Padaria Pão Bom"
    assert ticket.fields["cliente_email"] == "carla@cliente.com.br"
    assert ticket.field_labels == {"501": "Prazo"}
    assert ticket.requester is not None
    assert ticket.requester.document == "52998224725"
    assert ticket.organization is not None
    assert ticket.organization.document == "11222333000181"
    assert loaded.context.facts == {"children": 1, "child_answered": True}


def test_a_backfill_older_than_90_days_reads_past_first_and_sees_a_crossing_ticket_once(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    since = T0 - timedelta(days=100)
    old = ticket_row(1, "2026-08-15T10:00:00.0000000")
    crossing = ticket_row(2, "2026-08-21T13:30:00.0000000")
    recent = ticket_row(3, "2026-11-19T12:00:00.0000000")
    # Bounded by the moment the listing began: our writes to the old tickets, made before
    # /tickets is read, do not come back in the same pass.
    bound = " and lastUpdate lt 2026-11-19T13:00:00.000Z"
    from_since = {
        **LIST,
        "$top": 100,
        "$filter": "(lastUpdate ge 2026-08-11T13:00:00.000Z)" + bound,
    }
    after_old = (
        "(lastUpdate gt 2026-08-15T10:00:00.000Z or "
        "(lastUpdate eq 2026-08-15T10:00:00.000Z and id gt 1))" + bound
    )
    expect(mock, "GET", "/tickets/past", from_since, [old])
    expect(mock, "GET", "/tickets", from_since, [crossing, recent])
    # The crossing ticket has passed 90 days while /tickets was read: /tickets/past has it now.
    expect(mock, "GET", "/tickets/past", {**LIST, "$top": 100, "$filter": after_old}, [crossing])
    connector = make(clock)

    refs = list(connector.changes(None, since=since))

    assert [r.id for r in refs] == ["1", "2", "3"]
    assert [c.request.path_url.split("?")[0] for c in mock.calls] == [
        "/public/v1/tickets/past",
        "/public/v1/tickets",
        "/public/v1/tickets/past",
    ]


def test_an_upper_bound_is_in_the_filter(mock: responses.RequestsMock, clock: FakeTime) -> None:
    until = datetime(2026, 11, 19, 12, 30, 0, 500, tzinfo=UTC)  # rounded up, never down
    where = "(lastUpdate ge 2026-11-19T12:00:00.000Z) and lastUpdate lt 2026-11-19T12:30:00.001Z"
    inside = ticket_row(5, "2026-11-19T12:30:00.0004000")
    outside = ticket_row(6, "2026-11-19T12:30:00.0009000")
    expect(mock, "GET", "/tickets", {**LIST, "$top": 100, "$filter": where}, [inside, outside])

    refs = list(make(clock).changes(None, since=T0 - timedelta(hours=1), until=until))

    assert [r.id for r in refs] == ["5"]


def test_a_page_stuck_in_one_millisecond_stops_the_pass(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    same = [
        ticket_row(7, "2026-11-19T12:58:00.1231000"),
        ticket_row(8, "2026-11-19T12:58:00.1232000"),
    ]
    after = (
        "lastUpdate gt 2026-11-19T12:58:00.123Z or "
        "(lastUpdate eq 2026-11-19T12:58:00.123Z and id gt 8)"
    )
    expect(
        mock,
        "GET",
        "/tickets",
        {**LIST, "$top": 2, "$filter": "lastUpdate ge 2026-11-19T12:00:00.000Z"},
        same,
    )
    expect(mock, "GET", "/tickets", {**LIST, "$top": 2, "$filter": after}, same)

    with pytest.raises(FatalError, match="share one millisecond"):
        list(make(clock, page_size=2).changes(None, since=T0 - timedelta(hours=1)))


# ------------------------------------------------------------------ writes


def test_a_decision_routing_to_a_team_and_setting_a_status_is_one_patch(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    connector = make(clock)
    loaded = loaded_of(connector, ticket_row())
    todo = effects(
        "101",
        Route(team="Financeiro-Atendimento"),
        SetStatus(status="Pendente Financeiro", justification="Bloqueio por inadimplência"),
        AddNote(text="Cliente bloqueado\nMotivo: inadimplência", purpose="finance_block"),
    )
    keys = [e.key for e in todo]
    expect(mock, "GET", "/persons", PERSONS, AGENTS)
    body = {
        "owner": {"id": "ag-2"},  # the team's first ACTIVE agent
        "ownerTeam": "Financeiro-Atendimento",
        "status": "Pendente Financeiro",
        "justification": "Bloqueio por inadimplência",
        "actions": [internal(note_html("Cliente bloqueado\nMotivo: inadimplência", keys=keys))],
    }
    expect(mock, "PATCH", "/tickets", {"id": 101}, body=body)

    results = connector.write_ticket(loaded, todo)

    assert [(r.key, r.outcome, r.remote_id) for r in results] == [
        (k, Outcome.APPLIED, "101") for k in keys
    ]
    assert [c.request.method for c in mock.calls].count("PATCH") == 1


def test_an_owner_alone_keeps_the_current_team_when_the_owner_is_in_it(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    connector = make(clock, team_owners={"Ouvidoria": "richard alves"})
    expect(mock, "GET", "/persons", PERSONS, AGENTS)
    expect(
        mock,
        "PATCH",
        "/tickets",
        {"id": 101},
        body={"owner": {"id": "ag-1"}, "ownerTeam": "Suporte N1"},
    )
    expect(
        mock,
        "PATCH",
        "/tickets",
        {"id": 101},
        body={"owner": {"id": "ag-3"}, "ownerTeam": "Ouvidoria"},
    )

    ticket = loaded_of(connector, ticket_row())
    first = connector.write_ticket(ticket, effects("101", Route(owner="ana@example.com")))
    second = connector.write_ticket(ticket, effects("101", Route(team="ouvidoria")))

    assert [r.outcome for r in first + second] == [Outcome.APPLIED, Outcome.APPLIED]


def test_custom_field_values_are_read_merged_and_written_whole(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    connector = make(clock, rules=WriteRules(agent_ref=AGENT, task_due_field="501"))
    loaded = loaded_of(connector, ticket_row())
    task = CreateTask(subject="Retornar ao cliente", due=datetime(2026, 11, 21, 18, 0, tzinfo=UTC))
    todo = effects("101", task)
    current = [
        {
            "customFieldId": 501,
            "customFieldRuleId": 77,
            "line": 1,
            "value": "2026-11-20T12:00:00",
            "items": [],
        },
        {
            "customFieldId": 502,
            "customFieldRuleId": 77,
            "line": 1,
            "value": None,
            "items": [{"id": 4, "customFieldItem": "Plano Pro"}],
        },
        {
            "customFieldId": 503,
            "customFieldRuleId": 78,
            "line": 1,
            "value": "set since the load",
            "items": [],
        },
    ]
    fresh = {"$select": "id", "$expand": "customFieldValues($expand=items)", "id": 101}
    expect(mock, "GET", "/tickets", fresh, {"id": 101, "customFieldValues": current})
    text = (
        "Tarefa de acompanhamento: Retornar ao cliente — prazo 21/11/2026 15:00 (America/Sao_Paulo)"
    )
    body = {
        "actions": [internal(note_html(text, keys=[todo[0].key]))],
        "customFieldValues": [
            {
                "customFieldId": 501,
                "customFieldRuleId": 77,
                "line": 1,
                "value": "2026-11-21T18:00:00.000Z",
                "items": [],
            },
            {
                "customFieldId": 502,
                "customFieldRuleId": 77,
                "line": 1,
                "value": None,
                "items": [{"id": 4, "customFieldItem": "Plano Pro"}],  # sent back as read
            },
            {
                "customFieldId": 503,
                "customFieldRuleId": 78,
                "line": 1,
                "value": "set since the load",
                "items": [],
            },
        ],
    }
    expect(mock, "PATCH", "/tickets", {"id": 101}, body=body)

    [result] = connector.write_ticket(loaded, todo)

    assert result.outcome is Outcome.APPLIED


def test_a_merge_closes_the_duplicate_with_a_note_naming_the_principal(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    connector = make(clock)
    loaded = loaded_of(connector, ticket_row())
    [merge] = effects("101", Merge(into="77", note="Mesmo assunto do ticket 77"))
    body = {
        "status": "Fechado",
        "justification": "Duplicado",
        "actions": [
            internal(
                note_html(
                    "Ticket mesclado ao ticket 77.\nMesmo assunto do ticket 77", keys=[merge.key]
                )
            )
        ],
    }
    expect(mock, "PATCH", "/tickets", {"id": 101}, body=body)

    [result] = connector.write_ticket(loaded, [merge])

    assert (result.outcome, result.remote_id) == (Outcome.APPLIED, "77")
    # After a crash: the marker action in a fresh read of the ticket finds it again.
    written = {
        "id": 99,
        "type": 1,
        "description": body["actions"][0]["description"],
        "isDeleted": False,
    }
    expect(
        mock,
        "GET",
        "/tickets",
        {"$select": TICKET_SELECT, "$expand": TICKET_EXPAND, "id": 101},
        ticket_row(status="Fechado", actions=[written]),
    )
    found = connector.find_applied(loaded, merge)
    assert found is not None
    assert (found.outcome, found.remote_id) == (Outcome.ALREADY_THERE, "77")


def test_a_ticket_we_merged_says_so_to_the_mapping_but_a_typed_sentence_does_not(
    clock: FakeTime,
) -> None:
    connector = make(clock)
    ours = note_html("Ticket mesclado ao ticket 77.", keys=["k1"])
    typed = "<p>Ticket mesclado ao ticket 12. (feito na mão pelo Lucas)</p>"

    def merged_into(*descriptions: str) -> object:
        actions = [
            {"id": 90 + i, "type": 1, "description": d, "isDeleted": False}
            for i, d in enumerate(descriptions)
        ]
        return loaded_of(connector, ticket_row(actions=actions)).context.facts.get("merged_into")

    assert merged_into(ours) == "77"
    assert merged_into(typed) is None
    assert merged_into() is None


def test_a_merge_then_a_status_sends_the_later_status(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    connector = make(clock)
    todo = effects(
        "101",
        Merge(into="55", note=None),
        SetStatus(status="Pendente Onboarding", justification="Cliente em onboarding"),
    )
    body = {
        "status": "Pendente Onboarding",
        "justification": "Cliente em onboarding",
        "actions": [
            internal(note_html("Ticket mesclado ao ticket 55.", keys=[e.key for e in todo]))
        ],
    }
    expect(mock, "PATCH", "/tickets", {"id": 101}, body=body)

    results = connector.write_ticket(loaded_of(connector, ticket_row()), todo)

    assert [r.remote_id for r in results] == ["55", "101"]


def test_a_child_ticket_is_one_post_with_its_parent_and_is_found_again(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    connector = make(clock)
    loaded = loaded_of(connector, ticket_row())
    [child] = effects(
        "101", CreateChildTicket(subject="Distribuidor X", description="Dados", group="Suporte N2")
    )
    description = note_html("Dados", keys=[child.key])
    body = {
        "type": 2,
        "subject": "Distribuidor X",
        "createdBy": {"id": AGENT},
        "clients": [{"id": "cli-9"}],
        "actions": [{"id": 0, "type": 2, "description": description, "createdBy": {"id": AGENT}}],
        "owner": {"id": "ag-1"},
        "ownerTeam": "Suporte N2",
        "parentTickets": [{"id": 101}],
    }
    expect(mock, "GET", "/persons", PERSONS, AGENTS)
    expect(mock, "POST", "/tickets", {}, {"id": 901}, body=body)

    [result] = connector.write_ticket(loaded, [child])

    assert (result.outcome, result.remote_id) == (Outcome.APPLIED, "901")
    links = [{"id": 900, "isDeleted": False}, {"id": 901, "isDeleted": False}]
    full = {"$select": TICKET_SELECT, "$expand": TICKET_EXPAND, "id": 101}
    expect(mock, "GET", "/tickets", full, ticket_row(childrenTickets=links))
    actions = [{"id": 1, "type": 2, "description": description, "isDeleted": False}]
    expect(
        mock,
        "GET",
        "/tickets",
        {"$select": "id", "$expand": "actions", "id": 901},
        {"id": 901, "actions": actions},
    )
    found = connector.find_applied(loaded, child)
    assert found is not None
    assert (found.outcome, found.remote_id) == (Outcome.ALREADY_THERE, "901")


def test_the_ombudsman_ticket_then_note_and_resolve(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    connector = make(clock)
    loaded = loaded_of(connector, ticket_row())
    create = CreateTicket(
        subject="OUVIDORIA - 101",
        description="Relato do cliente",
        status="Aberto",
        owner="Richard Alves",
        requester_email="ouvidoria@bematech.com.br",
        internal_note="Número do ticket resolvido: 101",
        due=datetime(2026, 11, 26, 21, 0, tzinfo=UTC),
    )
    todo = effects("101", create, AddNote(text="Ouvidoria aberta"), Resolve())
    by_email = {
        "$select": "id,businessName,isActive",
        "$filter": "emails/any(e: e/email eq 'ouvidoria@bematech.com.br')",
        "$top": 2,
    }
    expect(mock, "GET", "/persons", by_email, [{"id": "cli-77", "businessName": "Ouvidoria"}])
    expect(mock, "GET", "/persons", PERSONS, AGENTS)
    footer = footer_html(DEFAULT_MARKER_FOOTER, todo[0].key)
    post = {
        "type": 2,
        "subject": "OUVIDORIA - 101",
        "createdBy": {"id": AGENT},
        "clients": [{"id": "cli-77"}],
        "actions": [
            {
                "id": 0,
                "type": 2,
                "description": text_to_html(
                    "Relato do cliente\n\nPrazo: 26/11/2026 18:00 (America/Sao_Paulo)"
                )
                + footer,
                "createdBy": {"id": AGENT},
            },
            {
                "id": 0,
                "type": 1,
                "description": text_to_html("Número do ticket resolvido: 101") + footer,
                "createdBy": {"id": AGENT},
            },
        ],
        "status": "Aberto",
        "owner": {"id": "ag-3"},
        "ownerTeam": "Ouvidoria",  # Richard is not in the ticket's team: his first one
    }
    expect(mock, "POST", "/tickets", {}, {"id": 5001}, body=post)
    patch = {
        "status": "Resolvido",
        "actions": [internal(note_html("Ouvidoria aberta", keys=[e.key for e in todo[1:]]))],
    }
    expect(mock, "PATCH", "/tickets", {"id": 101}, body=patch)

    results = connector.write_ticket(loaded, todo)

    assert [r.remote_id for r in results] == ["5001", "101", "101"]
    assert [c.request.method for c in mock.calls][-2:] == ["POST", "PATCH"]
    # After a crash: the client's tickets created since shortly before this one, by marker.
    where = "clients/any(c: c/id eq 'cli-77') and createdDate ge 2026-11-18T09:59:00.500Z"
    search = {
        "$select": "id,createdDate",
        "$expand": "actions",
        "$filter": where,
        "$orderby": "id desc",
        "$top": 100,
    }
    expect(
        mock,
        "GET",
        "/tickets",
        search,
        [{"id": 5001, "actions": [{"id": 1, "description": post["actions"][0]["description"]}]}],
    )
    found = connector.find_applied(loaded, todo[0])
    assert found is not None
    assert found.remote_id == "5001"


def test_a_failed_call_rejects_what_it_carried_and_sends_nothing_after_it(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    connector = make(clock)
    row = ticket_row()
    todo = effects("101", CreateTicket(subject="OUVIDORIA", description="x"), Resolve())
    expect(mock, "POST", "/tickets", {}, "Customers is required", status=400)

    results = connector.write_ticket(loaded_of(connector, row), todo)

    [rejected] = results  # the resolve after it: no result, never sent
    assert rejected.key == todo[0].key
    assert rejected.outcome is Outcome.REJECTED
    assert isinstance(rejected.error, FatalError)
    assert "400 Customers is required (POST /public/v1/tickets)" in (rejected.reason or "")
    assert TOKEN not in (rejected.reason or "")
    assert [c.request.method for c in mock.calls] == ["POST"]


def test_a_patch_with_a_note_is_never_sent_twice_but_a_field_patch_is_retried(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    connector = make(clock)
    loaded = loaded_of(connector, ticket_row())
    expect(mock, "PATCH", "/tickets", {"id": 101}, {"message": "error"}, status=500)
    [noted] = connector.write_ticket(loaded, effects("101", AddNote(text="nota")))
    assert noted.outcome is Outcome.REJECTED
    assert isinstance(noted.error, RetriableError)
    assert len(mock.calls) == 1

    expect(
        mock,
        "PATCH",
        "/tickets",
        {"id": 101},
        {"message": "error"},
        status=500,
        body={"urgency": "Alta"},
    )
    expect(mock, "PATCH", "/tickets", {"id": 101}, body={"urgency": "Alta"})
    [field] = connector.write_ticket(loaded, effects("101", SetPriority(priority="Alta")))
    assert field.outcome is Outcome.APPLIED
    assert len(mock.calls) == 3


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (SetStatus(status="Pendente"), "status 'Pendente' needs a justification, one of: A, B"),
        (SetStatus(status="Pendente", justification="C"), "'C' is not one of status 'Pendente'"),
        (SetPriority(priority="Altíssima"), "unknown urgency 'Altíssima'"),
        (Merge(into="abc"), "not a Movidesk ticket number"),
        (Merge(into="101"), "cannot merge a ticket into itself"),
    ],
)
def test_bad_values_fail_before_any_request(
    mock: responses.RequestsMock, clock: FakeTime, action: Action, message: str
) -> None:
    rules = WriteRules(
        agent_ref=AGENT,
        status_justifications={"Pendente": ("A", "B")},
        urgencies=("Baixa", "Média", "Alta"),
    )
    connector = make(clock, rules=rules)
    todo = effects("101", AddNote(text="antes"), action)

    results = connector.write([_writes(connector, todo)])

    assert [r.outcome for r in results] == [Outcome.REJECTED, Outcome.REJECTED]
    assert message in (results[1].reason or "")
    assert len(mock.calls) == 0  # nothing sent: three failed requests lock the API


def _writes(connector: MovideskConnector, todo: list[Effect]) -> TicketWrites:
    return TicketWrites(loaded_of(connector, ticket_row()), tuple(todo))


def test_an_owner_outside_the_team_named_with_it_fails_before_writing(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    connector = make(clock)
    expect(mock, "GET", "/persons", PERSONS, AGENTS)

    with pytest.raises(FatalError, match="agent 'Bruno Lima' is not in team 'Ouvidoria'"):
        connector.write_ticket(
            loaded_of(connector, ticket_row()),
            effects("101", Route(owner="Bruno Lima", team="Ouvidoria")),
        )


def test_priorities_and_critical_marking_use_the_account_names(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    rules = WriteRules(
        agent_ref=AGENT, urgencies=("Baixa", "Média", "Alta", "Urgente"), critical_urgency="Urgente"
    )
    connector = make(clock, rules=rules)
    expect(
        mock,
        "PATCH",
        "/tickets",
        {"id": 101},
        body={"urgency": "Urgente", "tags": ["emissor", "critico"]},
    )

    results = connector.write_ticket(
        loaded_of(connector, ticket_row()),
        effects("101", SetPriority(priority="High"), MarkCritical(reason="Ouvidoria")),
    )

    assert [r.outcome for r in results] == [Outcome.APPLIED, Outcome.APPLIED]


def test_lookup_reads_the_ticket_once_and_finds_notes_and_fields(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    connector = make(clock)
    loaded = loaded_of(connector, ticket_row())
    note, status, priority = effects(
        "101", AddNote(text="nota"), SetStatus(status="Pendente"), SetPriority(priority="Baixa")
    )
    written = {"id": 9, "type": 1, "htmlDescription": f"<p>nota</p><p>{marker(note.key)}</p>"}
    fresh = ticket_row(status="Pendente", urgency="Alta", actions=[written])
    expect(
        mock,
        "GET",
        "/tickets",
        {"$select": TICKET_SELECT, "$expand": TICKET_EXPAND, "id": 101},
        fresh,
    )

    found = connector.lookup([TicketWrites(loaded, (note, status, priority))])

    assert [(r.key, r.outcome) for r in found] == [
        (note.key, Outcome.ALREADY_THERE),
        (status.key, Outcome.ALREADY_THERE),
    ]  # the priority is not there: it will be written
    assert len(mock.calls) == 1


# ------------------------------------------------------------------ reload, check, errors


def test_reload_reads_the_state_of_children_the_row_does_not_show(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    links = [{"id": 900, "subject": "Distribuidor", "isDeleted": False}]
    full = {"$select": TICKET_SELECT, "$expand": TICKET_EXPAND, "id": 101}
    expect(mock, "GET", "/tickets", full, ticket_row(childrenTickets=links))
    expect(
        mock,
        "GET",
        "/tickets",
        {"$select": "id,status,baseStatus", "id": 900},
        {"id": 900, "baseStatus": "Closed"},
    )

    loaded = make(clock).reload("101")

    assert loaded.context.facts == {"children": 1, "child_answered": True}


def test_check_proves_the_token_and_the_agent(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    expect(
        mock,
        "GET",
        "/persons",
        {"id": AGENT, "$select": "id,businessName,profileType,isActive"},
        {"id": AGENT, "businessName": "helpdesk-sync"},
    )
    expect(mock, "GET", "/tickets", {"$select": "id", "$top": 1}, [{"id": 1}])

    assert make(clock).check().startswith("movidesk api.movidesk.com as ")


def test_a_token_without_permission_is_an_auth_error(
    mock: responses.RequestsMock, clock: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    expect(
        mock,
        "GET",
        "/persons",
        {"id": AGENT, "$select": "id,businessName,profileType,isActive"},
        "Token inválido",
        status=403,
    )
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AuthError) as info:
        make(clock).check()

    assert info.value.status == 403
    assert TOKEN not in str(info.value)
    assert TOKEN not in caplog.text


def test_a_wrong_token_stops_the_listing(mock: responses.RequestsMock, clock: FakeTime) -> None:
    mock.add("GET", BASE + "/tickets", body="Unauthorized", status=401)

    with pytest.raises(AuthError) as info:
        list(make(clock).changes(None, since=T0 - timedelta(hours=1)))
    assert TOKEN not in str(info.value)


def test_an_unknown_ticket_is_fatal_and_4xx_are_never_retried(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    full = {"$select": TICKET_SELECT, "$expand": TICKET_EXPAND, "id": 404}
    expect(mock, "GET", "/tickets", full, {"message": "Ticket not found"}, status=404)

    with pytest.raises(FatalError, match="404 Ticket not found"):
        make(clock).reload("404")
    assert len(mock.calls) == 1
    assert clock.sleeps == []


def test_an_answer_in_another_shape_names_the_call(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    where = {**LIST, "$top": 100, "$filter": "lastUpdate ge 2026-11-19T12:00:00.000Z"}
    expect(mock, "GET", "/tickets", where, {"items": []})

    with pytest.raises(FatalError, match=r"GET /tickets: expected a JSON array of objects"):
        list(make(clock).changes(None, since=T0 - timedelta(hours=1)))


# ------------------------------------------------------------------ limits


def _reloads(mock: responses.RequestsMock, connector: MovideskConnector, times: int) -> None:
    full = {"$select": TICKET_SELECT, "$expand": TICKET_EXPAND, "id": 101}
    expect(mock, "GET", "/tickets", full, ticket_row())
    for _ in range(times):
        connector.reload("101")


def test_the_day_limit_is_paced_before_sending(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    connector = make(clock)

    _reloads(mock, connector, 11)

    assert clock.sleeps == [pytest.approx(61.2)]  # the 11th call waits out the minute
    assert all(c.response.status_code == 200 for c in mock.calls)  # never a 429


def test_the_night_is_not_paced(mock: responses.RequestsMock) -> None:
    clock = FakeTime(NIGHT)

    _reloads(mock, make(clock), 25)

    assert clock.sleeps == []


def test_a_budget_wait_stops_where_the_night_begins() -> None:
    clock = FakeTime(datetime(2026, 11, 19, 21, 59, 30, tzinfo=UTC))  # 18:59:30 local
    budget = DayNightBudget(2, now=clock, sleep=clock.sleep)
    for _ in range(3):
        budget.before_call()
    assert clock.sleeps == [pytest.approx(30.0)]


def test_a_429_waits_its_retry_after_and_the_failure_lock_is_waited_out(
    mock: responses.RequestsMock, clock: FakeTime
) -> None:
    full = {"$select": TICKET_SELECT, "$expand": TICKET_EXPAND, "id": 101}
    expect(
        mock,
        "GET",
        "/tickets",
        full,
        "Too many failed requests",
        status=429,
        headers={"retry-after": "60"},
    )
    expect(mock, "GET", "/tickets", full, ticket_row())

    make(clock, day_limit_per_minute=None).reload("101")

    assert clock.sleeps == [60.0]


# ------------------------------------------------------------------ settings and registry


def test_settings_build_the_connector() -> None:
    conf = MovideskSettings(
        name="emissor",
        kind="movidesk",
        mapping="emissor",
        api_key=TOKEN,
        agent_ref="agent-9",
        status_justifications={"Pendente Financeiro": ["Bloqueio por inadimplência"]},
        team_owners={"Financeiro-Atendimento": "Bruno Lima"},
        task_due_field="501",
    )
    connector = build_connector(conf)

    assert isinstance(connector, MovideskConnector)
    assert isinstance(connector, Connector)
    assert (connector.kind, connector.write_batch, connector.base_url) == ("movidesk", 1, BASE)
    assert connector.rules.agent_ref == "agent-9"
    assert connector.rules.task_due_field == "501"
    assert connector.request_type_field == "category"
    assert isinstance(connector.http.budget, DayNightBudget)
    assert connector.http.budget.limit == 10
    unpaced = build_connector(conf.model_copy(update={"day_limit_per_minute": None}))
    assert isinstance(unpaced, MovideskConnector)
    assert unpaced.http.budget is None
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        MovideskSettings(
            name="e", kind="movidesk", mapping="emissor", agent_ref="a", day_limit_per_minute=0
        )
    with pytest.raises(ValidationError, match="must look like 07:01-18:59"):
        MovideskSettings(
            name="e", kind="movidesk", mapping="emissor", agent_ref="a", day_window="7h"
        )
    with pytest.raises(ValidationError, match="agent_ref"):
        MovideskSettings(name="e", kind="movidesk", mapping="emissor")  # type: ignore[call-arg]


def test_a_config_file_entry_of_kind_movidesk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HELPDESK_SYNC_CONFIG", raising=False)
    monkeypatch.delenv("HELPDESK_SYNC_CONNECTORS", raising=False)
    path = tmp_path / "helpdesk-sync.yaml"
    path.write_text(
        "connectors:\n"
        "  - name: emissor\n"
        "    kind: movidesk\n"
        "    mapping: emissor\n"
        "    api_key_env: MOVIDESK_TOKEN\n"
        "    agent_ref: agent-1\n"
        "    day_window: 07:01-18:59\n",
        encoding="utf-8",
    )
    conf = load_settings(path).connector("emissor")
    assert isinstance(conf, MovideskSettings)
    assert conf.base_url == BASE
    assert json.loads(conf.model_dump_json())["day_limit_per_minute"] == 10


# ------------------------------------------------------------------ context batches


def test_a_full_context_batch_stays_under_the_iis_query_string_limit() -> None:
    from connectors.movidesk.api import ticket_query
    from connectors.movidesk.context import (
        BATCH,
        CONTEXT_EXPAND,
        CONTEXT_SELECT,
        CONTEXT_TOP,
        org_filter,
    )

    keys = [("organization", str(184_000_000 + n)) for n in range(BATCH)]
    params = ticket_query(
        filter=org_filter(*keys, after=999_999_999),
        orderby="id asc",
        top=CONTEXT_TOP,
        select=CONTEXT_SELECT,
        expand=CONTEXT_EXPAND,
    )
    request = requests.Request("GET", f"{BASE}/tickets", params={**params, "token": TOKEN})
    query = urlsplit(request.prepare().url or "").query
    assert len(query) < 2048  # IIS's default maxQueryString


def test_client_keys_name_every_customer_of_a_ticket() -> None:
    from connectors.movidesk.context import client_keys

    row = {
        "clients": [
            {"id": "1", "personType": 1, "organization": {"id": "900"}},
            {"id": "2", "personType": 2, "organization": None},
            {"id": "3", "personType": 1, "organization": None},  # a person on their own
            {"id": "4", "personType": 2, "isDeleted": True},
        ]
    }
    assert client_keys(row) == {("organization", "900"), ("client", "2")}
