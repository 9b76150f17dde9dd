"""What a batch is given and what it gives back, as plain data: its options, the one
question before its first « Valider », how its rows are shared between workers, and its
result (every row of the file, and how the run ended). No browser: a report or an exit
code is made from these alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from myopenip_bot.batch import rules
from myopenip_bot.batch.journal import JournalRow, Stage, State
from myopenip_bot.models import ErrorKind

__all__ = ["BatchConfirmation", "BatchOptions", "BatchResult", "BatchTotals", "WorkSplit"]


@dataclass(frozen=True)
class BatchOptions:
    file: Path
    journal: Path
    report_dir: Path
    dry_run: bool = False
    workers: int = 1
    max_failures: int = 5
    ticket: str = ""  # --ticket: the ledger's, for the rows without a ticket of their own


@dataclass(frozen=True)
class BatchTotals:
    """What a run is about to do: shown and confirmed once, before the first « Valider »."""

    services: int
    licences: int
    kept: int
    released: int


@dataclass(frozen=True)
class BatchConfirmation:
    """The one question of a run, before its first « Valider »: the totals, the portal's
    warnings, and every row of the file as the journal has it now (those this run read
    carry its id: planned with their number, or refused with why)."""

    totals: BatchTotals
    warnings: tuple[str, ...]
    rows: tuple[JournalRow, ...]
    run: int | None


@dataclass
class BatchResult:
    """Every row of the file with its state, and how the run ended."""

    rows: list[JournalRow]
    dry_run: bool = False
    would_do: set[str] = field(default_factory=set)  # licences a dry run would dissociate
    not_confirmed: bool = False
    interrupted: int | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    error_type: str | None = None  # the error's class name
    stopped_after_failures: bool = False
    services: dict[str, str] = field(default_factory=dict)  # service ref -> client
    unreached: str | None = None  # why the rows this run never reached stay as they were
    reached: frozenset[str] = frozenset()  # licences this run planned or settled
    report_error: str | None = None  # why its report could not be written (run_batch)
    #: each row's ticket for the ledger: its own (the file's ticket column), else --ticket
    tickets: dict[tuple[str, str], str] = field(default_factory=dict)
    ticket: str = ""  # --ticket

    def ticket_of(self, row: JournalRow) -> str:
        """The ticket the ledger records for `row`: its own, else the run's --ticket."""
        return self.tickets.get((row.service, row.licence)) or self.ticket

    def outcome(self, row: JournalRow) -> State:
        """The row's outcome in every output (rules.outcome_of)."""
        return rules.outcome_of(
            row.state, would_do=row.licence in self.would_do, not_confirmed=self.not_confirmed
        )

    def reason(self, row: JournalRow) -> str | None:
        """Why the row is as it is, in every output: a row waiting for a run that this
        one never reached says why (kept here, not written to its 200,000 journal rows:
        the next run gives its own)."""
        if (
            self.unreached is not None
            and row.state in (Stage.PENDING, Stage.PLANNED)
            and row.licence not in self.reached
        ):
            return self.unreached
        return row.reason


@dataclass(frozen=True)
class WorkSplit:
    """How a run shares its rows: `asked` workers, `workers` started (no more than the
    parts), the parts in the order they are taken."""

    asked: int
    workers: int
    parts: Sequence[rules.WorkPart]

    @property
    def split(self) -> dict[str, tuple[int, ...]]:
        """The services split between workers: the rows of each of their parts."""
        out: dict[str, list[int]] = {}
        for part in self.parts:
            if part.parts > 1:
                out.setdefault(part.service, []).append(len(part.licences))
        return {service: tuple(sizes) for service, sizes in out.items()}
