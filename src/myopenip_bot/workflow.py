"""The dissociation workflow: plan every licence, act per tab in one dialog, verify each one.

    run(request)
    ├── plan    find the service (exactly one exact ref), then each licence by ref or
    │           number in Utilisateurs, then Groupements (exactly one exact row), read its
    │           number; refuse duplicates, unknown licences and number mismatches; a licence
    │           without a number is already done and never touched
    ├── act     per tab and per results page: tick every planned licence, Actions >
    │           "Dissocier vos numéros", set "Conserver le numéro", read the dialog back
    │           (exactly the plan, nothing under "Licences sans numéro", else Annuler and
    │           stop), screenshot, confirm, "Valider" once (dry run: Annuler instead)
    └── verify  search each licence again: no number means done

The session is checked at every step: when the portal shows its login page (first visit,
or a session that expired, even mid-step), the runner logs in again inside
`hooks.logging_in()` and redoes the step. "Valider" is never part of a redone step: when its
answer is anything but the status message, the runner re-reads the portal and reports what
it shows; it submits again only licences that still have their number after a session
expiry hid the answer (the click never reached the portal), and only once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from pydantic import SecretStr

from myopenip_bot.errors import (
    BotError,
    BusinessError,
    LicenceNotFoundError,
    NumberMismatchError,
    ReadBackMismatchError,
    ServiceNotFoundError,
    SessionExpiredError,
    TechnicalError,
)
from myopenip_bot.hooks import NoHooks, RunnerHooks
from myopenip_bot.models import (
    DissociationRequest,
    LicenceResult,
    Outcome,
    RunResult,
    Tab,
    Target,
    format_number,
)
from myopenip_bot.pages import (
    DissociationDialog,
    LicenceResultsPage,
    LicenceRow,
    LoginPage,
    Navigation,
    ServiceSettingsPage,
    SubmitAnswer,
)
from myopenip_bot.selectors import Selectors

__all__ = ["Runner"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

# Logins per run (the first one and those after a session expired): beyond this, the
# session keeps expiring and going on would only hammer the portal.
MAX_LOGINS = 6
# Attempts of a step that only reads or prepares (never "Valider") when the portal fails.
STEP_ATTEMPTS = 3
# "Valider" clicks for one licence, each after a fresh read showing it still has its number.
MAX_SUBMISSIONS = 2
# Result pages walked when looking for a licence: 20 licences a page.
MAX_PAGES = 100
# Tabs in the order the guide searches them.
TAB_ORDER = (Tab.UTILISATEURS, Tab.GROUPEMENTS)


@dataclass
class _Item:
    """One requested licence as it moves through the run."""

    index: int
    target: Target
    ref: str | None = None
    number: str | None = None  # the number it had when planned (ten digits)
    tab: Tab | None = None
    outcome: Outcome | None = None
    reason: str | None = None
    submissions: int = 0  # how many times "Valider" was clicked with it in the dialog

    def settle(self, outcome: Outcome, reason: str | None = None) -> None:
        self.outcome, self.reason = outcome, reason
        log.info(
            "licence_outcome",
            target=self.target.label(),
            licence=self.ref,
            outcome=outcome.value,
            reason=reason,
        )

    def as_result(self) -> LicenceResult:
        assert self.outcome is not None
        return LicenceResult(
            target=self.target,
            outcome=self.outcome,
            licence_ref=self.ref,
            number=self.number,
            tab=self.tab,
            reason=self.reason,
        )


class Runner:
    """Drives the portal through one `DissociationRequest`; see the module docstring.

    `run` returns a RunResult in which every requested licence has an outcome: done,
    already done, would do (dry run), refused (why) or failed (why). Problems of one
    licence (unknown, not in the service, number mismatch, given twice) never raise: that
    licence is refused, the others are still planned, and the run acts only on licences
    whose plan succeeded. `RunResult.warnings` holds the dialog's warning paragraphs,
    `status_messages` the portal's "Numéro(s) dissocié(s) : N" messages.

    Run-level failures raise, with `error.result` holding the RunResult so far (licences
    not reached are refused, or failed after a technical error, "not attempted"):
    AuthenticationError (login refused: never retried), ServiceNotFoundError,
    ReadBackMismatchError (the dialog was cancelled, nothing of that dialog changed),
    TechnicalError (5xx, timeouts, network, a session that keeps expiring).
    A confirmation answered "no" is not an error: that dialog is cancelled, its licences
    and all those not yet submitted are refused "not confirmed", and the run ends.

    Hooks: every login runs inside `hooks.logging_in()`; screenshots are named
    "dialog-before-valider", "verification" and, in a dry run, "dialog-dry-run";
    `hooks.confirm(plan, warnings)` is asked once per dialog, never in a dry run, and not
    again when a session expiry made the runner submit the same licences once more.
    `run` sets the page's default timeout to `timeout_ms`.
    """

    def __init__(
        self,
        page: Page,
        selectors: Selectors,
        *,
        base_url: str,
        username: str,
        password: SecretStr,
        hooks: RunnerHooks | None = None,
        timeout_ms: float = 15_000.0,
    ) -> None:
        self.page = page
        self.selectors = selectors
        self.base_url = base_url.rstrip("/") + "/"
        self.username = username
        self._password = password
        self.hooks: RunnerHooks = hooks if hooks is not None else NoHooks()
        self.timeout_ms = timeout_ms
        self._logins = 0
        self._current_step = "starting"
        self._service_ref = ""
        self._settings: ServiceSettingsPage | None = None  # the service page we are on
        self._dirty = False  # a dialog was opened on it: ticks or a status may linger
        self._confirmed: set[str] = set()  # licence refs a person confirmed

    # -- the run ----------------------------------------------------------------------

    def run(self, request: DissociationRequest) -> RunResult:
        """Plan, act, verify; see the class docstring for what raises and what is reported."""
        self.page.set_default_timeout(self.timeout_ms)
        self._service_ref = request.service_ref
        self._settings = None
        self._dirty = False
        self._logins = 0  # per run: a Runner may serve many requests (batch)
        self._confirmed = set()
        items = [_Item(index, target) for index, target in enumerate(request.targets)]
        result = RunResult(
            service_ref=request.service_ref,
            keep_number=request.keep_number,
            dry_run=request.dry_run,
        )
        log.info(
            "run_started",
            service=request.service_ref,
            targets=[t.label() for t in request.targets],
            keep_number=request.keep_number,
            dry_run=request.dry_run,
        )
        try:
            _refuse_repeated_targets(items)
            self._step("opening the portal", self._open_portal)
            self._step(f"finding the service {request.service_ref}", self._open_service)
            for item in items:
                if item.outcome is None:
                    self._plan(item)
            _refuse_same_licence(items)
            self._act(request, [item for item in items if item.outcome is None], result)
        except PlaywrightError as error:  # a browser failure no page object anticipated
            stop = TechnicalError(f"{self._current_step}: {_first_line(error)}")
            self._stop(items, result, stop)
            raise stop from None
        except BotError as error:
            self._stop(items, result, error)
            raise
        result.results = [item.as_result() for item in items]
        log.info("run_finished", service=request.service_ref, counts=result.counts)
        return result

    def _stop(self, items: list[_Item], result: RunResult, error: BotError) -> None:
        """Record a run-level failure: every licence gets an outcome; the error the result."""
        _close_out(items, error)
        result.results = [item.as_result() for item in items]
        result.error = str(error)
        error.result = result
        log.error("run_stopped", error=str(error), error_type=type(error).__name__)

    # -- session ----------------------------------------------------------------------

    def _step(self, name: str, action: Callable[[], T]) -> T:
        """Run one step that reads or prepares (never "Valider"), from wherever the page is.

        When the session expired, log in again and redo it. When the portal failed (5xx,
        timeout, network), redo it from a fresh page, up to STEP_ATTEMPTS times. A login
        is never retried: its failures propagate at once.
        """
        self._current_step = name
        failures = 0
        while True:
            try:
                return _translated(name, action)
            except SessionExpiredError as expired:
                log.info("login_needed", step=name, why=str(expired))
                self._settings = None
                self._log_in(name)
            except TechnicalError as error:
                failures += 1
                if failures >= STEP_ATTEMPTS:
                    raise
                log.warning("step_retried", step=name, attempt=failures, error=str(error))
                self._settings, self._dirty = None, True
                time.sleep(0.5 * failures)  # allowed: backoff before asking a failing portal again

    def _log_in(self, step: str) -> None:
        if self._logins >= MAX_LOGINS:
            raise TechnicalError(
                f"{step}: the portal asked to log in {self._logins + 1} times in one run; "
                "the session does not last, giving up"
            )
        login = LoginPage(self.page, self.selectors, timeout_ms=self.timeout_ms)

        def to_login_page() -> None:
            if not login.is_shown():
                self._goto(self.base_url, "opening the login page")
                login.wait_for_login_or_navigation("opening the login page")

        _translated("opening the login page", to_login_page)
        if not login.is_shown():
            return  # the portal let us in after all: the session was still valid
        self._logins += 1
        with self.hooks.logging_in():
            _translated("logging in", lambda: login.log_in(self.username, self._password))

    def _open_portal(self) -> None:
        self._goto(self.base_url, "opening the portal")
        Navigation(self.page, self.selectors, timeout_ms=self.timeout_ms).wait("opening the portal")

    def _goto(self, url: str, step: str) -> None:
        response = self.page.goto(url)
        if response is not None and response.status >= 500:
            raise TechnicalError(f"{step}: the portal answered HTTP {response.status}")

    # -- navigation -------------------------------------------------------------------

    def _open_service(self) -> ServiceSettingsPage:
        """From any page: Mes Services > Paramétrage / Monitoring > search > Paramétrer >."""
        ref = self._service_ref
        navigation = Navigation(self.page, self.selectors, timeout_ms=self.timeout_ms)
        if not navigation.is_shown():  # an error page, a blank page: start from the portal
            self._goto(self.base_url, f"opening the service {ref}")
        services = navigation.open_services()
        rows = services.search(ref)
        exact = [row for row in rows if row.ref == ref]
        if len(exact) != 1:
            shown = ", ".join(sorted({row.ref for row in rows})) or "none"
            how_many = "no service" if not exact else f"{len(exact)} services"
            raise ServiceNotFoundError(
                f"{how_many} with the ref {ref!r} (the search showed: {shown})"
            )
        wanted_type = self.selectors.texts.service_type_with_licences
        if exact[0].type and exact[0].type != wanted_type:
            raise ServiceNotFoundError(
                f"the service {ref} is of type {exact[0].type!r}; only {wanted_type} services "
                "have licences"
            )
        self._settings = services.open_service(ref)
        return self._settings

    def _results(self, tab: Tab) -> LicenceResultsPage:
        """The tab's search, reusing the service page we are on when there is one."""
        if self._settings is None:
            self._settings = self._open_service()
        return self._settings.open_tab(tab)

    def _find_rows(self, tab: Tab, *, ref: str | None, number: str | None) -> list[LicenceRow]:
        """Every row (all pages) whose ref or number is exactly the one asked for."""
        results = self._results(tab)
        formats = ["{digits}", "{grouped}"] if number else [None]
        preferred = self.selectors.texts.number_filter_format
        formats.sort(key=lambda f: f != preferred)
        for number_format in formats:
            rows = results.search(licence=ref or "", number=number, number_format=number_format)
            matches = [row for row in rows if _same(row, ref, number)]
            for _ in range(MAX_PAGES):
                if not results.next_page(licence=ref or "", number=number):
                    break
                matches += [row for row in results.rows() if _same(row, ref, number)]
            if matches:
                return matches
        return []

    # -- plan -------------------------------------------------------------------------

    def _plan(self, item: _Item) -> None:
        target = item.target
        try:
            tab, row = self._step(f"finding {target.label()}", lambda: self._find_licence(target))
        except BusinessError as refusal:
            item.settle(Outcome.REFUSED, str(refusal))
            return
        item.ref, item.tab, item.number = row.ref, tab, row.number
        if row.number is None:
            item.settle(Outcome.ALREADY_DONE, f"{row.ref} has no number: nothing to do")
        elif target.number is not None and target.number != row.number:
            mismatch = NumberMismatchError(
                f"{row.ref}'s number is {format_number(row.number)}, "
                f"not {format_number(target.number)}: refused"
            )
            item.settle(Outcome.REFUSED, str(mismatch))
        else:
            log.info("licence_planned", licence=row.ref, number=row.number, tab=tab.value)

    def _find_licence(self, target: Target) -> tuple[Tab, LicenceRow]:
        ref, number = target.licence_ref, target.number
        search_number = None if ref else number  # a ref is enough to find it
        for tab in TAB_ORDER:
            matches = self._find_rows(tab, ref=ref, number=search_number)
            if len(matches) > 1:
                refs = ", ".join(row.ref for row in matches)
                raise LicenceNotFoundError(
                    f"{len(matches)} licences of {self._service_ref} match "
                    f"{target.label()} in {tab.value} ({refs}): refused"
                )
            if matches:
                return tab, matches[0]
        if ref:
            what = f"licence {ref}"
        else:  # after a dissociation a number belongs to no licence: say so
            what = f"licence with the number {format_number(number or '')} (already dissociated?)"
        raise LicenceNotFoundError(
            f"no {what} in the service {self._service_ref} (searched Utilisateurs and Groupements)"
        )

    # -- act --------------------------------------------------------------------------

    def _act(self, request: DissociationRequest, planned: list[_Item], result: RunResult) -> None:
        for tab in TAB_ORDER:
            todo = [item for item in planned if item.tab is tab]
            while todo:
                dialog, batch = self._step(
                    f"preparing the dissociation in {tab.value}",
                    partial(self._prepare, tab, todo, request.keep_number),
                )
                todo = [item for item in todo if item.outcome is None and item not in batch]
                if dialog is None:
                    continue
                warnings = dialog.warnings()  # this dialog's own paragraphs, word for word
                _add_new(result.warnings, warnings)
                if request.dry_run:
                    self.hooks.screenshot(self.page, "dialog-dry-run")
                    self._cancel(dialog)
                    for item in batch:
                        item.settle(Outcome.WOULD_DO, "dry run: the dialog listed it; Annuler")
                    continue
                if not self._confirm(batch, warnings, dialog):
                    for item in planned:
                        if item.outcome is None:
                            item.settle(
                                Outcome.REFUSED, "not confirmed: Annuler clicked, nothing changed"
                            )
                    return
                todo += self._submit(tab, batch, dialog, result)

    def _prepare(
        self, tab: Tab, todo: list[_Item], keep: bool
    ) -> tuple[DissociationDialog | None, list[_Item]]:
        """Tick the licences of `todo` shown on one results page; open and fill the dialog.

        Returns no dialog and an empty batch when none of `todo` is listed any more, or
        those listed have another number than planned (they are marked failed). Raises
        ReadBackMismatchError, after Annuler, when the dialog is not the plan.
        """
        if self._dirty:
            self._settings = None  # a fresh page: no leftover ticks, dialog or status message
        results = self._results(tab)
        prefix = _common_prefix([item.ref or "" for item in todo])
        rows = results.search(licence=prefix)
        for _ in range(MAX_PAGES):
            shown = {row.ref: row for row in rows}
            batch = [item for item in todo if item.ref in shown]
            if batch or not results.next_page(licence=prefix):
                break
            rows = results.rows()
        if not batch:  # on no page at all
            for item in todo:
                item.settle(Outcome.FAILED, f"no longer listed in {tab.value} when acting")
            return None, []
        changed = [item for item in batch if shown[item.ref or ""].number != item.number]
        for item in changed:
            now = shown[item.ref or ""].number
            item.settle(
                Outcome.FAILED,
                f"its number changed since it was planned (now {_number(now)})",
            )
        batch = [item for item in batch if item not in changed]
        if not batch:
            return None, []
        for item in batch:
            results.tick(item.ref or "")
        self._dirty = True
        dialog = results.open_dissociation()
        self._read_back(dialog, batch, keep=None)
        for item in batch:
            dialog.set_keep(item.number or "", keep)
        self._read_back(dialog, batch, keep=keep)
        return dialog, batch

    def _read_back(self, dialog: DissociationDialog, batch: list[_Item], keep: bool | None) -> None:
        """The dialog must list exactly the batch's (licence, number) pairs; else Annuler."""
        expected = {(item.ref or "", item.number or "") for item in batch}
        listed = dialog.listed_numbers()
        problems: list[str] = []
        if {(row.ref, row.number) for row in listed} != expected or len(listed) != len(expected):
            problems.append(f"it lists {_pairs((r.ref, r.number) for r in listed)}")
        without = dialog.licences_without_number()
        if without:
            problems.append(
                f"it lists {', '.join(without)} under {self.selectors.texts.without_number!r}"
            )
        if not problems and dialog.keep_select_count() != len(expected):
            problems.append(f"it has {dialog.keep_select_count()} 'Conserver le numéro' choices")
        if not problems and keep is not None:
            wanted = self.selectors.texts.keep_yes if keep else self.selectors.texts.keep_no
            for item in batch:
                shown = dialog.kept(item.number or "")
                if shown != wanted:
                    problems.append(
                        f"'Conserver le numéro {format_number(item.number or '')}' shows {shown!r}"
                    )
        if problems:
            dialog.cancel()
            error = ReadBackMismatchError(
                f"the dissociation dialog does not match the plan {_pairs(expected)}: "
                f"{'; '.join(problems)}. Annuler was clicked: nothing changed"
            )
            for item in batch:
                item.settle(Outcome.REFUSED, str(error))
            raise error
        log.info("dialog_read_back", pairs=sorted(expected), keep=keep)

    def _confirm(self, batch: list[_Item], warnings: list[str], dialog: DissociationDialog) -> bool:
        """Screenshot, then ask the hooks (unless these licences were confirmed already)."""
        self.hooks.screenshot(self.page, "dialog-before-valider")
        refs = {item.ref or "" for item in batch}
        if refs <= self._confirmed:
            return True  # a re-submission after a session expiry: already confirmed
        plan = [(item.target, item.ref or "", item.number or "") for item in batch]
        if self.hooks.confirm(plan, warnings):
            self._confirmed |= refs
            return True
        log.info("dissociation_not_confirmed", licences=sorted(refs))
        self._cancel(dialog)
        return False

    def _submit(
        self, tab: Tab, batch: list[_Item], dialog: DissociationDialog, result: RunResult
    ) -> list[_Item]:
        """Click "Valider" once, then verify. Returns the licences to submit once more."""
        for item in batch:
            item.submissions += 1
        answer = _click_valider(dialog)
        if answer.status is not None:
            result.status_messages.append(answer.status)
            self._check_count(answer.status, len(batch))
        else:
            self._settings = None  # the dialog may still be open: verify from a fresh page
            if not answer.login_shown:
                _translated("closing the dialog after Valider", dialog.close_if_open)
        now = self._step(f"verifying in {tab.value}", lambda: self._read_numbers(tab, batch))
        self.hooks.screenshot(self.page, "verification")
        again: list[_Item] = []
        for item in batch:
            row = now.get(item.ref or "")
            if row is not None and row.number is None:
                reason = None if answer.confirmed else f"verified after: {answer.problem}"
                item.settle(Outcome.DONE, reason)
            elif row is None:
                item.settle(
                    Outcome.FAILED,
                    f"not found when verifying ({answer.problem or answer.status})",
                )
            elif (
                not answer.confirmed
                and item.submissions < MAX_SUBMISSIONS
                and row.number == item.number
            ):
                # The answer was lost or refused, and the fresh read shows that nothing was
                # done (an expired session, a 5xx before the portal acted): submit once more.
                log.info("resubmitting", licence=item.ref, why=answer.problem)
                again.append(item)
            else:
                times = "once" if item.submissions == 1 else f"{item.submissions} times"
                item.settle(
                    Outcome.FAILED,
                    f"the portal still shows {format_number(row.number or '')} after Valider"
                    f" was clicked {times} ({answer.problem or answer.status})",
                )
        return again

    def _check_count(self, status: str, expected: int) -> None:
        match = self.selectors.texts.status_dissociated.search(status)
        if match is None or int(match["count"]) != expected:
            log.warning("status_count_unexpected", status=status, expected=expected)

    def _read_numbers(self, tab: Tab, batch: list[_Item]) -> dict[str, LicenceRow]:
        """Search each licence again; its row as the portal shows it now."""
        found: dict[str, LicenceRow] = {}
        for item in batch:
            matches = self._find_rows(tab, ref=item.ref, number=None)
            if len(matches) == 1:
                found[matches[0].ref] = matches[0]
        log.info(
            "licences_verified",
            numbers={ref: row.number for ref, row in found.items()},
        )
        return found

    def _cancel(self, dialog: DissociationDialog) -> None:
        try:
            _translated("cancelling the dialog", dialog.cancel)
        except SessionExpiredError:
            # The login page replaced the dialog: nothing was sent, nothing to cancel.
            log.info("dialog_gone_with_session")


def _translated(step: str, action: Callable[[], T]) -> T:
    """Run `action`, turning Playwright's own errors into TechnicalError naming the step."""
    try:
        return action()
    except PlaywrightTimeoutError as error:
        raise TechnicalError(f"{step}: timed out ({_first_line(error)})") from None
    except PlaywrightError as error:
        raise TechnicalError(f"{step}: {_first_line(error)}") from None


def _click_valider(dialog: DissociationDialog) -> SubmitAnswer:
    answer = dialog.validate()  # never raises: every answer is data
    if answer.problem:
        log.warning("valider_unconfirmed", problem=answer.problem)
    return answer


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _common_prefix(texts: list[str]) -> str:
    """The longest text every one of `texts` starts with: a filter that shows them all."""
    first, last = min(texts, default=""), max(texts, default="")
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def _number(digits: str | None) -> str:
    return format_number(digits) if digits else "none"


def _same(row: LicenceRow, ref: str | None, number: str | None) -> bool:
    if ref is not None:
        return row.ref == ref
    return number is not None and row.number == number


def _pairs(pairs: Iterable[tuple[str, str]]) -> str:
    shown = [f"{ref} {format_number(number)}" for ref, number in sorted(pairs)]
    return "[" + ", ".join(shown) + "]"


def _add_new(into: list[str], texts: list[str]) -> None:
    into.extend(text for text in texts if text not in into)


def _refuse_repeated_targets(items: list[_Item]) -> None:
    """The same ref, or the same number, asked twice: refuse every such entry up front."""
    for key in ("licence_ref", "number"):
        seen: dict[str, list[_Item]] = {}
        for item in items:
            value = getattr(item.target, key)
            if value:
                seen.setdefault(value.upper(), []).append(item)
        for value, group in seen.items():
            if len(group) > 1:
                for item in group:
                    if item.outcome is None:
                        item.settle(
                            Outcome.REFUSED,
                            f"{value} is given {len(group)} times: refused as a duplicate",
                        )


def _refuse_same_licence(items: list[_Item]) -> None:
    """Two entries that turned out to be one licence (a ref and its number): refuse both."""
    by_ref: dict[str, list[_Item]] = {}
    for item in items:
        if item.ref is not None and item.outcome in (None, Outcome.ALREADY_DONE):
            by_ref.setdefault(item.ref, []).append(item)
    for ref, group in by_ref.items():
        if len(group) > 1:
            given = " and ".join(item.target.label() for item in group)
            for item in group:
                item.settle(Outcome.REFUSED, f"{given} are the same licence {ref}: duplicate")


def _close_out(items: list[_Item], error: BotError) -> None:
    """Give every licence without an outcome one, saying the run stopped."""
    outcome = Outcome.REFUSED if isinstance(error, BusinessError) else Outcome.FAILED
    for item in items:
        if item.outcome is not None:
            continue
        if item.submissions:
            item.settle(Outcome.FAILED, f"Valider was clicked but the result is unknown: {error}")
        else:
            item.settle(outcome, f"not attempted: {error}")
