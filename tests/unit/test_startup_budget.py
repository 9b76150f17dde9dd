"""The start-up budget (portal/retry.py StartupBudget, MYOPENIP_STARTUP_TIMEOUT): a run's
way in waits for a portal not up yet, by time rather than by attempts, and a signal still
cuts it; later steps keep the policy. Without a browser, as tests/unit/test_retry.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from playwright.sync_api import Page
from pydantic import SecretStr
from retry_support import NoPage, RecordingStop
from structlog.testing import capture_logs

from myopenip_bot.config.selectors import load_selectors
from myopenip_bot.config.settings import Settings
from myopenip_bot.errors import AuthenticationError, Interrupted, TransientError
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.portal.portal import Portal
from myopenip_bot.portal.retry import DEFAULT_POLICY, RetryPolicy, StartupBudget


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def portal(stop: StopSignal, startup_timeout: float, *, startup: bool = True) -> Portal:
    settings = Settings(
        base_url="http://127.0.0.1:9",
        username="demo",
        password=SecretStr("demo"),
        startup_timeout=startup_timeout,
    )
    page = cast(Page, NoPage())
    return Portal(page, load_selectors(None), settings, stop=stop, startup=startup)


def failing(times: int, then: object = "home") -> tuple[Callable[[], Any], list[int]]:
    calls: list[int] = []

    def action() -> object:
        calls.append(len(calls) + 1)
        if len(calls) <= times:
            raise TransientError("opening the portal: the portal answered HTTP 503")
        return then

    return action, calls


# -- the budget ------------------------------------------------------------------------


def test_the_budget_goes_on_past_the_policys_attempts_until_its_time_is_spent() -> None:
    clock = Clock()
    budget = StartupBudget(30, RetryPolicy(attempts=3), clock=clock)

    assert not budget.gives_up(3)  # the policy would stop here
    clock.now += 29.5
    assert budget.left() == pytest.approx(0.5)
    assert not budget.gives_up(10)
    clock.now += 1
    assert budget.left() == 0
    assert budget.gives_up(10)


def test_a_budget_of_zero_is_the_policy_alone() -> None:
    budget = StartupBudget(0, DEFAULT_POLICY)

    assert [budget.gives_up(n) for n in (1, 2, 3)] == [False, False, True]


def test_no_wait_goes_past_the_budgets_end_once_the_policys_attempts_are_used() -> None:
    clock = Clock()
    budget = StartupBudget(10, RetryPolicy(attempts=3, base=4, cap=8), clock=clock)
    clock.now += 9

    assert budget.delay(5) <= 1.0
    assert budget.delay(1) >= 2.0  # the policy's own attempts keep their backoff


# -- a run's way in ----------------------------------------------------------------------


def test_the_first_step_waits_for_the_portal_past_the_policys_three_attempts() -> None:
    stop = RecordingStop()
    action, calls = failing(6)
    way_in = portal(stop, 120)

    with capture_logs() as logs:
        assert way_in.step("opening the portal", action) == "home"

    assert calls == [1, 2, 3, 4, 5, 6, 7]
    retried = [e for e in logs if e["event"] == "step_retried"]
    assert [e["attempt"] for e in retried] == [2, 3, 4, 5, 6, 7]
    assert all(0 < e["seconds_left"] <= 120 for e in retried)
    assert all(e["startup_timeout"] == 120 for e in retried)


def test_after_a_first_step_succeeded_the_next_ones_keep_the_policy() -> None:
    stop = RecordingStop()
    way_in = portal(stop, 120)
    way_in.step("opening the portal", lambda: "home")
    action, calls = failing(6)

    with pytest.raises(TransientError):
        way_in.step("searching", action)

    assert calls == [1, 2, 3]


def test_a_portal_not_made_for_a_runs_start_keeps_the_policy() -> None:
    action, calls = failing(6)

    with pytest.raises(TransientError):
        portal(RecordingStop(), 120, startup=False).step("opening the portal", action)

    assert calls == [1, 2, 3]


def test_a_start_up_timeout_of_zero_gives_up_as_the_policy_does() -> None:
    action, calls = failing(6)

    with pytest.raises(TransientError):
        portal(RecordingStop(), 0).step("opening the portal", action)

    assert calls == [1, 2, 3]


def test_a_signal_in_the_start_up_wait_stops_the_run_at_once() -> None:
    stop = RecordingStop(signal_during=5)
    action, calls = failing(100)

    with pytest.raises(Interrupted):
        portal(stop, 120).step("opening the portal", action)

    assert calls == [1, 2, 3, 4, 5]  # no attempt after the signal


def test_a_refused_login_is_never_waited_for() -> None:
    calls: list[int] = []

    def refused() -> None:
        calls.append(1)
        raise AuthenticationError("the portal refused the login of 'demo'")

    with pytest.raises(AuthenticationError):
        portal(RecordingStop(), 120).step("logging in", refused)

    assert calls == [1]
