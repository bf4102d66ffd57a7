"""Read routes of the Salesforce sandbox: queries, query locators, one record, limits.

- ``GET query/?q=`` / ``GET queryAll/?q=`` [ref §1.2]: the first page of a SOQL query
  (``query`` evaluates it; ``queryAll`` also sees deleted rows [ref §2]); a missing ``q`` →
  400 ``MALFORMED_QUERY``. ``Sforce-Query-Options: batchSize=N`` sets the page size.
- ``GET query/01g...-N`` (what ``nextRecordsUrl`` names; ``sf.query_more(url, True)``
  requests ``https://{instance}{nextRecordsUrl}`` [ref §1.2]): the page from row N.
- ``GET sobjects/<Type>/<id>[?fields=a,b]``: the record with ``attributes`` and every
  field (or the ones asked); unknown or deleted → 404 ``NOT_FOUND``, a malformed id →
  404 ``NOT_FOUND`` "Provided external ID field does not exist or is not accessible"
  (what Salesforce answers when the last segment is not an id [err]).
- ``GET limits/`` → ``{"DailyApiRequests": {"Max": M, "Remaining": R}}`` [ref §8]; the
  call itself is already counted in ``Remaining``.
"""

from __future__ import annotations

from typing import Any

from .dispatch import Dispatch, Request
from .ids import normalize, object_of
from .query import batch_size
from .records import Json
from .shapes import bad, error, not_found, sobject_url, wire_value


class ReadRoutes(Dispatch):
    """``GET`` handlers (a mixin of the sandbox)."""

    def _query(self, request: Request) -> tuple[int, Any]:
        return self._run(request, include_deleted=False)

    def _query_all(self, request: Request) -> tuple[int, Any]:
        return self._run(request, include_deleted=True)

    def _run(self, request: Request, *, include_deleted: bool) -> tuple[int, Any]:
        text = request.param("q")
        if not text:
            raise bad("MALFORMED_QUERY", "A query string has to be specified")
        page = self.run_query(
            text, include_deleted=include_deleted, batch=batch_size(request.headers)
        )
        return 200, page

    def _query_more(self, request: Request, locator: str) -> tuple[int, Any]:
        return 200, self.query_page(locator, batch=batch_size(request.headers))

    def _limits(self, request: Request) -> tuple[int, Any]:
        remaining = max(0, self.daily_limit - self.api_used)
        return 200, {"DailyApiRequests": {"Max": self.daily_limit, "Remaining": remaining}}

    def _get_record(self, request: Request, sobject: str, record_id: str) -> tuple[int, Any]:
        obj = self.objects.get(sobject)
        if obj is None:
            raise not_found()
        full = normalize(record_id)
        if full is None or object_of(full) != sobject:
            raise error(
                404,
                "NOT_FOUND",
                "Provided external ID field does not exist or is not accessible: " + record_id,
            )
        record = self.data[sobject].get(full)
        if record is None or record["IsDeleted"]:
            raise not_found()
        wanted = request.param("fields")
        specs = list(obj.fields.values())
        if wanted:
            specs = []
            for name in wanted.split(","):
                spec = obj.field(name.strip())
                if spec is None:
                    raise bad(
                        "INVALID_FIELD",
                        f"No such column '{name.strip()}' on entity '{sobject}'",
                    )
                specs.append(spec)
        out: Json = {"attributes": {"type": sobject, "url": sobject_url(sobject, full)}}
        for spec in specs:
            out[spec.name] = wire_value(record.get(spec.name))
        return 200, out
