"""Helpers shared by the end-to-end tests (imported by name: tests/support is on sys.path)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from pydantic import SecretStr

from myopenip.replica import Replica
from myopenip_bot.config.settings import Settings
from myopenip_bot.dissociation.observer import Observer
from myopenip_bot.models import Confirmation, LicenceTask, Outcome, RunResult

SERVICE = "SRV-10021"

RunFn = Callable[..., RunResult]


def replica_settings(replica: Replica, **more: Any) -> Settings:
    """The bot's settings for `replica` (its URL and credentials), with `more` of them."""
    return Settings(
        base_url=replica.url,
        username=replica.username,
        password=SecretStr(replica.password),
        **more,
    )


def on_markup(name: str) -> pytest.MarkDecorator:
    """Run an end-to-end test on one markup only (tests/e2e/conftest.py runs every other
    on both): for a rule the runner applies to what it read, whatever the markup."""
    return pytest.mark.parametrize("markup", [name], indirect=True)


class RecordingHooks(Observer):
    """The runner's observer, login page, confirmation and screenshots, recorded: counts
    logins, names screenshots, records confirmations and answers as told."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.before_answer: Callable[[], object] | None = None  # runs just before "Valider"
        self.logins = 0
        self.screenshots: list[str] = []
        self.confirmations: list[Confirmation] = []
        self.planned_licences: list[LicenceTask] = []
        self.submitting_refs: list[list[str]] = []  # the refs of each « Valider », in order
        self.settled_results: list[LicenceTask] = []

    @contextmanager
    def logging_in(self, page: Page) -> Iterator[Page]:
        self.logins += 1
        yield page

    def screenshot(self, page: Page, name: str) -> Path | None:
        self.screenshots.append(name)
        return None

    def planned(self, task: LicenceTask) -> None:
        self.planned_licences.append(task)

    def submitting(self, tasks: Sequence[LicenceTask], screenshot: Path | None) -> None:
        self.submitting_refs.append([task.licence_ref or "" for task in tasks])

    def settled(self, tasks: Sequence[LicenceTask]) -> None:
        self.settled_results.extend(tasks)

    def confirm(self, confirmation: Confirmation) -> bool:
        self.confirmations.append(confirmation)
        if self.before_answer is not None:
            self.before_answer()
        return self.answer


def licence(state: dict[str, Any], ref: str) -> dict[str, Any]:
    """The replica's record of one licence."""
    (found,) = [row for row in state["licences"] if row["ref"] == ref]
    return found


def number_state(state: dict[str, Any], number: str) -> str:
    """ "assigned", "available" or "quarantine"."""
    (found,) = [row for row in state["numbers"] if row["number"] == number]
    return str(found["state"])


def outcomes(result: RunResult) -> list[Outcome | None]:
    return [row.outcome for row in result.results]


def confirmed_refs(hooks: RecordingHooks) -> list[list[str]]:
    """The licence refs of each confirmation asked, in order."""
    return [[lc.licence_ref or "" for lc in c.licences] for c in hooks.confirmations]
