"""A service's licence listings: searches, their pages, and what is on screen now.

Everything the run knows about the screen lives here, and nowhere else: which service's
page the tab is on, whether a dialog was opened on it since (ticks or a status may
linger), and whether the whole listing of a search is still shown (then the next step
may read it instead of searching again). Callers ask for rows; they never look at this
state, and they say when they change the page (`dirtied`) or cannot trust it (`forget`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import structlog

from myopenip_bot.config.selectors import Texts
from myopenip_bot.errors import ServiceNotActiveError, ServiceNotFoundError
from myopenip_bot.models import ServiceInfo, Tab
from myopenip_bot.pages import MAX_PAGES, LicenceResultsPage, LicenceRow, ServiceSettingsPage
from myopenip_bot.portal.portal import Portal

__all__ = ["Listings", "check_service"]

log = structlog.get_logger(__name__)

T = TypeVar("T")


class Listings:
    """The listings of one service (`start`), on `portal`'s page."""

    def __init__(self, portal: Portal, *, require_active: bool = True) -> None:
        self.portal = portal
        self.require_active = require_active  # a lookup reads a « Suspendu » service too
        self.service_ref = ""
        self.service: ServiceInfo | None = None  # as the services list showed it
        self._settings: ServiceSettingsPage | None = None  # the service page we are on
        self._dirty = False  # a dialog was opened on it
        self._shown: tuple[Tab, str] | None = None  # a whole one-page listing on screen

    def start(self, service_ref: str) -> None:
        """Work on `service_ref` from now on; nothing on screen is trusted yet."""
        self.service_ref = service_ref
        self.service = None
        self.forget()

    def forget(self) -> None:
        """The next read starts from a fresh page (after a failure, a login, a dialog that
        stayed open)."""
        self._settings = None
        self._shown = None
        self._dirty = False

    def dirtied(self) -> None:
        """The caller ticked rows or opened a dialog: the next listing searches afresh."""
        self._dirty = True
        self._shown = None

    def step(self, name: str, action: Callable[[], T]) -> T:
        """`portal.step` for a step on these listings: a retry starts from a fresh page."""
        return self.portal.step(name, action, on_retry=self.forget)

    # -- the service --------------------------------------------------------------------

    def open_service(self) -> ServiceInfo:
        """Find the service and open its settings; refuse it unless MetaCentrex and, on
        the first visit of a run, « Actif » (later visits only read: a back office may
        change its state while a person reads the plan, and the portal then refuses)."""
        services, info = self.portal.find_service(self.service_ref)
        first = self.service is None and self.require_active
        check_service(info, self.portal.selectors.texts, state=first)
        self.service = info
        self._settings, self._dirty, self._shown = services.open_service(info.ref), False, None
        return info

    def results(self, tab: Tab, *, fresh: bool = False) -> LicenceResultsPage:
        """The tab's results, on the service page we are on when it is clean."""
        if fresh and self._dirty:
            self._settings = None
        if self._settings is None:
            self.open_service()
        assert self._settings is not None
        if self._shown is not None and self._shown[0] is not tab:
            self._shown = None  # another tab: its listing is another one
        return self._settings.open_tab(tab)

    # -- listings -------------------------------------------------------------------------

    def rows_matching(self, tab: Tab, prefix: str, *, again: bool = False) -> list[LicenceRow]:
        """Every row (all pages) that the « Licence » filter `prefix` lists; `again`: the
        search on screen asked once more, to see whether its answer changed
        (LicenceResultsPage.search)."""
        results = self.results(tab)
        self._shown = None
        rows = results.search(licence=prefix, again=again)
        pages = 1
        for _ in range(MAX_PAGES):
            if not results.next_page(licence=prefix):
                break
            rows += results.rows()
            pages += 1
        if pages == 1:
            self._shown = (tab, prefix)  # the listing of this prefix, whole, on screen
        return rows

    def find_rows(self, tab: Tab, *, ref: str | None, number: str | None) -> list[LicenceRow]:
        """Every row (all pages) whose ref, else number, is exactly the one asked for.

        A number is typed as the selectors' hint says first, then in the other format.
        """
        results = self.results(tab)
        self._shown = None  # a search of its own replaces what the page showed
        formats: list[str | None] = ["{digits}", "{grouped}"] if number else [None]
        preferred = self.portal.selectors.hints.number_filter_format
        formats.sort(key=lambda f: f != preferred)
        for number_format in formats:
            rows = results.search(licence=ref or "", number=number, number_format=number_format)
            matches = [row for row in rows if _same(row, ref, number)]
            pages = 1
            for _ in range(MAX_PAGES):
                if not results.next_page(licence=ref or "", number=number):
                    break
                matches += [row for row in results.rows() if _same(row, ref, number)]
                pages += 1
            if ref and number is None and pages == 1:
                self._shown = (tab, ref)
            if matches:
                return matches
        return []

    def listing_for(self, tab: Tab, prefix: str) -> tuple[LicenceResultsPage, list[LicenceRow]]:
        """The first results page of the « Licence » filter `prefix` in `tab`: the one on
        screen when it is that whole listing and nothing was done on it since, else a
        new search (on a fresh page if a dialog was opened on this one)."""
        reuse = self._shown == (tab, prefix) and self._settings is not None and not self._dirty
        results = self.results(tab, fresh=True)
        if reuse and self._shown == (tab, prefix):
            log.info("listing_reused", tab=tab.value, prefix=prefix)
            return results, results.rows()
        return results, results.search(licence=prefix)


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


def _same(row: LicenceRow, ref: str | None, number: str | None) -> bool:
    if ref is not None:
        return row.ref.upper() == ref.upper()
    return number is not None and row.number == number
