"""Tests for sync.validators: the values agents type in comments, checked per SOP field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.validators import (
    REGISTRY,
    Check,
    known_validators,
    option_errors,
    validate,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PAYMENT = {
    "choices": ["Boleto", "Cartão", "Pix"],
    "aliases": {"cartão de crédito": "Cartão", "crédito": "Cartão"},
}


def ok(name: str, raw: str, options: dict[str, Any] | None = None) -> str | None:
    """Validate and demand success; returns the normalized value."""
    check = validate(name, raw, options, NOW)
    assert check.ok, check.reason
    assert check.reason is None
    return check.value


def fail(name: str, raw: str, options: dict[str, Any] | None = None) -> str:
    """Validate and demand failure; returns the reason."""
    check = validate(name, raw, options, NOW)
    assert not check.ok, check.value
    assert check.value is None
    assert check.reason
    return check.reason


# ------------------------------------------------------------ registry


def test_known_validators_are_sorted_registry_names() -> None:
    assert known_validators() == sorted(REGISTRY)
    assert {"cpf", "cnpj", "enum", "public_ip", "order_number"} <= set(REGISTRY)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registry_specs_are_consistent(name: str) -> None:
    spec = REGISTRY[name]
    assert spec.name == name
    assert spec.required_options <= spec.options
    assert spec.description


def test_unknown_validator_raises_key_error() -> None:
    with pytest.raises(KeyError):
        validate("nope", "x")


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "\u200b", " \ufeff "])
def test_empty_after_strip_is_valor_vazio(raw: str) -> None:
    assert validate("text", raw) == Check(False, None, "valor vazio")


# ------------------------------------------------------------ cpf / cnpj


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("529.982.247-25", "52998224725"),
        ("52998224725", "52998224725"),
        ("111.444.777-35", "11144477735"),
        (" 111 444 777 35 ", "11144477735"),
    ],
)
def test_cpf_valid(raw: str, expected: str) -> None:
    assert ok("cpf", raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("529.982.247-26", "dígitos verificadores não conferem"),
        ("111.111.111-11", "dígitos repetidos"),
        ("000.000.000-00", "dígitos repetidos"),
        ("529.982.247-2", "11 dígitos"),
        ("529.982.247-255", "11 dígitos"),
        ("529.982.247/25", "apenas números"),
        ("CPF 52998224725", "apenas números"),
    ],
)
def test_cpf_invalid(raw: str, fragment: str) -> None:
    assert fragment in fail("cpf", raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11.222.333/0001-81", "11222333000181"),
        ("45.723.174/0001-10", "45723174000110"),
        ("45723174000110", "45723174000110"),
        ("12.ABC.345/01DE-35", "12ABC34501DE35"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
        ("12ABC34501DE35", "12ABC34501DE35"),
    ],
)
def test_cnpj_valid(raw: str, expected: str) -> None:
    assert ok("cnpj", raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("11.222.333/0001-82", "dígitos verificadores não conferem"),
        ("12.ABC.345/01DE-36", "dígitos verificadores não conferem"),
        ("11.222.333/0001", "14 caracteres"),
        ("11.222.333/0001-811", "14 caracteres"),
        ("11.222.333/0001-8A", "devem ser números"),
        ("00.000.000/0000-00", "repetidos"),
        ("11.222.333/0001-8!", "apenas números e letras"),
        ("12.ÁBC.345/01DE-35", "apenas números e letras"),
    ],
)
def test_cnpj_invalid(raw: str, fragment: str) -> None:
    assert fragment in fail("cnpj", raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("529.982.247-25", "52998224725"),
        ("11.222.333/0001-81", "11222333000181"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
    ],
)
def test_cpf_cnpj_picks_by_length(raw: str, expected: str) -> None:
    assert ok("cpf_cnpj", raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("529.982.247-26", "CPF inválido"),
        ("11.222.333/0001-82", "CNPJ inválido"),
        ("1234567", "CPF (11 dígitos) ou um CNPJ (14 caracteres)"),
    ],
)
def test_cpf_cnpj_invalid(raw: str, fragment: str) -> None:
    assert fragment in fail("cpf_cnpj", raw)


# ------------------------------------------------------------ email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("maria.silva@empresa.com.br", "maria.silva@empresa.com.br"),
        ("Maria.Silva@Empresa.COM.BR", "Maria.Silva@empresa.com.br"),
        ("joao+voucher@sub.exemplo.org", "joao+voucher@sub.exemplo.org"),
        ("maria@empresa.com.br.", "maria@empresa.com.br"),
        ("<maria@empresa.com>", "maria@empresa.com"),
    ],
)
def test_email_valid(raw: str, expected: str) -> None:
    assert ok("email", raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("maria silva@empresa.com", "espaços"),
        ("maria.empresa.com", "exatamente um @"),
        ("maria@@empresa.com", "exatamente um @"),
        ("maria@empresa", "domínio"),
        ("maria@empresa.c", "domínio"),
        ("maria@empresa.123", "domínio"),
        ("maria@-empresa.com", "domínio"),
        ("maria@empresa..com", "domínio"),
        (".maria@empresa.com", "antes do @"),
        ("ma..ria@empresa.com", "antes do @"),
        ("@empresa.com", "antes do @"),
    ],
)
def test_email_invalid(raw: str, fragment: str) -> None:
    assert fragment in fail("email", raw)


# ------------------------------------------------------------ public_ip


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("200.155.1.10", "200.155.1.10"),
        ("8.8.8.8", "8.8.8.8"),
        ("2800:3f0:4001:80a::200e", "2800:3f0:4001:80a::200e"),
        ("2800:03F0:4001:080A:0000:0000:0000:200E", "2800:3f0:4001:80a::200e"),
    ],
)
def test_public_ip_valid(raw: str, expected: str) -> None:
    assert ok("public_ip", raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("10.0.0.5", "IP privado"),
        ("192.168.0.10", "IP privado"),
        ("172.16.4.1", "IP privado"),
        ("fd12:3456::1", "IP privado"),
        ("::ffff:10.0.0.1", "IP privado"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("192.0.2.1", "documentação"),
        ("198.51.100.7", "documentação"),
        ("203.0.113.9", "documentação"),
        ("2001:db8::", "documentação"),
        ("2001:db8::1", "documentação"),
        ("240.0.0.1", "reservado"),
        ("0.0.0.0", "não especificado"),
        ("::", "não especificado"),
        ("IP: 200.155.1.10", "IP inválido"),
        ("200.155.1", "IP inválido"),
        ("200.155.1.256", "IP inválido"),
        ("200.155.1.10/24", "IP inválido"),
    ],
)
def test_public_ip_rejects_non_public(raw: str, fragment: str) -> None:
    reason = fail("public_ip", raw)
    assert fragment in reason
    if fragment != "IP inválido":
        assert "informe o IP público" in reason


# ------------------------------------------------------------ enum / yes_no / uf


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Cartão", "Cartão"),
        ("cartao", "Cartão"),
        ("CARTÃO.", "Cartão"),
        ("pix!", "Pix"),
        ("  boleto ", "Boleto"),
        ("Cartão de Crédito", "Cartão"),
        ("credito", "Cartão"),
    ],
)
def test_enum_matches_folded_choices_and_aliases(raw: str, expected: str) -> None:
    assert ok("enum", raw, PAYMENT) == expected


def test_enum_reason_lists_choices() -> None:
    reason = fail("enum", "Cheque", PAYMENT)
    assert reason == 'valor "Cheque" não é uma opção válida; use: Boleto, Cartão ou Pix'


def test_enum_reason_truncates_long_values() -> None:
    reason = fail("enum", "x" * 5000, PAYMENT)
    assert len(reason) < 200


def test_enum_alias_to_unknown_choice_is_ignored() -> None:
    assert not validate("enum", "cheque", {"choices": ["Pix"], "aliases": {"cheque": "Cheque"}}).ok


def test_enum_dash_variants_match() -> None:
    options = {"choices": ["Liberação de pedido - Aguardando Verificação"]}
    raw = "liberacao de pedido – aguardando verificacao"
    assert ok("enum", raw, options) == "Liberação de pedido - Aguardando Verificação"


def test_enum_without_choices_fails_instead_of_raising() -> None:
    assert "nenhuma opção" in fail("enum", "Pix", {})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Sim", "Sim"), ("sim.", "Sim"), ("S", "Sim"), ("Não", "Não"), ("nao", "Não"), ("N", "Não")],
)
def test_yes_no(raw: str, expected: str) -> None:
    assert ok("yes_no", raw) == expected


@pytest.mark.parametrize("raw", ["talvez", "Sim e não", "1", "ok"])
def test_yes_no_invalid(raw: str) -> None:
    assert "Sim ou Não" in fail("yes_no", raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SP", "SP"),
        ("rj", "RJ"),
        ("São Paulo", "SP"),
        ("sao paulo", "SP"),
        ("Pará", "PA"),
        ("parana", "PR"),
        ("Distrito Federal", "DF"),
        ("rio grande do sul.", "RS"),
    ],
)
def test_uf(raw: str, expected: str) -> None:
    assert ok("uf", raw) == expected


@pytest.mark.parametrize("raw", ["XX", "Sampa", "S P", "BR"])
def test_uf_invalid(raw: str) -> None:
    assert "UF" in fail("uf", raw)


# ------------------------------------------------------------ date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("05/03/2026", "2026-03-05"),
        ("5/3/2026", "2026-03-05"),
        ("05-03-2026", "2026-03-05"),
        ("05.03.2026", "2026-03-05"),
        ("2026-03-05", "2026-03-05"),
        ("29/02/2024", "2024-02-29"),
        ("10/03/2026", "2026-03-10"),
    ],
)
def test_date_formats(raw: str, expected: str) -> None:
    assert ok("date", raw, {"not_future": True}) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("31/02/2026", "inexistente"),
        ("29/02/2026", "inexistente"),
        ("00/01/2026", "inexistente"),
        ("05/13/2026", "inexistente"),
        ("05/03/26", "dd/mm/aaaa"),
        ("05/03-2026", "dd/mm/aaaa"),
        ("março de 2026", "dd/mm/aaaa"),
    ],
)
def test_date_invalid(raw: str, fragment: str) -> None:
    assert fragment in fail("date", raw)


def test_date_not_future_uses_now() -> None:
    assert "futuro" in fail("date", "11/03/2026", {"not_future": True})
    assert ok("date", "11/03/2026") == "2026-03-11"


def test_date_window_is_skipped_without_now() -> None:
    assert validate("date", "11/03/2030", {"not_future": True, "max_age_days": 1}).ok


def test_date_max_age_days() -> None:
    assert ok("date", "08/02/2026", {"max_age_days": 30}) == "2026-02-08"
    assert "mais de 30 dias" in fail("date", "07/02/2026", {"max_age_days": 30})


# ------------------------------------------------------------ order_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8812734", "8812734"),
        ("#8812734", "8812734"),
        ("PED-2026/001.A", "PED-2026/001.A"),
        ("NÃO GERADO", "NÃO GERADO"),
        ("nao gerado", "NÃO GERADO"),
        ("Não gerado.", "NÃO GERADO"),
    ],
)
def test_order_number_allow_not_generated(raw: str, expected: str) -> None:
    assert ok("order_number", raw, {"allow_not_generated": True}) == expected


@pytest.mark.parametrize(
    ("raw", "options", "fragment"),
    [
        ("NÃO GERADO", {}, "não é aceito"),
        ("12", {}, "de 3 a 30"),
        ("1" * 31, {}, "de 3 a 30"),
        ("-123", {}, "letras e números"),
        ("12 34", {}, "letras e números"),
        ("PED123", {"digits_only": True}, "apenas números"),
        ("12.345", {"digits_only": True}, "apenas números"),
    ],
)
def test_order_number_invalid(raw: str, options: dict[str, Any], fragment: str) -> None:
    assert fragment in fail("order_number", raw, options)


# ------------------------------------------------------------ phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(11) 98765-4321", "11987654321"),
        ("11 98765-4321", "11987654321"),
        ("11987654321", "11987654321"),
        ("+55 11 98765-4321", "11987654321"),
        ("+55 (21) 3456-7890", "2134567890"),
        ("5511987654321", "11987654321"),
        ("(011) 98765-4321", "11987654321"),
        ("(55) 99876-5432", "55998765432"),
        ("61 3456.7890", "6134567890"),
    ],
)
def test_phone_valid(raw: str, expected: str) -> None:
    assert ok("phone", raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("98765-4321", "DDD + 8 ou 9"),
        ("(11) 98765-43210", "DDD + 8 ou 9"),
        ("(20) 98765-4321", "DDD"),
        ("(10) 98765-4321", "DDD"),
        ("(11) 88765-4321", "começar com 9"),
        ("(11) 8765-4321", "fixo"),
        ("+1 415 555 0100", "apenas números"),
        ("ramal 123", "apenas números"),
    ],
)
def test_phone_invalid(raw: str, fragment: str) -> None:
    assert fragment in fail("phone", raw)


# ------------------------------------------------------------ money / integer / text / city


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("R$ 1.500,00", "1500.00"),
        ("R$1.500,00", "1500.00"),
        ("1500", "1500.00"),
        ("1.500", "1500.00"),
        ("1500,50", "1500.50"),
        ("1500.5", "1500.50"),
        ("1.234.567,8", "1234567.80"),
        ("0,99", "0.99"),
    ],
)
def test_money_valid(raw: str, expected: str) -> None:
    assert ok("money", raw) == expected


@pytest.mark.parametrize("raw", ["1,500.50", "R$", "-10", "1.50.00", "10 reais", "1" * 40])
def test_money_invalid(raw: str) -> None:
    assert "R$ 1.500,00" in fail("money", raw)


def test_money_min() -> None:
    assert fail("money", "9,99", {"min": 10}) == "o valor deve ser de pelo menos R$ 10,00"
    assert ok("money", "10", {"min": 10}) == "10.00"


@pytest.mark.parametrize(
    ("raw", "options", "expected"),
    [("3", {}, "3"), ("+7", {}, "7"), ("-2", {"min": -5}, "-2"), ("10", {"max": 10}, "10")],
)
def test_integer_valid(raw: str, options: dict[str, Any], expected: str) -> None:
    assert ok("integer", raw, options) == expected


@pytest.mark.parametrize(
    ("raw", "options", "fragment"),
    [
        ("3,5", {}, "inteiro"),
        ("três", {}, "inteiro"),
        ("0", {"min": 1}, "no mínimo 1"),
        ("11", {"max": 10}, "no máximo 10"),
    ],
)
def test_integer_invalid(raw: str, options: dict[str, Any], fragment: str) -> None:
    assert fragment in fail("integer", raw, options)


def test_text_limits() -> None:
    assert ok("text", "  Cliente sem acesso  ") == "Cliente sem acesso"
    assert fail("text", "a\nb\n\nc\nd\ne", {"max_lines": 3}) == (
        "o texto deve ter no máximo 3 linhas (tem 5)"
    )
    assert "pelo menos 3 palavras (tem 2)" in fail("text", "não funciona", {"min_words": 3})
    assert "pelo menos 10 caracteres" in fail("text", "curto", {"min_length": 10})
    assert "letras nem números" in fail("text", "-- ...")


@pytest.mark.parametrize(
    ("raw", "expected"), [("São Paulo", "São Paulo"), ("Campinas.", "Campinas")]
)
def test_city_valid(raw: str, expected: str) -> None:
    assert ok("city", raw) == expected


@pytest.mark.parametrize("raw", ["12345", "-", "0"])
def test_city_invalid(raw: str) -> None:
    assert "cidade" in fail("city", raw)


# ------------------------------------------------------------ options


def test_option_errors_reports_types_and_dangling_aliases() -> None:
    assert option_errors(PAYMENT) == []
    assert option_errors({"choices": ["Pix"], "aliases": {"x": "Cheque"}}) == [
        "alias 'x' points to 'Cheque', which is not one of the choices"
    ]
    problems = option_errors({"min_words": "3", "not_future": "yes", "choices": []})
    assert len(problems) == 3


# ------------------------------------------------------------ PII and robustness


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("cpf", "529.982.247-26"),
        ("cpf", "52998224726"),
        ("cpf", "529.982.247-2"),
        ("cpf", "111.111.111-11"),
        ("cpf", "CPF529982247"),
        ("cnpj", "11.222.333/0001-82"),
        ("cnpj", "12.ABC.345/01DE-3X"),
        ("cnpj", "12ABC34501DE"),
        ("cpf_cnpj", "529.982.247"),
        ("cpf_cnpj", "11222333000182"),
        ("email", "maria silva@empresa.com.br"),
        ("email", "maria.silva@empresa"),
        ("email", "maria..silva@empresa.com.br"),
        ("phone", "(20) 98765-4321"),
        ("phone", "(11) 88765-4321"),
        ("phone", "119876543210"),
        ("phone", "tel 11 98765-4321"),
    ],
)
def test_pii_reasons_never_echo_the_value(name: str, raw: str) -> None:
    reason = fail(name, raw)
    digits = "".join(ch for ch in raw if ch.isdigit())
    assert raw not in reason
    assert not digits or digits[-6:] not in reason
    assert "silva" not in reason


WEIRD = ["", "\x00", "😀", "  :  ", "x" * 100_000, "9" * 5000, "١٢٣", "５２９", "\u202e123", "%s{}"]
OPTIONS: dict[str, dict[str, Any]] = {
    "enum": PAYMENT,
    "text": {"min_length": 3, "max_lines": 2, "min_words": 1},
    "date": {"not_future": True, "max_age_days": 30},
    "order_number": {"allow_not_generated": True, "digits_only": True},
    "money": {"min": 1},
    "integer": {"min": 0, "max": 10},
}


@pytest.mark.parametrize("raw", WEIRD, ids=range(len(WEIRD)))
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_validate_never_raises_on_weird_input(name: str, raw: str) -> None:
    check = validate(name, raw, OPTIONS.get(name), NOW)
    assert isinstance(check, Check)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_bad_option_types_do_not_raise(name: str) -> None:
    options = {option: object() for option in REGISTRY[name].options}
    assert isinstance(validate(name, "123", options, NOW), Check)


@settings(database=None, deadline=None, max_examples=400)
@given(
    name=st.sampled_from(sorted(REGISTRY)),
    raw=st.one_of(st.text(), st.text(alphabet="0123456789 ./-()+@#R$,:xX:é\n")),
    with_now=st.booleans(),
    with_options=st.booleans(),
)
def test_validate_total_on_any_text(
    name: str, raw: str, with_now: bool, with_options: bool
) -> None:
    options = OPTIONS.get(name) if with_options or name == "enum" else None
    check = validate(name, raw, options, NOW if with_now else None)
    assert isinstance(check, Check)
    if check.ok:
        assert isinstance(check.value, str)
        assert check.reason is None
    else:
        assert check.value is None
        assert isinstance(check.reason, str)
        assert check.reason
