"""One retry policy for every layer: how many times, how long between, and who may cut it.

Only technical failures are retried (a 5xx, a timeout, a network error, a login that
got no answer); a business refusal never is. The same policy serves a step of a run
(`Portal.step`), a login, and a batch's service; the page objects never retry on their
own. So the most a single failing read is sent is `attempts` for a one-shot and
`attempts ** 2` in a batch (a service tried `attempts` times, each of its steps as
often), and every retry is logged with its attempt and the budget.

The wait between two attempts is exponential with "equal jitter" (AWS Architecture Blog,
"Exponential Backoff And Jitter"): half of it is certain, half random, so that workers
failing together do not come back together. It sleeps through `StopSignal.sleep`: a
signal cuts it short and stops the run at that safe point.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from myopenip_bot.interrupts import StopSignal

__all__ = ["DEFAULT_POLICY", "RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` in all (the first one included); waits from `base` seconds up to `cap`."""

    attempts: int = 3
    base: float = 0.5
    cap: float = 8.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failure in a row (1, 2, …)."""
        ceiling: float = min(self.cap, self.base * 2.0 ** (failures - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def wait(self, failures: int, stop: StopSignal) -> None:
        """Wait before the next attempt; a signal cuts the wait and raises Interrupted."""
        stop.sleep(self.delay(failures))

    def gives_up(self, failures: int) -> bool:
        """Whether `failures` in a row have used the budget."""
        return failures >= self.attempts


DEFAULT_POLICY = RetryPolicy()
