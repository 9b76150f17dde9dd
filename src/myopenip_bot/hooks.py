"""Callbacks the workflow runner makes: where to log in, screenshots, the confirmation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from playwright.sync_api import Page

from myopenip_bot.models import Confirmation, LicenceResult, PlannedLicence

ConfirmFn = Callable[[Confirmation], bool]


class RunnerHooks(Protocol):
    """What the runner asks of its caller; `NoHooks` is the default."""

    def logging_in(self, page: Page) -> AbstractContextManager[Page]:
        """A page to type the credentials on, for every login (first or after expiry).

        The bot's session yields a page of a separate browser context that is never
        traced, then hands its cookies to `page`'s context and saves the login; the
        default yields `page` itself.
        """
        ...

    def screenshot(self, page: Page, name: str) -> Path | None:
        """Keep a screenshot of the page, e.g. "dialog-before-valider"; where it went."""
        ...

    def confirm(self, confirmation: Confirmation) -> bool:
        """Ask once, before the first « Valider », whether to do the whole plan."""
        ...

    def planned(self, licence: PlannedLicence) -> None:
        """A licence was found with a number: it is planned (not yet confirmed)."""
        ...

    def before_valider(self, licences: list[PlannedLicence], screenshot: Path | None) -> None:
        """Record that « Valider » is about to be clicked for `licences` (a journal writes
        and syncs it here: it must be on disk when this returns)."""
        ...

    def settled(self, result: LicenceResult) -> None:
        """A licence has its outcome (called as soon as it is known)."""
        ...


def always_yes(confirmation: Confirmation) -> bool:
    """The confirmation of `--yes` runs and of callers that confirmed beforehand."""
    return True


class NoHooks:
    """Hooks for tests and `--yes` runs without artifacts: log in on the run's own page."""

    @contextmanager
    def logging_in(self, page: Page) -> Iterator[Page]:
        yield page

    def screenshot(self, page: Page, name: str) -> Path | None:
        return None

    def confirm(self, confirmation: Confirmation) -> bool:
        return True

    def planned(self, licence: PlannedLicence) -> None:
        return None

    def before_valider(self, licences: list[PlannedLicence], screenshot: Path | None) -> None:
        return None

    def settled(self, result: LicenceResult) -> None:
        return None
