"""Logging: structlog over the standard library, every record redacted, a private file in the data dir."""

from __future__ import annotations

import logging
import os
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

import structlog

from tradewarden.adapters.vault.redaction import RedactingFilter, redact_text, structlog_redactor

LOG_FILE = "tradewarden.log"


def configure_logging(home: Path | None, level: int = logging.INFO) -> None:
    """Send logs to HOME/tradewarden.log (0600) when a home is given; redact secrets everywhere."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_tradewarden", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = []
    if home is not None and home.is_dir():
        path = home / LOG_FILE
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    for handler in handlers:
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handler._tradewarden = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog_redactor,
            structlog.processors.KeyValueRenderer(key_order=["event"]),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger bound to `name`."""
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger


def _append_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(text)


def write_crash_log(exc: BaseException, home: Path | None) -> Path | None:
    """Write `exc`'s traceback (redacted, no local variables) to HOME/tradewarden.log, or to a new 0600
    file in the temporary directory when the home is unusable; return the file written, None if none.

    Used for failures that may come before logging is set up (bad settings, an unusable home, a damaged
    database), so the terminal gets one line and the details still land somewhere named.
    """
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = redact_text(
        f"{stamp} ERROR tradewarden unexpected error\n" + "".join(traceback.format_exception(exc))
    )
    if home is not None and home.is_dir():
        try:
            _append_private(home / LOG_FILE, text)
            return home / LOG_FILE
        except OSError:
            pass
    try:
        fd, name = tempfile.mkstemp(prefix="tradewarden-error-", suffix=".log")  # 0600 by definition
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return Path(name)
    except OSError:
        return None
