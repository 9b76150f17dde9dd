"""The dissociation workflow: plan every licence, confirm once, act per dialog, verify.

    run(request)
    ├── plan     find the service (exactly one exact ref, MetaCentrex, « Actif »), then
    │            each licence (plan.Planner); refuse duplicates, unknown licences and
    │            number mismatches; all or nothing unless `request.skip_refused`
    ├── confirm  once, before the first « Valider », for the whole plan (every tab, every
    │            number, keep or release), with the first dialog's own warning paragraphs
    ├── act      per tab and results page (submit.Submitter): tick, Actions >
    │            « Dissocier vos numéros », « Conserver le numéro » per number, read the
    │            dialog back, screenshot, « Valider » once (dry run: Annuler instead)
    └── verify   the refreshed results, or one search, read the licences back; a
                 dissociation the portal accepted and does not show yet is read again
                 until it does or MYOPENIP_COMPLETION_TIMEOUT passes (verify.py)

Data flows one way: the runner asks the planner for a plan, the submitter for a dialog
and then an answer, the verifier for outcomes; each returns new licence tasks, which the
runner records (and tells its observer). « Valider » is never part of a redone step: a
refusal is final, and only a lost answer (a 5xx, a timeout, a cut connection), after a
backoff and a fresh read that show the number unchanged, sends it once more — a few times
a run (rules.RESUBMISSIONS_PER_RUN), then the licence is unknown and the next run reads
it again: a technical failure never makes a licence failed. What the portal accepted is
kept in the bot's own records (accepted.py) until the listing shows it: no run ever sends
it again meanwhile.

A signal (interrupts.StopSignal) stops the run at the next safe point: between steps,
before « Valider », or right after its answer has been read — never in between.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

import structlog
from playwright.sync_api import Page

from myopenip_bot.dissociation import rules
from myopenip_bot.dissociation.accepted import AcceptedRecords
from myopenip_bot.dissociation.observer import Confirm, Observer, always_yes
from myopenip_bot.dissociation.options import Options, open_options
from myopenip_bot.dissociation.plan import Planner
from myopenip_bot.dissociation.submit import Prepared, Submitter
from myopenip_bot.dissociation.verify import Verifier
from myopenip_bot.errors import (
    BotError,
    BrowserFailure,
    Interrupted,
    PlanRefusedError,
    ReadBackMismatchError,
    ServiceNotFoundError,
    TechnicalError,
    error_kind,
    first_line,
)
from myopenip_bot.failures import translating
from myopenip_bot.ledger import Entry, Ledger, LedgerError, portal_key
from myopenip_bot.lookup.finder import Finder
from myopenip_bot.lookup.rules import ListedLicence, holder
from myopenip_bot.models import (
    Confirmation,
    DissociationRequest,
    ErrorKind,
    LicenceTask,
    Outcome,
    RunResult,
    Tab,
)
from myopenip_bot.portal.listings import Listings
from myopenip_bot.portal.portal import Portal

__all__ = ["Runner", "Screenshot"]

log = structlog.get_logger(__name__)

#: Keeps a screenshot of the page, e.g. "dialog-before-valider"; says where it went.
Screenshot = Callable[[Page, str], "Path | None"]


def _no_screenshot(page: Page, name: str) -> Path | None:
    return None


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
    ServiceNotFoundError / ServiceNotActiveError, ReadBackMismatchError (a dialog was not
    the plan and was cancelled; with `skip_refused` its licences are refused alone and the
    run goes on), TechnicalError (5xx, timeouts, network, a session that keeps expiring,
    a screen no page object could read), Interrupted (a signal; `result.interrupted`).

    Screenshots are named "dialog-before-valider", "verification" and, in a dry run,
    "dialog-dry-run"; `confirm` is asked once per run, never in a dry run. `ledger`, when
    given, is read when planning: what the bot dissociated earlier, the evidence that a
    number no licence holds any more is done (without it, such a number is refused).
    """

    def __init__(
        self,
        portal: Portal,
        *,
        observer: Observer | None = None,
        confirm: Confirm = always_yes,
        screenshot: Screenshot = _no_screenshot,
        ledger: Ledger | None = None,
        read_options: bool = False,
    ) -> None:
        self.portal = portal
        self.ledger = ledger
        # A person's few licences: their options read from their own pages before the
        # confirmation (options.with_options); a batch does without (speed).
        self.read_options = read_options
        self.observer = observer if observer is not None else Observer()
        self.confirm = confirm
        self.screenshot = screenshot
        self.listings = Listings(portal)
        self.planner = Planner(self.listings, self._evidence)
        self.submitter = Submitter(self.listings, portal.selectors)
        self.verifier = Verifier(self.listings)
        self.records = AcceptedRecords(portal.settings.accepted_file, portal.settings.base_url)

    @property
    def page(self) -> Page:
        """The page the run is on (the portal may move to a new one: RENEW_PAGE_EVERY)."""
        return self.portal.page

    # -- the run ----------------------------------------------------------------------

    def run(self, request: DissociationRequest) -> RunResult:
        """Plan, confirm, act, verify; see the class docstring for what raises."""
        self.portal.start_run()
        record = _Record(
            [
                LicenceTask(
                    index=index,
                    target=target,
                    keep=request.keep_number if target.keep is None else target.keep,
                    submissions=target.submitted,
                )
                for index, target in enumerate(request.targets)
            ],
            self.observer,
        )
        result = RunResult(
            service_ref=request.service_ref,
            keep_number=request.keep_number,
            dry_run=request.dry_run,
            ended_options=self.portal.selectors.texts.ended_options,
        )
        log.info(
            "run_started",
            service=request.service_ref,
            targets=len(request.targets),
            keep_number=request.keep_number,
            dry_run=request.dry_run,
        )
        options: Options | None = None
        try:
            with translating():  # what no page object translated
                record.update(rules.refuse_repeated(record.tasks))
                self.portal.step("opening the portal", self.portal.open_portal)
                if request.client:
                    result.service_ref = self._resolve(request.client, record.tasks)
                self.listings.start(result.service_ref)
                self.listings.step(
                    f"finding the service {result.service_ref}", self.listings.open_service
                )
                # as the portal writes it (a ref is given in any case)
                result.service = self.listings.service
                if result.service is not None:
                    result.service_ref = result.service.ref
                    self.observer.service_found(result.service)
                earlier = self.records.earlier()
                numbers = {ref: accepted.number for ref, accepted in earlier.items()}
                record.update(rules.with_earlier(record.tasks, numbers))
                record.update(self.planner.plan(record.tasks))
                self.records.forget(rules.no_longer_accepted(record.tasks, earlier))
                record.update(rules.refuse_same_licence(record.tasks))
                for task in record.tasks:
                    if task.planned:
                        self.observer.planned(task)
                if not request.skip_refused:
                    tasks, refused = rules.all_or_nothing(record.tasks)
                    record.update(tasks)
                    if refused is not None:  # reported, not raised: every outcome is known
                        result.error, result.error_type = refused, PlanRefusedError.__name__
                        result.error_kind = ErrorKind.BUSINESS
                if self.read_options and not result.error:
                    # Opened now, loading while the first dialog is prepared; read before
                    # the confirmation (`_act`).
                    options = open_options(self.listings, record.tasks)
                try:
                    self._act(request, record, result, options)
                finally:
                    if options is not None:
                        options.close()
                if not request.dry_run and not result.error:
                    self._await_earlier(record)
        except BrowserFailure as failure:
            # The step's own, or one no page object anticipated (then named by the step).
            stop = (
                failure
                if failure.step
                else TechnicalError(f"{self.portal.current_step}: {failure.why}")
            )
            self._stop(record, result, stop)
            raise stop from None
        except BotError as error:
            self._stop(record, result, error)
            raise
        except Exception as error:  # a screen no page object could read: never a traceback
            log.exception("unexpected_error", step=self.portal.current_step)
            stop = TechnicalError(
                f"{self.portal.current_step}: unexpected {type(error).__name__}: "
                f"{first_line(error)}"
            )
            self._stop(record, result, stop)
            raise stop from None
        finally:
            result.service = result.service or self.listings.service
        result.results = record.tasks
        log.info("run_finished", service=result.service_ref, counts=result.counts)
        return result

    def _resolve(self, client: str, tasks: list[LicenceTask]) -> str:
        """The one MetaCentrex service « Actif » of `client` that holds every licence or
        number asked (its only one, or the one whose listings hold them all); refused
        (ServiceNotFoundError) naming the candidates otherwise. Only reads."""
        finder = Finder(self.portal, opened=True, listings=self.listings)
        (name, account), services = finder.client_services(client)
        texts = self.portal.selectors.texts
        candidates = [
            s
            for s in services
            if s.type == texts.service_type_with_licences and s.state == texts.service_state_active
        ]
        if not candidates:
            listed = ", ".join(f"{s.ref} ({s.type}, {s.state})" for s in services) or "none"
            raise ServiceNotFoundError(
                f"the client {name} ({account}) has no {texts.service_type_with_licences} "
                f"service « {texts.service_state_active} » (its services: {listed})"
            )
        if len(candidates) == 1:
            log.info("service_of_client", client=account, service=candidates[0].ref)
            return candidates[0].ref
        wanted = {
            t.target.licence_ref or t.target.number or t.target.user or "": t.target
            for t in tasks
            if t.outcome is None
        }
        found: dict[str, list[ListedLicence]] = {}
        for service in candidates:
            every = None  # a service's every licence, listed once for the users asked
            for key, target in wanted.items():
                if target.user is not None:
                    every = every if every is not None else finder.licences(service)
                    user = target.user
                    found.setdefault(key, []).extend(
                        listed for listed in every if rules.same_user(listed.user, user)
                    )
                    continue
                found.setdefault(key, []).extend(
                    finder.holding(
                        service,
                        ref=target.licence_ref,
                        number=None if target.licence_ref else target.number,
                    )
                )
        chosen, why = holder(sorted(wanted), found)
        if chosen is None:
            raise ServiceNotFoundError(f"the client {name} ({account}): {why}: refused")
        log.info("service_of_client", client=account, service=chosen.ref)
        return chosen.ref

    def _evidence(self, keys: Sequence[str]) -> Mapping[str, Entry]:
        """The ledger's record of the bot dissociating each of `keys` (numbers, licence
        refs) on the service being planned. It only tells a done number from a wrong
        one: a ledger that cannot be read is a warning, and such a number is refused."""
        if self.ledger is None:
            return {}
        try:
            return self.ledger.dissociations(
                portal_key(self.portal.settings.base_url), self.listings.service_ref, keys
            )
        except LedgerError as error:
            log.warning("ledger_not_read", ledger=self.ledger.name, error=str(error))
            return {}

    def _stop(self, record: _Record, result: RunResult, error: BotError) -> None:
        """Record a run-level failure: every licence gets an outcome; the error the result."""
        why = str(error)
        record.update([rules.stopped(task, why) for task in record.tasks])
        result.results = record.tasks
        result.error = str(error)
        result.error_kind = error_kind(error)
        result.error_type = type(error).__name__
        if isinstance(error, Interrupted):
            result.interrupted = error.signum
        error.result = result
        # A signal is a person's or a scheduler's choice, not a failure: the command says
        # it in its own words; the event stays in the run's events.jsonl. A technical
        # failure is a warning: a batch retries the service (a healthy night would
        # otherwise log an error), and what is left unsettled is the end's error.
        if isinstance(error, Interrupted):
            report = log.info
        elif isinstance(error, TechnicalError):
            report = log.warning
        else:
            report = log.error
        report("run_stopped", error=str(error), error_type=type(error).__name__)

    # -- act --------------------------------------------------------------------------

    def _act(
        self,
        request: DissociationRequest,
        record: _Record,
        result: RunResult,
        options: Options | None = None,
    ) -> None:
        """Per tab, per dialog: prepare, (once) read the licences' `options` and confirm,
        then « Valider » and verify (a dry run: Annuler)."""
        confirmed = False
        # The guide's order, the tab on screen first: each tab has its own dialog, and
        # the one the plan left on screen needs no click back to the other first.
        on_screen = self.listings.tab_on_screen()
        for tab in sorted(rules.TAB_ORDER, key=lambda tab: tab is not on_screen):
            todo = [task for task in record.tasks if task.planned and task.tab is tab]
            while todo:
                prepared = self.listings.step(
                    f"preparing the dissociation in {tab.value}",
                    partial(self.submitter.prepare, tab, todo),
                )
                record.update(prepared.settled)
                if prepared.mismatch is not None and not request.skip_refused:
                    raise ReadBackMismatchError(prepared.mismatch)
                in_dialog = {task.index for task in prepared.batch}
                todo = [
                    task
                    for task in record.current(todo)
                    if task.outcome is None and task.index not in in_dialog
                ]
                if prepared.dialog is None:
                    continue
                result.warnings.extend(w for w in prepared.warnings if w not in result.warnings)
                dialog = prepared.dialog
                if options is not None:  # read once, before anything is settled or asked
                    record.update(options.given(record.tasks))
                    todo = record.current(todo)
                    prepared = replace(prepared, batch=tuple(options.given(prepared.batch)))
                    options = None
                if request.dry_run:
                    shown = self.screenshot(self.page, "dialog-dry-run")
                    self.submitter.cancel(dialog)
                    would = "dry run: the dialog listed it; Annuler"
                    record.update(t.settle(Outcome.WOULD_DO, would, shown) for t in prepared.batch)
                    continue
                shot = self.screenshot(self.page, "dialog-before-valider")
                if not confirmed:
                    if not self._confirm(record, prepared):
                        return
                    confirmed = True
                self.portal.stop.check()  # the last safe point before « Valider »
                todo += self._submit(tab, prepared, shot, record, result)

    def _await_earlier(self, record: _Record) -> None:
        """Licences in progress since an earlier run (its « Valider » accepted, or the
        portal showing them at work) and still listed when planned: once this run has
        acted, read them again until they show done or the completion timeout passes.
        Nothing is clicked. Not after a person said no: they asked for nothing more."""
        if any(task.outcome is Outcome.NOT_CONFIRMED for task in record.tasks):
            return
        for tab in rules.TAB_ORDER:
            earlier = [
                task
                for task in record.tasks
                if task.outcome is Outcome.IN_PROGRESS and not task.accepted and task.tab is tab
            ]
            if earlier:
                record.update(self.verifier.await_earlier(tab, earlier))
                self.records.forget(
                    t.licence_ref or ""
                    for t in record.current(earlier)
                    if t.outcome is Outcome.DONE
                )
                self.portal.stop.check()  # a signal cut the wait: stop here

    def _confirm(self, record: _Record, prepared: Prepared) -> bool:
        """Ask once for the whole plan; on no, Annuler and settle every licence not confirmed."""
        assert self.listings.service is not None
        assert prepared.dialog is not None
        waiting = sorted(
            (task for task in record.tasks if task.planned),
            key=lambda task: (rules.TAB_ORDER.index(task.tab or Tab.UTILISATEURS), task.index),
        )
        confirmation = Confirmation(
            service=self.listings.service,
            licences=tuple(waiting),
            warnings=prepared.warnings,
            ended_options=self.portal.selectors.texts.ended_options,
        )
        refs = [task.licence_ref for task in waiting]
        if self.confirm(confirmation):
            log.info("dissociation_confirmed", licences=refs)
            return True
        log.info("dissociation_not_confirmed", licences=refs)
        self.submitter.cancel(prepared.dialog)
        no = "not confirmed: Annuler clicked, nothing changed"
        record.update(task.settle(Outcome.NOT_CONFIRMED, no) for task in waiting)
        return False

    def _submit(
        self,
        tab: Tab,
        prepared: Prepared,
        shot: Path | None,
        record: _Record,
        result: RunResult,
    ) -> list[LicenceTask]:
        """Click « Valider » once, then verify. Returns the licences to submit once more."""
        prepared = prepared.counted()
        # Told first: a record that cannot be written (the journal, the ledger) stops the
        # run here, nothing clicked, and its licences are not counted as clicked.
        self.observer.submitting(prepared.batch, shot)
        record.update(prepared.batch)
        submitted = self.submitter.valider(prepared)
        answer = submitted.answer
        if answer.confirmed:  # accepted: never sent again, whatever happens next
            submitted = replace(
                submitted, batch=tuple(replace(t, accepted=True) for t in submitted.batch)
            )
        record.update(submitted.batch)  # first: a failure from here on knows they were
        if answer.confirmed:
            self.records.accepted(self.listings.service_ref, submitted.batch, answer.status)
            self.observer.accepted(submitted.batch, answer.status)
        if answer.status is not None:
            result.status_messages.append(answer.status)
            self._check_count(answer.status, len(submitted.batch))
        if self.portal.stop.requested:  # a safe point: the answer has been read
            assert self.portal.stop.signum is not None
            record.update(rules.settle_unread(submitted.batch, answer, "the run was interrupted"))
            raise Interrupted(self.portal.stop.signum)
        verified = self.verifier.verify(tab, submitted, prepared.results)
        self.screenshot(self.page, "verification")
        record.update(verified.settled)
        done = [t.licence_ref or "" for t in verified.settled if t.outcome is Outcome.DONE]
        self.records.forget(done)
        for task in verified.again:
            log.info("resubmitting", licence=task.licence_ref, why=answer.problem)
        return list(verified.again)

    def _check_count(self, status: str, expected: int) -> None:
        match = self.portal.selectors.texts.status_dissociated.search(status)
        if match is None or int(match["count"]) != expected:
            log.warning("status_count_unexpected", status=status, expected=expected)


# Outcomes settled at once beyond this are logged as one event (the journal has each).
_LOGGED_ONE_BY_ONE = 50


class _Record:
    """The run's licence tasks, by their place in the request: the latest of each, and
    the observer told of each outcome as it is recorded."""

    def __init__(self, tasks: Sequence[LicenceTask], observer: Observer) -> None:
        self._tasks = list(tasks)
        self._observer = observer

    @property
    def tasks(self) -> list[LicenceTask]:
        return list(self._tasks)

    def current(self, tasks: Iterable[LicenceTask]) -> list[LicenceTask]:
        """The latest record of each of `tasks`."""
        return [self._tasks[task.index] for task in tasks]

    def update(self, tasks: Iterable[LicenceTask]) -> None:
        """Keep these as the latest; tell the observer of those newly settled."""
        settled = []
        for task in tasks:
            before = self._tasks[task.index]
            if task is before or task == before:
                continue
            self._tasks[task.index] = task
            if task.outcome is not None and (task.outcome, task.reason) != (
                before.outcome,
                before.reason,
            ):
                settled.append(task)
        if len(settled) > _LOGGED_ONE_BY_ONE:  # a batch's thousands of rows: one event
            outcomes = Counter(task.outcome.value for task in settled if task.outcome)
            log.info("licences_settled", outcomes=dict(outcomes), first=settled[0].reason)
        else:
            for task in settled:
                assert task.outcome is not None
                log.info(
                    "licence_outcome",
                    target=task.target.label(),
                    licence=task.licence_ref,
                    outcome=task.outcome.value,
                    reason=task.reason,
                )
        if settled:
            self._observer.settled(settled)
