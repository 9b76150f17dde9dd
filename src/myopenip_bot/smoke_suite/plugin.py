"""The smoke suite's session-wide rules, as a pytest plugin (entry point `pytest11`).

A conftest is loaded only where tests are collected: under `pytest-xdist` (`-n 2`) the
controller collects nothing, so it never saw the suite's exit code (an unreachable
portal read 1, pytest's "tests failed", not 3). This plugin is loaded in every process
and acts only when the session runs `myopenip_bot.smoke_suite`:

- at start, before a browser is launched: the options the suite cannot honour are
  refused with exit 2 (usage) and a message naming what it supports — another browser
  than Chromium (the bot drives Chromium), `--device`, `--headed` without a display;
- at the end: the command's exit code (myopenip.exitcodes.of_smoke) for the checks the
  session selected, the same with and without `-n` (each worker sends its own; the
  controller keeps the gravest).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the bot is imported only once the suite runs: a refusal is instant
    from myopenip_bot.smoke.run import SmokeResult

__all__ = ["RESULT", "SELECTED", "refusal", "selects_suite"]

#: the walk's result, stashed on the config by the suite's session fixture
RESULT: pytest.StashKey[SmokeResult] = pytest.StashKey()
#: the ids of the checks the session selected (after -k, -m, deselection)
SELECTED = pytest.StashKey[frozenset[str]]()
_CODES = pytest.StashKey[list[int]]()
_WORKER_KEY = "myopenip_smoke_exit"
_PACKAGE = "myopenip_bot.smoke_suite"
_FOLDER = Path(__file__).resolve().parent
BROWSERS = ("chromium",)


def selects_suite(config: pytest.Config) -> bool:
    """Whether the session runs the smoke suite: `--pyargs myopenip_bot.smoke_suite` (or
    one of its modules), or a path into its folder."""
    for arg in config.args:
        target = str(arg).split("::", 1)[0]
        if target == _PACKAGE or target.startswith(_PACKAGE + "."):
            return True
        path = Path(config.invocation_params.dir, target)
        try:
            resolved = path.resolve()
        except OSError:  # pragma: no cover - an unreadable argument: not ours
            continue
        if resolved == _FOLDER or _FOLDER in resolved.parents:
            return True
    return False


def refusal(config: pytest.Config) -> str | None:
    """Why the suite cannot run with these options, naming what it supports; None if it can."""
    browsers = [b for b in (config.getoption("browser", None) or []) if b not in BROWSERS]
    if browsers:
        return (
            f"--browser {' '.join(browsers)} is not supported: the smoke suite drives Chromium, "
            "as the bot does. Supported: --browser chromium (the default), "
            "--browser-channel chrome|chrome-beta|msedge|… for an installed Chrome or Edge."
        )
    if config.getoption("device", None):
        return (
            "--device is not supported: the smoke suite checks the portal in the desktop "
            "window the bot uses (1366×900, fr-FR)."
        )
    if config.getoption("video", "off") != "off" and not _ffmpeg():
        return (
            "--video needs Playwright's ffmpeg, not installed here: run "
            "`python -m playwright install ffmpeg`, or drop --video."
        )
    headed = config.getoption("headed", False)
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headed and sys.platform.startswith("linux") and no_display:
        return (
            "--headed needs a display: DISPLAY is not set (run it under xvfb-run, or set "
            "DISPLAY), or drop --headed to run headless."
        )
    return None


def _ffmpeg() -> bool:
    """Whether Playwright's ffmpeg (which records videos) is installed."""
    folder = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or ""
    if folder in ("", "0"):
        folder = str(Path.home() / ".cache" / "ms-playwright")
        if sys.platform == "darwin":
            folder = str(Path.home() / "Library" / "Caches" / "ms-playwright")
        elif sys.platform == "win32":
            folder = str(Path(os.environ.get("LOCALAPPDATA", "")) / "ms-playwright")
    return any(Path(folder).glob("ffmpeg-*/ffmpeg*"))


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or not selects_suite(config):
        return  # a worker: its controller refused already, and writes the JUnit file
    why = refusal(config)
    if why is not None:
        pytest.exit(f"myopenip smoke suite: {why}", returncode=2)
    _junit_evidence(config)


def _junit_evidence(config: pytest.Config) -> None:
    """A JUnit file gets each failed test's output (its evidence) unless QA chose
    otherwise with `-o junit_logging=…` (in the process that writes it: the controller)."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - pytest moved it: the evidence stays in the log
        return
    xml = config.stash.get(xml_key, None)
    if xml is not None and getattr(xml, "logging", None) == "no":
        xml.logging = "system-out"
        xml.log_passing_tests = False  # a passing check has nothing to attach


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Remember which checks this session runs (after -k/-m): the exit code is theirs."""
    ids = {
        str(item.callspec.params["smoke_check"])
        for item in items
        if hasattr(item, "callspec") and "smoke_check" in item.callspec.params
    }
    if ids:
        config.stash[SELECTED] = frozenset(ids)


def _code(config: pytest.Config) -> int | None:
    """The command's exit code for this process's walk, over the selected checks."""
    result = config.stash.get(RESULT, None)
    if result is None:
        return None
    from myopenip.exitcodes import of_smoke  # one table of exit codes for both entry points
    from myopenip_bot.smoke.run import SmokeResult as Selected

    selected = config.stash.get(SELECTED, None)
    if selected is not None:  # -k dialog.submit: a drift elsewhere is not this run's verdict
        result = Selected(
            [check for check in result.checks if check.id in selected],
            result.run_dir,
            error=result.error,
            interrupted=result.interrupted,
        )
    return of_smoke(result)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist, in the controller: a worker's exit code for its walk."""
    code = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    if code is not None:
        node.config.stash.setdefault(_CODES, []).append(int(code))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The command's exit code for the same outcome: 3 when the portal could not be
    reached or the login got no answer, 2 for a refused login or bad settings, 1 for a
    drift (pytest's own code otherwise: a usage error, no test selected, …)."""
    config = session.config
    code = _code(config)
    if hasattr(config, "workerinput"):  # a worker: its controller decides
        if code is not None:
            config.workeroutput[_WORKER_KEY] = int(code)  # type: ignore[attr-defined]
        return
    codes = [*config.stash.get(_CODES, []), *([] if code is None else [code])]
    if codes and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = max(codes)  # the gravest: 130/143 > 3 > 2 > 1 > 0
