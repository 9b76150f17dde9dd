"""The runner's way around the portal: steps that outlive an expired session or a failing
portal, logins, and the path to a service's tabs and its licences.

Every step that only reads or prepares (never « Valider ») runs through `PortalDriver.step`:
when the session expired it logs in again and redoes the step; when the portal failed
(5xx, timeout, network) it redoes the step from a fresh page, with backoff, a few times.
A refused login is never retried; a login that failed for a technical reason is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from pydantic import SecretStr

from myopenip_bot.errors import (
    AuthenticationError,
    ServiceNotActiveError,
    ServiceNotFoundError,
    SessionExpiredError,
    TechnicalError,
)
from myopenip_bot.hooks import RunnerHooks
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.models import ServiceInfo, Tab
from myopenip_bot.pages import (
    LicenceResultsPage,
    LicenceRow,
    LoginPage,
    Navigation,
    ServiceRow,
    ServiceSettingsPage,
    prepare_page,
)
from myopenip_bot.retry import backoff_delay
from myopenip_bot.selectors import Selectors

__all__ = ["RENEW_PAGE_EVERY", "PortalDriver", "first_line", "translated"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

# Logins per run (the first one and those after a session expired): beyond this, the
# session keeps expiring and going on would only hammer the portal.
MAX_LOGINS = 6
# Attempts of one login that fails for a technical reason (never for a refusal).
LOGIN_ATTEMPTS = 3
# Attempts of a step that only reads or prepares (never "Valider") when the portal fails.
STEP_ATTEMPTS = 3
# Result pages walked when looking for a licence: this only stops a runaway "Suivant" loop.
MAX_PAGES = 100
# Visits to a service after which the next one starts in a new tab of the same browser
# context (same login). Chromium's renderer keeps memory from each screen a tab has shown
# through the portal's links (8-16 MiB per visit here): a 1,000-licence batch grew it by
# half a GiB in one tab; a new tab every few visits keeps a batch's memory flat (it costs
# one load of the portal's home page; a one-shot run never gets that far).
RENEW_PAGE_EVERY = 4


class PortalDriver:
    """Steps on the portal for one run at a time; see the module docstring.

    `service_ref` is the service the run works on: `open_service` finds it (exactly one
    row with that ref, case aside), refuses it unless it is a MetaCentrex service in the
    state « Actif », and opens its settings; later steps reuse that page while it is clean.
    """

    def __init__(
        self,
        page: Page,
        selectors: Selectors,
        *,
        base_url: str,
        username: str,
        password: SecretStr,
        hooks: RunnerHooks,
        timeout_ms: float,
        stop: StopSignal,
        renew_page_every: int = RENEW_PAGE_EVERY,
    ) -> None:
        self.page = page
        self.selectors = selectors
        self.base_url = base_url.rstrip("/") + "/"
        self.username = username
        self._password = password
        self.hooks = hooks
        self.timeout_ms = timeout_ms
        self.stop = stop
        self.logins = 0
        self.current_step = "starting"
        self.service_ref = ""
        self.service: ServiceInfo | None = None
        self._settings: ServiceSettingsPage | None = None  # the service page we are on
        self._dirty = False  # a dialog was opened on it: ticks or a status may linger
        self._shown: tuple[Tab, str] | None = None  # a one-page listing still on screen
        self._renew_every = renew_page_every
        self._visits = 0  # visits to a service in this page
        prepare_page(page)

    def start(self, service_ref: str) -> None:
        """Begin a run on `service_ref`: counters and remembered pages start afresh."""
        self.service_ref = service_ref
        self.service = None
        self.logins = 0
        self._settings = None
        self._dirty = False

    def forget_page(self) -> None:
        """The next step starts from a fresh page (no leftover ticks, dialog or status)."""
        self._settings = None
        self._shown = None

    def mark_dirty(self) -> None:
        """A dialog was opened: the next preparation must not reuse this page."""
        self._dirty = True
        self._shown = None

    def shows(self, tab: Tab, prefix: str) -> bool:
        """Whether the page still shows the whole listing of `prefix` in `tab` (one page,
        nothing done on it since): the next step may read it instead of searching again."""
        return self._shown == (tab, prefix) and self._settings is not None and not self._dirty

    # -- steps --------------------------------------------------------------------------

    def step(self, name: str, action: Callable[[], T]) -> T:
        """Run one step that reads or prepares (never "Valider"), from wherever the page is.

        When the session expired, log in again and redo it. When the portal failed (5xx,
        timeout, network), redo it from a fresh page, up to STEP_ATTEMPTS times with
        backoff. A signal stops the run before each attempt.
        """
        self.current_step = name
        failures = 0
        while True:
            self.stop.check()
            try:
                return translated(name, action)
            except SessionExpiredError as expired:
                log.info("login_needed", step=name, why=str(expired))
                self._settings, self._shown = None, None
                self.log_in(name)
            except TechnicalError as error:
                failures += 1
                if failures >= STEP_ATTEMPTS:
                    raise
                log.warning("step_retried", step=name, attempt=failures, error=str(error))
                self._settings, self._dirty, self._shown = None, True, None
                self.stop.sleep(backoff_delay(failures))

    def log_in(self, step: str) -> None:
        """Log in again (the run's page showed the login page), on the hooks' login page.

        A refusal raises AuthenticationError at once; a technical failure (5xx, timeout)
        is retried up to LOGIN_ATTEMPTS times with backoff.
        """
        if self.logins >= MAX_LOGINS:
            raise TechnicalError(
                f"{step}: the portal asked to log in {self.logins + 1} times in one run; "
                "the session does not last, giving up"
            )
        here = LoginPage(self.page, self.selectors, timeout_ms=self.timeout_ms)
        translated("opening the login page", lambda: self._show_login(here))
        if not here.is_shown():
            return  # the portal let us in after all: the session was still valid
        for attempt in range(1, LOGIN_ATTEMPTS + 1):
            self.stop.check()
            try:
                with self.hooks.logging_in(self.page) as page:
                    self._log_in_on(LoginPage(page, self.selectors, timeout_ms=self.timeout_ms))
                self.logins += 1
                return
            except AuthenticationError:
                raise
            except TechnicalError as error:
                if attempt == LOGIN_ATTEMPTS:
                    raise
                log.warning("login_retried", attempt=attempt, error=str(error))
                self.stop.sleep(backoff_delay(attempt))

    def _log_in_on(self, login: LoginPage) -> None:
        translated("opening the login page", lambda: self._show_login(login))
        if login.is_shown():
            translated("logging in", lambda: login.log_in(self.username, self._password))

    def _show_login(self, login: LoginPage) -> None:
        if not login.is_shown():
            self.goto(self.base_url, "opening the login page", login.page)
            login.wait_for_login_or_navigation("opening the login page")

    def goto(self, url: str, step: str, page: Page | None = None) -> None:
        response = (page or self.page).goto(url)
        if response is not None and response.status >= 500:
            raise TechnicalError(f"{step}: the portal answered HTTP {response.status}")

    # -- the way to a service ---------------------------------------------------------

    def open_portal(self) -> None:
        self.goto(self.base_url, "opening the portal")
        Navigation(self.page, self.selectors, timeout_ms=self.timeout_ms).wait("opening the portal")

    def open_service(self) -> ServiceSettingsPage:
        """From any page: Mes Services > Paramétrage / Monitoring > search > Paramétrer >."""
        ref = self.service_ref
        if self._visits >= self._renew_every:
            self._renew_page()
        self._visits += 1
        navigation = Navigation(self.page, self.selectors, timeout_ms=self.timeout_ms)
        if not navigation.is_shown():  # an error page, a blank page: start from the portal
            self.goto(self.base_url, f"opening the service {ref}")
        services = navigation.open_services()
        rows = services.search(ref)
        exact = [row for row in rows if row.ref.upper() == ref.upper()]
        if len(exact) != 1:
            shown = ", ".join(sorted({row.ref for row in rows})) or "none"
            how_many = "no service" if not exact else f"{len(exact)} services"
            raise ServiceNotFoundError(
                f"{how_many} with the ref {ref!r} (the search showed: {shown})"
            )
        (row,) = exact
        self._check_service(row, state=self.service is None)
        self._settings = services.open_service(row.ref)
        return self._settings

    def _renew_page(self) -> None:
        """Go on in a new tab of the same context (same cookies) and close this one.

        Only called where the bot leaves the page it is on anyway (to open a service from
        the menu), so nothing shown on the old page is still needed.
        """
        old = self.page
        page = old.context.new_page()
        prepare_page(page)
        page.set_default_timeout(self.timeout_ms)
        self.page = page
        self._visits = 0
        self.forget_page()
        try:
            old.close()
        except PlaywrightError as error:  # already gone with its renderer: nothing to free
            log.warning("page_not_closed", why=first_line(error))
        log.info("page_renewed")

    def _check_service(self, row: ServiceRow, *, state: bool) -> None:
        """Only an « Actif » MetaCentrex service has licences whose numbers can be changed.

        The state is checked when the run first finds the service (its plan); later visits
        (to act, to verify) must still read the portal if a back office changed it since.
        """
        texts = self.selectors.texts
        self.service = ServiceInfo(
            ref=row.ref,
            name=row.name,
            client=row.client,
            account=row.account,
            type=row.type,
            state=row.state,
        )
        if row.type and row.type != texts.service_type_with_licences:
            raise ServiceNotFoundError(
                f"the service {row.ref} is of type {row.type!r}; only "
                f"{texts.service_type_with_licences} services have licences"
            )
        if state and row.state and row.state != texts.service_state_active:
            raise ServiceNotActiveError(
                f"the service {row.ref} is « {row.state} »: only a service « "
                f"{texts.service_state_active} » can have its numbers dissociated"
            )
        if state and not row.state:
            log.warning("service_state_not_shown", service=row.ref)

    def results(self, tab: Tab, *, fresh: bool = False) -> LicenceResultsPage:
        """The tab's search, reusing the service page we are on when it is clean."""
        if fresh and self._dirty:
            self._settings = None
        if self._settings is None:
            self._settings = self.open_service()
            self._dirty = False
            self._shown = None
        if self._shown is not None and self._shown[0] is not tab:
            self._shown = None  # another tab: its listing is another one
        return self._settings.open_tab(tab)

    def find_rows(self, tab: Tab, *, ref: str | None, number: str | None) -> list[LicenceRow]:
        """Every row (all pages) whose ref or number is exactly the one asked for."""
        results = self.results(tab)
        self._shown = None  # a search of its own replaces what the page showed
        formats = ["{digits}", "{grouped}"] if number else [None]
        preferred = self.selectors.hints.number_filter_format
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
                self._shown = (tab, ref)  # the listing of this ref, whole, on screen
            if matches:
                return matches
        return []

    def rows_matching(self, tab: Tab, prefix: str) -> list[LicenceRow]:
        """Every row (all pages) that the "Licence" filter `prefix` lists."""
        results = self.results(tab)
        self._shown = None
        rows = results.search(licence=prefix)
        pages = 1
        for _ in range(MAX_PAGES):
            if not results.next_page(licence=prefix):
                break
            rows += results.rows()
            pages += 1
        if pages == 1:
            self._shown = (tab, prefix)
        return rows


def translated(step: str, action: Callable[[], T]) -> T:
    """Run `action`, turning Playwright's own errors into TechnicalError naming the step."""
    try:
        return action()
    except PlaywrightTimeoutError as error:
        raise TechnicalError(f"{step}: timed out ({first_line(error)})") from None
    except PlaywrightError as error:
        raise TechnicalError(f"{step}: {first_line(error)}") from None


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _same(row: LicenceRow, ref: str | None, number: str | None) -> bool:
    if ref is not None:
        return row.ref.upper() == ref.upper()
    return number is not None and row.number == number
