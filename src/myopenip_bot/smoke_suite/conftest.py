"""Fixtures and hooks of the smoke suite: the browser QA's pytest-playwright options ask
for, one read-only walk per run, its screenshots and (redacted) trace under --output.

The suite and `myopenip smoke` agree: the same checks, the same outcomes (a drift fails
its test, a check that could not run is an error, only a state the portal cannot show is
a skip) and the same exit code (0, 1, 2 or 3, as `myopenip smoke --help` lists them).
A failed test's output names the closest controls and attaches its screenshot
(`[[ATTACHMENT|…]]`, in the JUnit file's `<system-out>`).
"""

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
from myopenip_bot.errors import BotError
from myopenip_bot.portal.portal import Portal
from myopenip_bot.smoke.checks import CheckResult, Status
from myopenip_bot.smoke.run import SmokeResult, not_run
from myopenip_bot.smoke.walk import WalkOptions, smoke_walk

_RESULT = pytest.StashKey[SmokeResult]()


def pytest_configure(config: pytest.Config) -> None:
    """A JUnit file gets each failed test's output (its evidence) unless QA chose
    otherwise with `-o junit_logging=…`."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - pytest moved it: the evidence stays in the log
        return
    xml = config.stash.get(xml_key, None)
    if xml is not None and getattr(xml, "logging", None) == "no":
        xml.logging = "system-out"
        xml.log_passing_tests = False  # a passing check has nothing to attach


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The command's exit code for the same outcome: 3 when the portal could not be
    reached or the login got no answer, 2 for a refused login or bad settings, 1 for a
    drift (pytest's own "tests failed" otherwise)."""
    result = session.config.stash.get(_RESULT, None)
    if result is None or exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return
    # The suite is the smoke's second entry point: one table of exit codes for both.
    from myopenip.exitcodes import of_smoke

    session.exitstatus = of_smoke(result)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, with a Chromium found the bot's way (its own,
    else the system's, else MYOPENIP_BROWSER_PATH) unless QA chose a channel."""
    if browser_type_launch_args.get("channel") or browser_type_launch_args.get("executable_path"):
        return browser_type_launch_args
    headless = bool(browser_type_launch_args.get("headless", True))  # False with --headed
    launch = find_browser(os.environ.get("MYOPENIP_BROWSER_PATH"), headless=headless)
    return {**browser_type_launch_args, **launch.as_kwargs()}


def _base_url(config: pytest.Config) -> str | None:
    """pytest-base-url's --base-url (or its ini value), read without its fixture."""
    for value in (config.getoption("base_url", None), _ini(config, "base_url")):
        if value:
            return str(value)
    return None


def _ini(config: pytest.Config, name: str) -> object:
    try:
        return config.getini(name)
    except ValueError:
        return None


@pytest.fixture(scope="session")
def smoke_checks(browser: Browser, pytestconfig: pytest.Config) -> dict[str, CheckResult]:
    """Walk every screen once; each test reads its own check's result."""
    base_url = _base_url(pytestconfig)
    try:
        settings = load_settings(**({"base_url": base_url} if base_url else {}))
        _, password = settings.require_credentials()
        selectors = load_selectors(settings.selectors_file)
    except BotError as error:  # bad settings: every test an error, and the command's exit 2
        pytestconfig.stash[_RESULT] = SmokeResult(not_run(str(error)), error=error)
        raise
    output = Path(str(pytestconfig.getoption("--output"))) / "myopenip-smoke"
    output.mkdir(parents=True, exist_ok=True, mode=0o700)
    tracing = str(pytestconfig.getoption("--tracing"))
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 1366, "height": 900}, service_workers="block"
    )
    context.set_default_timeout(settings.timeout_ms)
    if tracing != "off":
        context.tracing.start(screenshots=True, snapshots=True, title="myopenip smoke")
    page = context.new_page()
    cookies: set[str] = set()

    def login_page(page: Page) -> AbstractContextManager[Page]:
        """The login on a page of a separate context that is never traced."""
        return untraced_login(lambda: browser.new_context(locale="fr-FR"), context, cookies.update)

    shots = iter(range(1, 1000))
    walk = smoke_walk(
        Portal(page, selectors, settings, login_page=login_page),
        WalkOptions(
            service=settings.smoke_service,
            licence=settings.smoke_licence,
            screenshot=lambda name: screenshot(page, output / f"{next(shots):02d}-{name}.png"),
        ),
    )
    try:
        checks = walk.run()
    finally:
        failed = any(c.status in (Status.FAILED, Status.ERROR) for c in walk.results.values())
        if tracing == "on" or (tracing == "retain-on-failure" and failed):
            with tempfile.TemporaryDirectory() as raw:
                context.tracing.stop(path=Path(raw) / "trace.zip")
                secrets = {password.get_secret_value()} | cookies
                redact_trace(Path(raw) / "trace.zip", output / "trace.zip", secrets)
        elif tracing != "off":
            context.tracing.stop()
        context.close()
    pytestconfig.stash[_RESULT] = SmokeResult(
        checks, run_dir=output, error=walk.error, interrupted=walk.interrupted
    )
    return {check.id: check for check in checks}


@pytest.fixture
def smoke_check(
    request: pytest.FixtureRequest, smoke_checks: dict[str, CheckResult]
) -> CheckResult:
    """The result of the check this test is named after; a check that could not run is
    an error of the test's setup (as JUnit says: it did not run), not a failure."""
    result = smoke_checks[str(request.param)]
    if result.status is Status.ERROR:
        pytest.fail(result.message, pytrace=False)
    return result
