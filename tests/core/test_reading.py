"""How agents' writing is read: shortened labels, remarks after values, advised data,
day/month dates, addresses, categories with a datum in them, checklists without a title.

Each test asserts what the agent would see: the decision's outcome, its route and the
note's wording.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from sync.actions import AddNote, Route
from sync.decide import decide
from sync.field_sources import bind_sources
from sync.model import Context
from sync.prose import fold_same_length
from sync.validators import option_errors, validate
from tests.factories import action, invalid_labels, mapping, missing_labels, run, ticket

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

VOUCHER = (
    "Nº do pedido GAR: 7724518\n"
    "Status do pedido: Emitido\n"
    "E-mail para envio do voucher: adm@padaria.com.br\n"
    "CPF do cliente: 529.982.247-25\n"
    "Política de garantia: Sim\n"
)


def note_text(decision: object) -> str:
    notes = [a for a in decision.actions if isinstance(a, AddNote)]  # type: ignore[attr-defined]
    assert len(notes) == 1
    return notes[0].text


# --------------------------------------------------------------------- labels as typed


def test_a_shortened_label_names_the_field_of_this_request_type() -> None:
    """'Motivo' is SOP 000's 'Motivo da Solicitação' elsewhere; on a voucher case it is
    the voucher's reason."""
    d = run("eps", ticket(VOUCHER + "Motivo: correção de e-mail", request_type="Voucher", at=NOW))
    assert d.outcome == "complete"
    assert action(d, "route") == Route(queue="Backoffice EPS")
    assert {f.key: f.value for f in d.found}["motivo_voucher"] == "correção de e-mail"


def test_agents_shorthand_in_labels() -> None:
    body = (
        "Ped. GAR: 7724518\nStatus: emitido\nemail p/ envio do voucher: adm@padaria.com.br\n"
        "CPF do cliente: 529.982.247-25\nMotivo do voucher: troca de e-mail\nGarantia: sim"
    )
    d = run("eps", ticket(body, request_type="Voucher", at=NOW))
    assert d.outcome == "complete", d.missing


def test_a_corrected_value_in_a_later_note_wins() -> None:
    first = VOUCHER.replace("529.982.247-25", "529.982.247-26") + "Motivo do voucher: erro"
    d = run(
        "eps",
        ticket(first, "corrigindo: CPF correto: 529.982.247-25", request_type="Voucher", at=NOW),
    )
    assert d.outcome == "complete"
    assert not d.invalid


def test_a_remark_after_a_labelled_value_does_not_spoil_it() -> None:
    body = (
        "Nº pedido GAR 5677230\n"
        "E-mail no GAR: vanessa@seguros.com.br (confirmado com a cliente, está correto)\n"
        "CPF do cliente: 529.982.247-25\n"
        "Motivo do reenvio: cliente não recebeu o código."
    )
    d = run("eps", ticket(body, request_type="Reenvio de código de instalação", at=NOW))
    assert d.outcome == "complete", d.invalid
    assert {f.key: f.value for f in d.found}["email_gar"] == "v***@s***.com.br"


def test_labelled_pairs_separated_by_slashes_are_each_read() -> None:
    body = "Limite desejado: R$ 3.000,00 / Tipo de crédito: Trademaster / Canal escolhido: site"
    d = run("sac", ticket(body, request_type="Crédito", at=NOW))
    assert d.outcome == "handled_by_rule"
    assert not d.missing
    assert not d.invalid


# ------------------------------------------------------------------ the next level's list


GSO = (
    "Situação: cliente compareceu e o posto estava fechado.\n"
    "Local: Rua XV de Novembro, 800 - Centro, Curitiba/PR\n"
    "Posto: AR Paraná Certificação\n"
)


def test_advised_data_absent_goes_on_the_supervisors_list_without_holding_back() -> None:
    d = run("eps", ticket(GSO, request_type="Posto fechado / inexistente", at=NOW))
    assert d.outcome == "complete"
    assert action(d, "route") == Route(queue="Supervisor EPS")
    text = note_text(d)
    heading = 'Para o Supervisor completar antes do GSO (001, "Como detalhar a solicitação?"):'
    listed = text.split(heading + "\n")[1].split("\nConferido automaticamente:")[0]
    # The situation written by the agent is also the customer's complaint.
    assert listed.splitlines() == [
        "• Número do pedido GAR",
        "• Nome do cliente",
        "• E-mail do cliente",
        "• Telefone do cliente",
    ]


def test_a_wrong_advised_value_is_listed_with_its_reason() -> None:
    d = run(
        "eps",
        ticket(GSO + "Telefone do cliente: (41) 9988-77", request_type="Posto fechado", at=NOW),
    )
    assert d.outcome == "complete"
    assert not d.invalid
    assert (
        "• Telefone do cliente — valor informado inválido: telefone deve ter DDD + 8 ou 9 "
        "dígitos (tem 8 dígitos)"
    ) in note_text(d)


def test_a_wrong_advised_value_is_told_to_the_agent_when_the_case_is_held_anyway() -> None:
    body = GSO.replace("Posto: AR Paraná Certificação\n", "") + "Telefone do cliente: 9988"
    body = body.replace("Local: Rua XV de Novembro, 800 - Centro, Curitiba/PR\n", "")
    d = run("eps", ticket(body, request_type="Posto fechado", at=NOW))
    assert d.outcome == "incomplete"
    assert missing_labels(d) == ["Local", "Nome do posto"]
    assert invalid_labels(d) == ["Telefone do cliente"]


# ------------------------------------------------------------------------ values in prose


def test_a_street_address_in_prose_is_the_place() -> None:
    body = (
        "Cliente compareceu ao posto AR Centro SP (Rua Direita, 120 - Sé, São Paulo/SP) em "
        "21/11 às 10h e o local estava fechado, sem nenhum aviso na porta."
    )
    d = run("eps", ticket(body, request_type="Posto fechado / inexistente", at=NOW))
    assert d.outcome == "complete", d.missing
    found = {f.key: f.value for f in d.found}
    assert found["local"] == "Rua Direita, 120 - Sé, São Paulo/SP"
    assert found["posto"] == "AR Centro SP"


def test_two_orders_in_one_sentence_are_not_guessed_between() -> None:
    body = "Cliente reclama que os pedidos 100500121 e 100500188 não chegaram, fora do prazo."
    d = run("sac", ticket(body, request_type="Pedidos > Pedido em atraso", at=NOW))
    assert d.outcome == "incomplete"
    [wrong] = d.invalid
    assert wrong.key == "numero_pedido"
    assert "100500121, 100500188" in wrong.reason


def test_an_optional_datum_two_prose_values_leave_open_is_not_asked_for() -> None:
    """'telefone' and 'e-mail' both name a channel; the channel is optional here."""
    body = (
        "Cliente ligou por telefone e mandou e-mail: foi ao posto e estava fechado. "
        "Não soube informar nome nem endereço."
    )
    d = run("eps", ticket(body, request_type="Posto fechado / inexistente", at=NOW))
    assert missing_labels(d) == ["Local", "Nome do posto"]
    assert d.invalid == ()


def test_a_request_in_prose_with_its_reason_is_also_the_account() -> None:
    body = (
        "Cliente ligou já pedindo abertura de ouvidoria por causa da demora na troca da "
        "impressora que está em garantia há mais de 30 dias."
    )
    d = run("ouvidoria", ticket(body, request_type="Ouvidoria", at=NOW))
    assert d.outcome == "incomplete"
    assert [m.key for m in d.missing] == ["tentativa_resolucao"]  # nothing was tried


# ------------------------------------------------------------------------------ validators


@pytest.mark.parametrize(
    ("written", "expected"),
    [("21/11", "2026-11-21"), ("24/11", "2026-11-24"), ("25/12", "2025-12-25")],
)
def test_day_and_month_is_the_latest_such_day_not_after_today(written: str, expected: str) -> None:
    check = validate("date", written, {}, NOW)
    assert check.ok
    assert check.value == expected


def test_day_and_month_needs_a_today_and_a_real_day() -> None:
    assert not validate("date", "21/11", {}, None).ok
    assert not validate("date", "31/02", {}, NOW).ok


def test_enum_other_takes_an_answer_in_words_naming_no_choice() -> None:
    options = {"choices": ["Preço", "Estoque", "Outro"], "other": "Outro"}
    assert validate("enum", "endereço não localizado", options).value == "Outro"
    assert validate("enum", "sem estoque no CD", options).value == "Estoque"
    assert not validate("enum", "x", options).ok  # one stray word is no answer
    assert option_errors({"choices": ["A", "B"], "other": "C"}) == [
        "option 'other' is 'C', which is not one of the choices"
    ]


def test_address_needs_letters() -> None:
    assert validate("address", "Rua Direita, 120", {}).ok
    assert not validate("address", "120", {}).ok


def test_folding_keeps_length_and_strips_accents() -> None:
    for text in ["Ação É ÇÃO", "İstanbul", "Nº 5 — pedido", "😀 café", "ABC"]:
        folded = fold_same_length(text)
        assert len(folded) == len(text)
    assert fold_same_length("Ação É Nº") == "acao e no"
    decomposed = unicodedata.normalize("NFD", "ção")
    assert len(fold_same_length(decomposed)) == len(decomposed)


# ------------------------------------------------------------------ categories and sources


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Liberação pgto", "Liberação de pagamento"),
        ("Reenvio cód. instalação", "Reenvio de código de instalação"),
    ],
)
def test_category_shorthand_names_the_sop_item(written: str, expected: str) -> None:
    assert mapping("eps").resolve_type(written).name == expected


def test_a_datum_kept_in_a_category_level_is_read_where_the_account_says() -> None:
    body = "Pedido 4471203 conferido no ADMIN: prazo do distribuidor era 19/11, está atrasado."
    t = ticket(body, request_type="Pedidos > Atraso > Tambasa", at=NOW)
    assert run("sac", t).outcome == "incomplete"
    bound = bind_sources(mapping("sac"), {"distribuidor": "category:3"})
    d = decide(bound, t, Context(), NOW)
    assert d.outcome == "complete"
    assert {f.key: f.where for f in d.found}["distribuidor"] == "category:3"
    with pytest.raises(ValueError, match=r"category level is a number from 1"):
        bind_sources(mapping("sac"), {"distribuidor": "category:x"})


def test_checklist_questions_pasted_without_the_title_count() -> None:
    body = (
        "Tipo de solicitação: Falha no sistema\n"
        "E-mail da conta: nfe@moveis.com.br\n"
        "A falha refere-se a:\n"
        "( ) Apps (X) Painel Emissor ( ) Integração API ( ) Integração SEFAZ/Prefeitura\n"
        "Cliente passou dados de acesso?\n( ) Sim (X) Não ( ) Não se aplica\n"
        "Emissão automática está habilitada?\n( ) Sim ( ) Não (X) Não se aplica\n"
        "Cadastro da empresa está preenchido corretamente no eNotas?\n(X) Sim ( ) Não\n"
        "Descrição da análise realizada:\nBotão emitir retorna erro 500; card aberto."
    )
    d = run("emissor", ticket(body, at=NOW))
    assert d.request_type == "Falha no sistema"
    assert d.outcome == "complete", (d.missing, d.invalid)
