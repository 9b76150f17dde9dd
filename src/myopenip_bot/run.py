"""Run one dissociation request end to end: session, runner, artifacts, result file."""

from __future__ import annotations

from pathlib import Path

import structlog
from playwright.sync_api import Browser

from myopenip_bot.errors import BotError
from myopenip_bot.models import DissociationRequest, RunResult
from myopenip_bot.report import exit_code, to_json
from myopenip_bot.selectors import Selectors, load_selectors
from myopenip_bot.session import BotSession, ConfirmFn, always_yes
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
) -> RunResult:
    """Plan, act and verify `request` on the portal; keep the run's artifacts per settings.

    Run-level failures raise a BotError whose `run_dir` names the kept artifacts.
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
            )
            try:
                result = runner.run(request)
            except BotError:
                session.failed = True
                raise
            session.failed = exit_code(result) != 0
    except BotError as exc:
        exc.run_dir = session.kept_dir
        if exc.result is not None:
            _keep_result(exc.result, session.kept_dir)
        log.error("run_failed", error=str(exc), error_type=type(exc).__name__)
        raise
    _keep_result(result, session.kept_dir)
    return result


def _keep_result(result: RunResult, run_dir: Path | None) -> None:
    """Record where the artifacts are, and write the result beside them."""
    result.trace_dir = run_dir
    if run_dir is not None:
        (run_dir / "result.json").write_text(to_json(result), encoding="utf-8")
