"""One retry policy for every layer: how many times, how long between, and who may cut it.

Only technical failures are retried (a 5xx, a timeout, a network error, a login that
got no answer); a business refusal never is. The same policy serves a read retried in
place (`Portal.goto`, the way to a service: an error page answering a page the bot
opened is opened again), a step of a run (`Portal.step`), a login, and a batch's
service; the page objects never retry on their own. So the most a single failing read
is sent is `attempts ** 2` for a one-shot and `attempts ** 3` in a batch (a service tried
`attempts` times, each of its steps as often, each read in it as often in place), and
every retry is logged with its attempt and the budget. « Valider » is none of these:
dissociation/ has its own rules for it.

The wait between two attempts is exponential with "equal jitter" (AWS Architecture Blog,
"Exponential Backoff And Jitter"): half of it is certain, half random, so that workers
failing together do not come back together. It sleeps through `StopSignal.sleep`: a
signal cuts it short and stops the run at that safe point.

The start of a run (opening the portal, logging in) has a budget of time instead
(`StartupBudget`, MYOPENIP_STARTUP_TIMEOUT): a portal that is not answering yet (a
scheduler started the job before it, a restart under way) is waited for with the same
backoff, up to `cap` between attempts, until the time is spent; never fewer attempts than
the policy's. Later steps keep the policy.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from myopenip_bot.interrupts import StopSignal

__all__ = ["DEFAULT_POLICY", "RetryPolicy", "StartupBudget"]


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
        stop.sleep(self.delay(failures))  # allowed: a retry's backoff, cut by a signal

    def gives_up(self, failures: int) -> bool:
        """Whether `failures` in a row have used the budget."""
        return failures >= self.attempts

    def left_to_log(self) -> dict[str, float]:
        """What a retry's log line says of the budget."""
        return {"attempts": self.attempts}


DEFAULT_POLICY = RetryPolicy()


@dataclass
class StartupBudget:
    """`timeout` seconds of retries from now under `policy`'s backoff, for a run's start."""

    timeout: float
    policy: RetryPolicy = DEFAULT_POLICY
    clock: Callable[[], float] = time.monotonic
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def left(self) -> float:
        """Seconds of the budget not spent yet (0 when spent)."""
        return max(0.0, self.timeout - (self.clock() - self.started))

    def gives_up(self, failures: int) -> bool:
        """Whether `failures` in a row end the start: the time is spent and the policy's
        attempts too (a budget of 0 is the policy alone)."""
        return self.policy.gives_up(failures) and self.left() <= 0

    def delay(self, failures: int) -> float:
        """The policy's wait, never beyond the budget's end (but the policy's own attempts)."""
        wait = self.policy.delay(failures)
        return min(wait, self.left()) if self.policy.gives_up(failures) else wait

    def wait(self, failures: int, stop: StopSignal) -> None:
        """Wait before the next attempt; a signal cuts the wait and raises Interrupted."""
        stop.sleep(self.delay(failures))  # allowed: a retry's backoff, cut by a signal

    def left_to_log(self) -> dict[str, float]:
        """What a retry's log line says of the budget: the time left, of how much."""
        return {"seconds_left": round(self.left(), 1), "startup_timeout": self.timeout}
