"""Fakes for testing retries without waiting: a stop signal that records its backoff, and
the little a Portal asks of its page before a step touches it."""

from __future__ import annotations

import signal

from myopenip_bot.interrupts import StopSignal


class RecordingStop(StopSignal):
    """A stop signal whose backoff is recorded, not slept; `signal_during` makes the n-th
    wait the one a signal arrives in."""

    def __init__(self, signal_during: int | None = None) -> None:
        super().__init__()
        self.slept: list[float] = []
        self._signal_during = signal_during

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if len(self.slept) == self._signal_during:
            self.request(signal.SIGTERM)
        self.check()


class NoPage:
    """All a Portal asks of its page before a step touches it (the settle script)."""

    def add_init_script(self, script: str) -> None:
        pass
