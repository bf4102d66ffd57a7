"""Wire formats of the Salesforce sandbox: timestamps, error bodies, record JSON helpers.

Sources, as tags in comments: [ref §N] the shared reference ``salesforce.md``; [src]
simple-salesforce 1.12.10 source; [err] the REST API "Status Codes and Error Responses"
page; [api] the SOAP API "StatusCode" list, whose codes REST reuses; or "unverified:
chosen to be the strict case". Timestamps go out as ``2026-11-19T13:00:00.000+0000``
(UTC, milliseconds always ``.000`` because the sandbox keeps whole seconds, [ref §2]).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

API_VERSION = "59.0"
DATA_PREFIX = f"/services/data/v{API_VERSION}"

# [ref §7]: single-call errors are a JSON list of {message, errorCode, fields?}.
SESSION_INVALID = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
# [ref §8] / brief: the daily allocation exhausted.
LIMIT_EXCEEDED = [
    {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
]
# [ref §8]: too many long-running concurrent requests also answer REQUEST_LIMIT_EXCEEDED;
# the message names the limit (ConcurrentPerOrgLongTxn, from secondary sources).
CONCURRENCY_EXCEEDED = [
    {"message": "ConcurrentPerOrgLongTxn Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
]
# [ref §7]: "503 unavailable (body may be HTML → .content is str)"; 500 as
# UNKNOWN_EXCEPTION with an ErrorId [err]; the exact texts are unverified.
SERVER_ERROR_BODIES: dict[int, tuple[str, bytes]] = {
    500: (
        "application/json",
        json.dumps(
            [
                {
                    "message": "An unexpected error occurred. Please include this ErrorId "
                    "if you contact support: 1234567890-12345 (-1234567890)",
                    "errorCode": "UNKNOWN_EXCEPTION",
                }
            ]
        ).encode(),
    ),
    503: (
        "text/html",
        b"<html><head><title>Service Unavailable</title></head>"
        b"<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service "
        b"your request. Please try again later.</p></body></html>",
    ),
}


class ApiError(Exception):
    """Raised inside route handlers; becomes the HTTP answer (``body`` JSON-encoded)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body

    @property
    def code(self) -> str:
        """The first error's ``errorCode`` (what a collection row reports as ``statusCode``)."""
        if isinstance(self.body, list) and self.body and isinstance(self.body[0], dict):
            return str(self.body[0].get("errorCode", "UNKNOWN_EXCEPTION"))
        return "UNKNOWN_EXCEPTION"

    @property
    def message(self) -> str:
        if isinstance(self.body, list) and self.body and isinstance(self.body[0], dict):
            return str(self.body[0].get("message", ""))
        return str(self.body)

    @property
    def fields(self) -> list[str]:
        if isinstance(self.body, list) and self.body and isinstance(self.body[0], dict):
            return list(self.body[0].get("fields", []))
        return []

    def as_row(self) -> dict[str, Any]:
        """The error as a collection row reports it: ``statusCode``, not ``errorCode``
        ([ref §1.6]; failed rows carry no ``id``)."""
        return {"success": False, "errors": [self.row_error()]}

    def row_error(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


def error(status: int, code: str, message: str, fields: Sequence[str] | None = None) -> ApiError:
    """An ``ApiError`` with the single-call body ``[{"message", "errorCode", "fields"?}]``."""
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        item["fields"] = list(fields)
    return ApiError(status, [item])


def bad(code: str, message: str, fields: Sequence[str] | None = None) -> ApiError:
    """A 400 ``ApiError``."""
    return error(400, code, message, fields)


def not_found() -> ApiError:
    # [err]: 404 "The requested resource does not exist" with errorCode NOT_FOUND.
    return error(404, "NOT_FOUND", "The requested resource does not exist")


def fmt(moment: datetime | None) -> str | None:
    """A datetime as Salesforce answers it: ``2026-11-19T13:00:00.000+0000`` [ref §2]."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def whole_second(moment: datetime) -> datetime:
    """``moment`` in UTC with the sub-second part dropped (the sandbox's precision)."""
    return moment.astimezone(UTC).replace(microsecond=0)


_DATETIME_IN = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$"
)
_DATE_IN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_datetime(text: str) -> datetime | None:
    """A datetime a client sends in a body (``...Z``, ``+00:00``, ``.000+0000``); ``None``
    when it is not one. Kept at whole seconds."""
    if not _DATETIME_IN.match(text):
        return None
    normalized = text.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", normalized):
        normalized = normalized[:-2] + ":" + normalized[-2:]
    try:
        return whole_second(datetime.fromisoformat(normalized))
    except ValueError:
        return None


def parse_date(text: str) -> date | None:
    """A ``YYYY-MM-DD`` date; ``None`` for anything else (a datetime included)."""
    if not _DATE_IN.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def sobject_url(sobject: str, record_id: str) -> str:
    """``attributes.url`` of a record [ref §1.6 examples]."""
    return f"{DATA_PREFIX}/sobjects/{sobject}/{record_id}"


def wire_value(value: Any) -> Any:
    """A stored value as JSON: datetimes rendered by ``fmt``, dates as ``YYYY-MM-DD``."""
    if isinstance(value, datetime):
        return fmt(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
