"""The login handover: the password is typed in a browser context that is never traced;
only the cookies it earns are handed to the context that works (and may be traced)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

__all__ = ["COOKIE_MIN_LENGTH", "cookie_secrets", "untraced_login"]

# A cookie value shorter than this is a preference ("fr"), not a session: replacing it
# everywhere would only garble a trace. Cookie headers are blanked whatever their length.
COOKIE_MIN_LENGTH = 8


def cookie_secrets(context: BrowserContext) -> set[str]:
    """The values of `context`'s cookies that are secrets (sessions), to redact."""
    try:
        values = {c["value"] for c in context.cookies() if c.get("value")}
    except PlaywrightError:
        return set()
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
        with suppress(PlaywrightError):
            login.close()
    into.add_cookies(cookies)  # type: ignore[arg-type]
