"""Helpers shared by the end-to-end tests (imported by name: tests/e2e is on sys.path)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from myopenip_bot.models import Confirmation, LicenceResult, Outcome, PlannedLicence, RunResult

SERVICE = "SRV-10021"

RunFn = Callable[..., RunResult]


class RecordingHooks:
    """Counts logins, names screenshots, records confirmations and answers as told."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.before_answer: Callable[[], object] | None = None  # runs just before "Valider"
        self.logins = 0
        self.screenshots: list[str] = []
        self.confirmations: list[Confirmation] = []
        self.planned_licences: list[PlannedLicence] = []
        self.submitting: list[list[str]] = []  # the refs of each « Valider », in order
        self.settled_results: list[LicenceResult] = []

    @contextmanager
    def logging_in(self, page: Page) -> Iterator[Page]:
        self.logins += 1
        yield page

    def screenshot(self, page: Page, name: str) -> Path | None:
        self.screenshots.append(name)
        return None

    def planned(self, licence: PlannedLicence) -> None:
        self.planned_licences.append(licence)

    def before_valider(self, licences: list[PlannedLicence], screenshot: Path | None) -> None:
        self.submitting.append([licence.licence_ref for licence in licences])

    def settled(self, result: LicenceResult) -> None:
        self.settled_results.append(result)

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


def outcomes(result: RunResult) -> list[Outcome]:
    return [row.outcome for row in result.results]


def confirmed_refs(hooks: RecordingHooks) -> list[list[str]]:
    """The licence refs of each confirmation asked, in order."""
    return [[lc.licence_ref for lc in c.licences] for c in hooks.confirmations]
