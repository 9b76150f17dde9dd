"""A licence's own page, linked from its row of the listing: its « Options » (a hint).

The spec does not promise this page: the replica shows it (a definition list, or labels
beside their values), another portal may not. Whatever it lacks, its options are unknown
(None), never a failure: the bot only uses them to say more in the confirmation.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from myopenip_bot.config.selectors import Selectors, locate
from myopenip_bot.errors import BotError
from myopenip_bot.failures import best_effort
from myopenip_bot.pages._base import Screen, portal_text
from myopenip_bot.pages.presence import prepare_page

__all__ = ["LicencePage", "OpeningLicencePage", "licence_link", "options_read", "read_options"]

log = structlog.get_logger(__name__)

# What a value that lists no option reads ("Aucune", "—"): no option, not an option.
_NONE = frozenset({"aucune", "aucun", "none", "neant", "néant"})
# Options are listed one a line or separated by commas (", " on the replica).
_SEPARATORS = re.compile(r"[,;\n]")
# The value beside a label: the element right after it (a <dd> after its <dt>, a value
# span after its label span), read as a person reads it.
_VALUE_BESIDE = "(label) => { const v = label.nextElementSibling; return v ? v.innerText : null; }"


def options_read(value: str) -> tuple[str, ...]:
    """The options a value lists ("Application standardiste, Enregistrement des appels"):
    each one as the portal writes it; none for "Aucune" or "—"."""
    parts = [portal_text(part) for part in _SEPARATORS.split(value)]
    named = [part for part in parts if any(ch.isalnum() for ch in part)]
    if len(named) == 1 and named[0].casefold() in _NONE:
        return ()
    return tuple(named)


def licence_link(scope: Page | Locator, selectors: Selectors, ref: str, base: str) -> str | None:
    """The address of `ref`'s own page, from the link in its row (`scope`: the results
    table); None when the listing has no such link (one only: a link is read, not guessed)."""
    control = selectors.hints.licence_page
    if control is None:
        return None
    links = locate(scope, control, ref=ref)
    if links.count() != 1:
        return None
    href = links.get_attribute("href")
    return urljoin(base, href) if href else None


class LicencePage(Screen):
    """A licence's page, opened on its own page of the browser context."""

    def status(self) -> int | None:
        """The HTTP status the page came with (None: not known)."""
        return self._presence.document_status()

    def options(self, step: str) -> tuple[str, ...] | None:
        """Its options, once the page has settled; None when it shows no « Options »
        label (one only) with a value beside it."""
        control = self.selectors.hints.licence_options
        if control is None:
            return None
        self._wait_settled(step)
        labels = self._locate(control).filter(visible=True)
        if labels.count() != 1:
            return None
        value = labels.evaluate(_VALUE_BESIDE)
        return options_read(value) if isinstance(value, str) else None


def read_options(
    page: Page, selectors: Selectors, address: str, *, timeout_ms: float
) -> tuple[str, ...] | None:
    """The options `address` (a licence's page) shows, read on a new page of `page`'s
    context (the service's page, its search and its ticks stay as they are), closed
    after. None when the page cannot be read: a hint never fails a run."""
    step = f"reading the options on {address}"
    other = page.context.new_page()
    try:
        prepare_page(other)
        other.set_default_timeout(timeout_ms)
        response = other.goto(address, wait_until="load")
        if response is not None and not response.ok:
            log.info("licence_page_unread", address=address, status=response.status)
            return None
        return LicencePage(other, selectors, timeout_ms=timeout_ms).options(step)
    except (PlaywrightError, BotError) as error:
        log.info("licence_page_unread", address=address, error=type(error).__name__)
        return None
    finally:
        other.close()


class OpeningLicencePage:
    """A licence's page being opened on a new page of the context, without waiting for
    it: the bot goes on with the service's page meanwhile (ticks, the dialog), and
    `read` waits for it once the options are needed. Like `read_options`, a hint: any
    failure reads as None; `close` (idempotent) whatever happens."""

    def __init__(self, page: Page, selectors: Selectors, address: str, *, timeout_ms: float):
        self.selectors = selectors
        self.address = address
        self.timeout_ms = timeout_ms
        self._page: Page | None = None
        try:
            self._page = page.context.new_page()
            prepare_page(self._page)
            self._page.set_default_timeout(timeout_ms)
            # The link's address, as a person opens it in a new tab; not waited for here.
            self._page.evaluate("(url) => { window.location.href = url; }", address)
        except PlaywrightError as error:
            log.info("licence_page_unread", address=address, error=type(error).__name__)
            self.close()

    def read(self) -> tuple[str, ...] | None:
        """Its options, once it has loaded and settled (LicencePage.options); then closed."""
        other = self._page
        if other is None:
            return None
        step = f"reading the options on {self.address}"
        try:
            other.wait_for_url(lambda url: url != "about:blank", wait_until="load")
            licence = LicencePage(other, self.selectors, timeout_ms=self.timeout_ms)
            status = licence.status()
            if status is not None and status >= 400:
                log.info("licence_page_unread", address=self.address, status=status)
                return None
            return licence.options(step)
        except (PlaywrightError, BotError) as error:
            log.info("licence_page_unread", address=self.address, error=type(error).__name__)
            return None
        finally:
            self.close()

    def close(self) -> None:
        other, self._page = self._page, None
        if other is not None:
            best_effort(other.close, None)  # gone with the browser: nothing to close
