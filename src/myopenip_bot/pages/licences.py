"""Screens 5 and 6: a tab's licence search ("Utilisateurs" or "Groupements"), its results
table with a checkbox per row, and the "Actions" menu."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import structlog
from playwright.sync_api import Locator, Page, expect

from myopenip_bot.config.selectors import Hints, Selectors
from myopenip_bot.errors import DriftError, TechnicalError
from myopenip_bot.models import Tab, format_number, normalize_number
from myopenip_bot.pages._base import Screen, TableRow, digits_pattern, portal_text
from myopenip_bot.pages._paging import more_pages, paged, text_beside
from myopenip_bot.pages._reads import reading
from myopenip_bot.pages.dialog import DissociationDialog, dissociated_status
from myopenip_bot.pages.licence_page import licence_link
from myopenip_bot.pages.presence import visible_now as _visible

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LicenceRow:
    """A licence as the results table shows it; `number` is ten digits, or None."""

    ref: str
    type: str
    number: str | None
    text: str
    user: str = ""  # « Utilisateur »
    site: str = ""
    state: str = ""  # « État »: "Affectée", "Non affectée"…


def shows_working(row: LicenceRow, hints: Hints) -> bool:
    """Whether the row's « État » reads as the portal working on a dissociation it
    accepted (hints.in_progress, a hint: a portal may show nothing of the kind)."""
    wording = hints.in_progress
    if not wording:
        return False
    return wording.casefold() in row.state.casefold()


class LicenceResultsPage(Screen):
    """One tab's filters, "Rechercher", the results (20 a page) and "Actions".

    It records what was done on it (`ticked`, `dialogs`), for whoever reads the page
    after (portal.listings): ticks and a status may linger, a dialog may still be open.
    """

    def __init__(
        self, page: Page, selectors: Selectors, tab: Tab, *, timeout_ms: float = 15_000.0
    ) -> None:
        super().__init__(page, selectors, timeout_ms=timeout_ms)
        self.tab = tab
        self._panel: Locator | None = None
        self.ticked: set[str] = set()  # the refs ticked (or about to be) on this page
        self.dialogs: list[DissociationDialog] = []  # the dialogs opened (or opening) from it

    @property
    def touched(self) -> bool:
        """Whether rows were ticked or a dialog opened here (ticks, a status may linger)."""
        return bool(self.ticked or self.dialogs)

    @property
    def left_unknown(self) -> bool:
        """Whether a dialog opened here may still be open, or its « Valider » was not
        confirmed: what the page shows now is then unknown."""
        return any(
            not (dialog.answer.confirmed if dialog.answer else dialog.cancelled)
            for dialog in self.dialogs
        )

    @property
    def scope(self) -> Page | Locator:
        """The visible tab panel when the portal marks one, else the page.

        Once a panel has shown, it is the scope for good (a locator, found anew at each
        use): each look costs a query of the whole page, and a search alone uses the
        scope a dozen times.
        """
        if self._panel is not None:
            return self._panel
        panel = self._locate(self.selectors.service.tab_panel)
        if panel.count() == 1:
            self._panel = panel
            return panel
        return self.page

    @property
    def licence_filter(self) -> Locator:
        return self._locate(self.selectors.licences.licence_filter, self.scope)

    @property
    def number_filter(self) -> Locator:
        return self._locate(self.selectors.licences.number_filter, self.scope)

    @property
    def search_button(self) -> Locator:
        return self._locate(self.selectors.licences.search, self.scope)

    @property
    def table(self) -> Locator:
        column = self.selectors.texts.licence_columns.licence
        header = self.page.get_by_role("columnheader", name=column, exact=True)
        return self._table(self.selectors.licences.table, self.scope).filter(has=header)

    @property
    def next_page_link(self) -> Locator:
        return self._locate(self.selectors.licences.next_page, self.scope)

    @property
    def actions(self) -> Locator:
        return self._locate(self.selectors.licences.actions, self.scope)

    def checkbox(self, ref: str) -> Locator:
        return self._locate(self.selectors.licences.row_checkbox, self.table, ref=ref)

    def licence_link(self, ref: str) -> str | None:
        """The address of `ref`'s own page, from the link in its row on screen (a hint:
        None when the listing has none)."""
        return licence_link(self.table, self.selectors, ref, self.page.url)

    def column_headers(self) -> list[str]:
        """The results table's column headers, as the portal writes them."""
        return self._column_headers(self.table)

    def has_next_page(self) -> bool:
        """Whether « Suivant » shows, enabled: more pages of results to see."""
        link = self.next_page_link
        return _visible(link) and not link.is_disabled()

    def shown_text(self) -> str | None:
        """What the results table shows now, read at once (None: none on screen)."""
        return self._shown_text(self.table)

    def listed(self, before: str | None, step: str) -> None:
        """After a click on this tab (the results read `before` it): its own listing,
        once it no longer reads as the other tab's (a portal that renders twice)."""
        self._not_the_previous(self.table, before, step, self.scope)

    def wait(self, step: str) -> LicenceResultsPage:
        """Wait for the tab's search form and for the page to settle (its first results).

        Raises SessionExpiredError when the login page shows instead, DriftError when the
        page settles without « Rechercher ». The results table may not be there yet: some
        portals show it only after a first search.
        """
        self._await(self.selectors.licences.search, step, self.scope, self._where)
        self._wait_settled(step, scope=self.scope)
        return self

    @property
    def _where(self) -> str:
        return f"in the tab {self.tab.value}"

    def search(
        self,
        *,
        licence: str = "",
        number: str | None = None,
        number_format: str | None = None,
        again: bool = False,
    ) -> list[LicenceRow]:
        """Fill the "Licence" and "SDA" filters (substring matches), search, return the rows.

        `number` is ten digits; it is typed as `number_format` ("{digits}" or "{grouped}")
        says, by default as the selectors' `hints.number_filter_format` says.
        Returns once the portal has answered this search and the page has settled
        (nothing under way, nothing loading, nothing changing), the table is shown and no
        row contradicts the filters: no stale row is ever read or ticked, and zero rows
        mean "nothing found" without any sentence saying so. Results that read exactly as
        the table did before the search may be the previous search's table still on
        screen: they are read once the page has been still a while longer — unless the
        search is `again` the one on screen, asked once more to see whether its answer
        changed (then an answer that reads the same is that answer).
        """
        what = " ".join(part for part in (licence, number and format_number(number)) if part)
        step = f"searching {what or 'every licence'} in {self.tab.value}"
        self.wait(step)
        typed = ""
        if number:
            typed = (number_format or self.selectors.hints.number_filter_format).format(
                digits=number, grouped=format_number(number)
            )
        self._await(self.selectors.licences.licence_filter, step, self.scope, self._where).fill(
            licence
        )
        self._await(self.selectors.licences.number_filter, step, self.scope, self._where).fill(
            typed
        )
        before = self._shown_text(self.table)
        self._submit(self.search_button.click, step)
        self._wait_for_results(licence, number, step)
        if not again and self._not_the_previous(self.table, before, step, self.scope):
            self._wait_for_results(licence, number, step)
        rows = self.rows()
        log.info(
            "licences_searched",
            tab=self.tab.value,
            licence=licence or None,
            number=number,
            found=[row.ref for row in rows],
        )
        return rows

    def rows(self) -> list[LicenceRow]:
        """The licences on the current page of results (rows without a licence ref, such
        as a "nothing found" message, are not licences)."""
        pattern = self.selectors.texts.licence_ref
        return [
            self._licence_row(row)
            for row in self._read_table(self.table)
            if pattern.search(row.text) or any(pattern.search(c) for c in row.cells.values())
        ]

    def pages(
        self, first: list[LicenceRow], *, licence: str = "", number: str | None = None
    ) -> Iterator[list[LicenceRow]]:
        """`first` (the rows on screen), then each next page's rows (the one paging loop: turned
        only when asked for); `licence` and `number` are the search's filters, which no
        row of a next page may contradict."""
        seen = [len(first)]  # the rows of each page read

        def turn() -> bool:
            if self.next_page(licence=licence, number=number):
                return True
            # No « Suivant »: the end, unless the listing says it has more (then a drift,
            # never "not found" for a licence on a page not turned).
            # Only what the listing says (its indicator, its count): a last page as full
            # as the others is no sign of more (28 licences, 7 a page), and a drift
            # stops a batch.
            why = self.more_pages(rows=seen[-1], seen=sum(seen))
            if why is not None:
                log.warning("next_page_missing", tab=self.tab.value, pages=len(seen), why=why)
                raise DriftError(
                    "licences.next_page",
                    f"no « Suivant » found in the tab {self.tab.value} after {len(seen)} "
                    f"page(s) of results, though the listing has more: {why}",
                )
            return False

        def read() -> list[LicenceRow]:
            rows = self.rows()
            seen.append(len(rows))
            return rows

        return paged(first, turn, read)

    def more_pages(self, *, rows: int, seen: int, page_size: int | None = None) -> str | None:
        """Why the listing on screen has more pages than those read (`seen` rows in all,
        `rows` on this page; `page_size`: a full page, when known), or None (no sign of
        more): its page indicator or count, read loosely (_paging.PAGE_OF, COUNTED)."""
        return more_pages(
            text_beside(self.scope, self.table),
            rows=rows,
            seen=seen,
            page_size=page_size,
        )

    def next_page(self, *, licence: str = "", number: str | None = None) -> bool:
        """Go to the next page of results ("Suivant"); False when there is none."""
        step = f"turning to the next page of {self.tab.value}"
        if not self.has_next_page():
            return False
        link = self.next_page_link
        before = self.table.inner_text()
        self._submit(link.click, step, content=self.table, before=before)
        self._wait_for_results(licence, number, step)
        log.info("results_page_turned", tab=self.tab.value)
        return True

    def tick(self, ref: str) -> None:
        """Tick the row's checkbox "Sélectionner <ref>" (exactly one must exist)."""
        self.ticked.add(ref)  # first: a tick that fails half way may have ticked it
        with reading(self.page, f"ticking {ref}"):  # a selection changes nothing
            self.checkbox(ref).check()
        log.info("licence_ticked", licence=ref, tab=self.tab.value)

    def wait_settled(self, step: str) -> None:
        """Wait until the page has settled (a refresh of its own, say, is over)."""
        self._wait_settled(step, scope=self.scope)

    def expect_ticked(self, refs: list[str], step: str) -> None:
        """Every row of `refs` is ticked (also after the portal re-rendered its rows)."""
        for ref in refs:
            self._expect(
                partial(self._expect_checked, self.checkbox(ref)), step, f"the tick of {ref}"
            )

    def _expect_checked(self, box: Locator) -> None:
        expect(box).to_be_checked(timeout=self.timeout_ms)

    def open_dissociation(self) -> DissociationDialog:
        """Actions > "Dissocier vos numéros"; return the dialog once its content is loaded."""
        step = f"opening the dissociation dialog in {self.tab.value}"
        # « Actions » sits beside the results just searched and ticked: one look once settled.
        actions = self._await(
            self.selectors.licences.actions, step, self.scope, self._where, beside=True
        )
        self._expect(
            lambda: expect(actions).to_be_enabled(timeout=self.timeout_ms),
            step,
            'the "Actions" button becoming enabled',
        )
        dialog = DissociationDialog(self.page, self.selectors, timeout_ms=self.timeout_ms)
        self.dialogs.append(dialog)  # first: an opening that fails may leave it open
        # Opening the dialog only reads (the portal may ask what it will list, by a POST).
        with reading(self.page, f"{step} (to read it)"):
            actions.click()
            # Its item: in the menu just opened, once the page settled (a menu may load its
            # items).
            self._await(
                self.selectors.licences.dissociate, step, where='in the menu "Actions"', beside=True
            ).click()
            dialog.wait_loaded(step)
        log.info("dissociation_opened", tab=self.tab.value)
        return dialog

    def shows_leftovers(self) -> bool:
        """Whether the page shows what an earlier dialog may have left on it: a box
        ticked (a row's, or « Tout sélectionner »), or a status message of a dissociation
        (the next « Valider » would find it already there)."""
        ticked = self.page.get_by_role("checkbox", checked=True)
        return _visible(ticked.or_(dissociated_status(self.page, self.selectors)))

    def status_messages(self) -> list[str]:
        """The visible status messages, e.g. "Numéro(s) dissocié(s) : 2"."""
        status = self._locate(self.selectors.licences.status)
        return [portal_text(text) for text in status.filter(visible=True).all_inner_texts() if text]

    def _wait_for_results(self, licence: str, number: str | None, step: str) -> None:
        """After the answer has settled: the table is shown, and no licence row in it
        contradicts the filters (a row of the previous search still on screen)."""
        self._await_table(self.table, self.selectors.licences.table, step, self._where)
        licences = self._data_rows(self.table).filter(has_text=self.selectors.texts.licence_ref)
        if licence:
            stale = licences.filter(has_not_text=re.compile(re.escape(licence), re.I))
            self._expect(
                lambda: expect(stale).to_have_count(0, timeout=self.timeout_ms),
                step,
                f"results showing only licences matching {licence!r}",
            )
        if number:
            stale = licences.filter(has_not_text=digits_pattern(number))
            self._expect(
                lambda: expect(stale).to_have_count(0, timeout=self.timeout_ms),
                step,
                f"results showing only the number {format_number(number)}",
            )

    def _licence_row(self, row: TableRow) -> LicenceRow:
        texts = self.selectors.texts
        cell = row.cells.get(texts.licence_columns.licence)
        match = texts.licence_cell.search(cell) if cell is not None else None
        if match is None:
            found = texts.licence_ref.search(row.text)
            if found is None:
                raise TechnicalError(f"cannot read a licence ref in the row {row.text!r}")
            ref, kind = found.group(0), ""
        else:
            ref, kind = match["ref"], (match.groupdict().get("type") or "")
        columns = texts.licence_columns
        return LicenceRow(
            ref=ref,
            type=kind,
            number=_number(row, columns.number),
            text=row.text,
            user=row.cells.get(columns.user, ""),
            site=row.cells.get(columns.site, ""),
            state=row.cells.get(columns.state, ""),
        )


def _number(row: TableRow, column: str) -> str | None:
    """The row's number as ten digits; None when the cell holds no digit at all."""
    cell = row.cells.get(column)
    if cell is None:
        raise TechnicalError(f"cannot find the column {column!r} in the row {row.text!r}")
    if not any(ch.isdigit() for ch in cell):
        return None  # empty, "—", "Aucun": the licence has no number
    try:
        return normalize_number(cell)
    except ValueError:
        # Never read an unreadable number as "no number": that would skip a licence.
        raise TechnicalError(f"cannot read the number {cell!r} in the row {row.text!r}") from None
