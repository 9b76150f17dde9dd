"""The bot finds a Chromium on its own, or says clearly how to get one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from myopenip_bot.browser.launch import find_browser, node_compile_cache
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


@pytest.fixture
def cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A cache folder of the test's own, and no compile cache chosen by the environment."""
    monkeypatch.delenv("NODE_COMPILE_CACHE", raising=False)
    monkeypatch.delenv("NODE_DISABLE_COMPILE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def test_the_drivers_compile_cache_is_a_private_folder_per_user(cache_home: Path) -> None:
    tmp_path = cache_home
    folder = node_compile_cache()

    assert folder == str(tmp_path / "myopenip" / "node-compile-cache")
    for path in (Path(folder), Path(folder).parent):
        assert path.stat().st_mode & 0o777 == 0o700


def test_no_compile_cache_where_others_could_write_it_or_the_environment_decides(
    monkeypatch: pytest.MonkeyPatch, cache_home: Path
) -> None:
    tmp_path = cache_home
    (tmp_path / "myopenip").mkdir(mode=0o700)
    (tmp_path / "myopenip").chmod(0o770)  # the group could put code there
    assert node_compile_cache() is None

    (tmp_path / "myopenip").chmod(0o700)
    monkeypatch.setenv("NODE_DISABLE_COMPILE_CACHE", "1")
    assert node_compile_cache() is None
    monkeypatch.delenv("NODE_DISABLE_COMPILE_CACHE")
    monkeypatch.setenv("NODE_COMPILE_CACHE", str(tmp_path / "theirs"))
    assert node_compile_cache() is None  # theirs is used as it is
    monkeypatch.delenv("NODE_COMPILE_CACHE")
    assert node_compile_cache() is not None
