"""Run one dissociation request end to end: session, runner, artifacts, result file."""

from __future__ import annotations

from pathlib import Path

import structlog
from playwright.sync_api import Browser

from myopenip_bot.errors import BotError
from myopenip_bot.files import write_private
from myopenip_bot.hooks import ConfirmFn, always_yes
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.models import DissociationRequest, RunResult
from myopenip_bot.report import exit_code, failure_result, to_json
from myopenip_bot.selectors import Selectors, load_selectors
from myopenip_bot.session import BotSession
from myopenip_bot.settings import Settings
from myopenip_bot.workflow import Runner

log = structlog.get_logger(__name__)


def run_dissociation(
    settings: Settings,
    request: DissociationRequest,
    *,
    selectors: Selectors | None = None,
    confirm: ConfirmFn = always_yes,
    browser: Browser | None = None,
    stop: StopSignal | None = None,
) -> RunResult:
    """Plan, confirm, act and verify `request` on the portal; keep the run's artifacts.

    Run-level failures (and interruptions, when `stop` is installed for signals) raise a
    BotError whose `result` holds every licence's outcome and `run_dir` the run folder;
    `result.json` is written there in every case, after the trace is redacted and closed.
    """
    selectors = selectors or load_selectors(settings.selectors_file)
    username, password = settings.require_credentials()
    label = f"dissociate-{request.service_ref}" + ("-dry-run" if request.dry_run else "")
    session = BotSession(settings, label=label, browser=browser, confirm=confirm)
    try:
        with session:
            runner = Runner(
                session.page,
                selectors,
                base_url=settings.base_url,
                username=username,
                password=password,
                hooks=session,
                timeout_ms=settings.timeout_ms,
                stop=stop,
            )
            try:
                result = runner.run(request)
            except BotError:
                session.failed = True
                raise
            session.failed = exit_code(result) != 0
    except BotError as exc:
        exc.run_dir = session.kept_dir
        if exc.result is None:  # it failed before the runner began (the browser, say)
            exc.result = failure_result(request, exc)
        keep_result(exc.result, session.kept_dir)
        log.error("run_failed", error=str(exc), error_type=type(exc).__name__)
        raise
    keep_result(result, session.kept_dir)
    return result


def keep_result(result: RunResult, run_dir: Path | None) -> None:
    """Record where the artifacts are, and write the result beside them (owner only)."""
    result.trace_dir = run_dir
    if run_dir is not None and run_dir.is_dir():
        write_private(run_dir / "result.json", to_json(result))
