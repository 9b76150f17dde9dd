"""The dissociation workflow: plan every licence, confirm once, act per dialog, verify.

    run(request)
    ├── plan     find the service (exactly one exact ref, MetaCentrex, « Actif »), then
    │            each licence (plan.Planner); refuse duplicates, unknown licences and
    │            number mismatches; all or nothing unless `request.skip_refused`
    ├── confirm  once, before the first « Valider », for the whole plan (every tab, every
    │            number, keep or release), with the first dialog's own warning paragraphs
    ├── act      per tab and results page (submission.Submitter): tick, Actions >
    │            « Dissocier vos numéros », « Conserver le numéro » per number, read the
    │            dialog back, screenshot, « Valider » once (dry run: Annuler instead)
    └── verify   one search reads the dialog's licences back (verification.Verifier)

Each module does one part; this one only chains them and keeps the run's record. The
session is handled by driver.PortalDriver: every read step survives an expired session
or a failing portal. « Valider » is never part of a redone step: a refusal is final, and
only a lost answer, after a fresh read shows the number unchanged, sends it once more.

A signal (interrupts.StopSignal) stops the run at the next safe point: between steps,
before « Valider », or right after its answer has been read — never in between.
"""

from __future__ import annotations

from functools import partial

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from pydantic import SecretStr

from myopenip_bot.driver import RENEW_PAGE_EVERY, PortalDriver, first_line
from myopenip_bot.errors import BotError, Interrupted, TechnicalError, error_kind
from myopenip_bot.hooks import NoHooks, RunnerHooks
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.models import (
    Confirmation,
    DissociationRequest,
    Outcome,
    RunResult,
    Tab,
)
from myopenip_bot.pages import DissociationDialog
from myopenip_bot.plan import (
    TAB_ORDER,
    Item,
    Planner,
    refuse_repeated_targets,
    refuse_same_licence,
    skip_all_when_any_refused,
)
from myopenip_bot.selectors import Selectors
from myopenip_bot.submission import Submitter
from myopenip_bot.verification import Verifier, settle_unread

__all__ = ["Runner"]

log = structlog.get_logger(__name__)


class Runner:
    """Drives the portal through one `DissociationRequest` at a time; see the module docstring.

    `run` returns a RunResult in which every requested licence has an outcome: done,
    already done, would do (dry run), refused (why), not confirmed, not attempted
    (skipped: why), failed (why) or unknown (« Valider » clicked, answer never read). A
    licence refused when planning never raises: the run records it and, unless the
    request says `skip_refused`, does nothing else. `RunResult.warnings` holds the
    dialog's warning paragraphs, `status_messages` the portal's "Numéro(s) dissocié(s) : N".

    Run-level failures raise, with `error.result` holding the RunResult so far (with
    `error_kind` set): AuthenticationError (login refused: never retried),
    ServiceNotFoundError / ServiceNotActiveError, ReadBackMismatchError (the dialog was
    cancelled, nothing of that dialog changed), TechnicalError (5xx, timeouts, network,
    a session that keeps expiring), Interrupted (a signal; `result.interrupted` is set).

    Hooks: every login runs on the page `hooks.logging_in(page)` yields; screenshots are
    named "dialog-before-valider", "verification" and, in a dry run, "dialog-dry-run";
    `hooks.confirm(confirmation)` is asked once per run, never in a dry run. `run` sets
    the page's default timeout to `timeout_ms`.
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
        stop: StopSignal | None = None,
        renew_page_every: int = RENEW_PAGE_EVERY,
    ) -> None:
        self.selectors = selectors
        self.hooks: RunnerHooks = hooks if hooks is not None else NoHooks()
        self.timeout_ms = timeout_ms
        self.stop = stop if stop is not None else StopSignal()
        self.driver = PortalDriver(
            page,
            selectors,
            base_url=base_url,
            username=username,
            password=password,
            hooks=self.hooks,
            timeout_ms=timeout_ms,
            stop=self.stop,
            renew_page_every=renew_page_every,
        )
        self.planner = Planner(self.driver)
        self.submitter = Submitter(self.driver, selectors)
        self.verifier = Verifier(self.driver)

    @property
    def page(self) -> Page:
        """The page the run is on (the driver may move to a new one; see RENEW_PAGE_EVERY)."""
        return self.driver.page

    @property
    def logins(self) -> int:
        """Logins made during the last run."""
        return self.driver.logins

    # -- the run ----------------------------------------------------------------------

    def run(self, request: DissociationRequest) -> RunResult:
        """Plan, confirm, act, verify; see the class docstring for what raises."""
        self.page.set_default_timeout(self.timeout_ms)
        self.driver.start(request.service_ref)
        items = [
            Item(
                index,
                target,
                keep=request.keep_number if target.keep is None else target.keep,
                submissions=target.submitted,
                listener=self.hooks.settled,
            )
            for index, target in enumerate(request.targets)
        ]
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
            refuse_repeated_targets(items)
            self.driver.step("opening the portal", self.driver.open_portal)
            self.driver.step(f"finding the service {request.service_ref}", self.driver.open_service)
            result.service = self.driver.service
            self.planner.plan_all(items)
            refuse_same_licence(items)
            for item in items:
                if item.outcome is None:
                    self.hooks.planned(item.planned())
            if not request.skip_refused:
                result.error = skip_all_when_any_refused(items)
            planned = [item for item in items if item.outcome is None]
            self._act(request, planned, result)
        except PlaywrightError as error:  # a browser failure no page object anticipated
            stop = TechnicalError(f"{self.driver.current_step}: {first_line(error)}")
            self._stop(items, result, stop)
            raise stop from None
        except BotError as error:
            self._stop(items, result, error)
            raise
        except Exception as error:  # a screen no page object could read: never a traceback
            log.exception("unexpected_error", step=self.driver.current_step)
            stop = TechnicalError(
                f"{self.driver.current_step}: unexpected {type(error).__name__}: "
                f"{first_line(error)}"
            )
            self._stop(items, result, stop)
            raise stop from None
        finally:
            result.service = result.service or self.driver.service
        result.results = [item.as_result() for item in items]
        log.info("run_finished", service=request.service_ref, counts=result.counts)
        return result

    def _stop(self, items: list[Item], result: RunResult, error: BotError) -> None:
        """Record a run-level failure: every licence gets an outcome; the error the result."""
        for item in items:
            if item.outcome is not None:
                continue
            if item.submissions:
                item.settle(
                    Outcome.UNKNOWN,
                    f"Valider was clicked but the outcome was not read ({error}): rerun to settle",
                )
            else:
                item.settle(Outcome.SKIPPED, f"not attempted: {error}")
        result.results = [item.as_result() for item in items]
        result.error = str(error)
        result.error_kind = error_kind(error)
        result.error_type = type(error).__name__
        if isinstance(error, Interrupted):
            result.interrupted = error.signum
        error.result = result
        log.error("run_stopped", error=str(error), error_type=type(error).__name__)

    # -- act --------------------------------------------------------------------------

    def _act(self, request: DissociationRequest, planned: list[Item], result: RunResult) -> None:
        confirmed = False
        for tab in TAB_ORDER:
            todo = [item for item in planned if item.tab is tab]
            while todo:
                dialog, batch = self.driver.step(
                    f"preparing the dissociation in {tab.value}",
                    partial(self.submitter.prepare, tab, todo),
                )
                todo = [item for item in todo if item.outcome is None and item not in batch]
                if dialog is None:
                    continue
                warnings = dialog.warnings()  # this dialog's own paragraphs, word for word
                result.warnings.extend(text for text in warnings if text not in result.warnings)
                if request.dry_run:
                    self.hooks.screenshot(self.page, "dialog-dry-run")
                    self.submitter.cancel(dialog)
                    for item in batch:
                        item.settle(Outcome.WOULD_DO, "dry run: the dialog listed it; Annuler")
                    continue
                shot = self.hooks.screenshot(self.page, "dialog-before-valider")
                if not confirmed:
                    if not self._confirm(planned, warnings, dialog, result):
                        return
                    confirmed = True
                self.stop.check()  # the last safe point before « Valider »
                self.hooks.before_valider([item.planned() for item in batch], shot)
                todo += self._submit(tab, batch, dialog, result)

    def _confirm(
        self,
        planned: list[Item],
        warnings: list[str],
        dialog: DissociationDialog,
        result: RunResult,
    ) -> bool:
        """Ask once for the whole plan; on no, Annuler and settle every licence not confirmed."""
        assert self.driver.service is not None
        waiting = sorted(
            (item for item in planned if item.outcome is None),
            key=lambda item: (TAB_ORDER.index(item.tab or TAB_ORDER[0]), item.index),
        )
        confirmation = Confirmation(
            service=self.driver.service,
            licences=tuple(item.planned() for item in waiting),
            warnings=tuple(warnings),
        )
        if self.hooks.confirm(confirmation):
            log.info("dissociation_confirmed", licences=[item.ref for item in waiting])
            return True
        log.info("dissociation_not_confirmed", licences=[item.ref for item in waiting])
        self.submitter.cancel(dialog)
        for item in waiting:
            item.settle(Outcome.NOT_CONFIRMED, "not confirmed: Annuler clicked, nothing changed")
        return False

    def _submit(
        self, tab: Tab, batch: list[Item], dialog: DissociationDialog, result: RunResult
    ) -> list[Item]:
        """Click « Valider » once, then verify. Returns the licences to submit once more."""
        answer = self.submitter.valider(dialog, batch)
        if answer.status is not None:
            result.status_messages.append(answer.status)
            self._check_count(answer.status, len(batch))
        if self.stop.requested:  # a safe point: the answer has been read
            assert self.stop.signum is not None
            settle_unread(batch, answer, "the run was interrupted")
            raise Interrupted(self.stop.signum)
        now = None
        shown = self.submitter.results
        if answer.confirmed and shown is not None:
            now = self.driver.step(
                f"reading the refreshed results in {tab.value}",
                lambda: self.verifier.read_refreshed(shown, batch),
            )
        if now is None:
            now = self.driver.step(
                f"verifying in {tab.value}", lambda: self.verifier.read(tab, batch)
            )
        self.hooks.screenshot(self.page, "verification")
        return self.verifier.settle(batch, answer, now)

    def _check_count(self, status: str, expected: int) -> None:
        match = self.selectors.texts.status_dissociated.search(status)
        if match is None or int(match["count"]) != expected:
            log.warning("status_count_unexpected", status=status, expected=expected)
