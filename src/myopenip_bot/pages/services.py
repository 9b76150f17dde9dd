"""Screen 3, "Paramétrage / Monitoring": the list of services, its filters and "Paramétrer >"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

import structlog
from playwright.sync_api import Locator, expect

from myopenip_bot.config.selectors import Control
from myopenip_bot.errors import DriftError
from myopenip_bot.pages._base import Screen
from myopenip_bot.pages._paging import paged
from myopenip_bot.pages._reads import reading, watched
from myopenip_bot.pages.presence import visible_now as _visible
from myopenip_bot.pages.service import ServiceSettingsPage

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ServiceRow:
    """A service as the list shows it."""

    ref: str
    name: str
    type: str
    state: str
    client: str = ""
    account: str = ""
    site: str = ""


class ServicesPage(Screen):
    """The services list. `search` returns every matching row, over all result pages."""

    @property
    def heading(self) -> Locator:
        return self._locate(self.selectors.services.heading)

    @property
    def ref_filter(self) -> Locator:
        return self._locate(self.selectors.services.ref_filter)

    @property
    def search_button(self) -> Locator:
        return self._locate(self.selectors.services.search)

    @property
    def table(self) -> Locator:
        columns = self.selectors.texts.service_columns
        header = self.page.get_by_role("columnheader", name=columns.ref, exact=True)
        return self._table(self.selectors.services.table).filter(has=header)

    @property
    def next_page_link(self) -> Locator:
        return self._locate(self.selectors.services.next_page)

    def column_headers(self) -> list[str]:
        """The list's column headers, as the portal writes them."""
        return self._column_headers(self.table)

    def has_next_page(self) -> bool:
        """Whether « Suivant » shows, enabled: more pages of services to see."""
        link = self.next_page_link
        return _visible(link) and not link.is_disabled()

    def search(self, ref: str = "", **columns: str) -> list[ServiceRow]:
        """Filter on "Réf. du service" and on other columns by their key in the selectors'
        `texts.service_columns` (`client="Normandie"`, `account="CC-100245"`): substring
        matches, as the portal's filters are; return every row found, over all pages."""
        step = " ".join(["searching the services", *(v for v in (ref, *columns.values()) if v)])
        found: list[ServiceRow] = []
        turn = partial(self._next_page, ref, step)
        for rows in paged(self.show(ref, **columns), turn, self.rows):
            found += rows
        log.info("services_searched", ref=ref, filters=columns, found=[r.ref for r in found])
        return found

    def show(self, ref: str = "", **columns: str) -> list[ServiceRow]:
        """Filter (see `search`) and search: the first page of results (a portal may show
        no list at all before a first search)."""
        step = " ".join(["searching the services", *(v for v in (ref, *columns.values()) if v)])
        where = "on Paramétrage / Monitoring"
        self._await(self.selectors.services.ref_filter, step, where=where).fill(ref)
        for key, value in columns.items():
            self._await(self._filter(key), step, where=where).fill(value)
        before = self._shown_text(self.table)
        self._submit(self._await(self.selectors.services.search, step, where=where).click, step)
        self._wait_for_rows(ref, step)
        if self._not_the_previous(self.table, before, step, None):
            self._wait_for_rows(ref, step)
        return self.rows()

    def _filter(self, key: str) -> Control:
        """The filter of a column: the one of `services.filters` labelled as its header
        (the spec: "filter textboxes labelled like the columns")."""
        header = getattr(self.selectors.texts.service_columns, key)
        for control in self.selectors.services.filters:
            if control.label == header:
                return control
        raise DriftError(
            "services.filters", f"no filter labelled {header!r} in selectors/ for the column"
        )

    def rows(self) -> list[ServiceRow]:
        """The services on the current page of results (a row without a ref, such as a
        "nothing found" message, is not a service)."""
        columns = self.selectors.texts.service_columns
        return [
            ServiceRow(
                ref=row.cells.get(columns.ref, ""),
                name=row.cells.get(columns.name, ""),
                type=row.cells.get(columns.type, ""),
                state=row.cells.get(columns.state, ""),
                client=row.cells.get(columns.client, ""),
                account=row.cells.get(columns.account, ""),
                site=row.cells.get(columns.site, ""),
            )
            for row in self._read_table(self.table)
            if row.cells.get(columns.ref)
        ]

    def shows_search(self, typed: str, ref: str) -> bool:
        """Whether the list shows, as a person sees it now, the search of `typed`: the
        filter holds `typed` and the row whose « Réf. du service » is exactly `ref` shows
        (no waiting)."""
        if not (_visible(self.ref_filter) and _visible(self._row_of(ref))):
            return False
        return self.ref_filter.first.input_value(timeout=self.timeout_ms) == typed

    def _row_of(self, ref: str) -> Locator:
        cell = self.page.get_by_role("cell", name=ref, exact=True).or_(
            self.page.get_by_role("rowheader", name=ref, exact=True)
        )
        return self._data_rows(self.table).filter(has=cell)

    def open_service(self, ref: str) -> ServiceSettingsPage:
        """Click "Paramétrer >" in the one row whose "Réf. du service" cell is exactly `ref`."""
        step = f"opening the service {ref}"
        row = self._row_of(ref)
        configure = self.selectors.services.configure
        settings = ServiceSettingsPage(self.page, self.selectors, timeout_ms=self.timeout_ms)
        with reading(self.page, step):
            self._await(configure, step, row, f"in the row of {ref}").click()
            settings.wait(step)
            if watched(self.page):  # the read lasts until settled: the page loads its rows
                self._wait_settled(step)
        log.info("service_opened", service=ref)
        return settings

    def _wait_for_rows(self, ref: str, step: str) -> None:
        """After the answer has settled: the table is shown, and no service row in it
        contradicts the filter (a row of the previous page still on screen)."""
        where = "on Paramétrage / Monitoring"
        self._await_table(self.table, self.selectors.services.table, step, where)
        services = self._data_rows(self.table).filter(
            has=self._locate(self.selectors.services.configure)
        )
        other = services.filter(has_not_text=re.compile(re.escape(ref), re.I))
        self._expect(
            lambda: expect(other).to_have_count(0, timeout=self.timeout_ms),
            step,
            f"a list showing only services matching {ref!r}",
        )

    def _next_page(self, ref: str, step: str) -> bool:
        if not self.has_next_page():
            return False
        link = self.next_page_link
        before = self.table.inner_text()
        self._submit(link.click, f"{step} (next page)", content=self.table, before=before)
        self._wait_for_rows(ref, step)
        return True
