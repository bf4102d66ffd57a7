"""The Movidesk sandbox follows the API contract in shared/reference/movidesk.md.

Through ``responses`` and real ``requests`` calls (and once over loopback HTTP): reads and
``$select``/``$expand`` shaping, the 90-day split, ``$filter`` and paging, PATCH and POST
validation, the day/night budget, the 3-failure lock, faults, the Emissor account.

Why this module is long: it is the one suite of one fake API; split by feature it would
repeat the same fixtures and helpers in every file, as the Freshdesk sandbox's suite
keeps them in one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import responses

from sandboxes.movidesk import (
    DEFAULT_BASE_URL,
    DEFAULT_TOKEN,
    EmissorAccount,
    Faults,
    MovideskSandbox,
    Write,
    fmt,
    setup_emissor_account,
)

NIGHT = datetime(2026, 11, 19, 23, 0, 0, tzinfo=UTC)  # 20:00 in São Paulo
DAY = datetime(2026, 11, 19, 12, 0, 0, tzinfo=UTC)  # 09:00 in São Paulo
API = DEFAULT_BASE_URL


class FakeTime:
    """One clock for the sandbox; ``sleep`` records and advances it."""

    def __init__(self, start: datetime = NIGHT) -> None:
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
def sandbox(clock: FakeTime) -> MovideskSandbox:
    return MovideskSandbox(clock=clock, sleep=clock.sleep)


@pytest.fixture
def lenient(sandbox: MovideskSandbox) -> MovideskSandbox:
    """The same account without the 3-failure lock: for many refusals in a row."""
    sandbox.lockout_after = None
    return sandbox


@pytest.fixture
def rsps(sandbox: MovideskSandbox) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sandbox.install(mock)
        yield mock


@pytest.fixture
def account(sandbox: MovideskSandbox) -> EmissorAccount:
    return setup_emissor_account(sandbox)


def get(path: str = "/tickets", **params: Any) -> requests.Response:
    return requests.get(API + path, params={"token": DEFAULT_TOKEN, **params}, timeout=5)


def select(path: str = "/tickets", fields: str = "id", **params: Any) -> requests.Response:
    return get(path, **{"$select": fields, **params})


def ids(response: requests.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


def patch(ticket_id: int, body: Any) -> requests.Response:
    params = {"token": DEFAULT_TOKEN, "id": ticket_id}
    return requests.patch(API + "/tickets", params=params, json=body, timeout=5)


def post(body: Any, **params: Any) -> requests.Response:
    params = {"token": DEFAULT_TOKEN, **params}
    return requests.post(API + "/tickets", params=params, json=body, timeout=5)


def seed(sandbox: MovideskSandbox, count: int, *, step: int = 60) -> list[int]:
    """``count`` tickets updated ``step`` seconds apart, oldest first, ending an hour ago."""
    client = sandbox.add_person("Cliente", email="cliente@example.com")
    start = sandbox.now() - timedelta(hours=1, seconds=step * count)
    return [
        sandbox.add_ticket(
            f"ticket {i}",
            clients=[client],
            created_at=start - timedelta(days=1),
            updated_at=start + timedelta(seconds=i * step),
        )
        for i in range(count)
    ]


def note(author: str, text: str = "<p>nota</p>") -> dict[str, Any]:
    return {"id": 0, "type": 1, "description": text, "createdBy": {"id": author}}


# ------------------------------------------------------------------ auth and reads


def test_the_token_is_required(sandbox: MovideskSandbox, rsps: Any) -> None:
    assert requests.get(API + "/tickets", params={"$select": "id"}, timeout=5).status_code == 401
    assert select(token="wrong").status_code == 401
    assert select().status_code == 200


def test_select_is_mandatory_on_lists_not_on_one_ticket(
    sandbox: MovideskSandbox, rsps: Any
) -> None:
    (ticket,) = seed(sandbox, 1)
    sandbox.add_action(ticket, "<p>Olá <b>mundo</b></p>", type=2)
    for path in ("/tickets", "/tickets/past"):
        refused = get(path)
        assert refused.status_code == 400
        assert refused.content
    whole = get(id=ticket).json()
    assert whole["id"] == ticket
    assert whole["clients"][0]["businessName"] == "Cliente"
    assert whole["actions"][0]["htmlDescription"] == "<p>Olá <b>mundo</b></p>"
    assert whole["actions"][0]["description"] == "Olá mundo"
    assert get(id=9999).status_code == 404


def test_select_and_expand_shape_the_answer(sandbox: MovideskSandbox, rsps: Any) -> None:
    (ticket,) = seed(sandbox, 1)
    sandbox.add_action(ticket, "<p>x</p>", attachments=["print.png"])
    (row,) = select(fields="id,subject,clients").json()
    assert row == {"id": ticket, "subject": "ticket 0"}  # navigation only when expanded
    nested = select(
        fields="id",
        **{
            "$expand": "clients($select=id,email;$expand=organization($select=id)),"
            "actions($select=id;$expand=attachments($select=fileName))"
        },
    ).json()[0]
    assert set(nested) == {"id", "clients", "actions"}
    assert set(nested["clients"][0]) == {"id", "email", "organization"}
    assert nested["actions"] == [{"id": 1, "attachments": [{"fileName": "print.png"}]}]
    both = select(fields="id", **{"$expand": "actions($select=id),actions($select=type)"}).json()
    assert both[0]["actions"] == [{"id": 1, "type": 1}]
    slash = select(fields="id", **{"$expand": "actions/createdBy"}).json()[0]
    assert slash["actions"][0]["createdBy"]["businessName"] == "Integração API"
    one = get(id=ticket, **{"$select": "id,lastUpdate"}).json()
    assert set(one) == {"id", "lastUpdate"}


@pytest.mark.parametrize(
    "params",
    [
        {"$select": "id,nope"},
        {"$select": "id", "$expand": "subject"},
        {"$select": "id", "$expand": "clients($select=cpf)"},
        {"$select": "id", "$expand": "actions($top=1)"},
        {"$select": "owner/businessName"},
        {"$select": "id", "$count": "true"},
        {"$select": "id", "$orderby": "nope desc"},
        {"$select": "id", "$top": "-1"},
        {"$select": "id", "$skip": "x"},
    ],
)
def test_unknown_names_and_options_are_opaque_400s(
    sandbox: MovideskSandbox, rsps: Any, params: dict[str, str]
) -> None:
    seed(sandbox, 1)
    refused = get(**params)
    assert refused.status_code == 400
    assert "not valid" in refused.text


def test_lastupdate_keeps_sub_seconds_without_an_offset(
    sandbox: MovideskSandbox, rsps: Any, clock: FakeTime
) -> None:
    (ticket,) = seed(sandbox, 1)
    assert fmt(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05"
    clock.now = NIGHT + timedelta(microseconds=192088)
    assert patch(ticket, {"subject": "novo"}).status_code == 200
    assert get(id=ticket).json()["lastUpdate"] == "2026-11-19T23:00:00.192088"
    clock.now = NIGHT + timedelta(microseconds=500000)
    patch(ticket, {"subject": "de novo"})
    assert get(id=ticket).json()["lastUpdate"] == "2026-11-19T23:00:00.5"


# ------------------------------------------------------------------ the 90-day split


def test_ninety_days_split_between_tickets_and_past(
    sandbox: MovideskSandbox, rsps: Any, clock: FakeTime
) -> None:
    recent, boundary, old = seed(sandbox, 3)
    sandbox.touch(recent, clock.now - timedelta(days=89, hours=23))
    sandbox.touch(boundary, clock.now - timedelta(days=90))
    sandbox.touch(old, clock.now - timedelta(days=400))
    assert ids(select()) == [recent]
    assert ids(select("/tickets/past")) == [boundary, old]
    assert get(id=old).json()["id"] == old  # by id at any age
    assert patch(old, {"subject": "reaberto"}).status_code == 200
    assert ids(select()) == [recent, old]  # a write brings it back
    clock.now += timedelta(days=1)
    assert ids(select("/tickets/past")) == [recent, boundary]


# ------------------------------------------------------------------ $filter


def test_comparisons_and_logic(sandbox: MovideskSandbox, rsps: Any) -> None:
    t = seed(sandbox, 6)
    sandbox.tickets[t[1]].owner_team = "N2"
    sandbox.tickets[t[2]].category = "Falha no sistema"
    sandbox.tickets[t[3]].subject = "O'Brien"
    assert ids(select(**{"$filter": f"id eq {t[0]}"})) == [t[0]]
    assert ids(select(**{"$filter": f"id ne {t[0]}"})) == t[1:]
    assert ids(select(**{"$filter": f"id gt {t[3]}"})) == t[4:]
    assert ids(select(**{"$filter": f"id ge {t[3]}"})) == t[3:]
    assert ids(select(**{"$filter": f"id lt {t[1]}"})) == t[:1]
    assert ids(select(**{"$filter": f"id le {t[1]}"})) == t[:2]
    assert ids(select(**{"$filter": "ownerTeam eq 'N2' or category eq 'Falha no sistema'"})) == [
        t[1],
        t[2],
    ]
    assert ids(select(**{"$filter": f"not (id le {t[4]}) and baseStatus eq 'New'"})) == t[5:]
    assert ids(select(**{"$filter": "subject eq 'O''Brien'"})) == [t[3]]
    assert ids(select(**{"$filter": "contains(subject, 'Bri')"})) == [t[3]]
    assert ids(select(**{"$filter": "status eq 'novo'"})) == []  # case-sensitive
    assert ids(select(**{"$filter": "ownerTeam eq null"})) == [t[0], *t[2:]]


def test_lastupdate_filters_with_strict_literals(sandbox: MovideskSandbox, rsps: Any) -> None:
    t = seed(sandbox, 3)
    stamp = sandbox.tickets[t[1]].last_update
    literal = stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert ids(select(**{"$filter": f"lastUpdate ge {literal}"})) == t[1:]
    assert ids(select(**{"$filter": f"lastUpdate gt {literal[:-5]}Z"})) == t[2:]
    created = sandbox.tickets[t[0]].created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(select(**{"$filter": f"createdDate le {created}"})) == t  # all created together
    assert ids(select(**{"$filter": f"createdDate lt {created}"})) == []


@pytest.mark.parametrize(
    "literal",
    [
        "2026-11-19T00:00:00+00:00",
        "2026-11-19T00:00:00",
        "2026-11-19",
        "2026-11-19T00:00:00.123456Z",
        "2026-11-19T00:00Z",
        "'2026-11-19T00:00:00Z'",
        "2026-13-40T00:00:00Z",
    ],
)
def test_other_datetime_literals_are_400(sandbox: MovideskSandbox, rsps: Any, literal: str) -> None:
    seed(sandbox, 1)
    assert select(**{"$filter": f"lastUpdate ge {literal}"}).status_code == 400


@pytest.mark.parametrize(
    "expression",
    [
        "ownerTeam/name eq 'N2'",
        "nope eq 1",
        "id eq '1'",
        "subject eq 1",
        "id eq",
        "(id eq 1",
        "clients/any(c: c/cpf eq '1')",
        "subject eq 'unterminated",
        "lastUpdate",
    ],
)
def test_malformed_filters_are_400(sandbox: MovideskSandbox, rsps: Any, expression: str) -> None:
    seed(sandbox, 1)
    assert select(**{"$filter": expression}).status_code == 400


def test_lambdas_over_clients_custom_fields_and_tags(sandbox: MovideskSandbox, rsps: Any) -> None:
    company = sandbox.add_person("Empresa", person_type=2, cpf_cnpj="52601815000120")
    inside = sandbox.add_person("Joana", email="joana@empresa.com", organization=company)
    outside = sandbox.add_person("Pedro")
    field = sandbox.add_custom_field("Card vinculado")
    flag = sandbox.add_custom_field("Em onboarding?", type="list", choices=("Sim", "Não"))
    a = sandbox.add_ticket("a", clients=[inside], custom_fields={field: "DEV-1"}, tags=["vip"])
    b = sandbox.add_ticket("b", clients=[outside], custom_fields={flag: "Sim"})
    assert ids(select(**{"$filter": f"clients/any(c: c/id eq '{outside}')"})) == [b]
    assert ids(select(**{"$filter": f"clients/any(c: c/organization/id eq '{company}')"})) == [a]
    wanted = f"customFieldValues/any(c: c/customFieldId eq {field} and c/value eq 'DEV-1')"
    assert ids(select(**{"$filter": wanted})) == [a]
    assert ids(select(**{"$filter": f"customFieldValues/any(c: c/customFieldId eq {flag})"})) == [b]
    assert ids(select(**{"$filter": "tags/any(t: t eq 'vip')"})) == [a]
    assert ids(select(**{"$filter": "not tags/any(t: t eq 'vip')"})) == [b]


# ------------------------------------------------------------------ paging


def test_keyset_paging_on_id_walks_every_ticket(sandbox: MovideskSandbox, rsps: Any) -> None:
    every = seed(sandbox, 7)
    seen: list[int] = []
    last = 0
    while True:
        page = ids(select(**{"$filter": f"id gt {last}", "$orderby": "id", "$top": "3"}))
        if not page:
            break
        seen += page
        last = page[-1]
    assert seen == every
    assert ids(select(**{"$skip": "5"})) == every[5:]
    assert ids(select(**{"$orderby": "lastUpdate desc", "$top": "2"})) == every[::-1][:2]


def test_top_is_clamped_to_100_and_defaults_to_100(sandbox: MovideskSandbox, rsps: Any) -> None:
    seed(sandbox, 130, step=1)
    assert len(ids(select(**{"$top": "500"}))) == 100
    assert len(ids(select())) == 100
    assert len(ids(select(**{"$skip": "100"}))) == 30


def test_orderby_several_keys_and_shuffled_ties(clock: FakeTime) -> None:
    sandbox = MovideskSandbox(clock=clock, shuffle_ties=True, seed=3)
    t = seed(sandbox, 6)
    for ticket in t:
        sandbox.touch(ticket, clock.now - timedelta(hours=2))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sandbox.install(mock)
        orders = {tuple(ids(select(**{"$orderby": "lastUpdate"}))) for _ in range(8)}
        assert len(orders) > 1  # ties in no fixed order
        assert ids(select(**{"$orderby": "lastUpdate, id desc"})) == t[::-1]


# ------------------------------------------------------------------ PATCH


def test_patch_changes_only_what_it_sends_and_bumps_lastupdate(
    sandbox: MovideskSandbox, rsps: Any, clock: FakeTime
) -> None:
    (ticket,) = seed(sandbox, 1)
    before = get(id=ticket).json()
    clock.now += timedelta(minutes=5)
    answer = patch(ticket, {"subject": "Assunto novo", "tags": ["a"]})
    assert (answer.status_code, answer.content) == (200, b"")
    after = get(id=ticket).json()
    assert after["subject"] == "Assunto novo"
    assert after["tags"] == ["a"]
    assert after["lastUpdate"] == fmt(clock.now)
    assert {k: v for k, v in after.items() if k not in ("subject", "tags", "lastUpdate")} == {
        k: v for k, v in before.items() if k not in ("subject", "tags", "lastUpdate")
    }
    (write,) = sandbox.writes
    assert isinstance(write, Write)
    sent = {"subject": "Assunto novo", "tags": ["a"]}
    assert (write.method, write.ticket_id, write.body) == ("PATCH", ticket, sent)
    assert write.query["id"] == [str(ticket)]
    assert write.path == "/public/v1/tickets"


def test_custom_field_values_are_replaced_as_a_whole(
    lenient: MovideskSandbox, sandbox: MovideskSandbox, rsps: Any
) -> None:
    card = sandbox.add_custom_field("Card vinculado")
    flag = sandbox.add_custom_field("Bloqueio", type="list", choices=("Sim", "Não"))
    ticket = sandbox.add_ticket("x", custom_fields={card: "DEV-1", flag: "Sim"})
    sent = [{"customFieldId": card, "customFieldRuleId": 1, "line": 1, "value": "DEV-2"}]
    assert patch(ticket, {"customFieldValues": sent}).status_code == 200
    values = get(id=ticket).json()["customFieldValues"]
    assert [(v["customFieldId"], v["value"]) for v in values] == [(card, "DEV-2")]  # flag gone
    items = [{"customFieldItem": "Talvez"}]
    bad = [{"customFieldId": flag, "line": 1, "items": items}]
    assert patch(ticket, {"customFieldValues": bad}).status_code == 400
    assert patch(ticket, {"customFieldValues": [{"customFieldId": 1}]}).status_code == 400
    sandbox.set_custom_fields(ticket, {flag: "Não"})  # an agent in the UI: a merge
    values = get(id=ticket).json()["customFieldValues"]
    assert {v["customFieldId"] for v in values} == {card, flag}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"status": "Inexistente"}, 400),
        ({"status": "Pendente Financeiro"}, 400),
        ({"status": "Pendente Financeiro", "justification": "Aguardando cliente"}, 400),
        ({"status": "Novo", "justification": "Solucionado"}, 400),
        ({"justification": "Solucionado"}, 400),
        ({"status": "Aguardando", "justification": "Aguardando terceiro"}, 200),
        ({"status": "Em atendimento"}, 200),
    ],
)
def test_status_needs_its_own_justification(
    sandbox: MovideskSandbox, rsps: Any, body: dict[str, str], status: int
) -> None:
    (ticket,) = seed(sandbox, 1)
    assert patch(ticket, body).status_code == status


def test_status_change_moves_base_status_and_history(sandbox: MovideskSandbox, rsps: Any) -> None:
    (ticket,) = seed(sandbox, 1)
    body = {"status": "Resolvido", "justification": "Solucionado"}
    assert patch(ticket, body).status_code == 200
    data = get(id=ticket).json()
    assert (data["status"], data["baseStatus"], data["justification"]) == (
        "Resolvido",
        "Resolved",
        "Solucionado",
    )
    assert data["resolvedIn"] == data["lastUpdate"]
    assert data["statusHistories"][-1]["status"] == "Resolvido"
    assert data["statusHistories"][-1]["changedBy"]["id"] == sandbox.me


def test_owner_and_team_go_together(
    lenient: MovideskSandbox, sandbox: MovideskSandbox, rsps: Any
) -> None:
    agent = sandbox.add_person("Ana", profile_type=1, teams=["N1"])
    other = sandbox.add_person("Bia", profile_type=1, teams=["N2"])
    client = sandbox.add_person("Cliente")
    (ticket,) = seed(sandbox, 1)
    assert patch(ticket, {"owner": {"id": agent}}).status_code == 500
    assert patch(ticket, {"ownerTeam": "N1"}).status_code == 500
    assert patch(ticket, {"owner": {"id": agent}, "ownerTeam": None}).status_code == 500
    assert patch(ticket, {"owner": {"id": other}, "ownerTeam": "N1"}).status_code == 400
    assert patch(ticket, {"owner": {"id": "404"}, "ownerTeam": "N1"}).status_code == 400
    assert patch(ticket, {"owner": {"id": client}, "ownerTeam": "N1"}).status_code == 400
    assert patch(ticket, {"owner": {"id": agent}, "ownerTeam": "N9"}).status_code == 400
    assert patch(ticket, {"owner": {"id": agent}, "ownerTeam": "N1"}).status_code == 200
    assert patch(ticket, {"owner": None, "ownerTeam": "N2"}).status_code == 200
    data = get(id=ticket).json()
    assert (data["owner"], data["ownerTeam"]) == (None, "N2")
    assert [h["ownerTeam"] for h in data["ownerHistories"]] == ["N1", "N2"]


def test_new_actions_need_an_id_and_an_author(
    lenient: MovideskSandbox, sandbox: MovideskSandbox, rsps: Any
) -> None:
    (ticket,) = seed(sandbox, 1)
    agent = sandbox.add_person("Ana", profile_type=1)
    assert patch(ticket, {"actions": [{"type": 1, "description": "x"}]}).status_code == 500
    no_author = {"id": 0, "type": 1, "description": "x"}
    assert patch(ticket, {"actions": [no_author]}).status_code == 500
    assert patch(ticket, {"actions": [note("404")]}).status_code == 400
    assert patch(ticket, {"actions": [{**note(agent), "description": " "}]}).status_code == 400
    assert patch(ticket, {"actions": [{**note(agent), "type": 3}]}).status_code == 400
    assert patch(ticket, {"actions": [{"id": 77, "isDeleted": True}]}).status_code == 400
    assert patch(ticket, {"actions": [note(agent, "<p>Nota &amp; print</p>")]}).status_code == 200
    (action,) = get(id=ticket).json()["actions"]
    assert (action["type"], action["origin"], action["description"]) == (1, 9, "Nota & print")
    assert action["createdBy"]["id"] == agent
    assert patch(ticket, {"actions": [{"id": action["id"], "isDeleted": True}]}).status_code == 200
    assert get(id=ticket).json()["actions"] == []
    assert len(get(id=ticket, includeDeletedItems="true").json()["actions"]) == 1


def test_a_refused_write_changes_nothing(
    lenient: MovideskSandbox, sandbox: MovideskSandbox, rsps: Any, clock: FakeTime
) -> None:
    (ticket,) = seed(sandbox, 1)
    before = get(id=ticket).json()
    clock.now += timedelta(minutes=1)
    body = {"subject": "mudou?", "status": "Resolvido"}  # no justification
    assert patch(ticket, body).status_code == 400
    assert get(id=ticket).json() == before
    assert sandbox.writes == []
    assert patch(9999, {"subject": "x"}).status_code == 404
    bad = requests.patch(
        API + "/tickets", params={"token": DEFAULT_TOKEN, "id": ticket}, data="[]", timeout=5
    )
    assert bad.status_code == 415


# ------------------------------------------------------------------ POST


def test_post_requires_creator_clients_type_and_actions(
    lenient: MovideskSandbox, sandbox: MovideskSandbox, rsps: Any
) -> None:
    agent = sandbox.add_person("Ana", profile_type=1)
    client = sandbox.add_person("Cliente")
    body = {
        "type": 2,
        "subject": "Novo ticket",
        "createdBy": {"id": agent},
        "clients": [{"id": client}],
        "actions": [note(agent)],
    }
    missing_creator = post({k: v for k, v in body.items() if k != "createdBy"})
    assert (missing_creator.status_code, missing_creator.json()) == (400, "Ref. code is required")
    missing_clients = post({**body, "clients": []})
    assert (missing_clients.status_code, missing_clients.json()) == (400, "Customers is required")
    assert post({**body, "clients": [{"id": "404"}]}).status_code == 400
    assert post({k: v for k, v in body.items() if k != "type"}).status_code == 400
    assert post({**body, "actions": []}).status_code == 400
    assert post({**body, "actions": [{"type": 1, "description": "x"}]}).status_code == 400
    assert post({**body, "status": "Resolvido"}).status_code == 400
    assert sandbox.tickets == {}
    created = post(body)
    assert created.status_code == 200
    new_id = created.json()["id"]
    assert new_id == 1
    data = get(id=new_id).json()
    assert (data["status"], data["baseStatus"], data["origin"]) == ("Novo", "New", 9)
    full = post(body, returnAllProperties="true").json()
    assert full["id"] == 2
    assert full["subject"] == "Novo ticket"
    assert [w.ticket_id for w in sandbox.writes] == [1, 2]


def test_post_with_parent_links_both_ways(
    sandbox: MovideskSandbox, rsps: Any, clock: FakeTime
) -> None:
    agent = sandbox.add_person("Ana", profile_type=1, teams=["Ouvidoria"])
    client = sandbox.add_person("Cliente")
    parent = sandbox.add_ticket("pai", clients=[client], created_at=clock.now - timedelta(days=1))
    clock.now += timedelta(minutes=3)
    body = {
        "type": 1,
        "subject": f"OUVIDORIA - {parent}",
        "createdBy": {"id": agent},
        "clients": [{"id": client}],
        "owner": {"id": agent},
        "ownerTeam": "Ouvidoria",
        "status": "Aberto",
        "actions": [note(agent)],
        "parentTickets": [{"id": parent}],
    }
    assert post({**body, "parentTickets": [{"id": 999}]}).status_code == 400
    child = post(body).json()["id"]
    parent_view = get(id=parent).json()
    assert parent_view["childrenTickets"] == [
        {"id": child, "subject": f"OUVIDORIA - {parent}", "isDeleted": False}
    ]
    assert parent_view["lastUpdate"] == fmt(clock.now)
    child_view = get(id=child).json()
    assert child_view["parentTickets"][0]["id"] == parent
    assert (child_view["ownerTeam"], child_view["owner"]["id"]) == ("Ouvidoria", agent)
    assert ids(select(**{"$filter": f"parentTickets/any(p: p/id eq {parent})"})) == [child]


# ------------------------------------------------------------------ limits


def test_day_budget_is_ten_per_rolling_minute(clock: FakeTime) -> None:
    clock.now = DAY
    sandbox = MovideskSandbox(clock=clock)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sandbox.install(mock)
        for i in range(10):
            clock.now = DAY + timedelta(seconds=3 * i)
            assert select().status_code == 200
        refused = select()
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "33"  # the first call leaves at :60
        clock.now = DAY + timedelta(seconds=60)
        assert select().status_code == 200  # rolling: one slot freed
        assert select().status_code == 429
        assert sandbox.throttled == 2
        assert sandbox.lockouts == 0  # a 429 is not a failure


@pytest.mark.parametrize(
    ("local", "limited"),
    [
        ("07:00:59", False),
        ("07:01:00", True),
        ("18:59:59", True),
        ("19:00:00", False),
        ("03:00:00", False),
    ],
)
def test_night_is_unrestricted(clock: FakeTime, local: str, limited: bool) -> None:
    hours, minutes, seconds = (int(x) for x in local.split(":"))
    clock.now = datetime(2026, 11, 19, hours + 3, minutes, seconds, tzinfo=UTC)  # UTC-3
    sandbox = MovideskSandbox(clock=clock)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sandbox.install(mock)
        statuses = {select().status_code for _ in range(15)}
    assert statuses == ({200, 429} if limited else {200})


def test_limits_are_configurable(clock: FakeTime) -> None:
    clock.now = DAY
    sandbox = MovideskSandbox(clock=clock, day_limit=None, night_limit=2)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sandbox.install(mock)
        assert {select().status_code for _ in range(30)} == {200}
        clock.now = NIGHT
        assert [select().status_code for _ in range(3)] == [200, 200, 429]


def test_three_failures_lock_the_tickets_api_for_sixty_seconds(
    sandbox: MovideskSandbox, rsps: Any, clock: FakeTime
) -> None:
    (ticket,) = seed(sandbox, 1)
    for _ in range(3):
        assert get().status_code == 400  # no $select
    locked = select()
    assert locked.status_code == 429
    assert locked.text == "Too many failed requests"
    assert locked.headers["retry-after"] == "60"
    clock.now += timedelta(seconds=45)
    assert patch(ticket, {"subject": "x"}).headers["Retry-After"] == "15"
    assert get("/persons", id=sandbox.me).status_code == 200  # only the tickets API
    assert sandbox.lockouts == 1
    clock.now += timedelta(seconds=15)
    assert select().status_code == 200
    assert ticket not in [w.ticket_id for w in sandbox.writes]


def test_a_success_resets_the_failure_count(
    sandbox: MovideskSandbox, rsps: Any, clock: FakeTime
) -> None:
    seed(sandbox, 1)
    for _ in range(2):
        assert get().status_code == 400
    assert select().status_code == 200
    for _ in range(2):
        assert get(id=999).status_code == 404
    assert select().status_code == 200
    assert sandbox.lockouts == 0
    for _ in range(3):
        assert patch(999, {}).status_code == 404
    assert select().status_code == 429
    clock.now += timedelta(seconds=60)
    for _ in range(3):  # it locks again after three more errors
        assert select(token="bad").status_code == 401
    assert select().status_code == 429
    assert sandbox.lockouts == 2


def test_time_scale_shortens_the_announced_waits(clock: FakeTime) -> None:
    sandbox = MovideskSandbox(clock=clock, time_scale=10)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sandbox.install(mock)
        for _ in range(3):
            get()
        assert select().headers["retry-after"] == "6"


# ------------------------------------------------------------------ faults


def test_forced_429_burst_carries_retry_after(sandbox: MovideskSandbox, rsps: Any) -> None:
    sandbox.inject(Faults(rate_limited=2, retry_after=7))
    first, second, third = (select() for _ in range(3))
    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert second.status_code == 429
    assert third.status_code == 200
    assert sandbox.lockouts == 0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_count_towards_the_lock(
    sandbox: MovideskSandbox, rsps: Any, status: int
) -> None:
    sandbox.inject(Faults(server_errors=3, server_error_status=status))
    assert [select().status_code for _ in range(3)] == [status] * 3
    assert select().status_code == 429
    assert sandbox.lockouts == 1


def test_faults_can_target_a_path_and_method(sandbox: MovideskSandbox, rsps: Any) -> None:
    (ticket,) = seed(sandbox, 1)
    sandbox.inject(Faults(server_errors=5, path=r"/tickets$", method="PATCH"))
    assert select().status_code == 200
    assert patch(ticket, {"subject": "x"}).status_code == 503
    assert get("/persons", id=sandbox.me).status_code == 200


def test_timeouts_drops_and_slow_answers(
    sandbox: MovideskSandbox, rsps: Any, clock: FakeTime
) -> None:
    sandbox.inject(Faults(timeouts=1, dropped=1, slow=1, delay=2.5))
    with pytest.raises(requests.exceptions.ConnectionError):
        select()
    with pytest.raises(requests.exceptions.ReadTimeout):
        select()
    assert select().status_code == 200
    assert clock.sleeps == [2.5]
    assert [c.status for c in sandbox.calls] == [0, 0, 200]


def test_a_write_can_be_lost_after_it_happened(sandbox: MovideskSandbox, rsps: Any) -> None:
    (ticket,) = seed(sandbox, 1)
    seen: list[Write] = []
    sandbox.inject(Faults(dropped_after_write=1, after_write=seen.append))
    with pytest.raises(requests.exceptions.ConnectionError):
        patch(ticket, {"subject": "gravado"})
    assert sandbox.tickets[ticket].subject == "gravado"
    assert sandbox.writes == seen
    assert seen[0].ticket_id == ticket


def test_after_write_hook_can_crash_the_caller(sandbox: MovideskSandbox, rsps: Any) -> None:
    class Crash(BaseException):
        pass

    def crash(write: Write) -> None:
        raise Crash

    (ticket,) = seed(sandbox, 1)
    sandbox.inject(Faults(after_write=crash, method="PATCH"))
    with pytest.raises(Crash):
        patch(ticket, {"subject": "antes do crash"})
    assert sandbox.tickets[ticket].subject == "antes do crash"


# ------------------------------------------------------------------ other routes


def test_persons_by_id_and_filtered(
    sandbox: MovideskSandbox, rsps: Any, account: EmissorAccount
) -> None:
    company = get("/persons", id=account.companies["mercadinho_sol"]).json()
    assert (company["personType"], company["cpfCnpj"]) == (2, "52601815000120")
    agents = get(
        "/persons",
        **{"$filter": "teams/any(t: t eq 'Financeiro-Atendimento')", "$select": "id,teams"},
    ).json()
    assert agents == [{"id": account.agents["patricia.lima"], "teams": ["Financeiro-Atendimento"]}]
    cnpjs = get("/persons", **{"$filter": "personType eq 2", "$select": "cpfCnpj"}).json()
    assert len(cnpjs) == 9
    assert all(re.fullmatch(r"\d{14}", c["cpfCnpj"]) for c in cnpjs)
    assert get("/persons", id="404").status_code == 404
    assert (
        requests.delete(API + "/tickets", params={"token": DEFAULT_TOKEN}, timeout=5).status_code
        == 405
    )
    assert get("/nothing").status_code == 404


def test_html_description_of_a_ticket_and_an_action(
    sandbox: MovideskSandbox, rsps: Any, account: EmissorAccount
) -> None:
    ticket = account.tickets["finance_block"]
    first = get("/tickets/htmldescription", id=ticket).json()
    assert first["id"] == ticket
    assert "<strong>conta suspensa</strong>" in first["description"]
    second = get("/tickets/htmldescription", id=ticket, actionId=2).json()
    assert "#finan-suporte" in second["description"]


# ------------------------------------------------------------------ the Emissor account


def test_emissor_account_serves_what_the_flows_read(
    sandbox: MovideskSandbox, rsps: Any, account: EmissorAccount
) -> None:
    assert set(account.teams) == {"Suporte N1", "Financeiro-Atendimento", "Ouvidoria", "Onboarding"}
    finance = get(id=account.tickets["finance_block"]).json()
    values = {v["customFieldId"]: v for v in finance["customFieldValues"]}
    block = values[account.fields["bloqueio_inadimplencia"]]
    assert block["items"][0]["customFieldItem"] == "Sim"
    assert "35 dias" in values[account.fields["motivo_bloqueio"]]["value"]
    internal = [a for a in finance["actions"] if a["type"] == 1]
    assert [x["fileName"] for x in internal[0]["attachments"]] == [
        "print_embed_bloqueio.png",
        "print finan-suporte.jpeg",
    ]
    assert finance["clients"][0]["organization"]["businessName"] == "Mercadinho Sol Nascente Ltda"
    onboarding = get(id=account.tickets["onboarding"]).json()
    pointer = {v["customFieldId"]: v["value"] for v in onboarding["customFieldValues"]}
    assert pointer[account.fields["ticket_onboarding"]] == str(account.tickets["onboarding_main"])
    company = account.companies["ph_eletrica"]
    same_customer = select(
        fields="id,subject,createdDate,baseStatus",
        **{
            "$filter": f"clients/any(c: c/organization/id eq '{company}')",
            "$expand": "owner($select=businessName),customFieldValues",
        },
    ).json()
    assert [t["id"] for t in same_customer] == [
        account.tickets["duplicate_card"],
        account.tickets["duplicate_card_newer"],
    ]
    assert same_customer[1]["customFieldValues"][0]["value"] == "DEV-4821"
    assert ids(select("/tickets/past")) == [account.tickets["past"]]


def test_emissor_writes_pass_the_account_validation(
    sandbox: MovideskSandbox, rsps: Any, account: EmissorAccount
) -> None:
    me = sandbox.me
    finance = {
        "owner": None,
        "ownerTeam": "Financeiro-Atendimento",
        "status": "Pendente Financeiro",
        "justification": "Bloqueio por inadimplência",
        "actions": [note(me, "<p>[helpdesk-sync] Cliente bloqueado por inadimplência.</p>")],
    }
    assert patch(account.tickets["finance_block"], finance).status_code == 200
    onboarding = {"status": "Pendente Onboarding", "justification": "Cliente em onboarding"}
    assert patch(account.tickets["onboarding"], onboarding).status_code == 200
    duplicate = {"status": "Pendente Suporte", "justification": "Ticket duplicado (mesmo assunto)"}
    assert patch(account.tickets["duplicate_merge"], duplicate).status_code == 200
    route = {"owner": {"id": account.agents["diego.rocha"]}, "ownerTeam": "Suporte N1"}
    assert patch(account.tickets["duplicate_card"], route).status_code == 200
    resolved = account.tickets["ouvidoria"]
    ombudsman = {
        "type": 1,
        "subject": f"OUVIDORIA - {resolved}",
        "createdBy": {"id": me},
        "clients": [{"id": account.clients["ouvidoria_bematech"]}],
        "owner": {"id": account.agents["richard"]},
        "ownerTeam": "Ouvidoria",
        "status": "Aberto",
        "category": "Ouvidoria",
        "actions": [note(me, f"<p>Número do ticket resolvido: {resolved}</p>")],
    }
    assert post(ombudsman).status_code == 200
    assert post({**ombudsman, "category": "Inexistente"}).status_code == 400
    resolve = {"status": "Resolvido", "justification": "Solucionado"}
    assert patch(resolved, resolve).status_code == 200
    assert sandbox.lockouts == 0


# ------------------------------------------------------------------ on the wire


def test_loopback_server_answers_real_http(clock: FakeTime) -> None:
    sandbox = MovideskSandbox(clock=clock)
    (ticket,) = seed(sandbox, 1)
    with sandbox.serve() as running:
        assert running.url.endswith("/public/v1")
        params = {"token": DEFAULT_TOKEN, "$select": "id,subject"}
        rows = requests.get(running.url + "/tickets", params=params, timeout=5)
        assert rows.json() == [{"id": ticket, "subject": "ticket 0"}]
        changed = requests.patch(
            running.url + "/tickets",
            params={"token": DEFAULT_TOKEN, "id": ticket},
            json={"subject": "pela rede"},
            timeout=5,
        )
        assert changed.status_code == 200
        assert sandbox.tickets[ticket].subject == "pela rede"
        sandbox.inject(Faults(dropped=1))
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(running.url + "/tickets", params=params, timeout=5)
        assert requests.get(running.url + "/tickets", params=params, timeout=5).ok


def test_module_entry_point_serves_the_emissor_account() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    command = [
        sys.executable,
        "-m",
        "sandboxes.movidesk",
        "--seed",
        "emissor",
        "--day-limit",
        "none",
    ]
    with subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+/public/v1", url)
            params = {"token": DEFAULT_TOKEN, "$select": "id"}
            rows = requests.get(url + "/tickets", params=params, timeout=5).json()
            assert len(rows) == 12  # the 13th is in /tickets/past
        finally:
            process.terminate()
