"""structlog set-up: readable console lines for people, JSON lines for jobs, never a secret."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

from myopenip_bot.config.settings import LogFormat

_SECRET_KEYS = {"password", "cookie", "cookies", "set-cookie", "storage_state", "token", "secret"}
REDACTED = "[redacted]"


class SecretScrubber:
    """A structlog processor that drops secret-named keys and masks known secret values."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = {s for s in secrets if s}

    def add(self, *secrets: str) -> None:
        self._secrets.update(s for s in secrets if s)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def __call__(
        self, logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            value = event_dict[key]
            if key.lower() in _SECRET_KEYS:
                event_dict[key] = REDACTED
            elif isinstance(value, str) and self._secrets:
                event_dict[key] = self.scrub(value)
        return event_dict


# One scrubber for the process: the session registers the password and cookies it learns.
scrubber = SecretScrubber()


def configure_logging(
    log_format: LogFormat = LogFormat.AUTO, level: str = "info", stream: TextIO | None = None
) -> None:
    """Send structlog events to stderr (or `stream`) as console lines or JSON lines."""
    stream = stream or sys.stderr
    if log_format is LogFormat.AUTO:
        log_format = LogFormat.CONSOLE if stream.isatty() else LogFormat.JSON
    renderer: structlog.typing.Processor
    if log_format is LogFormat.JSON:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            scrubber,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
