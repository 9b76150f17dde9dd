"""How long to wait before asking a failing portal again: exponential backoff with jitter."""

from __future__ import annotations

import random

__all__ = ["backoff_delay"]


def backoff_delay(attempt: int, *, base: float = 0.5, cap: float = 8.0) -> float:
    """Seconds to wait after the `attempt`-th failure (1, 2, …): "equal jitter".

    Half of `base * 2 ** (attempt - 1)` (capped) is certain, the other half random, so
    that workers failing together do not come back together (AWS Architecture Blog,
    "Exponential Backoff And Jitter").
    """
    ceiling: float = min(cap, base * 2.0 ** (attempt - 1))
    jitter: float = random.uniform(0, ceiling / 2)
    return ceiling / 2 + jitter
