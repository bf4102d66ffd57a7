"""Mapping ``sac`` (seed 003, SAC Compra Agora on Freshdesk) decides as the SOP prescribes.

Every request type has a complete comment and an incomplete or invalid one below, written
the way SAC agents write them. Deadlines are counted from the factories' default moment,
Thursday 2026-11-19 16:00 in São Paulo, the day before a national holiday (Fri 20,
Consciência Negra), on the calendar Mon–Fri 08:00–18:00:

- 24 business hours (ops default for follow-ups): Thu 16–18 (2 h), Fri holiday, weekend,
  Mon 23 (12 h), Tue 24 (22 h), Wed 25 08:00 + 2 h -> Wed 2026-11-25 10:00.
- 72 business hours (cadastro com o distribuidor; crédito Trademaster via SAC): Thu 2 h,
  Mon 23..Fri 27 5 x 10 h (52 h), Mon 30 (62 h), Tue Dec 1 08:00 + 10 h -> Tue 2026-12-01
  18:00 (landing on closing time stays there).
- 5 business days (crédito via distribuidor): Mon 23, Tue 24, Wed 25, Thu 26, Fri 27 at the
  same clock time -> Fri 2026-11-27 16:00.
- 48 hours (ruptura, voucher): calendar time -> Sat 2026-11-21 16:00.
- 15 days (cadastro sem resposta do distribuidor): calendar days -> Fri 2026-12-04 16:00.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon import main
from sync.actions import CreateChildTicket, CreateTask
from sync.decide import Decision
from tests.factories import (
    action,
    invalid_labels,
    kinds,
    mapping,
    missing_labels,
    run,
    ticket,
)

SP = ZoneInfo("America/Sao_Paulo")
SEED = "003_411e92168c32257f.txt"
ROOT = Path(__file__).resolve().parents[2]

DUE_24_BUSINESS_HOURS = datetime(2026, 11, 25, 10, 0, tzinfo=SP)
DUE_72_BUSINESS_HOURS = datetime(2026, 12, 1, 18, 0, tzinfo=SP)
DUE_5_BUSINESS_DAYS = datetime(2026, 11, 27, 16, 0, tzinfo=SP)
DUE_48_HOURS = datetime(2026, 11, 21, 16, 0, tzinfo=SP)
DUE_15_DAYS = datetime(2026, 12, 4, 16, 0, tzinfo=SP)

CNPJ = "11.222.333/0001-81"
CNPJ_TYPO = "11.222.333/0001-82"
PRINT = (("print_tela.png", "image/png"),)
PDF = (("comprovante_pix.pdf", "application/pdf"),)
TEXT_FILE = (("log.txt", "text/plain"),)


def sac(body: str, request_type: str | None = None, attachments=(), **kw) -> Decision:
    """Decide one ticket with a single internal comment using the sac mapping."""
    return run("sac", ticket(body, request_type=request_type, attachments=attachments, **kw))


def routes(d: Decision) -> list[str | None]:
    return [a.group for a in d.actions if a.kind == "route"]


def children(d: Decision) -> list[CreateChildTicket]:
    return [a for a in d.actions if isinstance(a, CreateChildTicket)]


def tasks(d: Decision) -> list[CreateTask]:
    return [a for a in d.actions if isinstance(a, CreateTask)]


def statuses(d: Decision) -> list[str]:
    return [a.status for a in d.actions if a.kind == "set_status"]


def notes(d: Decision) -> str:
    return "\n".join(a.text for a in d.actions if a.kind == "add_note")


# --------------------------------------------------------------------------- complete


@dataclass(frozen=True)
class Complete:
    """A complete comment and what the SOP makes of it."""

    type: str
    body: str
    attachments: tuple[tuple[str, str], ...] = ()
    route: str | None = None
    child_group: str | None = None
    status: str | None = None
    dues: tuple[datetime, ...] = ()
    note: str | None = None
    task_owner: str | None = None
    kinds: tuple[str, ...] | None = None
    outcome: str = "complete"
    """``handled_by_rule`` when the SOP's branch ends without escalation (a stop rule)."""


ORIENTATION = ()  # orientation-only outcome: no action at all

COMPLETE = [
    Complete(
        "Cadastro > Quero alterar meu cadastro",
        "• CNPJ: 11.222.333/0001-81\n"
        "• Acesso do cliente: sem acesso ao e-mail\n"
        "• Solicitante: Representante legal\n"
        "• Documento apresentado: CNH\n"
        "• PID realizado: Sim\n"
        "• Cenário: Divergência de dados",
        kinds=ORIENTATION,
    ),
    Complete(
        "Cadastro > Status do cadastro de conta",
        "cnpj - 11222333000181\netapa pendente - sms",
        kinds=ORIENTATION,
    ),
    Complete(
        "Cadastro > Status do cadastro com o distribuidor",
        "<div>CNPJ do cliente: 11.222.333/0001-81<br></div>"
        "<div>Status do cadastro: cadastro ainda não foi aprovado<br></div>"
        "<div>Distribuidor: Martins Atacado<br></div>",
        child_group="Distribuidores",
        status="Pending",
        note="Caso filho aberto para o distribuidor Martins Atacado",
    ),
    Complete(
        "Ruptura do pedido",
        "Número do pedido: 100045871\nForma de pagamento: boleto a vista\n"
        "Opção de estorno: voucher",
        dues=(DUE_48_HOURS,),
        kinds=("create_task",),
    ),
    Complete(
        "Pedidos > Status do pedido",
        "Nº do pedido: 556677\nStatus do pedido: transportadora",
        kinds=ORIENTATION,
    ),
    Complete(
        "Pedidos > Motivo do cancelamento/negativa",
        "pedido - 889900\ndistribuidor - Dimed Distribuidora",
        child_group="Distribuidores",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "Pedidos > Pedido em atraso",
        "Numero do pedido: 771234\nPedido atrasado: sim\nPrazo do distribuidor: 16/11/2026\n"
        "Distribuidor: Profarma",
        child_group="Distribuidores",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "Pedidos > Cancelamento",
        "- Número do pedido: 445566\n- Status do pedido: aguardando pagamento\n"
        "- Distribuidor: Servimed",
        child_group="Distribuidores",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "Reembolso",
        "Número do pedido: 100077\nForma de pagamento: Pix\nBanco: Itaú\nAgência: 0912\n"
        "Conta corrente: 45781-2\nValor: R$ 1.250,90",
        route="Financeiro",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
        note="agência 0912, conta 45781-2, valor R$ 1.250,90.\nBanco: Itaú.",
    ),
    Complete(
        "Crédito",
        "Tipo de crédito: crédito do distribuidor\nValor desejado: R$ 20.000,00\n"
        "Distribuidor: Martins",
        child_group="Distribuidores",
        status="Pending",
    ),
    Complete(
        "Cashback > Dúvidas",
        "cliente perguntou o prazo do cupom, orientado que sao 90 dias",
        kinds=ORIENTATION,
    ),
    Complete(
        "Cashback > Regras de uso",
        "CNPJ: 11.444.777/0001-61\nexpliquei as batalhas e o prazo de 90 dias",
        kinds=ORIENTATION,
    ),
    Complete(
        "Cashback > Contestação",
        "CNPJ: 11.444.777/0001-61\nMotivo da contestação: cumpriu as batalhas e o cupom não caiu",
        route="Cashback",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "Sou um cliente E-COA", "Pedido: EH-99812\norientado a ligar no 0800", kinds=ORIENTATION
    ),
    Complete(
        "Sou uma Indústria",
        "industria de biscoitos, enviado o link do formulario",
        kinds=ORIENTATION,
    ),
    Complete(
        "Problemas no Site",
        "Descrição do problema: erro ao finalizar o pedido com boleto",
        attachments=PRINT,
        route="KA",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "Suspeita de fraude > Varejista",
        "CNPJ: 11.222.333/0001-81\nFraude constatada: não\nPedido: 991122\n"
        "Distribuidor: Santa Cruz",
        child_group="Distribuidores",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "Suspeita de fraude > Distribuidor",
        "CNPJ do cliente: 04.252.011/0001-10\nDistribuidor: Martins\nFraude constatada: Sim",
        child_group="Compra Agora",
        note="oriente o distribuidor a cancelar o pedido",
    ),
    Complete(
        "Senha > Como faço para recuperar minha senha",
        "tem acesso ao e-mail e telefone cadastrados: sim",
        kinds=ORIENTATION,
    ),
    Complete(
        "Senha > Esqueci o login",
        "Tem acesso ao e-mail e telefone - nao",
        note='"Cadastro > Quero alterar meu cadastro"',
        kinds=("add_note",),
        outcome="handled_by_rule",
    ),
    Complete(
        "Senha > Não recebi e-mail ou SMS de reset de senha",
        "CNPJ: 11.222.333/0001-81\nProblema persiste: sim\nlimpou cache e cookies e testou no VA",
        route="KA",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete("Promoções > Mecânica promocional", "Promoção: Leve 3 pague 2 Omo", kinds=ORIENTATION),
    Complete(
        "Promoções > Promoção não aplica",
        "Promoção: Leve 3 pague 2 Omo\nPedido: 123987",
        attachments=PRINT,
        route="KA",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "2ª via boleto > Trade Master",
        "Tem acesso ao app Trademaster: Não\nCNPJ: 11.222.333/0001-81\nNúmero do pedido: 300111",
        route="Trademaster",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "2ª via boleto > Distribuidor",
        "Número do pedido: 300112\nDistribuidor: Profarma",
        child_group="Distribuidores",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "Deslogado > Como funciona o Compra Agora", "nao e cliente, expliquei", kinds=ORIENTATION
    ),
    Complete("Deslogado > Quero me cadastrar", "CNPJ: 60.746.948/0001-12", kinds=ORIENTATION),
    Complete(
        "WhatsApp > Dados do cadastro",
        "CNPJ: 11.222.333/0001-81\nCelular: (11) 98765-4321",
        dues=(DUE_24_BUSINESS_HOURS,),
        task_owner="Denis",
        kinds=("create_task",),
    ),
    Complete(
        "WhatsApp > Compras",
        "CNPJ: 11.222.333/0001-81\nDescrição: cupom não está funcionando no carrinho",
        route="KA",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "WhatsApp > Navegação > Não recebo oferta",
        "CNPJ: 11.222.333/0001-81\nCelular: 11 98765-4321",
        route="Compra Agora",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "WhatsApp > Navegação > Carrinho, distribuidores, resumo ou últimos pedidos",
        "cliente nao consegue recuperar o carrinho, print anexo",
        attachments=PRINT,
        route="KA",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "WhatsApp > Navegação > Conversa não transfere ou WhatsApp não responde",
        "conversa nao transfere para atendente",
        attachments=PRINT,
        route="Yalo",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "WhatsApp > Catálogo",
        "produto nao aparece no catalogo",
        attachments=(("foto.jpg", "image/jpeg"),),
        route="KA",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "WhatsApp > Crédito",
        "Tipo de crédito: TM\nCNPJ: 11.222.333/0001-81",
        attachments=PRINT,
        route="Trademaster",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
    Complete(
        "Aplicativo Compra Agora",
        "Descrição do problema: app fecha sozinho ao abrir o carrinho",
        attachments=PRINT,
        route="KA",
        status="Pending",
        dues=(DUE_24_BUSINESS_HOURS,),
    ),
]


@pytest.mark.parametrize("case", COMPLETE, ids=[c.type for c in COMPLETE])
def test_complete_comment_gets_the_sop_outcome(case: Complete) -> None:
    d = sac(case.body, case.type, case.attachments)

    assert d.outcome == case.outcome, (d.missing, d.invalid)
    assert d.request_type == case.type
    assert d.sop[0].startswith(f"{SEED} § ")
    assert routes(d) == ([case.route] if case.route else [])
    assert [c.group for c in children(d)] == ([case.child_group] if case.child_group else [])
    assert statuses(d) == ([case.status] if case.status else [])
    assert sorted(t.due for t in tasks(d)) == list(case.dues)
    if case.note:
        assert case.note in notes(d)
    if case.task_owner:
        assert [t.owner for t in tasks(d)] == [case.task_owner]
    if case.kinds is not None:
        assert kinds(d) == list(case.kinds)


def test_child_ticket_names_the_distributor_and_carries_the_parent_and_details() -> None:
    d = sac(
        "Número do pedido: 445566\nStatus do pedido: Pagamento\nDistribuidor: Servimed",
        "Pedidos > Cancelamento",
    )

    child = action(d, "create_child_ticket")
    assert child.subject == (
        "Distribuidor Servimed: possibilidade de cancelamento do pedido 445566 (SAC 00012345)"
    )
    assert child.group == "Distribuidores"
    assert "Ticket de origem (SAC): 00012345" in child.description
    assert "Número do pedido: 445566" in child.description
    assert "Distribuidor: Servimed" in child.description


# ------------------------------------------------------------------------- incomplete


@dataclass(frozen=True)
class Incomplete:
    """A comment that lacks or mistypes what the SOP requires."""

    type: str
    body: str
    missing: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()
    attachments: tuple[tuple[str, str], ...] = field(default=())


EVIDENCE = "Evidência (print, foto, PDF ou gravação de tela anexados)"

INCOMPLETE = [
    Incomplete(
        "Cadastro > Quero alterar meu cadastro",
        "CNPJ: 11.222.333/0001-81\nAcesso do cliente - sem email\nSolicitante - vendedor\n"
        "Documento - RG\nPID - sim",
        missing=("Autorização do varejista por telefone",),
    ),
    Incomplete(
        "Cadastro > Status do cadastro de conta",
        f"CNPJ: {CNPJ_TYPO}",
        invalid=("CNPJ do cliente",),
    ),
    Incomplete(
        "Cadastro > Status do cadastro com o distribuidor",
        f"CNPJ: {CNPJ}\nStatus do cadastro: negado",
        missing=("Distribuidor",),
    ),
    Incomplete(
        "Ruptura do pedido",
        "Número do pedido: 100045871\nForma de pagamento: Boleto antecipado",
        missing=("Opção de estorno",),
    ),
    Incomplete("Pedidos > Status do pedido", "cliente quer saber do pedido", ("Número do pedido",)),
    Incomplete(
        "Pedidos > Motivo do cancelamento/negativa",
        "Nº do pedido: 889900",
        missing=("Distribuidor",),
    ),
    Incomplete(
        "Pedidos > Pedido em atraso",
        "Número do pedido: 771234",
        missing=("Pedido fora do prazo do distribuidor",),
    ),
    Incomplete(
        "Pedidos > Cancelamento",
        "Número do pedido: 445566\nStatus do pedido: em rota",
        invalid=("Status do pedido",),
    ),
    Incomplete(
        "Reembolso",
        "Número do pedido: 100077\nForma de pagamento: À vista",
        invalid=("Forma de pagamento",),
    ),
    Incomplete(
        "Crédito",
        "Tipo de crédito: distribuidor\nValor desejado: 5 mil",
        missing=("Distribuidor",),
        invalid=("Valor desejado",),
    ),
    Incomplete("Cashback > Dúvidas", f"CNPJ: {CNPJ_TYPO}", invalid=("CNPJ do cliente",)),
    Incomplete("Cashback > Regras de uso", f"CNPJ - {CNPJ_TYPO}", invalid=("CNPJ do cliente",)),
    Incomplete(
        "Cashback > Contestação",
        "Motivo da contestação: nao caiu",
        missing=("CNPJ do cliente",),
        invalid=("Descrição do problema",),
    ),
    Incomplete("Sou um cliente E-COA", "Pedido: #12", invalid=("Número do pedido",)),
    Incomplete("Sou uma Indústria", "CNPJ: 1122233300018", invalid=("CNPJ do cliente",)),
    Incomplete(
        "Problemas no Site",
        "Descrição do problema: site fora do ar desde cedo",
        missing=(EVIDENCE,),
        attachments=TEXT_FILE,
    ),
    Incomplete(
        "Suspeita de fraude > Varejista",
        f"CNPJ: {CNPJ}\ncliente nao reconhece a compra",
        missing=("Fraude constatada",),
    ),
    Incomplete(
        "Suspeita de fraude > Distribuidor",
        f"CNPJ: {CNPJ}\nFraude constatada: sim",
        missing=("Distribuidor",),
    ),
    Incomplete(
        "Senha > Como faço para recuperar minha senha",
        "Tem acesso ao e-mail e telefone cadastrados: talvez",
        invalid=("Tem acesso ao e-mail e telefone cadastrados",),
    ),
    Incomplete(
        "Senha > Esqueci o login",
        "cliente esqueceu o login",
        missing=("Tem acesso ao e-mail e telefone cadastrados",),
    ),
    Incomplete(
        "Senha > Não recebi e-mail ou SMS de reset de senha",
        "Problema persiste: sim",
        missing=("CNPJ do cliente",),
    ),
    Incomplete("Promoções > Mecânica promocional", "Promoção: ???", invalid=("Promoção",)),
    Incomplete("Promoções > Promoção não aplica", "Promoção: Omo 3x2", missing=(EVIDENCE,)),
    Incomplete(
        "2ª via boleto > Trade Master",
        f"Tem acesso ao aplicativo Trade Master: não\nCNPJ: {CNPJ}",
        missing=("Número do pedido",),
    ),
    Incomplete("2ª via boleto > Distribuidor", "Pedido: 300112", missing=("Distribuidor",)),
    Incomplete(
        "Deslogado > Como funciona o Compra Agora",
        f"CNPJ: {CNPJ_TYPO}",
        invalid=("CNPJ do cliente",),
    ),
    Incomplete("Deslogado > Quero me cadastrar", "CNPJ: abc", invalid=("CNPJ do cliente",)),
    Incomplete(
        "WhatsApp > Dados do cadastro",
        f"CNPJ: {CNPJ}\nProblema persiste: Sim",
        missing=(EVIDENCE,),
    ),
    Incomplete("WhatsApp > Compras", f"CNPJ: {CNPJ}", missing=("Descrição do problema",)),
    Incomplete(
        "WhatsApp > Navegação > Não recebo oferta",
        f"CNPJ: {CNPJ}\nCelular: (20) 98765-4321",
        invalid=("Celular utilizado no WhatsApp",),
    ),
    Incomplete(
        "WhatsApp > Navegação > Carrinho, distribuidores, resumo ou últimos pedidos",
        "nao consigo ver meus distribuidores",
        missing=(EVIDENCE,),
    ),
    Incomplete(
        "WhatsApp > Navegação > Conversa não transfere ou WhatsApp não responde",
        "whatsapp nao responde",
        missing=(EVIDENCE,),
    ),
    Incomplete(
        "WhatsApp > Catálogo",
        "problema no catalogo",
        missing=(EVIDENCE,),
        attachments=TEXT_FILE,
    ),
    Incomplete("WhatsApp > Crédito", "limite divergente", ("Tipo de crédito",), (), PRINT),
    Incomplete("Aplicativo Compra Agora", "app", ("Descrição do problema",), (), PRINT),
]


@pytest.mark.parametrize("case", INCOMPLETE, ids=[c.type for c in INCOMPLETE])
def test_incomplete_comment_stays_open_with_a_note(case: Incomplete) -> None:
    d = sac(case.body, case.type, case.attachments)

    assert d.outcome == "incomplete"
    assert d.request_type == case.type
    assert missing_labels(d) == list(case.missing)
    assert invalid_labels(d) == list(case.invalid)
    assert kinds(d) == ["add_note", "set_status"]
    assert action(d, "set_status").status == "Open"
    note = action(d, "add_note")
    assert note.purpose == "incomplete"
    assert note.text.startswith(f"[helpdesk-sync] Dados pendentes: {case.type}\n")
    assert "O ticket NÃO foi escalonado e continua com você." in note.text
    for label in (*case.missing, *case.invalid):
        assert f"• {label}" in note.text


def test_incomplete_note_lists_missing_invalid_checked_and_manual_checks() -> None:
    d = sac(
        "Número do pedido: 100077\nForma de pagamento: boleto antecipado\n"
        "Opção de estorno: reembolso\nBanco: Bradesco\nValor: cem reais",
        "Ruptura do pedido",
    )

    assert missing_labels(d) == ["Agência", "Conta corrente"]
    assert invalid_labels(d) == ["Valor do reembolso"]
    text = action(d, "add_note").text
    assert "Faltando:\n• Agência\n• Conta corrente\n" in text
    assert "Corrigir:\n• Valor do reembolso: valor monetário inválido" in text
    assert "(informado: cem reais)" in text
    assert "Conferido automaticamente:\n• Número do pedido\n" in text
    assert "• Reembolso: a conta informada precisa ter vínculo com o CNPJ do cliente." in text
    assert routes(d) == []


def test_every_type_has_a_complete_and_an_incomplete_case_and_cites_seed_003() -> None:
    m = mapping("sac")
    names = set(m.types)

    assert {c.type for c in COMPLETE} == names
    assert {c.type for c in INCOMPLETE} == names
    for ctype in m.types.values():
        spec = ctype.spec
        assert spec.sop.file == SEED
        assert spec.sop.heading[:2].isdigit(), spec.sop.heading
        assert spec.identifiers, spec.name
        for rule in spec.rules:
            assert rule.sop is None or rule.sop.file == SEED


# ---------------------------------------------------------------- deadlines and branches


def test_cadastro_with_distributor_deadlines_72_business_hours_and_15_days() -> None:
    d = sac(
        "CNPJ: 11.222.333/0001-81\nStatus do cadastro: Negado\nDistribuidor: Martins",
        "Cadastro > Status do cadastro com o distribuidor",
    )

    assert d.rules == ("cadastro_negado",)
    child = action(d, "create_child_ticket")
    assert child.due == DUE_72_BUSINESS_HOURS
    assert child.subject.startswith("Distribuidor Martins: aprovação do cadastro")
    # the SOP's two deadlines are timers: they act by themselves while the child is open
    assert tasks(d) == []
    assert {t.id: t.due for t in d.timers} == {
        "distribuidor_72h": DUE_72_BUSINESS_HOURS,
        "distribuidor_15d": DUE_15_DAYS,
    }


def test_cadastro_approved_by_distributor_is_only_oriented() -> None:
    d = sac(
        "CNPJ: 11.222.333/0001-81\nStatus do cadastro: aprovou",
        "Cadastro > Status do cadastro com o distribuidor",
    )

    assert d.outcome == "handled_by_rule"
    assert d.rules == ("cadastro_aprovado",)
    assert d.actions == ()


def test_credit_through_distributor_waits_5_business_days_then_goes_to_nrp() -> None:
    first = sac(
        "Tipo de crédito: Distribuidor\nValor desejado: 15000\nDistribuidor: Martins",
        "Crédito",
    )
    child = action(first, "create_child_ticket")
    assert child.due == DUE_5_BUSINESS_DAYS
    assert child.subject == (
        "Distribuidor Martins: aumento do limite de crédito do cliente (SAC 00012345)"
    )
    # the 5-business-day wait is a timer: NRP by itself if the distributor stays silent
    assert tasks(first) == []
    assert [(t.id, t.due) for t in first.timers] == [("credito_5d", DUE_5_BUSINESS_DAYS)]

    later = sac(
        "Tipo de crédito: Distribuidor\nValor desejado: 15000\nDistribuidor: Martins\n"
        "Retorno do distribuidor: não respondeu",
        "Crédito",
    )
    assert routes(later) == ["NRP"]
    assert children(later) == []
    assert statuses(later) == ["Pending"]
    assert "Ticket escalonado para NRP" in notes(later)


def test_credit_request_within_30_days_of_the_last_answer_is_refused() -> None:
    # 05/11/2026 is 14 days before Thursday 19/11/2026.
    d = sac("Data da última resposta de crédito: 05/11/2026", "Crédito")

    assert d.outcome == "handled_by_rule"
    assert d.rules == ("credito_30_dias",)
    assert kinds(d) == ["add_note"]
    assert "só é possível solicitar novamente após 30 dias" in notes(d)


def test_credit_request_after_30_days_is_escalated() -> None:
    # 10/10/2026 is 40 days before Thursday 19/11/2026.
    d = sac(
        "Data da última resposta de crédito: 10/10/2026\nTipo de crédito: distribuidor\n"
        "Valor desejado: R$ 8.000,00\nDistribuidor: Profarma",
        "Crédito",
    )

    assert "credito_30_dias" not in d.rules
    assert [c.group for c in children(d)] == ["Distribuidores"]


@pytest.mark.parametrize(
    ("canal", "expected_note"),
    [
        ("site", "solicitar pelo site (prazo: 48h úteis)"),
        ("whats", "solicitar pelo WhatsApp (prazo: 24h úteis)"),
    ],
)
def test_trademaster_credit_by_site_or_whatsapp_is_oriented(canal: str, expected_note: str) -> None:
    body = f"Tipo de crédito: Trademaster\nValor desejado: 5000\nCanal escolhido: {canal}"
    d = sac(body, "Crédito")

    assert d.outcome == "handled_by_rule"
    assert kinds(d) == ["add_note"]
    assert expected_note in notes(d)


def test_trademaster_credit_through_sac_goes_to_trademaster_with_72_business_hours() -> None:
    d = sac("Tipo de crédito: Trade Master\nValor desejado: 5000\nCanal escolhido: SAC", "Crédito")

    assert routes(d) == ["Trademaster"]
    assert statuses(d) == ["Pending"]
    assert action(d, "create_task").due == DUE_72_BUSINESS_HOURS


def test_trademaster_credit_needs_the_chosen_channel() -> None:
    d = sac("Tipo de crédito: Trademaster\nValor desejado: 5000", "Crédito")

    assert missing_labels(d) == ["Canal escolhido"]


def test_rupture_paid_by_invoiced_boleto_is_corrected_automatically() -> None:
    d = sac("Pedido: 100045871\nForma de pagamento: faturado", "Ruptura do pedido")

    assert d.outcome == "handled_by_rule"
    assert d.rules == ("ruptura_faturado",)
    assert kinds(d) == ["add_note"]
    assert "correção automática" in notes(d)


def test_rupture_without_customer_answer_gets_the_48_hour_voucher_task() -> None:
    d = sac(
        "Pedido: 100045871\nForma de pagamento: Pix\nOpção de estorno: sem retorno",
        "Ruptura do pedido",
    )

    # the 48 h wait is a timer: the voucher step fires by itself if the customer stays silent
    assert tasks(d) == []
    [timer] = d.timers
    assert (timer.id, timer.due) == ("ruptura_48h", DUE_48_HOURS)
    assert timer.sop.endswith("04. Ruptura do pedido (Resolução 4: prazo de 48h)")


def test_rupture_refund_goes_to_finance_with_the_bank_data() -> None:
    d = sac(
        "<div>Número do pedido: 100045871</div><div>Forma de pagamento: Boleto antecipado</div>"
        "<div>Opção de estorno: Reembolso</div><div>Banco: Banco do Brasil</div>"
        "<div>Agência: 1234-5</div><div>Conta corrente: 99887-6</div>"
        "<div>Valor: 480,00</div>",
        "Ruptura do pedido",
    )

    assert d.outcome == "complete"
    assert routes(d) == ["Financeiro"]
    assert statuses(d) == ["Pending"]
    assert "agência 1234-5, conta 99887-6, valor 480,00.\nBanco: Banco do Brasil." in notes(d)


def test_rupture_refund_without_the_bank_name_still_goes_to_finance() -> None:
    """Seed 003 (04. Ruptura, 3b) escalates "conta, agência e valor": the bank is asked
    for in the note, it does not hold the refund back."""
    d = sac(
        "Número do pedido: 100045871\nForma de pagamento: Boleto antecipado\n"
        "Opção de estorno: Reembolso\nAg: 1234-5\nC/C: 99887-6\nValor: 480,00",
        "Ruptura do pedido",
    )

    assert d.outcome == "complete"
    assert routes(d) == ["Financeiro"]
    text = notes(d)
    assert "agência 1234-5, conta 99887-6, valor 480,00." in text
    assert "Banco:" not in text
    assert "confirme com o cliente se o Financeiro pedir:\n• Banco" in text


def test_refund_by_card_asks_infrapay() -> None:
    d = sac("Número do pedido: 100077\nForma de pagamento: cartão", "Reembolso")

    assert routes(d) == []
    assert statuses(d) == ["Pending"]
    task = action(d, "create_task")
    assert task.subject == "Solicitar à InfraPay o estorno na fatura do cartão - pedido 100077"
    assert task.due == DUE_24_BUSINESS_HOURS


def test_refund_of_invoiced_boleto_needs_the_credit_type() -> None:
    d = sac("Número do pedido: 100077\nForma de pagamento: Boleto faturado", "Reembolso")

    assert missing_labels(d) == ["Tipo de crédito"]


def test_refund_of_trademaster_credit_needs_receipt_and_goes_to_trademaster() -> None:
    body = (
        "Número do pedido: 100077\nForma de pagamento: boleto faturado\nTipo de crédito: TM\n"
        "Banco: Caixa\nAgência: 0001\nConta: 123-4\nValor: 300"
    )

    without = sac(body, "Reembolso")
    assert missing_labels(without) == ["Comprovante de pagamento (anexo)"]

    with_receipt = sac(body, "Reembolso", PDF)
    assert with_receipt.outcome == "complete"
    assert routes(with_receipt) == ["Trademaster"]


def test_refund_of_distributor_credit_opens_a_child_ticket() -> None:
    d = sac(
        "Número do pedido: 100077\nForma de pagamento: crédito do distribuidor\n"
        "Distribuidor: Martins",
        "Reembolso",
    )

    assert action(d, "create_child_ticket").subject == (
        "Distribuidor Martins: reembolso do pedido 100077 (SAC 00012345)"
    )
    assert routes(d) == []


@pytest.mark.parametrize("motivo", ["Preço", "estoque", "integracao", "Política", "pagamento"])
def test_late_order_returned_by_distributor_with_an_nrp_reason_goes_to_nrp(motivo: str) -> None:
    d = sac(
        f"Número do pedido: 771234\nPedido atrasado: Sim\nDistribuidor: Profarma\n"
        f"Motivo de retorno do distribuidor: {motivo}",
        "Pedidos > Pedido em atraso",
    )

    assert d.rules == ("atraso_nrp",)
    assert routes(d) == ["NRP"]
    assert children(d) == []
    assert action(d, "create_task").due == DUE_24_BUSINESS_HOURS


def test_late_order_with_another_reason_returns_to_the_customer() -> None:
    d = sac(
        "Número do pedido: 771234\nPedido atrasado: Sim\nMotivo do distribuidor: Outro",
        "Pedidos > Pedido em atraso",
    )

    assert d.outcome == "handled_by_rule"
    assert kinds(d) == ["add_note"]
    assert "Retorne ao cliente com a resposta do distribuidor" in notes(d)


def test_order_within_the_distributor_deadline_is_only_oriented() -> None:
    d = sac("Número do pedido: 771234\nFora do prazo: não", "Pedidos > Pedido em atraso")

    assert d.outcome == "handled_by_rule"
    assert kinds(d) == ["add_note"]
    assert "Pedido dentro do prazo do distribuidor" in notes(d)


@pytest.mark.parametrize("status", ["Faturamento", "em transporte", "Entregue"])
def test_cancellation_after_payment_orients_the_customer_to_refuse(status: str) -> None:
    d = sac(f"Número do pedido: 445566\nStatus do pedido: {status}", "Pedidos > Cancelamento")

    assert d.outcome == "handled_by_rule"
    assert kinds(d) == ["add_note"]
    assert "não receber o pedido e a escrever o motivo atrás da nota" in notes(d)


def test_cancellation_refused_by_distributor_orients_the_customer() -> None:
    d = sac(
        "Número do pedido: 445566\nStatus do pedido: Pagamento\nDistribuidor: Servimed\n"
        "Cancelamento possível: Não",
        "Pedidos > Cancelamento",
    )

    assert d.rules == ("cancelamento_impossivel",)
    assert children(d) == []
    assert "não receber o pedido" in notes(d)


def test_retailer_fraud_confirmed_blocks_without_escalation() -> None:
    d = sac(f"CNPJ: {CNPJ}\nFraude constatada: sim", "Suspeita de fraude > Varejista")

    assert d.outcome == "handled_by_rule"
    assert kinds(d) == ["add_note"]
    assert "bloqueie o cadastro e cancele o pedido" in notes(d)


def test_distributor_fraud_not_confirmed_informs_the_distributor() -> None:
    d = sac(
        f"CNPJ: {CNPJ}\nDistribuidor: Martins\nFraude constatada: nao",
        "Suspeita de fraude > Distribuidor",
    )

    assert kinds(d) == ["add_note"]
    assert "informe o distribuidor" in notes(d)


@pytest.mark.parametrize(
    ("acesso", "note"),
    [
        ("tem ambos", "fazer a alteração pelo site"),
        ("sem senha", "redefinir a senha"),
    ],
)
def test_registration_change_with_access_is_oriented(acesso: str, note: str) -> None:
    d = sac(f"CNPJ: {CNPJ}\nAcesso do cliente: {acesso}", "Cadastro > Quero alterar meu cadastro")

    assert d.outcome == "handled_by_rule"
    assert kinds(d) == ["add_note"]
    assert note in notes(d)


def test_registration_change_by_a_third_party_is_refused() -> None:
    d = sac(
        f"CNPJ: {CNPJ}\nAcesso do cliente: sem acesso ao e-mail\nSolicitante: contador",
        "Cadastro > Quero alterar meu cadastro",
    )

    assert d.outcome == "handled_by_rule"
    assert d.rules == ("cadastro_terceiro",)
    assert "terceiros não podem" in notes(d)


def test_registration_change_waiting_for_documents_gets_a_follow_up_task() -> None:
    d = sac(
        f"CNPJ: {CNPJ}\nAcesso do cliente: sem acesso ao e-mail\nSolicitante: varejista\n"
        "Aguardando documentos por e-mail: sim",
        "Cadastro > Quero alterar meu cadastro",
    )

    assert d.outcome == "complete"
    assert statuses(d) == ["Pending"]
    assert action(d, "create_task").due == DUE_24_BUSINESS_HOURS


def test_registration_change_duplicate_data_gets_the_refusal_note() -> None:
    d = sac(
        f"CNPJ: {CNPJ}\nAcesso do cliente: sem acesso ao e-mail\nSolicitante: varejista\n"
        "Documento: CPF\nPID: sim\nCenário: duplicidade",
        "Cadastro > Quero alterar meu cadastro",
    )

    assert kinds(d) == ["add_note"]
    assert "solicitar a amarração (criação de grupo)" in notes(d)


def test_whatsapp_registration_problem_that_persists_goes_to_yalo() -> None:
    d = sac(f"CNPJ: {CNPJ}\nProblema persiste: sim", "WhatsApp > Dados do cadastro", PRINT)

    assert routes(d) == ["Yalo"]
    assert [t.owner for t in tasks(d)] == [None]


def test_whatsapp_purchase_problem_that_persists_after_ka_goes_to_yalo() -> None:
    d = sac(
        f"CNPJ: {CNPJ}\nDescrição: nao consigo finalizar meu pedido\nErro persiste: sim",
        "WhatsApp > Compras",
        PRINT,
    )

    assert routes(d) == ["Yalo"]


def test_whatsapp_credit_of_the_distributor_opens_a_child_ticket() -> None:
    d = sac("Tipo de crédito: distribuidor\nDistribuidor: Martins", "WhatsApp > Crédito", PRINT)

    assert [c.group for c in children(d)] == ["Distribuidores"]
    assert routes(d) == []


def test_password_reset_not_received_without_persisting_error_is_oriented() -> None:
    d = sac(
        f"CNPJ: {CNPJ}\nProblema persiste: não",
        "Senha > Não recebi e-mail ou SMS de reset de senha",
    )

    assert d.outcome == "complete"
    assert d.actions == ()


def test_trademaster_boleto_with_app_access_is_oriented() -> None:
    d = sac("Tem acesso ao aplicativo Trade Master: sim", "2ª via boleto > Trade Master")

    assert d.outcome == "handled_by_rule"
    assert kinds(d) == ["add_note"]
    assert "emitir a segunda via direto no aplicativo" in notes(d)


# ------------------------------------------------------------------- type matching


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("pedidos > cancelamento", "Pedidos > Cancelamento"),
        ("PEDIDOS > CANCELAMENTO", "Pedidos > Cancelamento"),
        ("Pedidos / Cancelamento", "Pedidos > Cancelamento"),
        ("Cancelamento de pedido", "Pedidos > Cancelamento"),
        ("credito", "Crédito"),
        ("Aumento de limite", "Crédito"),
        ("2a via boleto > trade master", "2ª via boleto > Trade Master"),
        ("2ª via boleto > Boleto faturado – Distribuidor", "2ª via boleto > Distribuidor"),
        ("Suspeita de fraude - Varejista", "Suspeita de fraude > Varejista"),
        ("whatsapp » catalogo", "WhatsApp > Catálogo"),
        (
            "Whatsapp > navegacao > whatsapp nao responde",
            "WhatsApp > Navegação > Conversa não transfere ou WhatsApp não responde",
        ),
        (
            "cadastro > status do cadastro com o distribuidor",
            "Cadastro > Status do cadastro com o distribuidor",
        ),
        (
            "senha > nao recebi e-mail ou sms de reset de senha",
            "Senha > Não recebi e-mail ou SMS de reset de senha",
        ),
    ],
)
def test_category_path_matches_case_accent_insensitively_and_by_alias(
    written: str, expected: str
) -> None:
    assert mapping("sac").match_type(written) == expected
    d = sac("texto livre", written)
    assert d.request_type == expected


@pytest.mark.parametrize(
    "body",
    [
        "Categoria: Pedidos > Cancelamento\nNúmero do pedido: 445566\n"
        "Status do pedido: Transportadora",
        "motivo do contato - pedidos > cancelamento\nnumero do pedido - 445566\n"
        "status do pedido - transportadora",
        "<div>Tipo de solicitação: Pedidos &gt; Cancelamento<br></div>"
        "<div>Número do pedido: 445566<br></div><div>Status do pedido: Transportadora<br></div>",
    ],
    ids=["label-colon", "lowercase-dash", "freshdesk-html"],
)
def test_type_comes_from_the_comment_when_the_ticket_has_none(body: str) -> None:
    d = sac(body, None)

    assert d.request_type == "Pedidos > Cancelamento"
    assert d.outcome == "handled_by_rule"
    assert d.rules == ("cancelamento_apos_pagamento",)


def test_uncategorised_ticket_gets_suggestions_and_no_actions() -> None:
    d = sac(
        "cliente ligou dizendo que quer cancelar o pedido que fez ontem",
        None,
        subject="Quero cancelar meu pedido",
    )

    assert d.outcome == "unmapped"
    assert d.request_type is None
    assert d.suggestions == ("Pedidos > Cancelamento",)
    assert d.actions == ()


def test_uncategorised_whatsapp_ticket_suggests_by_the_sop_identifiers() -> None:
    d = sac("", None, subject="WhatsApp não responde e minha conversa não transfere")

    assert d.suggestions == (
        "WhatsApp > Navegação > Conversa não transfere ou WhatsApp não responde",
    )
    assert d.actions == ()


@pytest.mark.parametrize("written", ["Pedidos", "pedidos"])
def test_parent_only_category_is_not_routed_and_suggests_its_subtypes(written: str) -> None:
    d = sac("Número do pedido: 445566\nDistribuidor: Martins", written)

    assert d.outcome == "unmapped"
    assert d.actions == ()
    assert d.suggestions == (
        "Pedidos > Status do pedido",
        "Pedidos > Motivo do cancelamento/negativa",
        "Pedidos > Pedido em atraso",
        "Pedidos > Cancelamento",
    )


def test_second_level_parent_category_is_not_routed() -> None:
    d = sac(f"CNPJ: {CNPJ}", "WhatsApp > Navegação", PRINT)

    assert d.outcome == "unmapped"
    assert d.request_type is None
    assert d.actions == ()


def test_parent_category_written_in_the_comment_suggests_its_subtypes() -> None:
    d = sac("Categoria: Cashback\nCNPJ: 11.222.333/0001-81", None)

    assert d.outcome == "unmapped"
    assert d.actions == ()
    assert d.suggestions == (
        "Cashback > Dúvidas",
        "Cashback > Regras de uso",
        "Cashback > Contestação",
    )


# ------------------------------------------------------------------------ examples


@pytest.mark.parametrize(
    ("name", "routes", "child_groups"),
    [
        ("sac_ruptura_reembolso.json", ["Financeiro"], []),
        ("sac_cadastro_distribuidor.json", [], ["Distribuidores"]),
    ],
)
def test_examples_explain(
    name: str, routes: list[str], child_groups: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "explain",
            "--mapping",
            "sac",
            "--now",
            "2026-11-19T19:10:00Z",
            "--format",
            "json",
            str(ROOT / "examples" / name),
        ]
    )

    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["outcome"] == "complete"
    assert [a["target"] for a in out["actions"] if a["kind"] == "route"] == routes
    children = [a["group"] for a in out["actions"] if a["kind"] == "create_child_ticket"]
    assert children == child_groups
    assert ["Pending"] == [a["status"] for a in out["actions"] if a["kind"] == "set_status"]
