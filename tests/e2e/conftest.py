"""Fixtures for the bot's end-to-end tests: the replica in each of its markups, a Runner
on pytest-playwright's page pointed at it, with hooks that record what the runner asked.

Every test here runs once per markup: "classic" (the replica's own HTML) and "aria"
(divs with ARIA roles, other URLs, no hint texts): the bot must drive both unchanged.
`make test` runs each test on one of them, in turn from one test to the next, and
`make test-rest` on the other (tests/support/tiers.py); CI runs both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from e2e_support import SERVICE, RecordingHooks, RunFn
from playwright.sync_api import Page
from pydantic import SecretStr

from myopenip.replica import Replica, run_replica
from myopenip_bot.config.selectors import Selectors, load_selectors
from myopenip_bot.config.settings import Settings
from myopenip_bot.dissociation.runner import Runner
from myopenip_bot.models import DissociationRequest, RunResult, Target
from myopenip_bot.portal.portal import Portal

MARKUPS = ("classic", "aria")


@pytest.fixture(scope="session", params=MARKUPS)
def markup(request: pytest.FixtureRequest) -> str:
    """The replica's markup this test runs against."""
    return str(request.param)


@pytest.fixture(scope="session")
def replica_server(markup: str) -> Iterator[Replica]:
    """One replica per markup for the whole session, with its test API on."""
    with run_replica(markup=markup, delays=False) as replica:
        yield replica


@pytest.fixture
def replica_factory(markup: str) -> Iterator[Callable[..., Replica]]:
    """Start extra replicas of this markup with their own flags (faults, a password)."""
    with ExitStack() as stack:

        def start(*args: str, **kwargs: Any) -> Replica:
            return stack.enter_context(run_replica(*args, markup=markup, **kwargs))

        yield start


@pytest.fixture(scope="session")
def selectors() -> Selectors:
    return load_selectors(None)


@pytest.fixture
def hooks() -> RecordingHooks:
    return RecordingHooks()


@pytest.fixture
def run(
    page: Page, replica: Replica, selectors: Selectors, hooks: RecordingHooks, tmp_path: Path
) -> RunFn:
    """Run the bot on the test's page against `replica` (or `on=` another one)."""

    def go(
        *targets: Target,
        keep: bool = False,
        dry_run: bool = False,
        service: str = SERVICE,
        skip_refused: bool = False,
        on: Replica | None = None,
        password: str | None = None,
        settings: dict[str, Any] | None = None,
        using: Selectors | None = None,
        **runner_options: Any,
    ) -> RunResult:
        """`settings`: more of them (completion_timeout=…); `using`: other selectors."""
        replica_on = on or replica
        configured = Settings(
            base_url=replica_on.url,
            username=replica_on.username,
            password=SecretStr(password if password is not None else replica_on.password),
            timeout_ms=runner_options.pop("timeout_ms", 10_000),
            # a refused login is remembered there: in the test's folder, not the checkout's
            **({"work_dir": tmp_path / "work"} | (settings or {})),
        )
        portal = Portal(
            page, using or selectors, configured, login_page=hooks.logging_in, **runner_options
        )
        runner = Runner(portal, observer=hooks, confirm=hooks.confirm, screenshot=hooks.screenshot)
        request = DissociationRequest(
            service_ref=service,
            targets=targets,
            keep_number=keep,
            dry_run=dry_run,
            skip_refused=skip_refused,
        )
        return runner.run(request)

    return go
