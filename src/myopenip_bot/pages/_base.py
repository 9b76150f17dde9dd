"""What every screen shares: waiting for a state, telling apart the login page and error pages.

The portal can answer any step with its login page (the session expired: it redirects any
page there, and its JS does so when a fetch gets 401) or with a technical error page.
Page objects never guess: `_await` waits for the state they expect *or* one of those,
and raises SessionExpiredError / TechnicalError naming the step, so the runner can log
in again and redo the step, or stop.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, Request, Response, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from myopenip_bot.errors import SessionExpiredError, TechnicalError, TransientError
from myopenip_bot.retry import backoff_delay
from myopenip_bot.selectors import Control, Selectors, locate

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT_MS = 15_000.0

# Requests whose answer can change what a screen shows: the data fetches, or a whole page.
DATA_REQUESTS = frozenset({"fetch", "xhr", "document"})
# Answers that say "try again later" rather than "no": a request that got one (or no
# answer at all) is transient.
TRANSIENT_STATUSES = frozenset({408, 425, 429})
# Times a search (a GET: asking again changes nothing) is sent in place before the
# failure goes up to the runner, which then redoes the whole step from a fresh page.
IN_PLACE_ATTEMPTS = 3


def is_transient(status: int) -> bool:
    """Whether an HTTP status means the portal failed rather than refused."""
    return status >= 500 or status in TRANSIENT_STATUSES


class _RequestFailed(TransientError):
    """A request of this screen got a transient answer; says how to send it again."""

    def __init__(self, message: str, *, method: str, document: bool) -> None:
        super().__init__(message)
        self.method = method
        self.document = document


@dataclass(frozen=True)
class TableRow:
    """One data row of a table: its cells by column header, and its whole text."""

    cells: dict[str, str]
    text: str


def squash(text: str) -> str:
    """Collapse runs of whitespace (including non-breaking spaces) into one space."""
    return " ".join(text.split())


def for_browser(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern without Python's named groups, which JavaScript cannot parse."""
    return re.compile(re.sub(r"\(\?P<\w+>", "(?:", pattern.pattern), pattern.flags)


def digits_pattern(digits: str) -> re.Pattern[str]:
    """Match a number however the portal groups it: "0231456789" or "02 31 45 67 89"."""
    return re.compile(r"[\s.]?".join(re.escape(d) for d in digits))


class Screen:
    """Base of the page objects: the page, the selectors, and a timeout for every wait."""

    def __init__(
        self, page: Page, selectors: Selectors, *, timeout_ms: float = DEFAULT_TIMEOUT_MS
    ) -> None:
        self.page = page
        self.selectors = selectors
        self.timeout_ms = timeout_ms

    # -- locating -------------------------------------------------------------------

    def _locate(
        self, control: Control, scope: Page | Locator | None = None, **values: str
    ) -> Locator:
        return locate(self.page if scope is None else scope, control, **values)

    @property
    def _login_heading(self) -> Locator:
        return self._locate(self.selectors.login.heading)

    @property
    def _technical_error(self) -> Locator:
        return self.page.get_by_text(self.selectors.texts.technical_error)

    # -- waiting --------------------------------------------------------------------

    def _await(self, expected: Locator, step: str) -> None:
        """Wait until `expected` is visible; raise if the login or an error page shows instead."""
        # `.first`: we wait for whichever of these shows first; nothing is acted upon.
        anything = expected.or_(self._login_heading).or_(self._technical_error)
        anything = anything.filter(visible=True).first
        try:
            expect(anything).to_be_visible(timeout=self.timeout_ms)
        except AssertionError:
            self._raise_for_page(step)
            raise TechnicalError(
                f"{step}: the portal did not show what was expected within "
                f"{self.timeout_ms / 1000:g} s (waited for {expected})"
            ) from None
        if not _visible(expected):
            self._raise_for_page(step)

    def _raise_for_page(self, step: str) -> None:
        """Raise SessionExpiredError or TechnicalError if the page is the login or an error page."""
        if _visible(self._login_heading):
            raise SessionExpiredError(f"{step}: the portal showed its login page")
        if _visible(self._technical_error):
            raise TechnicalError(
                f"{step}: the portal answered {self.selectors.texts.technical_error!r}"
            )

    def _expect(self, check: Callable[[], None], step: str, what: str) -> None:
        """Run a web-first assertion; a failure is the login page, an error page, or a timeout."""
        try:
            check()
        except AssertionError:
            self._raise_for_page(step)
            raise TechnicalError(
                f"{step}: {what} did not happen within {self.timeout_ms / 1000:g} s"
            ) from None

    def _submit(self, click: Callable[[], None], step: str) -> Response:
        """Click something that fetches data; return the answer, raising on 401 or 5xx.

        Only an answer to a request sent after the click counts: a fetch already under way
        (a tab's own first search) must not pass for the answer to this one. A GET that
        gets a transient answer (5xx, 408, 429) is sent again in place, up to
        IN_PLACE_ATTEMPTS times with a short backoff: the same click for a fetch, a reload
        for a whole page (the error page holds no form to click).
        """
        action = click
        for attempt in range(1, IN_PLACE_ATTEMPTS + 1):
            try:
                return self._submit_once(action, step)
            except _RequestFailed as failed:
                if attempt == IN_PLACE_ATTEMPTS or failed.method != "GET":
                    raise
                log.warning("request_retried", step=step, attempt=attempt, error=str(failed))
                # allowed: backoff with jitter before asking a failing portal again
                time.sleep(backoff_delay(attempt, base=0.5, cap=2.0))
                action = self._reload if failed.document else click
        raise AssertionError("unreachable")  # pragma: no cover

    def _reload(self) -> None:
        self.page.reload()

    def _submit_once(self, click: Callable[[], None], step: str) -> Response:
        response = self._send(click, step)
        if is_transient(response.status):
            raise _RequestFailed(
                f"{step}: the portal answered HTTP {response.status}",
                method=response.request.method,
                document=response.request.resource_type == "document",
            )
        if response.status == 403:
            raise TechnicalError(f"{step}: the portal refused the request (HTTP 403)")
        if response.status == 401:
            # The page's JS goes to the login page; wait for it so the next step starts clean.
            self._expect(
                lambda: expect(self._login_heading).to_be_visible(timeout=self.timeout_ms),
                step,
                "the redirection to the login page",
            )
            raise SessionExpiredError(f"{step}: the portal answered HTTP {response.status}")
        if response.request.resource_type == "document":
            self._raise_for_page(step)
        return response

    def _send(self, click: Callable[[], None], step: str) -> Response:
        """Click, and return the answer to the request the click sent (a fetch or a page).

        When a whole page answers, return once it is the page shown, so nothing of the
        previous page (rows, an alert) is read for the new one.
        """
        sent: list[Request] = []

        def note(request: Request) -> None:
            if request.resource_type in DATA_REQUESTS:
                sent.append(request)

        def ours(response: Response) -> bool:
            return response.request in sent and not 300 <= response.status < 400

        self.page.on("request", note)
        try:
            with self.page.expect_response(ours, timeout=self.timeout_ms) as answer:
                click()
            response = answer.value
        except PlaywrightError as error:
            self._raise_for_page(step)
            raise TechnicalError(
                f"{step}: the portal did not answer ({_first_line(error)})"
            ) from None
        finally:
            self.page.remove_listener("request", note)
        if response.request.resource_type == "document":
            try:
                self.page.wait_for_url(response.url, timeout=self.timeout_ms)
                self.page.wait_for_load_state("domcontentloaded", timeout=self.timeout_ms)
            except PlaywrightTimeoutError:
                pass  # a portal may rewrite its address once loaded: the content waits follow
        return response

    def _settle(self, scope: Page | Locator, step: str) -> None:
        """Wait until nothing in `scope` is loading (no aria-busy, no loading text)."""
        loading = scope.get_by_text(self.selectors.texts.loading)
        busy = scope.locator("[aria-busy='true']")  # an ARIA state, not a style hook
        self._expect(
            lambda: expect(loading.filter(visible=True)).to_have_count(0, timeout=self.timeout_ms),
            step,
            "the end of loading",
        )
        self._expect(
            lambda: expect(busy).to_have_count(0, timeout=self.timeout_ms),
            step,
            "the end of loading (aria-busy)",
        )

    # -- reading tables -------------------------------------------------------------

    def _read_table(self, table: Locator, empty: str) -> list[TableRow]:
        """Every data row of `table`, cells keyed by their column header's text.

        A row saying `empty` ("Aucune licence ne correspond …") is a message, not data.
        """
        if table.count() == 0:
            return []
        headers = [squash(text) for text in table.get_by_role("columnheader").all_inner_texts()]
        rows: list[TableRow] = []
        for row in self._data_rows(table).all():
            if squash(empty) in squash(row.inner_text()):
                continue
            # A row may head itself with a rowheader (<th scope="row">): read both, in order.
            found = row.get_by_role("cell").or_(row.get_by_role("rowheader"))
            cells = [squash(text) for text in found.all_inner_texts()]
            by_header = (
                dict(zip(headers, cells, strict=False)) if len(cells) == len(headers) else {}
            )
            rows.append(TableRow(cells=by_header, text=squash(row.inner_text())))
        return rows

    def _data_rows(self, table: Locator) -> Locator:
        """The rows of `table` that hold cells (the header row holds only column headers)."""
        cells = self.page.get_by_role("cell").or_(self.page.get_by_role("rowheader"))
        return table.get_by_role("row").filter(has=cells)


def _visible(locator: Locator) -> bool:
    """Whether any element of `locator` is visible now (no waiting, no strictness)."""
    return locator.filter(visible=True).count() > 0


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
