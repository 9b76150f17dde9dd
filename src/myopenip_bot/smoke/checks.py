"""The smoke checks: walk the guide's screens in order and prove every entry of `selectors/`.

Each check is named after its screen and the selector key it proves, so that a failure
says what drifted and what the screen shows instead, the best candidate first:

    Dissociation dialog: dialog.submit: no button named "Valider" in the dialog
    "Dissocier vos numéros"; found button "Confirmer"

A check ends in one of four ways. *passed*; *failed*: the portal does not show what the
selectors say (the failure names the key, keeps a screenshot of its screen and the
closest controls, which `--propose` turns into a fix); *error*: the check could not run —
the portal could not be reached, the login got no answer or was refused, a check it needs
failed, or a signal stopped the walk; *skipped*: only for a state the portal cannot show
here (« Suivant » with one page of results, « Licences sans numéro » when no ticked
licence lacks a number), with why. A check that could not run is never a skip: a CI
reporter must not show an unreachable portal as green.

Drift is told in seconds: a control is looked for briefly, then again once the page has
settled (every request answered, nothing changing, nothing loading); absent then, it is
absent. The login is judged by its own screen (the form gone, no alert): the navigation's
own check names « Mes Services » when it drifted.

Read-only by construction: the walk opens the dissociation dialog through its own
`ReadOnlyDialog`, which can read it and click « Annuler » but has no way to click
« Valider »; and a network guard (smoke.guard) aborts any request that changes data.
A signal (SIGINT, SIGTERM) stops the walk between two checks: the checks not run say so.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect
from pydantic import BaseModel

from myopenip_bot.config.selectors import Control, Selectors, locate
from myopenip_bot.errors import (
    AuthenticationError,
    BotError,
    DriftError,
    Interrupted,
    TechnicalError,
    first_line,
    network_failure,
    signal_name,
)
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.models import Tab, format_number
from myopenip_bot.pages import (
    LicenceResultsPage,
    LicenceRow,
    ServiceRow,
    ServiceSettingsPage,
    ServicesPage,
    prepare_page,
    reading,
    shows_working,
    squash,
)

# The pages' own notion of a settled page, for the walk's own clicks and looks.
from myopenip_bot.pages._base import Screen
from myopenip_bot.pages._closest import explain, named
from myopenip_bot.smoke.guard import NetworkGuard
from myopenip_bot.text import visible

__all__ = ["CHECKS", "CheckResult", "CheckSpec", "ReadOnlyDialog", "SmokeWalk", "Status"]

log = structlog.get_logger(__name__)

LOGIN = "Login"
NAVIGATION = "Navigation"
SERVICES = "Paramétrage / Monitoring"
SERVICE = "Service settings"
DIALOG = "Dissociation dialog"
AFTER = "After Annuler"
GUARD = "Read-only guard"

# How long a control may take to show before the page is waited on (most are there at
# once), and then once it has settled (a menu opening, a dialog fading in): past that, on
# a settled page, it is not there. A control that already failed in this walk is not
# waited for again: once the page has settled, it shows or it does not.
GLANCE_MS = 500
SETTLED_GLANCE_MS = 500


def _tab_screen(tab: Tab) -> str:
    return f"{tab.value} tab"


@dataclass(frozen=True)
class CheckSpec:
    screen: str
    key: str  # the selectors entry it proves, e.g. "dialog.submit"
    what: str

    @property
    def id(self) -> str:
        return f"{self.screen}: {self.key}"


def _tab_checks(tab: Tab) -> list[CheckSpec]:
    screen = _tab_screen(tab)
    return [
        CheckSpec(screen, "licences.filters", "the eleven filters, labelled as the spec says"),
        CheckSpec(screen, "licences.licence_filter", 'the filter "Licence"'),
        CheckSpec(screen, "licences.number_filter", 'the filter "SDA"'),
        CheckSpec(screen, "licences.search", 'the button "Rechercher"'),
        CheckSpec(screen, "licences.table", "the results table"),
        CheckSpec(screen, "texts.licence_columns", "the column headers"),
        CheckSpec(screen, "licences.select_all", 'the header checkbox "Tout sélectionner"'),
        CheckSpec(screen, "licences.row_checkbox", 'a checkbox "Sélectionner FPC…" per row'),
        CheckSpec(screen, "texts.licence_cell", 'each "Licence" cell reads "FPC… type"'),
        CheckSpec(screen, "licences.next_page", 'the link "Suivant" when there are more pages'),
        CheckSpec(screen, "licences.actions", '"Actions" disabled while nothing is ticked'),
    ]


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(LOGIN, "login.heading", "the heading"),
    CheckSpec(LOGIN, "login.username", 'the field "Identifiant"'),
    CheckSpec(LOGIN, "login.password", 'the field "Mot de passe"'),
    CheckSpec(LOGIN, "login.submit", 'the button "Se connecter", and a login through it'),
    CheckSpec(LOGIN, "login.error", "the alert of a refused login"),
    CheckSpec(NAVIGATION, "navigation.services_menu", 'the button "Mes Services"'),
    CheckSpec(NAVIGATION, "navigation.services_settings", 'its link "Paramétrage / Monitoring"'),
    CheckSpec(NAVIGATION, "navigation.logout", 'the button "Se déconnecter"'),
    CheckSpec(SERVICES, "services.heading", "the heading"),
    CheckSpec(SERVICES, "services.filters", "the seven filters, labelled as the columns"),
    CheckSpec(SERVICES, "services.ref_filter", 'the filter "Réf. du service"'),
    CheckSpec(SERVICES, "services.search", 'the button "Rechercher"'),
    CheckSpec(SERVICES, "services.table", "the services table"),
    CheckSpec(SERVICES, "texts.service_columns", "the column headers"),
    CheckSpec(SERVICES, "services.next_page", 'the link "Suivant" when there are more pages'),
    CheckSpec(SERVICES, "texts.service_type_with_licences", "a MetaCentrex service"),
    CheckSpec(SERVICES, "texts.service_state_active", "an « Actif » one"),
    CheckSpec(SERVICES, "hints.service_ref", "its ref reads as the hint says (a hint only)"),
    CheckSpec(SERVICES, "hints.empty_services", "a search that finds nothing concludes"),
    CheckSpec(SERVICES, "services.configure", 'its link "Paramétrer >"'),
    CheckSpec(SERVICE, "service.tablist", "the tab list"),
    CheckSpec(SERVICE, "service.tabs.Utilisateurs", 'the tab "Utilisateurs", selected by a click'),
    CheckSpec(SERVICE, "service.tabs.Groupements", 'the tab "Groupements", selected by a click'),
    CheckSpec(SERVICE, "service.tab_panel", "the tab panel"),
    *_tab_checks(Tab.UTILISATEURS),
    *_tab_checks(Tab.GROUPEMENTS),
    CheckSpec(SERVICE, "hints.empty_results", "a licence search that finds nothing concludes"),
    CheckSpec(SERVICE, "texts.licence_ref", "the licence to check is found by its ref"),
    CheckSpec(SERVICE, "hints.number_filter_format", "it is found by its number too"),
    CheckSpec(SERVICE, "hints.loading", "a loading text (a hint: never required)"),
    CheckSpec(SERVICE, "hints.technical_error", "an error page's wording (a hint)"),
    CheckSpec(SERVICE, "hints.in_progress", "« État » of a licence being dissociated (a hint)"),
    CheckSpec(DIALOG, "licences.actions", '"Actions" enabled once a licence is ticked'),
    CheckSpec(DIALOG, "licences.dissociate", 'its menu item "Dissocier vos numéros"'),
    CheckSpec(DIALOG, "dialog.dialog", 'the dialog "Dissocier vos numéros"'),
    CheckSpec(DIALOG, "dialog.heading", 'its heading "Numéros à dissocier"'),
    CheckSpec(DIALOG, "texts.dialog_row", 'its row "FPC… 02 31 …" for the ticked licence'),
    CheckSpec(DIALOG, "dialog.keep_select", 'the choice "Conserver le numéro …"'),
    CheckSpec(DIALOG, "texts.keep_yes", 'its option "Oui", preselected'),
    CheckSpec(DIALOG, "texts.keep_no", 'its option "Non"'),
    CheckSpec(DIALOG, "dialog.any_keep_select", "one choice per number"),
    CheckSpec(DIALOG, "dialog.warnings", "the three warning paragraphs"),
    CheckSpec(DIALOG, "dialog.warning_texts", "the warnings word for word"),
    CheckSpec(DIALOG, "texts.without_number", '"Licences sans numéro" for a licence without'),
    CheckSpec(DIALOG, "dialog.cancel", 'the button "Annuler"'),
    CheckSpec(DIALOG, "dialog.submit", 'the button "Valider" (never clicked)'),
    CheckSpec(DIALOG, "dialog.error", "the alert of a refusal"),
    CheckSpec(AFTER, "dialog.cancel", "Annuler closes the dialog"),
    CheckSpec(AFTER, "licences.row_checkbox", "the tick can be removed; Actions is disabled"),
    CheckSpec(AFTER, "licences.status", 'the status "Numéro(s) dissocié(s) : N"'),
    CheckSpec(AFTER, "texts.status_dissociated", "its text"),
    CheckSpec(GUARD, "network.read_only", "no request that changes data was sent"),
)


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the portal differs from selectors/: a drift, named by its key
    ERROR = "error"  # could not run: unreachable, no login, a check it needs failed, a signal
    SKIPPED = "skipped"  # a state the portal cannot show here (a small account): with why


@dataclass
class CheckResult:
    spec: CheckSpec
    status: Status
    message: str = ""
    seconds: float = 0.0
    #: a screenshot of the screen where the check failed
    screenshot: Path | None = None
    #: the control that was not there (as selectors/ has it), and its placeholders' values
    control: Control | None = None
    values: dict[str, str] = field(default_factory=dict)
    #: what the screen shows instead, (role, name) the best first, names as the portal gives them
    candidates: tuple[tuple[str, str], ...] = ()
    #: False for a check the walk never reached (an error saying why)
    ran: bool = True

    @property
    def id(self) -> str:
        return self.spec.id


class Drift(Exception):
    """The portal does not show what the selectors say: the message names it; `control`
    (with its placeholders' `values`) is what was looked for, `candidates` what shows."""

    def __init__(
        self,
        message: str,
        control: Control | None = None,
        values: dict[str, str] | None = None,
        candidates: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.control = control
        self.values = values or {}
        self.candidates = candidates


class Skip(Exception):
    """The state that shows this control cannot be reached here: the message says why."""


class NotRun(Exception):
    """The check could not run (no login, a check it needs failed): the message says why."""


class _Stop(Exception):
    """A check that the rest of the walk needs did not pass: the message says why."""


class ReadOnlyDialog:
    """« Dissocier vos numéros » seen, never submitted: it reads and can click « Annuler ».

    There is deliberately no method that clicks « Valider »: the walk only locates it.
    """

    def __init__(self, page: Page, selectors: Selectors) -> None:
        self.page = page
        self.selectors = selectors
        self.root = locate(page, selectors.dialog.dialog)

    def text(self) -> str:
        return self.root.inner_text()

    def cancel(self, timeout_ms: float) -> None:
        with reading(self.page, "Annuler"):
            locate(self.root, self.selectors.dialog.cancel).click()
            expect(self.root).to_be_hidden(timeout=timeout_ms)


class _Settling(Screen):
    """Waits as the page objects do: every request answered, nothing changing or loading."""

    def settle(self, step: str) -> None:
        self._wait_settled(step)

    def error_page(self, step: str) -> None:
        """TechnicalError when the page is the portal's error page (its wording, or a 5xx)."""
        self._raise_for_error_page(step)


class SmokeWalk:
    """One walk through the screens; `run()` returns a result for every check of CHECKS.

    `screenshot(name)` keeps a screenshot of the page and returns its path (or None);
    `stop`, when given, is checked between two checks. After `run()`, `error` holds what
    stopped the walk (the portal unreachable, a login refused or unanswered) and
    `interrupted` the signal that did. `step(name, action)`, when given, runs opening
    the portal and logging in under the portal's retry policy (Portal.step).
    """

    def __init__(
        self,
        page: Page,
        selectors: Selectors,
        *,
        base_url: str,
        log_in: Callable[[], None],
        screenshot: Callable[[str], Path | None],
        guard: NetworkGuard,
        timeout_ms: float = 15_000.0,
        service: str | None = None,
        licence: str | None = None,
        stop: StopSignal | None = None,
        step: Callable[[str, Callable[[], None]], None] | None = None,
    ) -> None:
        self.page = page
        self.s = selectors
        self.base_url = base_url.rstrip("/") + "/"
        self._log_in = log_in
        # The portal's one retry policy (Portal.step) for opening the portal and logging
        # in: a 5xx or no answer there is tried again, as in every run of the bot.
        self._step = step
        self._screenshot = screenshot
        self._guard = guard
        self._stop = stop
        self.timeout_ms = timeout_ms
        # A control the page has settled without is missing: no need to wait long.
        self.wait_ms = min(timeout_ms, 5_000.0)
        self.service = service.upper() if service else None
        self.licence = licence.upper() if licence else None
        self.results: dict[str, CheckResult] = {}
        self.error: BotError | None = None  # unreachable, a login refused or unanswered
        self.interrupted: int | None = None  # the signal that stopped the walk
        self._guarded = False
        self._after: str | None = None  # the licence of the dialog, read again after Annuler
        self._changed: str | None = None  # what the portal shows changed since, if anything
        self._drifted: set[tuple[object, ...]] = set()  # controls found missing, with values
        self._settling = _Settling(page, selectors, timeout_ms=timeout_ms)
        prepare_page(page)

    # -- running checks -----------------------------------------------------------------

    def run(self) -> list[CheckResult]:
        why = ""
        try:
            self._walk()
        except _Stop as stop:
            why = str(stop)
        except Interrupted as interrupted:
            self.interrupted = interrupted.signum
            why = f"interrupted by {signal_name(interrupted.signum)}"
        except (BotError, PlaywrightError) as error:  # outside any check: the walk broke
            self.error = error if isinstance(error, BotError) else TechnicalError(first_line(error))
            why = first_line(self.error)
            log.error("smoke_broken", error=why)
        if self._guarded:  # what the guard saw, however far the walk went
            self._check(GUARD, "network.read_only", self._read_only, interruptible=False)
        if why:
            log.info("smoke_stopped", why=why)
            self._rest(f"not run: {why}")
        return [
            self.results.get(spec.id, CheckResult(spec, Status.ERROR, "not run", ran=False))
            for spec in CHECKS
        ]

    def _rest(self, why: str) -> None:
        for spec in CHECKS:
            if spec.id not in self.results:
                self.results[spec.id] = CheckResult(spec, Status.ERROR, why, ran=False)

    def _check(
        self,
        screen: str,
        key: str,
        action: Callable[[], str | None],
        *,
        gate: bool = False,
        interruptible: bool = True,
    ) -> bool:
        """Run one check and keep its result; raise _Stop when it is a `gate` that did not
        pass (the rest of the walk needs it), Interrupted when a signal came before it."""
        spec = _spec(screen, key)
        if interruptible and self._stop is not None:
            self._stop.check()
        started = time.monotonic()
        try:
            result = CheckResult(spec, Status.PASSED, action() or "")
        except Skip as skip:
            result = CheckResult(spec, Status.SKIPPED, str(skip))
        except NotRun as not_run:
            result = CheckResult(spec, Status.ERROR, f"{key}: could not run: {not_run}")
        except Drift as drift:
            result = CheckResult(
                spec,
                Status.FAILED,
                f"{key}: {drift}",
                control=drift.control,
                values=drift.values,
                candidates=drift.candidates,
            )
        except DriftError as drift:  # a page object's, naming its own key
            message = str(drift) if drift.key == key else f"{key}: {drift}"
            result = CheckResult(spec, Status.FAILED, message)
        except TechnicalError as error:  # the portal failed (a 5xx, no answer, its error
            # page, a timeout): the check could not run; the walk's code is the portal's
            result = CheckResult(spec, Status.ERROR, f"{key}: could not run: {first_line(error)}")
            self.error = self.error or error
        except Interrupted:
            raise
        except Exception as error:  # a browser failure, an assertion, a screen read oddly
            result = CheckResult(spec, Status.FAILED, f"{key}: {first_line(error)}")
        result.seconds = time.monotonic() - started
        if result.status is Status.FAILED:
            result.screenshot = self._shot(f"failed-{key}")
        self.results[spec.id] = result
        log.info("smoke_check", check=spec.id, status=result.status.value, message=result.message)
        if gate and result.status is Status.FAILED:
            raise _Stop(f"{spec.id} failed")
        if gate and result.status is Status.ERROR:
            raise _Stop(first_line(self.error) if self.error else f"{spec.id} could not run")
        return result.status is Status.PASSED

    def _shot(self, name: str) -> Path | None:
        try:
            return self._screenshot(name)
        except PlaywrightError:
            return None  # evidence is kept where it can be, never at the cost of the walk

    # -- looking for controls -----------------------------------------------------------

    def _settle(self, step: str = "the smoke") -> None:
        """Wait until the page has settled; a page that never does is left to the next look."""
        with contextlib.suppress(TechnicalError, PlaywrightError):
            self._settling.settle(step)

    def _appears(self, locator: Locator, *, drifted: bool = False) -> int:
        """How many elements `locator` finds (visible ones: the callers filter), counted
        at once, else after a glance, else once the page has settled (at once then, for
        a control already `drifted` in this walk); 0 when none shows."""
        shown = locator.count()  # one query: most controls are there at the first look
        if shown or drifted:
            if not shown:
                self._settle()
                shown = locator.count()
            return shown
        for settle_first, glance_ms in ((False, GLANCE_MS), (True, SETTLED_GLANCE_MS)):
            if settle_first:
                self._settle()
            try:
                expect(locator.first).to_be_visible(timeout=glance_ms)
            except AssertionError:
                continue
            return locator.count()
        return 0

    def _present(
        self,
        control: Control,
        scope: Page | Locator,
        where: str,
        *,
        enabled: bool = False,
        one: bool = True,
        values: dict[str, str] | None = None,
        beside: bool = False,
    ) -> Locator:
        """The visible element(s) `control` finds in `scope` (one, unless `one` is false;
        enabled too, with `enabled`), its placeholders filled with `values`, or Drift
        saying what shows instead. `beside`: a control a person sees beside another one
        just found in the same settled scope; it is not waited for."""
        values = values or {}
        found = locate(scope, control, **values).filter(visible=True)
        drifted = beside or (id(control), *values.items()) in self._drifted
        count = self._appears(found, drifted=drifted)
        if not count:
            self._drifted.add((id(control), *values.items()))
            self._absent(control, scope, where, values)
        if one and count > 1:
            raise Drift(f"{count} elements are {named(control, **values)} {where}; one expected")
        if enabled and found.first.is_disabled():
            raise Drift(f"{named(control, **values)} present but disabled {where}")
        return found

    def _all_present(
        self,
        controls: list[tuple[Control, dict[str, str]]],
        scope: Page | Locator,
        where: str,
    ) -> None:
        """Every one of `controls` (each with its placeholders' values) shows in `scope`:
        looked for at once, then one by one (`_present`) to name the first that does not."""
        if not controls:
            return
        located = [locate(scope, control, **values) for control, values in controls]
        every = located[0]
        for locator in located[1:]:
            every = every.or_(locator)
        try:
            expect(every.filter(visible=True)).to_have_count(len(controls), timeout=GLANCE_MS)
            return
        except AssertionError:
            pass
        for control, values in controls:
            self._present(control, scope, where, values=values)

    def _absent(
        self, control: Control, scope: Page | Locator, where: str, values: dict[str, str]
    ) -> None:
        """Raise Drift: `control` present but hidden or disabled, or not there and what
        shows instead, the controls of its region first. TechnicalError instead when the
        page is the portal's error page: the portal failed, nothing drifted."""
        self._settling.error_page(where)  # the portal's error page: it failed, nothing drifted
        absence = explain(
            scope,
            control,
            where,
            self.wait_ms,
            near=self._near(control),
            values=values,
        )
        raise Drift(absence.message, control, values, absence.candidates)

    def _near(self, control: Control) -> tuple[Control, ...]:
        """The other controls of `control`'s section of selectors/: its neighbours."""
        section = getattr(self.s, self.s.key_of(control).split(".")[0], None)
        if not isinstance(section, BaseModel):
            return ()
        return tuple(other for other in _controls(section) if other is not control)

    def _seen(
        self,
        control: Control,
        where: str,
        scope: Page | Locator | None = None,
        *,
        enabled: bool = False,
        beside: bool = False,
    ) -> str:
        self._present(control, scope or self.page, where, enabled=enabled, beside=beside)
        return ""

    # -- the walk -------------------------------------------------------------------------

    def _walk(self) -> None:
        self._login_screen()
        self._navigation()
        services = self._services_screen()
        self._service_screen(services)

    def _login_screen(self) -> None:
        if self._stop is not None:
            self._stop.check()
        try:
            self._retried("opening the login page", self._open_portal)
        except TechnicalError as error:
            self.error = error
            raise _Stop(str(error)) from None
        login = self.s.login
        where = "on the login page"
        self._check(LOGIN, "login.heading", lambda: self._seen(login.heading, where), gate=True)
        self._check(
            LOGIN,
            "login.username",
            lambda: self._seen(login.username, where, enabled=True),
            gate=True,
        )
        self._check(
            LOGIN,
            "login.password",
            lambda: self._seen(login.password, where, enabled=True),
            gate=True,
        )
        self._shot("login")
        self._check(LOGIN, "login.submit", self._do_log_in, gate=True)
        self._check(
            LOGIN,
            "login.error",
            lambda: _skip(
                "shown only when the portal refuses a login; the smoke never "
                "sends a wrong password (it would count towards a lock-out)"
            ),
        )

    def _open_portal(self) -> None:
        try:
            response = self.page.goto(self.base_url)
        except PlaywrightError as error:
            why = network_failure(first_line(error), where=False) or first_line(error)
            raise TechnicalError(
                f"the portal at {self.base_url} cannot be reached: {why}"
            ) from None
        if response is not None and response.status >= 500:
            raise TechnicalError(f"the portal at {self.base_url} answered HTTP {response.status}")

    def _retried(self, name: str, action: Callable[[], None]) -> None:
        if self._step is None:
            action()
        else:
            self._step(name, action)

    def _do_log_in(self) -> str:
        """Log in through the form (in a separate, untraced context): judged by the login
        screen itself, the form gone without an alert; what the next page shows is the
        navigation's to check."""
        self._present(self.s.login.submit, self.page, "on the login page", enabled=True)
        try:
            self._retried("logging in", self._log_in)
        except (AuthenticationError, TechnicalError) as error:
            # A refusal (exit 2) or no answer (exit 3): nothing after it can be checked.
            self.error = error
            raise NotRun(first_line(error)) from None
        try:
            self.page.goto(self.base_url)
        except PlaywrightError as error:
            self.error = TechnicalError(f"the portal's home page: {first_line(error)}")
            raise NotRun(str(self.error)) from None
        self._guard.install()  # from now on, only the announced reads may send anything
        self._guarded = True
        return "logged in"

    def _navigation(self) -> None:
        nav = self.s.navigation
        where = "in the navigation bar"
        self._check(
            NAVIGATION,
            "navigation.services_menu",
            lambda: self._seen(nav.services_menu, where, enabled=True),
            gate=True,
        )
        self._check(NAVIGATION, "navigation.logout", lambda: self._seen(nav.logout, where))

        def open_menu() -> str:
            with reading(self.page, "opening Mes Services > Paramétrage / Monitoring"):
                self._present(nav.services_menu, self.page, where).click()
                link = self._present(nav.services_settings, self.page, 'in the menu "Mes Services"')
                self._shot("mes-services")
                link.click()
                self._settle("opening Paramétrage / Monitoring")
            return ""

        self._check(NAVIGATION, "navigation.services_settings", open_menu, gate=True)

    def _services_screen(self) -> ServicesPage:
        page = ServicesPage(self.page, self.s, timeout_ms=self.timeout_ms)
        services = self.s.services
        where = "on « Paramétrage / Monitoring »"
        self._check(
            SERVICES, "services.heading", lambda: self._seen(services.heading, where), gate=True
        )

        def filters() -> str:
            self._all_present([(c, {}) for c in services.filters], self.page, where)
            return f"{len(services.filters)} filters"

        self._check(SERVICES, "services.filters", filters)
        self._check(
            SERVICES,
            "services.ref_filter",
            lambda: self._seen(services.ref_filter, where, enabled=True),
            gate=True,
        )
        self._check(
            SERVICES,
            "services.search",
            lambda: self._seen(services.search, where, enabled=True),
            gate=True,
        )

        def table() -> str:
            if not page.table.filter(visible=True).count():
                page.show()  # a read-only search: some portals list nothing before one
            return self._table(page.table, "services table", where)

        self._check(SERVICES, "services.table", table, gate=True)
        self._check(
            SERVICES,
            "texts.service_columns",
            lambda: self._columns(
                page.table, self.s.texts.service_columns.model_dump().values(), where
            ),
        )

        def next_page() -> str:
            link = locate(self.page, services.next_page).filter(visible=True)
            if link.count() == 0 or link.first.is_disabled():  # removed, or disabled: the end
                raise Skip("the services list has one page here")
            return ""

        self._check(SERVICES, "services.next_page", next_page)
        texts = self.s.texts
        listed: list[ServiceRow] = []
        chosen: list[str] = []

        def usable(rows: list[ServiceRow]) -> bool:
            return any(
                row.type == texts.service_type_with_licences
                and row.state == texts.service_state_active
                for row in rows
            )

        def pick() -> str:
            # The list's first page is on screen: enough when it shows a service to check.
            listed[:] = [] if self.service else page.rows()
            if not usable(listed):
                listed[:] = page.search(self.service or "")
            kind = [row for row in listed if row.type == texts.service_type_with_licences]
            if self.service:
                kind = [row for row in kind if row.ref.upper() == self.service]
            if not kind:
                raise Drift(
                    f"no service of type « {texts.service_type_with_licences} » in the list"
                    + (f" for {self.service}" if self.service else "")
                )
            chosen[:] = [kind[0].ref]
            return f"{len(kind)} found"

        self._check(SERVICES, "texts.service_type_with_licences", pick, gate=True)

        def active() -> str:
            wanted = texts.service_state_active
            good = [
                row
                for row in listed
                if row.type == texts.service_type_with_licences and row.state == wanted
            ]
            if self.service:
                good = [row for row in good if row.ref.upper() == self.service]
                if not good:
                    raise Drift(f"the service {self.service} is not « {wanted} »")
            if not good:
                raise Drift(f"no MetaCentrex service is « {wanted} »")
            chosen[:] = [good[0].ref]
            return f"{chosen[0]} is « {wanted} »"

        self._check(SERVICES, "texts.service_state_active", active, gate=True)

        def service_ref() -> str:
            pattern = self.s.hints.service_ref
            if pattern is None:
                raise Skip("no hint given: any ref is looked up on the portal")
            if not pattern.fullmatch(chosen[0]):
                raise Skip(
                    f"{chosen[0]!r} does not read as hints.service_ref ({pattern.pattern}): a "
                    "hint only (any ref is looked up); edit it to name refs as this portal does"
                )
            return f"{chosen[0]} reads as {pattern.pattern}"

        self._check(SERVICES, "hints.service_ref", service_ref)

        def nothing() -> str:
            rows = page.search("ZZZ-NO-SUCH-SERVICE")
            if rows:
                raise Drift(f"a search for a service that does not exist listed {len(rows)} rows")
            hint = locate(self.page, Control(text=self.s.hints.empty_services, exact=False))
            shown = hint.filter(visible=True).count() > 0
            return "zero rows; the hint sentence " + ("shows" if shown else "does not show (fine)")

        self._check(SERVICES, "hints.empty_services", nothing)

        def configure() -> str:
            page.search(chosen[0])
            self._present(
                services.configure, page.table.first, f"in the row of {chosen[0]}", one=False
            )
            self._shot("parametrage-monitoring")
            page.open_service(chosen[0])
            return f"opened {chosen[0]}"

        self._check(SERVICES, "services.configure", configure, gate=True)
        self.service = chosen[0]
        return page

    def _table(self, table: Locator, what: str, where: str) -> str:
        if not self._appears(table.filter(visible=True)):
            raise Drift(f"no {what} (role table or grid, with its column headers) {where}")
        return ""

    def _columns(self, table: Locator, columns: object, where: str) -> str:
        wanted = [str(c) for c in columns]  # type: ignore[attr-defined]
        shown = [
            visible(squash(t)) for t in table.first.get_by_role("columnheader").all_inner_texts()
        ]
        missing = [c for c in wanted if c not in shown]
        if missing:
            found = ", ".join(f'"{c}"' for c in shown) or "none"
            raise Drift(
                f"no column header {', '.join(repr(m) for m in missing)} {where}; found {found}"
            )
        return f"{len(wanted)} columns"

    def _service_screen(self, services: ServicesPage) -> None:
        where = f"on the service {self.service}"
        svc = self.s.service
        self._check(SERVICE, "service.tablist", lambda: self._seen(svc.tablist, where), gate=True)
        tablist = locate(self.page, svc.tablist)
        settings = ServiceSettingsPage(self.page, self.s, timeout_ms=self.timeout_ms)
        listed: dict[Tab, list[LicenceRow]] = {}
        for tab in (Tab.UTILISATEURS, Tab.GROUPEMENTS):

            def select(tab: Tab = tab) -> str:
                control = self._present(svc.tabs[tab], tablist, "in the tab list", enabled=True)
                step = f"opening the tab {tab.value}"
                results = LicenceResultsPage(self.page, self.s, tab, timeout_ms=self.timeout_ms)
                with reading(self.page, step):
                    selected = control.get_attribute("aria-selected") == "true"
                    before = None if selected else results.shown_text()
                    if not selected:
                        control.click()
                    expect(control).to_have_attribute("aria-selected", "true", timeout=self.wait_ms)
                    self._settle(step)
                    # Its own listing, once it no longer reads as the other tab's.
                    if not selected:
                        results.listed(before, step)
                return "selected"

            self._check(SERVICE, f"service.tabs.{tab.value}", select, gate=True)
            if tab is Tab.UTILISATEURS:
                self._check(SERVICE, "service.tab_panel", lambda: self._seen(svc.tab_panel, where))
            results = LicenceResultsPage(self.page, self.s, tab, timeout_ms=self.timeout_ms)
            listed[tab] = self._tab(results)
            self._shot(f"{tab.value.lower()}")

        def in_progress() -> str:
            wording = self.s.hints.in_progress
            if not wording:
                raise Skip("no hint given: the bot's own records keep what the portal accepted")
            rows = [row for shown in listed.values() for row in shown]
            working = [row for row in rows if shows_working(row, self.s.hints)]
            if working:
                return f"{working[0].ref} reads « {working[0].state} »"
            raise Skip(
                f"no licence listed here reads « {wording} » (only while the portal works on a "
                "dissociation it accepted; a hint: the bot's own records say the same)"
            )

        self._check(SERVICE, "hints.in_progress", in_progress)
        # The dialog as soon as a licence to tick is on screen, the searches after: its
        # « Valider », the last control of the guide, is then named seconds earlier. A
        # --licence is found by its ref first.
        target = None if self.licence is not None else _numbered(listed)
        if target is None:
            self._dialog(settings, *self._searches(settings, None), on_screen=None)
        else:
            tab, row = target
            on_screen = listed[tab] if tab is Tab.GROUPEMENTS else None  # the tab last listed
            self._dialog(settings, tab, row, on_screen=on_screen)
            self._searches(settings, target)

    def _tab(self, results: LicenceResultsPage) -> list[LicenceRow]:
        screen = _tab_screen(results.tab)
        where = f"in the tab {results.tab.value}"
        lic = self.s.licences

        def filters() -> str:
            self._all_present([(c, {}) for c in lic.filters], results.scope, where)
            return f"{len(lic.filters)} filters"

        self._check(screen, "licences.filters", filters)
        self._check(
            screen,
            "licences.licence_filter",
            lambda: self._seen(lic.licence_filter, where, results.scope, enabled=True),
            gate=True,
        )
        self._check(
            screen,
            "licences.number_filter",
            lambda: self._seen(lic.number_filter, where, results.scope, enabled=True),
        )
        self._check(
            screen,
            "licences.search",
            lambda: self._seen(lic.search, where, results.scope, enabled=True),
            gate=True,
        )

        def table() -> str:
            if not results.table.filter(visible=True).count():
                results.search()  # read-only: some portals show no table before a search
            return self._table(results.table, "results table", where)

        self._check(screen, "licences.table", table, gate=True)
        self._check(
            screen,
            "texts.licence_columns",
            lambda: self._columns(
                results.table, self.s.texts.licence_columns.model_dump().values(), where
            ),
        )
        self._check(
            screen,
            "licences.select_all",
            lambda: self._seen(
                lic.select_all, "in the results table's header", results.table.first
            ),
        )
        rows: list[LicenceRow] = []

        def read_rows() -> str:
            rows[:] = results.rows()
            if not rows:
                raise Skip(f"the tab {results.tab.value} lists no licence here")
            return f"{len(rows)} rows read"

        def checkboxes() -> str:
            if not rows:
                raise Skip(f"the tab {results.tab.value} lists no licence here")
            boxes = [(lic.row_checkbox, {"ref": row.ref}) for row in rows]
            self._all_present(boxes, results.table.first, "in the results table")
            return f"{len(rows)} rows, one checkbox each"

        self._check(screen, "texts.licence_cell", read_rows)
        self._check(screen, "licences.row_checkbox", checkboxes)

        def next_page() -> str:
            link = locate(results.scope, lic.next_page).filter(visible=True)
            if link.count() == 0 or link.first.is_disabled():  # removed, or disabled: the end
                raise Skip(f"the tab {results.tab.value} has one page of results here")
            return ""

        self._check(screen, "licences.next_page", next_page)

        def actions_disabled() -> str:
            button = self._present(lic.actions, results.scope, where)
            expect(button).to_be_disabled(timeout=self.wait_ms)
            return "disabled"

        self._check(screen, "licences.actions", actions_disabled)
        return rows

    def _searches(
        self, settings: ServiceSettingsPage, listed: tuple[Tab, LicenceRow] | None
    ) -> tuple[Tab, LicenceRow]:
        """The licence searches; the licence the dialog checks, found by its ref (a gate)."""
        target: list[tuple[Tab, LicenceRow]] = [listed] if listed else []

        def nothing() -> str:
            results = settings.open_tab(Tab.GROUPEMENTS)  # the tab on screen
            rows = results.search(licence="FPC000000")
            if rows:
                raise Drift(f"a search for a licence that does not exist listed {len(rows)} rows")
            hint = results.scope.get_by_text(self.s.hints.empty_results)
            shown = hint.filter(visible=True).count() > 0
            return "zero rows; the hint sentence " + ("shows" if shown else "does not show (fine)")

        self._check(SERVICE, "hints.empty_results", nothing)

        def by_ref() -> str:
            wanted = self.licence or (target[0][1].ref if target else None)
            if wanted is None:
                raise Drift(f"no licence with a number in the service {self.service}")
            if not self.s.texts.licence_ref.fullmatch(wanted):
                raise Drift(f"{wanted!r} does not read as a licence ref")
            tabs = [target[0][0]] if target else []
            for tab in dict.fromkeys([*tabs, Tab.UTILISATEURS, Tab.GROUPEMENTS]):
                rows = settings.open_tab(tab).search(licence=wanted)
                exact = [row for row in rows if row.ref == wanted]
                if exact:
                    if exact[0].number is None:
                        raise Drift(f"{wanted} has no number: give a --licence that has one")
                    target[:] = [(tab, exact[0])]
                    return f"{wanted} in {tab.value}, number {format_number(exact[0].number)}"
            raise Drift(f"no licence {wanted} in {self.service}")

        self._check(SERVICE, "texts.licence_ref", by_ref, gate=True)
        tab, row = target[0]

        def by_number() -> str:
            assert row.number is not None
            results = settings.open_tab(tab)
            for number_format in (self.s.hints.number_filter_format, "{digits}", "{grouped}"):
                rows = results.search(number=row.number, number_format=number_format)
                if any(found.ref == row.ref for found in rows):
                    typed = number_format.format(
                        digits=row.number, grouped=format_number(row.number)
                    )
                    return f"found typed as {typed!r}"
            raise Drift(f"a search for {format_number(row.number)} does not list {row.ref}")

        self._check(SERVICE, "hints.number_filter_format", by_number)
        self._check(SERVICE, "hints.loading", lambda: _skip("a hint: the smoke never needs it"))
        self._check(
            SERVICE, "hints.technical_error", lambda: _skip("shown only on a technical error")
        )
        return tab, row

    def _dialog(
        self,
        settings: ServiceSettingsPage,
        tab: Tab,
        row: LicenceRow,
        *,
        on_screen: list[LicenceRow] | None,
    ) -> None:
        """Tick `row` (and a licence without a number beside it), open the dialog, check
        it, Annuler. `on_screen`: the rows of `tab` on screen, when no search changed them."""
        assert row.number is not None
        lic, dlg = self.s.licences, self.s.dialog
        where_tab = f"in the tab {tab.value}"
        shown: list[LicenceRow] = []
        ticked: list[str] = []
        opened: list[LicenceResultsPage] = []

        def enabled() -> str:
            results = settings.open_tab(tab)
            opened[:] = [results]
            shown[:] = on_screen or []  # the listing on screen: no search needed
            if not any(found.ref == row.ref for found in shown):
                shown[:] = results.search(licence="")
            if not any(found.ref == row.ref for found in shown):
                shown[:] = results.search(licence=row.ref)
            without = [found.ref for found in shown if found.number is None]
            ticked[:] = [row.ref, *without[:1]]
            for ref in ticked:
                results.tick(ref)
            button = self._present(lic.actions, results.scope, where_tab)
            expect(button).to_be_enabled(timeout=self.wait_ms)
            return f"ticked {', '.join(ticked)}"

        self._check(DIALOG, "licences.actions", enabled, gate=True)
        results = opened[0]

        def menu() -> str:
            # Opening the dialog only reads (the portal may ask, by a POST, what it will list).
            with reading(self.page, "opening the dissociation dialog to read it"):
                self._present(lic.actions, results.scope, where_tab, enabled=True).click()
                item = self._present(
                    lic.dissociate, self.page, 'in the menu "Actions"', enabled=True
                )
                self._shot("actions")
                item.click()
                self._settle("loading the dialog")  # its list may come from the portal
            return ""

        self._check(DIALOG, "licences.dissociate", menu, gate=True)
        dialog = ReadOnlyDialog(self.page, self.s)
        where = 'in the dialog "Dissocier vos numéros"'

        def appears() -> str:
            self._present(dlg.dialog, self.page, "after « Dissocier vos numéros »")
            self._settle("loading the dialog")  # its list may come from the portal
            return ""

        self._check(DIALOG, "dialog.dialog", appears, gate=True)
        self._check(DIALOG, "dialog.heading", lambda: self._seen(dlg.heading, where, dialog.root))
        number = format_number(row.number)

        def dialog_row() -> str:
            text = dialog.text()
            pairs = [(m["ref"], m["number"]) for m in self.s.texts.dialog_row.finditer(text)]
            if not any(ref == row.ref for ref, _ in pairs):
                raise Drift(f'no row reading "{row.ref} {number}" {where}')
            return f"{row.ref} {number}"

        self._check(DIALOG, "texts.dialog_row", dialog_row)
        select: list[Locator] = []

        def keep_select() -> str:
            select[:] = [
                self._present(
                    dlg.keep_select, dialog.root, where, enabled=True, values={"number": number}
                )
            ]
            return ""

        self._check(DIALOG, "dialog.keep_select", keep_select)

        def options(label: str, preselected: bool) -> Callable[[], str]:
            def check() -> str:
                if not select:
                    raise NotRun("dialog.keep_select did not pass")
                texts = [visible(squash(t)) for t in select[0].locator("option").all_inner_texts()]
                if label not in texts:
                    raise Drift(f"no option {label!r} in « Conserver le numéro »; found {texts}")
                if preselected:
                    now = select[0].evaluate("s => s.options[s.selectedIndex]?.text || ''")
                    if squash(str(now)) != label:
                        raise Drift(f"{label!r} is not preselected (it shows {visible(now)!r})")
                    return "preselected"
                return ""

            return check

        self._check(DIALOG, "texts.keep_yes", options(self.s.texts.keep_yes, True))
        self._check(DIALOG, "texts.keep_no", options(self.s.texts.keep_no, False))

        def count() -> str:
            found = locate(dialog.root, dlg.any_keep_select).filter(visible=True).count()
            if found == 0:
                self._absent(dlg.any_keep_select, dialog.root, where, {})
            if found != 1:
                raise Drift(f"{found} « Conserver le numéro » choices for 1 numbered licence")
            return "1"

        self._check(DIALOG, "dialog.any_keep_select", count)

        def warnings() -> str:
            self._all_present([(c, {}) for c in dlg.warnings], dialog.root, where)
            return f"{len(dlg.warnings)} paragraphs"

        self._check(DIALOG, "dialog.warnings", warnings)

        def word_for_word() -> str:
            text = squash(dialog.text())
            missing = [w for w in dlg.warning_texts if squash(w) not in text]
            if missing:
                raise Drift(f"the dialog does not say, word for word: {missing[0]!r}")
            return f"{len(dlg.warning_texts)} paragraphs word for word"

        self._check(DIALOG, "dialog.warning_texts", word_for_word)

        def without_number() -> str:
            if len(ticked) < 2:
                raise Skip("no licence without a number on that results page to tick")
            self._present(Control(text=self.s.texts.without_number), dialog.root, where)
            if ticked[1] not in dialog.text():
                raise Drift(f"{ticked[1]} is not listed under {self.s.texts.without_number!r}")
            return ticked[1]

        self._check(DIALOG, "texts.without_number", without_number)
        self._check(
            DIALOG,
            "dialog.cancel",
            lambda: self._seen(dlg.cancel, where, dialog.root, enabled=True),
            gate=True,
        )
        # « Valider » sits beside « Annuler », just found (a gate) in the settled dialog.
        self._check(
            DIALOG, "dialog.submit", lambda: self._seen(dlg.submit, where, dialog.root, beside=True)
        )
        self._check(
            DIALOG, "dialog.error", lambda: _skip("shown only when the portal refuses « Valider »")
        )
        self._shot("dissocier-vos-numeros")

        def cancel() -> str:
            dialog.cancel(self.timeout_ms)
            return "closed"

        self._check(AFTER, "dialog.cancel", cancel, gate=True)

        def untick() -> str:
            for ref in ticked:
                with reading(self.page, f"unticking {ref}"):
                    locate(results.table.first, lic.row_checkbox, ref=ref).uncheck()
            button = self._present(lic.actions, results.scope, where_tab)
            expect(button).to_be_disabled(timeout=self.wait_ms)
            return "unticked; Actions disabled"

        self._check(AFTER, "licences.row_checkbox", untick)
        self._shot("after-annuler")
        self._reread(results, row)
        self._check(AFTER, "licences.status", lambda: _skip("shown only after « Valider »"))
        self._check(
            AFTER, "texts.status_dissociated", lambda: _skip("shown only after « Valider »")
        )

    def _reread(self, results: LicenceResultsPage, row: LicenceRow) -> None:
        """After « Annuler »: the licence whose dialog was opened, read again from the
        portal, for the read-only proof (what the dialog showed changed nothing)."""
        assert row.number is not None
        try:
            again = [found for found in results.search(licence=row.ref) if found.ref == row.ref]
        except (BotError, PlaywrightError) as error:
            self._after = f"{row.ref} could not be read again ({first_line(error)})"
            return
        now = again[0].number if again else None
        shown = format_number(now) if now else "no number"
        if now != row.number:
            self._changed = (
                f"{row.ref} listed {format_number(row.number)} before its dialog and lists "
                f"{shown} after « Annuler »: the portal changed"
            )
        self._after = f"{row.ref} still lists {shown} after « Annuler » (read again)"

    def _read_only(self) -> str:
        """What proves the walk changed nothing: « Valider » never clicked, every request
        that is not a GET sent by a read it announced, and the licence whose dialog it
        opened read again after « Annuler » with its number."""
        violations = self._guard.violations
        if violations:
            raise Drift(
                "requests that could change data were sent (aborted): " + "; ".join(violations)
            )
        if self._changed is not None:
            raise Drift(self._changed)
        allowed = self._guard.allowed
        sent = (
            f"{len(allowed)} requests that are not GETs, each sent by a read the walk "
            f"announced (e.g. {allowed[0]})"
            if allowed
            else "only GET requests"
        )
        proof = ["« Valider » never clicked", sent, "none other"]
        if self._after is not None:
            proof.append(self._after)
        return "; ".join(proof)


def _skip(why: str) -> str:
    raise Skip(why)


def _numbered(listed: dict[Tab, list[LicenceRow]]) -> tuple[Tab, LicenceRow] | None:
    """The first licence with a number the tabs listed, the guide's example tab first."""
    for tab in (Tab.GROUPEMENTS, Tab.UTILISATEURS):
        numbered = [row for row in listed.get(tab, []) if row.number]
        if numbered:
            return tab, numbered[0]
    return None


def _spec(screen: str, key: str) -> CheckSpec:
    for spec in CHECKS:
        if spec.screen == screen and spec.key == key:
            return spec
    raise KeyError(f"no check {screen}: {key}")


def _controls(model: BaseModel) -> Iterator[Control]:
    """Every control of a section of selectors/, in the file's order."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value.values() if isinstance(value, dict) else value
        for item in items if isinstance(value, dict | tuple) else (value,):
            if isinstance(item, Control):
                yield item
