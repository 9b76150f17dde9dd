"""`myopenip batch FILE`: check the file, lock the journal, run the batch, write the report.

Nothing here clicks: `batch.Batch` does, through the workflow runner. This module reads
arguments and settings, asks once, shows progress, and turns the result into the report
folder, the output and the exit code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from myopenip import startup
from myopenip.exitcodes import ExitCode, epilog, of_batch
from myopenip.terminal import DRIFT_HINT, ask_to_valider, plain, safe
from myopenip_bot.batch.file import BatchFileError, read_batch_file
from myopenip_bot.batch.journal import (
    FINAL,
    Journal,
    JournalLockedError,
    JournalRow,
    copy_for_dry_run,
)
from myopenip_bot.browser.workdir import WorkArea
from myopenip_bot.config.logs import events
from myopenip_bot.errors import BotError, Interrupted, UsageError, error_kind, signal_name
from myopenip_bot.interrupts import StopSignal

if TYPE_CHECKING:
    from myopenip_bot.batch.runner import BatchResult, BatchTotals

__all__ = ["add_arguments", "default_journal", "run"]

log = structlog.get_logger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `myopenip batch` (the command tree lives in myopenip.cli)."""
    parser.description = (
        "Dissociate the numbers of many licences, as a file says: columns "
        "service;licence;keep_number[;number] (`;` or `,`, UTF-8, a header row; keep_number "
        "oui/non or yes/no), or an .xlsx file with the same columns. The whole file is "
        "checked first. A journal records each row, so that a run killed halfway resumes "
        "where it stopped when the same command runs again."
    )
    parser.epilog = epilog("batch")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("file", type=Path, metavar="FILE", help="the .csv or .xlsx file")
    parser.add_argument(
        "--dry-run", action="store_true", help="open each dialog, check it, then Annuler"
    )
    parser.add_argument("--yes", action="store_true", help="do not ask before Valider")
    parser.add_argument(
        "--workers", type=_workers, default=1, metavar="N", help="browsers in parallel (1-16)"
    )
    parser.add_argument(
        "--journal",
        type=Path,
        metavar="PATH",
        help="the journal (default: .myopenip/journals/<file>-<hash>.sqlite)",
    )
    parser.add_argument(
        "--report", type=Path, metavar="DIR", help="the report folder (default: a run folder)"
    )
    parser.add_argument(
        "--max-failures",
        type=_positive,
        default=5,
        metavar="N",
        help="stop after N technical failures in a row (default 5)",
    )
    parser.add_argument("--headed", action="store_true", help="show the browsers")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _workers(text: str) -> int:
    value = _positive(text)
    if value > 16:
        raise argparse.ArgumentTypeError("at most 16")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def default_journal(file: Path) -> Path:
    """One journal per batch file (by its absolute path), under .myopenip/journals/."""
    digest = hashlib.sha256(str(file.expanduser().resolve()).encode()).hexdigest()[:8]
    return Path(".myopenip") / "journals" / f"{file.stem}-{digest}.sqlite"


def run(args: argparse.Namespace) -> int:
    """`myopenip batch`, once its arguments are parsed; returns the exit code."""
    return startup.run(_run, args)


def _run(command: startup.Command) -> int:
    from myopenip_bot.batch.report import summary, write_report
    from myopenip_bot.batch.runner import Batch, BatchOptions

    args, err, stop = command.args, command.err, command.stop
    try:
        rows = read_batch_file(args.file, check=stop.check)
        loaded = command.load(ask=None if args.dry_run else "to run the batch unattended")
        settings = loaded.settings
        report_dir = args.report or _default_report(settings.traces_dir, args.file)
        _check_report_dir(report_dir)
        events.open(report_dir / "events.jsonl")  # every worker's events, in one file
    except Interrupted as stopped:
        return _interrupted(args, err, stopped)
    except BatchFileError as error:
        err.print(f"[red]Bad file:[/red] {safe(error, 20_000)}", highlight=False, soft_wrap=True)
        return _fail_json(args, error, ExitCode.USAGE)
    except BotError as error:
        err.print(f"[red]Error ({error_kind(error).value}):[/red] {safe(error)}", soft_wrap=True)
        return _fail_json(args, error, ExitCode.USAGE)

    journal_path = args.journal or default_journal(args.file)
    area: WorkArea | None = None
    try:
        journal, area = _open_journal(journal_path, args.dry_run, settings.work_dir)
    except JournalLockedError as error:
        err.print(f"[red]Locked:[/red] {safe(error)}", soft_wrap=True)
        return _fail_json(args, error, ExitCode.LOCKED)
    except BotError as error:
        err.print(f"[red]Error ({error_kind(error).value}):[/red] {safe(error)}", soft_wrap=True)
        return _fail_json(args, error, ExitCode.USAGE)

    progress = _progress(err)
    try:
        try:
            existing = journal.load(rows, check=stop.check)
        except Interrupted as stopped:
            return _interrupted(args, err, stopped)
        todo = [row for row in existing if not row.final]
        task = progress.add_task("rows", total=len(todo)) if progress else None

        def advance(row: JournalRow) -> None:
            log.info("batch_row", service=row.service, licence=row.licence, state=row.state)
            if progress is not None and task is not None and row.state in FINAL | {"failed"}:
                progress.advance(task)

        batch = Batch(
            settings,
            BatchOptions(
                file=args.file,
                journal=journal_path,
                report_dir=report_dir,
                dry_run=args.dry_run,
                workers=args.workers,
                max_failures=args.max_failures,
            ),
            rows,
            journal,
            selectors=loaded.selectors,
            stop=stop,
            ask=None if (args.yes or args.dry_run) else _asker(err, stop),
            on_row=advance,
        )
        if progress is not None:
            progress.start()
        try:
            result = batch.run(existing)
        finally:
            if progress is not None:
                progress.stop()
        code = of_batch(result)
        if not args.dry_run:
            journal.finish_run(code)
    finally:
        journal.close()
        if area is not None:
            area.close()  # the dry run's copy of the journal
    try:
        folder = write_report(
            result, report_dir, file=args.file, journal=journal_path, exit_code=code
        )
    except (OSError, BotError) as error:
        err.print(f"[red]No report in {safe(report_dir)}:[/red] {safe(error)}")
        folder = None
    data = summary(result, code) | {"report": str(folder) if folder else None}
    data |= {"journal": None if args.dry_run else str(journal_path)}
    log.info("batch_finished", **data)
    if args.json:
        payload = data | {"results": [_row_json(row, result) for row in result.rows]}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _print_summary(command.out, data, folder)
    return code


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


def _default_report(traces_dir: Path, file: Path) -> Path:
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return traces_dir / f"{stamp}-batch-{file.stem}"


def _check_report_dir(folder: Path) -> None:
    from myopenip_bot.batch.report import check_report_folder

    check_report_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = folder / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise UsageError(
            f"--report {folder}: cannot write there: {error.strerror or error}"
        ) from None


def _asker(err: Console, stop: StopSignal) -> Callable[[BatchTotals, tuple[str, ...]], bool]:
    def ask(totals: BatchTotals, warnings: tuple[str, ...]) -> bool:
        table = Table(title="The batch", title_justify="left")
        for column in ("Services", "Licences", "Numbers kept (Oui)", "Numbers released (Non)"):
            table.add_column(column)
        table.add_row(
            str(totals.services), str(totals.licences), str(totals.kept), str(totals.released)
        )
        err.print(table)
        return ask_to_valider(err, stop, totals.licences, warnings)

    return ask


def _progress(err: Console) -> Progress | None:
    if not err.is_terminal:
        return None  # jobs read the JSON-lines events on stderr instead
    return Progress(
        TextColumn("[bold]batch"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeRemainingColumn(),
        console=err,
    )


class _RateColumn(ProgressColumn):
    """Rows settled per minute."""

    def render(self, task: Task) -> Text:
        speed = task.speed
        return Text(f"{speed * 60:.1f} rows/min" if speed else "", style="progress.data.speed")


def _row_json(row: JournalRow, result: BatchResult) -> dict[str, object]:
    from myopenip_bot.batch.report import outcome_of

    return {
        "line": row.line,
        "service": row.service,
        "licence": row.licence,
        "keep_number": row.keep,
        "number": row.planned_number or row.number,
        "outcome": outcome_of(row, result),
        "reason": row.reason,
        "submissions": row.submissions,
    }


def _print_summary(out: Console, data: dict[str, object], folder: Path | None) -> None:
    table = Table(title="Batch " + ("(dry run, nothing changed)" if data["dry_run"] else ""))
    table.add_column("Outcome")
    table.add_column("Rows", justify="right")
    counts = data["counts"]
    assert isinstance(counts, dict)
    for outcome, count in counts.items():
        table.add_row(str(outcome).replace("_", " "), str(count))
    out.print(table)
    if data.get("error"):
        out.print(f"[red]{safe(data['error'])}[/red]")
    if data.get("error_kind") == "drift":
        out.print(DRIFT_HINT, highlight=False)
    if data.get("interrupted"):
        out.print(f"[yellow]Interrupted by {data['interrupted']}: run the same command to resume.")
    if folder is not None:
        out.print(plain(f"Report: {folder / 'report.html'}"))
    if data.get("journal"):
        out.print(plain(f"Journal: {data['journal']}"))
    out.print(f"Exit code {data['exit_code']}", highlight=False)


def _interrupted(args: argparse.Namespace, err: Console, stopped: Interrupted) -> int:
    """A signal before any row was tried (reading the file, loading the journal)."""
    err.print(f"Interrupted by {signal_name(stopped.signum)} before any row was tried.")
    return _fail_json(args, stopped, ExitCode.INTERRUPTED + stopped.signum)


def _fail_json(args: argparse.Namespace, error: BotError, code: int) -> int:
    if getattr(args, "json", False):
        payload = {
            "error": str(error),
            "error_kind": error_kind(error).value,
            "error_type": type(error).__name__,
            "exit_code": code,
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    return code
