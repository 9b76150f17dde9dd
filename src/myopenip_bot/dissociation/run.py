"""One dissociation request end to end: a browser session, the portal, the runner."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from playwright.sync_api import Browser

from myopenip_bot.browser.session import BotSession
from myopenip_bot.config.logs import RunLog
from myopenip_bot.config.selectors import Selectors, load_selectors
from myopenip_bot.config.settings import Settings
from myopenip_bot.dissociation.observer import Confirm, Observer, Observers, always_yes
from myopenip_bot.dissociation.results import failure_result
from myopenip_bot.dissociation.runner import Runner
from myopenip_bot.errors import BotError
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.ledger import Ledger, open_ledger, portal_key
from myopenip_bot.ledger.observer import LedgerObserver, RunContext
from myopenip_bot.models import DissociationRequest, Outcome, RunResult

__all__ = ["run_dissociation"]

log = structlog.get_logger(__name__)


def run_dissociation(
    settings: Settings,
    request: DissociationRequest,
    *,
    selectors: Selectors | None = None,
    confirm: Confirm = always_yes,
    observer: Observer | None = None,
    browser: Browser | None = None,
    stop: StopSignal | None = None,
    on_step: Callable[[str], None] | None = None,
) -> RunResult:
    """Plan, confirm, act and verify `request` on the portal; keep the run's artifacts.

    Returns the result, its `trace_dir` the run folder. Run-level failures (and
    interruptions, when `stop` is installed for signals) raise a BotError whose `result`
    holds every licence's outcome and `run_dir` the run folder, once the trace is
    redacted and the browser closed.
    """
    selectors = selectors or load_selectors(settings.selectors_file)
    where = request.service_ref or f"client-{request.client}"
    label = f"dissociate-{where}" + ("-dry-run" if request.dry_run else "")
    # Before the browser: a ledger that cannot be opened stops the run with nothing done.
    ledger = open_ledger(settings.ledger.get_secret_value() if settings.ledger else None)
    run_log = RunLog()
    try:
        with run_log.bound():
            session = BotSession(settings, label=label, browser=browser, run_log=run_log)
            recorder = _ledger_observer(ledger, settings, request, session)
            told = Observers(recorder, observer) if observer is not None else recorder
            try:
                return _run(session, selectors, request, confirm, told, stop, on_step, ledger)
            finally:
                recorder.close()
    finally:
        run_log.close()
        ledger.close()


def _ledger_observer(
    ledger: Ledger, settings: Settings, request: DissociationRequest, session: BotSession
) -> LedgerObserver:
    """What writes this run's entries in the ledger (the service as asked, until found)."""
    context = RunContext.of(
        portal=portal_key(settings.base_url),
        portal_user=settings.username or "",
        command="dissociate",
        run_dir=session.run_dir.resolve(),
        dry_run=request.dry_run,
    )
    return LedgerObserver(ledger, context, service=request.service_ref)


def _run(
    session: BotSession,
    selectors: Selectors,
    request: DissociationRequest,
    confirm: Confirm,
    observer: Observer | None,
    stop: StopSignal | None,
    on_step: Callable[[str], None] | None,
    ledger: Ledger,
) -> RunResult:
    try:
        with session:
            runner = Runner(
                session.portal(selectors, stop, on_step),
                observer=observer,
                confirm=confirm,
                screenshot=session.screenshot,
                ledger=ledger,
                read_options=True,  # a person's few licences: what ends with them is said
            )
            try:
                result = runner.run(request)
            except BotError:
                session.failed = True
                raise
            session.failed = bool(result.error) or any(
                task.outcome not in _CLEAN for task in result.results
            )
    except BotError as exc:
        exc.run_dir = session.kept_dir
        if exc.result is None:  # it failed before the runner began (the browser, say)
            exc.result = failure_result(request, exc)
        exc.result.trace_dir = session.kept_dir
        log.error("run_failed", error=str(exc), error_type=type(exc).__name__)
        raise
    result.trace_dir = session.kept_dir
    return result


# Outcomes after which a run's trace is not kept with MYOPENIP_TRACE=retain-on-failure.
_CLEAN = frozenset({Outcome.DONE, Outcome.ALREADY_DONE, Outcome.WOULD_DO, Outcome.SKIPPED})
