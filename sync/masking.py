"""Masking of PII (CPF, CNPJ, e-mail, phone) for logs and explain output.

PII must never appear unmasked outside the helpdesk itself: ``mask_value`` masks one value
of a known kind, ``mask_text`` scrubs free text and ``MaskingFilter`` applies both to every
log record. Masks keep a few leading/trailing characters so an agent can still tell two
values apart, and keep punctuation so the shape stays recognisable.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from stdnum.br import cpf as stdnum_cpf

from .validators import DDDS

SENSITIVE_VALIDATORS: frozenset[str] = frozenset({"cpf", "cnpj", "cpf_cnpj", "email", "phone"})

STARS = "***"
FILTERED = "[Filtered]"
UNLOGGABLE = "[unloggable message]"


# ---------------------------------------------------------------------------------------
# mask_value
# ---------------------------------------------------------------------------------------


def _keep_ends(text: str, head: int, tail: int) -> str:
    """Star letters/digits but the first ``head`` and last ``tail`` (all if too short to hide)."""
    positions = [index for index, char in enumerate(text) if char.isalnum()]
    if len(positions) < 2 * (head + tail):
        head = tail = 0
    kept = set(positions[:head]) | set(positions[len(positions) - tail :] if tail else ())
    return "".join(
        char if index in kept or not char.isalnum() else "*" for index, char in enumerate(text)
    )


def _mask_generic(text: str) -> str:
    """First 2 + *** + last 1 characters; short values reveal nothing."""
    return STARS if len(text) <= 4 else f"{text[:2]}{STARS}{text[-1]}"


def _mask_cpf(text: str) -> str:
    """CPF: keep the first 3 and last 2 digits (529.***.***-25)."""
    return _keep_ends(text, 3, 2)


def _mask_cnpj(text: str) -> str:
    """CNPJ: keep the first 2 and last 2 characters (11.***.***/****-81)."""
    return _keep_ends(text, 2, 2)


def _mask_cpf_cnpj(text: str) -> str:
    """Mask as CNPJ when 14 significant characters, else as CPF."""
    significant = sum(1 for char in text if char.isalnum())
    return _mask_cnpj(text) if significant == 14 else _mask_cpf(text)


def _mask_phone(text: str) -> str:
    """Phone: keep the country code, DDD and the last 2 digits ((11) *****-**21)."""
    digits = "".join(char for char in text if char.isdigit())
    with_country = text.startswith("+") or (len(digits) in (12, 13) and digits.startswith("55"))
    head = 4 if with_country else 3 if digits.startswith("0") else 2
    return _keep_ends(text, head, 2)


_SECOND_LEVEL = frozenset({"com", "net", "org", "gov", "edu", "mil", "ind", "art", "adv", "eng"})


def _suffix_labels(labels: list[str]) -> int:
    """How many trailing labels form the public suffix (".com.br" = 2, ".com" = 1)."""
    if len(labels) >= 3 and len(labels[-1]) == 2:
        second = labels[-2].lower()
        if second in _SECOND_LEVEL or len(second) <= 3:
            return 2
    return 1


def _mask_domain(domain: str) -> str:
    """Keep the public suffix and the first letter of the host: e***.com.br."""
    labels = domain.split(".")
    suffix = _suffix_labels(labels)
    if len(labels) <= suffix:
        return f"{domain[:1]}{STARS}"
    return f"{labels[0][:1]}{STARS}." + ".".join(labels[-suffix:])


def _mask_email(text: str) -> str:
    """E-mail: first letter of the mailbox and host, public suffix kept (m***@e***.com.br)."""
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return _mask_generic(text)
    return f"{local[:1]}{STARS}@{_mask_domain(domain)}"


def _mask_ip(text: str) -> str:
    """IP: keep the network part (200.155.*.*, 2800:3f0:****)."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return _mask_generic(text)
    if isinstance(address, ipaddress.IPv4Address):
        return ".".join(str(address).split(".")[:2]) + ".*.*"
    return ":".join(address.exploded.split(":")[:2]) + ":" + "****"


_MASKERS: Mapping[str, Callable[[str], str]] = {
    "cpf": _mask_cpf,
    "cnpj": _mask_cnpj,
    "cpf_cnpj": _mask_cpf_cnpj,
    "email": _mask_email,
    "phone": _mask_phone,
    "public_ip": _mask_ip,
}


def mask_value(kind: str, raw: str) -> str:
    """Mask one value of a known kind (else generically); never raises so it is log-safe."""
    text = (raw if isinstance(raw, str) else str(raw)).strip()
    if not text:
        return STARS
    return _MASKERS.get(kind, _mask_generic)(text)


# ---------------------------------------------------------------------------------------
# mask_text
# ---------------------------------------------------------------------------------------

_L = r"(?<![0-9A-Za-z])"
_R = r"(?![0-9A-Za-z])"
_TEXT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("email", r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)+"),
    ("cnpj", _L + r"[0-9A-Za-z]{2}\.[0-9A-Za-z]{3}\.[0-9A-Za-z]{3}/[0-9A-Za-z]{4}-[0-9]{2}" + _R),
    ("cpf", _L + r"[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}" + _R),
    ("phone", r"(?<![\w+])\+55 ?[0-9]{10,11}" + _R),
    (
        "phone_fmt",
        r"(?<![\w+])(?:\+55[ .-]?)?(?:\([0-9]{2}\) ?|[0-9]{2}[ .-])9?[0-9]{4}[ .-]?[0-9]{4}" + _R,
    ),
    ("cnpj_bare", _L + r"[0-9A-Za-z]{12}[0-9]{2}" + _R),
    ("digits11", _L + r"[0-9]{11}" + _R),
)
_TEXT_RE = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _TEXT_PATTERNS))
_TRIGGER = re.compile(r"[0-9@]")


def _looks_like_mobile(digits: str) -> bool:
    """An 11-digit run shaped like DDD + 9xxxx-xxxx (and not a valid CPF)."""
    return digits[:2] in DDDS and digits[2] == "9" and not stdnum_cpf.is_valid(digits)


def _looks_like_bare_cnpj(token: str) -> bool:
    """A 14-char token with a digit in its first 12 and no mixed case (not a word/id)."""
    has_digit = any(char.isdigit() for char in token[:12])
    return has_digit and (token.isupper() or token.islower() or token.isdigit())


def _replace(match: re.Match[str]) -> str:
    """Mask one PII match by the kind of pattern that found it."""
    kind, found = match.lastgroup or "", match.group()
    if kind == "cnpj_bare":
        return _mask_cnpj(found) if _looks_like_bare_cnpj(found) else found
    if kind == "digits11":
        return _mask_phone(found) if _looks_like_mobile(found) else _mask_cpf(found)
    if kind == "phone_fmt":
        return _mask_phone(found)
    return mask_value(kind, found)


def mask_text(text: str) -> str:
    """Scrub CPFs, CNPJs, e-mails and phones from free text such as log messages."""
    if not isinstance(text, str):
        text = str(text)
    if not _TRIGGER.search(text):
        return text
    return _TEXT_RE.sub(_replace, text)


# ---------------------------------------------------------------------------------------
# logging
# ---------------------------------------------------------------------------------------

_SECRET_WORDS = (
    "token",
    "api_key",
    "apikey",
    "password",
    "passwd",
    "secret",
    "authorization",
    "cookie",
)
_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_MAX_DEPTH = 4
_EXC_FORMATTER = logging.Formatter()


def is_secret_key(key: object) -> bool:
    """Whether a field name denotes a credential whose value must never be logged."""
    name = str(key).lower().replace("-", "_")
    return any(word in name for word in _SECRET_WORDS)


def mask_data(value: Any) -> Any:
    """``value`` (text, dicts, lists) with every CPF, CNPJ, e-mail and phone masked and
    secret-named keys filtered: what the state store keeps of action texts and errors."""
    return _scrub(value)


def _scrub(value: Any, depth: int = 0) -> Any:
    """Mask PII inside an extra value, recursing into dicts/lists and filtering secrets."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, str):
        return mask_text(value)
    if depth < _MAX_DEPTH and isinstance(value, Mapping):
        return {k: FILTERED if is_secret_key(k) else _scrub(v, depth + 1) for k, v in value.items()}
    if depth < _MAX_DEPTH and isinstance(value, list | tuple | set | frozenset):
        return [_scrub(item, depth + 1) for item in value]
    text = str(value)
    masked = mask_text(text)
    return value if masked == text else masked


def _extra_keys(record: logging.LogRecord) -> list[str]:
    """Attributes added through ``extra=``, i.e. not set by LogRecord itself."""
    return [key for key in record.__dict__ if key not in _RECORD_ATTRS]


def _mask_record(record: logging.LogRecord) -> None:
    """Mask the message, the traceback text and every extra in place."""
    record.msg = mask_text(record.getMessage())
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = _EXC_FORMATTER.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    for key in _extra_keys(record):
        value = record.__dict__[key]
        record.__dict__[key] = FILTERED if is_secret_key(key) else _scrub(value)


def _blank_record(record: logging.LogRecord) -> None:
    """Replace everything that could leak when masking itself failed."""
    record.msg = UNLOGGABLE
    record.args = None
    record.exc_info = None
    record.exc_text = None
    record.stack_info = None
    for key in _extra_keys(record):
        record.__dict__[key] = FILTERED


class MaskingFilter(logging.Filter):
    """Logging filter that masks PII and secrets; attach it to every handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place and always let it through (a log line is never lost)."""
        try:
            _mask_record(record)
        except Exception:  # noqa: BLE001 - logging must never raise nor leak
            with contextlib.suppress(Exception):
                _blank_record(record)
        return True
