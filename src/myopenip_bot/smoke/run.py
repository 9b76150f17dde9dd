"""Run the smoke checks in a session of the bot's own: a fresh login, traces on failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from myopenip_bot.browser.session import BotSession
from myopenip_bot.config.selectors import Selectors
from myopenip_bot.config.settings import Settings
from myopenip_bot.errors import BotError
from myopenip_bot.smoke.checks import CheckResult, SmokeWalk, Status
from myopenip_bot.smoke.guard import NetworkGuard

__all__ = ["SmokeResult", "run_smoke"]


@dataclass
class SmokeResult:
    checks: list[CheckResult]
    run_dir: Path | None = None
    unreachable: BotError | None = None  # the portal could not be reached
    refused: BotError | None = None  # the portal refused the login
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.counts = {s.value: sum(c.status is s for c in self.checks) for s in Status}

    @property
    def passed(self) -> bool:
        return not any(check.status is Status.FAILED for check in self.checks)


def run_smoke(
    settings: Settings,
    selectors: Selectors,
    *,
    service: str | None = None,
    licence: str | None = None,
) -> SmokeResult:
    """Walk every screen read-only on the portal at `settings.base_url`."""
    settings.require_credentials()
    session = BotSession(settings, label="smoke", reuse_login=False)
    with session:
        guard = NetworkGuard(session.context)
        portal = session.portal(selectors)
        walk = SmokeWalk(
            session.page,
            selectors,
            base_url=settings.base_url,
            log_in=portal.log_in,
            screenshot=lambda name: _shot(session, name),
            guard=guard.install,
            guard_violations=lambda: list(guard.violations),
            allow_one_write=guard.allow_one,
            timeout_ms=settings.timeout_ms,
            service=service,
            licence=licence,
        )
        checks = walk.run()
        session.failed = any(check.status is Status.FAILED for check in checks)
    return SmokeResult(
        checks=checks, run_dir=session.kept_dir, unreachable=walk.unreachable, refused=walk.refused
    )


def _shot(session: BotSession, name: str) -> None:
    session.screenshot(session.page, name)
