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
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    with pytest.raises(BrowserNotFoundError, match="playwright install chromium"):
        find_browser()
