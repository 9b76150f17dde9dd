"""A service's licence listings: searches, their pages, and what is on screen now.

Everything the run knows about the screen lives here, and nowhere else: which service's
page the tab is on, what was done on it since it was opened, and whether the whole
listing of a search is still shown (then the next step may read it instead of searching
again). Callers ask for rows and act on the results pages they are handed; they never
say what they did: those pages record it (rows ticked, a dialog opened, how it ended),
and a step that failed (`step`) leaves no listing on screen trusted.

    on screen since                                  the next listing
    a whole listing, nothing done on it              reused by `pages_for`
    any listing showing every licence asked for      acted on as it shows (`pages_for`
                                                       with `refs`): a row on screen is
                                                       proof it is listed there
    rows ticked, a dialog cancelled or its           read on the same page; to tick
      « Valider » confirmed                            (`pages_for`) from a fresh one
    a dialog confirmed in the other tab              that tab opened on the same page,
                                                       when it shows no tick and no
                                                       status left (`_moved_on`)
    a dialog not seen closed, a « Valider » not      read from a fresh page
      confirmed, a step that failed elsewhere than
      on the service's page, or after rows ticked
    a step that failed on the service's page, as      read again on it (a person searches
      it still shows, nothing done on it                again)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TypeVar

import structlog

from myopenip_bot.config.selectors import Texts
from myopenip_bot.errors import ServiceNotActiveError, ServiceNotFoundError
from myopenip_bot.models import ServiceInfo, Tab
from myopenip_bot.pages import LicenceResultsPage, LicenceRow, ServiceSettingsPage
from myopenip_bot.pages.presence import Presence, visible_now
from myopenip_bot.portal.portal import Portal

__all__ = ["Listings", "check_service"]

log = structlog.get_logger(__name__)

T = TypeVar("T")


class Listings:
    """The listings of one service (`start`), on `portal`'s page."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.require_active = True  # a lookup reads a « Suspendu » service too
        self.service_ref = ""
        self.service: ServiceInfo | None = None  # as the services list showed it
        self._settings: ServiceSettingsPage | None = None  # the service page we are on
        self._handed: list[LicenceResultsPage] = []  # its results pages, what was done on them
        self._shown: tuple[Tab, str] | None = None  # a whole one-page listing on screen

    def start(self, service_ref: str, *, require_active: bool = True) -> None:
        """Work on `service_ref` from now on; nothing on screen is trusted yet.
        `require_active`: refuse it unless « Actif » on its first visit (a lookup reads
        any)."""
        self.service_ref = service_ref
        self.require_active = require_active
        self.service = None
        self._forget()

    def step(self, name: str, action: Callable[[], T]) -> T:
        """`portal.step` for a step on these listings: a retry goes on from the service's
        page when it still shows and nothing was done on it (a search answered 5xx leaves
        it as it was: a person searches again), else from a fresh page."""
        return self.portal.step(name, action, on_retry=self._after_failure)

    def _after_failure(self) -> None:
        """A step failed: its listing is no longer trusted; the service's page is kept only
        while it shows (no error page, no login page) and no row was ticked nor dialog
        opened on it."""
        handed = self._handed
        if (
            self._settings is not None
            and not any(results.touched or results.left_unknown for results in handed)
            and _still_shown(self._settings)
        ):
            self._shown = None
            log.info("service_page_kept", service=self.service_ref)
            return
        self._forget()

    def _forget(self) -> None:
        """The next read starts from a fresh page."""
        self._settings = None
        self._handed = []
        self._shown = None

    # -- the service --------------------------------------------------------------------

    def open_service(self) -> ServiceInfo:
        """Find the service and open its settings; refuse it unless MetaCentrex and, on
        the first visit of a run, « Actif » (later visits only read: a back office may
        change its state while a person reads the plan, and the portal then refuses)."""
        self._forget()
        services, info = self.portal.find_service(self.service_ref)
        first = self.service is None and self.require_active
        check_service(info, self.portal.selectors.texts, state=first)
        self.service = info
        self._settings = self.portal.open_found(services, info.ref)
        return info

    def _results(self, tab: Tab, *, fresh: bool = False) -> LicenceResultsPage:
        """The tab's results, on the service page we are on unless what was done on it
        leaves it unknown, or (`fresh`) rows were ticked or a dialog opened on it; the
        results last handed out when they are this tab's and nothing was done on them. After
        a confirmed dialog in the other tab, the same page may go on (`_moved_on`)."""
        unknown = any(results.left_unknown for results in self._handed)
        if unknown or (fresh and self._touched and not self._moved_on(tab)):
            self._forget()
        if self._settings is None:
            self.open_service()
        assert self._settings is not None
        if self._shown is not None and self._shown[0] is not tab:
            self._shown = None  # another tab: its listing is another one
        last = self._handed[-1] if self._handed else None
        if last is not None and last.tab is tab and not last.touched:
            # The tab on screen, opened and settled by an earlier read, nothing done on it
            # since: read or searched as it is (a search waits for its form of its own).
            return last
        results = self._settings.open_tab(tab)
        self._handed.append(results)
        return results

    def tab_on_screen(self) -> Tab | None:
        """The tab the service's page on screen shows (its results last handed out);
        None when no service page is on screen."""
        if self._settings is None or not self._handed:
            return None
        return self._handed[-1].tab

    def _moved_on(self, tab: Tab) -> bool:
        """Whether `tab`, opened on the service's page on screen, shows what a fresh page
        would, after a dialog whose « Valider » the portal confirmed in the other tab: no
        row ticked and no status message left, as a person goes on to the next tab. Then
        its results are the ones to act on; else (a dialog cancelled, this tab acted on
        already, something left on screen) the next ticks start from a fresh page."""
        handed, settings = self._handed, self._settings
        dialogs = [dialog for results in handed for dialog in results.dialogs]
        if (
            settings is None
            or not dialogs
            or any(results.tab is tab and results.touched for results in handed)
            or not all(dialog.answer is not None and dialog.answer.confirmed for dialog in dialogs)
            or not _still_shown(settings)
        ):
            return False
        results = settings.open_tab(tab)
        if results.shows_leftovers():
            log.info("service_page_left", service=self.service_ref, tab=tab.value)
            return False
        self._handed, self._shown = [results], None
        log.info("service_page_kept", service=self.service_ref, tab=tab.value)
        return True

    @property
    def _touched(self) -> bool:
        return any(results.touched for results in self._handed)

    # -- listings -------------------------------------------------------------------------

    def rows_matching(self, tab: Tab, prefix: str, *, again: bool = False) -> list[LicenceRow]:
        """Every row (all pages) that the « Licence » filter `prefix` lists; `again`: the
        search on screen asked once more, to see whether its answer changed
        (LicenceResultsPage.search)."""
        results = self._results(tab)
        self._shown = None
        first = results.search(licence=prefix, again=again)
        return [row for rows in self._pages(results, first, prefix) for row in rows]

    def find_rows(
        self,
        tab: Tab,
        *,
        ref: str | None,
        number: str | None,
        number_formats: Sequence[str] | None = None,
    ) -> list[LicenceRow]:
        """Every row (all pages) whose ref, else number, is exactly the one asked for.

        A number is typed as the selectors' hint says first, then in the other format;
        `number_formats`: only in these ("{digits}", "{grouped}"), in this order.
        """
        results = self._results(tab)
        formats: list[str | None] = ["{digits}", "{grouped}"] if number else [None]
        preferred = self.portal.selectors.hints.number_filter_format
        formats.sort(key=lambda f: f != preferred)
        if number and number_formats is not None:
            formats = list(number_formats)
        for number_format in formats:
            self._shown = None  # a search of its own replaces what the page showed
            first = results.search(licence=ref or "", number=number, number_format=number_format)
            pages = self._pages(results, first, ref or "", number=number)
            matches = [row for rows in pages for row in rows if _same(row, ref, number)]
            if matches:
                return matches
        return []

    def rows_shown(self, tab: Tab) -> tuple[list[LicenceRow], bool]:
        """The rows `tab` shows now, on the page of results on screen, without a search,
        and whether it shows more pages (« Suivant »): whatever listing it is (the one
        the tab opened with, or the last search's), so only what it shows is evidence,
        never what it does not (another page, a filter, a portal that lists nothing
        before a first search)."""
        results = self._results(tab)
        rows = results.rows()
        more = results.has_next_page()
        log.info("listing_read", tab=tab.value, found=[row.ref for row in rows], more=more)
        return rows, more

    def pages_for(
        self, tab: Tab, prefix: str, *, refs: Collection[str] = ()
    ) -> tuple[LicenceResultsPage, Iterator[list[LicenceRow]]]:
        """The results page to act on, and each page of the « Licence » filter `prefix` in
        `tab` (a next one turned only when asked for): the listing on screen when it is
        that whole listing and nothing was done on it since, else (`refs`) the page on
        screen when it shows every one of `refs` (only that page: a row shown is where it
        is listed), else a new search (on a fresh page if rows were ticked or a dialog
        opened on this one)."""
        reuse = self._shown == (tab, prefix) and self._settings is not None and not self._touched
        results = self._results(tab, fresh=True)
        if reuse:
            log.info("listing_reused", tab=tab.value, prefix=prefix)
            first = results.rows()
            return results, self._pages(results, first, prefix)
        if refs:
            shown = results.rows()
            if {ref.upper() for ref in refs} <= {row.ref.upper() for row in shown}:
                log.info("listing_on_screen_used", tab=tab.value, refs=sorted(refs))
                return results, iter([shown])
        self._shown = None
        first = results.search(licence=prefix)
        return results, self._pages(results, first, prefix)

    def _pages(
        self,
        results: LicenceResultsPage,
        first: list[LicenceRow],
        licence: str,
        *,
        number: str | None = None,
    ) -> Iterator[list[LicenceRow]]:
        """The pages of the search on `results` (its first: `first`) by these filters. When
        it had one page only, read to its end, and no number filtered it, the whole
        listing of the « Licence » filter `licence` is on screen: a later `pages_for` may
        reuse it."""
        count = 0
        for rows in results.pages(first, licence=licence, number=number):
            count += 1
            yield rows
        if count == 1 and number is None:
            self._shown = (results.tab, licence)


def check_service(info: ServiceInfo, texts: Texts, *, state: bool) -> None:
    """Only an « Actif » MetaCentrex service has licences whose numbers can be changed."""
    if info.type and info.type != texts.service_type_with_licences:
        raise ServiceNotFoundError(
            f"the service {info.ref} is of type {info.type!r}; only "
            f"{texts.service_type_with_licences} services have licences"
        )
    if state and info.state and info.state != texts.service_state_active:
        raise ServiceNotActiveError(
            f"the service {info.ref} is « {info.state} »: only a service « "
            f"{texts.service_state_active} » can have its numbers dissociated"
        )
    if state and not info.state:
        log.warning("service_state_not_shown", service=info.ref)


def _still_shown(settings: ServiceSettingsPage) -> bool:
    """Whether the service's page still shows its tabs, not the login page: an error
    shown within it (a search answered 5xx) leaves it the service's page; a whole error
    page has no tabs."""
    presence = Presence(settings.page, settings.selectors, timeout_ms=settings.timeout_ms)
    return not visible_now(presence.login_heading) and visible_now(settings.tablist)


def _same(row: LicenceRow, ref: str | None, number: str | None) -> bool:
    if ref is not None:
        return row.ref.upper() == ref.upper()
    return number is not None and row.number == number
