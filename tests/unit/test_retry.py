"""The one retry policy (portal/retry.py): its budget, its backoff with jitter and a wait a
signal cuts; then, as `Portal.step` applies it, what it retries (the portal or the browser
failing) and what it never does (a business refusal, a refused login, a drift, a bug).

Without a browser: a step's action is a plain function here, and the backoff is recorded
by a StopSignal that does not sleep (tests/e2e retry real requests on the replica).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any, cast

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from pydantic import SecretStr
from retry_support import NoPage, RecordingStop
from structlog.testing import capture_logs

from myopenip_bot.config.selectors import load_selectors
from myopenip_bot.config.settings import Settings
from myopenip_bot.errors import (
    AuthenticationError,
    DriftError,
    Interrupted,
    LicenceNotFoundError,
    PlanRefusedError,
    ReadBackMismatchError,
    ServiceNotActiveError,
    ServiceNotFoundError,
    TechnicalError,
    TransientError,
)
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.portal import retry
from myopenip_bot.portal.portal import Portal
from myopenip_bot.portal.retry import DEFAULT_POLICY, RetryPolicy


def portal(stop: StopSignal, policy: RetryPolicy = DEFAULT_POLICY) -> Portal:
    settings = Settings(base_url="http://127.0.0.1:9", username="demo", password=SecretStr("demo"))
    page = cast(Page, NoPage())
    return Portal(page, load_selectors(None), settings, stop=stop, policy=policy)


def failing(*errors: BaseException, then: object = "read") -> tuple[Callable[[], Any], list[int]]:
    """An action raising `errors` one call after the other, then returning `then`; and
    the list its calls are counted in."""
    calls: list[int] = []

    def action() -> object:
        calls.append(len(calls) + 1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return then

    return action, calls


def ceiling(policy: RetryPolicy, failures: int) -> float:
    return min(policy.cap, policy.base * 2 ** (failures - 1))


# -- the policy ------------------------------------------------------------------------


def test_the_budget_counts_the_first_attempt() -> None:
    assert [DEFAULT_POLICY.gives_up(n) for n in (1, 2, 3, 4)] == [False, False, True, True]
    assert RetryPolicy(attempts=1).gives_up(1)  # no retry at all
    assert not RetryPolicy(attempts=5).gives_up(4)


@pytest.mark.parametrize(("draw", "share"), [(min, 0.5), (max, 1.0)], ids=["least", "most"])
def test_each_wait_is_half_certain_half_random_and_doubles_up_to_the_cap(
    monkeypatch: pytest.MonkeyPatch, draw: Callable[[float, float], float], share: float
) -> None:
    monkeypatch.setattr(retry.random, "uniform", lambda low, high: draw(low, high))
    policy = RetryPolicy(attempts=9, base=0.5, cap=8.0)

    waits = [policy.delay(failures) for failures in range(1, 8)]

    assert waits == [share * c for c in (0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0)]


def test_workers_failing_together_do_not_wait_alike() -> None:
    policy = RetryPolicy(base=1.0, cap=1.0)

    waits = [policy.delay(1) for _ in range(50)]

    assert all(0.5 <= wait <= 1.0 for wait in waits)
    assert len(set(waits)) > 40  # jitter: not one value, nor a handful


def test_the_wait_is_slept_through_the_stop_signal() -> None:
    stop = RecordingStop()

    DEFAULT_POLICY.wait(2, stop)

    (slept,) = stop.slept
    assert ceiling(DEFAULT_POLICY, 2) / 2 <= slept <= ceiling(DEFAULT_POLICY, 2)


def test_a_signal_cuts_a_long_backoff_short_and_stops_the_run(
    capfd: pytest.CaptureFixture[str],
) -> None:
    policy = RetryPolicy(base=60.0, cap=60.0)  # a wait of 30 to 60 s, unless cut
    stop = StopSignal()
    timer = threading.Timer(0.2, stop.request, (signal.SIGTERM,))
    started = time.monotonic()
    timer.start()
    try:
        with capture_logs(), pytest.raises(Interrupted) as raised:
            policy.wait(1, stop)
    finally:
        timer.cancel()
        timer.join()

    assert raised.value.signum == signal.SIGTERM
    assert time.monotonic() - started < 30  # cut: the least the wait could have been
    assert "SIGTERM: stopping at the next safe point" in capfd.readouterr().err


# -- what a step retries -----------------------------------------------------------------


def test_a_step_failing_technically_is_tried_the_budget_then_its_error_raised() -> None:
    stop = RecordingStop()
    action, calls = failing(*(TransientError(f"HTTP 503, try {n}") for n in (1, 2, 3, 4)))

    with capture_logs() as logs, pytest.raises(TransientError, match="try 3"):
        portal(stop).step("searching", action)

    assert calls == [1, 2, 3]
    assert len(stop.slept) == 2  # between the tries, not after the last one
    for failures, slept in enumerate(stop.slept, 1):
        assert ceiling(DEFAULT_POLICY, failures) / 2 <= slept <= ceiling(DEFAULT_POLICY, failures)
    retried = [
        (e["step"], e["attempt"], e["attempts"]) for e in logs if e["event"] == "step_retried"
    ]
    assert retried == [("searching", 2, 3), ("searching", 3, 3)]


def test_the_budget_is_the_policys() -> None:
    stop = RecordingStop()
    action, calls = failing(*(TechnicalError("timed out") for _ in range(9)))

    with capture_logs(), pytest.raises(TechnicalError):
        portal(stop, RetryPolicy(attempts=5)).step("searching", action)

    assert calls == [1, 2, 3, 4, 5]
    assert len(stop.slept) == 4


@pytest.mark.parametrize(
    ("error", "logged"),
    [
        (TransientError("the portal answered HTTP 503"), "the portal answered HTTP 503"),
        (
            PlaywrightTimeoutError("Timeout 15000ms exceeded.\nCall log: …"),
            "searching: timed out (Timeout 15000ms exceeded.)",
        ),
        (
            PlaywrightError("net::ERR_CONNECTION_RESET at http://127.0.0.1:9/"),
            "searching: cannot reach http://127.0.0.1:9/: the connection was cut",
        ),
        (
            PlaywrightError("Target page, context or browser has been closed"),
            "searching: Target page, context or browser has been closed",
        ),
    ],
    ids=["5xx", "playwright-timeout", "network", "browser-gone"],
)
def test_the_portal_or_the_browser_failing_once_is_tried_again(
    error: Exception, logged: str
) -> None:
    stop = RecordingStop()
    action, calls = failing(error, then="the rows")

    with capture_logs() as logs:
        got = portal(stop).step("searching", action)

    assert got == "the rows"
    assert calls == [1, 2]
    assert len(stop.slept) == 1
    (retried,) = [e for e in logs if e["event"] == "step_retried"]
    assert retried["error"].startswith(logged)  # in words, naming the step


@pytest.mark.parametrize(
    "refusal",
    [
        LicenceNotFoundError("2 licences of SRV-10021 match 02 31 45 67 89"),
        ServiceNotFoundError("no service with the ref 'SRV-1'"),
        ServiceNotActiveError("the service SRV-10024 is « Suspendu »"),
        ReadBackMismatchError("the dissociation dialog does not match the plan"),
        PlanRefusedError("1 of 2 licence(s) refused when planning"),
        AuthenticationError("Identifiant ou mot de passe incorrect."),
        DriftError("dialog.submit", "no button « Valider »"),
        ValueError("a bug in a page object"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_refusal_a_drift_or_a_bug_is_never_tried_again(refusal: Exception) -> None:
    stop = RecordingStop()
    told: list[str] = []
    action, calls = failing(refusal, refusal)

    with capture_logs() as logs, pytest.raises(type(refusal)) as raised:
        portal(stop).step("searching", action, on_retry=lambda: told.append("retry"))

    assert raised.value is refusal
    assert calls == [1]
    assert stop.slept == []
    assert told == []
    assert [e for e in logs if e["event"] == "step_retried"] == []


def test_before_each_retry_the_caller_is_told_to_trust_the_screen_no_more() -> None:
    order: list[str] = []

    class Stop(RecordingStop):
        def sleep(self, seconds: float) -> None:
            order.append("wait")
            super().sleep(seconds)

    def action() -> str:
        order.append("try")
        if order.count("try") < 3:
            raise TechnicalError("timed out")
        return "done"

    with capture_logs():
        portal(Stop()).step("searching", action, on_retry=lambda: order.append("forget"))

    assert order == ["try", "forget", "wait", "try", "forget", "wait", "try"]


def test_a_signal_during_the_backoff_stops_the_step_without_trying_again() -> None:
    stop = RecordingStop(signal_during=1)
    action, calls = failing(TechnicalError("timed out"))

    with capture_logs(), pytest.raises(Interrupted):
        portal(stop).step("searching", action)

    assert calls == [1]


def test_a_signal_before_a_step_stops_it_before_its_first_try() -> None:
    stop = RecordingStop()
    with capture_logs():
        stop.request(signal.SIGINT)
    action, calls = failing()

    with capture_logs(), pytest.raises(Interrupted):
        portal(stop).step("searching", action)

    assert calls == []


def test_each_step_has_the_whole_budget_whatever_the_one_before_used() -> None:
    stop = RecordingStop()
    steps = portal(stop)
    first, first_calls = failing(TechnicalError("1"), TechnicalError("2"))
    second, second_calls = failing(TechnicalError("1"), TechnicalError("2"))

    with capture_logs():
        assert steps.step("one", first) == "read"
        assert steps.step("two", second) == "read"

    assert (first_calls, second_calls) == ([1, 2, 3], [1, 2, 3])


# -- a read sent again in place (Portal.goto) ---------------------------------------------


class Answered:
    """What `Page.goto` returns: only its status is read."""

    def __init__(self, status: int) -> None:
        self.status = status


class AnsweringPage(NoPage):
    """A page whose every `goto` gets the next of `statuses`; the addresses are recorded."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.opened: list[str] = []

    def goto(self, url: str) -> Answered:
        self.opened.append(url)
        return Answered(self.statuses[len(self.opened) - 1])


def opening(stop: StopSignal, page: AnsweringPage) -> Portal:
    settings = Settings(base_url="http://127.0.0.1:9", username="demo", password=SecretStr("demo"))
    return Portal(cast(Page, page), load_selectors(None), settings, stop=stop)


def test_a_page_answered_5xx_is_opened_again_in_place_after_a_backoff() -> None:
    stop = RecordingStop()
    page = AnsweringPage(503, 502, 200)

    with capture_logs() as logs:
        opening(stop, page).goto("http://127.0.0.1:9/", "opening the portal")

    assert page.opened == ["http://127.0.0.1:9/"] * 3
    again = [e for e in logs if e["event"] == "read_again"]
    assert [(e["step"], e["attempt"], e["attempts"]) for e in again] == [
        ("opening the portal", 2, 3),
        ("opening the portal", 3, 3),
    ]
    assert len(stop.slept) == 2  # a backoff before each, through the stop signal


def test_a_page_answered_5xx_every_time_fails_after_the_policys_attempts() -> None:
    stop = RecordingStop()
    page = AnsweringPage(503, 503, 503, 200)

    with capture_logs(), pytest.raises(TechnicalError, match="HTTP 503"):
        opening(stop, page).goto("http://127.0.0.1:9/", "opening the portal")

    assert len(page.opened) == 3  # then the step's own retry starts over
    assert len(stop.slept) == 2


def test_a_page_answered_4xx_or_redirected_is_not_opened_again() -> None:
    stop = RecordingStop()
    page = AnsweringPage(404)

    with capture_logs() as logs:
        opening(stop, page).goto("http://127.0.0.1:9/", "opening the portal")

    assert len(page.opened) == 1
    assert [e for e in logs if e["event"] == "read_again"] == []


def test_a_signal_during_the_wait_to_open_a_page_again_stops_it() -> None:
    stop = RecordingStop(signal_during=1)
    page = AnsweringPage(503, 200)

    with capture_logs(), pytest.raises(Interrupted):
        opening(stop, page).goto("http://127.0.0.1:9/", "opening the portal")

    assert len(page.opened) == 1
