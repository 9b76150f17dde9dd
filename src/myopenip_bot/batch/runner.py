"""`myopenip batch`: a file of rows done unattended, with a journal, resumable, in parallel.

    Batch.run()
    ├── the journal      opened, locked and loaded by run_batch: final rows skipped
    ├── the services     rows grouped by service; each service is one Runner request
    │                    (mixed « Conserver le numéro » in one dialog; rows refused alone);
    │                    fewer services than workers: a big service's rows are split in
    │                    parts (rules.split_work), each row in exactly one part, each part
    │                    its own request (its own dialog, holding only its own licences)
    ├── the workers      N threads, each with its own browser context (and Playwright
    │                    driver), each taking parts from a queue, biggest first; every worker
    │                    starts its browser at once, worker 1 logs in, the others wait
    │                    for that login only and take its cookies
    ├── the question     once, before the first « Valider »: the worker posts it to the
    │                    thread that called run() (the main thread: where signals land),
    │                    which asks and answers; Ctrl-C or Ctrl-D there is "no"
    ├── the failures     business refusals are final (a dialog that is not the plan
    │                    refuses its rows alone); a service that fails technically is
    │                    tried again under the retry policy (portal.retry); after
    │                    `max_failures` technical failures in a row the run stops
    └── the result       every row's state from the journal, for the reports

The journal is written by each worker's recorder (an Observer) from what its runner
reports: "planned" (with what the listing showed: number, licence type, user),
"submitting" (synced to disk before « Valider »), "in_progress" once the portal accepted
it, then the outcomes, as models.Outcome values (a dry run's with the screenshot of the
dialog it cancelled: the recorder takes the runner's screenshots). What the workers
reached goes to the batch through its one locked method, `_reached`. A rerun with the
same file and journal skips final rows and lets the runner settle the others by reading
the portal. A dry run writes a throwaway copy of the journal (run_batch opens it).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import structlog

from myopenip_bot.batch import rules
from myopenip_bot.batch.file import BatchRow
from myopenip_bot.batch.journal import Journal, JournalRow, Settlement, State
from myopenip_bot.batch.results import (
    BatchConfirmation,
    BatchOptions,
    BatchResult,
    BatchTotals,
    WorkSplit,
)
from myopenip_bot.browser.session import BotSession
from myopenip_bot.config.logs import RunLog
from myopenip_bot.config.selectors import Selectors
from myopenip_bot.config.settings import Settings
from myopenip_bot.dissociation.observer import Observer, Observers
from myopenip_bot.dissociation.runner import Runner
from myopenip_bot.errors import (
    AuthenticationError,
    BotError,
    BusinessError,
    DriftError,
    Interrupted,
    ServiceNotFoundError,
    TechnicalError,
    error_kind,
    first_line,
    signal_name,
)
from myopenip_bot.failures import best_effort
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.ledger import Ledger, portal_key
from myopenip_bot.ledger.observer import LedgerObserver, RunContext, ServiceLockedError
from myopenip_bot.models import Confirmation, DissociationRequest, LicenceTask, Outcome, Target
from myopenip_bot.pages import Navigation
from myopenip_bot.portal.portal import Portal
from myopenip_bot.portal.retry import DEFAULT_POLICY

# The batch's plain data (results.py) is named here too: where callers have found it.
__all__ = [
    "Batch",
    "BatchConfirmation",
    "BatchOptions",
    "BatchResult",
    "BatchTotals",
    "WorkSplit",
]

log = structlog.get_logger(__name__)

# Rows told at once beyond this are read in one go (the service's rows), not one by one.
_READ_ONE_BY_ONE = 50


class _Abort(Exception):
    """Stop every worker: the login was refused, or too many technical failures in a row."""


class _Question:
    """A confirmation a worker posted to the thread that runs the batch, and its answer."""

    def __init__(self, confirmation: Confirmation) -> None:
        self.confirmation = confirmation
        self.answer = False
        self.interrupted: int | None = None  # a signal came first: nothing was asked
        self.answered = threading.Event()


class Batch:
    """One run of a batch file; `run()` once."""

    def __init__(
        self,
        settings: Settings,
        options: BatchOptions,
        rows: list[BatchRow],
        journal: Journal,
        *,
        selectors: Selectors,
        stop: StopSignal,
        ask: Callable[[BatchConfirmation], bool] | None = None,
        on_rows: Callable[[list[JournalRow]], None] | None = None,
        on_split: Callable[[WorkSplit], None] | None = None,
        run_log: RunLog | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.settings = settings
        self.ledger = ledger  # every worker writes its entries there
        # Every worker's events in one file (the report's), when the caller gives the run's.
        self.run_log = run_log
        self.options = options
        self.file_rows = rows
        self._wanted = frozenset((row.service, row.licence) for row in rows)
        self._tickets = {(row.service, row.licence): row.ticket for row in rows if row.ticket}
        self.journal = journal
        self.selectors = selectors
        self.stop = stop
        self._ask = ask  # None: confirmed beforehand (--yes, or a dry run)
        self.policy = DEFAULT_POLICY
        self._on_rows = on_rows
        self._on_split = on_split
        self._confirm_lock = threading.Lock()
        self._answer: bool | None = None
        self._failures = 0  # technical failures in a row, over all workers
        self._failures_lock = threading.Lock()
        self._abort: BotError | None = None
        self._too_many_failures = False
        self._first_login = threading.Event()
        self._login_cookies: list[Any] | None = None  # worker 1's, for the others
        self._questions: queue.Queue[_Question] = queue.Queue()
        self._services: dict[str, str] = {}
        self._listed_services: list[str] | None = None  # the services list, once a run
        self._listing_lock = threading.Lock()
        # What the workers reached, written through `_reached` alone (under its lock).
        self._reached_lock = threading.Lock()
        self._reached_licences: set[str] = set()  # licences this run planned or settled
        self._would_do: set[str] = set()  # licences a dry run's dialogs listed

    # -- the run ----------------------------------------------------------------------

    def totals(self, rows: list[JournalRow]) -> BatchTotals:
        todo = [row for row in rows if not row.final]
        return BatchTotals(
            services=len({row.service for row in todo}),
            licences=len(todo),
            kept=sum(row.keep for row in todo),
            released=sum(not row.keep for row in todo),
        )

    def run(self, rows: list[JournalRow]) -> BatchResult:
        """Do every row of `rows` (the file's, as `journal.load` returned them) that is not
        final; the journal keeps what happened, row by row."""
        if self.journal.run_id is None:  # run_batch began it (Journal.begin): new or resumed
            self.journal.start_run(self.options.file)
        by_service: dict[str, list[str]] = {}
        for row in rows:
            if not row.final:
                by_service.setdefault(row.service, []).append(row.licence)
        log.info(
            "batch_started",
            file=str(self.options.file),
            rows=len(rows),
            todo=sum(len(group) for group in by_service.values()),
            services=len(by_service),
            workers=self.options.workers,
            dry_run=self.options.dry_run,
        )
        parts = rules.split_work(by_service, self.options.workers)
        services: queue.Queue[rules.WorkPart] = queue.Queue()
        for part in parts:
            services.put(part)
        workers = min(self.options.workers, len(parts))  # none when nothing is left
        self._said_split(WorkSplit(asked=self.options.workers, workers=workers, parts=parts))
        threads = [
            threading.Thread(
                target=self._worker, args=(n, services), name=f"batch-worker-{n}", daemon=True
            )
            for n in range(1, workers + 1)
        ]
        if not by_service:
            self._first_login.set()
        for thread in threads:
            thread.start()
        try:
            while any(thread.is_alive() for thread in threads):
                try:
                    question = self._questions.get(timeout=0.5)  # allowed: wakes for signals
                except queue.Empty:
                    continue
                self._answer_question(question)
        finally:
            self._answer_left_questions()
        for thread in threads:
            thread.join()
        return self._result()

    def _unreached(self) -> str | None:
        """Why rows the run never reached stay as they were, when it ended early."""
        if self._answer is False:
            return "not confirmed at the prompt: not read, nothing was done"
        if self.stop.signum is not None:
            return f"not reached: the run was interrupted by {signal_name(self.stop.signum)}"
        if self._abort is not None:
            return f"not reached: the run stopped ({first_line(self._abort)})"
        return None

    def outcome(self, row: JournalRow) -> State:
        """A row's outcome so far, as every output calls it (rules.outcome_of)."""
        with self._reached_lock:
            would_do = row.licence in self._would_do
        return rules.outcome_of(row.state, would_do=would_do, not_confirmed=self._answer is False)

    def _reached(self, licences: Iterable[str], would_do: Iterable[str] = ()) -> None:
        """Workers say here which licences they planned or settled, and which a dry run's
        dialog listed (any thread: under a lock)."""
        with self._reached_lock:
            self._reached_licences.update(licences)
            self._would_do.update(would_do)

    def _result(self) -> BatchResult:
        rows = [row for row in self.journal.rows() if (row.service, row.licence) in self._wanted]
        with self._reached_lock:  # the workers have ended: for form's sake
            would_do, reached = set(self._would_do), frozenset(self._reached_licences)
        result = BatchResult(
            rows=rows,
            dry_run=self.options.dry_run,
            would_do=would_do,
            not_confirmed=self._answer is False,
            interrupted=self.stop.signum,
            services=dict(self._services),
            unreached=self._unreached(),
            reached=reached,
            tickets=dict(self._tickets),
            ticket=self.options.ticket,
        )
        if self._abort is not None:
            result.error = str(self._abort)
            result.error_kind = error_kind(self._abort)
            result.error_type = type(self._abort).__name__
            result.stopped_after_failures = self._too_many_failures
        return result

    # -- a worker ---------------------------------------------------------------------

    def _said_split(self, split: WorkSplit) -> None:
        """How the rows are shared, in an event and to `on_split`, when it is worth saying:
        a service split between workers, or fewer workers than asked."""
        if not split.parts or (split.workers == split.asked and not split.split):
            return
        log.info(
            "work_split",
            asked=split.asked,
            workers=split.workers,
            parts=len(split.parts),
            split={service: list(sizes) for service, sizes in split.split.items()},
        )
        if self._on_split is not None:
            self._on_split(split)

    def _worker(self, number: int, services: queue.Queue[rules.WorkPart]) -> None:
        with self.run_log.bound() if self.run_log is not None else nullcontext():
            self._work(number, services)

    def _work(self, number: int, services: queue.Queue[rules.WorkPart]) -> None:
        try:
            self._serve(number, services)
        except _Abort:
            pass
        except Interrupted:
            pass
        except BotError as error:  # the browser could not start, or the like
            self._stop_all(error)
        except Exception as error:  # a bug must stop the run, not one worker silently
            log.exception("worker_crashed", worker=number)
            self._stop_all(TechnicalError(f"worker {number} crashed: {error}"))
        finally:
            if number == 1:  # logged in, or never will: the others wait no more
                self._first_login.set()

    def _serve(self, number: int, services: queue.Queue[rules.WorkPart]) -> None:
        # Each worker's screenshots and trace go in a folder of the report's.
        settings = self.settings.model_copy(update={"traces_dir": self.options.report_dir})
        session = BotSession(settings, label=f"worker-{number}", run_log=self.run_log)
        with session:  # every worker's browser starts now, while worker 1 logs in
            if number > 1:
                self._first_login.wait()
                if self._abort is not None:
                    return
                self._take_login(session, number)
            portal = session.portal(self.selectors, self.stop)
            recorder = _Recorder(self, session.screenshot)
            entries = self._ledger_observer()
            # The ledger first: its lock on the service, and its record, before the journal's
            observer = Observers(entries, recorder) if entries is not None else recorder
            runner = Runner(
                portal,
                observer=observer,
                confirm=self.confirm,
                screenshot=recorder.screenshot,
                ledger=self.ledger,
            )
            if number == 1:
                try:
                    portal.step("opening the portal", portal.open_portal)
                    self.journal.portal_answered(self.settings.base_url)  # bound to it now
                    self._give_login(session)
                except AuthenticationError as error:
                    self._stop_all(error)
                    raise _Abort() from None
                finally:
                    self._first_login.set()
            while self._abort is None and not self.stop.requested and self._answer is not False:
                try:
                    part = services.get_nowait()
                except queue.Empty:
                    return
                recorder.service = part.service
                if entries is not None:
                    entries.start_service(part.service)
                try:
                    self._do_service(runner, part)
                finally:
                    if entries is not None:
                        entries.close()  # its lock on the service let go
            if self._abort is not None or self._answer is False:
                session.failed = True

    def _ledger_observer(self) -> LedgerObserver | None:
        """What writes a worker's entries in the ledger (none without a ledger)."""
        if self.ledger is None:
            return None
        context = RunContext.of(
            portal=portal_key(self.settings.base_url),
            portal_user=self.settings.username or "",
            command="batch",
            run_dir=self.options.report_dir.resolve(),
            dry_run=self.options.dry_run,
            ticket=self.options.ticket,
        )
        return LedgerObserver(self.ledger, context)

    def _give_login(self, session: BotSession) -> None:
        """Worker 1 is logged in: its cookies, for the workers waiting for them."""
        # Failing, the others will log in themselves.
        self._login_cookies = best_effort(
            lambda: list(session.context.cookies()), [], event="login_not_handed_over"
        )

    def _take_login(self, session: BotSession, number: int) -> None:
        """Go on with worker 1's login (its cookies) rather than log in again."""
        if self._login_cookies:
            cookies = self._login_cookies

            def hand_over() -> bool:
                session.context.add_cookies(cookies)
                return True

            # Failing, it will log in itself when asked.
            if best_effort(hand_over, False, event="login_not_handed_over", worker=number):
                log.info("login_handed_over", worker=number)

    def _do_service(self, runner: Runner, part: rules.WorkPart) -> None:
        """The rows of `part` not final yet (a service's, or its share of a service split
        between workers: only these are ticked, only these in its dialog)."""
        service, mine = part.service, frozenset(part.licences)
        for attempt in range(1, self.policy.attempts + 1):
            rows = [
                row
                for row in self.journal.rows_of(service)
                if not row.final
                and row.licence in mine
                and (row.service, row.licence) in self._wanted
            ]
            if not rows:
                return
            request = DissociationRequest(
                service_ref=service,
                targets=tuple(
                    Target(
                        licence_ref=row.licence,
                        number=row.number,
                        keep=row.keep,
                        submitted=row.submissions,
                        accepted=row.planned_number if row.state == Outcome.IN_PROGRESS else None,
                        ticket=self._tickets.get((row.service, row.licence), ""),
                    )
                    for row in rows
                ),
                keep_number=False,  # each row says its own
                dry_run=self.options.dry_run,
                skip_refused=True,  # a batch row is refused alone, a dialog's rows too
            )
            try:
                result = runner.run(request)
            except (AuthenticationError, DriftError) as error:
                # A refused login, or a portal that differs from selectors/: every other
                # service would meet it too. Stop at once; the journal keeps the rows.
                self._stop_all(error)
                raise _Abort() from None
            except Interrupted:
                raise
            except ServiceLockedError as error:
                # Another machine acts on it (the team ledger's lock): nothing was clicked,
                # its rows stay to do; the next run does them. Not a failure of the portal.
                log.warning("service_locked", service=service, error=str(error))
                return
            except BusinessError as error:  # the service itself: not found, not « Actif »
                reason = str(error)
                if isinstance(error, ServiceNotFoundError):
                    reason += self._closest(runner.portal, service)
                self.journal.refuse(service, [row.licence for row in rows], reason)
                self._tell(service, [row.licence for row in rows])
                self._succeeded()
                return
            except TechnicalError as error:
                self._failed(error)
                if attempt == self.policy.attempts or self._abort is not None:
                    return
                log.warning(
                    "service_retried",
                    service=service,
                    attempt=attempt + 1,
                    attempts=self.policy.attempts,
                    error=str(error),
                )
                self.policy.wait(attempt, self.stop)
                continue
            if result.service is not None:
                self._services[service] = result.service.client
                self.journal.set_service(
                    service, name=result.service.name, client=result.service.client
                )
            self._succeeded()
            return

    def _closest(self, portal: Portal, service: str) -> str:
        """ "; the closest refs the services list shows: …" for an unknown service (the
        list is read once a run, by the first worker that needs it), or nothing."""
        with self._listing_lock:
            if self._listed_services is None:
                try:
                    rows = portal.step("listing the services", lambda: _list_services(portal))
                except (TechnicalError, DriftError) as error:
                    log.warning("services_not_listed", error=str(error))
                    return ""
                self._listed_services = [row.ref for row in rows]
            listed = self._listed_services
        closest = rules.closest_refs(service, listed)
        if not closest:
            return ""
        return f"; the closest refs the services list shows: {', '.join(closest)}"

    # -- failures and the confirmation --------------------------------------------------

    def _succeeded(self) -> None:
        with self._failures_lock:
            self._failures = 0

    def _failed(self, error: TechnicalError) -> None:
        with self._failures_lock:
            self._failures += 1
            failures = self._failures
        if failures >= self.options.max_failures and self._abort is None:
            self._too_many_failures = True
            self._stop_all(
                TechnicalError(
                    f"{failures} technical failures in a row (the last: {error}); the run "
                    "stopped, the journal is ready: run the same command again to resume"
                )
            )

    def _stop_all(self, error: BotError) -> None:
        if self._abort is None:
            self._abort = error
            log.error("batch_stopping", error=str(error), error_type=type(error).__name__)

    def confirm(self, confirmation: Confirmation) -> bool:
        """Once per run, whatever the worker: asked by the thread that runs the batch
        (signals land there: Ctrl-C at the prompt is "no"), this one waiting for it. A
        signal before the question is asked stops the run here, before any « Valider »."""
        with self._confirm_lock:
            if self._answer is None:
                if self._ask is None:
                    self._answer = True
                else:
                    question = _Question(confirmation)
                    self._questions.put(question)
                    question.answered.wait()
                    if question.interrupted is not None:
                        raise Interrupted(question.interrupted)
                    self._answer = question.answer
            return self._answer

    def _answer_question(self, question: _Question) -> None:
        """Ask a person (in this thread, the one that runs the batch) and answer."""
        try:
            if self.stop.signum is not None:
                question.interrupted = self.stop.signum
                return
            assert self._ask is not None
            rows = self.journal.rows()
            mine = tuple(row for row in rows if (row.service, row.licence) in self._wanted)
            question.answer = self._ask(
                BatchConfirmation(
                    totals=self.totals([row for row in mine if row.state != Outcome.REFUSED]),
                    warnings=question.confirmation.warnings,
                    rows=mine,
                    run=self.journal.run_id,
                )
            )
        finally:
            question.answered.set()

    def _answer_left_questions(self) -> None:
        """The run is ending (or its thread raised): no worker waits for an answer."""
        while True:
            try:
                question = self._questions.get_nowait()
            except queue.Empty:
                return
            question.interrupted = self.stop.signum
            question.answer = False
            question.answered.set()

    def _tell(self, service: str, licences: list[str], would_do: Iterable[str] = ()) -> None:
        """These rows were settled (`would_do`: listed by a dry run's dialog); `on_rows`
        gets them as the journal now has them: read one by one, or in one read of the
        service when they are many (a stopped batch settles 200,000)."""
        self._reached(licences, would_do)
        if self._on_rows is None or not licences:
            return
        if len(licences) <= _READ_ONE_BY_ONE:
            found = [self.journal.row(service, licence) for licence in licences]
            rows = [row for row in found if row is not None]
        else:
            wanted = set(licences)
            rows = [row for row in self.journal.rows_of(service) if row.licence in wanted]
        self._on_rows(rows)


class _Recorder(Observer):
    """One worker's observer, and the taker of its runner's screenshots: the journal
    records what the runner reports, as it reports it (the service is the one the worker
    is on); the batch is told what was reached. Used by its worker's thread alone."""

    def __init__(self, batch: Batch, take: Callable[[Any, str], Path | None]) -> None:
        self.batch = batch
        self.journal = batch.journal
        self.service = ""
        self._take = take

    def screenshot(self, page: Any, name: str) -> Path | None:
        """The runner's screenshot, named after the service."""
        return self._take(page, f"{self.service}-{name}")

    def planned(self, task: LicenceTask) -> None:
        self.batch._reached([task.licence_ref or ""])
        # A dry run's journal is a throwaway copy: it records the plan too.
        self.journal.planned(
            self.service,
            task.licence_ref or "",
            task.number,
            task.tab.value if task.tab else None,
            licence_type=task.type or None,
            user=task.user,
        )

    def submitting(self, tasks: Sequence[LicenceTask], screenshot: Path | None) -> None:
        self.journal.submitting(
            self.service,
            [task.licence_ref or "" for task in tasks],
            str(screenshot) if screenshot else None,
        )

    def accepted(self, tasks: Sequence[LicenceTask], status: str | None) -> None:
        said = f"« {status} »" if status else "the portal's answer"
        reason = f"accepted ({said}); the listing is being read back"
        self.journal.settle(
            self.service,
            [
                Settlement(
                    task.licence_ref or "",
                    Outcome.IN_PROGRESS,
                    reason=reason,
                    answer=status,
                    submissions=task.submissions,
                )
                for task in tasks
            ],
        )

    def settled(self, tasks: Sequence[LicenceTask]) -> None:
        stopped = self.batch.stop.signum is not None
        settlements = []
        would_do = []
        for task in tasks:
            if stopped and task.outcome is Outcome.SKIPPED and task.licence_ref is None:
                continue  # a signal came before it was found: not reached (BatchResult.reason)
            licence = task.licence_ref or task.target.licence_ref or ""
            assert task.outcome is not None
            if task.outcome is Outcome.WOULD_DO:
                would_do.append(licence)
            settlements.append(
                Settlement(
                    licence,
                    task.outcome,
                    reason=task.reason or task.outcome.value,
                    number=task.number,
                    tab=task.tab.value if task.tab else None,
                    answer=_answer(task),
                    submissions=task.submissions,
                    licence_type=task.type or None,
                    # what the listing showed; an empty « Utilisateur » (a licence freed
                    # since) never wipes the name an earlier run read
                    user=(task.user or None) if task.licence_ref else None,
                    screenshot=str(task.evidence) if task.evidence else None,
                )
            )
        self.journal.settle(self.service, settlements)
        self.batch._tell(self.service, [row.licence for row in settlements], would_do)


def _list_services(portal: Portal) -> list[Any]:
    """Every service the list « Paramétrage / Monitoring » shows, unfiltered."""
    navigation = Navigation(portal.page, portal.selectors, timeout_ms=portal.timeout_ms)
    return list(navigation.open_services().search(""))


def _answer(task: LicenceTask) -> str | None:
    """The portal's own words about a row, when it said any (a refusal after « Valider »)."""
    reason = task.reason or ""
    if "« " in reason and task.outcome in (Outcome.REFUSED, Outcome.DONE):
        return reason
    return None
