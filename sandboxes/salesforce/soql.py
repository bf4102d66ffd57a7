"""The SOQL subset the Salesforce sandbox understands: tokens, syntax tree, name checks.

``parse(text, objects)`` turns a query into a ``Select`` whose field paths are resolved
against the org schema, or raises the ``ApiError`` Salesforce answers:

- ``SELECT`` fields, relationship paths (``Owner.Name``, ``CreatedBy.Name``,
  ``ContentDocument.Title``) and child subqueries ``(SELECT ... FROM CaseComments WHERE
  ... ORDER BY ... LIMIT n)``; ``FROM`` one object; ``WHERE`` with ``AND``/``OR``/``NOT``
  and parentheses, ``= != <> < <= > >=``, ``IN (...)``, ``NOT IN (...)``, ``LIKE``;
  literals: quoted strings with backslash escapes, numbers, ``true``/``false``/``null``,
  dates ``YYYY-MM-DD`` and unquoted datetimes ``YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)``;
  ``ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...``; ``LIMIT n``; ``OFFSET n``.
- Syntax errors → 400 ``MALFORMED_QUERY``, including ``AND`` and ``OR`` mixed at one level
  without parentheses (SOQL demands them) and a datetime without a zone.
- Unknown fields → 400 ``INVALID_FIELD`` "No such column 'X' on entity 'Case'", unknown
  relationships "Didn't understand relationship 'X' in field path", unknown objects and
  child relationships → 400 ``INVALID_TYPE``. Messages carry the query, a caret and
  ``ERROR at Row:1:Column:N`` as Salesforce's do ([err]; the texts are the ones public
  Q&A threads quote).
- A literal of the wrong type (a quoted datetime for a datetime field, a number for a
  text field, a malformed id) → 400 ``INVALID_QUERY_FILTER_OPERATOR`` "value of filter
  criterion for field 'X' must be of type dateTime and should not be enclosed in quotes".
- A top-level ``ContentDocumentLink`` query without an ``=``/``IN`` filter on
  ``LinkedEntityId`` or ``ContentDocumentId`` → 400 ``MALFORMED_QUERY`` "Implementation
  restriction" ([ref §3], [cdl]).

Not understood (400 ``MALFORMED_QUERY``): aggregates, ``GROUP BY``, ``TYPEOF``,
``FIELDS()``, date literals (``TODAY``, ``LAST_N_DAYS:n``), ``INCLUDES``, semi-joins.

Why this module is long: tokenizer, parser and name resolution share one syntax tree and
the column positions every error message points at; split apart, each piece would have
to re-export the tree and the message helper to the others for no reader's benefit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .ids import normalize
from .schema import NAME_FIELDS, TEXT_TYPES, ChildRelationship, FieldDef, ObjectDef
from .shapes import bad

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<baddatetime>\d{4}-\d{2}-\d{2}T[^\s),]*)
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}
_KEYWORDS = frozenset(
    "SELECT FROM WHERE AND OR NOT IN LIKE ORDER BY ASC DESC NULLS FIRST LAST LIMIT OFFSET "
    "NULL TRUE FALSE GROUP HAVING".split()
)
_TYPE_WORDS = {
    "datetime": "dateTime",
    "date": "date",
    "boolean": "boolean",
    "int": "number",
    "double": "number",
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    column: int
    """1-based column of the token in the query text."""

    def word(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal value: ``kind`` is string, number, datetime, date, bool or null."""

    kind: str
    value: Any
    raw: str
    column: int


@dataclass(slots=True)
class FieldPath:
    """``Owner.Name`` resolved: the lookups walked (``OwnerId``) and the final field."""

    text: str
    column: int
    hops: list[FieldDef] = field(default_factory=list)
    target: FieldDef | None = None

    @property
    def key(self) -> str:
        names = [h.relationship or h.name for h in self.hops]
        assert self.target is not None
        return ".".join([*names, self.target.name]).lower()


@dataclass(slots=True)
class Comparison:
    path: FieldPath
    op: str
    """``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``IN``, ``NOT IN`` or ``LIKE``."""
    value: Literal | list[Literal]


@dataclass(slots=True)
class Logic:
    op: str
    """``AND``, ``OR`` or ``NOT`` (one item)."""
    items: list[Condition]


Condition = Comparison | Logic


@dataclass(slots=True)
class OrderItem:
    path: FieldPath
    descending: bool = False
    nulls_first: bool | None = None

    @property
    def nulls_go_first(self) -> bool:
        """SOQL's default: ``ASC`` puts nulls first, ``DESC`` last."""
        return (not self.descending) if self.nulls_first is None else self.nulls_first


@dataclass(slots=True)
class Select:
    sobject: str
    """The object queried (canonical name), or the child relationship name in a subquery."""
    from_column: int
    items: list[FieldPath | SubQuery]
    where: Condition | None = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    relationship: ChildRelationship | None = None


@dataclass(slots=True)
class SubQuery:
    select: Select
    column: int


# ---------------------------------------------------------------------- errors


def _located(query: str, column: int, text: str) -> str:
    caret = " " * (column - 1) + "^"
    return f"\n{query}\n{caret}\nERROR at Row:1:Column:{column}\n{text}"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = " ".join(text.split("\n"))
        self.tokens = self._tokenize()
        self.pos = 0

    def fail(self, token: Token | None, text: str | None = None) -> Exception:
        if token is None:
            column = len(self.text) + 1
            message = text or "unexpected token: '<EOF>'"
        else:
            column = token.column
            message = text or f"unexpected token: '{token.text}'"
        return bad("MALFORMED_QUERY", _located(self.text, column, message))

    def _tokenize(self) -> list[Token]:
        out: list[Token] = []
        at = 0
        while at < len(self.text):
            match = _TOKEN.match(self.text, at)
            if match is None:
                message = f"line 1:{at} no viable alternative at character '{self.text[at]}'"
                raise bad("MALFORMED_QUERY", _located(self.text, at + 1, message))
            kind = match.lastgroup or ""
            if kind == "baddatetime":
                raise bad(
                    "MALFORMED_QUERY",
                    _located(
                        self.text,
                        at + 1,
                        f"line 1:{at} no viable alternative at character '{match.group()}'",
                    ),
                )
            if kind != "ws":
                out.append(Token(kind, match.group(), at + 1))
            at = match.end()
        return out

    # ------------------------------------------------------------------ cursor

    def peek(self, offset: int = 0) -> Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.fail(None)
        self.pos += 1
        return token

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.word() in words

    def at_punct(self, char: str) -> bool:
        token = self.peek()
        return token is not None and token.text == char

    def expect_word(self, word: str) -> Token:
        token = self.peek()
        if token is None or token.word() != word:
            raise self.fail(token)
        self.pos += 1
        return token

    def expect_punct(self, char: str) -> Token:
        token = self.peek()
        if token is None or token.text != char:
            raise self.fail(token)
        self.pos += 1
        return token

    # ------------------------------------------------------------------ grammar

    def query(self, nested: bool = False) -> Select:
        self.expect_word("SELECT")
        items: list[FieldPath | SubQuery] = []
        while True:
            token = self.peek()
            if token is not None and token.text == "(" and not nested:
                self.pos += 1
                sub = self.query(nested=True)
                self.expect_punct(")")
                items.append(SubQuery(sub, token.column))
            else:
                items.append(self.field_path())
            if self.at_punct(","):
                self.pos += 1
                continue
            break
        self.expect_word("FROM")
        source = self.next()
        # ``Group`` is an object (queues live there) as well as a keyword of GROUP BY.
        if source.kind != "ident" or source.word() in _KEYWORDS - {"GROUP"}:
            raise self.fail(source)
        select = Select(source.text, source.column, items)
        if self.at_word("WHERE"):
            self.pos += 1
            select.where = self.condition()
        if self.at_word("ORDER"):
            self.pos += 1
            self.expect_word("BY")
            select.order.append(self.order_item())
            while self.at_punct(","):
                self.pos += 1
                select.order.append(self.order_item())
        if self.at_word("LIMIT"):
            self.pos += 1
            select.limit = self.integer()
        if self.at_word("OFFSET"):
            self.pos += 1
            select.offset = self.integer()
        token = self.peek()
        if token is not None and not (nested and token.text == ")"):
            raise self.fail(token)
        return select

    def integer(self) -> int:
        token = self.next()
        if token.kind != "number" or not token.text.isdigit():
            raise self.fail(token)
        return int(token.text)

    def field_path(self) -> FieldPath:
        token = self.next()
        if token.kind != "ident" or token.word() in _KEYWORDS:
            raise self.fail(token)
        return FieldPath(token.text, token.column)

    def order_item(self) -> OrderItem:
        item = OrderItem(self.field_path())
        if self.at_word("ASC", "DESC"):
            item.descending = self.next().word() == "DESC"
        if self.at_word("NULLS"):
            self.pos += 1
            token = self.next()
            if token.word() not in ("FIRST", "LAST"):
                raise self.fail(token)
            item.nulls_first = token.word() == "FIRST"
        return item

    def condition(self) -> Condition:
        first = self.unary()
        joiner: str | None = None
        items = [first]
        while self.at_word("AND", "OR"):
            token = self.next()
            if joiner is not None and token.word() != joiner:
                raise self.fail(token)
            joiner = token.word()
            items.append(self.unary())
        return first if joiner is None else Logic(joiner, items)

    def unary(self) -> Condition:
        if self.at_word("NOT"):
            self.pos += 1
            return Logic("NOT", [self.unary()])
        token = self.peek()
        if token is not None and token.text == "(":
            self.pos += 1
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        path = self.field_path()
        token = self.next()
        if token.kind == "op":
            op = "!=" if token.text == "<>" else token.text
            return Comparison(path, op, self.literal())
        word = token.word()
        if word == "LIKE":
            return Comparison(path, "LIKE", self.literal())
        if word == "NOT" and self.at_word("IN"):
            self.pos += 1
            return Comparison(path, "NOT IN", self.literal_list())
        if word == "IN":
            return Comparison(path, "IN", self.literal_list())
        raise self.fail(token)

    def literal_list(self) -> list[Literal]:
        self.expect_punct("(")
        values = [self.literal()]
        while self.at_punct(","):
            self.pos += 1
            values.append(self.literal())
        self.expect_punct(")")
        return values

    def literal(self) -> Literal:
        token = self.next()
        if token.kind == "string":
            return Literal("string", _unescape(token.text[1:-1]), token.text[1:-1], token.column)
        if token.kind == "number":
            number: float | int = float(token.text) if "." in token.text else int(token.text)
            return Literal("number", number, token.text, token.column)
        if token.kind == "datetime":
            moment = _datetime_literal(token.text)
            if moment is None:
                raise self.fail(token, f"invalid datetime: {token.text}")
            return Literal("datetime", moment, token.text, token.column)
        if token.kind == "date":
            try:
                day = date.fromisoformat(token.text)
            except ValueError:
                raise self.fail(token, f"invalid date: {token.text}") from None
            return Literal("date", day, token.text, token.column)
        word = token.word()
        if word in ("TRUE", "FALSE"):
            return Literal("bool", word == "TRUE", token.text, token.column)
        if word == "NULL":
            return Literal("null", None, token.text, token.column)
        raise self.fail(token)


def _unescape(body: str) -> str:
    out: list[str] = []
    chars = iter(body)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            out.append(_ESCAPES.get(escaped, "\\" + escaped))
        else:
            out.append(char)
    return "".join(out)


def _datetime_literal(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def like_pattern(raw: str) -> re.Pattern[str]:
    """A ``LIKE`` pattern (``%`` any run, ``_`` one character, ``\\%``/``\\_`` literal),
    matched case-insensitively as SOQL does."""
    out: list[str] = []
    chars = iter(raw)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            out.append(re.escape(_ESCAPES.get(escaped, escaped)))
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL)


# ---------------------------------------------------------------------- resolution


class _Resolver:
    def __init__(self, text: str, objects: dict[str, ObjectDef]) -> None:
        self.text = text
        self.objects = objects

    def error(self, code: str, column: int, message: str) -> Exception:
        return bad(code, _located(self.text, column, message))

    def object(self, name: str, column: int) -> ObjectDef:
        for obj in self.objects.values():
            if obj.name.lower() == name.lower():
                return obj
        raise self.error(
            "INVALID_TYPE",
            column,
            f"sObject type '{name}' is not supported. If you are attempting to use a custom "
            "object, be sure to append the '__c' after the entity name. Please reference your "
            "WSDL or the describe call for the appropriate names.",
        )

    def path(self, obj: ObjectDef, path: FieldPath) -> None:
        parts = path.text.split(".")
        if len(parts) > 1 and parts[0].lower() == obj.name.lower():
            parts = parts[1:]  # ``Case.Subject`` in a query on Case
        current: ObjectDef | None = obj
        polymorphic = False
        for part in parts[:-1]:
            hop = current.relationship(part) if current is not None else None
            if polymorphic:
                hop = None
            if hop is None:
                raise self.error(
                    "INVALID_FIELD",
                    path.column,
                    f"Didn't understand relationship '{part}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' "
                    "after the custom relationship name. Please reference your WSDL or the "
                    "describe call for the appropriate names.",
                )
            path.hops.append(hop)
            polymorphic = hop.polymorphic
            current = None if polymorphic else self.objects[hop.reference_to[0]]
        last = parts[-1]
        if current is None:
            target = next((f for f in NAME_FIELDS if f.name.lower() == last.lower()), None)
            entity = "Name"
        else:
            target = current.field(last)
            entity = current.name
        if target is None:
            raise self.error(
                "INVALID_FIELD",
                path.column,
                f"No such column '{last}' on entity '{entity}'. If you are attempting to use "
                "a custom field, be sure to append the '__c' after the custom field name. "
                "Please reference your WSDL or the describe call for the appropriate names.",
            )
        path.target = target

    def select(self, select: Select, obj: ObjectDef) -> None:
        seen: set[str] = set()
        for item in select.items:
            if isinstance(item, SubQuery):
                self.subquery(item, obj)
                continue
            self.path(obj, item)
            if item.key in seen:
                raise self.error(
                    "MALFORMED_QUERY", item.column, f"duplicate field selected: {item.text}"
                )
            seen.add(item.key)
        if select.where is not None:
            self.condition(select.where, obj)
        for order in select.order:
            self.path(obj, order.path)

    def subquery(self, sub: SubQuery, parent: ObjectDef) -> None:
        name = sub.select.sobject
        relationship = parent.children.get(name.lower())
        if relationship is None:
            raise self.error(
                "INVALID_TYPE",
                sub.select.from_column,
                f"Didn't understand relationship '{name}' in FROM part of query call. If you "
                "are attempting to use a custom relationship, be sure to append the '__r' "
                "after the custom relationship name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
            )
        sub.select.relationship = relationship
        sub.select.sobject = relationship.child
        self.select(sub.select, self.objects[relationship.child])

    def condition(self, cond: Condition, obj: ObjectDef) -> None:
        if isinstance(cond, Logic):
            for item in cond.items:
                self.condition(item, obj)
            return
        self.path(obj, cond.path)
        assert cond.path.target is not None
        values = cond.value if isinstance(cond.value, list) else [cond.value]
        checked = [self.literal(cond.path, cond.path.target, v, cond.op) for v in values]
        cond.value = checked if isinstance(cond.value, list) else checked[0]

    def literal(self, path: FieldPath, target: FieldDef, value: Literal, op: str) -> Literal:
        if value.kind == "null":
            if op not in ("=", "!=", "IN", "NOT IN"):
                raise self.error("MALFORMED_QUERY", value.column, "unexpected token: 'null'")
            return value
        if op == "LIKE" and (value.kind != "string" or target.type not in TEXT_TYPES):
            raise self.error(
                "INVALID_QUERY_FILTER_OPERATOR",
                value.column,
                f"invalid operator on {target.type} field: LIKE",
            )
        if target.type in ("id", "reference") and value.kind == "string" and op != "LIKE":
            normalized = normalize(value.value)
            if normalized is None:
                raise self.error(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    value.column,
                    f"invalid ID field: {value.value}",
                )
            return Literal("string", normalized, value.raw, value.column)
        wanted = "string" if target.type in TEXT_TYPES else target.type
        kinds = {"string": "string", "datetime": "datetime", "date": "date", "boolean": "bool"}
        expected_kind = kinds.get(wanted, "number")
        if value.kind == expected_kind:
            return value
        word = _TYPE_WORDS.get(target.type, "string")
        if wanted == "string":
            message = (
                f"value of filter criterion for field '{path.text}' must be of type string "
                "and should be enclosed in quotes"
            )
        else:
            message = (
                f"value of filter criterion for field '{path.text}' must be of type {word} "
                "and should not be enclosed in quotes"
            )
        raise self.error("INVALID_QUERY_FILTER_OPERATOR", value.column, message)


def parse(text: str, objects: dict[str, ObjectDef]) -> Select:
    """Parse and resolve a query against the org schema; ``ApiError`` when Salesforce
    would refuse it."""
    parser = _Parser(text)
    if not parser.tokens:
        raise parser.fail(None)
    select = parser.query()
    resolver = _Resolver(parser.text, objects)
    obj = resolver.object(select.sobject, select.from_column)
    select.sobject = obj.name
    resolver.select(select, obj)
    if obj.name == "ContentDocumentLink" and not _filters_link(select.where):
        raise bad(
            "MALFORMED_QUERY",
            "Implementation restriction: ContentDocumentLink requires a filter by a single Id "
            "on ContentDocumentId or LinkedEntityId using the equals operator or multiple "
            "Id's using the IN operator.",
        )
    return select


def _filters_link(cond: Condition | None) -> bool:
    if cond is None:
        return False
    if isinstance(cond, Comparison):
        name = cond.path.target.name if cond.path.target and not cond.path.hops else ""
        return name in ("LinkedEntityId", "ContentDocumentId") and cond.op in ("=", "IN")
    if cond.op == "AND":
        return any(_filters_link(item) for item in cond.items)
    if cond.op == "OR":
        return all(_filters_link(item) for item in cond.items)
    return False
