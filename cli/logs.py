"""Logging set-up: human-readable lines on a terminal, JSON lines for services.

Records carry an ``event`` name (``ticket.decided``, ``effect.applied``, ...) and fields
such as connector, ticket_id, effect_key and attempt. One ``MaskingFilter`` sits on the
handler, so no logger can bypass it: CPF, CNPJ, e-mail and phone values are masked and
secret-named fields are filtered. Comment bodies are never logged.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from sync.masking import MaskingFilter, mask_text

_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _traceback(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    """The record's traceback as the masking filter left it (``exc_text``); formatted and
    masked here only for a record that did not pass the filter."""
    if record.exc_text:
        return record.exc_text
    assert record.exc_info is not None
    return mask_text(formatter.formatException(record.exc_info))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, event fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(_extras(record))
        if record.exc_info or record.exc_text:
            data["exception"] = _traceback(self, record)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``HH:MM:SS LEVEL message key=value ...`` for people at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")  # noqa: DTZ006
        fields = " ".join(
            f"{k}={v}" for k, v in _extras(record).items() if k != "event" and v not in (None, "")
        )
        text = f"{stamp} {record.levelname:<7} {record.getMessage()}"
        if fields:
            text += f"  {fields}"
        if record.exc_info or record.exc_text:
            text += "\n" + _traceback(self, record)
        return text


def setup_logging(fmt: str = "auto", level: str = "INFO", stream: TextIO | None = None) -> None:
    """Install one masked handler on the root logger, at ``level`` (idempotent)."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "text" if stream.isatty() else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_helpdesk_sync", False):
            root.removeHandler(old)
    handler._helpdesk_sync = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # A command configures logging whole: a level an earlier command set on our own logger
    # (the demo quiets it) must not carry over when several run in one process.
    logging.getLogger("helpdesk_sync").setLevel(logging.NOTSET)
