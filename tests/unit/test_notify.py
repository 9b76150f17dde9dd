"""The notification: its message built from plain data, its settings checked at start-up,
and its sending to a local receiver (Apprise's json://), which never raises."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from notify_support import down_url, receiver
from structlog.testing import capture_logs

from myopenip.exitcodes import MEANINGS
from myopenip_bot.config.settings import load_settings
from myopenip_bot.errors import SettingsError
from myopenip_bot.notify import (
    Notice,
    NotifyOn,
    meaning_of,
    message,
    schemes,
    send,
    should_send,
    split_urls,
    without_credentials,
)

TOKEN = "t0ken-never-shown"


def refused_batch(**changes: object) -> Notice:
    values: dict[str, object] = {
        "command": "batch",
        "exit_code": 1,
        "meaning": meaning_of(MEANINGS["batch"], 1),
        "counts": {"done": 2, "already_done": 1, "refused": 1},
        "folder": "traces/20261207-010203-batch-licences",
        "portal": "https://alice:s3cret@my.openip.fr/portail?session=abc#x",
        "subject": "inbox/licences.csv",
    }
    return Notice(**(values | changes))  # type: ignore[arg-type]


# -- the message -----------------------------------------------------------------------


def test_the_message_gives_the_counts_the_exit_code_its_meaning_and_the_report() -> None:
    title, body = message(refused_batch())

    assert title == "myopenip batch: exit 1 — some rows refused"
    assert "Exit code 1: some rows refused (business: unknown licence" in body
    assert "Counts: done: 2, already done: 1, refused: 1 (total 4)" in body
    assert "Report: traces/20261207-010203-batch-licences" in body
    assert "File: inbox/licences.csv" in body


def test_the_portal_address_loses_its_credentials_query_and_fragment() -> None:
    _, body = message(refused_batch())

    assert "Portal: https://my.openip.fr/portail" in body
    for secret in ("alice", "s3cret", "session=abc", "#x"):
        assert secret not in body
    assert without_credentials("http://u:p@127.0.0.1:8765") == "http://127.0.0.1:8765"


def test_a_clean_run_says_so_in_its_title() -> None:
    notice = refused_batch(
        exit_code=0, meaning=meaning_of(MEANINGS["batch"], 0), counts={"done": 3}
    )
    title, body = message(notice)

    assert title == "myopenip batch: exit 0 — nothing to report"
    assert "Exit code 0: every row done or already done" in body


def test_portal_texts_in_the_message_are_plain_data() -> None:
    notice = refused_batch(
        detail="Licence \x1b[31mFPC1\u202e inconnue\r\nInjected: line",
        counts={"re\x1bfused": 1},
    )
    title, body = message(notice)

    assert "\x1b" not in body + title
    assert "\u202e" not in body
    assert "\r" not in body
    assert "Error: Licence \\x1b[31mFPC1U+202E inconnue Injected: line" in body
    assert len(body.splitlines()) == 6  # one line per item: a text cannot add one


def test_a_long_error_is_cut_in_the_message() -> None:
    _, body = message(refused_batch(detail="x" * 10_000))
    assert max(len(line) for line in body.splitlines()) < 600


@pytest.mark.parametrize(
    ("code", "starts"),
    [
        (0, "every row done"),
        (3, "some rows not settled yet"),
        (5, "another run holds"),
        (130, "interrupted"),
        (143, "interrupted"),
        (77, "an exit code this command does not document"),
    ],
)
def test_each_exit_code_has_its_meaning(code: int, starts: str) -> None:
    assert meaning_of(MEANINGS["batch"], code).startswith(starts)


def test_only_problems_are_told_unless_always() -> None:
    assert not should_send(NotifyOn.PROBLEMS, 0)
    assert all(should_send(NotifyOn.PROBLEMS, code) for code in (1, 2, 3, 5, 6, 130))
    assert should_send(NotifyOn.ALWAYS, 0)


def test_urls_are_split_by_spaces_or_commas_and_named_by_their_scheme() -> None:
    urls = split_urls(" json://a/b ,mailto://u:p@x.fr\n slack://T/B/C,, ")
    assert urls == ["json://a/b", "mailto://u:p@x.fr", "slack://T/B/C"]
    assert schemes([*urls, "json://c/d"]) == ["json", "mailto", "slack"]


# -- sending -----------------------------------------------------------------------------


def test_one_message_is_posted_to_a_json_receiver_and_only_schemes_are_logged() -> None:
    with receiver() as got, capture_logs() as logs:
        sent = send([got.url(credentials=f"bot:{TOKEN}")], refused_batch())

    assert sent is True
    (post,) = got.posts
    assert post["title"] == "myopenip batch: exit 1 — some rows refused"
    assert "refused: 1" in post["message"]
    assert post["type"] == "failure"
    assert got.paths == ["/hook"]
    assert TOKEN not in got.raw[0].decode()
    (event,) = logs
    assert event["event"] == "notification_sent"
    assert event["schemes"] == ["json"]
    assert TOKEN not in str(logs)


def test_a_clean_run_is_not_told_by_default() -> None:
    with receiver() as got, capture_logs() as logs:
        sent = send([got.url()], refused_batch(exit_code=0))
    assert sent is False
    assert got.posts == []
    assert logs == []


def test_a_receiver_that_is_down_is_a_warning_never_an_exception() -> None:
    url = down_url()
    with capture_logs() as logs:
        sent = send([url.replace("json://", f"json://bot:{TOKEN}@")], refused_batch())

    assert sent is False
    (event,) = logs
    assert event["event"] == "notification_failed"
    assert event["log_level"] == "warning"
    assert event["schemes"] == ["json"]
    assert TOKEN not in str(logs)
    assert url.split("://")[1] not in str(logs)  # not even the host and port


# -- the settings ---------------------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("MYOPENIP_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.mark.usefixtures("clean_environment")
def test_notifications_are_off_and_for_problems_by_default() -> None:
    settings = load_settings()
    assert settings.notify_urls == []
    assert settings.notify_on is NotifyOn.PROBLEMS


@pytest.mark.usefixtures("clean_environment")
def test_notify_urls_are_read_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    urls = f"json://bot:{TOKEN}@127.0.0.1:9/hook, mailto://me:{TOKEN}@example.com"
    monkeypatch.setenv("MYOPENIP_NOTIFY", urls)
    monkeypatch.setenv("MYOPENIP_NOTIFY_ON", "always")

    settings = load_settings()

    assert len(settings.notify_urls) == 2
    assert settings.notify_on is NotifyOn.ALWAYS
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())


@pytest.mark.usefixtures("clean_environment")
def test_an_unparsable_notify_url_is_a_settings_error_that_does_not_echo_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MYOPENIP_NOTIFY", f"json://127.0.0.1:9/ok nosuch://bot:{TOKEN}@x/y")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    said = str(caught.value)
    assert "MYOPENIP_NOTIFY:" in said
    assert "the 2nd (nosuch://…)" in said
    assert TOKEN not in said


@pytest.mark.usefixtures("clean_environment")
def test_notify_on_is_always_or_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYOPENIP_NOTIFY_ON", "sometimes")
    with pytest.raises(SettingsError, match="MYOPENIP_NOTIFY_ON"):
        load_settings()


def test_the_notify_urls_leave_the_environment_the_process_started_with() -> None:
    import subprocess
    import sys

    script = (
        "from myopenip_bot.config.settings import forget_password_environment\n"
        "import os\n"
        f"before = open('/proc/self/environ', 'rb').read().count(b'{TOKEN}')\n"
        "forget_password_environment()\n"
        f"after = open('/proc/self/environ', 'rb').read().count(b'{TOKEN}')\n"
        "print(before, after, 'MYOPENIP_NOTIFY' in os.environ)\n"
    )
    env = {"MYOPENIP_NOTIFY": f"json://bot:{TOKEN}@127.0.0.1/x", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )

    assert done.stdout.split() == ["1", "0", "False"]
