"""A run's entries in the ledger, written as the runner reports them.

Before « Valider »: a `submitting` entry per licence, on disk when `submitting` returns
(with PostgreSQL, once the team's lock on the service is held). After: `in_progress`
when the portal accepted it, then each outcome as soon as it is known. A write that
fails raises LedgerWriteError: the runner stops before its next « Valider »; what
follows in that run is not written (it is in the run's own files) and said in its log.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from myopenip_bot.dissociation.observer import Observer
from myopenip_bot.errors import TechnicalError
from myopenip_bot.ledger.entries import SUBMITTING, Entry, at_text
from myopenip_bot.ledger.store import Ledger, LedgerWriteError
from myopenip_bot.models import LicenceTask, Outcome, ServiceInfo

__all__ = ["LedgerObserver", "RunContext", "ServiceLockedError", "os_user"]

log = structlog.get_logger(__name__)


class ServiceLockedError(TechnicalError):
    """Another machine holds the team ledger's lock on the service: it is acting on it.
    Nothing was clicked; run again once it is done (exit 3; a batch leaves its rows to do)."""


def os_user() -> str:
    """Who runs the bot on this machine (its login name), or "?" when it has none."""
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (a container): said, not a crash
        return "?"


@dataclass(frozen=True)
class RunContext:
    """What every entry of a run shares."""

    portal: str  # entries.portal_key() of the base URL
    portal_user: str
    command: str  # "dissociate", "batch"
    run_dir: Path | None
    dry_run: bool = False
    ticket: str = ""  # --ticket; a target's own (a batch row's) wins
    os_user: str = ""
    host: str = ""

    @classmethod
    def of(
        cls,
        *,
        portal: str,
        portal_user: str,
        command: str,
        run_dir: Path | None,
        dry_run: bool = False,
        ticket: str = "",
    ) -> RunContext:
        return cls(
            portal=portal,
            portal_user=portal_user,
            command=f"{command} --dry-run" if dry_run else command,
            run_dir=run_dir,
            dry_run=dry_run,
            ticket=ticket,
            os_user=os_user(),
            host=socket.gethostname(),
        )


class LedgerObserver(Observer):
    """One runner's entries (a batch: one per worker, told each service it starts)."""

    def __init__(self, ledger: Ledger, context: RunContext, *, service: str = "") -> None:
        self.ledger = ledger
        self.context = context
        self.service = ServiceInfo(ref=service)
        self.failed: LedgerWriteError | None = None
        self._locked: str | None = None

    def start_service(self, ref: str) -> None:
        """A batch's worker goes on to the service `ref`: the last one's lock is let go."""
        self._let_go()
        self.service = ServiceInfo(ref=ref)

    def close(self) -> None:
        """The run is over: the lock it held is let go."""
        self._let_go()

    # -- the runner's reports -----------------------------------------------------

    def service_found(self, service: ServiceInfo) -> None:
        if service.ref != self.service.ref:
            self._let_go()
        self.service = service

    def submitting(self, tasks: Sequence[LicenceTask], screenshot: Path | None) -> None:
        if self.failed is not None:  # the run is stopping: never a click without its record
            raise self.failed
        self._lock()
        self._write(tasks, SUBMITTING, lambda task: "« Valider » is about to be clicked")

    def accepted(self, tasks: Sequence[LicenceTask], status: str | None) -> None:
        said = f"« {status} »" if status else "the portal's answer"
        self._write(
            tasks, Outcome.IN_PROGRESS.value, lambda task: f"accepted ({said}); being read back"
        )

    def settled(self, tasks: Sequence[LicenceTask]) -> None:
        # A licence never found by a run that stopped says nothing about the portal.
        told = [
            task
            for task in tasks
            if task.outcome is not None
            and not (task.outcome is Outcome.SKIPPED and task.licence_ref is None)
        ]
        if told:
            self._write(told, None, lambda task: task.reason or "")

    # -- writing ------------------------------------------------------------------

    def _lock(self) -> None:
        ref = self.service.ref
        if self.context.dry_run or self._locked == ref or not ref:
            return
        self._let_go()
        if not self.ledger.try_lock_service(self.context.portal, ref):
            raise ServiceLockedError(
                f"another run holds the lock of the team ledger ({self.ledger.name}) on the "
                f"service {ref}: it is acting on it now; nothing was clicked, run again "
                "once it is done"
            )
        self._locked = ref

    def _let_go(self) -> None:
        if self._locked is not None:
            self.ledger.unlock_service(self.context.portal, self._locked)
            self._locked = None

    def _write(
        self,
        tasks: Sequence[LicenceTask],
        outcome: str | None,
        reason: Callable[[LicenceTask], str],
    ) -> None:
        if self.failed is not None:
            log.error(
                "ledger_entries_not_written",
                licences=[task.licence_ref or task.target.label() for task in tasks],
                why="the ledger failed earlier in this run",
            )
            return
        at = at_text(datetime.now(UTC))
        entries = [self._entry(task, at, outcome or _value(task), reason(task)) for task in tasks]
        try:
            self.ledger.record(entries)
        except LedgerWriteError as error:
            self.failed = error
            log.error("ledger_write_failed", ledger=self.ledger.name, error=str(error))
            raise

    def _entry(self, task: LicenceTask, at: str, outcome: str, reason: str) -> Entry:
        context = self.context
        return Entry(
            at=at,
            os_user=context.os_user,
            host=context.host,
            portal_user=context.portal_user,
            portal=context.portal,
            client=self.service.client,
            account=self.service.account,
            service=self.service.ref,
            licence=task.licence_ref or task.target.licence_ref or "",
            number=task.number or task.target.number or "",
            keep_number=task.keep,
            outcome=outcome,
            reason=reason,
            ticket=task.target.ticket or context.ticket,
            command=context.command,
            run_dir=str(context.run_dir) if context.run_dir else "",
            user=task.user or task.target.user or "",
        )


def _value(task: LicenceTask) -> str:
    assert task.outcome is not None
    return task.outcome.value
