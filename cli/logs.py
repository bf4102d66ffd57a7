"""Logging set-up: human-readable lines on a terminal, JSON lines for services.

Records carry an ``event`` name (``ticket.decided``, ``effect.applied``, ...) and fields
such as connector, ticket_id, effect_key and attempt. One ``MaskingFilter`` sits on the
handler, so no logger can bypass it: CPF, CNPJ, e-mail and phone values are masked and
secret-named fields are filtered. Comment bodies are never logged.

While a progress bar is on the terminal (``backfill``), ``logs_above_bar`` sends the
records of that handler through ``tqdm.write``: each one is written on its own line above
the bar, which is drawn again below it, in either format, masked the same way.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


def _ours() -> logging.Handler | None:
    """The handler ``setup_logging`` installed on the root logger, if any."""
    root = logging.getLogger()
    return next((h for h in root.handlers if getattr(h, "_helpdesk_sync", False)), None)


@contextmanager
def logs_above_bar(tqdm_class: type[Any]) -> Iterator[None]:
    """While inside, log records to the terminal are written above ``tqdm_class``'s bars.

    ``tqdm.contrib.logging.logging_redirect_tqdm`` swaps the console handler for one that
    writes through ``tqdm_class.write`` with the same formatter (text or JSON) and stream.
    Our handler's filters (``MaskingFilter``) go along to the new handler, whatever the
    tqdm version, so nothing is logged unmasked; it carries our mark, and the original
    handler comes back on the way out. A handler that does not write to stderr or
    stdout (a test's stream) cannot break a bar on the terminal: it is left alone.
    """
    from tqdm.contrib.logging import logging_redirect_tqdm

    ours = _ours()
    if ours is None or getattr(ours, "stream", None) not in (sys.stderr, sys.stdout):
        yield
        return
    root = logging.getLogger()
    before = list(root.handlers)
    with logging_redirect_tqdm([root], tqdm_class=tqdm_class):
        for handler in root.handlers:
            if handler not in before:
                for log_filter in ours.filters:
                    handler.addFilter(log_filter)
                handler._helpdesk_sync = True  # type: ignore[attr-defined]
        yield
