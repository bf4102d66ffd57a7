"""Write routes of the Salesforce sandbox: single sObject writes and sObject Collections.

Single calls [ref §1.2]: ``POST sobjects/<Type>/`` → 201 ``{"id", "success": true,
"errors": []}``; ``PATCH sobjects/<Type>/<id>`` and ``DELETE`` → 204 with no body
(simple-salesforce returns the status int). Refusals are the ``writes`` module's errors as
``[{"message", "errorCode", "fields"}]``.

sObject Collections [ref §1.6, coll]: ``POST`` (create) and ``PATCH`` (update)
``composite/sobjects`` with ``{"allOrNone": bool, "records": [{"attributes": {"type":
...}, "id"?: ..., ...}]}`` and ``DELETE composite/sobjects?ids=a,b[&allOrNone=true]``:
one API call, HTTP 200 with one row per record in order, ``{"id", "success": true,
"errors": []}`` or ``{"success": false, "errors": [{"statusCode", "message", "fields"}]}``
(``statusCode``, not ``errorCode``; failed rows carry no ``id``). With ``allOrNone`` one
failure rolls every record back and the others answer ``ALL_OR_NONE_OPERATION_ROLLED_BACK``.
More than 200 records → 400 ``EXCEEDED_ID_LIMIT`` "record limit reached. cannot submit
more than 200 records into this call" (the text public threads quote; unverified); a
body without a ``records`` list → 400 ``JSON_PARSER_ERROR``; a record without
``attributes.type`` → that row fails ``INVALID_TYPE`` "Must send a concrete entity type."
(unverified). Not modelled: the partial-save retries Salesforce runs when some rows fail
without ``allOrNone`` (triggers re-run on the good rows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .dispatch import Dispatch, Request
from .records import Json
from .shapes import ApiError, bad

MAX_COLLECTION = 200
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was "
    "using AllOrNone header",
    "fields": [],
}


class WriteRoutes(Dispatch):
    """``POST``/``PATCH``/``DELETE`` handlers (a mixin of the sandbox)."""

    def _create(self, request: Request, sobject: str) -> tuple[int, Any]:
        record_id = self.insert(sobject, request.json(), request.context())
        return 201, {"id": record_id, "success": True, "errors": []}

    def _update(self, request: Request, sobject: str, record_id: str) -> tuple[int, Any]:
        self.update(sobject, record_id, request.json(), request.context())
        return 204, None

    def _delete(self, request: Request, sobject: str, record_id: str) -> tuple[int, Any]:
        self.delete(sobject, record_id, request.context())
        return 204, None

    # ------------------------------------------------------------------ collections

    def _collection_body(self, request: Request) -> tuple[bool, list[Any]]:
        data = request.json()
        if not isinstance(data, dict) or not isinstance(data.get("records"), list):
            raise bad("JSON_PARSER_ERROR", "The request body must contain a records list.")
        records: list[Any] = data["records"]
        if len(records) > MAX_COLLECTION:
            raise _too_many()
        return bool(data.get("allOrNone", False)), records

    def _collection_create(self, request: Request) -> tuple[int, Any]:
        all_or_none, records = self._collection_body(request)
        ctx = request.context("POST")

        def one(record: Any) -> str:
            sobject = _type_of(record)
            return self.insert(sobject, {k: v for k, v in record.items() if k != "attributes"}, ctx)

        return 200, self._rows(records, one, all_or_none)

    def _collection_update(self, request: Request) -> tuple[int, Any]:
        all_or_none, records = self._collection_body(request)
        ctx = request.context("PATCH")

        def one(record: Any) -> str:
            sobject = _type_of(record)
            record_id = next((v for k, v in record.items() if k.lower() == "id"), None)
            if record_id is None:
                raise bad("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
            fields = {k: v for k, v in record.items() if k != "attributes"}
            return self.update(sobject, record_id, fields, ctx)

        return 200, self._rows(records, one, all_or_none)

    def _collection_delete(self, request: Request) -> tuple[int, Any]:
        ids = [i for i in (request.param("ids") or "").split(",") if i]
        if not ids:
            raise bad("MISSING_ARGUMENT", "ids parameter is required")
        if len(ids) > MAX_COLLECTION:
            raise _too_many()
        all_or_none = (request.param("allOrNone") or "false").lower() == "true"
        ctx = request.context("DELETE")
        return 200, self._rows(ids, lambda raw: self.delete(None, raw, ctx), all_or_none)

    def _rows(self, items: list[Any], one: Callable[[Any], str], all_or_none: bool) -> list[Json]:
        snap = self.snapshot() if all_or_none else None
        rows: list[Json] = []
        failed = False
        for item in items:
            try:
                rows.append({"id": one(item), "success": True, "errors": []})
            except ApiError as exc:
                failed = True
                rows.append(exc.as_row())
        if failed and snap is not None:
            self.restore(snap)
            rows = [
                row if not row["success"] else {"success": False, "errors": [dict(ROLLED_BACK)]}
                for row in rows
            ]
        return rows


def _type_of(record: Any) -> str:
    if not isinstance(record, dict):
        raise bad("JSON_PARSER_ERROR", "Each record must be a JSON object.")
    attributes = record.get("attributes")
    sobject = attributes.get("type") if isinstance(attributes, dict) else None
    if not isinstance(sobject, str) or not sobject:
        raise bad("INVALID_TYPE", "Must send a concrete entity type.", [])
    return sobject


def _too_many() -> ApiError:
    return bad(
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 200 records into this call",
    )
