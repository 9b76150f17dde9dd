"""Callbacks the workflow runner makes so that the caller can keep secrets out of artifacts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from playwright.sync_api import Page

from myopenip_bot.models import Target


class RunnerHooks(Protocol):
    """What the runner tells its caller; the default does nothing."""

    @contextmanager
    def logging_in(self) -> Iterator[None]:
        """Wraps every login (first or after expiry): tracing is paused, state saved after."""
        yield

    def screenshot(self, page: Page, name: str) -> None:
        """Keep a screenshot of the page, e.g. "dialog-before-valider", "verification"."""

    def confirm(self, plan: list[tuple[Target, str, str]], warnings: list[str]) -> bool:
        """Ask a person to confirm [(target, licence_ref, number)] given the portal's warnings."""
        return True


class NoHooks:
    """Hooks for tests and `--yes` runs without artifacts."""

    @contextmanager
    def logging_in(self) -> Iterator[None]:
        yield

    def screenshot(self, page: Page, name: str) -> None:
        return None

    def confirm(self, plan: list[tuple[Target, str, str]], warnings: list[str]) -> bool:
        return True


ConfirmFn = Callable[[list[tuple[Target, str, str]], list[str]], bool]
