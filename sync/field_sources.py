"""Where a mapping field's value lives in the helpdesk: its fields, requester, organization.

Theory of operation: agents and forms put SOP data in the helpdesk's own fields as often as
in comments (a Freshdesk ``cf_cnpj``, a Salesforce ``Order_Number__c``, a Movidesk custom
field, the requester's e-mail, the organization's name). A mapping field is looked up, in
order, in:

1. the account's ``fields:`` config for the connector (``bind_sources``), which replaces
2. the mapping's own ``ticket_field`` defaults, and then
3. any helpdesk field whose API name or label, normalized like a comment label, equals the
   mapping field's label or one of its synonyms ("Número do pedido GAR", "CNPJ") — so the
   usual set-up needs no configuration.

A source names a ticket field by its API name, ``requester.<part>`` or
``organization.<part>`` (part: ``name``, ``email``, ``document``, ``phone``) or
``tag:<name>`` (the value is "Sim" when the ticket carries the tag) or ``category:<n>``
(the n-th level of the ticket's category path, for accounts that keep a datum such as the
distributor in a level below the SOP item: "Pedidos > Atraso > Tambasa"). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from .comment_parser import normalize_label
from .mapping_loader import CompiledMapping
from .model import PARTY_PARTS, Ticket

PARTY_PREFIXES = ("requester", "organization")

_SUFFIX = re.compile(r"(?:_\d{3,})$|__c$")
_PREFIX = re.compile(r"^cf_")


@dataclass(frozen=True, slots=True)
class HelpdeskValue:
    """A value read from the ticket's helpdesk data, with the source it came from."""

    key: str
    value: str
    source: str
    """``fields.cf_cnpj``, ``requester.email``, ``tag:ouvidoria``: what ``explain`` shows."""


def source_problem(source: str) -> str | None:
    """Why a configured source cannot name anything, or None when it is well formed."""
    if not source or not source.strip():
        return "empty source"
    head, dot, part = source.partition(".")
    if dot and head in PARTY_PREFIXES and part not in PARTY_PARTS:
        return f"'{source}': {head} has {', '.join(PARTY_PARTS)}"
    if source.startswith("tag:") and not source[4:].strip():
        return "'tag:' needs a tag name"
    if source.startswith("category:"):
        level = source[len("category:") :].strip()
        if not level.isdigit() or int(level) < 1:
            return f"'{source}': the category level is a number from 1 ('category:3')"
    return None


def bind_sources(mapping: CompiledMapping, fields: Mapping[str, str]) -> CompiledMapping:
    """The mapping with one account's field sources; ``ValueError`` names a bad key.

    The account config wins over the mapping's ``ticket_field`` for the keys it names.
    """
    problems = []
    for key, source in fields.items():
        if key not in mapping.spec.fields:
            known = ", ".join(sorted(mapping.spec.fields))
            problems.append(f"{key}: not a field of mapping '{mapping.name}'; known: {known}")
            continue
        problem = source_problem(str(source))
        if problem:
            problems.append(f"{key}: {problem}")
    if problems:
        raise ValueError("; ".join(problems))
    if not fields:
        return mapping
    sources = dict(mapping.sources)
    for key, source in fields.items():
        sources[key] = (str(source).strip(),)
    return replace(mapping, sources=sources)


@lru_cache(maxsize=8192)
def field_name_key(name: str) -> str:
    """An API field name as a label: ``cf_numero_do_pedido_297457`` -> "numero do pedido"."""
    text = _SUFFIX.sub("", _PREFIX.sub("", name.strip().lower()))
    return normalize_label(text.replace("_", " "))


def _text(value: Any) -> str | None:
    """A helpdesk value as text; empty, None and empty lists are absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "Sim" if value else "Não"
    if isinstance(value, list | tuple):
        items = [str(v).strip() for v in value if v is not None and str(v).strip()]
        return ", ".join(items) or None
    if isinstance(value, Mapping):
        for name in ("name", "value", "label"):
            if value.get(name):
                return str(value[name]).strip() or None
        return None
    text = str(value).strip()
    return text or None


def read_source(ticket: Ticket, source: str) -> str | None:
    """The value one source names on this ticket, as text; None when absent or empty."""
    head, dot, part = source.partition(".")
    if dot and head in PARTY_PREFIXES:
        party = ticket.requester if head == "requester" else ticket.organization
        return party.get(part) if party is not None else None
    if source.startswith("category:"):
        # "Pedidos > Atraso > Tambasa" with category:3 -> "Tambasa".
        levels = [p.strip() for p in re.split(r"\s*[>»]\s*", ticket.request_type or "")]
        level = int(source[len("category:") :])
        return levels[level - 1] or None if len(levels) >= level else None
    if source.startswith("tag:"):
        wanted = source[4:].strip().casefold()
        tags = ticket.fields.get("tags") or ()
        if isinstance(tags, str):
            tags = [t for t in tags.split(",")]
        return "Sim" if any(str(t).strip().casefold() == wanted for t in tags) else None
    if source.startswith("fields."):
        source = source[len("fields.") :]
    return _text(ticket.fields.get(source))


def _shown(source: str) -> str:
    head = source.partition(".")[0]
    if head in PARTY_PREFIXES or source.startswith(("tag:", "fields.", "category:")):
        return source
    return f"fields.{source}"


def _other_document(mapping: CompiledMapping, key: str, source: str, value: str) -> bool:
    """A party's document is a CPF or a CNPJ: the other kind is not this field's value
    (a contact's CPF where the customer's CNPJ is asked), so it is skipped, not invalid."""
    if not source.endswith(".document"):
        return False
    digits = sum(ch.isdigit() for ch in value)
    compact = len("".join(ch for ch in value if ch.isalnum()))
    validator = mapping.spec.fields[key].validator
    if validator == "cnpj":
        return compact == 11 and digits == 11
    if validator == "cpf":
        return compact == 14
    return False


def helpdesk_values(
    mapping: CompiledMapping, ticket: Ticket, keys: frozenset[str] | set[str]
) -> dict[str, HelpdeskValue]:
    """Values of ``keys`` found in the ticket's helpdesk data (configured, then by label)."""
    found: dict[str, HelpdeskValue] = {}
    for key in keys:
        for source in mapping.sources.get(key, ()):
            value = read_source(ticket, source)
            if value is not None and not _other_document(mapping, key, source, value):
                found[key] = HelpdeskValue(key, value, _shown(source))
                break
    if len(found) == len(keys) or not ticket.fields:
        return found
    labels = ticket.field_labels
    for name, raw in ticket.fields.items():
        key = mapping.labels.lookup_normalized(field_name_key(str(name)))
        label = labels.get(name)
        if key is None and label:
            key = mapping.labels.lookup(label)
        if key is None or key in found or key not in keys:
            continue
        value = _text(raw)
        if value is not None:
            found[key] = HelpdeskValue(key, value, f"fields.{name}")
    return found


__all__ = [
    "HelpdeskValue",
    "bind_sources",
    "field_name_key",
    "helpdesk_values",
    "read_source",
    "source_problem",
]
