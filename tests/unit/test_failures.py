"""The one map from Playwright's errors to the bot's (myopenip_bot.failures)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from structlog.testing import capture_logs

from myopenip_bot.errors import BrowserFailure, TechnicalError
from myopenip_bot.failures import best_effort, failure, translated, translating


def test_a_timeout_says_so_and_names_the_step() -> None:
    error = failure(PlaywrightTimeoutError("Timeout 100ms exceeded.\nCall log:\n  - waiting"))

    assert isinstance(error, TechnicalError)  # retried by a step, like any technical failure
    assert error.timed_out
    assert str(error) == "timed out (Timeout 100ms exceeded.)"
    assert str(failure(PlaywrightTimeoutError("Timeout"), "searching")).startswith("searching: ")


def test_a_network_error_is_said_in_words_with_its_code_kept() -> None:
    error = failure(PlaywrightError("net::ERR_CONNECTION_REFUSED at http://portal/\nCall log:"))

    assert not error.timed_out
    assert error.why == "net::ERR_CONNECTION_REFUSED at http://portal/"
    assert "nothing answers there" in str(error)
    assert "(net::ERR_CONNECTION_REFUSED)" in str(error)


def test_translating_raises_the_bots_error_and_lets_the_bots_own_through() -> None:
    with (
        pytest.raises(BrowserFailure, match=r"^opening the dialog: Target page"),
        translating("opening the dialog"),
    ):
        raise PlaywrightError("Target page, context or browser has been closed")

    def own() -> int:
        raise TechnicalError("the bot's own")

    with pytest.raises(TechnicalError, match="the bot's own") as raised:
        translated("a step", own)
    assert not isinstance(raised.value, BrowserFailure)
    assert translated("a step", lambda: 42) == 42


def test_best_effort_gives_the_default_and_logs_why_only_when_asked() -> None:
    def fails() -> int:
        raise PlaywrightError("Target closed\nCall log:")

    with capture_logs() as logs:
        assert best_effort(fails, None, event="screenshot_not_taken", path="p.png") is None
        assert best_effort(fails, []) == []
        assert best_effort(lambda: 7, 0, event="unused") == 7
    assert logs == [
        {
            "event": "screenshot_not_taken",
            "log_level": "warning",
            "path": "p.png",
            "why": "Target closed",
        }
    ]


def test_best_effort_never_hides_what_is_not_playwrights() -> None:
    def bug() -> int:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        best_effort(bug, 0)
