"""Which request type a category names: exact names, deeper paths, words. Pure.

Helpdesks and agents write a ticket's category in many ways ("Pedidos > Atraso",
"Pedidos/Atraso", "Liberação de pagamento > Pix", "Atraso de entrega"). ``type_key``
folds a name or path to one comparable key; ``resolve_category`` maps a written category
to one SOP item of a compiled mapping, or says which items it could mean, never guessing
between two. ``CompiledMapping.resolve_type`` is the entry point ``decide`` uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from .mapping_schema import TypeSpec
from .textnorm import WORD_ABBREVIATIONS, fold

if TYPE_CHECKING:
    from .mapping_loader import CompiledMapping

TYPE_KEY = "__request_type__"
"""Label-index key under which the mapping's ``type_labels`` are extracted."""

_PATH_SEPARATOR = re.compile(r"\s*[>/»]\s*")
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-"})


@dataclass(frozen=True, slots=True)
class TypeMatch:
    """How a written category resolved: one type, or the candidates it could mean."""

    name: str | None
    how: str
    """``exact``, ``deeper`` (a level below the SOP's item), ``worded`` (matched by its
    words), ``category`` (the whole category's rule), ``ambiguous`` or ``none``."""
    candidates: tuple[str, ...] = ()


_STOPWORDS = frozenset(
    "a o as os e de da do das dos em no na nos nas para por com ao aos um uma meu minha "
    "sou quero se ou".split()
)
_WORD_SPLIT = re.compile(r"[^0-9a-z]+")


def _stems(text: str) -> frozenset[str]:
    """Significant word stems of a folded text: "Liberação de pagamentos" -> {liber, pagam}."""
    words = (
        WORD_ABBREVIATIONS.get(w, w)
        for w in _WORD_SPLIT.split(fold(text))
        if w and w not in _STOPWORDS
    )
    return frozenset(w[:5] if len(w) > 5 else w.rstrip("s") or w for w in words)


def _score(written: frozenset[str], phrases: Iterable[frozenset[str]]) -> int:
    """How well written words name an item: every word of one of its phrases is there,
    or the written words are a shortening of a phrase. 0 when neither."""
    best = 0
    for phrase in phrases:
        if not phrase or not written:
            continue
        if phrase <= written:
            best = max(best, 2 * len(phrase))
        elif written <= phrase:
            best = max(best, 2 * len(written) - 1)
    return best


def _type_phrases(tspec: TypeSpec, depth: int) -> list[frozenset[str]]:
    """Word sets that name a type from ``depth`` levels down: its sub-item, aliases, ids."""
    out = []
    for name in (tspec.name, *tspec.aliases):
        parts = type_key(name).split(" > ")
        out.append(_stems(" ".join(parts[depth:]) if len(parts) > depth else parts[-1]))
    out.extend(_stems(ident) for ident in tspec.identifiers)
    return out


def resolve_category(mapping: CompiledMapping, raw: str | None) -> TypeMatch:
    """Resolve a category path as agents and helpdesks write it to one SOP item.

    In order: the exact name or alias; a path one or more levels deeper than an item that
    has no sub-items of its own ("Liberação de pagamento > Pix"); the sub-item of a known
    category by its words ("Pedidos > Atraso de entrega"), over the item names, aliases and
    the SOP's identifiers; the whole text over every item; the category's own rule when
    the SOP gives one. A tie between two items is never guessed: ``ambiguous`` lists them.
    """
    if not raw or not raw.strip():
        return TypeMatch(None, "none")
    key = type_key(raw)
    exact = mapping.type_index.get(key)
    if exact is not None:
        return TypeMatch(exact, "exact")
    if key in mapping.children:
        # A category with sub-items, written without one: the SOP gives no rule for it.
        return TypeMatch(None, "ambiguous", tuple(mapping.children[key]))
    parts = key.split(" > ")
    for depth in range(len(parts) - 1, 0, -1):
        prefix = " > ".join(parts[:depth])
        name = mapping.type_index.get(prefix)
        if name is not None and prefix not in mapping.children:
            return TypeMatch(name, "deeper")
    parent_depth = 0
    for depth in range(len(parts) - 1, 0, -1):
        if " > ".join(parts[:depth]) in mapping.children:
            parent_depth = depth
            break
    if parent_depth:
        parent = " > ".join(parts[:parent_depth])
        pool = [mapping.types[n].spec for n in mapping.children[parent]]
        written = _stems(" ".join(parts[parent_depth:]))
        match = _best(pool, written, parent_depth, mapping)
        if match.name is not None or match.how == "ambiguous":
            return match
        own = mapping.type_index.get(parent)
        if own is not None:
            return TypeMatch(own, "category")
    pool = [t.spec for t in mapping.types.values()]
    return _best(pool, _stems(key.replace(" > ", " ")), 0, mapping)


def _best(
    pool: list[TypeSpec], written: frozenset[str], depth: int, mapping: CompiledMapping
) -> TypeMatch:
    scored = []
    for tspec in pool:
        score = _score(written, _type_phrases(tspec, depth))
        if depth == 0:
            score = max(score, _score(written, [_stems(type_key(tspec.name).replace(" > ", " "))]))
        if score:
            scored.append((score, tspec.name))
    if depth == 0:
        # Over every item, one shortened word ("Atraso") names nothing for sure.
        scored = [(score, name) for score, name in scored if score >= 2]
    if not scored:
        return TypeMatch(None, "none")
    top = max(score for score, _ in scored)
    best = list(dict.fromkeys(name for score, name in scored if score == top))
    if len(best) == 1:
        return TypeMatch(best[0], "worded")
    return TypeMatch(None, "ambiguous", tuple(best))


@lru_cache(maxsize=8192)
def type_key(raw: str) -> str:
    """Folded key of a type name or category path: "A > B", "A / B", "A/B" are one path.

    Dashes of any kind compare equal ("Nota Fiscal – Fenacon" as word processors write it).
    """
    text = fold(raw).translate(_DASHES)
    parts = [part.strip(" .:-") for part in _PATH_SEPARATOR.split(text)]
    return " > ".join(part for part in parts if part)
