"""structlog set-up: every event as a JSON line in the run folder (`events.jsonl`), on
stderr JSON lines for jobs, or for a person at a terminal only the warnings and errors;
never a secret (the scrubber runs before any of them).

What belongs to one run is a `RunLog` (its events file, the secrets it learnt), which the
code running it creates and binds (`RunLog.bound()`) for the time it runs: nothing here is
shared between runs, so two runs in one process write to two folders. An event logged
outside any run goes to stderr only, its secret-named keys masked.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import structlog

from myopenip_bot.config.settings import LogFormat

EVENTS_NAME = "events.jsonl"
# The key under which the bound RunLog travels in an event until the outputs take it out.
_RUN_KEY = "_myopenip_run_log"
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


def _scrub(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """The processor: the bound run's scrubber, else one that only masks secret keys."""
    run = event_dict.pop(_RUN_KEY, None)
    scrubbed = (run.scrubber if isinstance(run, RunLog) else _KEYS_ONLY)(logger, method, event_dict)
    if run is not None:
        scrubbed[_RUN_KEY] = run
    return scrubbed


_KEYS_ONLY = SecretScrubber()


class EventsFile:
    """Every event of one run as a JSON line, in the run folder once there is one:
    events before that wait in memory (a run that ends before it has a folder keeps
    none). The first folder given wins (a batch's report, then its workers' sessions)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[str] = []
        self._handle: TextIO | None = None
        self.path: Path | None = None
        self.failed: str | None = None  # why the events file could not be written on

    def write(self, line: str) -> None:
        with self._lock:
            if self._handle is not None:
                try:
                    self._handle.write(line + "\n")
                    self._handle.flush()
                except OSError as error:  # a full disk: the run goes on, stderr has the events
                    self._lost(error)
            elif self.failed is None and len(self._waiting) < _MAX_WAITING:
                self._waiting.append(line)

    def _lost(self, error: OSError) -> None:
        """The events file cannot be written any more: closed, nothing more is tried."""
        handle, self._handle = self._handle, None
        self.failed = error.strerror or str(error)
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()

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
            try:
                for line in self._waiting:
                    self._handle.write(line + "\n")
                self._handle.flush()
            except OSError as error:
                self._lost(error)
            self._waiting.clear()

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                with contextlib.suppress(OSError):  # its last lines on a full disk
                    self._handle.close()
            self._handle, self.path = None, None
            self._waiting.clear()


_MAX_WAITING = 10_000
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class RunLog:
    """One run's logging: its events file (`open(folder)`; the first folder wins) and the
    secrets its events must never show (`forbid`). Bound with `bound()` in every thread
    that works for the run; `close()` when the run is over."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.events = EventsFile()
        self.scrubber = SecretScrubber(secrets)

    def __repr__(self) -> str:  # shown by a structlog set-up that is not ours: no secret
        return f"RunLog(folder={str(self.folder or '')!r})"

    @property
    def folder(self) -> Path | None:
        """The folder the events go to, once one was opened."""
        return self.events.path.parent if self.events.path is not None else None

    def open(self, folder: Path) -> None:
        """Write the events to `folder`'s events.jsonl, unless a folder was opened before."""
        self.events.open(folder / EVENTS_NAME)

    def forbid(self, *secrets: str) -> None:
        """Mask these values in every event of the run from now on."""
        self.scrubber.add(*secrets)

    @contextmanager
    def bound(self) -> Iterator[RunLog]:
        """Within the block, this thread's events are this run's."""
        with structlog.contextvars.bound_contextvars(**{_RUN_KEY: self}):
            yield self

    def close(self) -> None:
        self.events.close()


# The end of a run, which the command itself tells a person in their words (once, with
# what to do next), and a batch's rows, which its table and report show: not repeated on
# their console (the events file and JSON lines keep them).
SAID_BY_THE_COMMAND = frozenset(
    {"run_stopped", "run_failed", "batch_finished", "batch_row", "batch_rows"}
)


class _Outputs:
    """The last processor: the event to the events file as JSON, then to the stream as
    JSON (jobs), as a console line (a person; warnings and errors only), or not at all."""

    def __init__(self, log_format: LogFormat) -> None:
        self.format = log_format
        self.json = structlog.processors.JSONRenderer(ensure_ascii=False)

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        run = event_dict.pop(_RUN_KEY, None)
        line = str(self.json(logger, method, dict(event_dict)))
        if isinstance(run, RunLog):
            run.events.write(line)
        if self.format is LogFormat.JSON:
            return line
        if event_dict.get("level") in ("warning", "error", "critical") and (
            event_dict.get("event") not in SAID_BY_THE_COMMAND
        ):
            from myopenip_bot.wording import event_text  # its words are the catalog's

            return event_text(event_dict)
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
            _scrub,
            _Outputs(log_format),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=lambda *args: _Stream(given),
        cache_logger_on_first_use=False,
    )
