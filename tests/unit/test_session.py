"""A browser session of the bot (browser/session.py) on the replica, in a real Chromium:
what it leaves in its run folder (never the password nor a cookie), when it keeps a
trace, which saved login it reuses, and that it closes cleanly whatever happened.

Most tests hand the session the test's browser (as `run_dissociation(browser=…)` does);
one lets it start its own, for what only that start does to the environment.
"""

from __future__ import annotations

import os
import stat
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser
from pydantic import SecretStr
from structlog.testing import capture_logs

from myopenip.replica import Replica, run_replica
from myopenip_bot.browser.artifacts import find_secrets
from myopenip_bot.browser.session import TRACE_NAME, BotSession
from myopenip_bot.config.selectors import load_selectors
from myopenip_bot.config.settings import Settings, TraceMode
from myopenip_bot.errors import SettingsError

pytestmark = pytest.mark.browser

PASSWORD = "S3ssion-Passw0rd!"


@pytest.fixture(scope="module")
def replica_with_password() -> Iterator[Replica]:
    """A replica whose password is worth looking for in files (the demo's is the user's)."""
    with run_replica(password=PASSWORD, delays=False) as started:
        yield started


@pytest.fixture
def replica(replica_with_password: Replica) -> Replica:
    replica_with_password.test_api("reset")
    return replica_with_password


def settings_for(replica: Replica, tmp_path: Path, **more: Any) -> Settings:
    values: dict[str, Any] = {
        "base_url": replica.url,
        "username": replica.username,
        "password": SecretStr(replica.password),
        "timeout_ms": 10_000,
        "traces_dir": tmp_path / "traces",
        "work_dir": tmp_path / "work",
        "state_file": tmp_path / "private" / "state.json",
        "browser_path": os.environ.get("MYOPENIP_BROWSER_PATH") or None,
        "trace": TraceMode.OFF,
    }
    return Settings(**(values | more))


def log_in_and_browse(session: BotSession) -> None:
    """What a run does first: the portal opened, logged in (on the run's page when no
    login was saved), then a page of services read with the session's cookie."""
    portal = session.portal(load_selectors(None))
    portal.start_run()
    portal.step("opening the portal", portal.open_portal)
    portal.list_services("SRV-10021")


def in_thread(action: Callable[[], None]) -> None:
    """Run `action` in a new thread (no event loop of Playwright's there); raise its error."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            action()
        except BaseException as error:  # raised again in the test's thread
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive()
    if errors:
        raise errors[0]


def run_files(session: BotSession) -> list[str]:
    return sorted(path.name for path in session.run_dir.iterdir())


# -- secrets ------------------------------------------------------------------------------------


def test_a_traced_session_keeps_neither_the_password_nor_a_cookie_and_its_working_files_go(
    browser: Browser, replica: Replica, tmp_path: Path
) -> None:
    """Its run folder holds no secret; its working files (the raw trace, with its cookie
    headers) are private while it lives and go with it."""
    settings = settings_for(replica, tmp_path, trace=TraceMode.ON)

    with capture_logs(), BotSession(settings, label="unit", browser=browser) as session:
        work = session.work.path
        assert work.is_dir()
        assert stat.S_IMODE(work.stat().st_mode) == 0o700
        log_in_and_browse(session)
        session.screenshot(session.page, "services")

    cookies = session.secrets - {PASSWORD}
    assert cookies, "a session cookie was handed over and remembered"
    assert PASSWORD in session.secrets
    assert {TRACE_NAME, "01-services.png"} <= set(run_files(session))
    assert find_secrets(session.run_dir, session.secrets) == []
    # The saved login holds the live cookie on purpose, outside the run folder, private.
    assert settings.state_file.is_file()
    assert not settings.state_file.is_relative_to(session.run_dir)
    assert stat.S_IMODE(settings.state_file.stat().st_mode) == 0o600
    assert PASSWORD not in settings.state_file.read_text(encoding="utf-8")
    # The working files went with the session.
    assert not work.exists()
    assert list((tmp_path / "work").iterdir()) == []


def test_a_first_login_is_typed_on_the_runs_own_page_before_its_trace_starts(
    browser: Browser, replica: Replica, tmp_path: Path
) -> None:
    """No saved login: the run's own page logs in (no second context) and goes on from
    the page the login led to (the portal's home is not loaded again); the trace, which
    starts once the login is over, holds no request of the login form."""
    settings = settings_for(replica, tmp_path, trace=TraceMode.ON)
    documents: list[tuple[str, str]] = []

    with capture_logs(), BotSession(settings, label="unit", browser=browser) as session:
        session.context.on(
            "request",
            lambda r: (
                documents.append((r.method, r.url)) if r.resource_type == "document" else None
            ),
        )
        log_in_and_browse(session)

    posts = [url for method, url in documents if method == "POST"]
    assert len(posts) == 1, f"the login form was posted from the run's page: {documents}"
    after_login = documents[[m for m, _ in documents].index("POST") + 1 :]
    home = ("GET", replica.url.rstrip("/") + "/")
    assert after_login.count(home) <= 1, f"the home page loaded again: {documents}"
    with zipfile.ZipFile(session.run_dir / TRACE_NAME) as trace:
        network = b"".join(trace.read(n) for n in trace.namelist() if n.endswith(".network"))
    assert network, "the trace recorded the run's requests after the login"
    assert b'"method":"POST"' not in network.replace(b" ", b"")
    assert find_secrets(session.run_dir, session.secrets) == []


def test_a_session_given_anothers_login_traces_from_its_start(
    browser: Browser, replica: Replica, tmp_path: Path
) -> None:
    """A batch's worker 2 gets worker 1's cookies instead of a saved login: it will not log
    in, so its trace is never put off for a login, and is kept whole."""
    with (
        capture_logs(),
        BotSession(
            settings_for(replica, tmp_path / "first"), label="first", browser=browser
        ) as first,
    ):
        log_in_and_browse(first)
        cookies = first.context.cookies()
    settings = settings_for(replica, tmp_path / "second", trace=TraceMode.ON)

    with capture_logs(), BotSession(settings, label="second", browser=browser) as second:
        second.context.add_cookies(cookies)  # type: ignore[arg-type]
        log_in_and_browse(second)

    with zipfile.ZipFile(second.run_dir / TRACE_NAME) as trace:
        network = b"".join(trace.read(n) for n in trace.namelist() if n.endswith(".network"))
    assert b"/services" in network, "the trace recorded the worker's reads"


# -- what is kept -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "failed", "kept"),
    [
        (TraceMode.RETAIN_ON_FAILURE, True, True),
        (TraceMode.RETAIN_ON_FAILURE, False, False),
        (TraceMode.ON, False, True),
        (TraceMode.OFF, True, False),
    ],
    ids=["retain-failed", "retain-passed", "on", "off-failed"],
)
def test_a_trace_is_kept_only_as_the_mode_and_the_outcome_say(
    browser: Browser, replica: Replica, tmp_path: Path, mode: TraceMode, failed: bool, kept: bool
) -> None:
    settings = settings_for(replica, tmp_path, trace=mode)

    with capture_logs(), BotSession(settings, label="unit", browser=browser) as session:
        session.page.goto(replica.url)
        session.failed = failed

    assert (session.run_dir / TRACE_NAME).is_file() is kept
    assert session.kept_dir == session.run_dir  # the folder stays: result.json goes there
    assert "events.jsonl" in run_files(session)


def test_an_error_inside_the_session_counts_as_a_failure_and_is_not_swallowed(
    browser: Browser, replica: Replica, tmp_path: Path
) -> None:
    settings = settings_for(replica, tmp_path, trace=TraceMode.RETAIN_ON_FAILURE)

    session = BotSession(settings, label="unit", browser=browser)

    def a_run_that_fails() -> None:
        with session:
            session.page.goto(replica.url)
            raise RuntimeError("a step went wrong")

    with capture_logs(), pytest.raises(RuntimeError, match="a step went wrong"):
        a_run_that_fails()

    assert (session.run_dir / TRACE_NAME).is_file()


def test_screenshots_are_numbered_in_the_order_taken(
    browser: Browser, replica: Replica, tmp_path: Path
) -> None:
    settings = settings_for(replica, tmp_path)

    with capture_logs(), BotSession(settings, label="unit", browser=browser) as session:
        session.page.goto(replica.url)
        first = session.screenshot(session.page, "login")
        second = session.screenshot(session.page, "login")

    assert (first, second) == (session.run_dir / "01-login.png", session.run_dir / "02-login.png")
    assert first.is_file()
    assert second.is_file()


# -- the saved login -------------------------------------------------------------------------------


def started(logs: list[dict[str, Any]]) -> bool:
    (event,) = [e for e in logs if e["event"] == "session_started"]
    return bool(event["reused_login"])


def test_a_saved_login_spares_the_next_session_a_login_for_the_same_portal_and_user_only(
    browser: Browser, replica: Replica, tmp_path: Path
) -> None:
    settings = settings_for(replica, tmp_path)
    with capture_logs() as first, BotSession(settings, label="one", browser=browser) as session:
        log_in_and_browse(session)
    assert not started(first)
    assert [e["event"] for e in first].count("session_state_saved") == 1

    with capture_logs() as second, BotSession(settings, label="two", browser=browser) as session:
        log_in_and_browse(session)
    assert started(second)
    assert [e for e in second if e["event"] == "login_needed"] == []

    other_user = settings_for(replica, tmp_path, username="someone-else")
    with capture_logs() as third, BotSession(other_user, label="three", browser=browser):
        pass
    assert not started(third)

    not_saved = settings_for(replica, tmp_path, save_session=False)
    with capture_logs() as fourth, BotSession(not_saved, label="four", browser=browser):
        pass
    assert not started(fourth)


def test_without_saving_the_session_no_login_is_written_anywhere(
    browser: Browser, replica: Replica, tmp_path: Path
) -> None:
    settings = settings_for(replica, tmp_path, save_session=False)

    with capture_logs(), BotSession(settings, label="unit", browser=browser) as session:
        log_in_and_browse(session)

    assert not settings.state_file.exists()


# -- closing ------------------------------------------------------------------------------------


def test_closing_closes_what_the_session_opened_and_leaves_a_browser_it_was_given(
    browser: Browser, replica: Replica, tmp_path: Path
) -> None:
    settings = settings_for(replica, tmp_path)
    before = list(browser.contexts)

    with capture_logs(), BotSession(settings, label="unit", browser=browser) as session:
        log_in_and_browse(session)
        assert session.context in browser.contexts

    assert session.page.is_closed()
    assert browser.contexts == before  # its context, and the login's untraced one
    assert browser.is_connected()


def test_a_context_gone_before_the_end_still_closes_cleanly_and_finish_can_be_repeated(
    browser: Browser, replica: Replica, tmp_path: Path
) -> None:
    settings = settings_for(replica, tmp_path, trace=TraceMode.ON)

    with capture_logs() as logs, BotSession(settings, label="unit", browser=browser) as session:
        session.page.goto(replica.url)
        session.context.close()  # as when the browser dies mid-run

    assert "trace_not_saved" in [e["event"] for e in logs]
    assert not session.work.path.exists()
    assert session.finish(failed=True) == session.run_dir  # once finished, finished


def test_a_session_that_starts_its_own_browser_hides_the_password_from_it_and_closes_it(
    replica: Replica, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYOPENIP_PASSWORD", PASSWORD)
    tmpdir = os.environ.get("TMPDIR")
    settings = settings_for(replica, tmp_path)
    seen: dict[str, Any] = {}

    def a_run() -> None:
        with BotSession(settings, label="unit") as session:
            seen["password"] = os.environ.get("MYOPENIP_PASSWORD")
            seen["tmpdir"] = os.environ.get("TMPDIR")
            seen["browser"] = session.context.browser
            log_in_and_browse(session)

    # In a thread of its own, as a batch's worker: this one runs the test's Playwright.
    with capture_logs():
        in_thread(a_run)

    assert seen["password"] is None  # gone before the driver started
    assert seen["tmpdir"] == tmpdir  # the driver's private TMPDIR was its own
    assert not seen["browser"].is_connected()


def test_unusable_private_folders_are_a_settings_error_before_any_browser(
    replica: Replica, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    settings = settings_for(replica, tmp_path, work_dir=tmp_path / "a-file" / "work")

    with pytest.raises(SettingsError, match="cannot create the bot's private folders"):
        BotSession(settings, label="unit")

    assert not (tmp_path / "traces").exists()  # no run folder either
