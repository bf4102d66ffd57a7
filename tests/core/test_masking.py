"""Tests for sync.masking: PII never reaches logs or explain output unmasked."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.br import cpf as stdnum_cpf

from sync.masking import (
    FILTERED,
    SENSITIVE_VALIDATORS,
    UNLOGGABLE,
    MaskingFilter,
    mask_text,
    mask_value,
)
from sync.validators import REGISTRY

CPF = "529.982.247-25"
CNPJ = "11.222.333/0001-81"
CNPJ_ALNUM = "12.ABC.345/01DE-35"
EMAIL = "maria.silva@empresa.com.br"
PHONE = "(11) 98765-4321"
API_KEY = "sk-live-9f8e7d6c5b4a"


# ------------------------------------------------------------ mask_value


def test_sensitive_validators_are_registered_pii_kinds() -> None:
    assert frozenset({"cpf", "cnpj", "cpf_cnpj", "email", "phone"}) == SENSITIVE_VALIDATORS
    assert SENSITIVE_VALIDATORS <= set(REGISTRY)


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("cpf", CPF, "529.***.***-25"),
        ("cpf", "52998224725", "529******25"),
        ("cpf", " 111.444.777-35 ", "111.***.***-35"),
        ("cnpj", CNPJ, "11.***.***/****-81"),
        ("cnpj", CNPJ_ALNUM, "12.***.***/****-35"),
        ("cnpj", "12abc34501de35", "12**********35"),
        ("cpf_cnpj", CPF, "529.***.***-25"),
        ("cpf_cnpj", CNPJ, "11.***.***/****-81"),
        ("email", EMAIL, "m***@e***.com.br"),
        ("email", "joao@mail.empresa.com.br", "j***@m***.com.br"),
        ("email", "ana@gmail.com", "a***@g***.com"),
        ("phone", PHONE, "(11) *****-**21"),
        ("phone", "+55 11 98765-4321", "+55 11 *****-**21"),
        ("phone", "11987654321", "11*******21"),
        ("phone", "(21) 3456-7890", "(21) ****-**90"),
        ("public_ip", "200.155.1.10", "200.155.*.*"),
        ("public_ip", "2800:3f0:4001:80a::200e", "2800:03f0:****"),
        ("nome", "Maria da Silva", "Ma***a"),
        ("nome", "Ana", "***"),
        ("nome", "abcd", "***"),
        ("cpf", "", "***"),
    ],
)
def test_mask_value(kind: str, raw: str, expected: str) -> None:
    assert mask_value(kind, raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw"),
    [("cpf", "52998"), ("cnpj", "1122"), ("phone", "4321"), ("email", "a@b"), ("cpf", "12.345")],
)
def test_mask_value_hides_short_values_completely(kind: str, raw: str) -> None:
    masked = mask_value(kind, raw)
    assert not any(ch.isdigit() for ch in masked)


@settings(database=None, deadline=None)
@given(kind=st.sampled_from([*sorted(SENSITIVE_VALIDATORS), "public_ip", "other"]), raw=st.text())
def test_mask_value_never_raises(kind: str, raw: str) -> None:
    assert isinstance(mask_value(kind, raw), str)


# ------------------------------------------------------------ mask_text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"CPF {CPF} recebido", CPF),
        ("cpf=52998224725;", "52998224725"),
        (f"CNPJ {CNPJ}", CNPJ),
        ("cnpj 11222333000181", "11222333000181"),
        (f"CNPJ novo {CNPJ_ALNUM}", CNPJ_ALNUM),
        ("cnpj novo 12.abc.345/01de-35", "12.abc.345/01de-35"),
        ("cnpj bare 12ABC34501DE35.", "12ABC34501DE35"),
        (f"para {EMAIL}.", EMAIL),
        ("<joão.souza@exemplo.com>", "joão.souza@exemplo.com"),
        (f"tel {PHONE}", "98765-4321"),
        ("tel +55 11 98765-4321", "98765-4321"),
        ("tel +5511987654321", "5511987654321"),
        ("tel 11987654321", "11987654321"),
        ("fixo 11 3456-7890", "3456-7890"),
    ],
)
def test_mask_text_scrubs_pii(text: str, secret: str) -> None:
    masked = mask_text(text)
    assert secret not in masked
    assert "*" in masked


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-20T13:00:00Z",
        "2026-11-20T13:00:00.123456+00:00",
        "ticket 500A1 nº 00012345 (id 500Dn00000A1xYz)",
        "20/11/2026 às 13:00",
        "valor R$ 1.500,00 em 3 parcelas",
        "TransactionId12 trace 550e8400-e29b-41d4-a716-446655440000",
        "epoch 1732107600 version 1.2.3",
        "sem dados sensíveis",
    ],
)
def test_mask_text_leaves_non_pii_untouched(text: str) -> None:
    assert mask_text(text) == text


def test_mask_text_is_idempotent() -> None:
    once = mask_text(f"{CPF} {CNPJ} {EMAIL} {PHONE}")
    assert mask_text(once) == once


@settings(database=None, deadline=None)
@given(st.text())
def test_mask_text_never_raises(text: str) -> None:
    assert isinstance(mask_text(text), str)


def with_check_digits(base: str) -> str:
    """Append the two CPF check digits to nine digits (mod-11, as the Receita defines)."""
    digits = base
    for weight in (10, 11):
        total = sum((weight - i) * int(d) for i, d in enumerate(digits))
        digits += str((11 - total) % 11 % 10)
    return digits


@settings(database=None, deadline=None)
@given(
    base=st.text(alphabet="0123456789", min_size=9, max_size=9),
    before=st.text(alphabet="abc XYZ:(=,", max_size=20),
    after=st.text(alphabet="abc XYZ:)=,.", max_size=20),
    formatted=st.booleans(),
)
def test_any_valid_cpf_in_text_is_masked(
    base: str, before: str, after: str, formatted: bool
) -> None:
    digits = with_check_digits(base)
    cpf = stdnum_cpf.format(digits) if formatted else digits
    masked = mask_text(f"{before} {cpf} {after}")
    assert cpf not in masked
    assert digits not in masked


# ------------------------------------------------------------ MaskingFilter


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A real logger writing through a MaskingFilter-equipped handler into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s | %(api_key)s %(customer)s"))
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger(f"tests.masking.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def test_filter_masks_message_args_and_extras(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info(
        "ticket %s at %s: cpf %s cnpj %s/%s email %s phone %s",
        "00012345",
        "2026-11-20T13:00:00Z",
        CPF,
        CNPJ,
        CNPJ_ALNUM,
        EMAIL,
        PHONE,
        extra={
            "api_key": API_KEY,
            "customer": {"email": EMAIL, "Session-Token": "abc123", "ids": ["52998224725"]},
        },
    )
    output = stream.getvalue()
    for raw in (CPF, "52998224725", CNPJ, CNPJ_ALNUM, EMAIL, "98765-4321", API_KEY, "abc123"):
        assert raw not in output
    assert "529.***.***-25" in output
    assert "m***@e***.com.br" in output
    assert "(11) *****-**21" in output
    assert FILTERED in output
    assert "ticket 00012345 at 2026-11-20T13:00:00Z" in output
    assert output.count("\n") == 1


def test_filter_masks_exception_text(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    try:
        raise ValueError(f"CPF recusado: {CPF}")
    except ValueError:
        logger.exception("falha", extra={"api_key": None, "customer": None})
    output = stream.getvalue()
    assert "Traceback" in output
    assert CPF not in output
    assert "529.***.***-25" in output


def test_filter_replaces_unformattable_record(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info("%d items for %s", "many", CPF, extra={"api_key": "k", "customer": EMAIL})
    output = stream.getvalue()
    assert UNLOGGABLE in output
    assert CPF not in output
    assert EMAIL not in output


def test_filter_always_passes_record_and_is_idempotent() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "cpf %s", (CPF,), None)
    record.password = "hunter2"
    masking = MaskingFilter()
    assert masking.filter(record)
    assert masking.filter(record)
    assert record.getMessage() == "cpf 529.***.***-25"
    assert record.password == FILTERED


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_service_log_formats_keep_the_masked_traceback(fmt: str) -> None:
    """Both formatters print the traceback the filter masked, never a fresh raw one."""
    from cli.logs import setup_logging

    root = logging.getLogger()
    before = list(root.handlers), root.level
    stream = io.StringIO()
    setup_logging(fmt, "INFO", stream)
    try:
        try:
            raise RuntimeError(f"rejected {CPF} {CNPJ} {EMAIL} {PHONE}")
        except RuntimeError:
            logging.getLogger("helpdesk_sync.test").exception("write failed")
    finally:
        for handler in list(root.handlers):
            if handler not in before[0]:
                root.removeHandler(handler)
        root.setLevel(before[1])
    output = stream.getvalue()
    assert "Traceback" in output
    assert "RuntimeError" in output
    for raw in (CPF, CNPJ, EMAIL, "98765-4321"):
        assert raw not in output
    assert "529.***.***-25" in output
