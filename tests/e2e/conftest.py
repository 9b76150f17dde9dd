"""Fixtures for the workflow's end-to-end tests: a Runner on pytest-playwright's page,
pointed at the replica, with hooks that record what the runner asked for."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import SERVICE, RecordingHooks, RunFn
from playwright.sync_api import Page
from pydantic import SecretStr

from myopenip.replica import Replica
from myopenip_bot.models import DissociationRequest, RunResult, Target
from myopenip_bot.selectors import Selectors, load_selectors
from myopenip_bot.workflow import Runner


@pytest.fixture(scope="session")
def selectors() -> Selectors:
    return load_selectors(None)


@pytest.fixture
def hooks() -> RecordingHooks:
    return RecordingHooks()


@pytest.fixture
def run(page: Page, replica: Replica, selectors: Selectors, hooks: RecordingHooks) -> RunFn:
    """Run the bot on the test's page against `replica` (or `on=` another one)."""

    def go(
        *targets: Target,
        keep: bool = False,
        dry_run: bool = False,
        service: str = SERVICE,
        skip_refused: bool = False,
        on: Replica | None = None,
        password: str | None = None,
        **runner_options: Any,
    ) -> RunResult:
        portal = on or replica
        runner = Runner(
            page,
            selectors,
            base_url=portal.url,
            username=portal.username,
            password=SecretStr(password if password is not None else portal.password),
            hooks=hooks,
            timeout_ms=runner_options.pop("timeout_ms", 10_000),
        )
        request = DissociationRequest(
            service_ref=service,
            targets=targets,
            keep_number=keep,
            dry_run=dry_run,
            skip_refused=skip_refused,
        )
        return runner.run(request)

    return go
