"""Validators for the raw values agents type in ticket comments.

Each validator takes the stripped raw text, the field's ``options`` from the mapping and
``now`` (for date checks) and returns a :class:`Check`. Reasons are in Brazilian
Portuguese because they are shown to helpdesk agents in a note; reasons of PII validators
(cpf, cnpj, cpf_cnpj, email, phone) never echo the raw value. Validators never raise on
any input text: a value an agent typed must become a note, never a crash.

Why this module is long: it is one table. ``_SPECS`` at the end registers every validator
with the options it accepts (checked at load time by ``option_errors``), above the
validators it lists, each short and built on the same helpers: text cleanup, option
readers, Portuguese reasons that never echo PII, the never-raise contract. It reads top
to bottom (helpers, validators by kind, registry); a split by kind would separate the
table's entries from their options and from the helpers they share.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf

from .textnorm import fold


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one validation: a normalized value or a reason for the agent."""

    ok: bool
    value: str | None
    reason: str | None


ValidatorFunc = Callable[[str, Mapping[str, Any], datetime | None], Check]


@dataclass(frozen=True, slots=True)
class ValidatorSpec:
    """A validator and the options it accepts, so mappings are checked at load time."""

    name: str
    func: ValidatorFunc
    options: frozenset[str]
    required_options: frozenset[str]
    description: str


# ---------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------

_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")
_TRAILING_PUNCT = ".,;:!?"
_DASHES = re.compile("[\u2010-\u2015\u2212]")
_ECHO_LIMIT = 60


def _ok(value: str) -> Check:
    """Build a passing check."""
    return Check(True, value, None)


def _fail(reason: str) -> Check:
    """Build a failing check."""
    return Check(False, None, reason)


def _clean(raw: str) -> str:
    """Drop invisible characters pasted from web pages and surrounding whitespace."""
    return _INVISIBLE.sub("", raw).strip()


def _key(text: str) -> str:
    """Comparison key for choices: folded, unified dashes, no trailing punctuation."""
    return _DASHES.sub("-", fold(text)).rstrip(_TRAILING_PUNCT + " ").strip("\"'“”")


def _echo(text: str) -> str:
    """Shorten a non-PII raw value for quoting in a reason, so notes stay readable."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _ECHO_LIMIT else flat[: _ECHO_LIMIT - 1] + "…"


def _plural(count: int, singular: str, plural: str) -> str:
    """Pick the Portuguese noun form for a count, so reasons read naturally."""
    return f"{count} {singular if count == 1 else plural}"


def _join_choices(choices: list[str]) -> str:
    """Join choices as Portuguese prose: "A, B ou C"."""
    if len(choices) <= 1:
        return "".join(choices)
    return ", ".join(choices[:-1]) + " ou " + choices[-1]


def _is_ascii_digits(text: str) -> bool:
    """True for a non-empty run of 0-9 (str.isdigit also accepts other scripts)."""
    return text.isascii() and text.isdigit()


def _opt_int(options: Mapping[str, Any], name: str) -> int | None:
    """Read an integer option leniently; a malformed one is ignored (the loader reports it)."""
    value = options.get(name)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,18}", value.strip()):
        return int(value)
    return None


def _opt_bool(options: Mapping[str, Any], name: str) -> bool:
    """Read a boolean option; YAML strings such as "sim"/"true" count as true."""
    value = options.get(name, False)
    if isinstance(value, str):
        return fold(value) in {"true", "sim", "yes", "1", "s"}
    return bool(value) if isinstance(value, bool | int) else False


def _opt_number(options: Mapping[str, Any], name: str) -> Decimal | None:
    """Read a numeric option as Decimal so money comparisons are exact."""
    value = options.get(name)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
        return number if number.is_finite() else None
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,18}(\.[0-9]{1,6})?", value.strip()):
        return Decimal(value.strip())
    return None


def _opt_strings(options: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """Read a list-of-strings option; a lone string counts as a one-item list."""
    value = options.get(name)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(str(item) for item in value if item is not None and str(item).strip())
    return ()


def _opt_aliases(options: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Read the alias -> choice mapping as hashable pairs for caching."""
    value = options.get("aliases")
    if not isinstance(value, Mapping):
        return ()
    return tuple((str(k), str(v)) for k, v in value.items() if k is not None and v is not None)


# ---------------------------------------------------------------------------------------
# text, city
# ---------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _text(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """Free text: must carry letters or digits, within the configured size limits."""
    if not any(ch.isalnum() for ch in raw):
        return _fail("texto sem letras nem números")
    min_length = _opt_int(options, "min_length")
    if min_length is not None and len(raw) < min_length:
        return _fail(
            f"o texto deve ter pelo menos {_plural(min_length, 'caractere', 'caracteres')}"
            f" (tem {len(raw)})"
        )
    min_words = _opt_int(options, "min_words")
    words = len(_WORD.findall(raw))
    if min_words is not None and words < min_words:
        return _fail(
            f"o texto deve ter pelo menos {_plural(min_words, 'palavra', 'palavras')} (tem {words})"
        )
    max_lines = _opt_int(options, "max_lines")
    lines = sum(1 for line in raw.splitlines() if line.strip())
    if max_lines is not None and lines > max_lines:
        return _fail(
            f"o texto deve ter no máximo {_plural(max_lines, 'linha', 'linhas')} (tem {lines})"
        )
    return _ok(raw)


def _address(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """A place's address or name: letters are required, so "0" or "-" are rejected."""
    if not any(ch.isalpha() for ch in raw):
        return _fail("informe o endereço (ex.: Rua Direita, 120 - Sé, São Paulo/SP)")
    return _ok(" ".join(raw.split()).rstrip(_TRAILING_PUNCT))


_BANK = re.compile(r"\d[\d. ]{0,14}(?:\s?-\s?[\dxX])?")


def _bank_number(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """A bank agency or account number: digits, dots, an optional check digit after a dash."""
    text = raw.strip().rstrip(_TRAILING_PUNCT)
    if not _BANK.fullmatch(text):
        return _fail("informe só números, com o dígito após o hífen (ex.: 12345-6)")
    return _ok(" ".join(text.split()))


def _city(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """City name: some letters are required, so "0" or "-" placeholders are rejected."""
    if not any(ch.isalpha() for ch in raw):
        return _fail("informe o nome da cidade (ex.: Campinas)")
    return _ok(" ".join(raw.split()).rstrip(_TRAILING_PUNCT))


# ---------------------------------------------------------------------------------------
# cpf, cnpj, cpf_cnpj
# ---------------------------------------------------------------------------------------

_CNPJ_CHARS = re.compile(r"[0-9A-Z]+")


def _cpf(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """CPF with or without punctuation; value is the 11 digits."""
    number = stdnum_cpf.compact(raw)
    if not _is_ascii_digits(number):
        return _fail("CPF deve conter apenas números (pontos e hífen são opcionais)")
    if len(number) != 11:
        return _fail(f"CPF deve ter 11 dígitos (tem {len(number)})")
    if len(set(number)) == 1:
        return _fail("CPF inválido: sequência de dígitos repetidos")
    if not stdnum_cpf.is_valid(number):
        return _fail("CPF inválido: dígitos verificadores não conferem")
    return _ok(number)


def _cnpj(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """CNPJ, numeric or alphanumeric (from July 2026); value is 14 uppercase characters."""
    number = stdnum_cnpj.compact(raw)
    if not number.isascii() or not _CNPJ_CHARS.fullmatch(number):
        return _fail("CNPJ deve conter apenas números e letras (pontuação é opcional)")
    if len(number) != 14:
        return _fail(f"CNPJ deve ter 14 caracteres (tem {len(number)})")
    if not number[-2:].isdigit():
        return _fail(
            "CNPJ inválido: os 2 últimos caracteres (dígitos verificadores) devem ser números"
        )
    if len(set(number)) == 1 or number.startswith("0" * 12):
        return _fail("CNPJ inválido: sequência de caracteres repetidos")
    if not stdnum_cnpj.is_valid(number):
        return _fail("CNPJ inválido: dígitos verificadores não conferem")
    return _ok(number)


def _cpf_cnpj(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """Either document, chosen by the compact length (11 = CPF, 14 = CNPJ)."""
    length = len(stdnum_cnpj.compact(raw))
    if length == 11:
        return _cpf(raw, options, now)
    if length == 14:
        return _cnpj(raw, options, now)
    return _fail(f"informe um CPF (11 dígitos) ou um CNPJ (14 caracteres); o valor tem {length}")


# ---------------------------------------------------------------------------------------
# email
# ---------------------------------------------------------------------------------------

_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TLD = re.compile(r"[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}")


def _domain_ok(domain: str) -> bool:
    """Pragmatic DNS name check: 2+ valid labels and an alphabetic (or punycode) TLD."""
    labels = domain.split(".")
    return (
        len(domain) <= 253
        and len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and _TLD.fullmatch(labels[-1]) is not None
    )


def _email(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """E-mail syntax (local@domain.tld); value has the domain lowercased."""
    text = raw.removeprefix("mailto:").strip("<>").rstrip(".,;")
    if any(ch.isspace() for ch in text):
        return _fail("e-mail não pode conter espaços")
    if text.count("@") != 1:
        return _fail("e-mail deve ter exatamente um @ (ex.: nome@empresa.com.br)")
    local, domain = text.split("@")
    if not local or len(local) > 64 or not _EMAIL_LOCAL.fullmatch(local):
        return _fail("e-mail inválido: a parte antes do @ tem caracteres ou pontos inválidos")
    if not _domain_ok(domain):
        return _fail("e-mail inválido: domínio inválido (ex.: empresa.com.br)")
    return _ok(f"{local}@{domain.lower()}")


# ---------------------------------------------------------------------------------------
# public_ip
# ---------------------------------------------------------------------------------------

_IP_ADVICE = " — informe o IP público"
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_DOCUMENTATION = tuple(
    ipaddress.ip_network(net)
    for net in (
        "192.0.2.0/24",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "2001:db8::/32",
        "3fff::/20",
    )
)
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IP_CLASSES: tuple[tuple[Callable[[_IPAddress], bool], str], ...] = (
    (lambda ip: ip.is_unspecified, "IP não especificado (0.0.0.0 ou ::)"),
    (lambda ip: ip.is_loopback, "IP de loopback (a própria máquina)"),
    (lambda ip: ip.is_link_local, "IP link-local (rede local automática)"),
    (lambda ip: ip.is_multicast, "IP de multicast"),
    (lambda ip: ip in _CGNAT, "IP compartilhado da operadora (CGNAT, 100.64.0.0/10)"),
    (lambda ip: any(ip in net for net in _DOCUMENTATION), "IP reservado para documentação"),
    (lambda ip: ip.is_reserved, "IP reservado"),
    (lambda ip: ip.is_private, "IP privado (rede interna)"),
    (lambda ip: not ip.is_global, "IP não roteável na internet"),
)


def _non_public_reason(ip: _IPAddress) -> str | None:
    """Say why an address is not reachable from the internet, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for matches, reason in _IP_CLASSES:
        if matches(ip):
            return reason + _IP_ADVICE
    return None


def _public_ip(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """A globally routable IPv4/IPv6 address; the network team can only unblock those."""
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return _fail("IP inválido: informe só o endereço IPv4 (ex.: 200.155.1.10) ou IPv6")
    reason = _non_public_reason(ip)
    return _fail(reason) if reason else _ok(str(ip))


# ---------------------------------------------------------------------------------------
# enum, yes_no, uf
# ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _enum_table(choices: tuple[str, ...], aliases: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Key -> canonical choice, cached because mappings reuse the same options."""
    table = {_key(choice): choice for choice in choices}
    for alias, target in aliases:
        canonical = table.get(_key(target))
        if canonical is not None:
            table.setdefault(_key(alias), canonical)
    return table


_REMARK_CUT = re.compile(r"\s*(?:[,;(]|\.(?:\s|$)|\s[-–—]\s)")


def _leading_answer(raw: str, table: Mapping[str, str]) -> str | None:
    """The answer an agent wrote before a remark: "Sim, dia 17/11", "não (ver filho)".

    Only the text before the first comma, semicolon, parenthesis, sentence end or spaced
    dash is tried, so "Sim, mas não" is "Sim" and "Sem resposta do distribuidor" is not
    cut into anything.
    """
    cut = _REMARK_CUT.search(raw)
    if cut is None or cut.start() == 0:
        return None
    return table.get(_key(raw[: cut.start()]))


def _only_choice_in(raw: str, table: Mapping[str, str]) -> str | None:
    """The one choice a longer answer names as words ("via Trademaster", "pagou no Pix").

    Longest names first, never overlapping; two different choices name none.
    """
    text = f" {_WORDS_ONLY.sub(' ', _key(raw))} "
    seen: set[str] = set()
    for name in sorted(table, key=len, reverse=True):
        if len(name.replace(" ", "")) < 3:
            continue
        needle = f" {_WORDS_ONLY.sub(' ', name).strip()} "
        if needle.strip() and needle in text:
            seen.add(table[name])
            text = text.replace(needle, " | ")
    return next(iter(seen)) if len(seen) == 1 else None


_WORDS_ONLY = re.compile(r"[^\w/]+")


def _enum(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """One of the configured choices (or an alias), matched accent/case-insensitively."""
    choices = _opt_strings(options, "choices")
    if not choices:
        return _fail("nenhuma opção configurada para este campo")
    table = _enum_table(choices, _opt_aliases(options))
    found = table.get(_key(raw)) or _leading_answer(raw, table) or _only_choice_in(raw, table)
    other = options.get("other")
    if found is None and isinstance(other, str) and len(_WORD.findall(raw)) >= 2:
        # "endereço não localizado pela transportadora": a reason, none of the listed ones.
        found = table.get(_key(other))
    if found is None:
        return _fail(
            f'valor "{_echo(raw)}" não é uma opção válida; use: {_join_choices(list(choices))}'
        )
    return _ok(found)


_YES_NO = {"sim": "Sim", "s": "Sim", "nao": "Não", "n": "Não"}


def _yes_no(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """Sim/Não (or S/N), accent- and case-insensitive; value is "Sim" or "Não"."""
    found = _YES_NO.get(_key(raw)) or _leading_answer(raw, _YES_NO)
    if found is None:
        return _fail(f'valor "{_echo(raw)}" inválido; responda Sim ou Não')
    return _ok(found)


UF_NAMES: Mapping[str, str] = {
    "AC": "Acre", "AL": "Alagoas", "AP": "Amapá", "AM": "Amazonas", "BA": "Bahia",
    "CE": "Ceará", "DF": "Distrito Federal", "ES": "Espírito Santo", "GO": "Goiás",
    "MA": "Maranhão", "MT": "Mato Grosso", "MS": "Mato Grosso do Sul", "MG": "Minas Gerais",
    "PA": "Pará", "PB": "Paraíba", "PR": "Paraná", "PE": "Pernambuco", "PI": "Piauí",
    "RJ": "Rio de Janeiro", "RN": "Rio Grande do Norte", "RS": "Rio Grande do Sul",
    "RO": "Rondônia", "RR": "Roraima", "SC": "Santa Catarina", "SP": "São Paulo",
    "SE": "Sergipe", "TO": "Tocantins",
}  # fmt: skip
_UF_LOOKUP = {_key(code): code for code in UF_NAMES} | {
    _key(name): code for code, name in UF_NAMES.items()
}


def _uf(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """A Brazilian state by code (SP) or name with/without accents; value is the code."""
    found = _UF_LOOKUP.get(_key(raw))
    if found is None:
        return _fail(f'UF "{_echo(raw)}" inválida; informe a sigla (ex.: SP) ou o nome do estado')
    return _ok(found)


# ---------------------------------------------------------------------------------------
# date
# ---------------------------------------------------------------------------------------

_BR_DATE = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DAY_MONTH = re.compile(r"([0-9]{1,2})/([0-9]{1,2})")


def _parse_date(text: str) -> tuple[int, int, int] | None:
    """Split a BR (d/m/aaaa, with / - or .) or ISO date into (year, month, day)."""
    if match := _BR_DATE.fullmatch(text):
        return int(match[4]), int(match[3]), int(match[1])
    if match := _ISO_DATE.fullmatch(text):
        return int(match[1]), int(match[2]), int(match[3])
    return None


def _date_window(day: date, options: Mapping[str, Any], now: datetime | None) -> str | None:
    """Check not_future/max_age_days against now; skipped without now (load-time checks)."""
    if now is None:
        return None
    today = now.date()
    if _opt_bool(options, "not_future") and day > today:
        return f"a data {day:%d/%m/%Y} está no futuro"
    max_age = _opt_int(options, "max_age_days")
    if max_age is not None and (today - day).days > max_age:
        return f"a data {day:%d/%m/%Y} tem mais de {_plural(max_age, 'dia', 'dias')}"
    return None


def _recent_day(text: str, now: datetime | None) -> tuple[int, int, int] | None:
    """ "21/11" as agents write a recent date: the latest such day not after today."""
    match = _DAY_MONTH.fullmatch(text)
    if match is None or now is None:
        return None
    day, month, year = int(match[1]), int(match[2]), now.year
    try:
        if date(year, month, day) > now.date():
            year -= 1
        date(year, month, day)
    except ValueError:
        return None
    return year, month, day


def _date(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """A calendar date in BR or ISO format, or day/month of the last twelve months;
    value is ISO yyyy-mm-dd."""
    parts = _parse_date(raw) or _recent_day(raw.strip(), now)
    if parts is None:
        return _fail("data inválida: use dd/mm/aaaa (ex.: 25/03/2026)")
    try:
        day = date(*parts)
    except ValueError:
        return _fail(f"data inexistente no calendário: {_echo(raw)}")
    problem = _date_window(day, options, now)
    return _fail(problem) if problem else _ok(day.isoformat())


# ---------------------------------------------------------------------------------------
# order_number
# ---------------------------------------------------------------------------------------

NOT_GENERATED = "NÃO GERADO"
_ORDER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9./-]*[A-Za-z0-9])?")


def _order_number(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """An order id (3-30 chars, optional leading #), or "NÃO GERADO" when allowed."""
    if _key(raw) == _key(NOT_GENERATED):
        if _opt_bool(options, "allow_not_generated"):
            return _ok(NOT_GENERATED)
        return _fail(f'informe o número do pedido ("{NOT_GENERATED}" não é aceito aqui)')
    number = raw.lstrip("#").strip()
    if not 3 <= len(number) <= 30:
        return _fail(f"número do pedido deve ter de 3 a 30 caracteres (tem {len(number)})")
    if _opt_bool(options, "digits_only") and not _is_ascii_digits(number):
        return _fail("número do pedido deve conter apenas números")
    if not number.isascii() or not _ORDER.fullmatch(number):
        return _fail("número do pedido deve conter apenas letras e números (- / . só entre eles)")
    return _ok(number)


# ---------------------------------------------------------------------------------------
# phone
# ---------------------------------------------------------------------------------------

# Area codes in use (ANATEL): a typo such as 20 or 30 is caught here.
DDDS: frozenset[str] = frozenset(
    "11 12 13 14 15 16 17 18 19 21 22 24 27 28 31 32 33 34 35 37 38 41 42 43 44 45 46 47 48 "
    "49 51 53 54 55 61 62 63 64 65 66 67 68 69 71 73 74 75 77 79 81 82 83 84 85 86 87 88 89 "
    "91 92 93 94 95 96 97 98 99".split()
)
_PHONE_CHARS = re.compile(r"\+?[0-9 ().-]+")
_PHONE_SEPARATORS = re.compile(r"[ ().-]")


def _phone_digits(text: str) -> str | None:
    """Digits of a BR phone without country code or trunk 0; None if not phone-shaped."""
    if not text.isascii() or not _PHONE_CHARS.fullmatch(text):
        return None
    digits = _PHONE_SEPARATORS.sub("", text)
    if digits.startswith("+"):
        if not digits.startswith("+55"):
            return None
        return digits[3:]
    if len(digits) in (12, 13) and digits.startswith("55"):
        return digits[2:]
    if len(digits) in (11, 12) and digits.startswith("0"):
        return digits[1:]
    return digits


def _phone(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """A Brazilian phone with DDD; value is DDD + number digits (no +55)."""
    digits = _phone_digits(raw)
    if digits is None:
        return _fail("telefone deve conter apenas números (ex.: (11) 98765-4321; só +55)")
    if len(digits) not in (10, 11):
        return _fail(f"telefone deve ter DDD + 8 ou 9 dígitos (tem {len(digits)} dígitos)")
    if digits[:2] not in DDDS:
        return _fail("DDD inválido (não existe no Brasil)")
    if len(digits) == 11 and digits[2] != "9":
        return _fail("celular com 9 dígitos deve começar com 9")
    if len(digits) == 10 and digits[2] not in "2345":
        return _fail("telefone fixo deve começar com 2 a 5 (celular: 9 dígitos começando com 9)")
    return _ok(digits)


# ---------------------------------------------------------------------------------------
# money, integer
# ---------------------------------------------------------------------------------------

_MONEY_BR = re.compile(r"([0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,([0-9]{1,2}))?")
_MONEY_PLAIN = re.compile(r"([0-9]+)\.([0-9]{1,2})")
_MAX_DIGITS = 15
_CENTS = Decimal("0.01")


def _parse_money(text: str) -> Decimal | None:
    """Read "R$ 1.500,00", "1500", "1.500", "1500,50" or "1500.50"; None otherwise."""
    text = text[2:].strip() if text[:2].upper() == "R$" else text
    match = _MONEY_BR.fullmatch(text) or _MONEY_PLAIN.fullmatch(text)
    if match is None:
        return None
    units = match[1].replace(".", "")
    if len(units) > _MAX_DIGITS:
        return None
    return Decimal(f"{units}.{match[2] or '0'}")


def format_brl(amount: Decimal) -> str:
    """Format an amount as agents read it: R$ 1.500,00."""
    text = f"{amount.quantize(_CENTS):,.2f}"
    return "R$ " + text.replace(",", "_").replace(".", ",").replace("_", ".")


def _money(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """An amount in reais; value is a plain decimal with 2 places ("1500.00")."""
    amount = _parse_money(raw)
    if amount is None:
        return _fail("valor monetário inválido: use o formato R$ 1.500,00")
    minimum = _opt_number(options, "min")
    if minimum is not None and amount < minimum:
        return _fail(f"o valor deve ser de pelo menos {format_brl(minimum)}")
    return _ok(str(amount.quantize(_CENTS)))


_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def _integer(raw: str, options: Mapping[str, Any], now: datetime | None) -> Check:
    """A whole number within the optional min/max bounds; value without sign noise."""
    if not _INTEGER.fullmatch(raw):
        return _fail("informe um número inteiro (ex.: 3)")
    number = int(raw)
    minimum, maximum = _opt_number(options, "min"), _opt_number(options, "max")
    if minimum is not None and number < minimum:
        return _fail(f"o número deve ser no mínimo {minimum}")
    if maximum is not None and number > maximum:
        return _fail(f"o número deve ser no máximo {maximum}")
    return _ok(str(number))


# ---------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------


def _spec(
    name: str,
    func: ValidatorFunc,
    description: str,
    options: tuple[str, ...] = (),
    required: tuple[str, ...] = (),
) -> ValidatorSpec:
    """Shorthand so the registry below reads as a table."""
    return ValidatorSpec(name, func, frozenset(options), frozenset(required), description)


_SPECS: tuple[ValidatorSpec, ...] = (
    _spec("text", _text, "Non-empty free text with optional length/line/word limits.",
          ("min_length", "max_lines", "min_words")),
    _spec("cpf", _cpf, "Brazilian CPF (11 digits, check digits verified)."),
    _spec("cnpj", _cnpj, "Brazilian CNPJ, numeric or alphanumeric (July 2026 format)."),
    _spec("cpf_cnpj", _cpf_cnpj, "Either a CPF or a CNPJ, chosen by length."),
    _spec("email", _email, "E-mail address syntax (local@domain.tld)."),
    _spec("public_ip", _public_ip, "Globally routable IPv4/IPv6 (no private/CGNAT/reserved)."),
    _spec("enum", _enum, "One of fixed choices, accent/case-insensitive, with aliases; "
          "with `other`, an answer in words naming none of them is that choice.",
          ("choices", "aliases", "other"), ("choices",)),
    _spec("yes_no", _yes_no, "Sim/Não (also S/N)."),
    _spec("date", _date, "Calendar date (dd/mm/aaaa or ISO), optionally not future/recent.",
          ("not_future", "max_age_days")),
    _spec("uf", _uf, "Brazilian state by two-letter code or full name."),
    _spec("order_number", _order_number, "Order id (3-30 letters/digits), or NÃO GERADO.",
          ("allow_not_generated", "digits_only")),
    _spec("phone", _phone, "Brazilian phone with DDD (landline 8 or mobile 9 digits)."),
    _spec("money", _money, "Amount in reais (R$ 1.500,00 or 1500.50), optional minimum.",
          ("min",)),
    _spec("integer", _integer, "Whole number with optional min/max.", ("min", "max")),
    _spec("city", _city, "City name (must contain letters)."),
    _spec("address", _address, "Street address or place (must contain letters)."),
    _spec("bank_number", _bank_number, "Bank agency or account number (0341, 12345-6)."),
)  # fmt: skip

REGISTRY: Mapping[str, ValidatorSpec] = {spec.name: spec for spec in _SPECS}


_OPTION_KINDS: Mapping[str, str] = {
    "min_length": "int",
    "max_lines": "int",
    "min_words": "int",
    "max_age_days": "int",
    "not_future": "bool",
    "allow_not_generated": "bool",
    "digits_only": "bool",
    "min": "number",
    "max": "number",
    "choices": "choices",
    "aliases": "aliases",
    "other": "string",
}


def _option_value_ok(kind: str, value: Any) -> bool:
    """Whether one option value has the type its kind needs."""
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str) and bool(value.strip())
    if kind == "choices":
        return (
            isinstance(value, list)
            and bool(value)
            and all(isinstance(item, str) and item.strip() for item in value)
        )
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def option_errors(options: Mapping[str, Any]) -> list[str]:
    """English problems with option values, so the loader can reject them before runtime."""
    problems = [
        f"option '{name}' must be {_OPTION_KINDS[name]}, got {value!r}"
        for name, value in options.items()
        if name in _OPTION_KINDS and not _option_value_ok(_OPTION_KINDS[name], value)
    ]
    if not problems and "aliases" in options:
        keys = {_key(choice) for choice in _opt_strings(options, "choices")}
        problems += [
            f"alias '{alias}' points to '{target}', which is not one of the choices"
            for alias, target in _opt_aliases(options)
            if _key(target) not in keys
        ]
    other = options.get("other")
    if not problems and isinstance(other, str):
        if _key(other) not in {_key(choice) for choice in _opt_strings(options, "choices")}:
            problems.append(f"option 'other' is '{other}', which is not one of the choices")
    return problems


def known_validators() -> list[str]:
    """Sorted validator names, for error messages and docs."""
    return sorted(REGISTRY)


def validate(
    name: str,
    raw: str,
    options: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Check:
    """Validate one raw value; raises KeyError only for an unknown validator name.

    Pure in its arguments (``now`` counts by its day), so results are kept in a bounded
    memo: answers repeat ("Sim", "Pix", a customer's CNPJ on every pass of a ticket).
    """
    memo_key = (name, raw, id(options), now.date() if now is not None else None)
    hit = _MEMO.get(memo_key)
    if hit is not None and hit[0] is options:
        return hit[1]
    spec = REGISTRY[name]
    text = _clean(raw)
    check = spec.func(text, options or {}, now) if text else _fail("valor vazio")
    if len(_MEMO) >= _MEMO_MAX:
        _MEMO.clear()
    _MEMO[memo_key] = (options, check)
    return check


_MEMO: dict[tuple[Any, ...], tuple[Mapping[str, Any] | None, Check]] = {}
_MEMO_MAX = 16384
