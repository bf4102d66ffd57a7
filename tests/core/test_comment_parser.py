"""Comment parsing on agent notes as the SOPs (seeds 000 and 002) make agents write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.comment_parser import (
    Checklist,
    LabelIndex,
    extract_checklists,
    extract_fields,
    html_to_text,
    normalize_label,
)
from sync.model import Comment

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)

LABELS: dict[str, list[str]] = {
    "tipo": ["Tipo de solicitação", "Tipo"],
    "numero_pedido_gar": ["Número do pedido GAR", "Nº do Pedido GAR", "Pedido GAR"],
    "numero_pedido_checkout": ["Nº do Pedido Checkout", "Pedido Checkout"],
    "status_pedido_gar": ["Status do pedido GAR"],
    "email_voucher": ["E-mail para envio do voucher"],
    "email_gar": ["E-mail no GAR"],
    "cpf": ["CPF do Cliente", "CPF"],
    "cnpj": ["CNPJ do cliente", "CNPJ"],
    "motivo_voucher": ["Motivo do Voucher"],
    "motivo_solicitacao": ["Motivo da Solicitação", "Motivo"],
    "conformidade_garantia": ["Conformidade com a Política de Garantia"],
    "autorizador_excecao": ["Quem autorizou a exceção", "Autorizado por"],
    "data_compra": ["Data da compra"],
    "forma_pagamento": ["Forma de Pagamento"],
    "ip_publico": ["Nº do IP Público", "IP Público", "IP"],
    "posto": ["Nome do posto", "Nome/endereço completo do posto"],
    "local": ["Local"],
    "cidade": ["Cidade"],
    "estado": ["Estado", "UF"],
    "situacao": ["Descrição da situação", "Descreva a situação"],
}


@pytest.fixture(scope="module")
def index() -> LabelIndex:
    return LabelIndex(LABELS)


def note(body: str, cid: str = "c1", minutes: int = 0) -> Comment:
    return Comment(cid, body, True, T0 + timedelta(minutes=minutes), "agente")


def values(comments: list[Comment], index: LabelIndex) -> dict[str, str]:
    return {key: fv.value for key, fv in extract_fields(comments, index).items()}


# ---------------------------------------------------------------------------- html_to_text


def test_plain_text_keeps_lines_and_collapses_spaces() -> None:
    assert html_to_text("CPF:   123\r\n\tPedido GAR:\t456  \r\n") == "CPF: 123\nPedido GAR: 456"


def test_freshdesk_divs_and_br_become_lines() -> None:
    body = (
        "<div>Tipo de solicitação: Voucher</div>\n<div>CPF do Cliente: 529.982.247-25<br></div>"
        "<div>Motivo do Voucher: Erro de emiss&atilde;o</div><div><br></div><div>Fim</div>"
    )
    assert html_to_text(body) == (
        "Tipo de solicitação: Voucher\nCPF do Cliente: 529.982.247-25\n"
        "Motivo do Voucher: Erro de emissão\n\nFim"
    )


def test_salesforce_paragraphs_bold_and_entities() -> None:
    body = (
        "<p><b>Nº do IP Público:</b>&nbsp;200.201.10.5</p><p><strong>Motivo da Solicita&ccedil;"
        "&atilde;o:</strong> <span style=\"color: #000; font-family: 'a>b'\">rede bloqueada</span>"
        "</p>"
    )
    assert (
        html_to_text(body)
        == "Nº do IP Público: 200.201.10.5\nMotivo da Solicitação: rede bloqueada"
    )


def test_list_items_become_bullets_and_scripts_are_dropped() -> None:
    body = (
        "<style>p {color: red}</style><ul><li><p>CIDADE: Campinas</p></li>"
        "<li>ESTADO: SP</li></ul><script>alert('x')</script><!-- nota -->"
    )
    assert html_to_text(body) == "• CIDADE: Campinas\n• ESTADO: SP"


def test_text_that_only_looks_like_markup_survives() -> None:
    assert html_to_text("E-mail: <joao@exemplo.com.br> & valor < 10") == (
        "E-mail: <joao@exemplo.com.br> & valor < 10"
    )
    assert html_to_text("&lt;b&gt;literal&lt;/b&gt;") == "<b>literal</b>"


def test_table_rows_become_lines() -> None:
    body = "<table><tr><td>CPF:</td><td>123</td></tr><tr><td>UF:</td><td>SP</td></tr></table>"
    assert html_to_text(body) == "CPF: 123\nUF: SP"


# ----------------------------------------------------------------------------- LabelIndex


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ('• Informe: O Nº do Pedido GAR (ou "NÃO GERADO")', "no pedido gar"),
        ("numero do pedido gar", "numero pedido gar"),
        ("N° do pedido GAR:", "no pedido gar"),
        ("Forneça: O CPF do cliente", "cpf cliente"),
        ("E-mail no GAR: (EXCLUSIVAMENTE o e-mail que consta no pedido)", "email no gar"),
        ("email p/ envio do voucher", "email para envio voucher"),
        ("Obs c/ cliente", "observacao com cliente"),
        ("2) a) Indique a Data da compra?", "data compra"),
        ("Ped. GAR", "pedido gar"),
        ("CPF correto", "cpf"),
        ("Status GAR atualizado", "status gar"),
        ("Correto", "correto"),
        ('"CPF"', "cpf"),
    ],
)
def test_normalize_label(written: str, expected: str) -> None:
    assert normalize_label(written) == expected


def test_duplicate_synonym_names_both_keys() -> None:
    with pytest.raises(ValueError, match=r"'cpf'.*'documento'|'documento'.*'cpf'"):
        LabelIndex({"cpf": ["CPF do Cliente"], "documento": ["Informe o CPF do cliente:"]})


def test_same_synonym_twice_for_one_key_is_fine(index: LabelIndex) -> None:
    LabelIndex({"situacao": ["Situação", "Descreva a situação"]})
    assert index.lookup("• DESCREVA A SITUACAO:") == "situacao"
    assert index.lookup("Observação") is None
    assert "cpf" in index.keys


# -------------------------------------------------------------------------- extract_fields


def test_voucher_comment_with_bullets_and_template_prompts(index: LabelIndex) -> None:
    body = """Tipo de solicitação: Voucher
  • Número do pedido GAR: 45871236
  • Status do pedido GAR: Emitido
  • E-mail para envio do voucher: maria-silva@empresa-x.com.br
  • CPF do Cliente: 529.982.247-25
  • Motivo do Voucher: Correção de E-mail
  • Conformidade com a Política de Garantia:
Não
Autorizado por: Carla (supervisão)"""
    fields = extract_fields([note(body)], index)
    assert {k: v.value for k, v in fields.items()} == {
        "tipo": "Voucher",
        "numero_pedido_gar": "45871236",
        "status_pedido_gar": "Emitido",
        "email_voucher": "maria-silva@empresa-x.com.br",
        "cpf": "529.982.247-25",
        "motivo_voucher": "Correção de E-mail",
        "conformidade_garantia": "Não",
        "autorizador_excecao": "Carla (supervisão)",
    }
    assert fields["cpf"].label == "CPF do Cliente"
    assert fields["cpf"].line == 5
    assert fields["cpf"].comment_id == "c1"
    assert fields["conformidade_garantia"].line == 7


def test_prompt_words_with_colon_before_the_label(index: LabelIndex) -> None:
    body = """Liberação de pagamento
• Informe: O Nº do Pedido GAR (ou "NÃO GERADO"): 123456
• Informe: O Nº do Pedido Checkout (ou "NÃO GERADO"): "NÃO GERADO"
• Indique: A Data da compra: 05/03/2025
• Especifique: A Forma de Pagamento (Boleto, Cartão ou Pix) - Pix
• Forneça: O CPF do cliente - 529.982.247-25
• Forneça: O CNPJ do cliente – 11.222.333/0001-81;"""
    fields = extract_fields([note(body)], index)
    assert fields["numero_pedido_gar"].label == "Nº do Pedido GAR"
    assert {k: v.value for k, v in fields.items()} == {
        "numero_pedido_gar": "123456",
        "numero_pedido_checkout": "NÃO GERADO",
        "data_compra": "05/03/2025",
        "forma_pagamento": "Pix",
        "cpf": "529.982.247-25",
        "cnpj": "11.222.333/0001-81",
    }


def test_mixed_bullets_case_and_missing_accents(index: LabelIndex) -> None:
    body = """- numero do pedido gar - 998877
* cpf do cliente = sem separador
NOME DO POSTO: AR Central Campinas
1. cidade: Campinas
a) uf: sp
**Motivo da solicitacao:** IP bloqueado pelo firewall"""
    assert values([note(body)], index) == {
        "numero_pedido_gar": "998877",
        "posto": "AR Central Campinas",
        "cidade": "Campinas",
        "estado": "sp",
        "motivo_solicitacao": "IP bloqueado pelo firewall",
    }


def test_hyphens_without_spaces_never_split(index: LabelIndex) -> None:
    body = "E-mail no GAR: joao-pedro@e-mail.com\nPix-123: não é rótulo\nCPF: 529.982.247-25"
    assert values([note(body)], index) == {
        "email_gar": "joao-pedro@e-mail.com",
        "cpf": "529.982.247-25",
    }


def test_only_the_first_separator_splits_ipv6_and_times(index: LabelIndex) -> None:
    body = "Nº do IP Público: 2001:db8:85a3::8a2e:370:7334\nData da compra: 05/03/2025 14:30"
    assert values([note(body)], index) == {
        "ip_publico": "2001:db8:85a3::8a2e:370:7334",
        "data_compra": "05/03/2025 14:30",
    }


def test_template_hint_left_in_place_is_taken_as_written(index: LabelIndex) -> None:
    body = "Número do pedido GAR: Informe o código do pedido. 12345"
    assert values([note(body)], index) == {"numero_pedido_gar": "Informe o código do pedido. 12345"}


def test_value_on_following_lines(index: LabelIndex) -> None:
    body = """Descreva a situação:

Cliente compareceu ao posto às 10h
e o local estava fechado.

Texto solto depois de uma linha em branco.
Local:
Rua das Flores, 100
Cidade: Sorocaba"""
    fields = extract_fields([note(body)], index)
    assert fields["situacao"].value == (
        "Cliente compareceu ao posto às 10h\ne o local estava fechado."
    )
    assert fields["situacao"].line == 1
    assert fields["local"].value == "Rua das Flores, 100"
    assert fields["cidade"].value == "Sorocaba"


def test_empty_values_count_as_absent(index: LabelIndex) -> None:
    body = 'CPF: -\nCNPJ: ___\nCidade:\nUF: SP\nNome do posto: ""\nLocal:'
    assert values([note(body)], index) == {"estado": "SP"}


def test_unknown_labels_and_prose_are_ignored(index: LabelIndex) -> None:
    body = (
        "Observação: cliente ligou às 10:15\nCliente informou: CPF errado no pedido\n"
        "Checklist - Falha no sistema\nhttps://exemplo.com/pedido"
    )
    assert values([note(body)], index) == {}


def test_same_label_twice_in_one_comment_later_wins(index: LabelIndex) -> None:
    body = "CPF: 111.111.111-11\nCPF do cliente: 529.982.247-25\nCPF:"
    fields = extract_fields([note(body)], index)
    assert fields["cpf"].value == "529.982.247-25"
    assert fields["cpf"].line == 2


def test_freshdesk_html_comment(index: LabelIndex) -> None:
    body = (
        '<div dir="ltr"><div><b>Tipo de solicita&ccedil;&atilde;o:</b> Desbloqueio de IP</div>'
        "<div>Nº do IP Público:&nbsp;189.45.10.2<br></div><div>Motivo da Solicitação:<br></div>"
        "<div>Rede da empresa bloqueada ap&oacute;s tentativas</div></div>"
    )
    fields = extract_fields([note(body)], index)
    assert {k: v.value for k, v in fields.items()} == {
        "tipo": "Desbloqueio de IP",
        "ip_publico": "189.45.10.2",
        "motivo_solicitacao": "Rede da empresa bloqueada após tentativas",
    }
    assert fields["motivo_solicitacao"].line == 3


def test_salesforce_html_comment_with_list(index: LabelIndex) -> None:
    body = (
        "<p>Reenvio de c&oacute;digo de instala&ccedil;&atilde;o</p><ul>"
        "<li><b>Número do pedido GAR:</b> 7766554</li>"
        "<li><b>E-mail no GAR:</b> (EXCLUSIVAMENTE o e-mail que consta no pedido) "
        "ana@x.com</li><li><b>CPF do Cliente:</b>&nbsp;&nbsp;529.982.247-25</li></ul>"
    )
    assert values([note(body)], index) == {
        "numero_pedido_gar": "7766554",
        "email_gar": "ana@x.com",
        "cpf": "529.982.247-25",
    }


def test_newest_comment_wins_and_older_fields_survive(index: LabelIndex) -> None:
    older = note("CPF: 111.444.777-35\nNúmero do pedido GAR: 1000\nCidade: Santos", "old", 0)
    newer = note("Número do pedido GAR: 2000\nCidade: -", "new", 30)
    # Given out of order: created_at decides, not the sequence.
    fields = extract_fields([newer, older], index)
    assert fields["numero_pedido_gar"].value == "2000"
    assert fields["numero_pedido_gar"].comment_id == "new"
    assert fields["cpf"].value == "111.444.777-35"
    assert fields["cpf"].comment_id == "old"
    assert fields["cidade"].value == "Santos"


def test_equal_times_later_in_sequence_wins(index: LabelIndex) -> None:
    first = note("UF: SP", "a", 5)
    second = note("UF: RJ", "b", 5)
    assert extract_fields([first, second], index)["estado"].comment_id == "b"
    assert extract_fields([second, first], index)["estado"].comment_id == "a"


def test_naive_and_aware_times_do_not_raise(index: LabelIndex) -> None:
    naive = Comment("n", "UF: MG", True, datetime(2025, 3, 10, 12, 0))
    aware = note("UF: SP", "a", 0)
    assert extract_fields([naive, aware], index)["estado"].value == "MG"


# --------------------------------------------------------------------------- checklists

SOP_EXAMPLE = """Checklist - Falha no sistema
A falha refere-se a:
(X) Apps ( ) Painel Emissor ( ) Integração API ( ) Integração SEFAZ/Prefeitura
Cliente passou dados de acesso?
( ) Sim ( ) Não (X) Não se aplica
Emissão automática está habilitada?
(X) Sim ( ) Não ( ) Não se aplica
Cadastro da empresa está preenchido corretamente no eNotas?
(X) Sim ( ) Não
Descrição da análise realizada:
Card em aberto no desenvolvimento sobre a integração X.
Considerações: cliente não conseguirá emitir de forma automática.
Risco de impacto no faturamento do cliente."""


def test_sop_example_checklist() -> None:
    (checklist,) = extract_checklists([note(SOP_EXAMPLE, "n1")])
    assert checklist.title == "Falha no sistema"
    assert checklist.comment_id == "n1"
    texts = [q.text for q in checklist.questions]
    assert texts == [
        "A falha refere-se a:",
        "Cliente passou dados de acesso?",
        "Emissão automática está habilitada?",
        "Cadastro da empresa está preenchido corretamente no eNotas?",
    ]
    first = checklist.questions[0]
    assert [o.label for o in first.options] == [
        "Apps",
        "Painel Emissor",
        "Integração API",
        "Integração SEFAZ/Prefeitura",
    ]
    assert first.marked == ("Apps",)
    assert first.line == 2
    assert [q.marked for q in checklist.questions[1:]] == [("Não se aplica",), ("Sim",), ("Sim",)]
    assert checklist.analysis is not None
    assert checklist.analysis.splitlines() == [
        "Card em aberto no desenvolvimento sobre a integração X.",
        "Considerações: cliente não conseguirá emitir de forma automática.",
        "Risco de impacto no faturamento do cliente.",
    ]


def test_options_one_per_line_and_mark_variants() -> None:
    body = """CHECKLIST: Solicitação de serviço
Tipo de serviço:
[x] Conferência de relatórios
[ ] Importação de vendas
( ) Localização de numerações
Cliente enviou os arquivos?
( x ) Sim
() Não
Prazo combinado? (✓) Sim ( ) Não
Retorno ao cliente:
Sim (X) Não ( )
Análise: conferido o relatório de março."""
    (checklist,) = extract_checklists([note(body)])
    assert checklist.title == "Solicitação de serviço"
    assert [(q.text, q.marked) for q in checklist.questions] == [
        ("Tipo de serviço:", ("Conferência de relatórios",)),
        ("Cliente enviou os arquivos?", ("Sim",)),
        ("Prazo combinado?", ("Sim",)),
        ("Retorno ao cliente:", ("Sim",)),
    ]
    assert len(checklist.questions[0].options) == 3
    assert [o.label for o in checklist.questions[1].options] == ["Sim", "Não"]
    assert checklist.analysis == "conferido o relatório de março."


def test_unanswered_and_twice_answered_questions() -> None:
    body = """Checklist - Emissão de notas / Rejeição (correção)
Nota rejeitada pela prefeitura?
( ) Sim ( ) Não
Correção feita no painel?
(X) Sim (X) Não
Descrição da análise realizada:
"""
    (checklist,) = extract_checklists([note(body)])
    unanswered, twice = checklist.questions
    assert unanswered.marked == ()
    assert [o.marked for o in unanswered.options] == [False, False]
    assert twice.marked == ("Sim", "Não")
    assert checklist.analysis == ""


def test_checklist_without_analysis_heading() -> None:
    body = (
        "Checklist - Agendamento de videoconferência\nCliente confirmou horário?\n(X) Sim ( ) Não"
    )
    (checklist,) = extract_checklists([note(body)])
    assert checklist.analysis is None
    assert checklist.questions[0].marked == ("Sim",)


def test_checklist_in_html_note() -> None:
    body = (
        "<p><b>Checklist - Falha no sistema</b></p><p>A falha refere-se a:</p>"
        "<p>(X) Apps&nbsp;( ) Painel Emissor</p><p>Descri&ccedil;&atilde;o da an&aacute;lise "
        "realizada:</p><p>Linha 1</p><p>Linha 2</p>"
    )
    (checklist,) = extract_checklists([note(body)])
    assert checklist.questions[0].marked == ("Apps",)
    assert checklist.analysis == "Linha 1\nLinha 2"


def test_newest_checklist_per_title_wins_in_time_order() -> None:
    old = note("Checklist - Falha no sistema\nApps?\n( ) Sim ( ) Não", "old", 0)
    other = note("Checklist - Solicitação de serviço\nOk?\n(X) Sim", "other", 10)
    new = note("checklist - FALHA NO SISTEMA\nApps?\n(X) Sim ( ) Não", "new", 20)
    result = extract_checklists([new, old, other])
    assert [(c.title, c.comment_id) for c in result] == [
        ("Solicitação de serviço", "other"),
        ("FALHA NO SISTEMA", "new"),
    ]
    assert result[1].questions[0].marked == ("Sim",)


def test_two_checklists_in_one_note_and_no_checklist() -> None:
    body = (
        "Checklist - Falha no sistema\nApps?\n(X) Sim\nAnálise: card aberto\n"
        "Checklist - Solicitação de serviço\nImportação?\n( ) Sim (X) Não"
    )
    first, second = extract_checklists([note(body)])
    assert isinstance(first, Checklist)
    assert (first.title, first.analysis) == ("Falha no sistema", "card aberto")
    assert (second.title, second.analysis) == ("Solicitação de serviço", None)
    assert second.questions[0].line == 6
    assert extract_checklists([note("CPF: 123\n(X) Sim")]) == []
