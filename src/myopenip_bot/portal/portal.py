"""The portal as a run sees it: steps that survive an expired session or a failing portal,
logins handed over from an untraced context, and the path to a service's settings.

    Portal.step(name, action)   a step that reads or prepares (never « Valider »): logs in
                                again when the login page shows; redoes it after a
                                technical failure, under the one retry policy (retry.py);
                                until one step succeeded, under the start-up budget
                                (MYOPENIP_STARTUP_TIMEOUT): a portal not up yet is waited for
    Portal.log_in()             a login, on the page `login_page` gives (the browser
                                session's untraced context); a refusal is never retried,
                                and is remembered (refusals.py) until a login succeeds
    Portal.find_service(ref)    Mes Services > Paramétrage / Monitoring > search: the
                                service's row, whose « Paramétrer > » opens it
                                (Portal.open_found)

Reads are tried again in place before a step fails, as a person does with a flaky
portal: a page opened by its address and answered 5xx is opened again (`goto`), and the
way to a service goes on from the screen a failed read left (an error page answering it
is opened again), each under the retry policy's backoff; « Valider » never is.

The page itself is renewed every RENEW_PAGE_EVERY visits to a service (a new tab of the
same context): Chromium's renderer keeps memory from each screen a tab has shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TypeVar

import structlog
from playwright.sync_api import Page

from myopenip_bot.config.selectors import Selectors
from myopenip_bot.config.settings import Settings
from myopenip_bot.errors import (
    AuthenticationError,
    BrowserFailure,
    ServiceNotFoundError,
    SessionExpiredError,
    TechnicalError,
)
from myopenip_bot.failures import best_effort, translated
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.models import ServiceInfo
from myopenip_bot.pages import (
    LoginPage,
    Navigation,
    ServiceRow,
    ServiceSettingsPage,
    ServicesPage,
    prepare_page,
    reading,
)
from myopenip_bot.pages.presence import Presence, visible_now
from myopenip_bot.portal.refusals import RefusedLogins
from myopenip_bot.portal.retry import DEFAULT_POLICY, RetryPolicy, StartupBudget

__all__ = ["RENEW_PAGE_EVERY", "LoginPageFn", "Portal"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

# Logins per run (the first one and those after a session expired): beyond this, the
# session keeps expiring and going on would only hammer the portal.
MAX_LOGINS = 6
# Visits to a service after which the next one starts in a new tab of the same browser
# context (same login). Chromium's renderer keeps memory from each screen a tab has shown
# through the portal's links (8-16 MiB per visit here): a 1,000-licence batch grew it by
# half a GiB in one tab; a new tab every few visits keeps a batch's memory flat (it costs
# one load of the portal's home page; a one-shot run never gets that far).
RENEW_PAGE_EVERY = 4

#: Gives the page to type the credentials on, for every login (the browser session
#: yields a page of a separate, untraced context and then hands its cookies over).
LoginPageFn = Callable[[Page], AbstractContextManager[Page]]


@contextmanager
def _same_page(page: Page) -> Iterator[Page]:
    yield page


@dataclass(frozen=True)
class _Searched:
    """The services list as this run's own search by a ref alone left it: its rows."""

    services: ServicesPage
    ref: str
    rows: tuple[ServiceRow, ...]


class Portal:
    """The portal for one run at a time, on `page`, as `settings` say how to reach it."""

    def __init__(
        self,
        page: Page,
        selectors: Selectors,
        settings: Settings,
        *,
        stop: StopSignal | None = None,
        login_page: LoginPageFn = _same_page,
        policy: RetryPolicy = DEFAULT_POLICY,
        renew_page_every: int = RENEW_PAGE_EVERY,
        on_step: Callable[[str], None] | None = None,
        startup: bool = False,
    ) -> None:
        self.page = page
        self.selectors = selectors
        self.settings = settings
        self.stop = stop if stop is not None else StopSignal()
        self.policy = policy
        self.timeout_ms = float(settings.timeout_ms)
        self.logins = 0
        self._logged_in_here = False  # the last login was typed on this page itself
        self.current_step = "starting"
        self._login_page = login_page
        self._on_step = on_step  # told each step's name as it begins (a person's progress)
        self._renew_every = renew_page_every
        self._visits = 0  # visits to a service in this page
        self._base_url = settings.base_url.rstrip("/") + "/"
        # The services list this run searched by a ref alone, for the next find_service
        # of that ref to use as it shows rather than search again (once, if it still shows).
        self._searched: _Searched | None = None
        # `startup`: this portal is a run's way in. Until a first step succeeds, the portal
        # may not be up yet (a scheduler started the job first): the start-up budget.
        self._started = not startup
        prepare_page(page)

    def start_run(self) -> None:
        """A new run begins: its logins are counted afresh."""
        self.logins = 0
        self.page.set_default_timeout(self.timeout_ms)

    # -- steps --------------------------------------------------------------------------

    def step(
        self, name: str, action: Callable[[], T], *, on_retry: Callable[[], None] | None = None
    ) -> T:
        """Run one step that reads or prepares (never « Valider »), from wherever the page is.

        When the session expired, log in again and redo it. When the portal failed (5xx,
        timeout, network, a login that got no answer), redo it under the retry policy;
        `on_retry` is told first (what was on screen is not to be trusted any more). A
        signal stops the run before each attempt and cuts every wait.
        """
        self.current_step = name
        if self._on_step is not None:
            self._on_step(name)
        budget: RetryPolicy | StartupBudget = (
            self.policy
            if self._started
            else StartupBudget(self.settings.startup_timeout, self.policy)
        )
        failures = 0
        while True:
            self.stop.check()
            try:
                try:
                    done = translated(name, action)
                    self._started = True
                    return done
                except SessionExpiredError as expired:
                    log.info("login_needed", step=name, why=str(expired))
                    if on_retry is not None:
                        on_retry()
                    self.log_in(name)  # then the step again, from the page it left
                    continue
            except TechnicalError as error:  # the step's, or its login's
                failures += 1
                if budget.gives_up(failures):
                    raise
                log.warning(
                    "step_retried",
                    step=name,
                    attempt=failures + 1,
                    **budget.left_to_log(),
                    error=str(error),
                )
                if on_retry is not None:
                    on_retry()
                budget.wait(failures, self.stop)

    def log_in(self, step: str = "logging in", *, here_first: bool = True) -> None:
        """Log in (the page shows the login page), on the page `login_page` gives.

        `here_first`: see first whether the run's own page shows the login page (a
        session may still be valid); without it (no session to be valid), straight to
        the login. A refusal raises AuthenticationError at once; a technical failure
        raises TechnicalError, which the step that needed the login retries.
        """
        if self.logins >= MAX_LOGINS:
            raise TechnicalError(
                f"{step}: the portal asked to log in {self.logins + 1} times in one run; "
                "the session does not last, giving up"
            )
        if here_first:
            here = LoginPage(self.page, self.selectors, timeout_ms=self.timeout_ms)
            translated("opening the login page", lambda: self._show_login(here))
            if not here.is_shown():
                return  # the portal let us in after all: the session was still valid
        self._logged_in_here = False
        with self._login_page(self.page) as page:
            self._logged_in_here = page is self.page
            login = LoginPage(page, self.selectors, timeout_ms=self.timeout_ms)
            translated("opening the login page", lambda: self._show_login(login))
            if login.is_shown():
                username, password = self.settings.require_credentials()
                refusals = RefusedLogins(
                    self.settings.work_dir,
                    self.settings.base_url,
                    username,
                    password.get_secret_value(),
                )
                try:
                    translated("logging in", lambda: login.log_in(username, password))
                except AuthenticationError as refused:
                    refusals.remember(str(refused))  # the next runs do not try it again
                    raise
                refusals.forget()
        self.logins += 1

    def _show_login(self, login: LoginPage) -> None:
        if not login.is_shown():
            self.goto(self._base_url, "opening the login page", login.page)
            login.wait_for_login_or_navigation("opening the login page")

    def goto(self, url: str, step: str, page: Page | None = None) -> None:
        """Open `url`: a GET, so only a read. Answered 5xx, it is opened again in place, as
        a person reloads an error page, after a backoff, up to the policy's attempts;
        then the step fails (and its own retry starts over)."""
        target = page or self.page
        if target is self.page:
            self._searched = None
        failures = 0
        while True:
            response = target.goto(url)
            if response is None or response.status < 500:
                return
            failures += 1
            error = f"{step}: the portal answered HTTP {response.status}"
            if self.policy.gives_up(failures):
                raise TechnicalError(error)
            self._read_again(step, failures, error)

    def _read_again(self, step: str, failures: int, error: str) -> None:
        """Log a read about to be sent again in place (`failures` so far), and back off."""
        log.warning(
            "read_again",
            step=step,
            attempt=failures + 1,
            attempts=self.policy.attempts,
            error=error,
        )
        self.policy.wait(failures, self.stop)

    def _open_again(self, step: str) -> None:
        """The error page answering a read of this way: its address again (a GET, as a
        person reloads it), announced as a read until the page has settled (what the page
        loads by itself belongs to it)."""
        with reading(self.page, step):
            self.goto(self.page.url, step)
            Presence(self.page, self.selectors, timeout_ms=self.timeout_ms).wait_settled(step)

    def open_again(self, step: str, url: str) -> None:
        """Before a read is tried again, from a page that shows the portal's error: `url`
        (the screen the read started from) opened once in its place, a GET announced as a
        read until the page has settled, as a person goes back. A failure there is the
        next attempt's to find (its retry is the caller's)."""
        presence = Presence(self.page, self.selectors, timeout_ms=self.timeout_ms)
        try:
            with reading(self.page, step):
                translated(step, lambda: self.page.goto(url))
                presence.wait_settled(step)
        except TechnicalError as error:
            log.info("read_again_failed", step=step, error=str(error))

    def _error_page(self) -> bool:
        """Whether the page on screen is the portal's error page (its words, or a 5xx),
        with no navigation bar left to go on from."""
        presence = Presence(self.page, self.selectors, timeout_ms=self.timeout_ms)
        try:
            presence.raise_for_error_page("")
        except TechnicalError:
            navigation = Navigation(self.page, self.selectors, timeout_ms=self.timeout_ms)
            return not navigation.is_shown()
        return False

    # -- the way to a service ---------------------------------------------------------

    def open_portal(self) -> None:
        """The portal's home page, logged in (a login first when it asks for one, or at
        once when the browser holds no cookie of the portal: no session to reuse, so the
        login page is where its first page would lead; a portal that shows none lets the
        run in all the same)."""
        navigation = Navigation(self.page, self.selectors, timeout_ms=self.timeout_ms)
        if self.logins == 0 and not self._holds_cookies():
            log.info("login_needed", step="opening the portal", why="no session yet")
            self.log_in("opening the portal", here_first=False)
            if self._logged_in_here and self._shows_navigation(navigation):
                return  # the login led to a page with the navigation: no need to load one
        elif self._on_portal_page(navigation):
            # A page of the portal with its navigation bar (the last run's service, say):
            # the way to a service starts from its menu, as a person's does. A session
            # that ended meanwhile shows at the menu's link (the login page), and the
            # step logs in again there.
            return
        self.goto(self._base_url, "opening the portal")
        navigation.wait("opening the portal")

    def _on_portal_page(self, navigation: Navigation) -> bool:
        """Whether the page on screen is one of the portal's (its address under the
        portal's), showing the navigation bar, no login page and no dialog (one that a
        run stopped in may still be open, over the menu; a modal one hides the menu from
        the bot's looks already)."""
        if not self.page.url.startswith(self._base_url):
            return False  # a new tab (about:blank), or another site
        presence = Presence(self.page, self.selectors, timeout_ms=self.timeout_ms)
        dialogs = self.page.get_by_role("dialog").or_(self.page.get_by_role("alertdialog"))
        return best_effort(
            lambda: navigation.is_shown() and not visible_now(presence.login_heading.or_(dialogs)),
            False,
        )

    def _shows_navigation(self, navigation: Navigation) -> bool:
        """Whether the page the login led to, once loaded, shows the navigation bar."""

        def shown() -> bool:
            self.page.wait_for_load_state()
            return navigation.is_shown()

        return translated("opening the portal", shown)

    def _holds_cookies(self) -> bool:
        """Whether the browser holds a cookie of the portal (a session, maybe)."""
        return bool(
            translated("opening the portal", lambda: self.page.context.cookies(self._base_url))
        )

    def list_services(self, ref: str = "", **columns: str) -> list[ServiceInfo]:
        """The services the list « Paramétrage / Monitoring » shows for these filters (a
        ref, and columns by their key: `client="…"`, `account="CC-…"`), all pages."""
        self._searched = None
        navigation = Navigation(self.page, self.selectors, timeout_ms=self.timeout_ms)
        if not navigation.is_shown():
            self.goto(self._base_url, "opening the services list")
        services = navigation.open_services()
        rows = services.search(ref, **columns)
        if ref and not columns:
            self._searched = _Searched(services, ref, tuple(rows))
        return [_info(row) for row in rows]

    def find_service(self, ref: str) -> tuple[ServicesPage, ServiceInfo]:
        """From any page: Mes Services > Paramétrage / Monitoring > search for `ref`.

        Returns the list (whose « Paramétrer > » opens the service) and the service's row
        as it showed it; raises ServiceNotFoundError unless exactly one row has that ref
        (case aside). Right after this run's own `list_services(ref)` whose search still
        shows (`find --service`), that search is the answer: no second search.
        """
        searched, self._searched = self._searched, None
        if self._visits >= self._renew_every:
            self._renew_page()
            searched = None
        self._visits += 1
        step = f"opening the service {ref}"
        if searched is not None and self._still_searched(searched, ref):
            # This run's own search by this ref, still on screen: its answer, as it shows.
            log.info("services_list_reused", ref=ref)
            return searched.services, self._exact(ref, list(searched.rows))
        navigation = Navigation(self.page, self.selectors, timeout_ms=self.timeout_ms)
        # The list this way opened (its filters are its own), once it shows. A list found
        # on screen may hold another search's filters: the way starts from the menu.
        services: ServicesPage | None = None
        failures = 0
        while True:
            try:
                if services is None or not self._list_shown(services):
                    if not navigation.is_shown():  # an error page, a blank page: the portal
                        self.goto(self._base_url, step)
                    services = navigation.open_services()
                rows = services.search(ref)
                break
            except (SessionExpiredError, BrowserFailure):
                raise  # the step's: a login, or a browser that failed
            except TechnicalError as error:
                # A read of this way failed (the menu's link, the search): it goes on from
                # the screen it left, as a person would, rather than from the portal's
                # home: an error page answering it is that read's own, opened again.
                failures += 1
                if self.policy.gives_up(failures):
                    raise
                self._read_again(step, failures, str(error))
                if self._error_page():
                    self._open_again(step)
                    services = ServicesPage(self.page, self.selectors, timeout_ms=self.timeout_ms)
        return services, self._exact(ref, rows)

    @staticmethod
    def _exact(ref: str, rows: list[ServiceRow]) -> ServiceInfo:
        """The one row of a search whose ref is `ref` (case aside), else
        ServiceNotFoundError naming what the search showed."""
        exact = [row for row in rows if row.ref.upper() == ref.upper()]
        if len(exact) != 1:
            shown = ", ".join(sorted({row.ref for row in rows})) or "none"
            how_many = "no service" if not exact else f"{len(exact)} services"
            raise ServiceNotFoundError(
                f"{how_many} with the ref {ref!r} (the search showed: {shown})"
            )
        return _info(exact[0])

    def _still_searched(self, searched: _Searched, ref: str) -> bool:
        """Whether the list this run searched by `ref` still shows that search, as a person
        sees it: no error page, its filter holding `ref`, the row of `ref` shown (when
        anything else was done on the page since, it does not, and the way starts from
        the menu)."""
        exact = [row.ref for row in searched.rows if row.ref.upper() == ref.upper()]
        if searched.ref.upper() != ref.upper() or len(exact) != 1:
            return False  # none or several: the way from the menu says so
        services = searched.services
        return best_effort(
            lambda: self._list_shown(services) and services.shows_search(searched.ref, exact[0]),
            False,
        )

    def open_found(self, services: ServicesPage, ref: str) -> ServiceSettingsPage:
        """« Paramétrer > » in the row of `ref` that `find_service` showed: its settings.

        The link only reads: answered with an error page, that page's address is opened
        again in place (after a backoff, up to the policy's attempts), as a person reloads
        it; the service's page it then shows is the one the link led to.
        """
        step = f"opening the service {ref}"
        failures = 0
        while True:
            try:
                if failures == 0:
                    return services.open_service(ref)
                self._open_again(step)
                timeout = self.timeout_ms
                settings = ServiceSettingsPage(self.page, self.selectors, timeout_ms=timeout)
                settings.wait(step)
                log.info("service_opened", service=ref)
                return settings
            except (SessionExpiredError, BrowserFailure):
                raise  # the step's: a login, or a browser that failed
            except TechnicalError as error:
                failures += 1
                if self.policy.gives_up(failures) or not self._error_page():
                    raise
                self._read_again(step, failures, str(error))

    def _list_shown(self, services: ServicesPage) -> bool:
        """Whether the services list shows, with its filter by ref (not an error page)."""
        return (
            visible_now(services.heading)
            and visible_now(services.ref_filter)
            and not self._error_page()
        )

    def _renew_page(self) -> None:
        """Go on in a new tab of the same context (same cookies) and close this one.

        Only called where the bot leaves the page it is on anyway (to open a service from
        the menu), so nothing shown on the old page is still needed.
        """
        self._searched = None
        old = self.page
        page = old.context.new_page()
        prepare_page(page)
        page.set_default_timeout(self.timeout_ms)
        self.page = page
        self._visits = 0
        # Already gone with its renderer: nothing to free.
        best_effort(old.close, None, event="page_not_closed")
        log.info("page_renewed")


def _info(row: ServiceRow) -> ServiceInfo:
    return ServiceInfo(
        ref=row.ref,
        name=row.name,
        client=row.client,
        account=row.account,
        type=row.type,
        state=row.state,
        site=row.site,
    )
