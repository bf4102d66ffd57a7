"""Movidesk public API v1 as the other modules of the package see it: queries, stamps, shapes.

Theory of operation
-------------------
* Authentication is the ``token`` query parameter on every call (``TokenAuth`` adds it to
  each prepared request, retries included). The token never reaches a log or an error:
  ``HttpClient`` names calls by method and path only, and ``mask_token`` scrubs it from any
  URL text (a filter on urllib3's connection log does the same for its debug lines).
* OData queries (``ticket_query``): ``$select`` is always sent (the list answers 400 without
  it); ``$filter`` literals are UTC datetimes ``YYYY-MM-DDTHH:MM:SS.fffZ`` (Movidesk rejects
  ``+00:00`` and naive literals: jonasandre/movidesk-cli ``.claude/skills/movidesk-mcp/
  SKILL.md`` "Literals", MuriloScarpaSitonio/pyvidesk ``pyvidesk/properties.py``
  ``DatetimeProperty.escape_value``) and strings in single quotes with an apostrophe doubled
  (SKILL.md "Literals").
* Datetimes in responses are UTC without an offset and with .NET 7-digit fractions
  (``"2026-11-19T13:00:00.1234567"``, the example of the Tickets API page reproduced in
  public client docs); ``parse_datetime`` takes them with or without ``Z``/offset/fraction,
  a missing offset meaning UTC. ``stamp_key`` orders stamps exactly (all seven digits).
* Response shapes follow the field layout (fabiodalazem/MovideskSDK ``MoviTicket.java``);
  another shape is a ``FatalError`` naming the call and what was expected.
* Error bodies are a JSON string or ``{"message": ...}``; ``MovideskHttp`` keeps a JSON
  string as the API's message (the shared parser only knows objects), never a raw body.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import requests

from sync.contract import FatalError

from .._http import HttpClient

HELPDESK = "movidesk"
DEFAULT_BASE_URL = "https://api.movidesk.com/public/v1"

TICKET_SELECT = (
    "id,protocol,type,subject,category,urgency,status,baseStatus,justification,origin,"
    "createdDate,lastUpdate,ownerTeam,tags,serviceFirstLevel,serviceSecondLevel,"
    "serviceThirdLevel"
)
"""Plain ticket fields every read asks for (expanded collections come with ``$expand``)."""
TICKET_EXPAND = (
    "owner,clients($expand=organization),actions($expand=attachments),"
    "customFieldValues($expand=items),parentTickets,childrenTickets"
)
"""One list call brings whole tickets: owner, clients and their organization, actions with
attachments, custom field values with items, parent and child links."""
CUSTOM_FIELDS_EXPAND = "customFieldValues($expand=items)"

_STAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)
_TOKEN = re.compile(r"(token=)[^&\s'\"]+", re.IGNORECASE)


# ---------------------------------------------------------------------------------------
# datetimes and literals
# ---------------------------------------------------------------------------------------


def _split(text: str) -> tuple[datetime, str]:
    """A stamp as (UTC datetime to the second, fraction digits); ``ValueError`` if bad."""
    match = _STAMP.match(text.strip())
    if match is None:
        raise ValueError(f"not a Movidesk datetime: {text[:40]!r}")
    day, clock, fraction, zone = match.groups()
    if clock.count(":") == 1:
        clock += ":00"
    base = datetime.fromisoformat(f"{day}T{clock}")
    offset = timedelta(0)
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    moment = base.replace(tzinfo=timezone(offset)).astimezone(UTC)
    return moment, fraction or ""


def parse_datetime(text: str) -> datetime:
    """``"2026-11-19T13:00:00.1234567"`` (no offset: UTC) as an aware UTC datetime."""
    moment, fraction = _split(text)
    return moment.replace(microsecond=int((fraction + "000000")[:6]))


def stamp_key(text: str) -> str:
    """A stamp as sortable text with all seven fraction digits (exact keyset order)."""
    moment, fraction = _split(text)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + (fraction + "0000000")[:7]


def odata_datetime(moment: datetime) -> str:
    """A ``$filter`` literal: UTC, milliseconds (truncated), ``Z``."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime is not a Movidesk filter literal")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def floor_ms(moment: datetime) -> datetime:
    """``moment`` truncated to the millisecond (what a filter literal can say)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def ceil_ms(moment: datetime) -> datetime:
    """``moment`` rounded up to the millisecond (an exclusive upper bound stays exclusive)."""
    floor = floor_ms(moment)
    return floor if floor == moment else floor + timedelta(milliseconds=1)


def quote(value: str) -> str:
    """An OData string literal: single quotes, an apostrophe doubled."""
    return "'" + value.replace("'", "''") + "'"


def ticket_query(
    *,
    filter: str | None = None,
    orderby: str | None = None,
    top: int | None = None,
    select: str = TICKET_SELECT,
    expand: str | None = TICKET_EXPAND,
) -> dict[str, Any]:
    """The OData options of a tickets call; ``$select`` always (missing: 400)."""
    params: dict[str, Any] = {"$select": select}
    if filter:
        params["$filter"] = filter
    if orderby:
        params["$orderby"] = orderby
    if top is not None:
        params["$top"] = top
    if expand:
        params["$expand"] = expand
    return params


# ---------------------------------------------------------------------------------------
# token
# ---------------------------------------------------------------------------------------


def mask_token(text: str) -> str:
    """Any ``token=...`` in a URL or message replaced by ``token=***``."""
    return _TOKEN.sub(r"\1***", text)


class TokenAuth(requests.auth.AuthBase):
    """Adds ``?token=<key>`` to every request; its repr never shows the key."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.prepare_url(request.url, {"token": self._token})
        return request

    def __repr__(self) -> str:
        return "TokenAuth(***)"


class _MaskTokenFilter(logging.Filter):
    """Scrubs ``token=`` from urllib3's request lines (they carry the query string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(mask_token(a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str):
            record.msg = mask_token(record.msg)
        return True


_FILTER = _MaskTokenFilter()


def mask_transport_logs() -> None:
    """Install the token filter on urllib3's connection log (idempotent)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


# ---------------------------------------------------------------------------------------
# errors and shapes
# ---------------------------------------------------------------------------------------


class MovideskHttp(HttpClient):
    """``HttpClient`` whose error messages never show the token (it rides in the query)."""

    @staticmethod
    def redact(message: str) -> str:
        return mask_token(message)


def shape_error(call: str, expected: str, got: Any) -> FatalError:
    """A response whose shape is not the documented one: a clear error, never a body."""
    kind = type(got).__name__
    if isinstance(got, Mapping):
        kind += " with keys " + ", ".join(sorted(str(k) for k in got)[:8])
    return FatalError(
        f"unexpected answer to {call}: expected {expected} (Movidesk API v1 layout), got {kind}",
        helpdesk=HELPDESK,
    )


def rows(response: requests.Response, call: str) -> list[dict[str, Any]]:
    """A list call's answer: a JSON array of objects."""
    try:
        data = response.json()
    except ValueError:
        raise shape_error(call, "a JSON array of objects", "non-JSON text") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise shape_error(call, "a JSON array of objects", data)
    return data


def one(response: requests.Response, call: str) -> dict[str, Any]:
    """A by-id call's answer: one JSON object (a one-element array is taken too)."""
    try:
        data = response.json()
    except ValueError:
        raise shape_error(call, "a JSON object", "non-JSON text") from None
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        data = data[0]
    if not isinstance(data, dict):
        raise shape_error(call, "a JSON object", data)
    return data


def checked_ticket(row: Mapping[str, Any], call: str) -> None:
    """A ticket row must carry its ``id`` (int) and ``lastUpdate`` (a datetime)."""
    if not isinstance(row.get("id"), int) or not isinstance(row.get("lastUpdate"), str):
        raise shape_error(call, "tickets with an integer id and a lastUpdate", dict(row))
    try:
        stamp_key(row["lastUpdate"])
    except ValueError:
        raise shape_error(call, "lastUpdate as a UTC datetime", "an unreadable date") from None


def get_ticket(
    http: HttpClient,
    ticket_id: str,
    *,
    select: str = TICKET_SELECT,
    expand: str | None = TICKET_EXPAND,
) -> dict[str, Any]:
    """``GET /tickets?id=N`` (any age) with the given options; 404 for an unknown id."""
    params = {"id": ticket_id, **ticket_query(select=select, expand=expand)}
    call = f"GET /tickets?id={ticket_id}"
    row = one(http.get("/tickets", params=params, ticket_id=ticket_id), call)
    if str(row.get("id")) != str(ticket_id):
        raise shape_error(call, f"ticket {ticket_id}", row)
    return row


__all__ = [
    "CUSTOM_FIELDS_EXPAND",
    "DEFAULT_BASE_URL",
    "HELPDESK",
    "TICKET_EXPAND",
    "TICKET_SELECT",
    "MovideskHttp",
    "TokenAuth",
    "ceil_ms",
    "checked_ticket",
    "floor_ms",
    "get_ticket",
    "mask_token",
    "mask_transport_logs",
    "odata_datetime",
    "one",
    "parse_datetime",
    "quote",
    "rows",
    "shape_error",
    "stamp_key",
    "ticket_query",
]
