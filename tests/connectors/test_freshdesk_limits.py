"""Per-endpoint sub-limits, listing windows sized to them, and listing snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import responses

from connectors._http import CallLimiter, HttpClient, RateBudget, SubLimits
from connectors.freshdesk import (
    FreshdeskConnector,
    plan_sub_limits,
    sub_limit_bucket,
)
from sandboxes.freshdesk import DEFAULT_BASE_URL, FreshdeskSandbox
from sync.errors import ConfigError

from .test_freshdesk import SINCE, T0, FakeTime

GROWTH = plan_sub_limits("growth")


class Account:
    """A Growth-plan sandbox with ``count`` tickets one second apart, through ``responses``."""

    def __init__(self, clock: FakeTime, count: int) -> None:
        self.clock = clock
        self.sandbox = FreshdeskSandbox(clock=clock, sleep=clock.sleep, plan="growth")
        self.ids = {
            str(self.sandbox.add_ticket(f"t{i}", updated_at=SINCE + timedelta(seconds=i)))
            for i in range(count)
        }

    def connector(
        self, *, sub_limits: dict[str, int] | None = None, **kw: Any
    ) -> FreshdeskConnector:
        limiters = (
            SubLimits(
                sub_limit_bucket, sub_limits, clock=self.clock.monotonic, sleep=self.clock.sleep
            )
            if sub_limits
            else None
        )
        http = HttpClient(
            "freshdesk",
            DEFAULT_BASE_URL,
            sleep=self.clock.sleep,
            jitter=lambda delay: 0.0,
            now=self.clock,
            budget=RateBudget(clock=self.clock.monotonic, sleep=self.clock.sleep),
            sub_limits=limiters,
        )
        return FreshdeskConnector(
            "sac", DEFAULT_BASE_URL, self.sandbox.api_key, http=http, sub_limits=sub_limits, **kw
        )

    def list_calls(self, status: int) -> int:
        return sum(
            1
            for c in self.sandbox.calls
            if c.method == "GET" and c.path == "/api/v2/tickets" and c.status == status
        )


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime(T0)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


# ------------------------------------------------------------------ CallLimiter


def test_call_limiter_lets_a_burst_through_then_waits_for_the_oldest_call_to_age() -> None:
    clock = FakeTime(T0)
    limiter = CallLimiter(3, window=60, margin=1, clock=clock.monotonic, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(3)] == [0, 0, 0]
    clock.sleep(10)
    assert limiter.acquire() == pytest.approx(51)  # the first call leaves the window at 61 s
    assert limiter.acquire() == pytest.approx(0)  # the second and third left with it
    assert limiter.acquire() == pytest.approx(0)
    assert limiter.acquire() == pytest.approx(61)  # now three calls at t=61
    assert limiter.waited == pytest.approx(112)


def test_sub_limits_pace_only_their_bucket() -> None:
    clock = FakeTime(T0)
    limits = SubLimits(
        sub_limit_bucket, {"tickets_list": 1}, clock=clock.monotonic, sleep=clock.sleep
    )
    assert limits.before_call("GET", "/api/v2/tickets") == 0
    assert limits.before_call("GET", "/api/v2/tickets/7/conversations") == 0
    assert limits.before_call("PUT", "/api/v2/tickets/7") == 0  # no update limit configured
    assert limits.before_call("GET", "/api/v2/tickets") > 60  # window plus arrival margin


@pytest.mark.parametrize(
    ("method", "path", "bucket"),
    [
        ("GET", "/api/v2/tickets", "tickets_list"),
        ("POST", "/api/v2/tickets", "ticket_create"),
        ("PUT", "/api/v2/tickets/42", "ticket_update"),
        ("PUT", "/api/v2/tickets/merge", None),
        ("GET", "/api/v2/tickets/42", None),
        ("POST", "/api/v2/tickets/42/notes", None),
    ],
)
def test_which_calls_count_against_which_sub_limit(
    method: str, path: str, bucket: str | None
) -> None:
    assert sub_limit_bucket(method, path) == bucket


def test_plan_limits_and_overrides_are_checked() -> None:
    assert plan_sub_limits("pro") == {
        "tickets_list": 100,
        "ticket_create": 160,
        "ticket_update": 160,
    }
    assert plan_sub_limits("growth", {"tickets_list": 10})["tickets_list"] == 10
    assert plan_sub_limits(None) == {}
    with pytest.raises(ValueError, match="unknown Freshdesk plan 'gold'; known: trial"):
        plan_sub_limits("gold")
    with pytest.raises(ValueError, match="unknown sub-limit 'contacts'"):
        plan_sub_limits("growth", {"contacts": 5})


def test_the_registry_names_a_bad_plan_or_sub_limit() -> None:
    from pydantic import SecretStr

    from cli.settings import ConnectorSettings
    from connectors.registry import build_connector

    def build(**kw: Any) -> Any:
        return build_connector(
            ConnectorSettings(
                name="sac",
                kind="freshdesk",
                base_url="https://acme.freshdesk.com",
                mapping="sac",
                api_key=SecretStr("k"),
                **kw,
            )
        )

    with pytest.raises(ConfigError, match=r"connectors\[sac\]\.plan: unknown Freshdesk plan"):
        build(plan="gold")
    with pytest.raises(ConfigError, match=r"connectors\[sac\]\.sub_limits: unknown sub-limit"):
        build(plan="growth", sub_limits={"tickets": 5})
    connector = build(plan="growth", sub_limits={"tickets_list": 10}, ticket_attachments=False)
    assert connector.http.sub_limits.limiters["tickets_list"].limit == 10
    assert connector.window_pages == 10
    assert connector.ticket_attachments is False


# ------------------------------------------------------------------ windows and sub-limits


def test_growth_list_sub_limit_is_paced_to_zero_429(
    clock: FakeTime, mock: responses.RequestsMock
) -> None:
    account = Account(clock, 4500)  # 45 pages; Growth allows 20 list calls a minute
    account.sandbox.install(mock)
    connector = account.connector(sub_limits=GROWTH)

    refs = list(connector.changed_since(SINCE))

    assert {r.id for r in refs} == account.ids
    assert account.list_calls(429) == 0
    assert account.list_calls(200) >= 45
    assert connector.http.sub_limits.waited > 0
    assert connector.window_pages == 20


def test_without_pacing_the_same_listing_meets_the_list_sub_limit(
    clock: FakeTime, mock: responses.RequestsMock
) -> None:
    account = Account(clock, 4500)
    account.sandbox.install(mock)
    connector = account.connector()  # the account-wide budget alone

    refs = list(connector.changed_since(SINCE))

    assert {r.id for r in refs} == account.ids  # retried after Retry-After, nothing lost
    assert account.list_calls(429) > 0


def test_a_window_ends_after_one_minute_of_list_calls_and_hands_its_tickets_out(
    clock: FakeTime, mock: responses.RequestsMock
) -> None:
    account = Account(clock, 4500)
    account.sandbox.install(mock)
    connector = account.connector(sub_limits={"tickets_list": 20})
    listing = connector.changed_since(SINCE)

    first = next(listing)  # the first window is read, then its first ticket handed out

    assert first.id == min(account.ids, key=int)
    assert account.list_calls(200) == 20  # one window: 20 pages, not the 45 of the backlog
    rest = list(listing)
    assert {first.id, *(r.id for r in rest)} == account.ids


# ------------------------------------------------------------------ snapshots


def test_without_ticket_attachments_load_reads_only_the_conversations(
    clock: FakeTime, mock: responses.RequestsMock
) -> None:
    """The list row travels with its ref, however long the window: no ticket GET at all."""
    account = Account(clock, 0)
    sb = account.sandbox
    group = sb.add_group("SAC")
    agent = sb.add_agent("Ana Souza", "ana.souza@example.com")
    sb.add_custom_field("cf_categoria", "Categoria")
    for i in range(650):
        sb.add_ticket(
            f"Pedido {i}",
            status=3,
            group_id=group,
            responder_id=agent,
            custom_fields={"cf_categoria": "Pedidos"},
            tags=["vip"],
            type="Question",
            updated_at=SINCE + timedelta(seconds=i),
        )
    sb.install(mock)
    slim = account.connector(ticket_attachments=False, request_type_field="cf_categoria")
    full = account.connector(request_type_field="cf_categoria")

    refs = list(slim.changed_since(SINCE))
    loaded = [slim.load(ref) for ref in refs]

    ticket_reads = [c for c in sb.calls if c.method == "GET" and c.path.count("/") == 4]
    assert ticket_reads == []  # /api/v2/tickets/{id}: never
    assert len(loaded) == 650
    assert all(ref.snapshot is not None and len(ref.snapshot) < 600 for ref in refs)
    assert "snapshot" not in repr(refs[0])
    # The snapshot gives the same ticket as a full read (but for the ticket's own files).
    again = full.load(refs[-1]).ticket
    assert loaded[-1].ticket == again
    assert (again.status, again.queue, again.owner, again.request_type) == (
        "Pending",
        "SAC",
        "Ana Souza",
        "Pedidos",
    )
