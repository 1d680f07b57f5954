"""Log redaction: no opened secret value survives into a log record, whatever logged it."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from tradewarden.adapters.vault.secret import MASK, live_secret_values


def redact_text(text: str, values: frozenset[str] | None = None) -> str:
    """Replace every known secret value inside `text` with the mask, longest first."""
    for value in sorted(values if values is not None else live_secret_values(), key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text


def _redact_value(value: Any, values: frozenset[str]) -> Any:
    if isinstance(value, str):
        return redact_text(value, values)
    if isinstance(value, dict):
        return {key: _redact_value(item, values) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(item, values) for item in value)
    return value


def _redact_arg(arg: Any, values: frozenset[str]) -> Any:
    # Keep an argument's type unless its text holds a secret: the record is shared by every handler,
    # and "%d" of an int turned into a string fails to format (httpx and uvicorn log status codes so).
    if isinstance(arg, str):
        return redact_text(arg, values)
    text = str(arg)
    redacted = redact_text(text, values)
    return arg if redacted == text else redacted


class RedactingFilter(logging.Filter):
    """A stdlib logging filter that rewrites the message, arguments and traceback of each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        values = live_secret_values()
        if not values:
            return True
        record.msg = redact_text(str(record.msg), values)
        if record.args:
            record.args = (
                tuple(_redact_arg(arg, values) for arg in record.args)
                if isinstance(record.args, tuple)
                else _redact_value(record.args, values)
            )
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now, redacted, so no handler formats the raw one later.
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info), values)
            record.exc_info = None
        return True


def structlog_redactor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor doing what RedactingFilter does, on the event dict."""
    values = live_secret_values()
    if not values:
        return event_dict
    for key, value in list(event_dict.items()):
        event_dict[key] = _redact_value(value, values)
    return event_dict
