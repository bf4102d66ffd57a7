"""SOQL evaluation and query locators of the Salesforce sandbox.

``QueryEngine.run_query`` evaluates a parsed ``soql.Select`` against the org: rows of the
object (deleted ones only for ``queryAll``), ``WHERE``, ``ORDER BY`` (SOQL's defaults:
ascending puts nulls first, descending last; ties keep creation order, which Salesforce
does not promise), ``OFFSET``/``LIMIT``, then renders each row as the REST API does
[ref §1.3, §2]:

- ``"attributes": {"type": "Case", "url": "/services/data/v59.0/sobjects/Case/<id>"}``
  first, then the selected fields in the order selected, with their API names;
- a relationship path as a nested object with its own ``attributes`` (a polymorphic one,
  ``Owner``, has type ``Name``, the object SOQL answers it as; its ``url`` names the real
  object, unverified), ``null`` when the lookup is empty;
- a child subquery as ``{"totalSize", "done", "records"}``, or ``null`` when it matched
  nothing (Salesforce's answer for an empty child relationship); past
  ``child_page_size`` rows it is cut with ``done: false`` and its own ``nextRecordsUrl``
  [ref §10.3].

String comparisons, ``LIKE`` and string ordering ignore case, as SOQL's do; ids compare
in their 18-character form. The whole result is rendered when the query runs and kept
in a ``Cursor``: pages of ``batchSize`` rows (``Sforce-Query-Options``, clamped to
``min_batch_size``..``max_batch_size``, default the maximum [ref §2]) are served from it
by ``nextRecordsUrl`` (``/services/data/v59.0/query/01g...-<offset>``), from any offset,
until ``cursor_ttl`` passes or ``expire_cursors`` runs; then ``INVALID_QUERY_LOCATOR``.
Not modelled: the batch shrinking when subqueries are selected [qopt].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .ids import normalize, object_of
from .records import Cursor, Json
from .schema import FieldDef
from .shapes import DATA_PREFIX, ApiError, bad, sobject_url, wire_value
from .soql import Comparison, Condition, FieldPath, Literal, Select, SubQuery, like_pattern, parse
from .state import SandboxState


class QueryEngine(SandboxState):
    """``run_query`` / ``query_page`` (a mixin of the sandbox; callers hold the lock)."""

    # ------------------------------------------------------------------ entry points

    def run_query(self, text: str, *, include_deleted: bool, batch: int | None) -> Json:
        """The first page of a query's answer."""
        select = parse(text, self.objects)
        self._child_index = {}
        rows = self._evaluate(select, self.data[select.sobject].values(), include_deleted)
        rendered = [self._render(select, row, include_deleted) for row in rows]
        cursor = Cursor(self._new_locator(), rendered, len(rendered), self.now())
        return self._page(cursor, 0, self._batch_size(batch), top=True)

    def query_page(self, locator: str, *, batch: int | None) -> Json:
        """The page of a locator ``01g...-<offset>``."""
        cursor_id, _, offset_text = locator.partition("-")
        cursor = self.cursors.get(cursor_id)
        if cursor is not None and self.now() - cursor.created > self.cursor_ttl:
            del self.cursors[cursor_id]
            cursor = None
        if cursor is None or not offset_text.isdigit() or int(offset_text) > cursor.total:
            # [ref §2, §10.8]: an unknown or expired cursor → INVALID_QUERY_LOCATOR.
            raise bad("INVALID_QUERY_LOCATOR", "invalid query locator")
        size = self.child_page_size if cursor.child else self._batch_size(batch)
        return self._page(cursor, int(offset_text), size, top=not cursor.child)

    def _batch_size(self, batch: int | None) -> int:
        if batch is None:
            return self.max_batch_size
        return max(self.min_batch_size, min(self.max_batch_size, batch))

    def _page(self, cursor: Cursor, offset: int, size: int, *, top: bool) -> Json:
        end = offset + size
        page: Json = {
            "totalSize": cursor.total,
            "done": end >= cursor.total,
            "records": cursor.rows[offset:end],
        }
        if top:
            self.listed.update(str(r["Id"]) for r in page["records"] if r.get("Id"))
        if end < cursor.total:
            self.cursors[cursor.id] = cursor
            page["nextRecordsUrl"] = f"{DATA_PREFIX}/query/{cursor.id}-{end}"
        elif top:
            self.cursors.pop(cursor.id, None)
        return page

    # ------------------------------------------------------------------ evaluation

    def _evaluate(self, select: Select, rows: Any, include_deleted: bool) -> list[Json]:
        matched = [
            row
            for row in rows
            if (include_deleted or not row["IsDeleted"])
            and (select.where is None or self._test(select.where, row))
        ]
        for item in reversed(select.order):
            nulls = [r for r in matched if self._value(item.path, r) is None]
            values = [r for r in matched if self._value(item.path, r) is not None]
            values.sort(
                key=lambda r, p=item.path: _sort_key(self._value(p, r)),  # type: ignore[misc]
                reverse=item.descending,
            )
            matched = nulls + values if item.nulls_go_first else values + nulls
        if select.offset:
            matched = matched[select.offset :]
        if select.limit is not None:
            matched = matched[: select.limit]
        return matched

    def _test(self, cond: Condition, row: Json) -> bool:
        if not isinstance(cond, Comparison):
            if cond.op == "NOT":
                return not self._test(cond.items[0], row)
            results = (self._test(item, row) for item in cond.items)
            return all(results) if cond.op == "AND" else any(results)
        value = self._value(cond.path, row)
        assert cond.path.target is not None
        is_id = cond.path.target.type in ("id", "reference")
        if cond.op in ("IN", "NOT IN"):
            assert isinstance(cond.value, list)
            found = any(_equal(value, lit, is_id) for lit in cond.value)
            return found if cond.op == "IN" else not found
        assert isinstance(cond.value, Literal)
        literal = cond.value
        if cond.op == "=":
            return _equal(value, literal, is_id)
        if cond.op == "!=":
            return not _equal(value, literal, is_id)
        if value is None or literal.value is None:
            return False
        if cond.op == "LIKE":
            return like_pattern(literal.raw).match(str(value)) is not None
        left, right = _sort_key(value), _sort_key(literal.value)
        return {
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[cond.op]

    def _target(self, record_id: Any) -> tuple[str, Json] | None:
        if not isinstance(record_id, str):
            return None
        sobject = object_of(record_id)
        if sobject is None:
            return None
        record = self.data[sobject].get(record_id)
        return None if record is None else (sobject, record)

    def _value(self, path: FieldPath, row: Json) -> Any:
        record: Json | None = row
        for hop in path.hops:
            found = self._target(record.get(hop.name)) if record is not None else None
            record = None if found is None else self._view(hop, *found)
        if record is None:
            return None
        assert path.target is not None
        return record.get(path.target.name)

    def _view(self, hop: FieldDef, sobject: str, record: Json) -> Json:
        """The related record as a relationship shows it (the ``Name`` object when the
        lookup is polymorphic)."""
        if not hop.polymorphic:
            return record
        return {
            "Id": record["Id"],
            "Name": record.get("Name") or record.get("Title"),
            "Type": record["Type"] if sobject == "Group" else sobject,
            "Username": record.get("Username"),
            "Email": record.get("Email"),
            "Alias": record.get("Alias"),
            "IsActive": record.get("IsActive"),
            "FirstName": None,
            "LastName": record.get("Name") if sobject == "User" else None,
        }

    # ------------------------------------------------------------------ rendering

    def _render(self, select: Select, row: Json, include_deleted: bool) -> Json:
        sobject = select.sobject
        out: Json = {"attributes": {"type": sobject, "url": sobject_url(sobject, row["Id"])}}
        for item in select.items:
            if isinstance(item, SubQuery):
                assert item.select.relationship is not None
                out[item.select.relationship.name] = self._children(item, row, include_deleted)
                continue
            self._place(out, item, row)
        return out

    def _place(self, out: Json, path: FieldPath, row: Json) -> None:
        assert path.target is not None
        node: Json = out
        record: Json | None = row
        for hop in path.hops:
            name = hop.relationship or hop.name
            found = self._target(record.get(hop.name)) if record is not None else None
            if found is None:
                node[name] = None
                return
            sobject, related = found
            existing = node.get(name)
            if not isinstance(existing, dict):
                kind = "Name" if hop.polymorphic else sobject
                existing = {
                    "attributes": {"type": kind, "url": sobject_url(sobject, related["Id"])}
                }
                node[name] = existing
            node = existing
            record = self._view(hop, sobject, related)
        node[path.target.name] = wire_value(record.get(path.target.name) if record else None)

    def _children(self, sub: SubQuery, parent: Json, include_deleted: bool) -> Json | None:
        relationship = sub.select.relationship
        assert relationship is not None
        # Children grouped by parent once per query (a scan per parent is quadratic).
        key = (relationship.child, relationship.field)
        index = self._child_index.get(key)
        if index is None:
            index = {}
            for r in self.data[relationship.child].values():
                index.setdefault(r.get(relationship.field), []).append(r)
            self._child_index[key] = index
        rows = self._evaluate(sub.select, index.get(parent["Id"], []), include_deleted)
        if not rows:
            return None
        rendered = [self._render(sub.select, r, include_deleted) for r in rows]
        cursor = Cursor(self._new_locator(), rendered, len(rendered), self.now(), child=True)
        return self._page(cursor, 0, self.child_page_size, top=False)


def _sort_key(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    return value


def _equal(value: Any, literal: Literal, is_id: bool) -> bool:
    if literal.value is None:
        return value is None
    if value is None:
        return False
    if is_id:
        return bool(value == normalize(literal.value))
    if isinstance(value, str) and isinstance(literal.value, str):
        return value.casefold() == literal.value.casefold()
    return bool(value == literal.value)


def batch_size(headers: Mapping[str, str]) -> int | None:
    """``batchSize`` of a ``Sforce-Query-Options`` header (None when absent or unreadable)."""
    for name, value in headers.items():
        if name.lower() != "sforce-query-options":
            continue
        for part in value.split(","):
            key, _, number = part.strip().partition("=")
            if key.strip().lower() == "batchsize" and number.strip().isdigit():
                return int(number.strip())
    return None


__all__ = ["ApiError", "QueryEngine", "batch_size"]
