"""Logging: structlog over the standard library, every record redacted, a private file in the data dir."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import structlog

from tradewarden.adapters.vault.redaction import RedactingFilter, structlog_redactor

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
