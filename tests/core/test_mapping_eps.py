"""The EPS escalation mapping (mappings/eps.yaml) against SOPs 000 and 001, end to end.

Every ticket below is written the way Brazilian EPS agents fill the "Comentário Interno"
in Salesforce: the SOP template's bullets and prompt words, "Label - value", UPPER case
without accents, rich-text HTML with ``&nbsp;``, values on the next line, follow-up
comments. Each case asserts the concrete decision: outcome, type, queue, status, note
text, missing/invalid labels and task due dates.

Default moment (tests.factories): Thursday 2026-11-19 16:00 America/Sao_Paulo. Friday
2026-11-20 is a national holiday (Consciência Negra), so 48 business hours (Mon–Fri
08–18) from then end on Friday 2026-11-27 14:00 -03:00.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sync.actions import AddNote, CreateTask, MarkCritical, Route, SetStatus
from sync.decide import Decision, decide
from sync.model import Context
from sync.ticket_io import parse_ticket_document
from tests.factories import (
    THURSDAY_BEFORE_HOLIDAY,
    action,
    invalid_labels,
    kinds,
    mapping,
    missing_labels,
    run,
    ticket,
)

SP = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2026, 11, 19, 19, 10, tzinfo=UTC)
BKO_DUE = datetime(2026, 11, 27, 14, 0, tzinfo=SP)
GSO_DUE = datetime(2026, 11, 19, 17, 0, tzinfo=SP)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SOP_000 = "000_55e322616c6228d0.txt"
BACKOFFICE = "Backoffice EPS"
SUPERVISOR = "Supervisor EPS"
NOT_ESCALATED = "O caso NÃO foi escalado e continua com você."

SUPERVISOR_GAR_CHECK = (
    "Supervisor: consultar o GAR (dados corretos; pedido ainda no status escalado ou já "
    "aprovado/emitido)."
)
AUSENCIA_CHECK = "Verificar e confirmar a informação do cliente (não há AR disponível na cidade)."
PEDIDO_24H_CHECK = (
    "O pedido está aguardando validação/verificação há mais de 24 horas (conferir no GAR)."
)
REENVIO_CHECK = (
    "O e-mail no GAR está correto; se estiver incorreto NÃO reenvie: abra uma solicitação "
    "de Voucher."
)
COMPROVANTE_CHECK = "O comprovante anexado corresponde ao pedido (valor e data)."

GSO_GENERIC = [
    "Número do pedido GAR",
    "Nome do cliente",
    "E-mail do cliente",
    "Telefone do cliente",
    "Descrição da reclamação do cliente",
]
EVIDENCIAS = "Evidências (prints ou fotos anexados)"
COMPROVANTE = "Comprovante de Pagamento (anexo)"

PDF = ("comprovante_pagamento.pdf", "application/pdf")
PNG = ("print_whatsapp_cliente.png", "image/png")
JPG = ("IMG_20261117_101512.jpg", "image/jpeg")
TXT = ("anotacoes_atendimento.txt", "text/plain")

# The generic data GSO requires (seed 001, "Como detalhar a solicitação?"), three ways.
GSO_PLAIN = """Nome do cliente: João da Silva
E-mail do cliente: joao.silva@exemplo.com.br
Telefone: (11) 98765-4321
Nº do pedido GAR: 8812734
Descrição da reclamação: cliente foi ao posto no horário agendado e não foi atendido"""

GSO_DASH = """nome - carlos pereira
email - carlos.pereira@contabilpereira.com.br
tel - 31 3222-1100
numero do pedido gar - 99001122
descricao - cliente recebeu e-mail da AR pedindo os documentos antes da video"""

GSO_HTML = (
    "<p><b>Nome do cliente:</b>&nbsp;Maria Aparecida Souza</p>"
    "<p><b>E-mail:</b>&nbsp;maria.souza@exemplo.com.br</p>"
    "<p><b>Celular:</b>&nbsp;(21) 99876-5432</p>"
    "<p><b>Pedido GAR:</b>&nbsp;77123456</p>"
    "<p><b>Descrição da reclamação:</b></p>"
    "<p>Cliente validou por videoconferência há 3 dias e a AR ainda não enviou a mídia</p>"
)


# ------------------------------------------------------------------------------- helpers


def eps(*comments: str, **kwargs: object) -> Decision:
    """Decide a ticket with the shipped EPS mapping at the default moment."""
    now = kwargs.pop("now", NOW)
    return run("eps", ticket(*comments, **kwargs), now=now)  # type: ignore[arg-type]


def note(decision: Decision) -> str:
    return action(decision, "add_note").text


def section(text: str, header: str) -> list[str]:
    """The "• item" lines under ``header`` in a note (empty when the header is absent)."""
    lines = text.split("\n")
    if header not in lines:
        return []
    items = []
    for line in lines[lines.index(header) + 1 :]:
        if not line.startswith("• "):
            break
        items.append(line[2:])
    return items


def sop(heading: str) -> tuple[str, ...]:
    return (f"{SOP_000} § {heading}",)


def assert_backoffice(
    d: Decision, type_name: str, checked: list[str], due: datetime = BKO_DUE
) -> None:
    """Routed to the Backoffice EPS queue, "Escalado", the BKO note and the 48h task."""
    assert d.outcome == "complete", (d.missing, d.invalid)
    assert d.complete is True
    assert d.request_type == type_name
    assert d.missing == ()
    assert d.invalid == ()
    assert kinds(d)[-4:] == ["route", "set_status", "add_note", "create_task"]
    assert action(d, "route") == Route(queue=BACKOFFICE)
    assert action(d, "set_status") == SetStatus(status="Escalado")
    text = note(d)
    assert action(d, "add_note").purpose == "routed"
    assert text.split("\n")[:2] == [
        f"[helpdesk-sync] Caso escalado para Backoffice EPS: {type_name}",
        f"Prazo de tratativa do BKO: até 48 horas úteis ({d.sop[0]}).",
    ]
    assert section(text, "Conferido automaticamente:") == checked
    assert list(d.checked) == checked
    task = action(d, "create_task")
    assert task == CreateTask(
        subject=f"Prazo BKO: tratar {type_name} (48 horas úteis)", due=due, owner=BACKOFFICE
    )
    assert task.due.utcoffset() == timedelta(hours=-3)


def assert_supervisor(
    d: Decision, type_name: str, checked: list[str], manual_checks: list[str]
) -> None:
    """Routed to the Supervisor EPS queue (then GSO), "Escalado", note with manual checks."""
    assert d.outcome == "complete", (d.missing, d.invalid)
    assert d.complete is True
    assert d.request_type == type_name
    assert d.missing == ()
    assert d.invalid == ()
    assert kinds(d)[-3:] == ["route", "set_status", "add_note"]
    assert "create_task" not in kinds(d)
    assert action(d, "route") == Route(queue=SUPERVISOR)
    assert action(d, "set_status") == SetStatus(status="Escalado")
    assert action(d, "add_note").purpose == "routed"
    text = note(d)
    lines = text.split("\n")
    assert lines[0] == (
        f"[helpdesk-sync] Caso escalado para Supervisor EPS (segue para GSO): {type_name}"
    )
    assert lines[1].startswith("Supervisor: consulte o GAR para confirmar os dados")
    assert "marque como crítico se for urgente" in lines[1]
    assert section(text, "Conferido automaticamente:") == checked
    assert section(text, "Não verificável pelos dados do caso:") == manual_checks


def assert_incomplete(
    d: Decision,
    type_name: str,
    missing: Sequence[str],
    invalid: Sequence[str] = (),
) -> str:
    """Not escalated: note naming exactly what is missing/invalid, status "Em andamento"."""
    assert d.outcome == "incomplete"
    assert d.complete is False
    assert d.request_type == type_name
    assert missing_labels(d) == list(missing)
    assert invalid_labels(d) == list(invalid)
    assert kinds(d) == ["add_note", "set_status"]
    assert action(d, "set_status") == SetStatus(status="Em andamento")
    added = action(d, "add_note")
    assert added.purpose == "incomplete"
    text = added.text
    lines = text.split("\n")
    assert lines[0] == f"[helpdesk-sync] Escalonamento pendente: {type_name}"
    assert NOT_ESCALATED in lines
    assert lines[-1] == "Complete o comentário interno; o caso será escalado automaticamente."
    assert section(text, "Faltando:") == list(missing)
    assert section(text, "Corrigir:") == [
        f"{i.label}: {i.reason}" + (f" (informado: {i.value})" if i.value else "")
        for i in d.invalid
    ]
    assert "Caso escalado" not in text
    return text


def reason(d: Decision, label: str) -> str:
    found = [i.reason for i in d.invalid if i.label == label]
    assert len(found) == 1, invalid_labels(d)
    return found[0]


def shown(d: Decision, label: str) -> str:
    found = [i.value for i in d.invalid if i.label == label]
    assert len(found) == 1, invalid_labels(d)
    return found[0]


# ===================================================================== 1. Voucher (BKO)

VOUCHER_TEMPLATE = """• Número do pedido GAR: 8812734
• Status do pedido GAR: Emitido
• E-mail para envio do voucher: maria.oliveira@exemplo.com.br
• CPF do Cliente: 529.982.247-25
• Motivo do Voucher: Correção de E-mail (cliente digitou o e-mail errado na compra)
• Conformidade com a Política de Garantia: Sim"""

VOUCHER_HTML_EXCEPTION = (
    "<p><b>Número do pedido GAR:</b>&nbsp;8812734</p>"
    "<p><b>Status do pedido GAR:</b>&nbsp;Emitido</p>"
    "<p><b>E-mail para envio do voucher:</b></p><p>maria.oliveira@exemplo.com.br</p>"
    "<p><b>CPF do Cliente:</b>&nbsp;529.982.247-25</p>"
    "<p><b>Motivo do Voucher:</b> Erro de Emissão (nome do titular saiu errado)</p>"
    "<p><b>Conformidade com a Política de Garantia:</b>&nbsp;Não</p>"
    "<p><b>Quem autorizou a exceção:</b>&nbsp;Fernanda Lima (coordenação)</p>"
)

VOUCHER_UPPER_DASH = """NUMERO DO PEDIDO GAR - 8812734
STATUS DO PEDIDO - EMITIDO
EMAIL PARA ENVIO DO VOUCHER - MARIA.OLIVEIRA@EXEMPLO.COM.BR
CPF - 52998224725
MOTIVO DO VOUCHER - ERRO DE EMISSAO
POLITICA DE GARANTIA - NAO
AUTORIZADO POR - FERNANDA (SUPERVISORA)"""

VOUCHER_CHECKED = [
    "Número do pedido GAR",
    "Status do pedido GAR",
    "E-mail para envio do voucher",
    "CPF do cliente",
    "Motivo do Voucher",
    "Conformidade com a Política de Garantia",
]


def test_voucher_template_bullets_warranty_sim_goes_to_backoffice() -> None:
    d = eps(VOUCHER_TEMPLATE, request_type="Voucher")
    assert_backoffice(d, "Voucher", VOUCHER_CHECKED)
    assert d.sop == sop("Voucher")
    assert d.rules == ()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(VOUCHER_HTML_EXCEPTION, id="salesforce-html-nbsp-next-line"),
        pytest.param(VOUCHER_UPPER_DASH, id="upper-no-accents-dash"),
    ],
)
def test_voucher_warranty_nao_with_authorizer_goes_to_backoffice(body: str) -> None:
    d = eps(body, request_type="voucher")
    assert_backoffice(d, "Voucher", [*VOUCHER_CHECKED, "Quem autorizou a exceção"])
    assert d.rules == ("warranty_exception",)


def test_voucher_warranty_nao_without_authorizer_is_not_escalated() -> None:
    body = VOUCHER_TEMPLATE.replace("Garantia: Sim", "Garantia: Não")
    d = eps(body, request_type="Voucher")
    text = assert_incomplete(d, "Voucher", ["Quem autorizou a exceção"])
    assert d.rules == ("warranty_exception",)
    assert d.missing[0].key == "autorizador_excecao"
    assert f"({SOP_000} § Voucher)" in text
    assert section(text, "Conferido automaticamente:") == VOUCHER_CHECKED


def test_voucher_missing_fields_and_invalid_cpf_is_masked() -> None:
    body = """* Pedido GAR: 8812734
* CPF do titular: 123.456.789-00
* Motivo do Voucher: erro de emissão
* Garantia: sim"""
    d = eps(body, request_type="Voucher")
    text = assert_incomplete(
        d,
        "Voucher",
        ["Status do pedido GAR", "E-mail para envio do voucher"],
        ["CPF do cliente"],
    )
    assert reason(d, "CPF do cliente") == "CPF inválido: dígitos verificadores não conferem"
    assert shown(d, "CPF do cliente") == "123.***.***-00"
    assert (
        "• CPF do cliente: CPF inválido: dígitos verificadores não conferem "
        "(informado: 123.***.***-00)" in text
    )
    dumped = json.dumps(d.to_dict(), ensure_ascii=False)
    for raw in ("123.456.789-00", "12345678900", "456.789", "456789"):
        assert raw not in text
        assert raw not in dumped
    assert "conformidade_garantia" not in {i.key for i in d.invalid}


# ====================================================== 2. Liberação de pagamento (BKO)

PAGAMENTO_TEMPLATE_NAO_GERADO = """• Informe: O Nº do Pedido GAR (ou "NÃO GERADO"): NÃO GERADO
• Informe: O Nº do Pedido Checkout (ou "NÃO GERADO"): nao gerado
• Indique: A Data da compra: 18/11/2026
• Especifique: A Forma de Pagamento (Boleto, Cartão ou Pix): Pix
• Forneça: O CPF do cliente:
• Forneça: O CNPJ do cliente: 12.ABC.345/01DE-35
• Anexe: O Comprovante de Pagamento: anexado no caso"""

PAGAMENTO_GERADO = """Pedido GAR: 8812734
Pedido Checkout: CHK-2026-55120
Data do pagamento: 17/11/2026
Forma de pgto: cartão de crédito"""


def test_pagamento_not_generated_with_alphanumeric_cnpj_and_pdf_goes_to_backoffice() -> None:
    d = eps(PAGAMENTO_TEMPLATE_NAO_GERADO, request_type="Liberação de pagamento", attachments=[PDF])
    assert_backoffice(
        d,
        "Liberação de pagamento",
        [
            "Número do pedido GAR",
            "CNPJ do cliente",
            "Nº do Pedido Checkout",
            "Data da compra",
            "Forma de Pagamento",
        ],
    )
    assert d.rules == ("order_not_generated_needs_cpf_or_cnpj",)
    assert d.sop == sop("Liberação de pagamento")


def test_pagamento_generated_order_with_image_proof_goes_to_backoffice() -> None:
    d = eps(PAGAMENTO_GERADO, request_type="LIBERACAO DE PAGAMENTO", attachments=[JPG])
    assert_backoffice(
        d,
        "Liberação de pagamento",
        ["Número do pedido GAR", "Nº do Pedido Checkout", "Data da compra", "Forma de Pagamento"],
    )
    assert d.rules == ()


@pytest.mark.parametrize(
    ("document", "checked_doc"),
    [
        pytest.param("CPF do cliente: 529.982.247-25", "CPF do cliente", id="cpf-only"),
        pytest.param("CNPJ: 11.222.333/0001-81", "CNPJ do cliente", id="numeric-cnpj-only"),
        pytest.param("cnpj da empresa - 12ABC34501DE35", "CNPJ do cliente", id="compact-alnum"),
    ],
)
def test_pagamento_not_generated_accepts_cpf_or_cnpj(document: str, checked_doc: str) -> None:
    body = f"""Nº do pedido GAR: NÃO GERADO
Nº do Pedido Checkout: CHK-2026-55120
Data da compra: 19/11/2026
Forma de Pagamento: boleto
{document}"""
    d = eps(body, request_type="Liberação de pagamento", attachments=[PNG])
    assert d.outcome == "complete"
    assert d.rules == ("order_not_generated_needs_cpf_or_cnpj",)
    assert checked_doc in d.checked
    assert action(d, "route") == Route(queue=BACKOFFICE)


def test_pagamento_not_generated_without_cpf_cnpj_and_txt_attachment_is_not_escalated() -> None:
    body = """- Nº do Pedido GAR: NÃO GERADO
- Nº do Pedido Checkout: CHK-2026-55120
- Data da compra: 18/11/2026
- Forma de Pagamento: Boleto
- Obs: cliente mandou o comprovante por e-mail, anexei o texto do e-mail"""
    d = eps(body, request_type="Liberação de pagamento", attachments=[TXT])
    text = assert_incomplete(
        d, "Liberação de pagamento", [COMPROVANTE, "CPF do cliente e/ou CNPJ do cliente"]
    )
    assert d.missing[1].key == "cpf|cnpj"
    assert d.missing[1].sop == f"{SOP_000} § Liberação de pagamento — IMPORTANTE"
    assert section(text, "Não verificável pelos dados do caso (confira você):") == [
        COMPROVANTE_CHECK
    ]


def test_pagamento_template_with_blank_cnpj_before_the_attach_prompt() -> None:
    body = """• Informe: O Nº do Pedido GAR (ou "NÃO GERADO"): NÃO GERADO
• Informe: O Nº do Pedido Checkout (ou "NÃO GERADO"): NÃO GERADO
• Indique: A Data da compra: 18/11/2026
• Especifique: A Forma de Pagamento (Boleto, Cartão ou Pix): Pix
• Forneça: O CPF do cliente: 529.982.247-25
• Forneça: O CNPJ do cliente:
• Anexe: O Comprovante de Pagamento"""
    d = eps(body, request_type="Liberação de pagamento", attachments=[PDF])
    assert d.invalid == ()
    assert d.outcome == "complete"
    assert action(d, "route") == Route(queue=BACKOFFICE)


def test_pagamento_invalid_payment_method_and_future_date() -> None:
    body = """Número do pedido GAR: 8812734
Número do pedido Checkout: CHK-2026-55120
Data da compra: 25/11/2026
Meio de pagamento: Dinheiro"""
    d = eps(body, request_type="Liberação de pagamento", attachments=[PDF])
    assert_incomplete(d, "Liberação de pagamento", [], ["Data da compra", "Forma de Pagamento"])
    assert reason(d, "Data da compra") == "a data 25/11/2026 está no futuro"
    assert reason(d, "Forma de Pagamento") == (
        'valor "Dinheiro" não é uma opção válida; use: Boleto, Cartão ou Pix'
    )


def test_pagamento_without_proof_attachment_names_it_missing() -> None:
    d = eps(PAGAMENTO_GERADO, request_type="Liberação de pagamento")
    assert_incomplete(d, "Liberação de pagamento", [COMPROVANTE])
    assert d.missing[0].key == "comprovante_pagamento"


def test_pagamento_pdf_proof_without_content_type_counts() -> None:
    d = eps(
        PAGAMENTO_GERADO,
        request_type="Liberação de pagamento",
        attachments=[("comprovante.pdf", None)],
    )
    assert d.outcome == "complete"
    assert COMPROVANTE not in missing_labels(d)


def test_pagamento_purchase_date_tomorrow_in_sao_paulo_is_future() -> None:
    late = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # Thu 19/11 22:30 in São Paulo
    body = PAGAMENTO_GERADO.replace("17/11/2026", "20/11/2026")
    d = eps(body, request_type="Liberação de pagamento", attachments=[PDF], at=late, now=late)
    assert d.outcome == "incomplete"
    assert reason(d, "Data da compra") == "a data 20/11/2026 está no futuro"


# ========================================================== 3. Desbloqueio de IP (BKO)


def test_ip_unblock_dash_labels_goes_to_backoffice() -> None:
    body = """Nº do IP Público - 200.155.1.10
Motivo da Solicitação - Cliente com a rede bloqueada, não acessa o portal de emissão"""
    d = eps(body, request_type="Desbloqueio de IP")
    assert_backoffice(d, "Desbloqueio de IP", ["Nº do IP Público", "Motivo da Solicitação"])


def test_ip_unblock_private_ip_is_rejected_with_reason() -> None:
    body = "<p><b>IP Público:</b>&nbsp;192.168.0.15</p><p>cliente disse que a rede caiu</p>"
    d = eps(body, request_type="desbloqueio de ip")
    text = assert_incomplete(
        d, "Desbloqueio de IP", ["Motivo da Solicitação"], ["Nº do IP Público"]
    )
    assert reason(d, "Nº do IP Público") == ("IP privado (rede interna) — informe o IP público")
    assert (
        "• Nº do IP Público: IP privado (rede interna) — informe o IP público "
        "(informado: 192.168.0.15)" in text
    )


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        pytest.param("100.64.10.20", "IP compartilhado da operadora (CGNAT", id="cgnat"),
        pytest.param("127.0.0.1", "IP de loopback", id="loopback"),
        pytest.param("200.155.1", "IP inválido", id="truncated"),
    ],
)
def test_ip_unblock_non_public_addresses_are_rejected(ip: str, expected: str) -> None:
    d = eps(f"ip publico: {ip}\nmotivo: rede bloqueada", request_type="Desbloqueio de IP")
    assert_incomplete(d, "Desbloqueio de IP", [], ["Nº do IP Público"])
    assert reason(d, "Nº do IP Público").startswith(expected)


# =================================================== 4. Reenvio de código de instalação


def test_reenvio_with_remark_in_label_goes_to_backoffice() -> None:
    body = """• Número do pedido GAR: 8812734
• E-mail no GAR (EXCLUSIVAMENTE o e-mail que consta no pedido): carlos.lima@exemplo.com.br
• CPF do Cliente: 529.982.247-25
• Motivo do Reenvio do Código: cliente não recebeu o e-mail de aprovação"""
    d = eps(body, request_type="Reenvio de código de instalação")
    assert_backoffice(
        d,
        "Reenvio de código de instalação",
        ["Número do pedido GAR", "CPF do cliente", "E-mail no GAR", "Motivo do Reenvio do Código"],
    )


def test_reenvio_invalid_cpf_masked_and_missing_reason() -> None:
    body = """Número do pedido GAR: 8812734
Email no GAR: carlos.lima@exemplo.com.br
CPF: 12345678900"""
    d = eps(body, request_type="Reenvio de código")
    text = assert_incomplete(
        d, "Reenvio de código de instalação", ["Motivo do Reenvio do Código"], ["CPF do cliente"]
    )
    assert shown(d, "CPF do cliente") == "123******00"
    assert "12345678900" not in text
    assert "12345678900" not in json.dumps(d.to_dict())
    assert section(text, "Não verificável pelos dados do caso (confira você):") == [REENVIO_CHECK]


def test_reenvio_template_remark_kept_before_the_email_value() -> None:
    body = """• Número do pedido GAR: 8812734
• E-mail no GAR: (EXCLUSIVAMENTE o e-mail que consta no pedido) carlos.lima@exemplo.com.br
• CPF do Cliente: 529.982.247-25
• Motivo do Reenvio do Código: cliente não recebeu o e-mail de aprovação"""
    d = eps(body, request_type="Reenvio de código de instalação")
    assert d.invalid == ()
    assert d.outcome == "complete"


@pytest.mark.parametrize(
    ("type_name", "body", "attachments", "check"),
    [
        pytest.param(
            "Reenvio de código de instalação",
            "Pedido GAR: 8812734\nE-mail no GAR: carlos.lima@exemplo.com.br\n"
            "CPF: 529.982.247-25\nMotivo do reenvio: não recebeu o e-mail de aprovação",
            [],
            REENVIO_CHECK,
            id="reenvio",
        ),
        pytest.param(
            "Liberação de pagamento", PAGAMENTO_GERADO, [PDF], COMPROVANTE_CHECK, id="pagamento"
        ),
    ],
)
def test_backoffice_routed_note_lists_manual_checks(
    type_name: str, body: str, attachments: list[tuple[str, str]], check: str
) -> None:
    d = eps(body, request_type=type_name, attachments=attachments)
    assert action(d, "route") == Route(queue=BACKOFFICE)
    assert check in note(d)


# ============================================================= 5. Nota Fiscal - Fenacon


def test_nota_fiscal_fenacon_alias_goes_to_backoffice() -> None:
    body = "Pedido GAR - 8812734\nCPF - 529.982.247-25\nCNPJ - 11.222.333/0001-81"
    d = eps(body, request_type="NF Fenacon")
    assert_backoffice(
        d, "Nota Fiscal - Fenacon", ["Número do pedido GAR", "CPF do cliente", "CNPJ do cliente"]
    )
    assert d.sop == sop("Tipo de Solicitação (matriz: Nota Fiscal - Fenacon → Backoffice)")


# ======================================================= 6. Posto fechado / inexistente

POSTO_FECHADO_TEMPLATE = (
    """• Descreva a situação: Cliente compareceu e alega fechamento do posto.
• Informe o local: Rua Augusta, 1500 - Consolação - São Paulo/SP
• Forneça o nome/endereço completo do posto: AR Paulista Certificação Digital
"""
    + GSO_PLAIN
)

POSTO_FECHADO_CHECKED = [
    "Número do pedido GAR",
    "Descrição da situação",
    "Local",
    "Nome do posto",
    "Nome do cliente",
    "E-mail do cliente",
    "Telefone do cliente",
    "Descrição da reclamação do cliente",
]


def test_posto_fechado_template_goes_to_supervisor() -> None:
    d = eps(POSTO_FECHADO_TEMPLATE, request_type="Posto fechado / inexistente")
    assert_supervisor(
        d, "Posto fechado / inexistente", POSTO_FECHADO_CHECKED, [SUPERVISOR_GAR_CHECK]
    )
    assert d.rules == ("gso_generic_data",)
    assert d.sop == sop("Posto fechado / inexistente")


def test_posto_fechado_one_word_complaint_goes_on_the_supervisors_list() -> None:
    """001's data is the Supervisor's to check and fill: a wrong value there does not hold
    the N1 escalation back, it is on the Supervisor's list with its reason."""
    body = POSTO_FECHADO_TEMPLATE.replace(
        "Descrição da reclamação: cliente foi ao posto no horário agendado e não foi atendido",
        "Reclamação: fechado",
    )
    d = eps(body, request_type="posto fechado / inexistente")
    assert d.outcome == "complete"
    assert action(d, "route") == Route(queue=SUPERVISOR)
    assert not d.invalid
    assert section(
        note(d), 'Para o Supervisor completar antes do GSO (001, "Como detalhar a solicitação?"):'
    ) == [
        "Descrição da reclamação do cliente — valor informado inválido: "
        "o texto deve ter pelo menos 3 palavras (tem 1)"
    ]


# ============================================================ 7. AR não enviou a mídia


def test_ar_midia_plain_plus_html_follow_up_goes_to_supervisor() -> None:
    first = """Validação concluída e mídia não enviada pela AR: Sim
Nome completo do Posto de Atendimento: AR Certisign Campinas Centro
Tipo de atendimento: por vídeo"""
    d = eps(first, GSO_HTML, request_type="AR não enviou a mídia")
    assert_supervisor(
        d,
        "AR não enviou a mídia",
        [
            "Número do pedido GAR",
            "Nome do posto",
            "Tipo de atendimento",
            "Validação concluída e mídia não enviada pela AR",
            "Nome do cliente",
            "E-mail do cliente",
            "Telefone do cliente",
            "Descrição da reclamação do cliente",
        ],
        [SUPERVISOR_GAR_CHECK],
    )


def test_ar_midia_template_left_unanswered_is_invalid() -> None:
    body = (
        """Validação concluída: não
Posto: AR Certisign Campinas Centro
Tipo de atendimento: presencial ou por vídeo
"""
        + GSO_PLAIN
    )
    d = eps(body, request_type="Atraso no envio da mídia")
    assert_incomplete(
        d,
        "AR não enviou a mídia",
        [],
        ["Tipo de atendimento", "Validação concluída e mídia não enviada pela AR"],
    )
    assert reason(d, "Tipo de atendimento") == (
        'valor "presencial ou por vídeo" não é uma opção válida; use: Presencial ou Vídeo'
    )
    assert reason(d, "Validação concluída e mídia não enviada pela AR") == (
        'valor "não" não é uma opção válida; use: Sim'
    )


# ============================================== 8. Link da videoconferência não enviado


def test_link_video_labels_lowercase_goes_to_supervisor() -> None:
    body = (
        """Cliente agendou validação por videoconferência: sim
AR não enviou o link: SIM
NOME DO POSTO: AR Videoconferência Certisign
"""
        + GSO_DASH
    )
    d = eps(body, request_type="Link da videoconferência não enviado")
    assert_supervisor(
        d,
        "Link da videoconferência não enviado",
        [
            "Número do pedido GAR",
            "Nome do posto",
            "Cliente agendou validação por videoconferência",
            "AR não enviou o link da videoconferência",
            "Nome do cliente",
            "E-mail do cliente",
            "Telefone do cliente",
            "Descrição da reclamação do cliente",
        ],
        [SUPERVISOR_GAR_CHECK],
    )


def test_link_video_without_posto_is_not_escalated() -> None:
    body = "Agendou videoconferência: Sim\nLink não enviado: Sim\n" + GSO_PLAIN
    d = eps(body, request_type="Link da vídeo não enviado")
    assert_incomplete(d, "Link da videoconferência não enviado", ["Nome do posto"])


def test_link_video_sop_template_wording_is_recognised() -> None:
    body = (
        """• Confirme que o cliente agendou a validação por videoconferência: Sim
• Indique que a AR não enviou o link da videoconferência: Sim
• NOME DO POSTO: AR Videoconferência Certisign
"""
        + GSO_PLAIN
    )
    d = eps(body, request_type="Link da videoconferência não enviado")
    assert missing_labels(d) == []
    assert d.outcome == "complete"


# ======================================== 9. Envio de documento antes da vídeo


def test_envio_documento_posto_on_next_line_goes_to_supervisor() -> None:
    body = "• NOME DO POSTO:\nAR Online Validações Ltda\n\n" + GSO_PLAIN
    d = eps(body, request_type="Envio de documento antes da videoconferência")
    assert_supervisor(
        d,
        "Envio de documento antes da vídeo",
        [
            "Número do pedido GAR",
            "Nome do posto",
            "Nome do cliente",
            "E-mail do cliente",
            "Telefone do cliente",
            "Descrição da reclamação do cliente",
        ],
        [SUPERVISOR_GAR_CHECK],
    )


# ======================================== 10. Dificuldade na validação da foto

FOTO = """Relato do cliente: ao tirar a selfie o app mostra erro na captura
Múltiplas tentativas de validação: Sim
Dificuldade persiste após as orientações básicas: {persiste}
Histórico de chamados: {historico}"""


@pytest.mark.parametrize(
    ("persiste", "historico"),
    [
        pytest.param("sim", "Não", id="persists"),
        pytest.param("NAO", "S", id="history"),
        pytest.param("Sim", "sim", id="both"),
    ],
)
def test_foto_escalated_when_persisting_or_with_history(persiste: str, historico: str) -> None:
    body = FOTO.format(persiste=persiste, historico=historico) + "\n" + GSO_PLAIN
    d = eps(body, request_type="Dificuldade na validação da foto")
    assert_supervisor(
        d,
        "Dificuldade na validação da foto",
        [
            "Número do pedido GAR",
            "Relato do cliente",
            "Múltiplas tentativas de validação",
            "Dificuldade persiste após as orientações básicas",
            "Histórico de chamados sobre o mesmo problema",
            "Nome do cliente",
            "E-mail do cliente",
            "Telefone do cliente",
            "Descrição da reclamação do cliente",
        ],
        [SUPERVISOR_GAR_CHECK],
    )
    assert "photo_not_escalated" not in d.rules


def test_foto_not_escalated_without_persistence_nor_history() -> None:
    body = FOTO.format(persiste="nao", historico="NÃO")
    d = eps(body, request_type="Dificuldade na validacao da foto")
    assert d.outcome == "handled_by_rule"
    assert d.request_type == "Dificuldade na validação da foto"
    assert d.rules == ("photo_not_escalated",)
    assert d.missing == ()
    assert kinds(d) == ["add_note"]
    added = action(d, "add_note")
    assert added.purpose == "not_escalated"
    lines = added.text.split("\n")
    assert lines[0] == "[helpdesk-sync] Caso não escalado: Dificuldade na validação da foto"
    assert "persistir após as orientações básicas" in lines[1]
    assert "histórico de chamados sobre o mesmo problema" in lines[1]
    assert lines[2] == (
        "Oriente o cliente; se a dificuldade persistir, atualize o comentário interno."
    )


# ========================== 11. Ausência de ponto de atendimento para validação presencial


def test_ausencia_city_state_upper_goes_to_supervisor_with_both_checks() -> None:
    body = "CIDADE: Sorriso\nESTADO: Mato Grosso\n" + GSO_PLAIN
    d = eps(body, request_type="Ausência de ponto de atendimento para validação presencial")
    assert_supervisor(
        d,
        "Ausência de ponto de atendimento para validação presencial",
        [
            "Número do pedido GAR",
            "Cidade",
            "Estado",
            "Nome do cliente",
            "E-mail do cliente",
            "Telefone do cliente",
            "Descrição da reclamação do cliente",
        ],
        [AUSENCIA_CHECK, SUPERVISOR_GAR_CHECK],
    )


def test_ausencia_placeholder_city_and_unknown_state() -> None:
    body = "cidade - 0\nuf - XX\n" + GSO_PLAIN
    d = eps(body, request_type="Sem ponto de atendimento")
    assert_incomplete(
        d, "Ausência de ponto de atendimento para validação presencial", [], ["Cidade", "Estado"]
    )
    assert reason(d, "Cidade") == "informe o nome da cidade (ex.: Campinas)"
    assert reason(d, "Estado") == (
        'UF "XX" inválida; informe a sigla (ex.: SP) ou o nome do estado'
    )


# ====================================================== 12. Liberação de pedido


def test_liberacao_pedido_goes_to_supervisor_with_24h_check() -> None:
    body = "Nome do posto agendado: AR Centro SP\n" + GSO_DASH
    d = eps(body, request_type="Liberação de pedido")
    assert_supervisor(
        d,
        "Liberação de pedido",
        [
            "Número do pedido GAR",
            "Nome do posto",
            "Nome do cliente",
            "E-mail do cliente",
            "Telefone do cliente",
            "Descrição da reclamação do cliente",
        ],
        [PEDIDO_24H_CHECK, SUPERVISOR_GAR_CHECK],
    )


def test_liberacao_pedido_missing_posto_and_masked_invalid_email() -> None:
    body = GSO_PLAIN.replace("joao.silva@exemplo.com.br", "joao.silva@@exemplo.com.br")
    d = eps(body, request_type="liberacao de pedido")
    text = assert_incomplete(d, "Liberação de pedido", ["Nome do posto"], ["E-mail do cliente"])
    assert reason(d, "E-mail do cliente") == (
        "e-mail deve ter exatamente um @ (ex.: nome@empresa.com.br)"
    )
    assert shown(d, "E-mail do cliente") == "j***@e***.com.br"
    assert "joao.silva" not in text
    assert section(text, "Não verificável pelos dados do caso (confira você):") == [
        PEDIDO_24H_CHECK,
        SUPERVISOR_GAR_CHECK,
    ]


# ============================================== Backoffice deadline: 48 business hours


@pytest.mark.parametrize(
    ("written_at", "due"),
    [
        pytest.param(THURSDAY_BEFORE_HOLIDAY, BKO_DUE, id="thu-16h-over-holiday-and-weekend"),
        pytest.param(
            datetime(2026, 11, 19, 10, 30, tzinfo=UTC),
            datetime(2026, 11, 26, 16, 0, tzinfo=SP),
            id="thu-before-opening",
        ),
        pytest.param(
            datetime(2026, 11, 19, 21, 30, tzinfo=UTC),
            datetime(2026, 11, 27, 16, 0, tzinfo=SP),
            id="thu-after-closing",
        ),
        pytest.param(
            datetime(2026, 11, 20, 13, 0, tzinfo=UTC),
            datetime(2026, 11, 27, 16, 0, tzinfo=SP),
            id="on-the-holiday",
        ),
        pytest.param(
            datetime(2026, 11, 21, 12, 0, tzinfo=UTC),
            datetime(2026, 11, 27, 16, 0, tzinfo=SP),
            id="saturday",
        ),
    ],
)
def test_backoffice_task_due_in_48_business_hours(written_at: datetime, due: datetime) -> None:
    body = "IP: 200.155.1.10\nMotivo: rede bloqueada no escritório do cliente"
    d = eps(
        body,
        request_type="Desbloqueio de IP",
        at=written_at,
        now=written_at + timedelta(minutes=10),
    )
    task = action(d, "create_task")
    assert task.due == due
    assert task.due.isoformat() == due.isoformat()
    assert task.owner == BACKOFFICE


def test_backoffice_due_is_exactly_friday_27_at_14h() -> None:
    d = eps(VOUCHER_TEMPLATE, request_type="Voucher")
    assert action(d, "create_task").due.isoformat() == "2026-11-27T14:00:00-03:00"


def test_newest_comment_wins_and_anchors_the_deadline() -> None:
    first = """Número do pedido GAR: 8812734
Status do pedido GAR: Emitido
E-mail para envio do voucher: maria.oliveira@exemplo.com.br
CPF do Cliente: 123.456.789-00
Conformidade com a Política de Garantia: Sim"""
    second = "CPF do Cliente: 529.982.247-25\nMotivo do Voucher: correção de e-mail"
    d = eps(first, second, request_type="Voucher")
    assert_backoffice(d, "Voucher", VOUCHER_CHECKED, due=datetime(2026, 11, 27, 14, 1, tzinfo=SP))


def test_newest_comment_wins_even_when_it_breaks_a_valid_value() -> None:
    d = eps(
        VOUCHER_TEMPLATE,
        "Obs.: CPF do cliente corrigido\nCPF do Cliente: 111.111.111-11",
        request_type="Voucher",
    )
    text = assert_incomplete(d, "Voucher", [], ["CPF do cliente"])
    assert reason(d, "CPF do cliente") == "CPF inválido: sequência de dígitos repetidos"
    assert shown(d, "CPF do cliente") == "111.***.***-11"
    assert "111.111.111-11" not in text


# ======================================================== GSO queue: SLA of 1 hour

LIBERACAO_PEDIDO = "Nome do posto: AR Centro SP\n" + GSO_PLAIN


@pytest.mark.parametrize(
    "situacao",
    [
        pytest.param("Liberação de pedido - Aguardando Verificação", id="exact"),
        pytest.param("liberacao de pedido – aguardando verificacao", id="folded-en-dash"),
        pytest.param("Priorização de AC (Chamados de Alô Canais)", id="alias"),
    ],
)
def test_gso_queue_creates_one_hour_task_instead_of_routing(situacao: str) -> None:
    d = eps(
        LIBERACAO_PEDIDO + f"\nSituação GSO: {situacao}",
        request_type="Liberação de pedido",
        queue="GSO",
    )
    assert d.outcome == "handled_by_rule"
    assert d.rules == ("gso_generic_data", "gso_sla")
    assert kinds(d) == ["create_task"]
    task = action(d, "create_task")
    assert task == CreateTask(
        subject="SLA GSO: tratar Liberação de pedido em 1 hora", due=GSO_DUE, owner="GSO"
    )
    assert task.due.isoformat() == "2026-11-19T17:00:00-03:00"
    assert "Situação GSO" in d.checked


def test_gso_queue_requires_situacao_gso() -> None:
    d = eps(POSTO_FECHADO_TEMPLATE, request_type="Posto fechado / inexistente", queue="GSO")
    assert_incomplete(d, "Posto fechado / inexistente", ["Situação GSO"])
    assert d.missing[0].sop == "001_905b89f636edaf79.txt § Equipe GSO"


def test_gso_queue_rejects_a_situation_gso_does_not_accept() -> None:
    d = eps(
        LIBERACAO_PEDIDO + "\nMotivo GSO: cliente muito bravo",
        request_type="Liberação de pedido",
        queue="GSO",
    )
    assert_incomplete(d, "Liberação de pedido", [], ["Situação GSO"])
    assert reason(d, "Situação GSO").startswith(
        'valor "cliente muito bravo" não é uma opção válida; use: Atraso no envio da mídia, '
    )


def test_situacao_gso_not_required_outside_gso_queue() -> None:
    d = eps(LIBERACAO_PEDIDO, request_type="Liberação de pedido", queue="Suporte Varejo")
    assert "Situação GSO" not in missing_labels(d)
    assert action(d, "route") == Route(queue=SUPERVISOR)


def test_gso_queue_critical_case_is_marked_and_gets_sla_task() -> None:
    body = POSTO_FECHADO_TEMPLATE + (
        "\nSituação GSO: Não existe ponto físico de atendimento\ncriticidade: corporativo"
    )
    d = eps(body, request_type="Posto fechado / inexistente", queue="GSO")
    assert kinds(d) == ["mark_critical", "create_task"]
    assert action(d, "mark_critical") == MarkCritical(reason="Caso crítico (Corporativo)")
    assert action(d, "create_task").due == GSO_DUE


# ================================================================== critical cases


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param("Caso crítico: Ouvidoria", "Caso crítico (Ouvidoria)", id="ouvidoria"),
        pytest.param("CASO CRITICO - CORPORATIVO", "Caso crítico (Corporativo)", id="upper"),
        pytest.param("• Criticidade: ouvidoria", "Caso crítico (Ouvidoria)", id="synonym"),
    ],
)
def test_critical_case_is_marked_then_routed(line: str, expected: str) -> None:
    d = eps(f"{LIBERACAO_PEDIDO}\n{line}", request_type="Liberação de pedido")
    assert d.rules[0] == "critical_case"
    assert kinds(d) == ["mark_critical", "route", "set_status", "add_note"]
    assert action(d, "mark_critical") == MarkCritical(reason=expected)
    assert action(d, "route") == Route(queue=SUPERVISOR)


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param("", id="absent"),
        pytest.param("\nCaso crítico: Não", id="nao"),
    ],
)
def test_non_critical_case_is_not_marked(extra: str) -> None:
    d = eps(LIBERACAO_PEDIDO + extra, request_type="Liberação de pedido")
    assert "mark_critical" not in kinds(d)
    assert "critical_case" not in d.rules
    assert d.outcome == "complete"


# ======================================================== WhatsApp needs evidence


@pytest.mark.parametrize("evidence", [PNG, JPG, PDF], ids=["png", "jpg", "pdf"])
def test_whatsapp_supervisor_case_with_evidence_goes_to_supervisor(
    evidence: tuple[str, str],
) -> None:
    d = eps(
        POSTO_FECHADO_TEMPLATE,
        request_type="Posto fechado / inexistente",
        fields={"Origin": "WhatsApp"},
        attachments=[evidence],
    )
    assert_supervisor(
        d,
        "Posto fechado / inexistente",
        [*POSTO_FECHADO_CHECKED, "Canal de atendimento"],
        [SUPERVISOR_GAR_CHECK],
    )
    assert d.rules == ("gso_generic_data", "whatsapp_evidence")


def test_voice_channel_needs_no_attached_evidence() -> None:
    d = eps(
        POSTO_FECHADO_TEMPLATE,
        request_type="Posto fechado / inexistente",
        fields={"Origin": "Phone"},
    )
    assert "whatsapp_evidence" not in d.rules
    assert "Canal de atendimento" in d.checked
    assert action(d, "route") == Route(queue=SUPERVISOR)


def test_whatsapp_backoffice_case_needs_no_evidence() -> None:
    d = eps(
        "IP: 200.155.1.10\nMotivo: rede bloqueada",
        request_type="Desbloqueio de IP",
        fields={"Origin": "WhatsApp"},
    )
    assert_backoffice(d, "Desbloqueio de IP", ["Nº do IP Público", "Motivo da Solicitação"])


# ============================================================== type resolution


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        pytest.param("Posto fechado/inexistente", "Posto fechado / inexistente", id="slash"),
        pytest.param("Nota Fiscal – Fenacon", "Nota Fiscal - Fenacon", id="en-dash"),
    ],
)
def test_type_names_with_spacing_or_dash_variants(written: str, expected: str) -> None:
    d = eps(f"Tipo de solicitação: {written}\nPedido GAR: 8812734")
    assert d.request_type == expected


@pytest.mark.parametrize(
    ("prefix", "label"),
    [
        ("Tipo de solicitação: ", "Tipo de solicitação"),
        ("TIPO DA SOLICITACAO - ", "TIPO DA SOLICITACAO"),
        ("• Tipo de caso: ", "Tipo de caso"),
        ("tipo de solicitacao:", "tipo de solicitacao"),
    ],
)
def test_type_from_comment_when_ticket_type_is_empty(prefix: str, label: str) -> None:
    body = f"""{prefix}liberacao de pagamento
Nº do Pedido GAR: 8812734
Nº do Pedido Checkout: CHK-2026-55120
Data da compra: 18/11/2026
Forma de Pagamento: PIX"""
    d = eps(body, request_type="", attachments=[PDF])
    assert d.request_type == "Liberação de pagamento"
    assert_backoffice(
        d,
        "Liberação de pagamento",
        ["Número do pedido GAR", "Nº do Pedido Checkout", "Data da compra", "Forma de Pagamento"],
    )
    assert d.explanation[0] == f"type from the comment ('{label}: liberacao de pagamento')"


@pytest.mark.parametrize(
    ("request_type", "body"),
    [
        pytest.param("Troca de titularidade", VOUCHER_TEMPLATE, id="unknown-ticket-type"),
        pytest.param(
            None,
            "Tipo de solicitação: Cancelamento de pedido\n" + VOUCHER_TEMPLATE,
            id="unknown-comment-type",
        ),
        pytest.param(None, VOUCHER_TEMPLATE, id="no-type"),
    ],
)
def test_unknown_type_is_unmapped_without_actions(request_type: str | None, body: str) -> None:
    d = eps(body, request_type=request_type)
    assert d.outcome == "unmapped"
    assert d.request_type is None
    assert d.actions == ()
    assert d.missing == ()
    assert d.invalid == ()


def test_unmapped_case_suggests_but_does_not_apply_a_type() -> None:
    d = eps(
        "cliente com ip bloqueado, rede bloqueada no escritório",
        subject="Desbloqueio de IP urgente",
    )
    assert d.outcome == "unmapped"
    assert d.actions == ()
    assert d.suggestions[0] == "Desbloqueio de IP"


# ======================================================= redundant actions dropped


def test_already_escalated_backoffice_case_gets_no_route_or_status_again() -> None:
    d = eps(VOUCHER_TEMPLATE, request_type="Voucher", queue="Backoffice EPS", status="Escalado")
    assert d.outcome == "complete"
    assert "route" not in kinds(d)
    assert "set_status" not in kinds(d)
    assert "route to 'Backoffice EPS' skipped: already in effect" in d.explanation
    assert "status 'Escalado' skipped: already in effect" in d.explanation


def test_already_escalated_supervisor_case_folded_names_get_no_route_or_status() -> None:
    d = eps(
        LIBERACAO_PEDIDO,
        request_type="Liberação de pedido",
        queue="supervisor eps",
        status="ESCALADO",
    )
    assert d.outcome == "complete"
    assert "route" not in kinds(d)
    assert "set_status" not in kinds(d)


def test_incomplete_case_already_in_progress_only_gets_the_note() -> None:
    d = eps("Pedido GAR: 8812734", request_type="Voucher", status="Em andamento")
    assert kinds(d) == ["add_note"]
    assert isinstance(d.actions[0], AddNote)
    assert d.actions[0].purpose == "incomplete"


def test_case_in_another_queue_is_routed() -> None:
    d = eps(VOUCHER_TEMPLATE, request_type="Voucher", queue="Suporte Varejo", status="Novo")
    assert action(d, "route") == Route(queue=BACKOFFICE)
    assert action(d, "set_status") == SetStatus(status="Escalado")


# ================================================================ example tickets


def _decide_example(name: str) -> Decision:
    path = EXAMPLES / name
    t, context = parse_ticket_document(path.read_text(encoding="utf-8"), str(path))
    assert isinstance(context, Context)
    return decide(mapping("eps"), t, context, NOW)


def test_example_voucher_lacks_the_exception_authorizer() -> None:
    d = _decide_example("eps_voucher.json")
    assert_incomplete(d, "Voucher", ["Quem autorizou a exceção"])


def test_example_liberacao_pagamento_not_generated_is_escalated() -> None:
    d = _decide_example("eps_liberacao_pagamento.json")
    assert_backoffice(
        d,
        "Liberação de pagamento",
        [
            "Número do pedido GAR",
            "CPF do cliente",
            "CNPJ do cliente",
            "Nº do Pedido Checkout",
            "Data da compra",
            "Forma de Pagamento",
        ],
        due=datetime(2026, 11, 27, 13, 55, tzinfo=SP),
    )


# ------------------------------------------------------- 001: return after GSO


def test_concluded_by_gso_returns_to_the_n2_who_escalated_with_a_closing_task() -> None:
    t = ticket(GSO_PLAIN, request_type="Liberação de pedido", status="Concluído III")
    d = run("eps", t, facts={"escalated_by": "Bruno Lima"})
    assert d.rules == ("gso_return",)
    assert kinds(d) == ["route", "add_note", "create_task"]
    assert action(d, "route") == Route(owner="Bruno Lima")
    assert action(d, "create_task").owner == "Bruno Lima"
    assert "devolvido a Bruno Lima" in note(d)


def test_concluded_without_knowing_who_escalated_returns_nothing() -> None:
    t = ticket(GSO_PLAIN, request_type="Liberação de pedido", status="Concluído III")
    d = run("eps", t)
    assert "gso_return" not in d.rules
