"""Internal comments -> labelled field values and "(X)" checklists. Pure: no I/O.

Agents fill the SOP's labels by hand ("• CPF do Cliente: 529.982.247-25"), often keeping
the template's bullets, prompt words ("Informe: O Nº do Pedido GAR (ou "NÃO GERADO")") and
the helpdesk's HTML. Labels are matched exactly after a normalization applied to both
sides, never fuzzily, so what the parser accepts stays predictable for agents and
reviewers. The parser never raises: bad text yields no values, which validators report.

Speed matters (the daemon parses thousands of tickets a second on one core): regexes are
compiled once, most lines are rejected by substring checks before any regex runs, and a
``LabelIndex`` built once per field set memoizes the label text it has already seen.

Why this module is long: its three parts are one reading of a comment body: HTML to lines
(``comment_lines``), labelled values, and "(X)" checklists; the later parts number and
order lines exactly as the first one splits them (line numbers end up in notes and
explanations). ``decide`` and the tests import all three from here, so a separate
checklist module would import ``comment_lines`` from this one while this one re-exports
its names: two modules importing each other. The compiled patterns, substring prefilters
and per-body memo are tuned together for speed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from .model import Comment
from .textnorm import WORD_ABBREVIATIONS, fold

__all__ = [
    "Checklist",
    "ChecklistOption",
    "ChecklistQuestion",
    "FieldValue",
    "LabelIndex",
    "comment_lines",
    "extract_checklists",
    "extract_fields",
    "html_to_text",
    "normalize_label",
    "unlabelled_lines",
]

# --------------------------------------------------------------------------- HTML -> text

# Attribute text inside a tag; quoted values may contain ">" (style="a>b"). No part may
# cross a "<", which bounds every failed attempt and keeps stripping linear on junk input.
_ATTRS = r"""(?:[^<>"']|"[^"<]*"|'[^'<]*')*"""
# A tag name must be followed by whitespace, "/" or ">", so "<joao@x.com>" is not a tag.
_NAME_END = r"(?=[\s/>])"
_BLOCKS = (
    "p|div|tr|h[1-6]|ul|ol|dl|dt|dd|table|tbody|thead|tfoot|blockquote|pre|hr|section"
    "|article|header|footer|main|nav|aside|figure|form|fieldset|center|address"
)
# What follows the "<" of a block boundary tag (closing </li> too; opening <li> is a bullet).
_BLOCK_HEAD = rf"(?:/(?:{_BLOCKS}|li)\s*|(?:{_BLOCKS}){_NAME_END}{_ATTRS})>\s*"
_BLOCK_TAG = rf"<{_BLOCK_HEAD}"
_BR_HEAD = rf"br{_NAME_END}{_ATTRS}>\s*"

_DROP = re.compile(
    rf"<!--.*?(?:-->|\Z)|<(script|style){_NAME_END}{_ATTRS}>.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_HAS_BLOCK = re.compile(rf"<(?:br|p|div|li|tr|h[1-6]|ul|ol|table){_NAME_END}", re.IGNORECASE)
_HAS_LI = re.compile(rf"<li{_NAME_END}", re.IGNORECASE)
# The runs below start with a literal "<" so the regex engine can skip ahead to candidates.
# A run of block boundaries (optionally led by a <br>) that contains a list item opening.
_LI_RUN = re.compile(
    rf"<(?:{_BR_HEAD}<)?(?:{_BLOCK_HEAD}<)*li{_NAME_END}{_ATTRS}>\s*(?:{_BLOCK_TAG})*",
    re.IGNORECASE,
)
# A run of block boundaries renders as one line break, as in a browser; a <br> right
# before a block boundary adds no empty line.
_BLOCK_RUN = re.compile(rf"<(?:{_BR_HEAD}<)?{_BLOCK_HEAD}(?:{_BLOCK_TAG})*", re.IGNORECASE)
_BR = re.compile(rf"<br{_NAME_END}{_ATTRS}>", re.IGNORECASE)
_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
# A label cell followed by its value cell in one row: "<td>Agência</td><td>3069</td>".
_PAIR_CELLS = re.compile(
    r"<t([dh])\b[^>]*>(?P<label>(?:(?!</t[dh]|<t[dh]\b)[^:\n])*?)</t[dh]\s*>[ \t]*(?=<td\b)",
    re.IGNORECASE,
)
_TAG = re.compile(
    rf"</?[a-zA-Z][a-zA-Z0-9:-]*{_NAME_END}(?:{_ATTRS}>|[^<>]*>)|<![^<>]*>|<\?[^<>]*>"
)
_BULLET_MARK = "\x01"
_BULLET = re.compile(r"\n?[^\S\n]*\x01[^\S\n]*")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def html_to_text(body: str) -> str:
    """Render an HTML or plain comment body as plain text lines.

    Block tags become line breaks and ``<li>`` a "• " line so that every label stays on
    its own line; whitespace runs collapse to one space and lines are stripped so the same
    comment typed as HTML or as plain text parses identically.
    """
    if not body:
        return ""
    text = body
    if "<" in text or "&" in text:
        text = _markup_to_text(text)
    return _tidy(text)


def _label_cell(match: re.Match[str]) -> str:
    """A table cell that names the next cell's value ends with ":" (a label), unless it
    holds nothing but markup."""
    label = match["label"]
    if not _TAG.sub("", label).strip():
        return match.group(0)
    return f"<t{match.group(1)}>{label}:</t{match.group(1)}>"


def _markup_to_text(text: str) -> str:
    """Strip tags and decode entities; the slow path of ``html_to_text``."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _BULLET_MARK in text:
        text = text.replace(_BULLET_MARK, "")
    if "<" in text:
        text = _DROP.sub(" ", text)
        if _HAS_BLOCK.search(text):
            # Rich-text bodies break lines with tags; raw newlines are source formatting.
            text = text.replace("\n", " ")
        if _HAS_LI.search(text):
            text = _LI_RUN.sub("\n" + _BULLET_MARK, text)
        text = _BLOCK_RUN.sub("\n", text)
        text = _BR.sub("\n", text)
        if "<t" in text or "<T" in text:
            text = _PAIR_CELLS.sub(_label_cell, text)
        text = _CELL_END.sub(" ", text)
        text = _TAG.sub("", text)
        if _BULLET_MARK in text:
            text = _BULLET.sub("\n• ", text)
    if "&" in text:
        text = html.unescape(text)
    return text if text.isascii() else _INVISIBLE.sub("", text)


def _tidy(text: str) -> str:
    """Normalize line ends, collapse horizontal whitespace and strip every line."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # str.split() knows every Unicode space (nbsp, thin space, ...); cheaper than a regex.
    return "\n".join([" ".join(line.split()) for line in text.split("\n")]).strip()


@lru_cache(maxsize=1024)
def comment_lines(body: str) -> tuple[str, ...]:
    """The body's text lines with "**" bold markers removed (cached per body).

    Both ``extract_fields`` and ``extract_checklists`` read the same comments, so the
    HTML conversion is done once per body.
    """
    text = html_to_text(body)
    if "**" in text:
        text = text.replace("**", "")
    if " | " in text:
        # "Pedido: 1 | Pagamento: Pix": agents separate labelled values with pipes.
        text = text.replace(" | ", "\n")
    lines = text.split("\n")
    if any(separator in text for separator in _PAIR_SEPARATORS):
        lines = [part for line in lines for part in _pairs(line)]
    return tuple(lines)


_PAIR_SEPARATORS = (" // ", " / ", " - ", " – ", " — ")


def _pairs(line: str) -> list[str]:
    """One line per ``Label: value`` pair: "Pedido: 1 / Atrasado: Sim", "IP: 1.2.3.4 -
    Motivo: firewall". A separator splits only when two or more of the parts hold a
    label, so "Rua XV, 800 - Centro" and "Boleto / Pix" stay whole."""
    for separator in _PAIR_SEPARATORS:
        if separator not in line:
            continue
        parts = line.split(separator)
        if sum(1 for part in parts if ":" in part[1:]) >= 2:
            return [part.strip() for part in parts if part.strip()]
    return [line]


# ----------------------------------------------------------------------- label matching

_PROMPT_WORDS = "informe|indique|forne[cç]a|especifique|anexe|descreva|confirme|registre|preencha"
_LABEL_PREFIX = re.compile(
    r"^(?:[•·▪▫◦‣●○■□➢➤►>*\-–—\"'“”‘’«»]+\s*|\d{1,3}[.)](?:\s+|$)|[a-z]\)\s*"
    r"|[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200D]+\s*)*"
    rf"(?:(?:{_PROMPT_WORDS})(?:\s*:\s*|\s+))?"
    r"(?:(?:o|a|os|as)\s+)?",
    re.IGNORECASE,
)
_PAREN = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\])")
_LABEL_STRIP = " :.?;!*\"'“”‘’«»"
# "N°", "N.º", "N. o" -> "no", the folded form of "Nº".
_NUMERO = re.compile(r"\bn(?:\s?\.\s?|\s)?[°o]\.?(?=\s|$)")
_MEMO_MAX = 65536
_MAX_SEPARATORS = 6


def _clean_label(text: str) -> str:
    """Drop bullets, numbering, prompt words, articles, remarks and edge punctuation."""
    s = _LABEL_PREFIX.sub("", text.strip(), count=1)
    for _ in range(3):
        if "(" not in s and "[" not in s:
            break
        s = _PAREN.sub(" ", s)
    return " ".join(s.strip(_LABEL_STRIP).split())


@lru_cache(maxsize=65536)
def normalize_label(text: str) -> str:
    """The comparison key of a label: folded, with the SOP template's decoration removed.

    "• Informe: O Nº do Pedido GAR (ou "NÃO GERADO"):" and "numero do pedido gar" style
    variants must meet the mapping's synonyms on exact equality, never on similarity.
    """
    s = _clean_label(fold(text))
    if "n" in s:
        s = _NUMERO.sub("no", s)
    if "/" in s or "-" in s:
        s = " ".join(_ABBREVIATION.sub(lambda m: _ABBREVIATIONS[m.group().rstrip()], s).split())
    words = [_expand(w) for w in s.split() if w not in _CONNECTORS]
    if len(words) > 1 and any(w in _QUALIFIERS for w in words):
        # "CPF correto: ...", "E-mail correto p/ envio": in a follow-up note, the field.
        words = [w for w in words if w not in _QUALIFIERS] or words
    return " ".join(words)


def _expand(word: str) -> str:
    return WORD_ABBREVIATIONS.get(word.rstrip("."), word)


_CONNECTORS = frozenset({"do", "da", "de", "dos", "das"})
"""Dropped from labels: "email voucher" is "E-mail do voucher"."""
_QUALIFIERS = frozenset(
    {"correto", "correta", "certo", "certa", "atualizado", "atualizada", "corrigido",
     "corrigida", "novo", "nova", "valido", "valida"}
)  # fmt: skip


# Agents' shorthand in labels: "email p/ envio", "e-mail c/ cópia".
_ABBREVIATIONS = {"p/": "para ", "c/": "com ", "e-mail": "email"}
_ABBREVIATION = re.compile(r"(?<!\w)(?:[pc]/(?!\w\b)\s*|e-mail(?![\w-]))")


class LabelIndex:
    """Field key lookup by label text, built once per field set and reused.

    Two keys sharing a normalized synonym would make extraction depend on dict order, so
    that is rejected at construction with a ``ValueError`` naming both keys.
    """

    __slots__ = ("_by_norm", "_keys", "_max_left", "_memo")

    def __init__(self, labels: Mapping[str, Sequence[str]]) -> None:
        by_norm: dict[str, str] = {}
        origin: dict[str, str] = {}
        longest = 0
        for key, synonyms in labels.items():
            for synonym in [synonyms] if isinstance(synonyms, str) else synonyms:
                norm = normalize_label(synonym)
                if not norm:
                    raise ValueError(f"field '{key}': label {synonym!r} is empty once normalized")
                other = by_norm.get(norm)
                if other is not None and other != key:
                    raise ValueError(
                        f"fields '{other}' and '{key}' share the label '{norm}' "
                        f"({origin[norm]!r} / {synonym!r})"
                    )
                by_norm[norm] = key
                origin[norm] = synonym
                longest = max(longest, len(synonym))
        self._by_norm = by_norm
        self._keys = frozenset(labels)
        # Bullets, prompt words and remarks such as "(EXCLUSIVAMENTE o e-mail que consta
        # no pedido)" make the written label longer than any synonym; beyond this it is prose.
        self._max_left = longest + 120
        self._memo: dict[str, tuple[str, str] | None] = {}

    @property
    def keys(self) -> frozenset[str]:
        """Every field key of the index."""
        return self._keys

    def __len__(self) -> int:
        """Number of distinct normalized labels."""
        return len(self._by_norm)

    def lookup(self, label: str) -> str | None:
        """The field key whose synonym equals ``label`` once both are normalized."""
        hit = self._resolve(label)
        return None if hit is None else hit[0]

    def lookup_normalized(self, norm: str) -> str | None:
        """The field key of an already normalized label (``normalize_label``)."""
        return self._by_norm.get(norm)

    def _resolve(self, raw: str) -> tuple[str, str] | None:
        """(key, label as written without decoration) for label text; memoized."""
        try:
            return self._memo[raw]
        except KeyError:
            pass
        key = self._by_norm.get(normalize_label(raw))
        hit = None if key is None else (key, _clean_label(raw) or raw.strip())
        if len(self._memo) >= _MEMO_MAX:
            self._memo.clear()
        self._memo[raw] = hit
        return hit


# The first ":" or a dash with a space on each side; "E-mail" and "Pix-123" never split.
_SEP = re.compile(r":| [-–—](?= |$)")


def _label_line(line: str, index: LabelIndex) -> tuple[str, str, str] | None:
    """(key, label, raw value) when ``line`` starts with a known label and a separator.

    Separators are tried left to right and the first whose left side is a known label
    wins, which lets "Informe: O CPF: 123" reach its real label while an IPv6 or a time
    in the value is never split.
    """
    if ":" not in line and " -" not in line and " –" not in line and " —" not in line:
        return None
    limit = index._max_left
    tried = 0
    previous = 0
    for match in _SEP.finditer(line):
        start = match.start()
        if start > limit or tried >= _MAX_SEPARATORS:
            break
        tried += 1
        if start == 0:
            continue
        hit = index._resolve(line[:start])
        if hit is None and line[start] == ":":
            # "Ouvidoria - Solicitada pelo cliente: Sim", "corrigindo: CPF correto: 529...":
            # a heading before the label.
            dash = _LAST_DASH.search(line, 0, start)
            if dash is not None:
                hit = index._resolve(line[dash.end() : start])
            if hit is None and previous:
                hit = index._resolve(line[previous:start])
        if hit is not None:
            return hit[0], hit[1], line[match.end() :]
        previous = match.end()
    # A label written inside prose, after a sentence ends: "KA analisou. Persiste: sim".
    if ". " in line or "; " in line:
        for match in _INLINE_SEP.finditer(line):
            start = match.start()
            boundary = max(line.rfind(". ", 0, start), line.rfind("; ", 0, start))
            if boundary < 0 or start - boundary > limit or _abbreviated(line, boundary):
                continue
            hit = index._resolve(line[boundary + 2 : start])
            if hit is not None:
                return hit[0], hit[1], line[match.end() :]
    return None


_WORD_BEFORE = re.compile(r"(\w+)$")


def _abbreviated(text: str, dot: int) -> bool:
    """Whether the "." at ``dot`` ends an abbreviation ("Lib. pagamento", "Sr. João"), not
    a sentence."""
    if text[dot] != ".":
        return False
    match = _WORD_BEFORE.search(text, 0, dot)
    if match is None:
        return False
    word = fold(match.group(1))
    return len(word) == 1 or word in WORD_ABBREVIATIONS or word in _TITLES


_TITLES = frozenset({"sr", "sra", "dr", "dra", "av", "ref", "lib", "valid", "atend", "aprox"})


def _prose_before_label(line: str, raw_value: str, index: LabelIndex) -> str:
    """The sentence(s) before an inline label ("Pagou com Pix. Banco: Itaú" -> "Pagou com Pix.")."""
    cut = len(line) - len(raw_value)
    head = line[:cut]
    if index._resolve(head.rstrip(":-–— ")) is not None:
        return ""
    boundary = max(head.rfind(". "), head.rfind("; "))
    return head[: boundary + 1].strip() if boundary >= 0 else ""


_INLINE_SEP = re.compile(r":(?!//)")
_LAST_DASH = re.compile(r" [-–—] (?!.* [-–—] )")


@dataclass(frozen=True, slots=True)
class FieldValue:
    """One labelled value found in a comment, with where it was written."""

    key: str
    value: str
    """As written (stripped); lines of a multi-line value joined with "\\n"."""
    label: str
    """The label as the agent wrote it, without bullets, prompt words or remarks."""
    comment_id: str
    line: int
    """1-based line of the label inside the comment's text (``html_to_text``)."""


_QUOTES = "\"'“”‘’«»"
_BLANK_VALUE = " -_–—"


_LEADING_REMARK = re.compile(r"^\((?P<remark>[^()]*)\)\s*(?P<rest>\S.*)$", re.DOTALL)
_WORD = re.compile(r"[^\W\d_]{2,}")
# A template line the agent left unfilled ("• Anexe: O Comprovante de Pagamento") is not
# the value of the label above it.
_TEMPLATE_LINE = re.compile(
    rf"^\s*(?:[•·▪*\-–—]\s*)?(?:{_PROMPT_WORDS})\b|^\s*[•·▪*\-–—]\s*\S[^:]*:", re.IGNORECASE
)


def _clean_value(raw: str) -> str:
    """Strip whitespace, quotes, trailing ';' and a leading template remark; "" when empty.

    The SOP's templates carry remarks such as "E-mail no GAR: (EXCLUSIVAMENTE o e-mail que
    consta no pedido)"; an agent who types the value after the remark means the value.
    A leading "(11)" (a phone's area code) has no words and is kept.
    """
    value = raw.strip().rstrip(";").rstrip()
    remark = _LEADING_REMARK.match(value)
    if remark is not None and len(_WORD.findall(remark.group("remark"))) >= 2:
        value = remark.group("rest").strip()
    if len(value) >= 2 and value[0] in _QUOTES and value[-1] in _QUOTES:
        value = value[1:-1].strip().rstrip(";").rstrip()
    if not value.strip(_BLANK_VALUE):
        return ""
    return value


def _time_key(comment: Comment) -> datetime:
    """created_at made comparable: naive datetimes are read as UTC."""
    created = comment.created_at
    return created if created.tzinfo is not None else created.replace(tzinfo=UTC)


def _chronological(comments: Sequence[Comment]) -> list[Comment]:
    """Oldest first; equal times keep sequence order so the later one is applied last."""
    try:
        return sorted(comments, key=_time_key)
    except (TypeError, AttributeError, ValueError):
        return list(comments)


def _labelled_lines(body: str, index: LabelIndex) -> tuple[str, ...]:
    """``comment_lines`` with a line that holds a second label after a sentence split in
    two: "Fraude constatada: não. Distribuidor: Comercial Esperança." is two values."""
    out: list[str] = []
    for line in comment_lines(body):
        while (cut := _second_label(line, index)) is not None:
            out.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        out.append(line)
    return tuple(out)


def _second_label(line: str, index: LabelIndex) -> int | None:
    """Where a second labelled value starts in a labelled line, if one does."""
    if (". " not in line and "; " not in line) or (hit := _label_line(line, index)) is None:
        return None
    offset = len(line) - len(hit[2])
    value = hit[2]
    for match in _INLINE_SEP.finditer(value):
        start = match.start()
        boundary = max(value.rfind(". ", 0, start), value.rfind("; ", 0, start))
        if boundary < 0 or start - boundary > index._max_left or _abbreviated(value, boundary):
            continue
        if index._resolve(value[boundary + 2 : start]) is not None:
            return offset + boundary + 1
    return None


def split_remark(value: str) -> tuple[str, str]:
    """(value, remark): a labelled value cut at its first sentence end or spaced dash
    ("não - pedido 100950431 foi feito pelo vendedor"); the remark is "" when none."""
    parts = _REMARK_SPLIT.split(value.strip(), maxsplit=1)
    return (parts[0].strip(), parts[1].strip()) if len(parts) == 2 else (parts[0], "")


def _remark(value: str) -> str:
    """What an agent wrote after a labelled value: prose about the case."""
    return split_remark(value)[1]


_REMARK_SPLIT = re.compile(r"(?<=\S)[.;]\s+(?=\S)|\s[-–—]\s")


_SHORT_LABEL = re.compile(r"^(?P<label>[^:\n]{2,40}?)\s*:\s*(?P<value>\S.*)$")
SHORT_LABEL_WORDS = 3
"""A label this short that names no field may still name one of the request type's
("Motivo:" on a voucher case is "Motivo do Voucher")."""


@dataclass(frozen=True, slots=True)
class _Parsed:
    """One comment body read once: labelled values, prose, short unknown labels."""

    fields: tuple[tuple[str, str, str, int], ...]
    """(key, value, label as written, line) in line order."""
    prose: tuple[str, ...]
    short: tuple[tuple[str, str, str, int], ...]
    """(normalized label, label as written, value, line) of unknown short labels."""


@lru_cache(maxsize=2048)
def _parse(body: str, index: LabelIndex) -> _Parsed:
    lines = _labelled_lines(body, index)
    total = len(lines)
    fields: list[tuple[str, str, str, int]] = []
    prose: list[str] = []
    short: list[tuple[str, str, str, int]] = []
    i = 0
    while i < total:
        line = lines[i]
        number = i + 1
        i += 1
        hit = _label_line(line, index)
        if hit is None:
            if line and not _TEMPLATE_LINE.match(line):
                prose.append(line)
            if ":" in line and (unknown := _short_label(line, index, number)):
                short.append(unknown)
            if "(" in line:
                fields.extend(_parenthesised(line, index, number))
            continue
        key, label, raw = hit
        if ". " in line or "; " in line:
            if before := _prose_before_label(line, raw, index):
                prose.append(before)
        if remark := _remark(raw):
            prose.append(remark)
        if raw.strip():
            value = _clean_value(raw)
        else:
            # "Label:" alone: the value is on the following line(s), which are not prose.
            collected: list[str] = []
            while i < total:
                nxt = lines[i]
                if not nxt:
                    if collected:
                        break
                elif _label_line(nxt, index) is not None or _TEMPLATE_LINE.match(nxt):
                    break
                else:
                    collected.append(nxt)
                i += 1
            value = _clean_value("\n".join(collected))
        if value:
            fields.append((key, value, label, number))
    return _Parsed(tuple(fields), tuple(prose), tuple(short))


# "Motivo (rede bloqueada no GAR). IP público (189.45.112.30)." — a label with its value
# in parentheses, closing a sentence.
_PAREN_VALUE = re.compile(
    r"(?:^|(?<=[.;!?]\s))(?P<label>[^().;:!?\n]{2,40}?)\s*\((?P<value>[^()\n]{2,200})\)"
    r"\s*(?=[.;!?](?:\s|$)|$)"
)


def _parenthesised(line: str, index: LabelIndex, number: int) -> list[tuple[str, str, str, int]]:
    out = []
    for match in _PAREN_VALUE.finditer(line):
        hit = index._resolve(match["label"])
        if hit is not None and (value := _clean_value(match["value"])):
            out.append((hit[0], value, hit[1], number))
    return out


def _short_label(line: str, index: LabelIndex, number: int) -> tuple[str, str, str, int] | None:
    match = _SHORT_LABEL.match(line)
    if match is None:
        return None
    norm = normalize_label(match["label"])
    if not norm or len(norm.split()) > SHORT_LABEL_WORDS or index.lookup_normalized(norm):
        return None
    value = _clean_value(match["value"])
    return (norm, _clean_label(match["label"]), value, number) if value else None


def _comment_fields(comment: Comment, index: LabelIndex) -> Iterator[FieldValue]:
    """Yield the labelled values of one comment in line order."""
    cid = str(comment.id)
    for key, value, label, number in _parse(comment.body or "", index).fields:
        yield FieldValue(key, value, label, cid, number)


def labelled_values_of(body: str, index: LabelIndex) -> tuple[tuple[str, str, str, int], ...]:
    """(key, value, label as written, line) of a comment body's labelled values."""
    return _parse(body, index).fields


def unlabelled_lines_of(body: str, index: LabelIndex) -> tuple[str, ...]:
    """``unlabelled_lines`` of a comment body."""
    return _parse(body, index).prose


def unlabelled_lines(comment: Comment, index: LabelIndex) -> tuple[str, ...]:
    """The comment's text lines that are not labelled values: its prose (cached per body).

    Unfilled template prompts ("• Informe: O CPF do cliente") are not prose either.
    """
    return _parse(comment.body or "", index).prose


def short_labelled(comment: Comment, index: LabelIndex) -> tuple[tuple[str, str, str, int], ...]:
    """(normalized label, label as written, value, line) of the comment's ``Label: value``
    lines whose short label is none of ``index``'s (cached per body)."""
    return _parse(comment.body or "", index).short


def extract_fields(comments: Sequence[Comment], index: LabelIndex) -> dict[str, FieldValue]:
    """Labelled values of the comments, the newest comment winning per field.

    A field absent (or empty) in a newer comment keeps its older value: agents often add
    only the missing data in a follow-up note. Within one comment the later line wins.
    """
    found: dict[str, FieldValue] = {}
    for comment in _chronological(comments):
        for value in _comment_fields(comment, index):
            found[value.key] = value
    return found


# ------------------------------------------------------------------------------ checklists

_MARK = re.compile(r"[(\[] *([xX✓✔✅☑])? *[)\]]")
_TITLE = re.compile(r"^[•·*\-\s]*check[ -]?list\s*(?::|[-–—])\s*(?P<title>.*)$", re.IGNORECASE)
_ANALYSIS = re.compile(
    r"^[•·*\-\s]*(?:descri[cç][aã]o da an[aá]lise(?: realizada)?|detalhamento da an[aá]lise"
    r"(?: realizada)?|an[aá]lise(?: realizada)?)\s*(?:(?::| [-–—](?= |$))\s*(?P<rest>.*))?$",
    re.IGNORECASE,
)
_HAS_CHECKLIST = re.compile(r"check[ -]?list", re.IGNORECASE)
_OPTION_STRIP = " /|;,-–—"
_QUESTION_LEAD = "•·▪*-–— "


@dataclass(frozen=True, slots=True)
class ChecklistOption:
    """One answer of a checklist question and whether the agent marked it."""

    label: str
    marked: bool


@dataclass(frozen=True, slots=True)
class ChecklistQuestion:
    """A checklist question with its options in written order."""

    text: str
    options: tuple[ChecklistOption, ...]
    line: int
    """1-based line of the question (of its first options line when it has no text)."""

    @property
    def marked(self) -> tuple[str, ...]:
        """Labels of the marked options: one for a correctly answered question."""
        return tuple(o.label for o in self.options if o.marked)


@dataclass(frozen=True, slots=True)
class Checklist:
    """A "Checklist - <title>" macro filled in an internal note."""

    title: str
    questions: tuple[ChecklistQuestion, ...]
    analysis: str | None
    """Lines after the analysis heading; None without the heading, "" if it is empty."""
    comment_id: str


def _options(line: str, marks: list[re.Match[str]]) -> tuple[str, list[ChecklistOption]]:
    """(text before the options, options) of a line holding at least one mark."""
    first = marks[0]
    options: list[ChecklistOption] = []
    if first.start() > 0 and marks[-1].end() == len(line):
        # "Sim (X) Não ( )": each mark follows its option; a question may lead the line
        # ("Arquivo enviado? Sim (X) Não ( )"), ending at its last "?" or ":".
        prefix = ""
        previous = 0
        head = line[: first.start()]
        cut = max(head.rfind("?"), head.rfind(":"))
        if cut >= 0:
            prefix = head[: cut + 1].strip(_QUESTION_LEAD)
            previous = cut + 1
        for mark in marks:
            options.append(
                ChecklistOption(
                    line[previous : mark.start()].strip(_OPTION_STRIP), mark.group(1) is not None
                )
            )
            previous = mark.end()
    else:
        # "(X) Apps ( ) Painel Emissor": each mark precedes its option.
        prefix = line[: first.start()].strip(_QUESTION_LEAD)
        for position, mark in enumerate(marks):
            end = marks[position + 1].start() if position + 1 < len(marks) else len(line)
            options.append(
                ChecklistOption(
                    line[mark.end() : end].strip(_OPTION_STRIP), mark.group(1) is not None
                )
            )
    return prefix, [o for o in options if o.label or o.marked]


class _Builder:
    """Accumulates one checklist while its comment's lines are read."""

    __slots__ = ("analysis", "pending", "pending_line", "questions", "title")

    def __init__(self, title: str) -> None:
        self.title = title
        self.questions: list[ChecklistQuestion] = []
        self.pending: str | None = None
        self.pending_line = 0
        self.analysis: list[str] | None = None

    def add_line(self, line: str, number: int) -> None:
        """Feed one non-title line of the checklist's body."""
        if self.analysis is not None:
            self.analysis.append(line)
            return
        if not line:
            return
        heading = _ANALYSIS.match(line) if "n" in line or "N" in line else None
        if heading is not None:
            rest = heading.group("rest")
            self.analysis = [rest.strip()] if rest and rest.strip() else []
            return
        marks = list(_MARK.finditer(line)) if ("(" in line or "[" in line) else []
        if not marks:
            # A question candidate; it becomes a question once options follow.
            self.pending = line.strip(_QUESTION_LEAD)
            self.pending_line = number
            return
        prefix, options = _options(line, marks)
        if prefix:
            self.questions.append(ChecklistQuestion(prefix, tuple(options), number))
            self.pending = None
        elif self.pending is not None:
            self.questions.append(
                ChecklistQuestion(self.pending, tuple(options), self.pending_line)
            )
            self.pending = None
        elif self.questions:
            # One option per line under the same question.
            last = self.questions[-1]
            self.questions[-1] = ChecklistQuestion(
                last.text, last.options + tuple(options), last.line
            )
        else:
            self.questions.append(ChecklistQuestion("", tuple(options), number))

    def build(self, comment_id: str) -> Checklist:
        """The finished checklist; the analysis keeps its inner lines, trimmed at the ends."""
        analysis: str | None = None
        if self.analysis is not None:
            analysis = "\n".join(self.analysis).strip()
        return Checklist(self.title, tuple(self.questions), analysis, comment_id)


def _comment_checklists(comment: Comment) -> list[Checklist]:
    """The checklists of one comment in written order."""
    body = comment.body or ""
    if not _HAS_CHECKLIST.search(body):
        return []
    found: list[Checklist] = []
    current: _Builder | None = None
    for number, line in enumerate(comment_lines(body), start=1):
        title = _TITLE.match(line) if ("k" in line or "K" in line) else None
        name = title.group("title").rstrip(" :") if title is not None else ""
        if name:
            if current is not None:
                found.append(current.build(str(comment.id)))
            current = _Builder(name)
        elif current is not None:
            current.add_line(line, number)
    if current is not None:
        found.append(current.build(str(comment.id)))
    return found


def untitled_checklists(comments: Sequence[Comment]) -> list[Checklist]:
    """Each comment's marked questions read as one checklist without a title, newest
    comment first: agents paste the SOP's questions without the macro's title line."""
    found: list[Checklist] = []
    for comment in reversed(_chronological(comments)):
        body = comment.body or ""
        if "(" not in body and "[" not in body:
            continue
        builder = _Builder("")
        for number, line in enumerate(comment_lines(body), start=1):
            builder.add_line(line, number)
        checklist = builder.build(str(comment.id))
        if any(q.marked for q in checklist.questions):
            found.append(checklist)
    return found


def extract_checklists(comments: Sequence[Comment]) -> list[Checklist]:
    """Checklists of the comments, ordered by comment time then position.

    A checklist repeated under the same (folded) title is superseded by its newest copy,
    which takes the newer position: agents re-apply the macro to correct an answer.
    """
    latest: dict[str, Checklist] = {}
    for comment in _chronological(comments):
        for checklist in _comment_checklists(comment):
            key = fold(checklist.title)
            latest.pop(key, None)
            latest[key] = checklist
    return list(latest.values())
