"""Fixtures of the smoke suite: the browser QA's pytest-playwright options ask for, one
read-only walk per run, its screenshots and (redacted) trace under --output."""

from __future__ import annotations

import os
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from myopenip_bot.browser.artifacts import redact_trace, screenshot
from myopenip_bot.browser.launch import find_browser
from myopenip_bot.browser.login import untraced_login
from myopenip_bot.config.selectors import load_selectors
from myopenip_bot.config.settings import load_settings
from myopenip_bot.portal.portal import Portal
from myopenip_bot.smoke.checks import CheckResult, SmokeWalk, Status
from myopenip_bot.smoke.guard import NetworkGuard


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, with a Chromium found the bot's way (its own,
    else the system's, else MYOPENIP_BROWSER_PATH) unless QA chose a channel."""
    if browser_type_launch_args.get("channel") or browser_type_launch_args.get("executable_path"):
        return browser_type_launch_args
    launch = find_browser(os.environ.get("MYOPENIP_BROWSER_PATH"))
    return {**browser_type_launch_args, **launch.as_kwargs()}


@pytest.fixture(scope="session")
def smoke_checks(
    browser: Browser, base_url: str | None, pytestconfig: pytest.Config
) -> dict[str, CheckResult]:
    """Walk every screen once; each test reads its own check's result."""
    overrides = {"base_url": base_url} if base_url else {}
    settings = load_settings(**overrides)
    _, password = settings.require_credentials()
    selectors = load_selectors(settings.selectors_file)
    output = Path(str(pytestconfig.getoption("--output"))) / "myopenip-smoke"
    output.mkdir(parents=True, exist_ok=True, mode=0o700)
    tracing = str(pytestconfig.getoption("--tracing"))
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(settings.timeout_ms)
    if tracing != "off":
        context.tracing.start(screenshots=True, snapshots=True, title="myopenip smoke")
    page = context.new_page()
    cookies: set[str] = set()

    def login_page(page: Page) -> AbstractContextManager[Page]:
        """The login on a page of a separate context that is never traced."""
        return untraced_login(lambda: browser.new_context(locale="fr-FR"), context, cookies.update)

    guard = NetworkGuard(context)
    portal = Portal(page, selectors, settings, login_page=login_page)
    walk = SmokeWalk(
        page,
        selectors,
        base_url=settings.base_url,
        log_in=portal.log_in,
        screenshot=lambda name: _screenshot(page, output / f"{name}.png"),
        guard=guard.install,
        guard_violations=lambda: list(guard.violations),
        allow_one_write=guard.allow_one,
        timeout_ms=settings.timeout_ms,
        service=os.environ.get("MYOPENIP_SMOKE_SERVICE"),
        licence=os.environ.get("MYOPENIP_SMOKE_LICENCE"),
    )
    try:
        checks = walk.run()
    finally:
        failed = any(check.status is Status.FAILED for check in walk.results.values())
        if tracing == "on" or (tracing == "retain-on-failure" and failed):
            with tempfile.TemporaryDirectory() as raw:
                context.tracing.stop(path=Path(raw) / "trace.zip")
                secrets = {password.get_secret_value()} | cookies
                redact_trace(Path(raw) / "trace.zip", output / "trace.zip", secrets)
        elif tracing != "off":
            context.tracing.stop()
        context.close()
    return {check.id: check for check in checks}


def _screenshot(page: Page, path: Path) -> None:
    screenshot(page, path)
