"""The smoke walk: the guide's screens in order, every check of smoke.checks run once.

Whether a control is there is the page objects' own decision (pages.Presence): looked
for briefly, then again once the page has settled (every request answered, nothing
changing, nothing loading); absent then, it is absent, and the check names what shows
instead. The login is judged by its own screen (the form gone, no alert): the
navigation's own check names « Mes Services » when it drifted.

Read-only by construction: the walk reads the dissociation dialog through
`pages.ReadOnlyDialog`, which answers with data and whose one click is « Annuler »; and
a network guard (smoke.guard) aborts any request that changes data. A signal (SIGINT,
SIGTERM) stops the walk between two checks: the checks not run say so.

`smoke_walk(portal, options)` is the one way to make a walk (the command and the pytest
suite both use it).
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from myopenip_bot.config.selectors import Control, locate
from myopenip_bot.errors import (
    AuthenticationError,
    BotError,
    DriftError,
    Interrupted,
    TechnicalError,
    first_line,
    signal_name,
)
from myopenip_bot.failures import best_effort, translated
from myopenip_bot.models import Tab, format_number, name_key
from myopenip_bot.pages import (
    LicenceResultsPage,
    LicenceRow,
    Missing,
    Presence,
    ReadOnlyDialog,
    ServiceRow,
    ServiceSettingsPage,
    ServicesPage,
    more_pages,
    read_options,
    reading,
    shows_working,
    squash,
    text_beside,
)
from myopenip_bot.pages.presence import visible_now
from myopenip_bot.portal.portal import Portal
from myopenip_bot.smoke.checks import (
    CHECKS,
    READ_ONLY,
    TABS,
    After,
    CheckResult,
    CheckSpec,
    Dialog,
    Drift,
    Login,
    NavigationChecks,
    NotRun,
    Searches,
    Services,
    ServiceSettings,
    Skip,
    Status,
    TabChecks,
    declared,
)
from myopenip_bot.smoke.guard import NetworkGuard
from myopenip_bot.text import visible

__all__ = ["NOT_SELECTED", "SmokeWalk", "WalkOptions", "smoke_walk"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

#: Keeps a screenshot of the page under a name; its path, or None.
Screenshot = Callable[[str], Path | None]

IN_DIALOG = 'in the dialog "Dissocier vos numéros"'
#: The fields the walk types into to search, only to read: drifted, it reads on with
#: the candidate shown in their stead (SmokeWalk._read_on).
READ_ON = frozenset({"licences.licence_filter", "licences.number_filter", "services.ref_filter"})
#: why a check was not run by a walk that wanted others (WalkOptions.checks)
NOT_SELECTED = "not selected"


@dataclass(frozen=True)
class WalkOptions:
    """What a walk checks, and where its screenshots go.

    `service` and `licence`: the service and the licence (with a number) to check; by
    default the first active MetaCentrex service and a licence the tabs list. `checks`:
    the ids of the checks wanted (the pytest suite's `-k`), None for all: the walk goes
    no further than they need — it stops once each has its result, and opens the
    dissociation dialog only when one of its checks is wanted; the others are errors
    "not run: not selected". (`network.read_only` alone wants the whole walk.)
    """

    service: str | None = None
    licence: str | None = None
    screenshot: Screenshot = lambda name: None
    checks: frozenset[str] | None = None


def smoke_walk(portal: Portal, options: WalkOptions | None = None) -> SmokeWalk:
    """A walk on `portal`'s page, its login and its retry policy (Portal.step), a signal
    on `portal.stop` stopping it between two checks, a network guard on its browser
    context (installed once logged in)."""
    return SmokeWalk(portal, NetworkGuard(portal.page.context), options or WalkOptions())


class _Judged(Exception):
    """A Playwright error a check met, carried through Portal.step untranslated: the check
    judges it (a failed check), as it did before reads were retried."""

    def __init__(self, error: PlaywrightError) -> None:
        self.error = error
        super().__init__(str(error))


class _Stop(Exception):
    """A check that the rest of the walk needs did not pass: the message says why."""


class _Enough(Exception):
    """Every check wanted (WalkOptions.checks) has its result: the walk goes no further."""


@contextmanager
def _drift() -> Iterator[None]:
    """A control the page objects found missing is this check's drift (its failure)."""
    try:
        yield
    except Missing as missing:
        raise Drift(missing.detail, missing.control, missing.values, missing.candidates) from None


class SmokeWalk:
    """One walk through the screens; `run()` returns a result for every check of CHECKS.

    After `run()`, `error` holds what stopped the walk (the portal unreachable, a login
    refused or unanswered) and `interrupted` the signal that did.
    """

    def __init__(self, portal: Portal, guard: NetworkGuard, options: WalkOptions) -> None:
        self.portal = portal
        self.page: Page = portal.page
        self.s = portal.selectors
        # What the walk reads the portal with: selectors/ itself, except a column header
        # whose check failed, read under the header shown in its stead (said in that
        # check's message), so that the checks after it still run.
        self._read = portal.selectors
        self.timeout_ms = portal.timeout_ms
        self.presence = Presence(self.page, self.s, timeout_ms=self.timeout_ms)
        self.base_url = portal.settings.base_url.rstrip("/") + "/"
        self._guard = guard
        self._screenshot = options.screenshot
        # A control the page has settled without is missing: no need to wait long.
        self.wait_ms = min(self.timeout_ms, 5_000.0)
        wanted = (options.checks or frozenset()) - {READ_ONLY.id}
        self._wanted = wanted or None  # None: every check (network.read_only alone too)
        self.service = options.service.upper() if options.service else None
        self.licence = options.licence.upper() if options.licence else None
        self.results: dict[str, CheckResult] = {}
        self.error: BotError | None = None  # unreachable, a login refused or unanswered
        self.interrupted: int | None = None  # the signal that stopped the walk
        self._guarded = False
        self._after: str | None = None  # the licence of the dialog, read again after Annuler
        self._changed: str | None = None  # what the portal shows changed since, if anything
        self._full_page: int | None = None  # the largest page seen followed by another

    # -- running checks -----------------------------------------------------------------

    def run(self) -> list[CheckResult]:
        why = ""
        try:
            translated("the smoke", self._walk)
        except _Stop as stop:
            why = str(stop)
        except _Enough:
            why = NOT_SELECTED
        except Interrupted as interrupted:
            self.interrupted = interrupted.signum
            why = f"interrupted by {signal_name(interrupted.signum)}"
        except BotError as error:  # outside any check: the walk broke
            self.error = error
            why = first_line(error)
            log.error("smoke_broken", error=why)
        if self._guarded:  # what the guard saw, however far the walk went
            self._check(READ_ONLY, self._read_only, interruptible=False)
        if why:
            log.info("smoke_stopped", why=why)
            for spec in CHECKS:
                if spec.id not in self.results:
                    self.results[spec.id] = CheckResult(
                        spec, Status.ERROR, f"not run: {why}", ran=False
                    )
        return [
            self.results.get(spec.id, CheckResult(spec, Status.ERROR, "not run", ran=False))
            for spec in CHECKS
        ]

    def _check(
        self, spec: CheckSpec, action: Callable[[], str], *, interruptible: bool = True
    ) -> bool:
        """Run one check and keep its result (True: passed); raise _Stop when it is a gate
        that did not pass (the rest of the walk needs it), Interrupted when a signal came
        before it."""
        passed = self._get(spec, lambda: (True, action()), interruptible=interruptible)
        return passed is not None

    def _get(
        self, spec: CheckSpec, action: Callable[[], tuple[T, str]], *, interruptible: bool = True
    ) -> T | None:
        """Run one check that finds something the rest of the walk uses: what it found
        when it passed, else None (a gate that did not pass raises _Stop)."""
        key = spec.key
        if interruptible:
            self.portal.stop.check()
        started = time.monotonic()
        found: T | None = None
        try:
            found, message = self._reads(spec.id, action) if interruptible else action()
            result = CheckResult(spec, Status.PASSED, message)
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
                entry=drift.entry,
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
            self._read_on(result)
        self.results[spec.id] = result
        log.info("smoke_check", check=spec.id, status=result.status.value, message=result.message)
        wanted = self._wanted
        if wanted is not None and spec.id in wanted and wanted <= self.results.keys():
            raise _Enough  # (never after network.read_only, which the walk's end runs)
        if spec.gate and result.status is Status.FAILED:
            raise _Stop(f"{spec.id} failed")
        if spec.gate and result.status is Status.ERROR:
            raise _Stop(first_line(self.error) if self.error else f"{spec.id} could not run")
        return found if result.status is Status.PASSED else None

    def _reads(self, step: str, action: Callable[[], T]) -> T:
        """Run what a check reads as the bot runs a step (Portal.step, the one retry policy,
        twice nested as the bot's way to a service: a read retried within a retried step):
        a technical failure (a 5xx, its error page, no answer) is tried again after the
        policy's backoff, from the screen the check started on (a dialog it opened closed,
        that screen opened again where the portal's error shows), and an expired session
        logs in again; a drift, a skip or any other failure is the check's at once. Only
        reads are ever retried: the walk never clicks « Valider ». Once the portal failed
        every attempt of one check, the next checks get one attempt each: a portal failing
        throughout is said as soon as before."""
        if self.error is not None:
            return action()
        attempts = 0
        # The screen the check reads from, to go back to: its address, with or without the
        # dialog open.
        start = self.page.url
        dialog = locate(self.page, self.s.dialog.dialog)
        in_dialog = best_effort(lambda: visible_now(dialog), False)

        def attempt() -> T:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                if not in_dialog and best_effort(lambda: visible_now(dialog), False):
                    self._close_dialog(step)  # « Annuler »: only a read
                if _failing(self.presence, step):  # an error page, or a read's error in it
                    self.portal.open_again(step, start)
            try:
                found = action()
            except PlaywrightError as error:  # the check's to judge, not the portal's retry
                raise _Judged(error) from None
            # A read answered with the portal's error (the dialog's list, a search's): failed.
            # (One an earlier check left is gone once its screen is opened again.)
            self.presence.raise_for_error_page(step)
            return found

        try:  # a step of the walk, its reads tried again within it: attempts ** 2 at most
            return self.portal.step(step, partial(self.portal.step, step, attempt))
        except _Judged as judged:
            raise judged.error from None

    def _close_dialog(self, step: str) -> None:
        try:
            ReadOnlyDialog(self.page, self.s, timeout_ms=self.timeout_ms).cancel()
        except Exception as error:  # the next attempt finds what the page shows
            log.warning("dialog_not_closed", step=step, error=first_line(error))

    def _read_on(self, result: CheckResult) -> None:
        """A search field that drifted (READ_ON) is read under the candidate shown in its
        stead from now on, as a drifted column header is (said in the check's message):
        the walk types into fields only to read, and the checks after it still run."""
        if result.control is None or not result.candidates:
            return
        key = self.s.key_of(result.control)
        if key not in READ_ON:
            return
        from myopenip_bot.smoke.propose import proposed_control  # (it imports the walk)

        now = proposed_control(result.control, result.candidates[0], result.values)
        if now is None:
            return
        section, name = key.split(".")
        part = getattr(self._read, section).model_copy(update={name: now})
        self._read = self._read.model_copy(update={section: part})
        result.message += f" (the walk reads on with {now.describe()})"

    def _wants(self, *groups: type) -> bool:
        """Whether a check of these groups (smoke.checks' classes) is wanted."""
        if self._wanted is None:
            return True
        return any(spec.id in self._wanted for group in groups for spec in declared(group))

    def _need(self, spec: CheckSpec, action: Callable[[], tuple[T, str]]) -> T:
        """A gate that finds something: what it found (else the walk stops)."""
        assert spec.gate
        found = self._get(spec, action)
        assert found is not None  # a gate that did not pass raised _Stop
        return found

    def _shot(self, name: str) -> Path | None:
        return self._screenshot(name)  # None where it cannot be taken, never an error

    # -- looking for controls (pages.Presence) -------------------------------------------

    def _shown(
        self,
        control: Control,
        scope: Page | Locator,
        where: str,
        *,
        enabled: bool = False,
        one: bool = True,
        values: dict[str, str] | None = None,
        beside: bool = False,
        in_dialog: ReadOnlyDialog | None = None,
    ) -> Locator | None:
        """The visible element(s) `control` finds in `scope` (in the read-only dialog:
        nothing but whether it shows), or Drift saying what shows instead."""
        with _drift():
            if in_dialog is not None:
                in_dialog.show(control, where, enabled=enabled, beside=beside, values=values)
                return None
            return self.presence.shown(
                control, where, scope, enabled=enabled, one=one, beside=beside, values=values
            )

    def _present(
        self, control: Control, scope: Page | Locator, where: str, *, enabled: bool = False
    ) -> Locator:
        found = self._shown(control, scope, where, enabled=enabled)
        assert found is not None  # not in the read-only dialog: a locator
        return found

    def _seen(
        self,
        control: Control,
        where: str,
        scope: Page | Locator | None = None,
        *,
        enabled: bool = False,
    ) -> str:
        self._shown(control, scope or self.page, where, enabled=enabled)
        return ""

    def _all_shown(
        self, controls: list[tuple[Control, dict[str, str]]], scope: Page | Locator, where: str
    ) -> None:
        """Every one of `controls` (with its placeholders' values) shows in `scope`."""
        with _drift():
            self.presence.shown_all(controls, where, scope)

    # -- the walk -------------------------------------------------------------------------

    def _walk(self) -> None:
        self._login_screen()
        self._navigation()
        services = self._services_screen()
        self._service_screen(services)

    def _login_screen(self) -> None:
        self.portal.stop.check()
        step = "opening the login page"
        try:
            self.portal.step(step, lambda: self.portal.goto(self.base_url, step))
        except TechnicalError as error:
            self.error = error
            raise _Stop(str(error)) from None
        login = self.s.login
        where = "on the login page"
        self._check(Login.heading, lambda: self._seen(login.heading, where))
        self._check(Login.username, lambda: self._seen(login.username, where, enabled=True))
        self._check(Login.password, lambda: self._seen(login.password, where, enabled=True))
        self._shot("login")
        self._check(Login.submit, self._do_log_in)
        self._check(
            Login.error,
            lambda: _skip(
                "shown only when the portal refuses a login; the smoke never "
                "sends a wrong password (it would count towards a lock-out)"
            ),
        )

    def _do_log_in(self) -> str:
        """Log in through the form (in a separate, untraced context): judged by the login
        screen itself, the form gone without an alert; what the next page shows is the
        navigation's to check."""
        self._present(self.s.login.submit, self.page, "on the login page", enabled=True)
        step = "the portal's home page"

        def logged_in() -> None:
            self.portal.step("logging in", self.portal.log_in)
            translated(step, lambda: self.portal.goto(self.base_url, step))

        try:
            self._reads("logging in", logged_in)
        except (AuthenticationError, TechnicalError) as error:
            # A refusal (exit 2) or no answer (exit 3): nothing after it can be checked.
            self.error = error
            raise NotRun(first_line(error)) from None
        self._guard.install()  # from now on, only the announced reads may send anything
        self._guarded = True
        return "logged in"

    def _navigation(self) -> None:
        nav = self.s.navigation
        where = "in the navigation bar"
        self._check(
            NavigationChecks.services_menu,
            lambda: self._seen(nav.services_menu, where, enabled=True),
        )
        self._check(NavigationChecks.logout, lambda: self._seen(nav.logout, where))

        def open_menu() -> str:
            with reading(self.page, "opening Mes Services > Paramétrage / Monitoring"):
                self._present(nav.services_menu, self.page, where).click()
                link = self._present(nav.services_settings, self.page, 'in the menu "Mes Services"')
                self._shot("mes-services")
                link.click()
                self.presence.wait_settled("opening Paramétrage / Monitoring")
            return ""

        self._check(NavigationChecks.services_settings, open_menu)

    def _services_screen(self) -> ServicesPage:
        page = ServicesPage(self.page, self._read, timeout_ms=self.timeout_ms)
        services, texts = self.s.services, self.s.texts
        where = "on « Paramétrage / Monitoring »"
        self._check(Services.heading, lambda: self._seen(services.heading, where))

        def filters() -> str:
            self._all_shown([(c, {}) for c in services.filters], self.page, where)
            return f"{len(services.filters)} filters"

        self._check(Services.filters, filters)
        self._check(
            Services.ref_filter, lambda: self._seen(services.ref_filter, where, enabled=True)
        )
        self._check(Services.search, lambda: self._seen(services.search, where, enabled=True))

        def table() -> str:
            if not page.table.filter(visible=True).count():
                page.show()  # a read-only search: some portals list nothing before one
            return self._table(page.table, "services table", where)

        self._check(Services.table, table)
        self._check(
            Services.columns,
            lambda: self._columns(page.column_headers(), "service_columns", where),
        )
        page = ServicesPage(self.page, self._read, timeout_ms=self.timeout_ms)

        def next_page() -> str:
            shown = len(page.rows())
            if page.has_next_page():
                self._full_page = shown or None  # a page followed by another: a full one
                return ""
            # Removed, or disabled: the end, unless the list says it has more.
            why = more_pages(
                text_beside(self.page, page.table),
                rows=shown,
                seen=shown,
                page_size=None,
            )
            if why is None:
                raise Skip("the services list has one page here")
            self._shown(services.next_page, self.page, where)
            raise Drift(
                f"no link « Suivant » {where}, though the list has more pages: {why}",
                services.next_page,
            )

        self._check(Services.next_page, next_page)
        kind, active = texts.service_type_with_licences, texts.service_state_active

        def pick() -> tuple[list[ServiceRow], str]:
            # The list's first page is on screen: enough when it shows a service to check.
            listed = [] if self.service else page.rows()
            if not any(row.type == kind and row.state == active for row in listed):
                listed = page.search(self.service or "")
            of_kind = [row for row in listed if row.type == kind]
            if self.service:
                of_kind = [row for row in of_kind if row.ref.upper() == self.service]
            if not of_kind:
                raise Drift(
                    f"no service of type « {kind} » in the list"
                    + (f" for {self.service}" if self.service else "")
                )
            return listed, f"{len(of_kind)} found"

        listed = self._need(Services.with_licences, pick)

        def pick_active() -> tuple[str, str]:
            good = [row for row in listed if row.type == kind and row.state == active]
            if self.service:
                good = [row for row in good if row.ref.upper() == self.service]
                if not good:
                    raise Drift(f"the service {self.service} is not « {active} »")
            if not good:
                raise Drift(f"no MetaCentrex service is « {active} »")
            return good[0].ref, f"{good[0].ref} is « {active} »"

        chosen = self._need(Services.active, pick_active)

        def service_ref() -> str:
            pattern = self.s.hints.service_ref
            if pattern is None:
                raise Skip("no hint given: any ref is looked up on the portal")
            if not pattern.fullmatch(chosen):
                raise Skip(
                    f"{chosen!r} does not read as hints.service_ref ({pattern.pattern}): a "
                    "hint only (any ref is looked up); edit it to name refs as this portal does"
                )
            return f"{chosen} reads as {pattern.pattern}"

        self._check(Services.ref_hint, service_ref)

        def nothing() -> str:
            rows = page.search("ZZZ-NO-SUCH-SERVICE")
            if rows:
                raise Drift(f"a search for a service that does not exist listed {len(rows)} rows")
            hint = locate(self.page, Control(text=self.s.hints.empty_services, exact=False))
            return _hint_sentence(hint)

        self._check(Services.empty, nothing)

        def configure() -> str:
            page.search(chosen)
            where_row = f"in the row of {chosen}"
            self._shown(services.configure, page.table.first, where_row, one=False)
            self._shot("parametrage-monitoring")
            page.open_service(chosen)
            return f"opened {chosen}"

        self._check(Services.configure, configure)
        self.service = chosen
        return page

    def _columns(self, shown: list[str], field: str, where: str) -> str:
        """The column headers `shown` hold every one of `texts.<field>` (selectors/ as it
        is). A drifted one fails naming its entry, the header shown in its stead first;
        the walk then reads that column under that header (said so)."""
        columns: dict[str, str] = getattr(self.s.texts, field).model_dump()
        missing = [key for key, header in columns.items() if header not in shown]
        if not missing:
            return f"{len(columns)} columns"
        found = ", ".join(f'"{c}"' for c in shown if c.strip()) or "none"
        renamed = renamed_columns(shown, columns)
        message = (
            f"no column header {', '.join(repr(columns[k]) for k in missing)} {where}; "
            f"found {found}"
        )
        if renamed:
            read = getattr(self._read.texts, field).model_copy(update=renamed)
            texts = self._read.texts.model_copy(update={field: read})
            self._read = self._read.model_copy(update={"texts": texts})
            instead = ", ".join(f"{columns[k]!r} as {new!r}" for k, new in renamed.items())
            message += f" (the walk reads on with {instead})"
        first = missing[0]
        others = [h for h in dict.fromkeys(shown) if h.strip() and h not in columns.values()]
        ranked = sorted(others, key=partial(_likeness, columns[first]), reverse=True)
        raise Drift(
            message,
            Control(role="columnheader", name=columns[first]),
            candidates=tuple(("columnheader", header) for header in ranked),
            entry=f"texts.{field}.{first}",
        )

    def _table(self, table: Locator, what: str, where: str) -> str:
        if not self.presence.shows(table, where):
            raise Drift(f"no {what} (role table or grid, with its column headers) {where}")
        return ""

    def _service_screen(self, services: ServicesPage) -> None:
        where = f"on the service {self.service}"
        svc = self.s.service
        self._check(ServiceSettings.tablist, lambda: self._seen(svc.tablist, where))
        tablist = locate(self.page, svc.tablist)
        listed: dict[Tab, list[LicenceRow]] = {}
        for tab in (Tab.UTILISATEURS, Tab.GROUPEMENTS):

            def select(tab: Tab = tab) -> str:
                control = self._present(svc.tabs[tab], tablist, "in the tab list", enabled=True)
                step = f"opening the tab {tab.value}"
                results = LicenceResultsPage(self.page, self._read, tab, timeout_ms=self.timeout_ms)
                with reading(self.page, step):
                    selected = control.get_attribute("aria-selected") == "true"
                    before = None if selected else results.shown_text()
                    if not selected:
                        control.click()
                    expect(control).to_have_attribute("aria-selected", "true", timeout=self.wait_ms)
                    self.presence.wait_settled(step)
                    # Its own listing, once it no longer reads as the other tab's.
                    if not selected:
                        results.listed(before, step)
                return "selected"

            self._check(ServiceSettings.tabs[tab], select)
            if tab is Tab.UTILISATEURS:
                self._check(ServiceSettings.tab_panel, lambda: self._seen(svc.tab_panel, where))
            results = LicenceResultsPage(self.page, self._read, tab, timeout_ms=self.timeout_ms)
            listed[tab] = self._tab(results, TABS[tab])
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

        self._check(Searches.in_progress, in_progress)
        settings = ServiceSettingsPage(self.page, self._read, timeout_ms=self.timeout_ms)
        # The dialog as soon as a licence to tick is on screen, the searches after: its
        # « Valider », the last control of the guide, is then named seconds earlier. A
        # --licence is found by its ref first.
        # The dialog only when one of its checks is wanted (WalkOptions.checks).
        dialog = self._wants(Dialog, After)
        target = None if self.licence is not None else _numbered(listed)
        if target is None:
            found = self._searches(settings, None)
            if dialog:
                self._dialog(settings, *found, on_screen=None)
        else:
            tab, row = target
            on_screen = listed[tab] if tab is Tab.GROUPEMENTS else None  # the tab last listed
            if dialog:
                self._dialog(settings, tab, row, on_screen=on_screen)
            self._searches(settings, target)

    def _tab(self, results: LicenceResultsPage, checks: TabChecks) -> list[LicenceRow]:
        where = f"in the tab {results.tab.value}"
        lic = self.s.licences

        def filters() -> str:
            self._all_shown([(c, {}) for c in lic.filters], results.scope, where)
            return f"{len(lic.filters)} filters"

        self._check(checks.filters, filters)
        for spec, control in (
            (checks.licence_filter, lic.licence_filter),
            (checks.number_filter, lic.number_filter),
            (checks.search, lic.search),
        ):
            self._check(spec, partial(self._seen, control, where, results.scope, enabled=True))

        def table() -> str:
            if not results.table.filter(visible=True).count():
                results.search()  # read-only: some portals show no table before a search
            return self._table(results.table, "results table", where)

        self._check(checks.table, table)
        headers = results.column_headers
        self._check(checks.columns, lambda: self._columns(headers(), "licence_columns", where))
        # (a drifted header: read under the one shown in its stead from now on)
        results = LicenceResultsPage(self.page, self._read, results.tab, timeout_ms=self.timeout_ms)
        self._check(
            checks.select_all,
            lambda: self._seen(
                lic.select_all, "in the results table's header", results.table.first
            ),
        )

        def read_rows() -> tuple[list[LicenceRow], str]:
            rows = results.rows()
            if not rows:
                raise Skip(f"the tab {results.tab.value} lists no licence here")
            return rows, f"{len(rows)} rows read"

        rows = self._get(checks.licence_cell, read_rows) or []

        def checkboxes() -> str:
            if not rows:
                raise Skip(f"the tab {results.tab.value} lists no licence here")
            boxes = [(lic.row_checkbox, {"ref": row.ref}) for row in rows]
            self._all_shown(boxes, results.table.first, "in the results table")
            return f"{len(rows)} rows, one checkbox each"

        self._check(checks.row_checkbox, checkboxes)

        self._check(checks.next_page, partial(self._next_page, results, rows))

        def actions_disabled() -> str:
            button = self._present(lic.actions, results.scope, where)
            expect(button).to_be_disabled(timeout=self.wait_ms)
            return "disabled"

        self._check(checks.actions, actions_disabled)
        return rows

    def _next_page(self, results: LicenceResultsPage, rows: list[LicenceRow]) -> str:
        """« Suivant » reaches a second page where the listing has one (it fills a page,
        its indicator or count says more): proved by turning to it, then back to the
        first by searching again. Without « Suivant », skipped only when the listing shows
        no sign of more; with signs of more, its drift."""
        where = f"in the tab {results.tab.value}"
        if not results.has_next_page():  # removed, or disabled: the end, unless it says more
            why = results.more_pages(rows=len(rows), seen=len(rows), page_size=self._full_page)
            if why is None:
                raise Skip(f"the tab {results.tab.value} has one page of results here")
            with _drift():
                self.presence.shown(self.s.licences.next_page, where, results.scope)
            raise Drift(
                f"no link « Suivant » {where}, though the listing has more pages: {why}",
                self.s.licences.next_page,
            )
        self._full_page = max(self._full_page or 0, len(rows)) or None
        first = {row.ref for row in rows}
        if not results.next_page():
            raise Drift(f"« Suivant » {where} turned to no other page")
        second = results.rows()
        if not second or {row.ref for row in second} <= first:
            raise Drift(f"« Suivant » {where} showed no other licences than the first page")
        results.search()  # back to the first page, as the rest of the walk reads it
        return f"page 2 reached: {len(second)} other rows"

    def _searches(
        self, settings: ServiceSettingsPage, listed: tuple[Tab, LicenceRow] | None
    ) -> tuple[Tab, LicenceRow]:
        """The licence searches; the licence the dialog checks, found by its ref (a gate)."""

        def nothing() -> str:
            results = settings.open_tab(Tab.GROUPEMENTS)  # the tab on screen
            rows = results.search(licence="FPC000000")
            if rows:
                raise Drift(f"a search for a licence that does not exist listed {len(rows)} rows")
            return _hint_sentence(results.scope.get_by_text(self.s.hints.empty_results))

        self._check(Searches.empty, nothing)

        def by_ref() -> tuple[tuple[Tab, LicenceRow], str]:
            wanted = self.licence or (listed[1].ref if listed else None)
            if wanted is None:
                raise Drift(f"no licence with a number in the service {self.service}")
            if not self.s.texts.licence_ref.fullmatch(wanted):
                raise Drift(f"{wanted!r} does not read as a licence ref")
            tabs = [listed[0]] if listed else []
            for tab in dict.fromkeys([*tabs, Tab.UTILISATEURS, Tab.GROUPEMENTS]):
                rows = settings.open_tab(tab).search(licence=wanted)
                exact = [row for row in rows if row.ref == wanted]
                if exact:
                    if exact[0].number is None:
                        raise Drift(f"{wanted} has no number: give a --licence that has one")
                    number = format_number(exact[0].number)
                    return (tab, exact[0]), f"{wanted} in {tab.value}, number {number}"
            raise Drift(f"no licence {wanted} in {self.service}")

        tab, row = self._need(Searches.by_ref, by_ref)

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

        self._check(Searches.by_number, by_number)
        address: list[str] = []

        def licence_page() -> str:
            if self.s.hints.licence_page is None:
                raise Skip("no hint given: a licence's options are then not shown")
            found = settings.open_tab(tab).licence_link(row.ref)
            if found is None:
                raise Skip(f"no link to {row.ref}'s own page in its row (a hint only)")
            address.append(found)
            return found

        self._check(Searches.licence_page, licence_page)

        def licence_options() -> str:
            if not address or self.s.hints.licence_options is None:
                raise Skip("no licence page to read (a hint only)")
            options = read_options(self.page, self.s, address[0], timeout_ms=self.timeout_ms)
            if options is None:
                raise Skip(f"{row.ref}'s page shows no « Options » with a value (a hint only)")
            return f"{row.ref}: {', '.join(options) or 'none'}"

        self._check(Searches.licence_options, licence_options)
        self._check(Searches.loading, lambda: _skip("a hint: the smoke never needs it"))
        self._check(Searches.technical_error, lambda: _skip("shown only on a technical error"))
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

        def enabled() -> tuple[tuple[LicenceResultsPage, list[str]], str]:
            results = settings.open_tab(tab)
            shown = on_screen or []  # the listing on screen: no search needed
            if not any(found.ref == row.ref for found in shown):
                shown = results.search(licence="")
            if not any(found.ref == row.ref for found in shown):
                shown = results.search(licence=row.ref)
            without = [found.ref for found in shown if found.number is None]
            ticked = [row.ref, *without[:1]]
            for ref in ticked:
                results.tick(ref)
            button = self._present(lic.actions, results.scope, where_tab)
            expect(button).to_be_enabled(timeout=self.wait_ms)
            return (results, ticked), f"ticked {', '.join(ticked)}"

        results, ticked = self._need(Dialog.actions, enabled)

        def menu() -> str:
            # Opening the dialog only reads (the portal may ask, by a POST, what it will list).
            with reading(self.page, "opening the dissociation dialog to read it"):
                self._present(lic.actions, results.scope, where_tab, enabled=True).click()
                item = self._present(
                    lic.dissociate, self.page, 'in the menu "Actions"', enabled=True
                )
                self._shot("actions")
                item.click()
                self.presence.wait_settled(
                    "loading the dialog"
                )  # its list may come from the portal
            return ""

        self._check(Dialog.dissociate, menu)
        dialog = ReadOnlyDialog(self.page, self.s, timeout_ms=self.timeout_ms)

        def shown(
            control: Control, *, enabled: bool = False, beside: bool = False
        ) -> Callable[[], str]:
            def check() -> str:
                self._shown(
                    control, self.page, IN_DIALOG, enabled=enabled, beside=beside, in_dialog=dialog
                )
                return ""

            return check

        def appears() -> str:
            with _drift():
                dialog.wait_shown("after « Dissocier vos numéros »")
            return ""

        self._check(Dialog.dialog, appears)
        self._check(Dialog.heading, shown(dlg.heading))
        number = format_number(row.number)

        def dialog_row() -> str:
            if not any(ref == row.ref for ref, _ in dialog.rows()):
                raise Drift(f'no row reading "{row.ref} {number}" {IN_DIALOG}')
            return f"{row.ref} {number}"

        self._check(Dialog.row, dialog_row)

        def keep_select() -> tuple[tuple[list[str], str], str]:
            self._shown(
                dlg.keep_select,
                self.page,
                IN_DIALOG,
                enabled=True,
                values={"number": number},
                in_dialog=dialog,
            )
            return dialog.keep_options(number), ""

        options = self._get(Dialog.keep_select, keep_select)

        def option(label: str, preselected: bool) -> Callable[[], str]:
            def check() -> str:
                if options is None:
                    raise NotRun("dialog.keep_select did not pass")
                texts, now = options
                if label not in texts:
                    known = (self.s.texts.keep_yes, self.s.texts.keep_no)
                    others = [text for text in texts if text.strip() and text not in known]
                    raise Drift(
                        f"no option {label!r} in « Conserver le numéro »; found {texts}",
                        Control(role="option", name=label),
                        candidates=tuple(("option", text) for text in others),
                        entry="texts.keep_yes" if preselected else "texts.keep_no",
                    )
                if preselected:
                    if squash(now) != label:
                        raise Drift(f"{label!r} is not preselected (it shows {visible(now)!r})")
                    return "preselected"
                return ""

            return check

        self._check(Dialog.keep_yes, option(self.s.texts.keep_yes, True))
        self._check(Dialog.keep_no, option(self.s.texts.keep_no, False))

        def count() -> str:
            found = dialog.keep_select_count()
            if found == 0:
                self._shown(dlg.any_keep_select, self.page, IN_DIALOG, in_dialog=dialog)
            if found != 1:
                raise Drift(f"{found} « Conserver le numéro » choices for 1 numbered licence")
            return "1"

        self._check(Dialog.any_keep_select, count)

        def warnings() -> str:
            with _drift():
                dialog.show_all(dlg.warnings, IN_DIALOG)
            return f"{len(dlg.warnings)} paragraphs"

        self._check(Dialog.warnings, warnings)

        def word_for_word() -> str:
            text = squash(dialog.text())
            missing = [w for w in dlg.warning_texts if squash(w) not in text]
            if missing:
                raise Drift(f"the dialog does not say, word for word: {missing[0]!r}")
            return f"{len(dlg.warning_texts)} paragraphs word for word"

        self._check(Dialog.warning_texts, word_for_word)

        def ended() -> str:
            text = name_key(dialog.text())
            missing = [o for o in self.s.texts.ended_options if name_key(o) not in text]
            if missing:
                raise Drift(f"the dialog's warnings do not name the option {missing[0]!r}")
            return f"{len(self.s.texts.ended_options)} named"

        self._check(Dialog.ended_options, ended)

        def without_number() -> str:
            if len(ticked) < 2:
                raise Skip("no licence without a number on that results page to tick")
            shown(Control(text=self.s.texts.without_number))()
            if ticked[1] not in dialog.text():
                raise Drift(f"{ticked[1]} is not listed under {self.s.texts.without_number!r}")
            return ticked[1]

        self._check(Dialog.without_number, without_number)
        self._check(Dialog.cancel, shown(dlg.cancel, enabled=True))
        # « Valider » sits beside « Annuler », just found (a gate) in the settled dialog.
        self._check(Dialog.submit, shown(dlg.submit, beside=True))
        self._check(Dialog.error, lambda: _skip("shown only when the portal refuses « Valider »"))
        self._shot("dissocier-vos-numeros")

        def cancel() -> str:
            dialog.cancel()
            return "closed"

        self._check(After.cancel, cancel)

        def untick() -> str:
            for ref in ticked:
                with reading(self.page, f"unticking {ref}"):
                    locate(results.table.first, lic.row_checkbox, ref=ref).uncheck()
            button = self._present(lic.actions, results.scope, where_tab)
            expect(button).to_be_disabled(timeout=self.wait_ms)
            return "unticked; Actions disabled"

        self._check(After.untick, untick)
        self._shot("after-annuler")
        self._reread(results, row)
        self._check(After.status, lambda: _skip("shown only after « Valider »"))
        self._check(After.status_text, lambda: _skip("shown only after « Valider »"))

    def _reread(self, results: LicenceResultsPage, row: LicenceRow) -> None:
        """After « Annuler »: the licence whose dialog was opened, read again from the
        portal, for the read-only proof (what the dialog showed changed nothing)."""
        assert row.number is not None
        step = f"reading {row.ref} again"
        try:
            rows = translated(step, lambda: results.search(licence=row.ref))
        except BotError as error:
            self._after = f"{row.ref} could not be read again ({first_line(error)})"
            return
        again = [found for found in rows if found.ref == row.ref]
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


def _failing(presence: Presence, step: str) -> bool:
    """Whether the page shows the portal's error (its words, or a 5xx) now."""
    try:
        presence.raise_for_error_page(step)
    except TechnicalError:
        return True
    except PlaywrightError:  # a page being replaced: not known to fail
        return False
    return False


def _skip(why: str) -> str:
    raise Skip(why)


def _hint_sentence(hint: Locator) -> str:
    shown = hint.filter(visible=True).count() > 0
    return "zero rows; the hint sentence " + ("shows" if shown else "does not show (fine)")


def renamed_columns(shown: list[str], columns: Mapping[str, str]) -> dict[str, str]:
    """Each of `columns` (key: header) not `shown`, paired with the header shown in its
    stead: among the headers that are none of `columns`, the closest (pure)."""
    others = [h for h in dict.fromkeys(shown) if h.strip() and h not in columns.values()]
    renamed: dict[str, str] = {}
    for key, header in columns.items():
        if header in shown or not others:
            continue
        best = max(others, key=partial(_likeness, header))
        renamed[key] = best
        others.remove(best)
    return renamed


def _likeness(old: str, new: str) -> tuple[bool, float]:
    """How much `new` reads as `old` renamed: holding its words first, then alike."""
    words = set(old.casefold().split())
    ratio = difflib.SequenceMatcher(None, old.casefold(), new.casefold()).ratio()
    return words <= set(new.casefold().split()), ratio


def _numbered(listed: dict[Tab, list[LicenceRow]]) -> tuple[Tab, LicenceRow] | None:
    """The first licence with a number the tabs listed, the guide's example tab first."""
    for tab in (Tab.GROUPEMENTS, Tab.UTILISATEURS):
        numbered = [row for row in listed.get(tab, []) if row.number]
        if numbered:
            return tab, numbered[0]
    return None
