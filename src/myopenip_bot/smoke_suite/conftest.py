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
import shutil
import tempfile
from collections.abc import Generator
from contextlib import AbstractContextManager
from dataclasses import replace
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
from myopenip_bot.smoke.walk import NOT_SELECTED, WalkOptions, smoke_walk
from myopenip_bot.smoke_suite.plugin import RESULT, SELECTED
from myopenip_bot.wording import check_text

UNSELECTED = f"not run: {NOT_SELECTED}"  # a check -k left out: no failure of this run
WALK = "myopenip-smoke"  # the walk's own folder under --output (its screens, trace, video)


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """A check's test is named after the check as `myopenip smoke` names it, accents and
    all (`Paramétrage / Monitoring: services.search`), not escaped (`Param\\xe9trage`):
    `-k Paramétrage` selects what it says."""
    return str(val) if argname == "smoke_check" else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Each test takes its check's own time in the walk (the walk runs once, in the first
    test's set-up): where its verdict is given, the set-up when it could not run, the
    call otherwise; no time elsewhere."""
    report = yield
    check = _check_of(item)
    if check is not None:
        verdict = report.when == "call" or (report.when == "setup" and not report.passed)
        report.duration = check.seconds if verdict else 0.0
    return report


def _check_of(item: pytest.Item) -> CheckResult | None:
    result = item.config.stash.get(RESULT, None)
    params = getattr(item, "callspec", None)
    if result is None or params is None or "smoke_check" not in params.params:
        return None
    wanted = str(params.params["smoke_check"])
    return next((check for check in result.checks if check.id == wanted), None)


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


def _given(config: pytest.Config, option: str) -> bool:
    """Whether `option` was given on the command line (or in PYTEST_ADDOPTS)."""
    args = [*config.invocation_params.args, *os.environ.get("PYTEST_ADDOPTS", "").split()]
    return any(arg == option or str(arg).startswith(option + "=") for arg in args)


def _screenshots(config: pytest.Config) -> str:
    """--screenshot as pytest-playwright has it; not given, `only-on-failure`: a drift's
    evidence is its screenshot (`--screenshot off` takes none)."""
    mode = str(config.getoption("--screenshot"))
    return mode if _given(config, "--screenshot") else "only-on-failure"


def _walk_folder(config: pytest.Config) -> Path:
    """The walk's folder under --output; one per pytest-xdist worker (each walks)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return Path(str(config.getoption("--output"))) / (f"{WALK}-{worker}" if worker else WALK)


def _keep(mode: str, failed: bool) -> bool:
    return mode == "on" or (mode in ("retain-on-failure", "only-on-failure") and failed)


@pytest.fixture(scope="session")
def smoke_checks(browser: Browser, pytestconfig: pytest.Config) -> dict[str, CheckResult]:
    """Walk every screen once; each test reads its own check's result."""
    base_url = _base_url(pytestconfig)
    try:
        settings = load_settings(**({"base_url": base_url} if base_url else {}))
        _, password = settings.require_credentials()
        selectors = load_selectors(settings.selectors_file)
    except BotError as error:  # bad settings: every test an error, and the command's exit 2
        pytestconfig.stash[RESULT] = SmokeResult(not_run(str(error)), error=error)
        raise
    output = _walk_folder(pytestconfig)
    output.mkdir(parents=True, exist_ok=True, mode=0o700)
    tracing = str(pytestconfig.getoption("--tracing"))
    video = str(pytestconfig.getoption("--video"))
    shots = _screenshots(pytestconfig)
    with tempfile.TemporaryDirectory() as raw:
        context = browser.new_context(
            locale="fr-FR",
            viewport={"width": 1366, "height": 900},
            record_video_dir=raw if video != "off" else None,
            service_workers="block",  # their requests would bypass the read-only guard
        )
        context.set_default_timeout(settings.timeout_ms)
        if tracing != "off":
            context.tracing.start(screenshots=True, snapshots=True, title="myopenip smoke")
        page = context.new_page()
        cookies: set[str] = set()

        def login_page(page: Page) -> AbstractContextManager[Page]:
            """The login on a page of a separate context that is never traced."""
            return untraced_login(
                lambda: browser.new_context(locale="fr-FR"), context, cookies.update
            )

        numbers = iter(range(1, 1000))

        def shot(name: str) -> Path | None:
            """--screenshot on: every screen; only-on-failure: a failed check's; off: none."""
            if shots == "off" or (shots == "only-on-failure" and not name.startswith("failed-")):
                return None
            return screenshot(page, output / f"{next(numbers):02d}-{name}.png")

        walk = smoke_walk(
            Portal(page, selectors, settings, login_page=login_page),
            WalkOptions(
                service=settings.smoke_service,
                licence=settings.smoke_licence,
                screenshot=shot,
                # -k: the walk goes no further than the selected checks need
                checks=pytestconfig.stash.get(SELECTED, None),
            ),
        )
        try:
            checks = walk.run()
        finally:
            failed = any(
                c.status in (Status.FAILED, Status.ERROR) and c.message != UNSELECTED
                for c in walk.results.values()
            )
            if _keep(tracing, failed):
                context.tracing.stop(path=Path(raw) / "trace.zip")
                secrets = {password.get_secret_value()} | cookies
                redact_trace(Path(raw) / "trace.zip", output / "trace.zip", secrets)
            elif tracing != "off":
                context.tracing.stop()
            recording = page.video
            context.close()  # writes the video
            if recording is not None and _keep(video, failed):
                shutil.move(recording.path(), output / "video.webm")
    pytestconfig.stash[RESULT] = SmokeResult(
        checks, run_dir=output, error=walk.error, interrupted=walk.interrupted
    )
    return {check.id: check for check in checks}


def artifacts_folder(config: pytest.Config, nodeid: str) -> Path:
    """A test's own folder under --output, named as pytest-playwright names it."""
    from slugify import slugify  # pytest-playwright's own dependency

    return Path(str(config.getoption("--output"))) / slugify(nodeid)


def _link(source: Path, target: Path) -> None:
    """`target` is `source` (a hard link where it can be, else a copy)."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@pytest.fixture
def smoke_check(
    request: pytest.FixtureRequest, smoke_checks: dict[str, CheckResult]
) -> CheckResult:
    """The result of the check this test is named after; a check that could not run is
    an error of the test's setup (as JUnit says: it did not run), not a failure.

    A check that failed or could not run gets its artifacts in its test's folder under
    --output, as pytest-playwright lays them out: `test-failed-1.png` (its screen), and
    the walk's `trace.zip` and `video.webm` when kept (one walk: one trace, one video,
    linked into each failed test's folder)."""
    result = smoke_checks[str(request.param)]
    if result.status in (Status.FAILED, Status.ERROR):
        folder = artifacts_folder(request.config, request.node.nodeid)
        walk = _walk_folder(request.config)
        found = [walk / name for name in ("trace.zip", "video.webm") if (walk / name).exists()]
        if result.screenshot is not None and result.screenshot.exists():
            found.append(result.screenshot)
        if found:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for path in found:
            target = folder / ("test-failed-1.png" if path.suffix == ".png" else path.name)
            _link(path, target)
            if path.suffix == ".png":
                result = replace(result, screenshot=target)
    if result.status is Status.ERROR:
        pytest.fail(check_text(result.message), pytrace=False)
    return result
