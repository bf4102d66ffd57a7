"""The EPS mapping end to end on the Salesforce sandbox, through simple-salesforce's calls.

The real ``Engine`` (SQLite store in ``tmp_path``, ``load_mapping("eps")``, a fixed clock
on a Thursday morning in São Paulo) runs ``SalesforceConnector`` against
``SalesforceSandbox`` seeded with ``setup_eps_org``, through ``responses``. The org has an
active assignment rule that would move every case written without
``Sforce-Auto-Assign: FALSE`` to the GSO queue: a missing header shows as a wrong owner.
Cases are written the way N1 agents write them: the SOP data as an internal CaseComment
in HTML or plain lines, sometimes in the org's "Comentário Interno" field, the request
type in the case's ``Type``. Each test asserts what the org holds afterwards.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests
import responses
from simple_salesforce import Salesforce

from connectors.salesforce import SalesforceClient, SalesforceConnector, WriteRules
from engine.engine import Engine, PassResult
from engine.store import Store
from sandboxes.salesforce import DEFAULT_BASE_URL, DEFAULT_SESSION, SalesforceSandbox
from sandboxes.salesforce.seeds import EpsOrg, setup_eps_org
from sync.contract import AuthError
from sync.mapping_loader import load_mapping
from tests.corpus.loader import CorpusCase, load_corpus

T0 = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)  # Thursday 09:00 in São Paulo
_TAGS = re.compile(r"<[^>]+>")

VOUCHER_HTML = (
    "<p>Cliente pediu o voucher pq o email saiu errado na compra.</p>"
    "<p><b>Número do pedido GAR:</b>&nbsp;8812734</p>"
    "<p><b>Status do pedido GAR:</b>&nbsp;Emitido</p>"
    "<p><b>E-mail para envio do voucher:</b> maria.oliveira@exemplo.com.br</p>"
    "<p><b>CPF do Cliente:</b>&nbsp;529.982.247-25</p>"
    "<p><b>Motivo do Voucher:</b> Correção de E-mail</p>"
    "<p><b>Conformidade com a Política de Garantia:</b> Sim</p>"
)
VOUCHER_NO_CPF = (
    "Número do pedido GAR: 8812999\nStatus do pedido GAR: Emitido\n"
    "E-mail para envio do voucher: joao@exemplo.com.br\n"
    "Motivo do Voucher: erro de emissão\nConformidade com a Política de Garantia: Sim"
)
CRITICAL = (
    "<p>Cliente ligou na ouvidoria reclamando da demora, pedido GAR 8813001.</p>"
    "<p>Número do pedido GAR: 8813001</p><p>Status do pedido GAR: Em validação</p>"
)


@dataclass
class Clock:
    now: datetime = T0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@dataclass
class World:
    clock: Clock
    sandbox: SalesforceSandbox
    org: EpsOrg
    store: Store

    def engine(self) -> Engine:
        """A fresh connector and engine on the same store, as after a restart."""
        session = requests.Session()
        client = SalesforceClient(
            lambda: Salesforce(
                session_id=DEFAULT_SESSION,
                instance_url=DEFAULT_BASE_URL,
                session=session,
                version="59.0",
            ),
            connector="eps",
            sleep=self.clock.sleep,
        )
        connector = SalesforceConnector(
            "eps",
            client,
            comment_field="Comentario_Interno__c",
            rules=WriteRules(critical_field="IsEscalated"),
            now=self.clock,
        )
        return Engine(
            connector,
            load_mapping("eps"),
            self.store,
            clock=self.clock,
            initial_lookback=timedelta(days=2),
        )

    def run(self) -> PassResult:
        result = self.engine().run_pass()
        assert result.ok, [t.error for t in result.tickets if t.error]
        assert result.unavailable is None, result.unavailable
        return result

    def case(self, case_id: str) -> dict[str, object]:
        return self.sandbox.record(case_id)

    def notes(self, case_id: str) -> list[str]:
        """Our internal comments on the case, as plain text."""
        return [
            html.unescape(_TAGS.sub(" ", str(c["CommentBody"])))
            for c in self.sandbox.records("CaseComment")
            if c["ParentId"] == case_id and "hs-ref:" in str(c["CommentBody"])
        ]

    def tasks(self, case_id: str) -> list[dict[str, object]]:
        return [t for t in self.sandbox.records("Task") if t["WhatId"] == case_id]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = Clock()
    sandbox = SalesforceSandbox(clock=clock, assignment_queue="GSO")
    org = setup_eps_org(sandbox)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sandbox.install(rsps)
        with Store(f"sqlite:///{tmp_path / 'state.sqlite'}", clock=clock) as store:
            yield World(clock, sandbox, org, store)


def seed(world: World, subject: str, type_: str, comment: str, **kw: object) -> str:
    agent = world.org.users["ana.souza"]
    return world.sandbox.add_case(
        subject,
        owner_id=agent,
        status="Novo",
        type=type_,
        comments=[(comment, False, agent, T0 - timedelta(minutes=30))],
        created_at=T0 - timedelta(hours=1),
        **kw,  # type: ignore[arg-type]
    )


def test_a_complete_voucher_goes_to_backoffice_with_its_48_business_hour_task(
    world: World,
) -> None:
    case = seed(world, "Voucher - email errado", "Voucher", VOUCHER_HTML)

    world.run()

    record = world.case(case)
    assert record["OwnerId"] == world.org.queues["Backoffice EPS"]  # not moved to GSO
    assert record["Status"] == "Escalado"
    [note] = world.notes(case)
    assert "Backoffice EPS" in note
    [task] = world.tasks(case)
    # 48 business hours (08:00-18:00, Mon-Fri, national holidays) from the comment,
    # Thursday 19 08:30: 9.5 h that day, Friday 20 (Consciência Negra) off, 10 h on
    # Monday to Wednesday, 8.5 h on Thursday 26: due 16:30 in São Paulo.
    assert str(task["ActivityDate"]) == date(2026, 11, 26).isoformat()
    assert str(task["ReminderDateTime"]).startswith("2026-11-26 19:30")
    assert task["OwnerId"] == world.org.queues["Backoffice EPS"]
    assert "hs-ref:" in str(task["Description"])
    writes = [w for w in world.sandbox.writes if w.sobject == "Case"]
    assert writes
    assert all(not w.auto_assign for w in writes)


def test_an_incomplete_case_gets_one_note_naming_what_is_missing_and_stays(
    world: World,
) -> None:
    case = seed(world, "voucher", "Voucher", VOUCHER_NO_CPF)

    world.run()
    world.clock.now += timedelta(minutes=2)
    world.run()  # the echo of our own writes

    record = world.case(case)
    assert record["OwnerId"] == world.org.users["ana.souza"]
    assert record["Status"] == "Em andamento"
    [note] = world.notes(case)
    assert "CPF" in note
    assert world.tasks(case) == []


def test_data_in_the_comment_field_counts_and_a_critical_case_is_marked(world: World) -> None:
    in_field = world.sandbox.add_case(
        "Voucher",
        owner_id=world.org.users["bruno.lima"],
        status="Novo",
        type="Voucher",
        fields={"Comentario_Interno__c": html.unescape(_TAGS.sub("\n", VOUCHER_HTML))},
        created_at=T0 - timedelta(hours=1),
    )
    critical = seed(world, "Reclamação ouvidoria", "Caso crítico - Ouvidoria/Corporativo", CRITICAL)

    world.run()

    assert world.case(in_field)["OwnerId"] == world.org.queues["Backoffice EPS"]
    record = world.case(critical)
    assert record["OwnerId"] == world.org.queues["Supervisor EPS"]
    assert record["IsEscalated"] is True


def test_many_cases_are_written_in_collections_of_200(world: World) -> None:
    cases = [seed(world, f"Voucher {n}", "Voucher", VOUCHER_HTML) for n in range(230)]

    world.run()

    assert {world.case(c)["OwnerId"] for c in cases} == {world.org.queues["Backoffice EPS"]}
    collections = [
        c for c in world.sandbox.calls if c.path.endswith("/composite/sobjects") and c.status == 200
    ]
    updates = [c for c in collections if c.method == "PATCH"]
    inserts = [c for c in collections if c.method == "POST"]
    assert len(updates) == 2  # 230 case updates: ceil(230 / 200)
    assert len(inserts) == 3  # 460 comments and tasks: ceil(460 / 200)
    assert sum(len(world.notes(c)) for c in cases) == 230


def test_a_locked_case_fails_alone_and_lands_once_on_a_later_pass(world: World) -> None:
    locked = seed(world, "Voucher A", "Voucher", VOUCHER_HTML)
    other = seed(world, "Voucher B", "Voucher", VOUCHER_HTML)
    world.sandbox.lock_record(locked, times=10)

    first = world.engine().run_pass()

    assert world.case(other)["OwnerId"] == world.org.queues["Backoffice EPS"]
    assert world.case(locked)["OwnerId"] == world.org.users["ana.souza"]
    assert first.failed == 1
    world.sandbox.unlock_record(locked)
    world.clock.now += timedelta(minutes=1)
    world.run()
    assert world.case(locked)["OwnerId"] == world.org.queues["Backoffice EPS"]
    assert len(world.notes(locked)) == 1
    assert len(world.tasks(locked)) == 1
    assert len(world.notes(other)) == 1


class Crash(BaseException):
    """The process dies: not an ``Exception``, nothing in the engine catches it."""


def test_a_crash_after_the_inserts_leaves_one_comment_and_one_task(world: World) -> None:
    case = seed(world, "Voucher", "Voucher", VOUCHER_HTML)
    from sandboxes.faults import Faults

    crashed: list[object] = []

    def crash(write: object) -> None:
        if not crashed:
            crashed.append(write)
            raise Crash

    world.sandbox.inject(Faults(method="POST", path=r"/composite/sobjects$", after_write=crash))
    with pytest.raises(Crash):
        world.engine().run_pass()
    assert crashed
    world.clock.now += timedelta(minutes=1)

    result = world.run()  # the restart

    assert result.reconciled >= 1
    assert len(world.notes(case)) == 1
    assert len(world.tasks(case)) == 1
    assert world.case(case)["Status"] == "Escalado"


# ------------------------------------------------------------------ the GSO flow (seed 001)

GSO_CASE = (
    "<p>Nome do posto: AR Centro SP</p><p>Nome do cliente: João da Silva</p>"
    "<p>E-mail do cliente: joao.silva@exemplo.com.br</p><p>Telefone: (11) 98765-4321</p>"
    "<p>Nº do pedido GAR: 8812734</p><p>Descrição da reclamação: cliente diz que já validou "
    "e o pedido continua aguardando verificação há 2 dias</p>"
    "<p>Situação GSO: Liberação de pedido - Aguardando Verificação</p>"
)


def ui(world: World) -> Salesforce:
    """People working in the org's UI (their edits write history, as the UI does)."""
    return Salesforce(
        session_id=DEFAULT_SESSION,
        instance_url=DEFAULT_BASE_URL,
        session=requests.Session(),
        version="59.0",
    )


def by_hand(world: World, case: str, **values: object) -> None:
    world.clock.now += timedelta(minutes=5)
    ui(world).Case.update(case, values, headers={"Sforce-Auto-Assign": "FALSE"})


def test_the_supervisor_forward_to_gso_gets_the_one_hour_sla_task(world: World) -> None:
    case = seed(world, "Pedido parado", "Liberação de pedido", GSO_CASE)
    by_hand(world, case, OwnerId=world.org.users["bruno.lima"])  # the supervisor takes it
    by_hand(world, case, OwnerId=world.org.queues["GSO"])  # and forwards it to GSO
    world.clock.now += timedelta(minutes=1)

    world.run()

    assert world.case(case)["OwnerId"] == world.org.queues["GSO"]  # not routed again
    [task] = world.tasks(case)
    assert task["Subject"] == "SLA GSO: tratar Liberação de pedido em 1 hora"
    assert task["OwnerId"] == world.org.queues["GSO"]
    # One hour from the comment (Thursday 08:30 in São Paulo): 09:30, 12:30 UTC.
    assert str(task["ReminderDateTime"]).startswith("2026-11-19 12:30")


def test_when_gso_concludes_the_case_returns_to_the_n2_who_escalated_it(world: World) -> None:
    case = seed(world, "Pedido parado", "Liberação de pedido", GSO_CASE)
    by_hand(world, case, OwnerId=world.org.queues["Supervisor EPS"])  # N1 escalates
    by_hand(world, case, OwnerId=world.org.users["bruno.lima"])  # the supervisor (N2)
    by_hand(world, case, OwnerId=world.org.queues["GSO"])  # escalates to GSO
    by_hand(world, case, OwnerId=world.org.users["carla.mendes"])  # a GSO analyst accepts
    by_hand(world, case, Status="Concluído III")  # and concludes

    world.run()
    world.clock.now += timedelta(minutes=2)
    world.run()  # the echo of our own writes: nothing more

    record = world.case(case)
    assert record["OwnerId"] == world.org.users["bruno.lima"]
    assert record["Status"] == "Concluído III"
    [note] = world.notes(case)
    assert "devolvido a Bruno Lima" in note
    assert "obrigatório realizar o fechamento" in note
    closing = [t for t in world.tasks(case) if "Fechar o caso" in str(t["Subject"])]
    assert [t["OwnerId"] for t in closing] == [world.org.users["bruno.lima"]]


def test_a_concluded_case_with_no_escalation_in_its_history_is_returned_to_no_one(
    world: World,
) -> None:
    case = seed(world, "Pedido parado", "Liberação de pedido", GSO_CASE)
    by_hand(world, case, Status="Concluído III")

    world.run()

    # Nobody escalated it: no return, no closing task (the matrix applies as to any case).
    assert not any("devolvido" in n for n in world.notes(case))
    assert not any("Fechar o caso" in str(t["Subject"]) for t in world.tasks(case))


# ------------------------------------------------------------------ the whole matrix


def matrix_cases() -> list[CorpusCase]:
    """One labelled corpus case per request type the matrix escalates (tests/corpus):
    complete, its data in the internal comments, no helpdesk field the org lacks."""
    chosen: dict[str, CorpusCase] = {}
    for case in load_corpus(mapping="eps"):
        t, expect = case.ticket, case.expect
        if (
            expect.outcome == "complete"
            and expect.targets
            and expect.request_type
            and t.request_type
            and not t.fields
            and not case.sources
            and expect.request_type not in chosen
        ):
            chosen[expect.request_type] = case
    return sorted(chosen.values(), key=lambda c: c.id)


@pytest.mark.parametrize("case", matrix_cases(), ids=lambda c: c.id)
def test_every_request_type_of_the_matrix_is_escalated_as_the_sop_says(
    world: World, case: CorpusCase
) -> None:
    world.clock.now = case.now
    t = case.ticket
    agent = world.org.users["ana.souza"]
    case_id = world.sandbox.add_case(
        t.subject or str(t.request_type),
        owner_id=agent,
        status="Novo",
        type=t.request_type,
        comments=[(c.body, False, agent, c.created_at) for c in t.comments if c.internal],
        files=[a.name for a in t.attachments],
        created_at=min((c.created_at for c in t.comments), default=case.now) - timedelta(hours=1),
    )

    world.run()

    record = world.case(case_id)
    [target] = [x for x in case.expect.targets if x in world.org.queues]
    assert record["OwnerId"] == world.org.queues[target], case.about
    assert record["Status"] == "Escalado"
    assert len(world.notes(case_id)) == 1
    assert bool(record["IsEscalated"]) == case.expect.critical
    tasks = world.tasks(case_id)
    assert len(tasks) == (1 if target == "Backoffice EPS" else 0)


# ------------------------------------------------------------------ signing in as ops do


def test_client_credentials_sign_in_and_an_expired_session_signs_in_again(
    world: World, tmp_path: Path
) -> None:
    from pydantic import SecretStr

    from connectors.registry import build_connector
    from connectors.salesforce import SalesforceSettings

    settings = SalesforceSettings(
        name="eps",
        kind="salesforce",
        mapping="eps",
        auth="client_credentials",
        consumer_key="3MVG9-connected-app",
        consumer_secret=SecretStr("s3cr3t"),
        domain="sandbox.my",  # My Domain: https://sandbox.my.salesforce.com
    )
    connector = build_connector(settings)
    case = seed(world, "Voucher", "Voucher", VOUCHER_HTML)

    assert "salesforce" in connector.check()
    world.sandbox.expire_sessions()  # the token dies; the next call signs in again
    loaded = connector.load(connector.reload(case).ref)

    assert loaded.ticket.request_type == "Voucher"
    tokens = [c for c in world.sandbox.calls if c.path.endswith("/oauth2/token")]
    assert [c.status for c in tokens] == [200, 200]


@pytest.fixture
def login_world(tmp_path: Path) -> Iterator[World]:
    clock = Clock()
    sandbox = SalesforceSandbox(clock=clock)
    org = setup_eps_org(sandbox)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sandbox.install(rsps, base_url="https://login.salesforce.com")
        sandbox.install(rsps)
        with Store(f"sqlite:///{tmp_path / 'state.sqlite'}", clock=clock) as store:
            yield World(clock, sandbox, org, store)


def test_password_and_security_token_sign_in_through_the_soap_login(
    login_world: World, tmp_path: Path
) -> None:
    from pydantic import SecretStr

    from connectors.registry import build_connector
    from connectors.salesforce import SalesforceSettings

    sandbox = login_world.sandbox
    sandbox.set_password("ana.souza@eps.example", "Senha!2026" + "TOKEN42")
    settings = SalesforceSettings(
        name="eps",
        kind="salesforce",
        mapping="eps",
        auth="password",
        username="ana.souza@eps.example",
        password=SecretStr("Senha!2026"),
        security_token=SecretStr("TOKEN42"),
    )
    assert "salesforce" in build_connector(settings).check()
    wrong = settings.model_copy(update={"security_token": SecretStr("OLD")})
    with pytest.raises(AuthError, match="INVALID_LOGIN"):
        build_connector(wrong).check()
    soap = [c for c in sandbox.calls if "/services/Soap/u/" in c.path]
    assert [c.status for c in soap] == [200, 500]


def test_jwt_bearer_signs_in_with_the_connected_apps_key(
    login_world: World, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from connectors.registry import build_connector
    from connectors.salesforce import SalesforceSettings

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "server.key"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings = SalesforceSettings(
        name="eps",
        kind="salesforce",
        mapping="eps",
        auth="jwt",
        username="ana.souza@eps.example",
        consumer_key="3MVG9-connected-app",
        privatekey_file=pem,
    )
    assert "salesforce" in build_connector(settings).check()
    token = [c for c in login_world.sandbox.calls if c.path.endswith("/oauth2/token")]
    assert [c.status for c in token] == [200]
