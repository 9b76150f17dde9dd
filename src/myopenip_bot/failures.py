"""The one map from Playwright's errors to the bot's (as httpx maps its transports' errors).

Playwright raises its own `Error` (and `TimeoutError`, `TargetClosedError`) from any call.
Nothing else in the bot catches them: a call that may fail runs inside `translating(step)`
and raises `BrowserFailure` (a TechnicalError, so a step retries it), or through
`best_effort`, when the bot can do without its answer (a screenshot, a cookie list).

    translating(step)                 a block whose Playwright errors become BrowserFailure
    translated(step, action)          the same, for one call; returns what it returns
    best_effort(action, default, …)   what `action` returns, or `default` when Playwright
                                      failed (logged as a warning when `event` is given)
    failure(error, step)              the map itself: the BrowserFailure for one error
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from myopenip_bot.errors import BrowserFailure, first_line, network_failure

__all__ = ["best_effort", "failure", "translated", "translating"]

log = structlog.get_logger(__name__)

T = TypeVar("T")
D = TypeVar("D")


def failure(error: PlaywrightError, step: str | None = None) -> BrowserFailure:
    """The bot's error for one of Playwright's: a timeout says so; a network error
    (net::ERR_…) says what it means in words; anything else, Playwright's first line.
    The message starts with the step, when there is one."""
    why = first_line(error)
    timed_out = isinstance(error, PlaywrightTimeoutError)
    said = f"timed out ({why})" if timed_out else network_failure(why) or why
    message = f"{step}: {said}" if step else said
    return BrowserFailure(message, why=why, step=step, timed_out=timed_out)


@contextmanager
def translating(step: str | None = None) -> Iterator[None]:
    """Within the block, Playwright's errors are raised as BrowserFailure naming `step`."""
    try:
        yield
    except PlaywrightError as error:
        raise failure(error, step) from None


def translated(step: str | None, action: Callable[[], T]) -> T:
    """Run `action`; Playwright's errors raised as BrowserFailure naming `step`."""
    with translating(step):
        return action()


def best_effort(
    action: Callable[[], T], default: D, *, event: str | None = None, **fields: Any
) -> T | D:
    """What `action` returns, or `default` when Playwright failed; the failure is logged
    as the warning `event` (with `fields` and `why`) when one is named."""
    try:
        return action()
    except PlaywrightError as error:
        if event is not None:
            log.warning(event, **fields, why=first_line(error))
        return default
