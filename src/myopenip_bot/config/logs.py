"""structlog set-up: every event as a JSON line in the run folder (`events.jsonl`), on
stderr JSON lines for jobs, or for a person at a terminal only the warnings and errors;
never a secret (the scrubber runs before any of them)."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterable, MutableMapping
from pathlib import Path
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


class EventsFile:
    """Every event of the process as a JSON line, in the run folder once there is one:
    events before that wait in memory (a run that ends before it has a folder keeps
    none). The first folder given wins (a batch's report, then its workers' sessions)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[str] = []
        self._handle: TextIO | None = None
        self.path: Path | None = None

    def write(self, line: str) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.write(line + "\n")
                self._handle.flush()
            elif len(self._waiting) < _MAX_WAITING:
                self._waiting.append(line)

    def open(self, path: Path) -> None:
        """Append the events to `path` (private, never through a link) from now on, those
        waiting first."""
        with self._lock:
            if self._handle is not None:
                return
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _NOFOLLOW, 0o600)
            except OSError:
                return  # no events file: stderr still has the warnings and errors
            self._handle = os.fdopen(fd, "w", encoding="utf-8")
            self.path = path
            for line in self._waiting:
                self._handle.write(line + "\n")
            self._waiting.clear()
            self._handle.flush()

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
            self._handle, self.path = None, None
            self._waiting.clear()


_MAX_WAITING = 10_000
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
events = EventsFile()


class _Outputs:
    """The last processor: the event to the events file as JSON, then to the stream as
    JSON (jobs), as a console line (a person; warnings and errors only), or not at all."""

    def __init__(self, log_format: LogFormat, colors: bool) -> None:
        self.format = log_format
        self.json = structlog.processors.JSONRenderer(ensure_ascii=False)
        self.console = structlog.dev.ConsoleRenderer(colors=colors)

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        line = str(self.json(logger, method, dict(event_dict)))
        events.write(line)
        if self.format is LogFormat.JSON:
            return line
        if event_dict.get("level") in ("warning", "error", "critical"):
            return str(self.console(logger, method, event_dict))
        raise structlog.DropEvent


class _Stream:
    """Writes each rendered event to `stream`, or to whatever `sys.stderr` is when the
    event is logged (a test or a caller may have swapped it since)."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream

    def msg(self, message: str) -> None:
        stream = self._stream or sys.stderr
        try:
            stream.write(message + "\n")
            stream.flush()
        except ValueError:  # closed: the events file still has it
            pass

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def configure_logging(
    log_format: LogFormat = LogFormat.AUTO, level: str = "info", stream: TextIO | None = None
) -> None:
    """Events to the events file and to stderr (or `stream`): JSON lines when it is not a
    terminal (or MYOPENIP_LOG_FORMAT=json), else the warnings and errors for a person."""
    given = stream
    stream = stream or sys.stderr
    if log_format is LogFormat.AUTO:
        log_format = LogFormat.CONSOLE if stream.isatty() else LogFormat.JSON
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            scrubber,
            _Outputs(log_format, colors=stream.isatty()),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=lambda *args: _Stream(given),
        cache_logger_on_first_use=False,
    )
