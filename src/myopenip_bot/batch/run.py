"""One batch end to end: the report folder, the journal, the workers, the report.

    run_batch(settings, options, rows, exit_code=…)
    ├── the report folder   checked (no link, writable) and created; removed again when
    │                       the run writes no report in it
    ├── the journal         locked and opened (a dry run: a throwaway copy of it, in a
    │                       private work area); one whose runs logged in to another
    │                       portal refused
    ├── the run             begun (Journal.begin): it resumes the last run when that one
    │                       was of the same rows and was killed or left one not final;
    │                       else a new run, which reads every row of the file again (its
    │                       final rows back to pending); the file's rows added
    ├── the workers         Batch.run: every event in the report folder's events.jsonl,
    │                       each row settled logged and told to `progress`
    └── the report          written with the exit code `exit_code` gives (the
                            application's), which the journal records too (not a dry run's)

The caller reads the file, asks (`confirm`, before the first « Valider »), shows the
progress and prints the outcome; nothing here prints, asks or exits. Failures before any
row raise: JournalLockedError, SettingsError, UsageError (the report folder, a journal
of another portal), Interrupted (a signal while loading the journal).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from myopenip_bot.batch.file import BatchRow
from myopenip_bot.batch.journal import (
    Journal,
    JournalRow,
    JournalWriteError,
    RunRecord,
    Stage,
    State,
    copy_for_dry_run,
)
from myopenip_bot.batch.report import Summary, check_report_folder, document, write_report
from myopenip_bot.batch.results import BatchConfirmation, BatchOptions, BatchResult, WorkSplit
from myopenip_bot.browser.workdir import WorkArea
from myopenip_bot.config.logs import RunLog
from myopenip_bot.config.selectors import Selectors, load_selectors
from myopenip_bot.config.settings import Settings
from myopenip_bot.errors import BotError, UsageError
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.ledger import Ledger, open_ledger
from myopenip_bot.models import Outcome
from myopenip_bot.text import json_text

if TYPE_CHECKING:
    from myopenip_bot.batch.runner import Batch

__all__ = [
    "BatchConfirm",
    "BatchProgress",
    "BatchRun",
    "default_journal",
    "default_report",
    "run_batch",
]

log = structlog.get_logger(__name__)

#: Asked once per run, before the first « Valider », with the rows read: True to go on.
BatchConfirm = Callable[[BatchConfirmation], bool]

# Rows settled at once beyond this are logged as one `batch_rows` event, not one each.
_LOGGED_ONE_BY_ONE = 50


class BatchProgress:
    """What a batch tells whoever shows its progress; every method does nothing unless
    overridden. Told from the workers' threads (`advanced`) and the caller's."""

    def started(self, rows: int) -> None:
        """The workers start on `rows` rows (those of the file not final yet)."""

    def advanced(self, rows: int) -> None:
        """`rows` more rows have an outcome (each row is counted once)."""

    def ended(self) -> None:
        """The workers have ended; the report is written next."""

    def split(self, split: WorkSplit) -> None:
        """How the rows are shared between workers, when a service is split between them
        or fewer workers start than were asked (before any worker starts)."""


@dataclass(frozen=True)
class BatchRun:
    """How a batch ended, and what it left.

    `summary` is the report's summary.json (what `--json` prints), or the same document
    when the report could not be written (`report` None, `report_error` why). `resumes`:
    the run this one resumed (its final rows were not read again), None for a new run.
    """

    result: BatchResult
    exit_code: int
    summary: Summary
    journal: Path | None  # None for a dry run: it wrote none
    report: Path | None = None
    report_error: str | None = None
    resumes: RunRecord | None = None


def default_journal(file: Path) -> Path:
    """One journal per batch file (by its absolute path), under .myopenip/journals/."""
    digest = hashlib.sha256(str(file.expanduser().resolve()).encode()).hexdigest()[:8]
    return Path(".myopenip") / "journals" / f"{file.stem}-{digest}.sqlite"


def default_report(traces_dir: Path, file: Path) -> Path:
    """A new run folder for the report: "<time>-batch-<file>" under the traces folder."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return traces_dir / f"{stamp}-batch-{file.stem}"


def run_batch(
    settings: Settings,
    options: BatchOptions,
    rows: list[BatchRow],
    *,
    exit_code: Callable[[BatchResult], int],
    selectors: Selectors | None = None,
    confirm: BatchConfirm | None = None,
    progress: BatchProgress | None = None,
    stop: StopSignal | None = None,
) -> BatchRun:
    """Do the rows of `rows` (the file's, read): every one in a new run, those the
    journal at `options.journal` does not hold final when this run resumes the last one
    (Journal.begin), with `options.workers` browsers; write the report into
    `options.report_dir`. `confirm` None: confirmed beforehand (--yes, or a dry run).
    `exit_code` turns the result into the code the journal and the report record."""
    selectors = selectors or load_selectors(settings.selectors_file)
    # First: a ledger that cannot be opened stops the run with nothing done, no folder.
    ledger = open_ledger(settings.ledger.get_secret_value() if settings.ledger else None)
    run_log = RunLog()  # the events wait in memory until the report folder is known
    try:
        with run_log.bound():
            return _run(
                settings,
                options,
                rows,
                exit_code,
                selectors,
                confirm,
                progress or BatchProgress(),
                stop or StopSignal(),
                run_log,
                ledger,
            )
    finally:
        run_log.close()
        ledger.close()


def _run(
    settings: Settings,
    options: BatchOptions,
    rows: list[BatchRow],
    exit_code: Callable[[BatchResult], int],
    selectors: Selectors,
    confirm: BatchConfirm | None,
    progress: BatchProgress,
    stop: StopSignal,
    run_log: RunLog,
    ledger: Ledger,
) -> BatchRun:
    from myopenip_bot.batch.runner import Batch  # imports Playwright

    folder = options.report_dir
    created = _prepare_report_folder(folder)
    try:
        journal, area = _open_journal(options.journal, options.dry_run, settings.work_dir)
    except BaseException:
        _forget_folder(folder, created)
        raise
    shown_journal = None if options.dry_run else options.journal
    try:
        other = journal.other_portal(settings.base_url)
        if other is not None:  # its "done" rows are another portal's: nothing would be done here
            _forget_folder(folder, created)
            raise UsageError(
                f"the journal {options.journal} records runs on {other}, and this run is on "
                f"{settings.base_url} (MYOPENIP_BASE_URL): a journal belongs to one portal; "
                "give this one its own --journal"
            )
        existing, resumed = journal.begin(options.file, rows, check=stop.check)
        run_log.open(folder)  # every worker's events, in one file
        _log_begun(journal, existing, resumed)
        told = _Told(progress)
        batch = Batch(
            settings,
            options,
            rows,
            journal,
            selectors=selectors,
            stop=stop,
            ask=confirm,
            on_rows=told,
            on_split=progress.split,
            run_log=run_log,
            ledger=ledger,
        )
        told.batch = batch
        progress.started(sum(not row.final for row in existing))
        try:
            result = batch.run(existing)
        finally:
            progress.ended()
        run = _report(result, exit_code, options, shown_journal, resumed)
        if not options.dry_run:
            _finish_run(journal, run)  # the next run: a new one, or resumes it
    finally:
        journal.close()
        if area is not None:
            area.close()  # the dry run's copy of the journal
    data = run.summary.document
    code = run.exit_code
    log.log(
        _finish_level(run),
        "batch_finished",
        exit_code=code,
        counts=data["counts"],
        total=data["total"],
        dry_run=data["dry_run"],
        interrupted=data["interrupted"],
        error=data["error"],
        stopped_after_failures=data["stopped_after_failures"],
        report=data["report"],
        report_error=data.get("report_error"),
        journal=data["journal"],
    )
    return run


def _finish_level(run: BatchRun) -> int:
    """`batch_finished`'s level, for monitoring: info when it ended well (exit 0), an error
    when something failed (the run's error, the report, a row failed or left unknown), else
    a warning (rows refused, not confirmed, in progress; a signal)."""
    if run.exit_code == 0:
        return logging.INFO
    counts = run.summary.document["counts"]
    failed = any(counts.get(outcome.value) for outcome in _FAILED)
    if run.result.error is not None or run.result.report_error is not None or failed:
        return logging.ERROR
    return logging.WARNING


def _finish_run(journal: Journal, run: BatchRun) -> None:
    """Record the run's end in the journal; a journal that cannot be written any more (its
    run stopped for that, or the disk filled at the last moment) is said, not raised."""
    try:
        journal.finish_run(run.exit_code, run.report)
    except JournalWriteError as error:
        log.error("batch_end_not_recorded", journal=str(journal.path), error=str(error))


def _log_begun(journal: Journal, rows: list[JournalRow], resumed: RunRecord | None) -> None:
    """Say whether this run is a new one (every row read again) or resumes the last one
    (how many rows it settled are not read again, and why)."""
    if resumed is None:
        log.info("batch_new_run", run=journal.run_id, rows=len(rows))
        return
    log.info(
        "batch_resumes",
        run=journal.run_id,
        resumes=resumed.id,
        resumed_started_at=resumed.started_at,
        resumed_exit_code=resumed.exit_code,
        not_read_again=sum(row.final for row in rows),
        why="the last run, of the same rows, was killed or left rows not final: its final "
        "rows stand",
    )


def _report(
    result: BatchResult,
    exit_code: Callable[[BatchResult], int],
    options: BatchOptions,
    journal: Path | None,
    resumed: RunRecord | None = None,
) -> BatchRun:
    """The run with its report written (a dry run's names no journal: it wrote none), or,
    when it could not be (a full disk, permissions), with the same document saying why
    (`report_error`; its exit code is the one `exit_code` gives a report not written)."""
    code = exit_code(result)
    resumes = resumed.started_at if resumed is not None else None
    try:
        summary = write_report(
            result,
            options.report_dir,
            file=options.file,
            journal=journal,
            exit_code=code,
            resumes=resumes,
        )
    except (OSError, BotError) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        if options.dry_run:
            kept = "the run changed nothing (a dry run)"
        elif result.error_type == JournalWriteError.__name__:
            kept = f"the journal {journal} could not be written either: the rows are in --json"
        else:
            kept = f"every row's outcome is in the journal {journal}, complete"
        result.report_error = (
            f"the report could not be written in {options.report_dir} ({why}): {kept}"
        )
        code = exit_code(result)
        data = document(
            result, code, file=options.file, journal=journal, report=None, resumes=resumes
        )
        log.error("batch_report_not_written", folder=str(options.report_dir), error=str(error))
        return BatchRun(
            result,
            code,
            Summary(data, json_text(data)),
            journal,
            None,
            result.report_error,
            resumed,
        )
    return BatchRun(result, code, summary, journal, options.report_dir, resumes=resumed)


class _Told:
    """The rows the workers settle, as the journal has them: each logged, and counted
    once for the progress (any worker's thread)."""

    def __init__(self, progress: BatchProgress) -> None:
        self.progress = progress
        self.batch: Batch | None = None  # the batch that tells: its outcomes
        self._counted: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, rows: list[JournalRow]) -> None:
        assert self.batch is not None
        outcomes = [self.batch.outcome(row) for row in rows]
        if len(rows) <= _LOGGED_ONE_BY_ONE:
            for row, outcome in zip(rows, outcomes, strict=True):
                log.log(
                    _row_level(outcome),
                    "batch_row",
                    service=row.service,
                    licence=row.licence,
                    state=row.state.value,
                    outcome=outcome.value,
                )
        else:  # thousands settled at once (a whole service refused, a stop): one event
            log.log(
                max(map(_row_level, outcomes)),
                "batch_rows",
                service=rows[0].service,
                rows=len(rows),
                outcomes={outcome.value: n for outcome, n in Counter(outcomes).items()},
            )
        with self._lock:
            new = {
                row.licence
                for row, outcome in zip(rows, outcomes, strict=True)
                if outcome != Stage.PENDING and row.licence not in self._counted
            }
            self._counted.update(new)
        if new:
            self.progress.advanced(len(new))


# Rows' outcomes as monitoring sees them: failed or unknown an error, refused a warning.
_FAILED = (Outcome.FAILED, Outcome.UNKNOWN)


def _row_level(outcome: State) -> int:
    """The level of a row's event: an error when it failed or its outcome is unknown, a
    warning when it was refused, else info."""
    if outcome in _FAILED:
        return logging.ERROR
    if outcome == Outcome.REFUSED:
        return logging.WARNING
    return logging.INFO


def _open_journal(path: Path, dry_run: bool, work_dir: Path) -> tuple[Journal, WorkArea | None]:
    """The journal; for a dry run, a throwaway copy in a private work area (the real one
    is never written; a killed run's area is removed by the next run, like any other)."""
    if not dry_run:
        return Journal.open(path), None
    area = WorkArea.open(work_dir)
    try:
        copy = area.path / "journal.sqlite"
        if path.exists() or path.is_symlink():
            copy_for_dry_run(path, copy)  # never writes the real one
        return Journal.open(copy), area
    except BaseException:
        area.close()
        raise


def _prepare_report_folder(folder: Path) -> bool:
    """Refuse a report folder that is a link or cannot be written; create it. True when
    it did not exist (a run that writes no report removes it again)."""
    check_report_folder(folder)
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = folder / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise UsageError(
            f"--report {folder}: cannot write there: {error.strerror or error}"
        ) from None
    return created


def _forget_folder(folder: Path, created: bool) -> None:
    """Remove the report folder this run created, when it writes no report in it."""
    if created:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if still empty
