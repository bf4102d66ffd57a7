"""The Freshdesk sandbox follows the API contract in shared/reference/freshdesk.md."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import responses

from sandboxes.freshdesk import (
    DEFAULT_API_KEY,
    DEFAULT_BASE_URL,
    Faults,
    FreshdeskSandbox,
    RatePlan,
    Write,
)

T0 = datetime(2026, 11, 19, 12, 0, 0, tzinfo=UTC)
API = DEFAULT_BASE_URL + "/api/v2"
AUTH = (DEFAULT_API_KEY, "X")


class FakeTime:
    """One clock for the sandbox; ``sleep`` records and advances it."""

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
def sandbox(clock: FakeTime) -> FreshdeskSandbox:
    return FreshdeskSandbox(clock=clock, sleep=clock.sleep)


@pytest.fixture
def rsps(sandbox: FreshdeskSandbox) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sandbox.install(mock)
        yield mock


def get(path: str, **params: Any) -> requests.Response:
    return requests.get(API + path, params=params, auth=AUTH, timeout=5)


def put(path: str, body: Any) -> requests.Response:
    return requests.put(API + path, json=body, auth=AUTH, timeout=5)


def post(path: str, body: Any) -> requests.Response:
    return requests.post(API + path, json=body, auth=AUTH, timeout=5)


def seed(sandbox: FreshdeskSandbox, count: int, *, at: datetime = T0, step: int = 1) -> list[int]:
    """``count`` tickets created two days ago, updated ``step`` seconds apart from ``at``."""
    return [
        sandbox.add_ticket(
            f"ticket {i}",
            created_at=T0 - timedelta(days=2),
            updated_at=at + timedelta(seconds=i * step),
        )
        for i in range(count)
    ]


SINCE = "2026-11-01T00:00:00Z"


# ------------------------------------------------------------------ auth


def test_wrong_key_is_401_with_the_documented_body(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    response = requests.get(API + "/tickets", auth=("wrong", "X"), timeout=5)
    assert response.status_code == 401
    assert response.json() == {
        "code": "invalid_credentials",
        "message": "You have to be logged in to perform this action.",
    }
    assert requests.get(API + "/tickets", timeout=5).status_code == 401


def test_any_password_is_accepted_with_the_api_key(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    response = requests.get(API + "/agents/me", auth=(DEFAULT_API_KEY, "anything"), timeout=5)
    assert response.status_code == 200
    assert response.json()["contact"]["email"] == "admin@sandbox.example"


# ------------------------------------------------------------------ list tickets


def test_pagination_links_next_until_the_last_page(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    seed(sandbox, 7)
    first = get(
        "/tickets", updated_since=SINCE, order_by="updated_at", order_type="asc", per_page=3
    )
    assert [t["subject"] for t in first.json()] == ["ticket 0", "ticket 1", "ticket 2"]
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"')
    assert "page=2" in link
    assert f"updated_since={SINCE}" in link  # echoed unescaped
    second = requests.get(first.links["next"]["url"], auth=AUTH, timeout=5)
    third = requests.get(second.links["next"]["url"], auth=AUTH, timeout=5)
    assert [t["subject"] for t in third.json()] == ["ticket 6"]
    assert "Link" not in third.headers


def test_link_echoes_a_plus_offset_unescaped(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    seed(sandbox, 3)
    first = get("/tickets", updated_since="2026-11-01T00:00:00+00:00", per_page=1)
    assert "updated_since=2026-11-01T00:00:00+00:00" in first.headers["Link"]
    # Followed as given, "+" decodes to a space server-side: the documented quirk.
    assert requests.get(first.links["next"]["url"], auth=AUTH, timeout=5).status_code == 400


def test_page_beyond_the_cap_is_the_documented_400(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    response = get("/tickets", updated_since=SINCE, page=301)
    assert response.status_code == 400
    assert response.json() == {
        "description": "Validation failed",
        "errors": [
            {
                "field": "page",
                "message": "You cannot access tickets beyond the 300th page. Please provide a "
                "smaller page number.",
                "code": "invalid_value",
            }
        ],
    }
    assert get("/tickets", updated_since=SINCE, page=300).status_code == 200


def test_the_next_link_may_point_past_the_cap(clock: FakeTime) -> None:
    sandbox = FreshdeskSandbox(clock=clock, page_cap=2)
    seed(sandbox, 5)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sandbox.install(mock)
        page2 = get("/tickets", updated_since=SINCE, per_page=2, page=2)
        assert "page=3" in page2.headers["Link"]
        assert requests.get(page2.links["next"]["url"], auth=AUTH, timeout=5).status_code == 400


@pytest.mark.parametrize("per_page", ["101", "0", "x"])
def test_per_page_over_100_or_invalid_is_400(
    sandbox: FreshdeskSandbox, rsps: Any, per_page: str
) -> None:
    response = get("/tickets", updated_since=SINCE, per_page=per_page)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "per_page"


def test_default_page_size_is_30(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    seed(sandbox, 31)
    assert len(get("/tickets", updated_since=SINCE).json()) == 30


def test_updated_since_is_inclusive(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    seed(sandbox, 3)  # T0, T0+1s, T0+2s
    rows = get("/tickets", updated_since="2026-11-19T12:00:01Z", order_by="updated_at").json()
    assert sorted(r["updated_at"] for r in rows) == ["2026-11-19T12:00:01Z", "2026-11-19T12:00:02Z"]


def test_timestamps_are_utc_seconds_with_z(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    sandbox.add_ticket("x", created_at=datetime(2026, 11, 19, 9, 0, 0, 750_000, tzinfo=UTC))
    row = get("/tickets", updated_since=SINCE).json()[0]
    assert row["created_at"] == "2026-11-19T09:00:00Z"
    assert row["updated_at"] == "2026-11-19T09:00:00Z"


def test_without_updated_since_only_recently_created_tickets(
    sandbox: FreshdeskSandbox, rsps: Any
) -> None:
    sandbox.add_ticket("old", created_at=T0 - timedelta(days=40), updated_at=T0)
    sandbox.add_ticket("new", created_at=T0 - timedelta(days=3))
    assert [t["subject"] for t in get("/tickets").json()] == ["new"]
    subjects = {t["subject"] for t in get("/tickets", updated_since=SINCE).json()}
    assert subjects == {"old", "new"}


def test_spam_and_deleted_are_excluded_by_default(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    sandbox.add_ticket("ok")
    sandbox.add_ticket("spam", spam=True)
    sandbox.add_ticket("deleted", deleted=True)
    assert [t["subject"] for t in get("/tickets", updated_since=SINCE).json()] == ["ok"]
    assert [t["subject"] for t in get("/tickets", filter="spam").json()] == ["spam"]
    assert [t["subject"] for t in get("/tickets", filter="deleted").json()] == ["deleted"]


def test_order_and_validation_of_order_params(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    seed(sandbox, 3)
    rows = get("/tickets", updated_since=SINCE, order_by="updated_at").json()
    assert [r["subject"] for r in rows] == ["ticket 2", "ticket 1", "ticket 0"]  # desc default
    assert get("/tickets", order_by="subject").status_code == 400
    assert get("/tickets", order_type="up").status_code == 400
    assert get("/tickets", include="conversations").status_code == 400


def test_ties_are_by_id_unless_shuffled(clock: FakeTime) -> None:
    stable = FreshdeskSandbox(clock=clock)
    shuffled = FreshdeskSandbox(clock=clock, shuffle_ties=True, seed=7)
    for box in (stable, shuffled):
        seed(box, 20, step=0)
    orders: dict[str, set[tuple[int, ...]]] = {"stable": set(), "shuffled": set()}
    for name, box in (("stable", stable), ("shuffled", shuffled)):
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            box.install(mock)
            for _ in range(5):
                rows = get("/tickets", updated_since=SINCE, order_by="updated_at", order_type="asc")
                orders[name].add(tuple(r["id"] for r in rows.json()))
    assert orders["stable"] == {tuple(range(1, 21))}
    assert len(orders["shuffled"]) > 1


def test_list_rows_carry_no_description_unless_included(
    sandbox: FreshdeskSandbox, rsps: Any
) -> None:
    sandbox.add_ticket("x", description="<p>hello</p>")
    plain = get("/tickets", updated_since=SINCE)
    assert "description" not in plain.json()[0]
    assert plain.headers["X-RateLimit-Used-CurrentRequest"] == "1"
    full = get("/tickets", updated_since=SINCE, include="description,requester")
    assert full.json()[0]["description_text"] == "hello"
    assert full.json()[0]["requester"]["email"] == "cliente@example.com"
    assert full.headers["X-RateLimit-Used-CurrentRequest"] == "5"  # +2 credits per include


# ------------------------------------------------------------------ rate limits


def test_rate_headers_decrease_then_429_with_retry_after(clock: FakeTime) -> None:
    clock.now = T0 + timedelta(seconds=15)
    sandbox = FreshdeskSandbox(clock=clock, plan=RatePlan("tiny", 5))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sandbox.install(mock)
        remaining = [int(get("/agents/me").headers["X-RateLimit-Remaining"]) for _ in range(5)]
        assert remaining == [4, 3, 2, 1, 0]
        limited = get("/agents/me")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "45"  # seconds left in the minute window
        assert "X-RateLimit-Remaining" not in limited.headers
        clock.now = T0 + timedelta(seconds=60)
        fresh = get("/agents/me")
        assert fresh.status_code == 200
        assert fresh.headers["X-RateLimit-Total"] == "5"
        assert fresh.headers["X-RateLimit-Remaining"] == "4"


def test_tickets_list_sub_limit(clock: FakeTime) -> None:
    sandbox = FreshdeskSandbox(clock=clock, plan="growth")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sandbox.install(mock)
        statuses = [get("/tickets", updated_since=SINCE).status_code for _ in range(21)]
        assert statuses == [200] * 20 + [429]
        assert get("/agents/me").status_code == 200  # the account-wide budget is not exhausted


def test_time_scale_shortens_retry_after(clock: FakeTime) -> None:
    clock.now = T0 + timedelta(seconds=15)
    sandbox = FreshdeskSandbox(clock=clock, plan=RatePlan("tiny", 1), time_scale=60)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        sandbox.install(mock)
        assert get("/agents/me").status_code == 200
        limited = get("/agents/me")
        assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")  # 45 s / 60


# ------------------------------------------------------------------ view and conversations


def test_view_with_conversations_embeds_at_most_ten_oldest_first(
    sandbox: FreshdeskSandbox, rsps: Any
) -> None:
    ticket = sandbox.add_ticket("x", attachments=[("nf.pdf", "application/pdf")])
    for i in range(12):
        sandbox.add_note(ticket, f"<p>note {i}</p>", created_at=T0 + timedelta(minutes=i))
    response = get(f"/tickets/{ticket}", include="conversations")
    data = response.json()
    assert [c["body_text"] for c in data["conversations"]] == [f"note {i}" for i in range(10)]
    assert data["attachments"][0]["name"] == "nf.pdf"
    assert response.headers["X-RateLimit-Used-CurrentRequest"] == "2"
    assert get("/tickets/999").status_code == 404


def test_conversations_are_paginated_with_documented_fields(
    sandbox: FreshdeskSandbox, rsps: Any
) -> None:
    ticket = sandbox.add_ticket("x")
    for i in range(5):
        sandbox.add_note(
            ticket,
            f"<p>n{i}</p>",
            private=i % 2 == 0,
            source=2 if i % 2 == 0 else 0,
            attachments=[("print.png", "image/png")] if i == 0 else (),
        )
    first = get(f"/tickets/{ticket}/conversations", per_page=2)
    assert len(first.json()) == 2
    assert 'rel="next"' in first.headers["Link"]
    note = first.json()[0]
    assert {
        "id",
        "body",
        "body_text",
        "incoming",
        "private",
        "user_id",
        "source",
        "ticket_id",
        "attachments",
        "created_at",
        "updated_at",
    } <= set(note)
    assert set(note["attachments"][0]) >= {"id", "name", "content_type", "size", "attachment_url"}
    assert get(f"/tickets/{ticket}/conversations", per_page=101).status_code == 400


# ------------------------------------------------------------------ notes


def test_note_is_created_private_and_bumps_updated_at(
    sandbox: FreshdeskSandbox, rsps: Any, clock: FakeTime
) -> None:
    ticket = sandbox.add_ticket("x", created_at=T0 - timedelta(hours=1))
    clock.now = T0 + timedelta(minutes=5)
    response = post(f"/tickets/{ticket}/notes", {"body": "<p>oi</p>"})
    assert response.status_code == 201
    assert response.headers["Location"].endswith(
        f"/tickets/{ticket}/conversations/{response.json()['id']}"
    )
    # Docs "Create a Note": the answer carries no ``source``; the conversation list does.
    assert set(response.json()) == {
        "body_text",
        "body",
        "id",
        "incoming",
        "private",
        "user_id",
        "support_email",
        "ticket_id",
        "notified_to",
        "attachments",
        "created_at",
        "updated_at",
    }
    assert response.json()["private"] is True
    listed = get(f"/tickets/{ticket}/conversations").json()
    assert [(c["id"], c["source"]) for c in listed] == [(response.json()["id"], 2)]
    view = get(f"/tickets/{ticket}").json()
    assert view["updated_at"] == "2026-11-19T12:05:00Z"
    assert sandbox.writes == [
        Write("POST", f"/api/v2/tickets/{ticket}/notes", ticket, {"body": "<p>oi</p>"}, clock.now)
    ]


def test_note_needs_a_body(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    ticket = sandbox.add_ticket("x")
    assert post(f"/tickets/{ticket}/notes", {"private": True}).status_code == 400
    assert post("/tickets/999/notes", {"body": "x"}).status_code == 404
    assert sandbox.writes == []


# ------------------------------------------------------------------ update


def test_update_validates_status_against_the_account(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    ticket = sandbox.add_ticket("x")
    refused = put(f"/tickets/{ticket}", {"status": 6})
    assert refused.status_code == 400
    assert refused.json() == {
        "description": "Validation failed",
        "errors": [
            {
                "field": "status",
                "message": "It should be one of these values: '2,3,4,5'",
                "code": "invalid_value",
            }
        ],
    }
    custom = sandbox.add_custom_status("Aguardando cliente")
    assert custom == 6
    assert put(f"/tickets/{ticket}", {"status": 6}).json()["status"] == 6
    message = put(f"/tickets/{ticket}", {"status": 9}).json()["errors"][0]["message"]
    assert message == "It should be one of these values: '2,3,4,5,6'"


def test_ticket_fields_list_status_choices_with_custom_statuses(
    sandbox: FreshdeskSandbox, rsps: Any
) -> None:
    sandbox.add_custom_status("Aguardando cliente", "Aguardando sua resposta")
    sandbox.add_custom_field("cf_categoria", "Categoria")
    fields = get("/ticket_fields").json()
    status = next(f for f in fields if f["name"] == "status")
    assert status["choices"]["2"] == ["Open", "Being Processed"]
    assert status["choices"]["6"] == ["Aguardando cliente", "Aguardando sua resposta"]
    assert any(f["name"] == "cf_categoria" and f["default"] is False for f in fields)
    assert [f["name"] for f in get("/ticket_fields", type="default_status").json()] == ["status"]


def test_update_checks_references_and_types(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    ticket = sandbox.add_ticket("x")
    group = sandbox.add_group("Financeiro")
    agent = sandbox.add_agent("Ana", "ana@example.com")
    sandbox.add_custom_field("cf_prazo", type="custom_date")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"priority": 5}, 400, "invalid_value"),
        ({"group_id": 999}, 400, "invalid_value"),
        ({"responder_id": 999}, 400, "invalid_value"),
        ({"custom_fields": {"cf_nope": "x"}}, 400, "invalid_field"),
        ({"custom_fields": {"cf_prazo": "19/11/2026"}}, 400, "invalid_date"),
        ({"tags": None}, 400, "datatype_mismatch"),
        ({"custom_fields": None}, 400, "datatype_mismatch"),
        ({"parent_id": ticket}, 400, "invalid_field"),
        ({"nonsense": 1}, 400, "invalid_field"),
    ]
    for body, status, code in cases:
        response = put(f"/tickets/{ticket}", body)
        assert (response.status_code, response.json()["errors"][0]["code"]) == (status, code), body
    ok = put(
        f"/tickets/{ticket}",
        {
            "group_id": group,
            "responder_id": agent,
            "tags": ["a"],
            "custom_fields": {"cf_prazo": "2026-11-20"},
        },
    )
    assert ok.status_code == 200
    assert ok.json()["custom_fields"]["cf_prazo"] == "2026-11-20"
    assert put(f"/tickets/{ticket}", {"tags": ["b"]}).json()["tags"] == ["b"]  # replaced


def test_update_rejects_empty_bodies_bad_json_and_content_type(
    sandbox: FreshdeskSandbox, rsps: Any
) -> None:
    ticket = sandbox.add_ticket("x")
    empty = put(f"/tickets/{ticket}", {})
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["code"] == "missing_params"
    url = f"{API}/tickets/{ticket}"
    bad_json = requests.put(
        url, data=b"{nope", headers={"Content-Type": "application/json"}, auth=AUTH, timeout=5
    )
    assert (bad_json.status_code, bad_json.json()["code"]) == (400, "invalid_json")
    form = requests.put(url, data={"status": "3"}, auth=AUTH, timeout=5)
    assert form.status_code == 415
    assert sandbox.writes == []


def test_update_of_spam_ticket_is_405(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    ticket = sandbox.add_ticket("x", spam=True)
    assert put(f"/tickets/{ticket}", {"status": 3}).status_code == 405


def test_update_bumps_updated_at_only_on_change(
    sandbox: FreshdeskSandbox, rsps: Any, clock: FakeTime
) -> None:
    ticket = sandbox.add_ticket("x", status=3, created_at=T0)
    clock.now = T0 + timedelta(minutes=1)
    assert put(f"/tickets/{ticket}", {"status": 3}).json()["updated_at"] == "2026-11-19T12:00:00Z"
    assert put(f"/tickets/{ticket}", {"status": 2}).json()["updated_at"] == "2026-11-19T12:01:00Z"


# ------------------------------------------------------------------ create, children, merge


def test_create_requires_status_priority_and_a_requester(
    sandbox: FreshdeskSandbox, rsps: Any
) -> None:
    base = {"subject": "s", "description": "<p>d</p>", "status": 2, "priority": 1}
    for missing in ("status", "priority"):
        body = {k: v for k, v in base.items() if k != missing}
        body["email"] = "x@example.com"
        response = post("/tickets", body)
        assert response.status_code == 400
        assert response.json()["errors"][0] == {
            "field": missing,
            "message": response.json()["errors"][0]["message"],
            "code": "missing_field",
        }
    assert post("/tickets", base).json()["errors"][0]["field"] == "requester_id"
    created = post("/tickets", {**base, "email": "novo@example.com"})
    assert created.status_code == 201
    assert created.headers["Location"] == f"{API}/tickets/{created.json()['id']}"


def test_child_tickets_link_both_ways(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    parent = sandbox.add_ticket("parent")
    body = {"subject": "c", "status": 2, "priority": 1, "requester_id": sandbox.default_requester}
    child = post("/tickets", {**body, "parent_id": parent})
    assert child.status_code == 201
    assert child.json()["association_type"] == 2
    view = get(f"/tickets/{parent}").json()
    assert view["association_type"] == 1
    assert view["associated_tickets_list"] == [child.json()["id"]]
    # Docs "Get Associated Tickets": an object holding a ``tickets`` list of summaries.
    related = get(f"/tickets/{parent}/associated_tickets").json()
    assert list(related) == ["tickets"]
    assert [t["id"] for t in related["tickets"]] == [child.json()["id"]]
    assert "description" not in related["tickets"][0]
    # Only a parent (or tracker) has associated tickets; the server code answers 404.
    assert get(f"/tickets/{child.json()['id']}/associated_tickets").status_code == 404
    assert get(f"/tickets/{sandbox.add_ticket('alone')}/associated_tickets").status_code == 404
    grandchild = post("/tickets", {**body, "parent_id": child.json()["id"]})
    assert grandchild.status_code == 400  # a child cannot be a parent


def test_child_with_unknown_parent_is_403_access_denied(
    sandbox: FreshdeskSandbox, rsps: Any
) -> None:
    body = {"subject": "c", "status": 2, "priority": 1, "email": "x@example.com", "parent_id": 999}
    response = post("/tickets", body)
    assert response.status_code == 403
    assert response.json()["code"] == "access_denied"


def test_parent_with_open_children_cannot_be_resolved(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    parent = sandbox.add_ticket("parent")
    post(
        "/tickets",
        {"subject": "c", "status": 2, "priority": 1, "email": "x@example.com", "parent_id": parent},
    )
    assert put(f"/tickets/{parent}", {"status": 4}).status_code == 400


def test_merge_closes_secondaries_and_answers_204(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    primary, secondary = sandbox.add_ticket("a"), sandbox.add_ticket("b")
    response = put("/tickets/merge", {"primary_id": primary, "ticket_ids": [primary, secondary]})
    assert response.status_code == 204
    assert response.content == b""
    assert get(f"/tickets/{secondary}").json()["status"] == 5
    notes = get(f"/tickets/{secondary}/conversations").json()
    assert notes[-1]["body"] == f"This ticket is closed and merged into ticket {primary}"
    again = put("/tickets/merge", {"primary_id": primary, "ticket_ids": [primary, secondary]})
    assert again.status_code == 400
    assert put("/tickets/merge", {"primary_id": primary, "ticket_ids": [999]}).status_code == 404


# ------------------------------------------------------------------ lookups


def test_groups_agents_and_me(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    sandbox.add_group("Financeiro")
    ana = sandbox.add_agent("Ana Souza", "ana@example.com")
    assert [g["name"] for g in get("/groups").json()] == ["Financeiro"]
    assert [a["id"] for a in get("/agents", email="ana@example.com").json()] == [ana]
    assert get("/agents/me").json()["id"] == sandbox.me
    assert requests.post(API + "/groups", json={}, auth=AUTH, timeout=5).status_code == 405
    assert get("/nothing").status_code == 404


# ------------------------------------------------------------------ faults


def test_forced_429_burst_carries_retry_after(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    sandbox.inject(Faults(rate_limited=2, retry_after=7))
    first, second, third = (get("/agents/me") for _ in range(3))
    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert second.status_code == 429
    assert third.status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_burst(sandbox: FreshdeskSandbox, rsps: Any, status: int) -> None:
    sandbox.inject(Faults(server_errors=1, server_error_status=status))
    failed = get("/agents/me")
    assert failed.status_code == status
    assert failed.content
    assert get("/agents/me").status_code == 200


def test_faults_can_target_a_path_and_method(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    ticket = sandbox.add_ticket("x")
    sandbox.inject(Faults(server_errors=5, path=r"/notes$", method="POST"))
    assert get(f"/tickets/{ticket}").status_code == 200
    assert post(f"/tickets/{ticket}/notes", {"body": "x"}).status_code == 503


def test_timeouts_and_dropped_connections_in_responses_mode(
    sandbox: FreshdeskSandbox, rsps: Any
) -> None:
    sandbox.inject(Faults(timeouts=1, dropped=1))
    with pytest.raises(requests.exceptions.ConnectionError):
        get("/agents/me")
    with pytest.raises(requests.exceptions.ReadTimeout):
        get("/agents/me")
    assert get("/agents/me").status_code == 200


def test_slow_responses_wait_on_the_injected_sleep(
    sandbox: FreshdeskSandbox, rsps: Any, clock: FakeTime
) -> None:
    sandbox.inject(Faults(slow=2, delay=3.5))
    for _ in range(3):
        assert get("/agents/me").status_code == 200
    assert clock.sleeps == [3.5, 3.5]


def test_a_write_can_be_lost_after_it_happened(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    ticket = sandbox.add_ticket("x")
    seen: list[Write] = []
    sandbox.inject(Faults(dropped_after_write=1, after_write=seen.append))
    with pytest.raises(requests.exceptions.ConnectionError):
        post(f"/tickets/{ticket}/notes", {"body": "<p>x</p>"})
    assert len(sandbox.conversations[ticket]) == 1  # the note exists, its answer was lost
    assert [w.path for w in seen] == [f"/api/v2/tickets/{ticket}/notes"]
    assert sandbox.writes == seen


def test_after_write_hook_can_crash_the_caller(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    class Crash(BaseException):
        pass

    def crash(write: Write) -> None:
        raise Crash

    ticket = sandbox.add_ticket("x")
    sandbox.inject(Faults(after_write=crash))
    with pytest.raises(Crash):
        put(f"/tickets/{ticket}", {"status": 3})
    assert sandbox.tickets[ticket].status == 3


# ------------------------------------------------------------------ loopback server


def test_loopback_server_answers_real_http() -> None:
    sandbox = FreshdeskSandbox()
    ticket = sandbox.add_ticket("over the wire")
    with sandbox.serve() as running:
        url = running.url + "/api/v2"
        rows = requests.get(url + "/tickets", params={"updated_since": SINCE}, auth=AUTH, timeout=5)
        assert rows.status_code == 200
        assert rows.json()[0]["subject"] == "over the wire"
        assert rows.headers["X-RateLimit-Remaining"]
        note = requests.post(
            url + f"/tickets/{ticket}/notes", json={"body": "x"}, auth=AUTH, timeout=5
        )
        assert note.status_code == 201
        assert note.headers["Location"].startswith(running.url)
        assert requests.get(url + "/tickets", auth=("bad", "X"), timeout=5).status_code == 401
        sandbox.inject(Faults(dropped=1))
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(url + "/agents/me", auth=AUTH, timeout=5)
        assert requests.get(url + "/agents/me", auth=AUTH, timeout=5).status_code == 200


def test_module_entry_point_serves_a_seeded_account() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    command = [
        sys.executable,
        "-m",
        "sandboxes.freshdesk",
        "--port",
        "0",
        "--seed",
        "demo",
    ]
    with subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            groups = requests.get(url + "/api/v2/groups", auth=AUTH, timeout=5).json()
            assert "Distribuidores" in [g["name"] for g in groups]
            rows = requests.get(url + "/api/v2/tickets", auth=AUTH, timeout=5).json()
            assert len(rows) == 2
        finally:
            process.terminate()


# ------------------------------------------------------------------ documented shapes


def test_contacts_companies_and_their_fields(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    sandbox.add_company_field("cnpj", "CNPJ")
    company = sandbox.add_company("Mercadinho", custom_fields={"cnpj": "11.222.333/0001-81"})
    contact = sandbox.add_contact(
        "Joana", "joana@example.com", phone="(81) 3333-4444", company_id=company
    )
    viewed = get(f"/contacts/{contact}").json()
    assert {"id", "name", "email", "phone", "mobile", "company_id", "custom_fields"} <= set(viewed)
    assert (viewed["company_id"], viewed["phone"]) == (company, "(81) 3333-4444")
    firm = get(f"/companies/{company}").json()
    assert (firm["name"], firm["custom_fields"]) == ("Mercadinho", {"cnpj": "11.222.333/0001-81"})
    assert get("/companies/1").status_code == 404
    assert get("/contacts/1").status_code == 404
    company_fields = get("/company_fields").json()
    assert [f["name"] for f in company_fields if not f["default"]] == ["cnpj"]
    contact_fields = get("/contact_fields").json()
    assert "email" in [f["name"] for f in contact_fields]
    assert all(f["default"] for f in contact_fields)


def test_view_embeds_the_requester_and_company_as_documented(
    sandbox: FreshdeskSandbox, rsps: Any
) -> None:
    company = sandbox.add_company("Mercadinho", custom_fields={"cnpj": "11.222.333/0001-81"})
    contact = sandbox.add_contact("Joana", "joana@example.com", company_id=company)
    ticket = sandbox.add_ticket("x", requester_id=contact)
    response = get(f"/tickets/{ticket}", include="requester,company")
    data = response.json()
    assert data["company_id"] == company  # the requester's company
    assert data["requester"] == {
        "email": "joana@example.com",
        "id": contact,
        "mobile": None,
        "name": "Joana",
        "phone": None,
    }
    assert data["company"] == {"id": company, "name": "Mercadinho"}
    assert response.headers["X-RateLimit-Used-CurrentRequest"] == "3"
    alone = sandbox.add_ticket("y")
    assert get(f"/tickets/{alone}", include="company").json()["company"] == {}
    row = get("/tickets", updated_since=SINCE, include="requester").json()[0]
    assert set(row["requester"]) == {"email", "id", "mobile", "name", "phone"}


def test_body_text_decodes_every_entity(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    ticket = sandbox.add_ticket("x")
    post(f"/tickets/{ticket}/notes", {"body": "<p>Op&ccedil;&atilde;o:&nbsp;R$ 1,00</p>"})
    [note] = get(f"/tickets/{ticket}/conversations").json()
    assert note["body"] == "<p>Op&ccedil;&atilde;o:&nbsp;R$ 1,00</p>"
    assert note["body_text"] == "Opção: R$ 1,00"
    assert {"from_email", "cc_emails", "bcc_emails"} <= set(note)


def test_groups_agents_and_me_have_the_documented_keys(
    sandbox: FreshdeskSandbox, rsps: Any
) -> None:
    sandbox.add_group("SAC")
    [group] = get("/groups").json()
    assert set(group) == {
        "id",
        "name",
        "description",
        "business_hour_id",
        "escalate_to",
        "unassigned_for",
        "auto_ticket_assign",
        "created_at",
        "updated_at",
    }
    [admin] = get("/admin/groups").json()
    assert (admin["name"], admin["type"]) == ("SAC", "support_agent_group")
    agent = get("/agents").json()[0]
    assert "group_ids" not in agent
    assert agent["contact"]["email"] == "admin@sandbox.example"
    me = get("/agents/me").json()
    assert {"group_ids", "role_ids", "skill_ids"} <= set(me)


def test_a_wrong_verb_is_405_with_allow(sandbox: FreshdeskSandbox, rsps: Any) -> None:
    response = requests.delete(API + "/ticket_fields", auth=AUTH, timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert response.json()["code"] == "method_not_allowed"


# ------------------------------------------------------------------ the SAC account


def test_sac_account_serves_labelled_fields_customers_and_seeded_tickets(
    sandbox: FreshdeskSandbox, rsps: Any
) -> None:
    from sandboxes.demo_data import SAC_CATEGORIES
    from sandboxes.freshdesk import SacNote, add_sac_ticket, setup_sac_account

    account = setup_sac_account(sandbox)
    fields = {f["name"]: f for f in get("/ticket_fields").json()}
    assert {
        name: fields[name]["label"]
        for name in ("cf_cnpj", "cf_numero_do_pedido", "cf_distribuidor", "cf_forma_de_pagamento")
    } == {
        "cf_cnpj": "CNPJ",
        "cf_numero_do_pedido": "Número do pedido",
        "cf_distribuidor": "Distribuidor",
        "cf_forma_de_pagamento": "Forma de pagamento",
    }
    assert fields["cf_categoria"]["type"] == "custom_dropdown"
    assert fields["cf_categoria"]["choices"] == list(SAC_CATEGORIES)
    assert set(SAC_CATEGORIES) <= set(fields["ticket_type"]["choices"])

    in_field = add_sac_ticket(
        sandbox,
        account,
        subject="Ruptura",
        category="Ruptura do pedido",
        fields={"cf_numero_do_pedido": "100045872"},
        notes=(SacNote("<p>Banco: Ita&uacute;</p>", (("print.png", "application/octet-stream"),)),),
        customer="mercadinho",
        at=T0,
    )
    in_type = add_sac_ticket(
        sandbox,
        account,
        subject="Cadastro",
        category="Cadastro",
        subcategory="Status do cadastro com o distribuidor",
        category_in="type",
        customer="avulso",
        at=T0,
    )
    child = add_sac_ticket(
        sandbox, account, subject="Distribuidor", category=None, parent_id=in_type, at=T0
    )
    view = get(f"/tickets/{in_field}").json()
    assert (view["type"], view["custom_fields"]["cf_categoria"]) == (None, "Ruptura do pedido")
    assert view["custom_fields"]["cf_numero_do_pedido"] == "100045872"
    assert view["company_id"] == account.companies["mercadinho"]
    [note] = get(f"/tickets/{in_field}/conversations").json()
    assert note["private"] is True
    assert note["attachments"][0]["content_type"] == "application/octet-stream"
    typed = get(f"/tickets/{in_type}").json()
    assert (typed["type"], typed["custom_fields"]["cf_categoria"]) == ("Cadastro", None)
    assert typed["custom_fields"]["cf_subcategoria"] == "Status do cadastro com o distribuidor"
    assert (typed["association_type"], typed["associated_tickets_list"]) == (1, [child])
    assert typed["company_id"] is None
    requester = get(f"/contacts/{account.contacts['atacarejo']}").json()
    assert requester["phone"] == "(83) 98811-2233"
    company = get(f"/companies/{account.companies['atacarejo']}").json()
    assert company["custom_fields"] == {"cnpj": "45.723.174/0001-10"}
