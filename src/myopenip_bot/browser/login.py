"""The login handover: a login in the middle of a run (its trace recording) is typed in a
browser context that is never traced; only the cookies it earns are handed to the context
that works. (A run's first login, before its trace starts, is typed on its own page:
BotSession.portal.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from playwright.sync_api import BrowserContext, Page

from myopenip_bot.failures import best_effort

__all__ = ["COOKIE_MIN_LENGTH", "cookie_secrets", "untraced_login"]

# A cookie value shorter than this is a preference ("fr"), not a session: replacing it
# everywhere would only garble a trace. Cookie headers are blanked whatever their length.
COOKIE_MIN_LENGTH = 8


def cookie_secrets(context: BrowserContext) -> set[str]:
    """The values of `context`'s cookies that are secrets (sessions), to redact."""
    cookies = best_effort(context.cookies, [])
    values = {c["value"] for c in cookies if c.get("value")}
    return {value for value in values if len(value) >= COOKIE_MIN_LENGTH}


@contextmanager
def untraced_login(
    new_context: Callable[[], BrowserContext],
    into: BrowserContext,
    remember: Callable[[set[str]], None],
) -> Iterator[Page]:
    """Yield a page of a new context (`new_context()`, never traced) to log in on; once
    the block ends, hand its cookies to `into` and tell `remember` which are secrets."""
    login = new_context()
    try:
        yield login.new_page()
        cookies = login.cookies()
        remember(cookie_secrets(login))
    finally:
        best_effort(login.close, None)
    into.add_cookies(cookies)  # type: ignore[arg-type]
