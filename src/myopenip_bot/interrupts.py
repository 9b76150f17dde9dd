"""SIGINT and SIGTERM stop a run at a safe point: the handler only records the signal.

The runner asks `check()` between steps, and never between a click on « Valider » and
reading its answer; `check()` raises Interrupted, the run reports what it did, traces are
redacted and closed in `finally` blocks, and the process exits 128 + the signal. At the
confirmation prompt a signal means "no" at once (`prompting()`), since nothing is under way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import structlog

from myopenip_bot.errors import Interrupted, signal_name
from myopenip_bot.i18n import _

__all__ = ["PromptInterrupted", "StopSignal"]

log = structlog.get_logger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# A backoff sleeps in slices this long, so that a signal cuts it short.
_SLICE = 0.1


class PromptInterrupted(Exception):
    """A signal arrived while a person was being asked: the answer is no."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal_name(signum))


class StopSignal:
    """Whether a signal asked the run to stop; `installed()` makes SIGINT/SIGTERM set it."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._prompting = False
        self._logged = False
        # What the handler writes, in the person's language: looked up now, not in it.
        self._notes = (
            _("%(signal)s: stopping at the next safe point"),
            _("%(signal)s: already stopping, please wait"),
        )

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def request(self, signum: int) -> None:
        """Ask the run to stop (what the handler does; tests call it directly).

        Runs inside a signal handler: it only records the signal and writes one line
        with os.write (no lock, no logging machinery that a signal could re-enter).
        At the prompt it raises PromptInterrupted instead: the answer is no, and the run
        itself is not asked to stop.
        """
        if self._prompting:
            raise PromptInterrupted(signum)
        first = self.signum is None
        if first:
            self.signum = signum
        note = self._notes[0 if first else 1] % {"signal": signal_name(signum)}
        with contextlib.suppress(OSError):
            os.write(2, f"{note}\n".encode())

    def check(self) -> None:
        """Raise Interrupted if a signal arrived: call only where stopping is safe."""
        if self.signum is not None:
            if not self._logged:
                self._logged = True
                log.info("stopped_at_safe_point", signal=signal_name(self.signum))
            raise Interrupted(self.signum)

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` (a retry backoff), less if a signal arrives; then `check()`."""
        deadline = time.monotonic() + seconds
        while self.signum is None and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, _SLICE))  # allowed: a deliberate backoff, cut by a signal
        self.check()

    @contextmanager
    def prompting(self) -> Iterator[None]:
        """While a person is asked, a signal raises PromptInterrupted in the prompt."""
        self._prompting = True
        try:
            yield
        finally:
            self._prompting = False

    @contextmanager
    def installed(self) -> Iterator[StopSignal]:
        """Route SIGINT and SIGTERM here for the block (main thread only), then restore."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous: dict[signal.Signals, Any] = {}
        for signum in SIGNALS:
            previous[signum] = signal.signal(signum, self._handle)
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.request(signum)
