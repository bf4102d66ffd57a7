"""The Emissor mapping (seed 002) on notes written the way Movidesk agents write them.

Bloco 1 (preflight: basic info, onboarding, finance block, duplicates) runs on every
ticket; Bloco 2 checks the "(X)" checklist of the request type and the analysis.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sync.decide import Decision
from sync.model import RelatedTicket
from tests.factories import action, kinds, missing_labels, run, ticket

# The factory's ticket was created on Thursday 2026-11-19 19:00 UTC.
AN_HOUR_LATER = datetime(2026, 11, 19, 20, 0, tzinfo=UTC)
A_DAY_EARLIER = datetime(2026, 11, 18, 19, 0, tzinfo=UTC)

COMPANY = {"cliente_empresa": "Padaria Pão Quente LTDA"}

# Movidesk rich text: the macro applied to an internal note, <p> per line, &nbsp; in marks.
FALHA_HTML = (
    "<p><strong>Checklist - Falha no sistema</strong></p>"
    "<p>A falha refere-se a:</p>"
    "<p>(X) Apps (&nbsp;) Painel Emissor ( ) Integração API ( ) Integração SEFAZ/Prefeitura</p>"
    "<p>Cliente passou dados de acesso?</p>"
    "<p>( ) Sim ( ) Não (X) Não se aplica</p>"
    "<p>Emissão automática está habilitada?</p>"
    "<p>(X) Sim (&nbsp;) Não ( ) Não se aplica</p>"
    "<p>Cadastro da empresa está preenchido corretamente no eNotas?</p>"
    "<p>(X) Sim ( ) Não</p>"
    "<p>Descrição da análise realizada:</p>"
    "<p>Card aberto no desenvolvimento: a integração com o canal de vendas não atualiza a "
    "situação das vendas. Risco: cliente sem emissão automática até a correção.</p>"
)


def falha(
    *,
    apps: str = "(X) Apps ( ) Painel Emissor ( ) Integração API ( ) Integração SEFAZ/Prefeitura",
    acesso: str = "( ) Sim ( ) Não (X) Não se aplica",
    automatica: str = "(X) Sim ( ) Não ( ) Não se aplica",
    cadastro: str | None = "(X) Sim ( ) Não",
    analysis: str
    | None = "Card aberto no dev sobre a integração; cliente orientado a emitir manual.",
) -> str:
    """The 'Falha no sistema' macro as plain text, one answer line per question."""
    lines = [
        "Checklist - Falha no sistema",
        "A falha refere-se a:",
        apps,
        "Cliente passou dados de acesso?",
        acesso,
        "Emissão automática está habilitada?",
        automatica,
    ]
    if cadastro is not None:
        lines += ["Cadastro da empresa está preenchido corretamente no eNotas?", cadastro]
    if analysis is not None:
        lines += ["Descrição da análise realizada:", analysis]
    return "\n".join(lines)


# The macros of the other three checklists are in the SOP's annex, which was not provided;
# their questions below are illustrative. The mapping lists none, so whatever questions the
# macro holds must each be answered exactly once.
EMISSAO = """Checklist - Emissão de notas / Rejeição (correção)
Tipo de nota:
(X) NFS-e ( ) NF-e ( ) NFC-e
Rejeição identificada na SEFAZ/Prefeitura? (X) Sim ( ) Não
Nota emitida/corrigida manualmente no painel? (X) Sim ( ) Não
Descrição da análise realizada:
Rejeição 539 (duplicidade de numeração); ajustada a numeração no painel e nota reemitida."""

SERVICO = (
    "<p>Checklist - Solicitação de serviço</p>"
    "<p>Serviço solicitado:<br>( ) Conferência de relatórios (X) Importação de vendas "
    "( ) Localização de numerações</p>"
    "<p>Arquivo enviado pelo cliente?<br>Sim (X) Não ( )</p>"
    "<p>Descrição da análise realizada:<br>"
    "Importadas 214 vendas da planilha de outubro; sem divergências.</p>"
)

AGENDAMENTO = """checklist - agendamento de videoconferencia
• Tipo de contato: (x) Videoconferência ( ) Ligação
• Análise prévia realizada? (x) Sim ( ) Não
• Painel da empresa verificado? (x) Sim ( ) Não
descricao da analise realizada:
Reunião 24/11 às 10h para revisar a configuração de ISS; painel sem inconsistências."""


def note(decision: Decision) -> str:
    """The text of the decision's single note."""
    return str(action(decision, "add_note").text)


# ------------------------------------------------------------------ Bloco 2: checklists


def test_falha_no_sistema_complete_movidesk_html_needs_no_action() -> None:
    d = run("emissor", ticket(FALHA_HTML, fields=COMPANY, source="movidesk"))
    assert d.request_type == "Falha no sistema"
    assert d.outcome == "complete"
    assert d.missing == ()
    assert d.invalid == ()
    # The SOP routes nothing for a filled checklist: no note, no status, no route.
    assert d.actions == ()
    assert "Nome da empresa" in d.checked


def test_falha_no_sistema_complete_plain_text_lowercase_labels() -> None:
    t = ticket(
        "tipo de solicitacao: falha no sistema\nemail da conta: financeiro@paoquente.com.br",
        falha(),
    )
    d = run("emissor", t)
    assert d.request_type == "Falha no sistema"
    assert d.outcome == "complete"
    assert d.actions == ()
    assert d.checked == ("E-mail da conta",)


def test_type_from_ticket_field_without_checklist_is_incomplete() -> None:
    t = ticket("Nome da empresa: Padaria Pão Quente", request_type="Falha no sistema")
    d = run("emissor", t)
    assert d.outcome == "incomplete"
    assert missing_labels(d) == ["Checklist - Falha no sistema"]
    assert kinds(d) == ["add_note"]  # status unchanged, no routing
    assert "• Checklist - Falha no sistema" in note(d)
    assert "O status do ticket não foi alterado." in note(d)


def test_question_unanswered_is_reported() -> None:
    body = falha(automatica="( ) Sim ( ) Não ( ) Não se aplica")
    d = run("emissor", ticket(body, fields=COMPANY))
    assert d.outcome == "incomplete"
    assert [i.reason for i in d.invalid] == [
        "pergunta 'Emissão automática está habilitada?' sem resposta (marque uma opção com X)"
    ]
    assert kinds(d) == ["add_note"]
    assert (
        "• Checklist - Falha no sistema: pergunta 'Emissão automática está habilitada?' "
        "sem resposta" in note(d)
    )


def test_question_answered_twice_is_reported() -> None:
    body = falha(acesso="(X) Sim (X) Não ( ) Não se aplica")
    d = run("emissor", ticket(body, fields=COMPANY))
    assert d.outcome == "incomplete"
    assert [i.reason for i in d.invalid] == [
        "pergunta 'Cliente passou dados de acesso?' com 2 respostas (marque apenas uma)"
    ]
    assert "com 2 respostas (marque apenas uma)" in note(d)


def test_question_of_the_sop_removed_from_the_macro_is_missing() -> None:
    d = run("emissor", ticket(falha(cadastro=None), fields=COMPANY))
    assert d.outcome == "incomplete"
    assert missing_labels(d) == [
        "Checklist - Falha no sistema: pergunta "
        "'Cadastro da empresa está preenchido corretamente no eNotas?'"
    ]
    assert "Cadastro da empresa está preenchido corretamente no eNotas?" in note(d)


def test_analysis_of_four_lines_is_too_long() -> None:
    analysis = (
        "Verificado o painel do cliente.\n"
        "Integração com o marketplace sem retorno desde 15/11.\n"
        "Aberto card no desenvolvimento.\n"
        "Cliente orientado a emitir manualmente."
    )
    d = run("emissor", ticket(falha(analysis=analysis), fields=COMPANY))
    assert d.outcome == "incomplete"
    assert [(i.label, i.reason) for i in d.invalid] == [
        ("Descrição da análise realizada", "a análise deve ter no máximo 3 linhas (tem 4)")
    ]
    assert "• Descrição da análise realizada: a análise deve ter no máximo 3 linhas (tem 4)" in (
        note(d)
    )


def test_analysis_of_three_html_lines_is_accepted() -> None:
    html = FALHA_HTML.replace(
        "<p>Card aberto",
        "<p>Painel verificado.</p><p>Sem retorno da API do canal.</p><p>Card aberto",
    )
    d = run("emissor", ticket(html, fields=COMPANY))
    assert d.outcome == "complete"
    assert d.actions == ()


def test_empty_analysis_is_missing() -> None:
    d = run("emissor", ticket(falha(analysis=""), fields=COMPANY))
    assert d.outcome == "incomplete"
    assert missing_labels(d) == ["Descrição da análise realizada"]


def test_checklist_reapplied_in_a_later_note_supersedes_the_wrong_one() -> None:
    wrong = falha(acesso="( ) Sim ( ) Não ( ) Não se aplica")
    d = run("emissor", ticket(wrong, falha(), fields=COMPANY))
    assert d.outcome == "complete"
    assert d.invalid == ()


def test_emissao_de_notas_complete() -> None:
    d = run("emissor", ticket(EMISSAO, fields={"cliente_email": "contato@lojaabc.com.br"}))
    assert d.request_type == "Emissão de notas / Rejeição (correção)"
    assert d.outcome == "complete"
    assert d.actions == ()


def test_emissao_de_notas_with_a_doubly_marked_question() -> None:
    body = EMISSAO.replace("(X) NFS-e ( ) NF-e", "(X) NFS-e (X) NF-e")
    d = run("emissor", ticket(body, fields=COMPANY))
    assert d.outcome == "incomplete"
    assert [i.reason for i in d.invalid] == [
        "pergunta 'Tipo de nota:' com 2 respostas (marque apenas uma)"
    ]
    assert "Checklist: Emissão de notas / Rejeição (correção)" in note(d)


def test_solicitacao_de_servico_complete_html_with_br() -> None:
    d = run("emissor", ticket(SERVICO, fields=COMPANY))
    assert d.request_type == "Solicitação de serviço"
    assert d.outcome == "complete"
    assert d.actions == ()


def test_question_and_trailing_marks_on_one_line() -> None:
    body = SERVICO.replace(
        "Arquivo enviado pelo cliente?<br>Sim", "Arquivo enviado pelo cliente? Sim"
    )
    d = run("emissor", ticket(body, fields=COMPANY))
    assert d.outcome == "complete"


def test_solicitacao_de_servico_without_marks_and_analysis() -> None:
    body = "Checklist - Solicitação de serviço\nServiço solicitado: importação de vendas"
    d = run("emissor", ticket(body, fields=COMPANY))
    assert d.outcome == "incomplete"
    assert missing_labels(d) == ["Descrição da análise realizada"]
    assert [i.reason for i in d.invalid] == ["checklist sem perguntas marcáveis"]
    text = note(d)
    assert "• Descrição da análise realizada" in text
    assert "checklist sem perguntas marcáveis" in text


def test_agendamento_lowercase_bullets_complete() -> None:
    d = run("emissor", ticket(AGENDAMENTO, fields=COMPANY))
    assert d.request_type == "Agendamento de videoconferência"
    assert d.outcome == "complete"
    assert d.actions == ()


def test_agendamento_alias_in_type_field_with_unanswered_question() -> None:
    body = AGENDAMENTO.replace(
        "• Painel da empresa verificado? (x) Sim", "• Painel da empresa verificado? ( ) Sim"
    )
    t = ticket(body, request_type="Agendamento de videoconferência/ligação", fields=COMPANY)
    d = run("emissor", t)
    assert d.request_type == "Agendamento de videoconferência"
    assert d.outcome == "incomplete"
    assert [i.reason for i in d.invalid] == [
        "pergunta 'Painel da empresa verificado?' sem resposta (marque uma opção com X)"
    ]
    assert "verificar o painel da empresa (1.4)" in note(d)  # the type's manual check


# --------------------------------------------------------- Bloco 1, passo 1: basic info


def test_basic_info_missing_is_asked_even_with_a_complete_checklist() -> None:
    d = run("emissor", ticket(falha()))
    assert d.outcome == "incomplete"
    assert missing_labels(d) == ["Nome da empresa e/ou E-mail da conta"]
    assert kinds(d) == ["add_note"]
    text = note(d)
    assert "• Nome da empresa e/ou E-mail da conta" in text
    assert "solicite ao cliente" in text


def test_basic_info_missing_on_a_ticket_without_checklist_yet() -> None:
    d = run("emissor", ticket("Cliente relata erro ao emitir nota pelo app."))
    assert d.outcome == "unmapped"
    assert d.request_type is None
    assert missing_labels(d) == ["Nome da empresa e/ou E-mail da conta"]
    assert kinds(d) == ["add_note"]


def test_invalid_account_email_is_reported() -> None:
    d = run("emissor", ticket("E-mail da conta: financeiro@paoquente", falha()))
    assert d.outcome == "incomplete"
    assert d.missing == ()
    assert [i.label for i in d.invalid] == ["E-mail da conta"]
    assert "• E-mail da conta:" in note(d)


def test_no_context_fires_no_preflight_branch() -> None:
    d = run("emissor", ticket(falha(), fields=COMPANY))
    assert d.rules == ("basic_info",)
    assert d.outcome == "complete"
    assert d.actions == ()


# ---------------------------------------------------------- Bloco 1, passo 1: onboarding


def test_onboarding_merges_into_the_onboarding_ticket() -> None:
    facts = {"customer_in_onboarding": True, "onboarding_ticket_id": "48213"}
    d = run("emissor", ticket(falha(), fields=COMPANY), facts=facts)
    assert d.outcome == "handled_by_rule"
    assert d.rules == ("basic_info", "onboarding")
    assert kinds(d) == ["merge", "set_status"]
    merge = action(d, "merge")
    assert merge.into == "48213"
    assert "mesclado ao ticket do onboarding 48213" in merge.note
    status = action(d, "set_status")
    assert status.status == "Pendente Onboarding"
    assert status.justification == "Cliente em onboarding"


def test_onboarding_fires_before_any_checklist_is_written() -> None:
    facts = {"customer_in_onboarding": True, "onboarding_ticket_id": "48213"}
    d = run("emissor", ticket("cliente novo, ainda em implantação"), facts=facts)
    assert d.outcome == "handled_by_rule"
    assert action(d, "merge").into == "48213"
    assert kinds(d) == ["merge", "set_status"]


def test_onboarding_without_known_ticket_asks_the_agent_to_find_it() -> None:
    d = run("emissor", ticket(falha(), fields=COMPANY), facts={"customer_in_onboarding": True})
    assert d.outcome == "handled_by_rule"
    assert kinds(d) == ["add_note", "set_status"]
    assert "localize-o e mescle os atendimentos" in note(d)
    assert action(d, "set_status").status == "Pendente Onboarding"


def test_customer_out_of_onboarding_is_left_alone() -> None:
    facts = {"customer_in_onboarding": False, "onboarding_ticket_id": "48213"}
    d = run("emissor", ticket(falha(), fields=COMPANY), facts=facts)
    assert d.outcome == "complete"
    assert d.actions == ()


# ------------------------------------------------------ Bloco 1, passo 2: finance block


def test_non_payment_block_goes_to_finance_even_with_incomplete_checklist() -> None:
    facts = {
        "customer_blocked": True,
        "blocked_for_non_payment": True,
        "block_reason": "Fatura de outubro em aberto há 35 dias",
    }
    body = falha(acesso="( ) Sim ( ) Não ( ) Não se aplica")
    d = run("emissor", ticket(body, fields=COMPANY), facts=facts)
    assert d.outcome == "handled_by_rule"
    assert kinds(d) == ["route", "set_status", "add_note"]
    route = action(d, "route")
    assert (route.team, route.owner, route.queue) == ("Financeiro-Atendimento", None, None)
    status = action(d, "set_status")
    assert status.status == "Pendente Financeiro"
    assert status.justification == "Bloqueio por inadimplência"
    text = note(d)
    assert "Motivo do bloqueio: Fatura de outubro em aberto há 35 dias" in text
    assert "prints do bloqueio" in text
    assert "#finan-suporte" in text


def test_block_for_another_reason_only_reminds_the_agent() -> None:
    facts = {"customer_blocked": True, "block_reason": "Suspeita de fraude no cadastro"}
    d = run("emissor", ticket(falha(), fields=COMPANY), facts=facts)
    assert d.outcome == "complete"
    assert kinds(d) == ["add_note"]
    assert "Motivo do bloqueio: Suspeita de fraude no cadastro" in note(d)
    assert "Financeiro-Atendimento" not in note(d)


def test_onboarding_comes_before_the_finance_block_and_duplicates() -> None:
    facts = {
        "customer_in_onboarding": True,
        "onboarding_ticket_id": "48213",
        "blocked_for_non_payment": True,
    }
    dup = RelatedTicket("50001", same_subject=True, in_attendance=True, created_at=A_DAY_EARLIER)
    d = run("emissor", ticket(falha(), fields=COMPANY), facts=facts, open_tickets=[dup])
    assert d.rules == ("basic_info", "onboarding")
    assert action(d, "merge").into == "48213"


# --------------------------------------------------------- Bloco 1, passo 3: duplicates


def test_newer_duplicate_with_card_gets_this_ticket_assigned_to_its_analyst() -> None:
    dup = RelatedTicket(
        "50123",
        number="50123",
        owner="carla.mendes",
        created_at=AN_HOUR_LATER,
        has_linked_card=True,
        same_subject=True,
        in_attendance=True,
    )
    d = run("emissor", ticket(falha(), fields=COMPANY), open_tickets=[dup])
    assert d.outcome == "handled_by_rule"
    assert d.rules == ("basic_info", "duplicate_with_newer_card")
    assert kinds(d) == ["route", "add_note"]  # status stays "Novo": no set_status
    assert action(d, "route").owner == "carla.mendes"
    text = note(d)
    assert "(50123)" in text
    assert 'status mantido como "Novo"' in text
    assert "encerre este ticket (secundário)" in text


def test_older_duplicate_with_card_is_merged() -> None:
    dup = RelatedTicket(
        "49870",
        owner="carla.mendes",
        created_at=A_DAY_EARLIER,
        has_linked_card=True,
        same_subject=True,
        in_attendance=True,
    )
    d = run("emissor", ticket(falha(), fields=COMPANY), open_tickets=[dup])
    assert d.outcome == "handled_by_rule"
    assert d.rules == ("basic_info", "duplicate_merge")
    assert kinds(d) == ["merge", "set_status"]
    assert action(d, "merge").into == "49870"
    status = action(d, "set_status")
    assert status.status == "Pendente Suporte"
    assert status.justification == "Ticket duplicado (mesmo assunto)"


def test_newer_duplicate_without_card_is_merged() -> None:
    dup = RelatedTicket(
        "50200",
        created_at=AN_HOUR_LATER,
        has_linked_card=False,
        same_subject=True,
        in_attendance=True,
    )
    d = run("emissor", ticket("Nome da empresa: Mercadinho Sol"), open_tickets=[dup])
    assert d.outcome == "handled_by_rule"
    assert action(d, "merge").into == "50200"
    assert action(d, "set_status").status == "Pendente Suporte"


def test_duplicate_with_card_and_unknown_creation_date_counts_as_older() -> None:
    dup = RelatedTicket(
        "50300", owner="carla.mendes", has_linked_card=True, same_subject=True, in_attendance=True
    )
    d = run("emissor", ticket(falha(), fields=COMPANY), open_tickets=[dup])
    assert d.rules == ("basic_info", "duplicate_merge")
    assert action(d, "merge").into == "50300"


def test_open_ticket_on_another_subject_is_ignored() -> None:
    other = RelatedTicket("50400", created_at=AN_HOUR_LATER, has_linked_card=True)
    d = run("emissor", ticket(falha(), fields=COMPANY), open_tickets=[other])
    assert d.rules == ("basic_info",)
    assert d.actions == ()


@pytest.mark.parametrize(
    ("card", "created", "expected"),
    [
        (True, AN_HOUR_LATER, ["route", "add_note"]),
        (True, A_DAY_EARLIER, ["merge", "set_status"]),
        (False, AN_HOUR_LATER, ["merge", "set_status"]),
        (False, A_DAY_EARLIER, ["merge", "set_status"]),
    ],
)
def test_duplicate_branches_table(card: bool, created: datetime, expected: list[str]) -> None:
    dup = RelatedTicket(
        "51000",
        owner="bruno.lima",
        created_at=created,
        has_linked_card=card,
        same_subject=True,
        in_attendance=True,
    )
    d = run("emissor", ticket(fields=COMPANY), open_tickets=[dup])
    assert d.outcome == "handled_by_rule"
    assert kinds(d) == expected


# Passo 3 applies to a ticket in initial analysis whose duplicate an analyst is handling.


def pair(
    *,
    created_at: datetime = A_DAY_EARLIER,
    has_linked_card: bool = False,
    in_attendance: bool | None = True,
) -> RelatedTicket:
    """The customer's other open ticket on the same subject."""
    return RelatedTicket(
        "51100",
        owner="bruno.lima",
        created_at=created_at,
        has_linked_card=has_linked_card,
        same_subject=True,
        in_attendance=in_attendance,
    )


@pytest.mark.parametrize("state", [False, None], ids=["new", "unknown"])
def test_duplicate_nobody_handles_yet_is_not_merged(state: bool | None) -> None:
    # Two new tickets on one subject: merging each into the other would be a cycle.
    d = run("emissor", ticket(fields=COMPANY), open_tickets=[pair(in_attendance=state)])
    assert d.rules == ("basic_info",)
    assert "merge" not in kinds(d)


@pytest.mark.parametrize("card", [True, False])
def test_the_ticket_in_attendance_of_a_pair_is_left_to_its_analyst(card: bool) -> None:
    # Seen from the ticket an analyst is handling, the new one is a newer duplicate.
    mine = ticket(fields=COMPANY, status="Em atendimento")
    other = pair(created_at=AN_HOUR_LATER, has_linked_card=card, in_attendance=False)
    d = run("emissor", mine, open_tickets=[other])
    assert {"merge", "route", "set_status"}.isdisjoint(kinds(d))


def test_the_duplicate_in_attendance_is_chosen_over_a_new_one() -> None:
    new = RelatedTicket("51200", created_at=A_DAY_EARLIER, same_subject=True, in_attendance=False)
    d = run("emissor", ticket(fields=COMPANY), open_tickets=[new, pair()])
    assert action(d, "merge").into == "51100"


def test_a_ticket_already_merged_is_left_alone() -> None:
    # The secondary now "Pendente Suporte", its duplicate still open: nothing more to do.
    mine = ticket(fields=COMPANY, status="Pendente Suporte")
    d = run("emissor", mine, facts={"merged_into": "51100"}, open_tickets=[pair()])
    assert d.rules == ("merged",)
    assert d.actions == ()
