"""The smoke checks: walk the guide's screens in order and prove every entry of `selectors/`.

Each check is named after its screen and the selector key it proves, so that a failure
says what drifted and what the screen shows instead:

    Dissociation dialog: dialog.submit: no button named "Valider" in the dialog
    "Dissocier vos numéros"; found button "Confirmer"

Read-only by construction: the walk opens the dissociation dialog through its own
`ReadOnlyDialog`, which can read it and click « Annuler » but has no way to click
« Valider »; and a network guard (smoke.guard) aborts any request that changes data.
A control a portal shows only in some states (« Suivant » with one page of results,
« Licences sans numéro » when no ticked licence lacks a number) is checked where the
state can be reached and skipped with why otherwise: a small account is not a drift.
"""

from __future__ import annotations

import contextlib
import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from myopenip_bot.config.selectors import Control, Selectors, locate
from myopenip_bot.errors import AuthenticationError, BotError, TechnicalError, first_line
from myopenip_bot.models import Tab, format_number
from myopenip_bot.pages import (
    LicenceResultsPage,
    LicenceRow,
    Navigation,
    ServiceSettingsPage,
    ServicesPage,
    aria_names,
    prepare_page,
    squash,
)
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
    CheckSpec(SERVICES, "hints.empty_services", "a search that finds nothing concludes"),
    CheckSpec(SERVICES, "services.configure", 'its link "Paramétrer >"'),
    CheckSpec(SERVICE, "service.tablist", "the tab list"),
    CheckSpec(SERVICE, "service.tabs.Utilisateurs", 'the tab "Utilisateurs"'),
    CheckSpec(SERVICE, "service.tabs.Groupements", 'the tab "Groupements"'),
    CheckSpec(SERVICE, "service.tab_panel", "the tab panel"),
    *_tab_checks(Tab.UTILISATEURS),
    *_tab_checks(Tab.GROUPEMENTS),
    CheckSpec(SERVICE, "hints.empty_results", "a licence search that finds nothing concludes"),
    CheckSpec(SERVICE, "texts.licence_ref", "the licence to check is found by its ref"),
    CheckSpec(SERVICE, "hints.number_filter_format", "it is found by its number too"),
    CheckSpec(SERVICE, "hints.loading", "a loading text (a hint: never required)"),
    CheckSpec(SERVICE, "hints.technical_error", "an error page's wording (a hint)"),
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
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class CheckResult:
    spec: CheckSpec
    status: Status
    message: str = ""
    seconds: float = 0.0

    @property
    def id(self) -> str:
        return self.spec.id


class Drift(Exception):
    """The portal does not show what the selectors say: the message names it."""


class Skip(Exception):
    """The state that shows this control cannot be reached here: the message says why."""


class _Stop(Exception):
    """A check that the rest of the walk needs has failed."""


class ReadOnlyDialog:
    """« Dissocier vos numéros » seen, never submitted: it reads and can click « Annuler ».

    There is deliberately no method that clicks « Valider »: `has_submit` only locates it.
    """

    def __init__(self, page: Page, selectors: Selectors) -> None:
        self.page = page
        self.selectors = selectors
        self.root = locate(page, selectors.dialog.dialog)

    def text(self) -> str:
        return self.root.inner_text()

    def cancel(self, timeout_ms: float) -> None:
        locate(self.root, self.selectors.dialog.cancel).click()
        expect(self.root).to_be_hidden(timeout=timeout_ms)


class SmokeWalk:
    """One walk through the screens; `run()` returns a result for every check of CHECKS."""

    def __init__(
        self,
        page: Page,
        selectors: Selectors,
        *,
        base_url: str,
        log_in: Callable[[], None],
        screenshot: Callable[[str], None],
        guard: Callable[[], None],
        guard_violations: Callable[[], list[str]],
        allow_one_write: Callable[[], None],
        timeout_ms: float = 15_000.0,
        service: str | None = None,
        licence: str | None = None,
    ) -> None:
        self.page = page
        self.s = selectors
        self.base_url = base_url.rstrip("/") + "/"
        self._log_in = log_in
        self._screenshot = screenshot
        self._guard = guard
        self._violations = guard_violations
        self._allow_one_write = allow_one_write
        self.timeout_ms = timeout_ms
        # A control the page has settled without is missing: no need to wait long.
        self.wait_ms = min(timeout_ms, 5_000.0)
        self.service = service.upper() if service else None
        self.licence = licence.upper() if licence else None
        self.results: dict[str, CheckResult] = {}
        self.unreachable: BotError | None = None  # the portal could not be reached at all
        self.refused: BotError | None = None  # the portal refused the login
        prepare_page(page)

    # -- running checks -----------------------------------------------------------------

    def run(self) -> list[CheckResult]:
        try:
            self._walk()
        except _Stop as stop:
            log.warning("smoke_stopped", why=str(stop))
            self._rest(f"not reached: {stop}")
        finally:
            self._check(GUARD, "network.read_only", self._read_only)
        return [
            self.results.get(spec.id, CheckResult(spec, Status.SKIPPED, "not reached"))
            for spec in CHECKS
        ]

    def _rest(self, why: str) -> None:
        for spec in CHECKS:
            if spec.id not in self.results and spec.screen != GUARD:
                self.results[spec.id] = CheckResult(spec, Status.SKIPPED, why)

    def _check(
        self, screen: str, key: str, action: Callable[[], str | None], *, gate: bool = False
    ) -> bool:
        spec = _spec(screen, key)
        started = time.monotonic()
        try:
            message = action() or ""
            result = CheckResult(spec, Status.PASSED, message)
        except Skip as skip:
            result = CheckResult(spec, Status.SKIPPED, str(skip))
        except Drift as drift:
            result = CheckResult(spec, Status.FAILED, f"{key}: {drift}")
        except Exception as error:  # a browser failure, an assertion, a screen read oddly
            text = first_line(error)
            result = CheckResult(spec, Status.FAILED, f"{key}: {text}")
        result.seconds = time.monotonic() - started
        self.results[spec.id] = result
        log.info("smoke_check", check=spec.id, status=result.status.value, message=result.message)
        if gate and result.status is Status.FAILED:
            raise _Stop(spec.id + " failed")
        return result.status is Status.PASSED

    def _present(
        self, control: Control, scope: Page | Locator, where: str, **values: str
    ) -> Locator:
        """The one visible element `control` finds in `scope`, or Drift naming what shows."""
        found = locate(scope, control, **values)
        try:
            expect(found.filter(visible=True).first).to_be_visible(timeout=self.wait_ms)
        except AssertionError:
            raise Drift(
                f"no {_named(control, **values)} {where}{self._closest(control, scope, **values)}"
            ) from None
        count = found.filter(visible=True).count()
        if count > 1:
            raise Drift(f"{count} elements are {_named(control, **values)} {where}; one expected")
        return found.filter(visible=True)

    def _closest(self, control: Control, scope: Page | Locator, **values: str) -> str:
        """ "; found button "Confirmer"": what the screen shows that is most like `control`."""
        try:
            root = scope.locator("body") if isinstance(scope, Page) else scope
            names = aria_names(root.aria_snapshot(timeout=self.wait_ms))
        except PlaywrightError:
            return ""
        roles: set[str]
        if control.role is not None:
            roles = {str(control.role)}
        elif control.label is not None:
            roles = {"textbox", "combobox", "searchbox", "spinbutton", "checkbox", "listbox"}
        else:
            roles = {role for role, _ in names}
        wanted = (control.name or control.label or control.text or "").format(**values)
        candidates = sorted({name for role, name in names if role in roles})
        close = difflib.get_close_matches(wanted, candidates, n=3, cutoff=0.3)
        shown = close or candidates[:5]
        if not shown:
            return ""
        role_of = {name: role for role, name in names if role in roles}
        return "; found " + ", ".join(f'{role_of[name]} "{name}"' for name in shown)

    # -- the walk -------------------------------------------------------------------------

    def _walk(self) -> None:
        self._login_screen()
        self._navigation()
        services = self._services_screen()
        self._service_screen(services)

    def _login_screen(self) -> None:
        try:
            self.page.goto(self.base_url)
        except PlaywrightError as error:
            self.unreachable = TechnicalError(
                f"the portal at {self.base_url} cannot be reached: {first_line(error)}"
            )
            raise _Stop(str(self.unreachable)) from None
        login = self.s.login
        heading = locate(self.page, login.heading)
        menu = locate(self.page, self.s.navigation.services_menu)
        with contextlib.suppress(AssertionError):  # the heading check says what shows
            expect(heading.or_(menu).first).to_be_visible(timeout=self.timeout_ms)
        self._check(
            LOGIN,
            "login.heading",
            lambda: self._seen(login.heading, "on the login page"),
            gate=True,
        )
        self._check(
            LOGIN, "login.username", lambda: self._seen(login.username, "on the login page")
        )
        self._check(
            LOGIN, "login.password", lambda: self._seen(login.password, "on the login page")
        )
        self._screenshot("login")
        self._check(LOGIN, "login.submit", self._do_log_in, gate=True)
        self._check(
            LOGIN,
            "login.error",
            lambda: _skip(
                "shown only when the portal refuses a login; the smoke never "
                "sends a wrong password (it would count towards a lock-out)"
            ),
        )
        self._guard()  # from now on, only reading requests may go out

    def _seen(self, control: Control, where: str, scope: Page | Locator | None = None) -> str:
        self._present(control, scope or self.page, where)
        return ""

    def _do_log_in(self) -> str:
        self._present(self.s.login.submit, self.page, "on the login page")
        try:
            self._log_in()  # types the credentials in a separate, untraced context
        except AuthenticationError as error:
            self.refused = error
            raise
        except TechnicalError as error:
            self.unreachable = error
            raise
        self.page.goto(self.base_url)
        self._present(self.s.navigation.services_menu, self.page, "once logged in")
        return "logged in"

    def _navigation(self) -> None:
        nav = Navigation(self.page, self.s, timeout_ms=self.timeout_ms)
        self._check(
            NAVIGATION,
            "navigation.services_menu",
            lambda: self._seen(self.s.navigation.services_menu, "in the navigation bar"),
            gate=True,
        )
        self._check(
            NAVIGATION,
            "navigation.logout",
            lambda: self._seen(self.s.navigation.logout, "in the navigation bar"),
        )

        def open_menu() -> str:
            nav.services_menu.click()
            self._present(
                self.s.navigation.services_settings, self.page, 'in the menu "Mes Services"'
            )
            self._screenshot("mes-services")
            nav.services_settings.click()
            return ""

        self._check(NAVIGATION, "navigation.services_settings", open_menu, gate=True)

    def _services_screen(self) -> ServicesPage:
        page = ServicesPage(self.page, self.s, timeout_ms=self.timeout_ms)
        where = "on « Paramétrage / Monitoring »"
        self._check(
            SERVICES,
            "services.heading",
            lambda: self._seen(self.s.services.heading, where),
            gate=True,
        )

        def filters() -> str:
            for control in self.s.services.filters:
                self._present(control, self.page, where)
            return f"{len(self.s.services.filters)} filters"

        self._check(SERVICES, "services.filters", filters)
        self._check(
            SERVICES,
            "services.ref_filter",
            lambda: self._seen(self.s.services.ref_filter, where),
            gate=True,
        )
        self._check(
            SERVICES,
            "services.search",
            lambda: self._seen(self.s.services.search, where),
            gate=True,
        )

        def table() -> str:
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
            link = locate(self.page, self.s.services.next_page).filter(visible=True)
            if link.count() == 0:
                raise Skip("the services list has one page here")
            return ""

        self._check(SERVICES, "services.next_page", next_page)
        chosen: list[str] = []

        def pick() -> str:
            rows = page.search(self.service or "")
            texts = self.s.texts
            kind = [row for row in rows if row.type == texts.service_type_with_licences]
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
            rows = page.search(chosen[0]) if self.service else page.search("")
            wanted = self.s.texts.service_state_active
            good = [
                r
                for r in rows
                if r.type == self.s.texts.service_type_with_licences and r.state == wanted
            ]
            if self.service:
                good = [r for r in good if r.ref.upper() == self.service]
                if not good:
                    raise Drift(f"the service {self.service} is not « {wanted} »")
            if not good:
                raise Drift(f"no MetaCentrex service is « {wanted} »")
            chosen[:] = [good[0].ref]
            return f"{chosen[0]} is « {wanted} »"

        self._check(SERVICES, "texts.service_state_active", active, gate=True)

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
            self._screenshot("parametrage-monitoring")
            page.open_service(chosen[0])
            return f"opened {chosen[0]}"

        self._check(SERVICES, "services.configure", configure, gate=True)
        self.service = chosen[0]
        return page

    def _table(self, table: Locator, what: str, where: str) -> str:
        try:
            expect(table.first).to_be_visible(timeout=self.wait_ms)
        except AssertionError:
            raise Drift(
                f"no {what} (role table or grid, with its column headers) {where}"
            ) from None
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
        self._check(
            SERVICE,
            "service.tabs.Utilisateurs",
            lambda: self._seen(svc.tabs[Tab.UTILISATEURS], "in the tab list"),
            gate=True,
        )
        self._check(
            SERVICE,
            "service.tabs.Groupements",
            lambda: self._seen(svc.tabs[Tab.GROUPEMENTS], "in the tab list"),
            gate=True,
        )
        self._check(SERVICE, "service.tab_panel", lambda: self._seen(svc.tab_panel, where))
        settings = ServiceSettingsPage(self.page, self.s, timeout_ms=self.timeout_ms)
        listed: dict[Tab, list[LicenceRow]] = {}
        for tab in (Tab.UTILISATEURS, Tab.GROUPEMENTS):
            results = settings.open_tab(tab)
            listed[tab] = self._tab(results)
            self._screenshot(f"{tab.value.lower()}")
        self._searches(settings, listed)

    def _tab(self, results: LicenceResultsPage) -> list[LicenceRow]:
        screen = _tab_screen(results.tab)
        where = f"in the tab {results.tab.value}"
        lic = self.s.licences

        def filters() -> str:
            for control in lic.filters:
                self._present(control, results.scope, where)
            return f"{len(lic.filters)} filters"

        self._check(screen, "licences.filters", filters)
        self._check(
            screen,
            "licences.licence_filter",
            lambda: self._seen(lic.licence_filter, where, results.scope),
            gate=True,
        )
        self._check(
            screen,
            "licences.number_filter",
            lambda: self._seen(lic.number_filter, where, results.scope),
        )
        self._check(
            screen,
            "licences.search",
            lambda: self._seen(lic.search, where, results.scope),
            gate=True,
        )

        def table() -> str:
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
            for row in rows:
                self._present(
                    lic.row_checkbox, results.table.first, "in the results table", ref=row.ref
                )
            return f"{len(rows)} rows, one checkbox each"

        self._check(screen, "texts.licence_cell", read_rows)
        if rows:
            self._check(screen, "licences.row_checkbox", checkboxes)
        else:
            self.results[_spec(screen, "licences.row_checkbox").id] = CheckResult(
                _spec(screen, "licences.row_checkbox"), Status.SKIPPED, "no row to check"
            )

        def next_page() -> str:
            link = locate(results.scope, lic.next_page).filter(visible=True)
            if link.count() == 0:
                raise Skip(f"the tab {results.tab.value} has one page of results here")
            return ""

        self._check(screen, "licences.next_page", next_page)

        def actions_disabled() -> str:
            button = self._present(lic.actions, results.scope, where)
            expect(button).to_be_disabled(timeout=self.wait_ms)
            return "disabled"

        self._check(screen, "licences.actions", actions_disabled)
        return rows

    def _searches(self, settings: ServiceSettingsPage, listed: dict[Tab, list[LicenceRow]]) -> None:
        target: list[tuple[Tab, LicenceRow]] = []
        if self.licence is None:
            for tab in (Tab.GROUPEMENTS, Tab.UTILISATEURS):  # the guide's example tab first
                numbered = [row for row in listed[tab] if row.number]
                if numbered:
                    target.append((tab, numbered[0]))
                    break

        def nothing() -> str:
            results = settings.open_tab(Tab.UTILISATEURS)
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
            for tab in (Tab.UTILISATEURS, Tab.GROUPEMENTS):
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
                    return f"found typed as {number_format}"
            raise Drift(f"a search for {format_number(row.number)} does not list {row.ref}")

        self._check(SERVICE, "hints.number_filter_format", by_number)
        self._check(SERVICE, "hints.loading", lambda: _skip("a hint: the smoke never needs it"))
        self._check(
            SERVICE, "hints.technical_error", lambda: _skip("shown only on a technical error")
        )
        self._dialog(settings, tab, row)

    def _dialog(self, settings: ServiceSettingsPage, tab: Tab, row: LicenceRow) -> None:
        assert row.number is not None
        results = settings.open_tab(tab)
        shown = results.search(licence="")
        if not any(found.ref == row.ref for found in shown):
            shown = results.search(licence=row.ref)
        without = [found for found in shown if found.number is None]
        ticked = [row.ref] + ([without[0].ref] if without else [])
        lic, dlg = self.s.licences, self.s.dialog

        def enabled() -> str:
            for ref in ticked:
                results.tick(ref)
            button = self._present(lic.actions, results.scope, f"in the tab {tab.value}")
            expect(button).to_be_enabled(timeout=self.wait_ms)
            return f"ticked {', '.join(ticked)}"

        self._check(DIALOG, "licences.actions", enabled, gate=True)

        def menu() -> str:
            self._present(lic.actions, results.scope, f"in the tab {tab.value}").click()
            item = self._present(lic.dissociate, self.page, 'in the menu "Actions"')
            self._screenshot("actions")
            self._allow_one_write()  # the dialog may ask the portal what it will do
            item.click()
            return ""

        self._check(DIALOG, "licences.dissociate", menu, gate=True)
        dialog = ReadOnlyDialog(self.page, self.s)
        where = 'in the dialog "Dissocier vos numéros"'

        def opened() -> str:
            expect(dialog.root).to_be_visible(timeout=self.timeout_ms)
            return ""

        self._check(DIALOG, "dialog.dialog", opened, gate=True)
        self._check(DIALOG, "dialog.heading", lambda: self._seen(dlg.heading, where, dialog.root))
        number = row.number

        def dialog_row() -> str:
            keep = locate(dialog.root, dlg.keep_select, number=format_number(number))
            with contextlib.suppress(AssertionError):  # wait for its content to load
                expect(keep.first).to_be_visible(timeout=self.timeout_ms)
            text = dialog.text()
            pairs = [(m["ref"], m["number"]) for m in self.s.texts.dialog_row.finditer(text)]
            if not any(ref == row.ref for ref, _ in pairs):
                raise Drift(f'no row reading "{row.ref} {format_number(number)}" {where}')
            return f"{row.ref} {format_number(number)}"

        self._check(DIALOG, "texts.dialog_row", dialog_row)
        select: list[Locator] = []

        def keep_select() -> str:
            select[:] = [
                self._present(dlg.keep_select, dialog.root, where, number=format_number(number))
            ]
            return ""

        self._check(DIALOG, "dialog.keep_select", keep_select)

        def options(label: str, preselected: bool) -> Callable[[], str]:
            def check() -> str:
                if not select:
                    raise Skip("no choice to read")
                texts = [visible(squash(t)) for t in select[0].locator("option").all_inner_texts()]
                if label not in texts:
                    raise Drift(f"no option {label!r} in « Conserver le numéro »; found {texts}")
                if preselected:
                    now = select[0].evaluate("s => s.options[s.selectedIndex]?.text || ''")
                    if squash(str(now)) != label:
                        raise Drift(f"{label!r} is not preselected (it shows {now!r})")
                    return "preselected"
                return ""

            return check

        self._check(DIALOG, "texts.keep_yes", options(self.s.texts.keep_yes, True))
        self._check(DIALOG, "texts.keep_no", options(self.s.texts.keep_no, False))

        def count() -> str:
            found = locate(dialog.root, dlg.any_keep_select).count()
            if found != 1:
                raise Drift(f"{found} « Conserver le numéro » choices for 1 numbered licence")
            return "1"

        self._check(DIALOG, "dialog.any_keep_select", count)

        def warnings() -> str:
            for control in dlg.warnings:
                self._present(control, dialog.root, where)
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
            if not without:
                raise Skip("no licence without a number on that results page to tick")
            self._present(Control(text=self.s.texts.without_number), dialog.root, where)
            if without[0].ref not in dialog.text():
                raise Drift(f"{without[0].ref} is not listed under {self.s.texts.without_number!r}")
            return without[0].ref

        self._check(DIALOG, "texts.without_number", without_number)
        self._check(
            DIALOG, "dialog.cancel", lambda: self._seen(dlg.cancel, where, dialog.root), gate=True
        )
        self._check(DIALOG, "dialog.submit", lambda: self._seen(dlg.submit, where, dialog.root))
        self._check(
            DIALOG, "dialog.error", lambda: _skip("shown only when the portal refuses « Valider »")
        )
        self._screenshot("dissocier-vos-numeros")

        def cancel() -> str:
            dialog.cancel(self.timeout_ms)
            return "closed"

        self._check(AFTER, "dialog.cancel", cancel, gate=True)

        def untick() -> str:
            for ref in ticked:
                locate(results.table.first, lic.row_checkbox, ref=ref).uncheck()
            button = self._present(lic.actions, results.scope, f"in the tab {tab.value}")
            expect(button).to_be_disabled(timeout=self.wait_ms)
            return "unticked; Actions disabled"

        self._check(AFTER, "licences.row_checkbox", untick)
        self._screenshot("after-annuler")
        self._check(AFTER, "licences.status", lambda: _skip("shown only after « Valider »"))
        self._check(
            AFTER, "texts.status_dissociated", lambda: _skip("shown only after « Valider »")
        )

    def _read_only(self) -> str:
        violations = self._violations()
        if violations:
            raise Drift(
                "requests that could change data were sent (aborted): " + "; ".join(violations)
            )
        return "no request that changes data"


def _skip(why: str) -> str:
    raise Skip(why)


def _spec(screen: str, key: str) -> CheckSpec:
    for spec in CHECKS:
        if spec.screen == screen and spec.key == key:
            return spec
    raise KeyError(f"no check {screen}: {key}")


def _named(control: Control, **values: str) -> str:
    """'button named "Valider"', 'field labelled "SDA"', 'text "…"'."""
    if control.role is not None:
        if control.name is None:
            return control.role
        return f'{control.role} named "{control.name.format(**values)}"'
    if control.label is not None:
        return f'field labelled "{control.label.format(**values)}"'
    return f'text "{(control.text or "").format(**values)}"'
