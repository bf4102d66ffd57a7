"""The Ouvidoria mapping (seed 004): only a customer's request opens an ombudsman ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sync.decide import Decision
from tests.factories import action, kinds, missing_labels, run, ticket

SAO_PAULO = timezone(timedelta(hours=-3))

# Default factory time: Thursday 2026-11-19 16:00 in São Paulo (the only note is written
# then). Friday 2026-11-20 is a national holiday (Consciência Negra), Sat 21/Sun 22 are the
# weekend, so the 5 business days keeping the clock time are Mon 23, Tue 24, Wed 25,
# Thu 26, Fri 27 -> Friday 2026-11-27 16:00 -03:00.
DUE_FRIDAY_27 = datetime(2026, 11, 27, 16, 0, tzinfo=SAO_PAULO)

COMPLETE = (
    "Tipo de solicitação: Ouvidoria\n"
    "Cliente solicitou ouvidoria: Sim\n"
    "Canal: 0800\n"
    "Relato do cliente: impressora fiscal MP-4200 trava na emissão de cupom desde a troca de "
    "firmware, já são três visitas técnicas sem solução\n"
    "Tentativa de resolução: reinstalação do driver e atualização de firmware conforme Book; "
    "cliente não concordou com a resolução"
)

HTML_LOWERCASE = (
    "<ul>"
    "<li>cliente solicitou ouvidoria: sim</li>"
    "<li>canal:&nbsp;telefone</li>"
    "<li>relato:<br>cliente diz que a gaveta de dinheiro não abre desde ontem e perdeu vendas</li>"
    "<li>procedimentos realizados: teste de porta serial e troca do cabo, sem sucesso</li>"
    "</ul>"
)


def note(decision: Decision) -> str:
    """The text of the decision's single note."""
    return str(action(decision, "add_note").text)


def test_customer_request_resolves_and_opens_the_ombudsman_ticket() -> None:
    t = ticket(COMPLETE, subject="Impressora travando na emissão de cupom")
    d = run("ouvidoria", t)
    assert d.request_type == "Ouvidoria"
    assert d.outcome == "complete"
    assert kinds(d) == ["create_ticket", "add_note", "resolve"]

    new = action(d, "create_ticket")
    assert new.subject == "OUVIDORIA - 00012345"
    assert new.owner == "Richard"
    assert new.requester_email == "ouvidoria@bematech.com.br"
    assert new.status == "Aberto"
    assert new.due == DUE_FRIDAY_27
    assert new.due.weekday() == 4
    assert "ticket 00012345, que foi resolvido" in new.description
    assert "impressora fiscal MP-4200 trava" in new.description
    internal = new.internal_note
    assert "Número do ticket resolvido: 00012345" in internal
    assert "Assunto do ticket resolvido: Impressora travando na emissão de cupom" in internal
    assert "Relato do cliente: impressora fiscal MP-4200 trava" in internal
    assert "Tentativa de resolução: reinstalação do driver" in internal
    assert "Canal de atendimento: 0800" in internal
    assert "até 5 dias úteis" in internal

    assert '"OUVIDORIA - 00012345"' in note(d)
    assert action(d, "resolve").status is None


def test_html_list_lowercase_labels_and_type_alias_from_ticket_field() -> None:
    t = ticket(HTML_LOWERCASE, request_type="Ouvidoria (0800)", number="88410")
    d = run("ouvidoria", t)
    assert d.request_type == "Ouvidoria"
    assert d.outcome == "complete"
    assert kinds(d) == ["create_ticket", "add_note", "resolve"]
    new = action(d, "create_ticket")
    assert new.subject == "OUVIDORIA - 88410"
    assert "Relato do cliente: cliente diz que a gaveta de dinheiro não abre" in new.internal_note
    assert "Tentativa de resolução: teste de porta serial" in new.internal_note


def test_no_means_no_ticket_and_a_note_explaining_the_sop() -> None:
    body = (
        "Tipo de solicitação: Abertura de Ouvidoria\n"
        "Cliente solicitou ouvidoria: Não\n"
        "Relato do cliente: cliente reclamou da demora, mas aceitou a troca do equipamento"
    )
    d = run("ouvidoria", ticket(body))
    assert d.outcome == "handled_by_rule"
    assert d.rules == ("not_requested",)
    assert kinds(d) == ["add_note"]
    assert "create_ticket" not in kinds(d)
    assert "resolve" not in kinds(d)
    text = note(d)
    assert "JAMAIS deve ser ofertada pelo analista" in text
    assert "Nenhum ticket foi criado" in text


def test_request_without_details_is_incomplete_and_opens_nothing() -> None:
    body = "Tipo de solicitação: Ouvidoria\nCliente solicitou ouvidoria: S"
    d = run("ouvidoria", ticket(body))
    assert d.outcome == "incomplete"
    assert missing_labels(d) == ["Relato do cliente", "Tentativa de resolução"]
    assert kinds(d) == ["add_note"]
    text = note(d)
    assert "• Relato do cliente\n• Tentativa de resolução" in text
    assert "Nenhum ticket de OUVIDORIA foi aberto" in text


def test_without_the_customer_request_nothing_is_opened() -> None:
    body = (
        "Tipo de solicitação: Ouvidoria\n"
        "Relato do cliente: cliente muito insatisfeito com o atraso na troca do equipamento\n"
        "Tentativa de resolução: troca agendada conforme Book"
    )
    d = run("ouvidoria", ticket(body))
    assert d.outcome == "incomplete"
    assert missing_labels(d) == ["Cliente solicitou ouvidoria"]
    assert kinds(d) == ["add_note"]
    assert "• Cliente solicitou ouvidoria" in note(d)


def test_unclear_answer_and_too_short_report_are_invalid() -> None:
    body = (
        "Tipo de solicitação: Ouvidoria\n"
        "Cliente solicitou ouvidoria: talvez\n"
        "Relato do cliente: insatisfeito\n"
        "Tentativa de resolução: reset conforme Book"
    )
    d = run("ouvidoria", ticket(body))
    assert d.outcome == "incomplete"
    assert [(i.label, i.reason) for i in d.invalid] == [
        ("Cliente solicitou ouvidoria", 'valor "talvez" inválido; responda Sim ou Não'),
        ("Relato do cliente", "o texto deve ter pelo menos 5 palavras (tem 1)"),
    ]
    assert kinds(d) == ["add_note"]
    assert "responda Sim ou Não (informado: talvez)" in note(d)


def test_chat_analyst_only_orients_the_customer() -> None:
    body = COMPLETE.replace("Canal: 0800", "Canal: Chat")
    d = run("ouvidoria", ticket(body, number="77001"))
    assert d.outcome == "handled_by_rule"
    assert d.rules == ("chat_orientation",)
    assert kinds(d) == ["add_note"]
    text = note(d)
    assert "Central de Atendimento" in text
    assert "número deste ticket, 77001" in text
    # The SOP has the ticket closed as resolved: the note asks for it, the bot does not do it.
    assert "feche este ticket como RESOLVIDO" in text
    assert "resolve" not in kinds(d)


def test_customer_opening_it_themselves_only_gets_orientation() -> None:
    body = COMPLETE + "\nAbertura da ouvidoria: por conta própria"
    d = run("ouvidoria", ticket(body))
    assert d.rules == ("customer_opens_it",)
    assert kinds(d) == ["add_note"]
    assert "por conta própria (passo 6)" in note(d)
    assert "feche este ticket como RESOLVIDO" in note(d)


def test_due_counts_from_the_note_written_on_the_holiday() -> None:
    # Note written Friday 2026-11-20 10:00 (holiday): the count starts at the next business
    # moment, Monday 23 08:00; +5 business days = Tue 24, Wed 25, Thu 26, Fri 27, Mon 30.
    at = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    d = run("ouvidoria", ticket(COMPLETE, at=at))
    assert action(d, "create_ticket").due == datetime(2026, 11, 30, 8, 0, tzinfo=SAO_PAULO)


def test_ticket_without_type_is_left_alone_with_a_suggestion() -> None:
    d = run("ouvidoria", ticket("cliente falou em abrir ouvidoria se não resolver hoje"))
    assert d.outcome == "unmapped"
    assert d.actions == ()
    assert d.suggestions == ("Ouvidoria",)
