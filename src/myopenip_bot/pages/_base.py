"""What every screen shares: waiting for a state, telling apart the login page, error
pages and a portal that differs from the selectors.

Page objects wait on what a person waits for, never on how the portal works: after a
click, the page settled (every request it sent answered, nothing changing, nothing
loading) and, where it must, the results changed. A request the click sent, if any, is
read for its status (5xx, 401, 403 keep their meaning); a click that sends none — a
portal that pages or filters in the browser — is not an error.

The portal can answer any step with its login page (the session expired) or with a
technical error page: `_await` waits for the control expected *or* one of those, and
raises SessionExpiredError / TechnicalError naming the step. A page that has settled
without the control is a DriftError naming its selectors key and what shows instead,
in seconds, never retried.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from playwright.sync_api import Locator, Page, Request, Response, expect

from myopenip_bot.config.selectors import Control, Selectors, locate, number_pattern
from myopenip_bot.errors import (
    BrowserFailure,
    DriftError,
    SessionExpiredError,
    TechnicalError,
    TransientError,
)
from myopenip_bot.failures import best_effort, translated
from myopenip_bot.pages._reads import reading
from myopenip_bot.pages._table import read_rows
from myopenip_bot.pages.presence import PRESENT_MS, QUIET_MS, Presence, expect_shown, is_transient
from myopenip_bot.text import visible

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT_MS = 15_000.0

# Requests whose answer can change what a screen shows: the data fetches, or a whole page.
DATA_REQUESTS = frozenset({"fetch", "xhr", "document"})
# Result pages walked in one listing: this only stops a runaway « Suivant » loop.
MAX_PAGES = 100
# A search whose settled results read exactly as the table did before it may be showing
# the previous search's table (a portal that renders its results twice, the second time
# a moment later): the page must then stay still this long before they are read.
RERENDER_QUIET_MS = 300


@dataclass(frozen=True)
class TableRow:
    """One row of a table: its cells by column header, and its whole text."""

    cells: dict[str, str]
    text: str


def squash(text: str) -> str:
    """Collapse runs of whitespace (including non-breaking spaces) into one space."""
    return " ".join(text.split())


def portal_text(text: str) -> str:
    """A text the portal shows, as the bot keeps it: one line, every character visible
    (text.visible), so that it is safe in a terminal, a file or a log."""
    return visible(squash(text))


def for_browser(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern without Python's named groups, which JavaScript cannot parse."""
    return re.compile(re.sub(r"\(\?P<\w+>", "(?:", pattern.pattern), pattern.flags)


def digits_pattern(digits: str) -> re.Pattern[str]:
    """Match a number however the portal shows it: "0231456789", "02 31 45 67 89" or
    "+33 2 31 45 67 89" (the spec's forms, selectors.number_pattern)."""
    return re.compile(number_pattern(digits))


class Screen:
    """Base of the page objects: the page, the selectors, and a timeout for every wait.

    What is present, absent or settled is decided by `pages.presence`, for the page
    objects and the smoke checks alike."""

    def __init__(
        self, page: Page, selectors: Selectors, *, timeout_ms: float = DEFAULT_TIMEOUT_MS
    ) -> None:
        self.page = page
        self.selectors = selectors
        self.timeout_ms = timeout_ms
        self._presence = Presence(page, selectors, timeout_ms=timeout_ms)

    # -- locating -------------------------------------------------------------------

    def _locate(
        self, control: Control, scope: Page | Locator | None = None, **values: str
    ) -> Locator:
        return locate(self.page if scope is None else scope, control, **values)

    def _table(self, control: Control, scope: Page | Locator | None = None) -> Locator:
        """The tables `control` finds; an ARIA grid is a table too (its subclass role)."""
        found = self._locate(control, scope)
        if control.role == "table":
            found = found.or_((scope or self.page).get_by_role("grid"))
        return found

    @property
    def _login_heading(self) -> Locator:
        return self._presence.login_heading

    @property
    def _technical_error(self) -> Locator:
        return self._presence.technical_error

    # -- waiting (pages.presence) ---------------------------------------------------

    def _await(
        self,
        control: Control,
        step: str,
        scope: Page | Locator | None = None,
        where: str = "",
        *,
        beside: bool = False,
        **values: str,
    ) -> Locator:
        """The element `control` finds, once visible (Presence.look): SessionExpiredError
        or TechnicalError if the login or an error page shows instead, DriftError when
        the page has settled without it."""
        return self._presence.look(control, step, scope, where, beside=beside, values=values)

    def _raise_for_page(self, step: str) -> None:
        self._presence.raise_for_page(step)

    def _expect(self, check: Callable[[], None], step: str, what: str) -> None:
        """Run a web-first assertion; a failure is the login page, an error page, or a timeout."""
        self._presence.require(check, step, what)

    def _mark(self) -> Any:
        return self._presence.mark()

    def _wait_settled(
        self,
        step: str,
        mark: Any = None,
        scope: Page | Locator | None = None,
        *,
        quiet_ms: int = QUIET_MS,
    ) -> None:
        self._presence.wait_settled(step, mark, scope, quiet_ms=quiet_ms)

    def _submit(
        self,
        click: Callable[[], None],
        step: str,
        *,
        content: Locator | None = None,
        before: str | None = None,
    ) -> None:
        """Click something that shows results; return once the page has settled on them.

        With `content` and `before` (a page turn), also wait until `content` shows
        something else than `before`: other rows, another page. A request the click sent
        is read for its status: a transient answer (5xx, 408, 429, a cut) raises
        TransientError (the portal layer's retry policy redoes the step, never this), 401
        the login page's SessionExpiredError, 403 TechnicalError; no request is fine.
        """
        mark = self._mark()
        exchange = Exchange(self.page)
        try:
            with reading(self.page, step):  # a search or a page turn: only reads
                try:
                    translated(step, click)
                except BrowserFailure as failure:
                    self._raise_for_page(step)
                    raise TechnicalError(f"{step}: {failure.why}") from None
                self._wait_settled(step, mark)
        finally:
            exchange.close()
        status = exchange.worst_status()
        if status is not None and (is_transient(status) or status < 0):
            raise TransientError(f"{step}: {exchange.failure()}")
        if status == 403:
            raise TechnicalError(f"{step}: the portal refused the request (HTTP 403)")
        if status == 401:
            # The page's JS goes to the login page; wait for it so the next step starts clean.
            self._expect(
                lambda: expect_shown(self._login_heading, self.timeout_ms),
                step,
                "the redirection to the login page",
            )
            raise SessionExpiredError(f"{step}: the portal answered HTTP 401")
        if exchange.navigated:
            self._raise_for_page(step)
        if content is not None and before is not None:
            # innerText on both sides: `before` is what a person read (textContent, the
            # default, never equals it, so the wait would end at once).
            self._expect(
                lambda: expect(content).not_to_have_text(
                    before, use_inner_text=True, timeout=self.timeout_ms
                ),
                step,
                "other results",
            )

    # -- reading tables -------------------------------------------------------------

    def _read_table(self, table: Locator) -> list[TableRow]:
        """Every row of `table` but its header, cells keyed by their column header's name.

        Read in one go (pages._table): a portal that re-renders or reorders its rows
        meanwhile is never read half old, half new. Cells are the portal's text made
        visible (text.visible): any character is a value, never a crash. Rows that are
        not data (a "nothing found" message) are the caller's to drop, by their content.
        """
        # None read: the table went away while read; the caller's waits decide.
        rows = best_effort(lambda: read_rows(table), [])
        headers = next((row.cells for row in rows if row.header), [])
        headers = [squash(header) for header in headers]
        found: list[TableRow] = []
        for row in rows:
            if row.header:
                continue
            cells = [portal_text(cell) for cell in row.cells]
            by_header = (
                dict(zip(headers, cells, strict=False)) if len(cells) == len(headers) else {}
            )
            found.append(TableRow(cells=by_header, text=" ".join(c for c in cells if c)))
        return found

    def _shown_text(self, table: Locator) -> str | None:
        """What `table` shows now, read at once, its lines in sorted order: the same rows
        in another order read the same (a portal may re-render them so). None: no such
        table on screen."""
        texts: list[str] = best_effort(
            lambda: table.evaluate_all("(tables) => tables.map((t) => t.innerText)"), []
        )
        return "\n".join(sorted("\n".join(texts).splitlines())) if texts else None

    def _not_the_previous(
        self, table: Locator, before: str | None, step: str, scope: Page | Locator | None
    ) -> bool:
        """After a search or a tab has settled: when its table reads exactly as before it
        (`before`), wait until the page has been still for RERENDER_QUIET_MS, so that a
        portal that shows the previous results once more before the new ones (renders
        twice) is read, and ticked, once it has rendered them; True when it waited (the
        caller checks its results again). An answer that reads as the one before only
        costs that wait; any other, nothing."""
        if before is None or self._shown_text(table) != before:
            return False
        log.info("results_unchanged_waited", step=step, quiet_ms=RERENDER_QUIET_MS)
        self._wait_settled(step, scope=scope, quiet_ms=RERENDER_QUIET_MS)
        return True

    def _await_table(self, table: Locator, control: Control, step: str, where: str) -> None:
        """Once a search has settled: its results `table` is shown, or the portal shows no
        table with the expected column headers (DriftError naming `control`)."""
        try:
            expect(table).to_be_visible(timeout=min(self.timeout_ms, PRESENT_MS))
        except AssertionError:
            self._raise_for_page(step)
            raise DriftError(
                self.selectors.key_of(control),
                f"no results table with the expected column headers {where} after the search",
            ) from None

    def _column_headers(self, table: Locator) -> list[str]:
        """The column headers of the first of `table`, as the portal writes them."""
        return [portal_text(t) for t in table.first.get_by_role("columnheader").all_inner_texts()]

    def _data_rows(self, table: Locator) -> Locator:
        """The rows of `table` that hold cells (the header row holds only column headers)."""
        cells = self.page.get_by_role("cell").or_(self.page.get_by_role("rowheader"))
        return table.get_by_role("row").filter(has=cells)


class Exchange:
    """The requests a click sends, and how each one ended, as the browser reports them.

    The browser reports a request's end (its answer, or its failure: a connection cut,
    a body cut short) before the page's script can show anything about it, so once the
    page has settled or the screen shows an answer, what is recorded here is complete.
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.sent: list[Request] = []
        self.statuses: dict[Request, int] = {}
        self.failures: dict[Request, str] = {}
        page.on("request", self._sent)
        page.on("response", self._answered)
        page.on("requestfailed", self._failed)

    @property
    def navigated(self) -> bool:
        """Whether a whole page was loaded (a form posted, a link followed)."""
        return any(request.resource_type == "document" for request in self.sent)

    def _sent(self, request: Request) -> None:
        if request.resource_type in DATA_REQUESTS:
            self.sent.append(request)

    def _answered(self, response: Response) -> None:
        if not 300 <= response.status < 400:  # a redirect: its target answers for it
            self.statuses[response.request] = response.status

    def _failed(self, request: Request) -> None:
        self.failures[request] = request.failure or "connection failed"

    def worst_status(self) -> int | None:
        """The status that matters most among the answers: -1 for a failed request (a
        cut, no answer), else a transient one, 401, 403, then None (all went well)."""
        statuses = []
        for request in self.sent:
            if request in self.failures:
                return -1
            status = self.statuses.get(request)
            if status is not None:
                statuses.append(status)
            elif request.redirected_to is None:
                return -1  # sent, never answered
        for wanted in (is_transient, lambda s: s == 401, lambda s: s == 403):
            for status in statuses:
                if wanted(status):
                    return status
        return None

    def failure(self) -> str | None:
        """Why a request the click sent failed (5xx, 408, 429, 401, a cut), if one did."""
        for request in self.sent:
            if request in self.failures:
                return f"the request failed ({self.failures[request]})"
            status = self.statuses.get(request)
            if status is None and request.redirected_to is None:
                return "the request got no answer"
            if status is not None and (is_transient(status) or status == 401):
                return f"the portal answered HTTP {status}"
        return None

    def close(self) -> None:
        self.page.remove_listener("request", self._sent)
        self.page.remove_listener("response", self._answered)
        self.page.remove_listener("requestfailed", self._failed)
