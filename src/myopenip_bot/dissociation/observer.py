"""What a run tells whoever watches it: a no-op base class to override what you need.

The runner reports, in order, each licence planned, each batch about to be submitted
(before « Valider »: a journal writes and syncs it there), each batch the portal
accepted (its status message read: never to be sent again), and each group of outcomes
as soon as they are known. An observer only records; it never changes the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from myopenip_bot.models import Confirmation, LicenceTask, ServiceInfo

__all__ = ["Confirm", "Observer", "Observers", "always_yes"]

#: Asked once per run, before the first « Valider », with the whole plan: True to go on.
Confirm = Callable[[Confirmation], bool]


def always_yes(confirmation: Confirmation) -> bool:
    """The confirmation of `--yes` runs and of callers that confirmed beforehand."""
    return True


class Observer:
    """Told what a run does, as it does it; every method does nothing unless overridden."""

    def service_found(self, service: ServiceInfo) -> None:
        """The service the run acts on, as the services list shows it (its client)."""

    def planned(self, task: LicenceTask) -> None:
        """A licence was found with a number: it is planned (not yet confirmed)."""

    def submitting(self, tasks: Sequence[LicenceTask], screenshot: Path | None) -> None:
        """« Valider » is about to be clicked for `tasks` (their `submissions` count it).
        Whatever must be on disk before the click must be when this returns."""

    def accepted(self, tasks: Sequence[LicenceTask], status: str | None) -> None:
        """The portal accepted « Valider » for `tasks` (`status`, its message): the listing
        is read next, and may show them done only later (then they stay in progress)."""

    def settled(self, tasks: Sequence[LicenceTask]) -> None:
        """These licences have their outcomes (told as soon as they are known)."""


class Observers(Observer):
    """Several observers told the same, in their order (a batch's journal, then the
    ledger): the first that raises stops the telling, and the run."""

    def __init__(self, *observers: Observer) -> None:
        self.observers = observers

    def service_found(self, service: ServiceInfo) -> None:
        for observer in self.observers:
            observer.service_found(service)

    def planned(self, task: LicenceTask) -> None:
        for observer in self.observers:
            observer.planned(task)

    def submitting(self, tasks: Sequence[LicenceTask], screenshot: Path | None) -> None:
        for observer in self.observers:
            observer.submitting(tasks, screenshot)

    def accepted(self, tasks: Sequence[LicenceTask], status: str | None) -> None:
        for observer in self.observers:
            observer.accepted(tasks, status)

    def settled(self, tasks: Sequence[LicenceTask]) -> None:
        for observer in self.observers:
            observer.settled(tasks)
