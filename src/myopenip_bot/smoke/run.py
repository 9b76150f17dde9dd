"""Run the smoke checks in a session of the bot's own: a fresh login, traces on failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from myopenip_bot.browser.session import BotSession
from myopenip_bot.config.selectors import Selectors
from myopenip_bot.config.settings import Settings, TraceMode
from myopenip_bot.errors import BotError, first_line
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.smoke.checks import CHECKS, CheckResult, Status
from myopenip_bot.smoke.walk import SmokeWalk, WalkOptions, smoke_walk

__all__ = ["SmokeResult", "not_run", "run_smoke"]


@dataclass
class SmokeResult:
    """Every check of CHECKS, in order, and what stopped the walk, if anything did."""

    checks: list[CheckResult]
    run_dir: Path | None = None
    #: what stopped the walk: the portal unreachable, a login refused (AuthenticationError)
    #: or unanswered, the browser that did not start
    error: BotError | None = None
    interrupted: int | None = None  # the signal that stopped the walk
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.counts = {s.value: sum(c.status is s for c in self.checks) for s in Status}

    @property
    def passed(self) -> bool:
        """Every check passed, or was skipped for a state the portal cannot show here."""
        return all(check.status in (Status.PASSED, Status.SKIPPED) for check in self.checks)

    @property
    def failed(self) -> list[CheckResult]:
        return [check for check in self.checks if check.status is Status.FAILED]

    @property
    def ran(self) -> list[CheckResult]:
        """The checks the walk reached (an interrupted walk's partial table)."""
        return [check for check in self.checks if check.ran]


def not_run(why: str) -> list[CheckResult]:
    """Every check as an error that says why it did not run."""
    return [CheckResult(spec, Status.ERROR, f"not run: {why}", ran=False) for spec in CHECKS]


def run_smoke(
    settings: Settings,
    selectors: Selectors,
    *,
    service: str | None = None,
    licence: str | None = None,
    stop: StopSignal | None = None,
    label: str = "smoke",
) -> SmokeResult:
    """Walk every screen read-only on the portal at `settings.base_url`.

    Whatever happens once the run folder exists (a browser that does not start, a
    signal), every check has a result: those that could not run are errors saying why.
    """
    settings.require_credentials()
    if "trace" not in settings.model_fields_set:
        # The smoke keeps its own evidence (a screenshot of each screen and of each failing
        # check's, the closest names, smoke.json, junit.xml). A Playwright trace records
        # every look of the walk, a third of its time: only when MYOPENIP_TRACE asks, as
        # with the pytest entry point's --tracing.
        settings = settings.model_copy(update={"trace": TraceMode.OFF})
    session = BotSession(settings, label=label, reuse_login=False, read_only=True)
    walk: SmokeWalk | None = None
    try:
        with session:
            portal = session.portal(selectors, stop)  # a signal cuts its retries' waits
            walk = smoke_walk(
                portal,
                WalkOptions(
                    service=service,
                    licence=licence,
                    screenshot=lambda name: session.screenshot(session.page, name),
                ),
            )
            checks = walk.run()
            session.failed = any(c.status in (Status.FAILED, Status.ERROR) for c in checks)
    except BotError as error:  # the browser did not start
        if walk is not None:
            raise
        return SmokeResult(not_run(first_line(error)), session.run_dir, error=error)
    return SmokeResult(
        checks=checks, run_dir=session.kept_dir, error=walk.error, interrupted=walk.interrupted
    )
