"""The bot finds a Chromium on its own, or says clearly how to get one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from myopenip_bot.browser.launch import find_browser
from myopenip_bot.errors import BrowserNotFoundError


def test_an_override_that_is_not_an_executable_is_refused_with_advice(tmp_path: Path) -> None:
    with pytest.raises(BrowserNotFoundError, match=r"MYOPENIP_BROWSER_PATH=.*apt-get install"):
        find_browser(tmp_path / "missing-chromium")


def test_an_executable_override_is_used_as_is(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    launch = find_browser(fake)
    assert launch.executable_path == str(fake)
    assert "--disable-background-networking" in launch.args
    assert ("--no-sandbox" in launch.args) == (os.geteuid() == 0)


def test_with_no_browser_anywhere_the_error_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import myopenip_bot.browser.launch as browser

    monkeypatch.setattr(browser, "_playwright_chromium", lambda: None)
    monkeypatch.setattr(browser, "_SYSTEM_CANDIDATES", ())
    monkeypatch.setattr(browser, "_HEADLESS_SHELLS", ())
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    with pytest.raises(BrowserNotFoundError, match="playwright install chromium"):
        find_browser()


def test_the_system_headless_shell_is_taken_without_a_window_never_with_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import myopenip_bot.browser.launch as browser

    def executable(name: str) -> str:
        path = tmp_path / name
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
        return str(path)

    shell, full = executable("chromium-headless-shell"), executable("chromium")
    monkeypatch.setattr(browser, "_playwright_chromium", lambda: None)
    monkeypatch.setattr(browser, "_HEADLESS_SHELLS", (str(tmp_path / "absent"), shell))
    monkeypatch.setattr(browser, "_SYSTEM_CANDIDATES", (full,))
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    assert find_browser().executable_path == shell
    assert find_browser(headless=False).executable_path == full
    monkeypatch.setattr(browser, "_HEADLESS_SHELLS", ())
    assert find_browser().executable_path == full  # no shell: the full browser, headless
