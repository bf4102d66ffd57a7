"""Values agents write without labels: found in the prose of internal comments. Pure.

Theory of operation: agents write "Pedido 5570012 segue atrasado, pago com Pix" as often
as "Número do pedido: 5570012". A field whose value can be recognised on its own is looked
for in the comment lines that are not labelled values (``unlabelled_lines``):

* by shape, checked by the field's validator: CPF and CNPJ (formatted or bare,
  alphanumeric CNPJ too; a number whose check digits fail is never taken as one), e-mail,
  public IP, phone (formatted, or bare next to a phone word), money (``R$``), dates;
* next to a word that names it: order numbers ("pedido 5561187", "pedido GAR 48213377",
  "pedido checkout não gerado"); the words are the field's ``cues``, or the words of its
  label and synonyms;
* by its words: enumeration choices and aliases ("boleto antecipado", "via Trademaster"),
  and the field's ``phrases`` ("o erro persiste" -> Sim);
* a free-text field marked ``prose: description`` is the prose itself (its validator
  checks ``min_words``).

A shape that several fields of the request type share (two e-mail fields) counts for a
field only next to one of its cues. Two different values for one field are never guessed
between: the finding carries both and the decision reports them. Only fields still absent
after labelled lines and helpdesk fields are looked for, so a complete labelled comment
costs nothing here.

Why this module is long: one finder, ``_field_values``, decides per field among every way
a value is written in prose (shape patterns, cue windows, order-number spans, choice
tables, the negation / offer / question guards), and the patterns and memo tables here
exist only for it. The guards cut across shapes (another field's longer cue claims its
span; a shape two fields share counts only next to a cue), so a split by shape would
scatter one decision and its shared state over modules. It is hot code, measured by the
corpus and decision benches.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import pairwise
from typing import Any

from .comment_parser import (
    LabelIndex,
    labelled_values_of,
    normalize_label,
    unlabelled_lines_of,
)
from .mapping_schema import FieldSpec
from .model import Comment
from .textnorm import WORD_ABBREVIATIONS
from .validators import NOT_GENERATED, validate

SHAPES = frozenset(
    {"cpf", "cnpj", "cpf_cnpj", "email", "public_ip", "phone", "money", "date", "address",
     "bank_number"}
)  # fmt: skip
"""Validators whose values are recognised by shape alone."""

_CUE_WINDOW = 48
"""How many characters before a value a cue may stand ("CPF do titular é 529...")."""

_STOP = frozenset(
    "a o as os e de da do das dos em no na nos nas para por com ao aos um uma que se "
    "n no nº numero num informe indique forneca especifique qual".split()
)
_GENERIC = {
    "email": frozenset({"email", "e-mail", "mail"}),
    "cpf": frozenset({"cpf"}),
    "cnpj": frozenset({"cnpj"}),
    "cpf_cnpj": frozenset({"cpf", "cnpj"}),
    "phone": frozenset(),
    "public_ip": frozenset({"ip"}),
}

_CPF = re.compile(
    r"(?<![\w./-])(?:\d{3}\.?\d{3}\.?\d{3}\s?-?\s?\d{2}|\d{3} \d{3} \d{3} \d{2})(?![\w/-])"
)
# Digits in groups with spaces, as read out over the phone: "36 671 276 0001 49".
_CNPJ_SPACED = re.compile(r"(?<![\w./-])\d{2} \d{3} \d{3} \d{4} \d{2}(?![\w/-])")
# Letters only in upper case (alphanumeric CNPJ); a space only beside "/" or "-", so words
# of prose ("cadastro CNPJ 36...") never make one candidate and hide the real one.
_CNPJ = re.compile(
    r"(?<![\w./-])[0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}(?:\s?/\s?|/?)[0-9A-Z]{4}(?:\s?-\s?|-?)\d{2}"
    r"(?![\w/-])"
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+(?<!\.)", re.UNICODE)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F:]{1,4}(?![\w:])")
_PHONE = re.compile(
    r"(?<![\w/.-])(?:\+?55[\s.-]?)?(?:\(\s?0?\d{2}\s?\)|0?\d{2})[\s.-]?9?\s?\d{4}[\s.-]?\d{4}(?![\w/-])"
)
_NEGATED = re.compile(r"(?:\bnao|\bsem|\bnem)(?:\s+\w+)?\s+$")
# "quer saber se o distribuidor aprovou": a question about the value, not the value.
# "ofereci voucher, cliente preferiu reembolso": what the agent offered is no answer.
_OFFERED = re.compile(
    r"\b(?:ofereci|oferecemos|ofereceu|ofertei|ofertamos|sugeri|sugerimos|propus|propusemos"
    r"|oferecid[oa]s?|ofertad[oa]s?|sugerid[oa]s?)\s+(?:(?:o|a|um|uma|de|do|da)\s+)?$"
)
_ASKED = re.compile(r"\b(?:saber|pergunt\w*|verificar|confirmar|checar|duvida)\s+se\b[^.;!?\n]*$")
"""A choice right after "não quer", "sem", "nem" is what the customer does not want."""
_PHONE_WORDS = re.compile(r"\b(?:tel|telefone|fone|cel|celular|whats|whatsapp|zap|contato)\b")
_MONEY = re.compile(r"R\$\s?\d{1,3}(?:\.?\d{3})*(?:,\d{1,2})?(?!\d)", re.IGNORECASE)
# "Rua Direita, 120 - Sé, São Paulo/SP", "av. Paulista 1000": a street word, a capitalised
# name, the number, then capitalised parts (district, City/UF) after a dash or comma.
_ADDRESS = re.compile(
    r"(?<![\w.])(?:[Rr]ua|R\.|[Aa]venida|[Aa]v\.?|[Aa]lameda|[Tt]ravessa|[Rr]odovia|[Ee]strada"
    r"|[Pp]ra[çc]a|[Ll]argo)\s+(?=[A-ZÀ-Ý0-9])[^\n,;()]{2,60}?,?\s*(?:n[º°o]\.?\s*)?\d+[A-Za-z]?\b"
    r"(?:\s*[-–,]\s*[A-ZÀ-Ý][^\n,;()–]{0,40}?(?:/[A-Z]{2})?(?=\s*[-–,;()\n]|\.\s|\.?$))*"
)
# An agency or account number: digits, dots, an optional check digit after a dash.
_BANK_NUMBER = re.compile(r"(?<![\w/.,-])\d[\d.]{1,14}(?:-[\dxX])?(?![\w/]|[.,]\d)")
_DATE = re.compile(r"(?<![\d/,.])\d{1,2}/\d{1,2}(?:/\d{4})?(?![\d/])")
_ORDER_ID = r"#?\s?(?=[a-z0-9./-]*\d)[a-z0-9](?:[a-z0-9./-]*[a-z0-9])?"
_ORDER_GLUE = r"(?:\s*(?:n[o°º]|num(?:ero)?|nr|#)\.?)?\s*(?:[:=-]\s*)?(?:e\s+|é\s+)?"
_ORDER_NEXT = re.compile(r"\s*(?:,|/|&|\be\b)\s*#?\s?(\d(?:[a-z0-9./-]*[a-z0-9])?)(?![\w/])")
_NOT_GENERATED = r"(?:ainda\s+)?(?:nao|n)\s+(?:foi\s+)?gerad[oa]"
_ORDER_TAIL = rf"{_ORDER_GLUE}({_ORDER_ID})"
_NOT_GENERATED_TAIL = rf"[^.\n;]{{0,20}}?{_NOT_GENERATED}"
_CLAUSE = r"\s*(?:[:=-]\s*|(?:e|é|esta|está|foi|ficou|como)\s+)?([^\n,.;:()]{2,60})"
_CLAUSE_WORDS = 4
_NAME_LEAD = r"\s*(?:[:=(-]\s*|(?:é|e|foi|de|do|da|em)\s+)?"


_SPEC_MEMO: dict[tuple[str, int], tuple[FieldSpec, Any]] = {}


def _per_spec(name: str, spec: FieldSpec, make: Callable[[], Any]) -> Any:
    """Memoize a value derived from one (unhashable) field spec, keyed by its identity."""
    slot = (name, id(spec))
    hit = _SPEC_MEMO.get(slot)
    if hit is not None and hit[0] is spec:
        return hit[1]
    value = make()
    if len(_SPEC_MEMO) > 8192:
        _SPEC_MEMO.clear()
    _SPEC_MEMO[slot] = (spec, value)
    return value


def searchable(spec: FieldSpec) -> bool:
    """Whether prose can ever yield this field (so the comments are worth reading for it)."""
    if spec.prose == "off":
        return False
    if spec.prose == "description" or spec.phrases:
        return True
    if spec.validator in SHAPES or spec.validator in ("order_number", "enum", "city", "uf"):
        return True
    return bool(spec.cues) and spec.validator == "text"


@dataclass(frozen=True, slots=True)
class ProseValue:
    """A field's value found in a comment's prose; ``others`` are rival candidates."""

    key: str
    value: str
    comment_id: str
    others: tuple[str, ...] = ()
    stated: bool = False
    """Written right after the field's name although it fails the field's check."""

    @property
    def ambiguous(self) -> bool:
        """Two or more different values were seen: the field is not guessed."""
        return bool(self.others)


def _fold_char(ch: str) -> str:
    base = unicodedata.normalize("NFKD", ch)
    stripped = "".join(c for c in base if not unicodedata.combining(c))
    folded = stripped.lower() if len(stripped) == 1 else ch.lower()
    return folded if len(folded) == 1 else ch


_FOLD_TABLE = {code: _fold_char(chr(code)) for code in range(0x80, 0x250)}
"""Latin-1 and Latin Extended letters -> their folded form, one character each."""


@lru_cache(maxsize=4096)
def fold_same_length(text: str) -> str:
    """Lower-case, accent-free text of exactly the same length (spans map back 1:1)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a letter whose lower case is two characters
        return "".join(_fold_char(ch) for ch in text)
    if lowered.isascii():
        return lowered
    folded = lowered.translate(_FOLD_TABLE)
    if folded.isascii():
        return folded
    return "".join(_fold_char(ch) if ord(ch) >= 0x80 else ch for ch in folded)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w-]+", normalize_label(text)) if w and w not in _STOP]


def _cue_words(key: str, spec: FieldSpec) -> tuple[str, ...]:
    """The words that name a field in prose: its cues, else its label's significant words."""
    return _per_spec("cues", spec, lambda: _make_cue_words(spec))  # type: ignore[no-any-return]


def _make_cue_words(spec: FieldSpec) -> tuple[str, ...]:
    if spec.cues:
        return tuple(fold_same_length(c).strip() for c in spec.cues if c.strip())
    generic = _GENERIC.get(spec.validator, frozenset())
    words: list[str] = []
    for text in (spec.label, *spec.synonyms):
        for word in _words(text):
            if word not in generic and len(word) >= 3 and word not in words:
                words.append(word)
    return tuple(words)


def _order_cues(spec: FieldSpec) -> tuple[str, ...]:
    """Cue phrases for an order number: "pedido gar", "pedido", longest first."""
    return _per_spec("order", spec, lambda: _make_order_cues(spec))  # type: ignore[no-any-return]


def _make_order_cues(spec: FieldSpec) -> tuple[str, ...]:
    phrases = spec.cues or [spec.label, *spec.synonyms]
    out: set[str] = set()
    for text in phrases:
        words = [w for w in normalize_label(text).split() if w not in {"no", "numero", "n", "do"}]
        if words:
            out.add(" ".join(words))
    return tuple(sorted(out, key=len, reverse=True))


def _choice_table(spec: FieldSpec) -> tuple[tuple[re.Pattern[str], str], ...]:
    """(word pattern, canonical value) for an enum's choices/aliases and the phrases."""
    return _per_spec("choices", spec, lambda: _make_choice_table(spec))  # type: ignore[no-any-return]


def _make_choice_table(spec: FieldSpec) -> tuple[tuple[re.Pattern[str], str], ...]:
    pairs: dict[str, str] = {}
    options = spec.options
    if spec.validator == "enum":
        choices = [str(c) for c in options.get("choices") or []]
        for choice in choices:
            pairs.setdefault(fold_same_length(choice).strip(), choice)
        for alias, target in (options.get("aliases") or {}).items():
            canonical = next(
                (c for c in choices if fold_same_length(c) == fold_same_length(str(target))),
                None,
            )
            if canonical is not None:
                pairs.setdefault(fold_same_length(str(alias)).strip(), canonical)
    table = []
    for text, canonical in pairs.items():
        # Short words ("TM", "S", "não") name nothing on their own in a sentence.
        if len(text.replace(" ", "")) < 3:
            continue
        table.append((_words_pattern(text), canonical))
    for canonical, phrases in spec.phrases.items():
        for phrase in phrases:
            if phrase.startswith("re:"):
                table.append((re.compile(phrase[3:]), canonical))
            else:
                table.append((_words_pattern(fold_same_length(phrase).strip()), canonical))
    return tuple(table)


def _any_choice(spec: FieldSpec) -> re.Pattern[str]:
    """One alternation of every choice pattern: most comments name none, tested once."""

    def make() -> re.Pattern[str]:
        table = _choice_table(spec)
        if not table:
            return re.compile(r"(?!x)x")
        return re.compile("|".join(f"(?:{pattern.pattern})" for pattern, _ in table))

    return _per_spec("any_choice", spec, make)  # type: ignore[no-any-return]


def _words_pattern(text: str) -> re.Pattern[str]:
    """A choice or phrase as words, whatever punctuation stands between them in the text
    ("boleto faturado - Trade Master" is also "boleto faturado Trade Master")."""
    words = [w for w in text.split() if any(ch.isalnum() for ch in w)]
    if not words:
        return _cue_regex(text)
    return _joined_words(tuple(words))


@lru_cache(maxsize=2048)
def _joined_words(words: tuple[str, ...]) -> re.Pattern[str]:
    joined = r"[\s\-–—:,/]+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![\w-]){joined}(?![\w-])")


@lru_cache(maxsize=2048)
def _cue_regex(cue: str, tail: str = "", plural: bool = False) -> re.Pattern[str]:
    """Whole words of ``cue`` (any spacing) followed by ``tail``; compiled once per pair."""
    words = r"\s+".join(_word_or_short(part) for part in cue.split())
    if plural and cue[-1:].isalpha():
        words += "s?"
    return re.compile(rf"(?<![\w-]){words}(?![\w-]){tail}")


def _word_or_short(word: str) -> str:
    """A cue word or the shorthand agents write for it ("pedido" or "ped", "ped.")."""
    shorts = _SHORTS.get(word)
    if not shorts:
        return re.escape(word)
    return "(?:" + "|".join([re.escape(word), *(re.escape(x) + r"\.?" for x in shorts)]) + ")"


_SHORTS: dict[str, list[str]] = {}
for _short, _full in WORD_ABBREVIATIONS.items():
    _SHORTS.setdefault(_full, []).append(_short)


def _near_cue(
    folded: str, start: int, cues: Sequence[str], rivals: Sequence[Sequence[str]] = ()
) -> bool:
    """A cue stands shortly before ``start`` with no other number between them ("Ag 0912,
    CC 33145-0": CC names the second number, Ag only the first), and no cue of a field
    sharing the shape stands nearer ("reembolso em conta. Banco Itaú Ag 0412": Ag's)."""
    window = folded[max(0, start - _CUE_WINDOW) : start]
    mine = _last_cue(window, cues)
    if mine < 0:
        return False
    return all(_last_cue(window, other) <= mine for other in rivals)


def _last_cue(window: str, cues: Sequence[str]) -> int:
    """End of the last cue in ``window`` with no number after it; -1 when none."""
    best = -1
    for cue in cues:
        for match in _cue_regex(cue).finditer(window):
            if match.end() > best and not _DIGIT.search(window, match.end()):
                best = match.end()
    return best


_DIGIT = re.compile(r"\d")


class _Text:
    """One comment's prose, original and folded (same length), scanned lazily."""

    __slots__ = ("comment_id", "folded", "text")

    def __init__(self, comment_id: str, prose: tuple[str, str]) -> None:
        self.comment_id = comment_id
        self.text, self.folded = prose


@lru_cache(maxsize=2048)
def _prose_of(body: str, index: LabelIndex) -> tuple[str, str] | None:
    """(text, folded text) of a comment's prose, or None when it has none (per body)."""
    lines = unlabelled_lines_of(body, index)
    if not lines:
        return None
    text = "\n".join(lines)
    return text, fold_same_length(text)


def _type_shapes(
    fields: Mapping[str, FieldSpec], all_keys: tuple[str, ...]
) -> tuple[dict[str, int], tuple[FieldSpec, ...], dict[str, tuple[tuple[str, FieldSpec], ...]]]:
    """Per request type: how many fields share each validator, its order fields, and the
    fields found by each shape (whose cues compete for a value)."""
    memo_key = (id(fields), all_keys)
    hit = _SHAPES_MEMO.get(memo_key)
    if hit is not None and hit[0] is fields:
        return hit[1]
    by_validator: dict[str, int] = {}
    for key in all_keys:
        spec = fields[key]
        if spec.prose == "auto":
            by_validator[spec.validator] = by_validator.get(spec.validator, 0) + 1
    order_specs = tuple(
        fields[k]
        for k in all_keys
        if fields[k].validator == "order_number" and fields[k].prose != "off"
    )
    by_shape: dict[str, list[tuple[str, FieldSpec]]] = {}
    for key in all_keys:
        spec = fields[key]
        if spec.prose == "auto" and spec.validator in SHAPES:
            by_shape.setdefault(spec.validator, []).append((key, spec))
    shapes = {v: tuple(items) for v, items in by_shape.items() if len(items) > 1}
    if len(_SHAPES_MEMO) > 4096:
        _SHAPES_MEMO.clear()
    _SHAPES_MEMO[memo_key] = (fields, (by_validator, order_specs, shapes))
    return by_validator, order_specs, shapes


_SHAPES_MEMO: dict[tuple[int, tuple[str, ...]], tuple[Any, Any]] = {}
_VALUES_MEMO: dict[tuple[Any, ...], tuple[FieldSpec, list[str]]] = {}
_VALUES_MEMO_MAX = 8192
"""A comment's prose is read again each time its ticket changes: what one field's finder
saw in one text is kept (bounded), keyed by the spec, the text and the day."""


def _shape_matches(validator: str, item: _Text) -> Iterable[tuple[int, str]]:
    text = item.text
    if validator in ("cpf", "cpf_cnpj"):
        yield from ((m.start(), m.group()) for m in _CPF.finditer(text))
    if validator in ("cnpj", "cpf_cnpj"):
        yield from ((m.start(), m.group()) for m in _CNPJ.finditer(text) if _cnpj_shaped(m.group()))
        yield from ((m.start(), m.group()) for m in _CNPJ_SPACED.finditer(text))
    if validator == "email" and "@" in text:
        yield from ((m.start(), m.group()) for m in _EMAIL.finditer(text))
    if validator == "public_ip":
        yield from ((m.start(), m.group()) for m in _IPV4.finditer(text))
        if ":" in text:
            yield from ((m.start(), m.group()) for m in _IPV6.finditer(text))
    if validator == "phone":
        for m in _PHONE.finditer(text):
            raw = m.group()
            formatted = any(ch in raw for ch in "()- .+")
            if formatted or _PHONE_WORDS.search(item.folded[max(0, m.start() - 30) : m.start()]):
                yield m.start(), raw
    if validator == "money" and "$" in text:
        yield from ((m.start(), m.group()) for m in _MONEY.finditer(text))
    if validator == "bank_number":
        yield from ((m.start(), m.group()) for m in _BANK_NUMBER.finditer(text))
    if validator == "address":
        yield from ((m.start(), m.group()) for m in _ADDRESS.finditer(text))
    if validator == "date" and "/" in text:
        yield from ((m.start(), m.group()) for m in _DATE.finditer(text))


_CITY_UF = re.compile(
    r"(?<![\w/-])((?:[A-ZÀ-Ý][\wÀ-ÿ'’]+(?:-[A-ZÀ-Ý][\wÀ-ÿ'’]+)*)"
    r"(?:\s+(?:d[aeo]s?\s+)?[A-ZÀ-Ý][\wÀ-ÿ'’]+(?:-[A-ZÀ-Ý][\wÀ-ÿ'’]+)*){0,3})"
    r"\s*(?:/|\s[-–]\s|\s?-\s?|,\s)\s*([A-Z]{2})(?![\w/])"
)
_NAME_TOKEN = re.compile(r"(?:[A-ZÀ-Ý0-9][\wÀ-ÿ'’&./-]*|d[aeo]s?|e|&)(?=[\s,.;:)!?]|$)")


_NOT_CITY = frozenset(
    "cliente clientes cidade estado mora reside posto local em de na no da do ar "
    "municipio município".split()
)


def _city_name(text: str) -> str:
    """ "Cliente de Barreiras" -> "Barreiras": leading words that are not the city go."""
    words = text.split()
    while len(words) > 1 and words[0].casefold() in _NOT_CITY:
        words.pop(0)
    return " ".join(words)


def _canonical_uf(code: str) -> str | None:
    check = validate("uf", code)
    return check.value if check.ok else None


def _proper_name(text: str, start: int) -> str:
    """The run of capitalised words (a name: "Martins Atacado", "AR Centro SP") at ``start``."""
    words: list[str] = []
    position = start
    while len(words) < 8:
        while position < len(text) and text[position] in " \t":
            position += 1
        match = _NAME_TOKEN.match(text, position)
        if match is None:
            break
        words.append(match.group())
        position = match.end()
    while words and words[-1] in {"da", "de", "do", "das", "dos", "e", "&"}:
        words.pop()
    return " ".join(words).rstrip(".,")


def _cnpj_shaped(raw: str) -> bool:
    """A CNPJ candidate has digits in it and letters only in upper case (alphanumeric CNPJ)."""
    compact = re.sub(r"[\s./-]", "", raw)
    return sum(ch.isdigit() for ch in compact) >= 2 and compact.upper() == compact


def _order_matches(spec: FieldSpec, item: _Text, taken: list[tuple[int, int]]) -> list[str]:
    """Order numbers next to a cue; spans taken by a longer cue of another field are skipped."""
    found: list[str] = []
    allow_ng = bool(spec.options.get("allow_not_generated"))
    for cue in _order_cues(spec):
        for match in _cue_regex(cue, _ORDER_TAIL, plural=True).finditer(item.folded):
            if any(a <= match.start() < b for a, b in taken):
                continue
            start, end = match.span(1)
            found.append(item.text[start:end].lstrip("#").strip())
            # "os pedidos 100500121 e 100500188": every number of the list is a candidate.
            while more := _ORDER_NEXT.match(item.folded, end):
                start, end = more.span(1)
                found.append(item.text[start:end])
        if allow_ng:
            if _cue_regex(cue, _NOT_GENERATED_TAIL).search(item.folded):
                found.append(NOT_GENERATED)
    return found


def order_spans(specs: Iterable[FieldSpec], item_text: str) -> list[tuple[int, int, str]]:
    """(start, end, cue) of every order cue in folded text; used to keep cues apart."""
    folded = fold_same_length(item_text)
    spans = []
    for spec in specs:
        for cue in _order_cues(spec):
            for m in _cue_regex(cue).finditer(folded):
                spans.append((m.start(), m.end(), cue))
    return spans


def find_in_prose(
    fields: Mapping[str, FieldSpec],
    keys: Sequence[str],
    all_keys: Iterable[str],
    comments: Sequence[Comment],
    index: LabelIndex,
    now: datetime,
) -> dict[str, ProseValue]:
    """Values of ``keys`` found in the prose of ``comments`` (oldest first).

    ``all_keys`` are every field of the request type: a shape two of them share counts
    only next to a field's cue. The newest comment that yields a value decides it; rival
    values in that comment make the finding ambiguous.
    """
    texts = [_Text(str(c.id), prose) for c in comments if (prose := _prose_of(c.body or "", index))]
    if not texts:
        return {}
    by_validator, order_specs, shapes = _type_shapes(fields, tuple(all_keys))
    order_ids = tuple(map(id, order_specs))
    day = now.date()
    found: dict[str, ProseValue] = {}
    for key in keys:
        spec = fields[key]
        if spec.prose == "off":
            continue
        if spec.prose == "description":
            value, where = _account(key, spec, fields, all_keys, comments, index)
            if value:
                found[key] = ProseValue(key, value, where)
            continue
        shared = by_validator.get(spec.validator, 0) > 1
        for item in reversed(texts):
            memo_key = (id(spec), item.text, shared, order_ids, day)
            hit = _VALUES_MEMO.get(memo_key)
            if hit is not None and hit[0] is spec:
                values = hit[1]
            else:
                rivals = tuple(
                    _cue_words(k, other)
                    for k, other in shapes.get(spec.validator, ())
                    if k != key
                )
                values = _field_values(
                    key, spec, item, by_validator, order_specs, now, rivals
                )
                if len(_VALUES_MEMO) >= _VALUES_MEMO_MAX:
                    _VALUES_MEMO.clear()
                _VALUES_MEMO[memo_key] = (spec, values)
            if values:
                distinct = list(dict.fromkeys(values))
                found[key] = ProseValue(key, distinct[0], item.comment_id, tuple(distinct[1:]))
                break
        else:
            if spec.validator in _STATED_SHAPES:
                for item in reversed(texts):
                    if (raw := _stated_invalid(key, spec, item, now)) is not None:
                        found[key] = ProseValue(key, raw, item.comment_id, stated=True)
                        break
    return found


_STATED_SHAPES = frozenset({"cpf", "cnpj", "cpf_cnpj", "email", "public_ip", "phone"})
_STATED_LEAD = r"\s*(?:[:=-]|e|é|do cliente|do titular)?\s*$"


def _stated_invalid(key: str, spec: FieldSpec, item: _Text, now: datetime) -> str | None:
    """A value of the field's shape that fails its check right after the field's own name
    ("CPF 925.524.761-13" with a wrong digit): the agent stated it, so it is reported as
    invalid rather than ignored. Elsewhere a failing number is never taken as the field."""
    names = _own_names(key, spec)
    if not any(name in item.folded for name in names):
        return None
    for start, raw in _shape_matches(spec.validator, item):
        if _canonical(spec, raw, now) is not None:
            continue
        window = item.folded[max(0, start - 24) : start]
        if any(_cue_regex(cue, _STATED_LEAD).search(window) for cue in names):
            return raw.strip()
    return None


def _own_names(key: str, spec: FieldSpec) -> tuple[str, ...]:
    return _per_spec("own_names", spec, lambda: _make_own_names(spec))  # type: ignore[no-any-return]


def _make_own_names(spec: FieldSpec) -> tuple[str, ...]:
    names = {fold_same_length(n).strip() for n in (spec.label, *spec.synonyms, *spec.cues)}
    return tuple(sorted((n for n in names if n), key=len, reverse=True))


_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n")


def _account(
    key: str,
    spec: FieldSpec,
    fields: Mapping[str, FieldSpec],
    all_keys: Iterable[str],
    comments: Sequence[Comment],
    index: LabelIndex,
) -> tuple[str, str]:
    """(text, comment id) of a free-text field read from the agent's account.

    The account is the comments' prose plus what they wrote under another free-text
    label ("Relato: ... já fizemos a troca do sensor"), minus sentences that only state
    another field ("Cliente solicitou ouvidoria."). With ``cues``, only the sentences
    that hold one of them (word stems: "fizemos", "book") are the field's.
    """
    others = frozenset(k for k in all_keys if k != key and fields[k].prose == "description")
    stated = tuple(fields[k] for k in all_keys if k != key and fields[k].phrases)
    stems = _stems(spec)
    parts: list[str] = []
    where = ""
    for comment in comments:
        body = comment.body or ""
        memo_key = (body, id(index), others, tuple(map(id, stated)), id(spec))
        kept = _ACCOUNT_MEMO.get(memo_key)
        if kept is None:
            lines = list(unlabelled_lines_of(body, index))
            if others:
                lines += [v for k, v, _, _ in labelled_values_of(body, index) if k in others]
            kept = _description("\n".join(lines), stated, stems)
            if len(_ACCOUNT_MEMO) >= _VALUES_MEMO_MAX:
                _ACCOUNT_MEMO.clear()
            _ACCOUNT_MEMO[memo_key] = kept
        if kept:
            parts.append(kept)
            where = str(comment.id)
    return "\n".join(parts), where


_ACCOUNT_MEMO: dict[tuple[Any, ...], str] = {}


def _stems(spec: FieldSpec) -> re.Pattern[str] | None:
    return _per_spec("stems", spec, lambda: _make_stems(spec))


def _make_stems(spec: FieldSpec) -> re.Pattern[str] | None:
    if not spec.cues:
        return None
    alternatives = "|".join(re.escape(fold_same_length(c)) for c in spec.cues)
    return re.compile(rf"(?<![\w-])(?:{alternatives})")


def _description(
    text: str, stated: Sequence[FieldSpec], stems: re.Pattern[str] | None = None
) -> str:
    """The prose of a comment without the sentences that only state another field (and,
    with ``stems``, only the sentences holding one)."""
    if not stated and stems is None:
        return text
    kept = []
    for sentence in _SENTENCE.split(text):
        folded = fold_same_length(sentence)
        if stated and _only_states(folded, stated):
            continue
        if stems is not None and not stems.search(folded):
            continue
        kept.append(sentence)
    return " ".join(s for s in kept if s.strip())


def _only_states(folded: str, stated: Sequence[FieldSpec]) -> bool:
    """Whether a sentence says little beyond another field's phrase: "Cliente solicitou
    ouvidoria." does; "... pedindo ouvidoria por causa da demora na troca da impressora"
    also tells what happened."""
    rest = folded
    hit = False
    for spec in stated:
        for pattern, _ in _choice_table(spec):
            if pattern.search(rest):
                hit = True
                rest = pattern.sub(" ", rest)
    return hit and len(_ACCOUNT_WORD.findall(rest)) < _ACCOUNT_MIN_WORDS


_ACCOUNT_WORD = re.compile(r"[^\W\d_]{3,}")
_ACCOUNT_MIN_WORDS = 6
"""Words of three letters or more a sentence keeps, beyond another field's phrase, to
count as an account of the case."""


def _without_alternatives(folded: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Choices joined by "ou" ("oferecer voucher ou reembolso") are options put to the
    customer, not the answer: both are dropped."""
    ordered = sorted(spans)
    offered: set[tuple[int, int]] = set()
    for left, right in pairwise(ordered):
        if _OR.fullmatch(folded, left[1], right[0]):
            offered.update((left, right))
    return [span for span in spans if span not in offered]


_OR = re.compile(r"\s*(?:,\s*)?(?:ou|e/ou|/)\s*")


def _canonical(spec: FieldSpec, raw: str, now: datetime) -> str | None:
    check = validate(spec.validator, raw, spec.options, now)
    return (check.value or raw) if check.ok else None


def _field_values(
    key: str,
    spec: FieldSpec,
    item: _Text,
    by_validator: Mapping[str, int],
    order_specs: Sequence[FieldSpec],
    now: datetime,
    rivals: Sequence[Sequence[str]] = (),
) -> list[str]:
    """Distinct raw values of one field in one comment's prose, in written order."""
    validator = spec.validator
    out: dict[str, str] = {}
    if validator in SHAPES:
        shared = by_validator.get(validator, 0) > 1 or validator == "bank_number"
        cues = _cue_words(key, spec) if (shared or spec.cues) else ()
        for start, raw in _shape_matches(validator, item):
            if cues and not _near_cue(item.folded, start, cues, rivals):
                continue
            canonical = _canonical(spec, raw, now)
            if canonical is not None:
                out.setdefault(canonical, raw.strip())
    elif validator == "order_number":
        taken: list[tuple[int, int]] = []
        mine = set(_order_cues(spec))
        longest_other = [
            (a, b) for a, b, cue in order_spans(order_specs, item.text) if cue not in mine
        ]
        # A longer cue of another field ("pedido checkout") owns its span over "pedido".
        for a, b in longest_other:
            for ma, mb, _cue in order_spans([spec], item.text):
                if ma >= a and mb <= b and (mb - ma) < (b - a):
                    taken.append((ma, mb))
        for raw in _order_matches(spec, item, taken):
            canonical = _canonical(spec, raw, now)
            if canonical is not None:
                out.setdefault(canonical, raw)
    if (validator in ("enum", "yes_no") or spec.phrases) and _any_choice(spec).search(item.folded):
        # The longest statement wins where two overlap ("não persiste" over "persiste").
        hits = [
            (match.start(), match.end(), canonical)
            for pattern, canonical in _choice_table(spec)
            for match in pattern.finditer(item.folded)
            if not _NEGATED.search(item.folded[max(0, match.start() - 16) : match.start()])
            and not _ASKED.search(item.folded[max(0, match.start() - 60) : match.start()])
            and not _OFFERED.search(item.folded[max(0, match.start() - 24) : match.start()])
        ]
        hits.sort(key=lambda hit: (hit[0] - hit[1], hit[0]))
        spans: list[tuple[int, int]] = []
        for start, end, _canonical_value in hits:
            if any(a < end and start < b for a, b in spans):
                continue
            spans.append((start, end))
        spans = _without_alternatives(item.folded, spans)
        for _start, _end, canonical in sorted(
            (h for h in hits if (h[0], h[1]) in spans), key=lambda hit: hit[0]
        ):
            out.setdefault(canonical, canonical)
    elif validator in ("city", "uf"):
        for match in _CITY_UF.finditer(item.text):
            if _canonical_uf(match.group(2)) is None:
                continue
            raw = (_city_name(match.group(1)) if validator == "city" else match.group(2)).strip()
            canonical = _canonical(spec, raw, now)
            if canonical is not None:
                out.setdefault(canonical, raw)
    if not out and spec.prose == "clause":
        for cue in sorted(_cue_words(key, spec), key=len, reverse=True):
            for match in _cue_regex(cue, _CLAUSE).finditer(item.folded):
                start, end = match.span(1)
                raw = " ".join(item.text[start:end].split()[:_CLAUSE_WORDS])
                canonical = _canonical(spec, raw, now) if raw else None
                if canonical is not None:
                    out.setdefault(canonical, raw)
            if out:
                break
    if not out and spec.cues and validator in ("text", "city", "uf"):
        claimed: list[tuple[int, int]] = []
        for cue in sorted(_cue_words(key, spec), key=len, reverse=True):
            for match in _cue_regex(cue, _NAME_LEAD).finditer(item.folded):
                if any(a <= match.start() < b for a, b in claimed):
                    continue  # inside a longer cue or a name already taken ("posto AR ...")
                raw = _proper_name(item.text, match.end())
                if raw:
                    claimed.append((match.start(), match.end() + len(raw) + 1))
                canonical = _canonical(spec, raw, now) if raw else None
                if canonical is not None:
                    out.setdefault(canonical, raw)
    return list(out.values())


def prepare(key: str, spec: FieldSpec) -> None:
    """Compile what reading ``spec``'s values in prose needs, once, when its mapping loads,
    so no decision pays for a first regex compile."""
    if not searchable(spec):
        return
    if spec.validator in ("enum", "yes_no") or spec.phrases:
        _any_choice(spec)
    if spec.prose == "description":
        _stems(spec)
    cues = _cue_words(key, spec) if spec.cues else ()
    for cue in cues:
        _cue_regex(cue)
        _cue_regex(cue, _NAME_LEAD)
        if spec.prose == "clause":
            _cue_regex(cue, _CLAUSE)
    if spec.validator == "order_number":
        for cue in _order_cues(spec):
            _cue_regex(cue)
            _cue_regex(cue, _ORDER_TAIL, plural=True)
            _cue_regex(cue, _NOT_GENERATED_TAIL)


def values_in_text(key: str, spec: FieldSpec, text: str, now: datetime) -> list[str]:
    """Distinct valid values of one field written in ``text`` (a labelled value with a
    remark around it: "ana@x.com.br (confirmado)", "dentro da política")."""
    item = _Text("", (text, fold_same_length(text)))
    order_specs = [spec] if spec.validator == "order_number" else []
    return _field_values(key, spec, item, {}, order_specs, now)


__all__ = [
    "SHAPES",
    "ProseValue",
    "find_in_prose",
    "fold_same_length",
    "prepare",
    "searchable",
    "values_in_text",
]
