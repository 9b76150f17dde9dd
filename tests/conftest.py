"""Fixtures shared by every test: the browser to launch and the replica server.

Lifetimes follow cost: one replica server and one browser per session; a fresh data set
(`POST /_test/reset`) and a fresh browser context per test. Tests that need a replica
with other flags (faults, a short session TTL) start their own with `replica_factory`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import browser_server
import pytest

from myopenip.replica import Replica, run_replica
from myopenip_bot.browser.launch import BrowserLaunch, find_browser


@pytest.fixture(autouse=True)
def own_state_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test its own user state folder (XDG_STATE_HOME): the bot's records of what
    the portal accepted live there by default, and the session's replica keeps its
    address from one test to the next while its data is reset."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(scope="session", autouse=True)
def browser_server_stopped() -> Iterator[None]:
    """The worker's browser server, started by the first command run that connects to it
    (tests/support/browser_server.py), stopped with its Chromium when the session ends."""
    yield
    browser_server.stop()


@pytest.fixture(scope="session")
def browser_launch(pytestconfig: pytest.Config) -> BrowserLaunch:
    """The Chromium the bot itself would pick (MYOPENIP_BROWSER_PATH, Playwright's, system:
    its headless shell unless --headed)."""
    headless = not pytestconfig.getoption("headed", False)
    return find_browser(os.environ.get("MYOPENIP_BROWSER_PATH"), headless=headless)


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], browser_launch: BrowserLaunch
) -> dict[str, Any]:
    """Make pytest-playwright's `browser`/`page` fixtures launch the same Chromium."""
    return {**browser_type_launch_args, **browser_launch.as_kwargs()}


@pytest.fixture(scope="session")
def replica_server() -> Iterator[Replica]:
    """One replica for the whole session, with its test API on and without the built-in
    delays (a test about a loading state turns them on: `replica.faults(...)`)."""
    with run_replica(delays=False) as replica:
        yield replica


@pytest.fixture
def replica(replica_server: Replica) -> Replica:
    """The session's replica, its data reset to the default seed before the test."""
    replica_server.test_api("reset")
    return replica_server


@pytest.fixture
def replica_factory() -> Iterator[Callable[..., Replica]]:
    """Start extra replicas with their own flags, e.g. `replica_factory("--error-rate", "1")`."""
    with ExitStack() as stack:

        def start(*args: str, **kwargs: Any) -> Replica:
            return stack.enter_context(run_replica(*args, **kwargs))

        yield start
