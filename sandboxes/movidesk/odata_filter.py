"""The ``$filter`` subset of the Movidesk sandbox: a small OData expression compiler.

``compile_filter(text, schema)`` turns a ``$filter`` value into a predicate over the rows
``shapes.filter_row`` builds, or raises ``ApiError`` 400 (opaque message), as the real
API answers a query it cannot run. Supported, from the reference "OData queries" and the
filters public clients send (the OData guide in jonasandre/movidesk-cli; KB 240544):
comparisons ``eq ne gt ge lt le``; ``and``, ``or``, ``not`` and
parentheses; string literals in single quotes (``''`` escapes a quote); integers,
``true``/``false``/``null``; ``contains``/``startswith``/``endswith``/``tolower``/
``toupper``; lambdas ``any``/``all`` over collections (``clients/any(c: c/id eq 'X')``,
``clients/any(c: c/organization/id eq 'X')``, ``customFieldValues/any(c: c/customFieldId
eq 1 and c/value eq 'x')``, ``tags/any(t: t eq 'x')``).

Datetime literals are accepted ONLY as ``YYYY-MM-DDTHH:MM:SS(.fff)Z``: an offset
(``+00:00``), a naive value, a date alone or another number of fraction digits is a 400
(that guide: "``+00:00`` and naive dates are rejected"; the exact accepted set is unverified:
chosen to be the strict case). Comparing a property with a literal of another type is a
400 too (the guide's trap 4: "Mixing them yields 400"); string comparison is case-sensitive
(unverified: strict). An unknown property is a 400 (the guide's trap 1: ``ownerTeam/name`` →
HTTP 400).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .shapes import ApiError, query_error

Row = Mapping[str, Any]
Env = dict[str, Any]
Getter = Callable[[Row, Env], Any]
Predicate = Callable[[Row, Env], bool]


@dataclass(frozen=True, slots=True)
class FilterSchema:
    """What ``$filter`` may name on one entity: scalar paths with their types (``int``,
    ``str``, ``datetime``, ``bool``) and collections (a primitive type, or the element's
    own scalar paths)."""

    entity: str
    scalars: Mapping[str, str]
    collections: Mapping[str, str | Mapping[str, str]] = field(default_factory=dict)


TICKET_FILTER = FilterSchema(
    "Ticket",
    {
        "id": "int",
        "protocol": "str",
        "type": "int",
        "subject": "str",
        "category": "str",
        "urgency": "str",
        "status": "str",
        "baseStatus": "str",
        "justification": "str",
        "origin": "int",
        "ownerTeam": "str",
        "createdDate": "datetime",
        "lastUpdate": "datetime",
        "lastActionDate": "datetime",
        "resolvedIn": "datetime",
        "closedIn": "datetime",
        "actionCount": "int",
        "owner/id": "str",
        "owner/businessName": "str",
        "createdBy/id": "str",
        "createdBy/businessName": "str",
    },
    {
        "tags": "str",
        "clients": {
            "id": "str",
            "businessName": "str",
            "email": "str",
            "personType": "int",
            "profileType": "int",
            "organization/id": "str",
            "organization/businessName": "str",
        },
        "customFieldValues": {
            "customFieldId": "int",
            "customFieldRuleId": "int",
            "line": "int",
            "value": "str",
        },
        "parentTickets": {"id": "int"},
        "childrenTickets": {"id": "int"},
    },
)
SERVICE_FILTER = FilterSchema(
    # KB 7440 layout: the scalar properties a filter can name; ``categories`` a collection
    # of names (``categories/any(c: c eq 'x')``).
    "Service",
    {
        "id": "int",
        "name": "str",
        "description": "str",
        "parentServiceId": "int",
        "serviceForTicketType": "int",
        "isVisible": "int",
        "allowSelection": "int",
        "allowFinishTicket": "bool",
        "isActive": "bool",
        "defaultCategory": "str",
        "defaultUrgency": "str",
        "allowAllCategories": "bool",
    },
    {"categories": "str"},
)
PERSON_FILTER = FilterSchema(
    "Person",
    {
        "id": "str",
        "codeReferenceAdditional": "str",
        "isActive": "bool",
        "personType": "int",
        "profileType": "int",
        "accessProfile": "str",
        "corporateName": "str",
        "businessName": "str",
        "cpfCnpj": "str",
        "userName": "str",
        "role": "str",
    },
    {
        "teams": "str",
        # KB 189 (Persons API layout): emails[] of emailType, email, isDefault; a client is
        # looked up by e-mail with ``emails/any(e: e/email eq 'x')``.
        "emails": {"emailType": "str", "email": "str", "isDefault": "bool"},
    },
)

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*')
      | (?P<dt>\d{4}-\d{2}-\d{2}[^\s(),]*)
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_$][A-Za-z0-9_]*)
      | (?P<punct>[(),:/])
    )""",
    re.VERBOSE,
)
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z")
_COMPARE = ("eq", "ne", "gt", "ge", "lt", "le")
_STRING_TESTS: Mapping[str, Callable[[str, str], bool]] = {
    "contains": lambda value, part: part in value,
    "startswith": lambda value, part: value.startswith(part),
    "endswith": lambda value, part: value.endswith(part),
}


@dataclass(frozen=True, slots=True)
class _Operand:
    kind: str
    """``prop`` (a value read from the row), ``lit`` (a literal) or ``bool`` (a predicate)."""
    type: str | None
    """The value's type; None for the ``null`` literal."""
    get: Getter


def parse_datetime_literal(text: str) -> datetime:
    """A filter datetime literal, or a 400 unless it is ``YYYY-MM-DDTHH:MM:SS(.fff)Z``."""
    if not _DATETIME.fullmatch(text):
        raise query_error(f"The DateTime literal '{text}' is not in a supported format.")
    try:
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise query_error(f"The DateTime literal '{text}' is not valid.") from None


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise query_error(f"Syntax error at position {pos} in '{text}'.")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        if op == "eq":
            return left is None and right is None
        if op == "ne":
            return not (left is None and right is None)
        return False
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if op == "gt":
        return bool(left > right)
    if op == "ge":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    return bool(left <= right)


def _walk(value: Any, segments: list[str]) -> Any:
    for segment in segments:
        if not isinstance(value, Mapping):
            return None
        value = value.get(segment)
    return value


class _Parser:
    """Recursive descent over the token list; compiles as it parses."""

    def __init__(self, text: str, schema: FilterSchema) -> None:
        self.text = text
        self.schema = schema
        self.tokens = _tokens(text)
        self.pos = 0
        self.scopes: list[tuple[str, str | Mapping[str, str]]] = []

    # -------------------------------------------------------------- token helpers

    def _peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def _is(self, value: str, offset: int = 0) -> bool:
        token = self._peek(offset)
        return token is not None and token[1] == value and token[0] in ("name", "punct")

    def _expect(self, value: str) -> None:
        if not self._is(value):
            raise query_error(f"'{value}' expected in '{self.text}'.")
        self.pos += 1

    # -------------------------------------------------------------- grammar

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.pos != len(self.tokens):
            raise query_error(f"Syntax error at '{self.tokens[self.pos][1]}' in '{self.text}'.")
        return predicate

    def _or(self) -> Predicate:
        left = self._and()
        while self._is("or"):
            self.pos += 1
            right = self._and()
            left = (lambda a, b: lambda row, env: a(row, env) or b(row, env))(left, right)
        return left

    def _and(self) -> Predicate:
        left = self._not()
        while self._is("and"):
            self.pos += 1
            right = self._not()
            left = (lambda a, b: lambda row, env: a(row, env) and b(row, env))(left, right)
        return left

    def _not(self) -> Predicate:
        if self._is("not"):
            self.pos += 1
            inner = self._not()
            return lambda row, env: not inner(row, env)
        return self._comparison()

    def _comparison(self) -> Predicate:
        left = self._operand()
        token = self._peek()
        if token is not None and token[0] == "name" and token[1] in _COMPARE:
            self.pos += 1
            right = self._operand()
            return self._compiled_compare(token[1], left, right)
        if left.kind == "bool" or (left.kind == "prop" and left.type == "bool"):
            get = left.get
            return lambda row, env: bool(get(row, env))
        raise query_error(f"A binary operator was expected in '{self.text}'.")

    def _compiled_compare(self, op: str, left: _Operand, right: _Operand) -> Predicate:
        for one, other in ((left, right), (right, left)):
            if one.kind == "bool":
                raise query_error(f"Operator '{op}' cannot compare a condition.")
            if one.type is not None and other.type is not None and one.type != other.type:
                raise query_error(
                    f"A binary operator with incompatible types was detected. Found operand "
                    f"types '{one.type}' and '{other.type}' for operator kind '{op}'."
                )
        get_left, get_right = left.get, right.get
        return lambda row, env: _compare(op, get_left(row, env), get_right(row, env))

    def _operand(self) -> _Operand:
        token = self._peek()
        if token is None:
            raise query_error(f"Unexpected end of '{self.text}'.")
        kind, value = token
        if kind == "punct" and value == "(":
            self.pos += 1
            inner = self._or()
            self._expect(")")
            return _Operand("bool", "bool", inner)
        self.pos += 1
        if kind == "str":
            literal: Any = value[1:-1].replace("''", "'")
            return _Operand("lit", "str", lambda row, env, v=literal: v)
        if kind == "dt":
            moment = parse_datetime_literal(value)
            return _Operand("lit", "datetime", lambda row, env, v=moment: v)
        if kind == "num":
            number: Any = float(value) if "." in value else int(value)
            return _Operand("lit", "int", lambda row, env, v=number: v)
        if kind == "name":
            if value in ("true", "false"):
                flag = value == "true"
                return _Operand("lit", "bool", lambda row, env, v=flag: v)
            if value == "null":
                return _Operand("lit", None, lambda row, env: None)
            if self._is("("):
                return self._function(value)
            return self._path(value)
        raise query_error(f"Syntax error at '{value}' in '{self.text}'.")

    def _function(self, name: str) -> _Operand:
        self._expect("(")
        if name in _STRING_TESTS:
            subject = self._operand()
            self._expect(",")
            part = self._operand()
            self._expect(")")
            if subject.type != "str" or part.type != "str":
                raise query_error(f"Function '{name}' takes two strings.")
            test = _STRING_TESTS[name]
            get_subject, get_part = subject.get, part.get

            def check(row: Row, env: Env) -> bool:
                value, piece = get_subject(row, env), get_part(row, env)
                return value is not None and piece is not None and test(value, piece)

            return _Operand("bool", "bool", check)
        if name in ("tolower", "toupper"):
            inner = self._operand()
            self._expect(")")
            if inner.type != "str":
                raise query_error(f"Function '{name}' takes a string.")
            get = inner.get
            lower = name == "tolower"

            def case(row: Row, env: Env) -> Any:
                value = get(row, env)
                if value is None:
                    return None
                return value.lower() if lower else value.upper()

            return _Operand("prop", "str", case)
        raise query_error(f"Unknown function '{name}'.")

    def _path(self, first: str) -> _Operand:
        segments = [first]
        while self._is("/"):
            self.pos += 1
            token = self._peek()
            if token is None or token[0] != "name":
                raise query_error(f"Property name expected after '/' in '{self.text}'.")
            self.pos += 1
            if token[1] in ("any", "all") and self._is("("):
                return self._lambda(segments, token[1])
            segments.append(token[1])
        for var, element in reversed(self.scopes):
            if segments[0] != var:
                continue
            rest = segments[1:]
            if isinstance(element, str):
                if rest:
                    raise query_error(f"Could not find a property named '{rest[0]}'.")
                return _Operand("prop", element, lambda row, env, v=var: env.get(v))
            name = "/".join(rest)
            if name not in element:
                raise query_error(f"Could not find a property named '{name}' on '{var}'.")
            return _Operand(
                "prop", element[name], lambda row, env, v=var, r=rest: _walk(env.get(v), r)
            )
        name = "/".join(segments)
        if name not in self.schema.scalars:
            raise query_error(
                f"Could not find a property named '{name}' on type '{self.schema.entity}'."
            )
        return _Operand(
            "prop", self.schema.scalars[name], lambda row, env, s=segments: _walk(row, s)
        )

    def _lambda(self, segments: list[str], quantifier: str) -> _Operand:
        name = "/".join(segments)
        if self.scopes or name not in self.schema.collections:
            raise query_error(
                f"Could not find a collection named '{name}' on type '{self.schema.entity}'."
            )
        self._expect("(")
        token = self._peek()
        if token is None or token[0] != "name":
            raise query_error(f"A range variable was expected in '{self.text}'.")
        var = token[1]
        self.pos += 1
        self._expect(":")
        self.scopes.append((var, self.schema.collections[name]))
        inner = self._or()
        self.scopes.pop()
        self._expect(")")

        def quantified(row: Row, env: Env) -> bool:
            items = _walk(row, segments) or []
            results = (inner(row, {**env, var: item}) for item in items)
            return any(results) if quantifier == "any" else all(results)

        return _Operand("bool", "bool", quantified)


def compile_filter(text: str, schema: FilterSchema) -> Callable[[Row], bool]:
    """``$filter`` → a predicate over rows; ``ApiError`` 400 for anything unsupported."""
    if not text.strip():
        raise query_error("The $filter query option is empty.")
    try:
        predicate = _Parser(text, schema).parse()
    except ApiError:
        raise
    except (IndexError, ValueError):
        raise query_error(f"Syntax error in '{text}'.") from None
    return lambda row: predicate(row, {})
