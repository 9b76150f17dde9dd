"""A one-shot's licences' options, read before the confirmation from each licence's own
page (a hint: the listing shows no options), to say which end with the number.

Only reads: the addresses come from the links of the listing's rows, and each page is
opened on a page of its own, closed after; the service's page stays as it was (its
listing may be reused to tick). Where the portal shows no link or no « Options », a
licence's options are unknown (None): said so, never a failure.

`open_options` opens the pages without waiting for them, so that they load while the
bot ticks and opens the dialog on the service's page; `Options.read` waits for them
when the confirmation needs them (`with_options`: both at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import structlog

from myopenip_bot.dissociation.rules import TAB_ORDER, common_prefix
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.models import LicenceTask, Tab
from myopenip_bot.pages import OpeningLicencePage
from myopenip_bot.portal.listings import Listings

__all__ = ["MAX_READ", "Options", "open_options", "with_options"]

log = structlog.get_logger(__name__)

# The most licences whose pages are opened (a page each): a person's request is a few.
MAX_READ = 10


class Options:
    """The licences' pages being opened (`open_options`); `read` once, `close` always."""

    def __init__(self, pages: dict[str, OpeningLicencePage], stop: StopSignal) -> None:
        self._pages = pages
        self._stop = stop
        self._read: dict[str, tuple[str, ...] | None] | None = None

    def read(self) -> dict[str, tuple[str, ...] | None]:
        """Each licence's options by ref (None: its page shows none), read once."""
        if self._read is None:
            self._read = {}
            try:
                for ref, opening in self._pages.items():
                    self._stop.check()  # between pages: a signal stops here
                    self._read[ref] = opening.read()
                    log.info("licence_options_read", licence=ref, options=self._read[ref])
            finally:
                self.close()
        return self._read

    def close(self) -> None:
        for opening in self._pages.values():
            opening.close()

    def given(self, tasks: Sequence[LicenceTask]) -> list[LicenceTask]:
        """`tasks`, each not settled with the options read for it (`read` first)."""
        read = self.read()
        return [
            replace(task, options=read[task.licence_ref])
            if task.licence_ref in read and task.outcome is None
            else task
            for task in tasks
        ]


def open_options(listings: Listings, tasks: Sequence[LicenceTask]) -> Options:
    """The pages of `tasks`' planned licences (up to MAX_READ) opening, not waited for."""
    portal = listings.portal
    planned = [task for task in tasks if task.planned][:MAX_READ]
    if not planned or portal.selectors.hints.licence_page is None:
        return Options({}, portal.stop)
    addresses: dict[str, str] = {}
    for tab in TAB_ORDER:
        refs = {task.licence_ref or "" for task in planned if task.tab is tab}
        if refs:
            addresses |= listings.step(
                f"finding the pages of the licences in {tab.value}",
                lambda tab=tab, refs=refs: _addresses(listings, tab, refs),  # type: ignore[misc]
            )
    pages: dict[str, OpeningLicencePage] = {}
    try:
        for ref, address in addresses.items():
            portal.stop.check()  # between pages: a signal stops here
            pages[ref] = OpeningLicencePage(
                portal.page, portal.selectors, address, timeout_ms=portal.timeout_ms
            )
    except BaseException:
        Options(pages, portal.stop).close()
        raise
    return Options(pages, portal.stop)


def with_options(listings: Listings, tasks: Sequence[LicenceTask]) -> list[LicenceTask]:
    """`tasks`, each planned one (up to MAX_READ) with the options its page shows."""
    return open_options(listings, tasks).given(tasks)


def _addresses(listings: Listings, tab: Tab, refs: set[str]) -> dict[str, str]:
    """Each of `refs`' page address, from the links of the listing of their common prefix
    (the one the submitter ticks from: reused when it is one page)."""
    found: dict[str, str] = {}
    results, pages = listings.pages_for(tab, common_prefix(refs), refs=refs)
    for rows in pages:
        shown = [row.ref for row in rows if row.ref in refs]
        for ref in shown:
            address = results.licence_link(ref)
            if address is None:
                return found  # a row without a link: this portal shows none
            found[ref] = address
        if refs <= found.keys():
            if not results.has_next_page():
                for _ in pages:  # no page to turn: the listing read to its end is reused
                    pass
            break
    return found
