"""`myopenip batch FILE`: check the file, lock the journal, run the batch, write the report.

Nothing here clicks: `batch.Batch` does, through the workflow runner. This module reads
arguments and settings, asks once (in the main thread, where Ctrl-C lands: it means no),
shows progress, and turns the result into the report folder, the output and the exit code.

On a terminal, stderr shows a progress bar and, above it, only the warnings and errors
(every event goes to the report folder's events.jsonl); the bar is stopped while the
question is asked, so that nothing shares a line with it. Otherwise stderr carries every
event as a JSON line, for jobs.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

import structlog
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
)
from rich.table import Table
from rich.text import Text

from myopenip import startup
from myopenip.exitcodes import ExitCode, epilog, of_batch
from myopenip.terminal import DRIFT_HINT, ask_to_valider, plain, safe
from myopenip_bot.batch import rules
from myopenip_bot.batch.file import BatchFileError, BatchRow, read_batch_file
from myopenip_bot.batch.journal import Journal, JournalLockedError, JournalRow, copy_for_dry_run
from myopenip_bot.browser.workdir import WorkArea
from myopenip_bot.config.logs import RunLog, configure_logging
from myopenip_bot.config.selectors import Selectors
from myopenip_bot.config.settings import LogFormat, Settings
from myopenip_bot.errors import BotError, Interrupted, UsageError, error_kind, signal_name
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.models import format_number
from myopenip_bot.text import json_text

if TYPE_CHECKING:
    from myopenip_bot.batch.report import Summary
    from myopenip_bot.batch.runner import BatchConfirmation, BatchResult

__all__ = ["add_arguments", "default_journal", "run"]

log = structlog.get_logger(__name__)

# Rows settled at once beyond this are logged as one `batch_rows` event, not one each.
_LOGGED_ONE_BY_ONE = 50

# Rows the screen lists at the question and in the final table (files hold them all;
# --verbose lists every row at the end).
SHOWN_ROWS = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `myopenip batch` (the command tree lives in myopenip.cli)."""
    parser.description = textwrap.fill(
        "Dissociate the numbers of many licences, as a file says: columns "
        "service;licence;keep_number[;number] (separated by ; , a tab or |, UTF-8, a header "
        "row, which may use the portal's words « Réf. du service », « Licence », « Conserver "
        "le numéro », « SDA »; keep_number oui/non or yes/no), or an .xlsx file with the "
        "same columns. The whole file is checked first. A journal records each row, so "
        "that a run killed halfway resumes where it stopped when the same command runs "
        "again. A dry run writes plan.csv in its report folder: the rows it would do with "
        "the numbers it read, a batch file to approve and run as it is.",
        width=80,
    )
    parser.epilog = epilog("batch")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("file", type=Path, metavar="FILE", help="the .csv or .xlsx file")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="open each dialog, check it, then Annuler; write the plan (plan.csv)",
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
    parser.add_argument(
        "--verbose", action="store_true", help="list every row at the end, not only those not done"
    )


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
    run_log = RunLog()  # the events wait in memory until the report folder is known
    try:
        with run_log.bound():
            return _batch(command, run_log)
    finally:
        run_log.close()


def _batch(command: startup.Command, run_log: RunLog) -> int:
    args, err, stop = command.args, command.err, command.stop
    created = False
    try:
        loaded = command.load(acting=True)
        settings = loaded.settings
        rows = read_batch_file(args.file, check=stop.check)
        if not args.dry_run:  # the file first: a typo in its name is said before --yes
            command.require_terminal("to run the batch unattended")
        report_dir = args.report or _default_report(settings.traces_dir, args.file)
        created = _check_report_dir(report_dir)
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
    except (JournalLockedError, BotError) as error:
        _forget_folder(report_dir, created)
        locked = isinstance(error, JournalLockedError)
        if locked:
            err.print(f"[red]Locked:[/red] {safe(error)}", soft_wrap=True)
        else:
            err.print(
                f"[red]Error ({error_kind(error).value}):[/red] {safe(error)}", soft_wrap=True
            )
        return _fail_json(args, error, ExitCode.LOCKED if locked else ExitCode.USAGE)

    other = journal.other_portal(settings.base_url)
    if other is not None:  # its "done" rows are another portal's: nothing would be done here
        journal.close()
        if area is not None:
            area.close()
        _forget_folder(report_dir, created)
        mixed = UsageError(
            f"the journal {journal_path} records runs on {other}, and this run is on "
            f"{settings.base_url} (MYOPENIP_BASE_URL): a journal belongs to one portal; "
            "give this one its own --journal"
        )
        err.print(f"[red]Error (usage):[/red] {safe(mixed)}", soft_wrap=True)
        return _fail_json(args, mixed, ExitCode.USAGE)
    try:
        try:
            existing = journal.load(rows, check=stop.check)
        except Interrupted as stopped:
            return _interrupted(args, err, stopped)
        if all(row.final for row in existing):
            _forget_folder(report_dir, created)
            return _finished(command, journal, journal_path, existing)
        run_log.open(report_dir)  # every worker's events, in one file
        result = _run_batch(
            command, settings, loaded.selectors, rows, existing, journal, report_dir, run_log
        )
        code = of_batch(result)
        summary = _write_report(command, result, code, journal_path, report_dir)
        folder = report_dir if summary is not None else None
        if not args.dry_run:
            journal.finish_run(code, folder)  # a rerun that finds it finished says where
    finally:
        journal.close()
        if area is not None:
            area.close()  # the dry run's copy of the journal
    return _output(command, result, code, journal_path, folder, summary)


def _run_batch(
    command: startup.Command,
    settings: Settings,
    selectors: Selectors,
    rows: list[BatchRow],
    existing: list[JournalRow],
    journal: Journal,
    report_dir: Path,
    run_log: RunLog,
) -> BatchResult:
    """Run the rows not final yet, with a progress bar on a terminal."""
    from myopenip_bot.batch.runner import Batch, BatchOptions

    args, err, stop = command.args, command.err, command.stop
    todo = [row for row in existing if not row.final]
    pace = _Pace()
    progress = _progress(err, pace)
    if progress is not None and settings.log_format is not LogFormat.JSON:
        # Warnings and errors print above the bar, never on its line (rich's proxy of
        # stderr while it shows); every event still goes to events.jsonl.
        configure_logging(
            settings.log_format, settings.log_level, stream=cast(TextIO, _StderrNow())
        )
    task = progress.add_task("rows", total=len(todo)) if progress else None
    counted: set[str] = set()
    counted_lock = threading.Lock()
    batch: Batch | None = None

    def advance(rows: list[JournalRow]) -> None:
        outcomes = [batch.outcome(row) if batch is not None else row.state for row in rows]
        if len(rows) <= _LOGGED_ONE_BY_ONE:
            for row, outcome in zip(rows, outcomes, strict=True):
                log.info(
                    "batch_row",
                    service=row.service,
                    licence=row.licence,
                    state=row.state,
                    outcome=outcome,
                )
        else:  # thousands settled at once (a whole service refused, a stop): one event
            log.info(
                "batch_rows",
                service=rows[0].service,
                rows=len(rows),
                outcomes=dict(Counter(outcomes)),
            )
        if progress is None or task is None:
            return
        with counted_lock:
            new = {
                row.licence
                for row, outcome in zip(rows, outcomes, strict=True)
                if outcome != "pending" and row.licence not in counted
            }
            counted.update(new)
        if new:
            progress.advance(task, len(new))

    def pause() -> None:
        pace.pause()
        if progress is not None:
            progress.stop()  # the question never shares a line with the bar

    def resume() -> None:
        if progress is not None:
            progress.start()
        pace.resume()

    batch = Batch(
        settings,
        BatchOptions(
            file=args.file,
            journal=args.journal or default_journal(args.file),
            report_dir=report_dir,
            dry_run=args.dry_run,
            workers=args.workers,
            max_failures=args.max_failures,
        ),
        rows,
        journal,
        selectors=selectors,
        stop=stop,
        ask=None if (args.yes or args.dry_run) else _asker(err, stop, pause, resume),
        on_rows=advance,
        run_log=run_log,
    )
    pace.start()
    if progress is not None:
        progress.start()
    try:
        return batch.run(existing)
    finally:
        if progress is not None:
            progress.stop()


def _write_report(
    command: startup.Command,
    result: BatchResult,
    code: int,
    journal_path: Path,
    report_dir: Path,
) -> Summary | None:
    """The report's summary (a dry run's names no journal: it wrote none), or None when
    the report could not be written."""
    from myopenip_bot.batch.report import write_report

    args = command.args
    journal = None if args.dry_run else journal_path
    try:
        return write_report(result, report_dir, file=args.file, journal=journal, exit_code=code)
    except (OSError, BotError) as error:
        command.err.print(f"[red]No report in {safe(report_dir)}:[/red] {safe(error)}")
        return None


def _output(
    command: startup.Command,
    result: BatchResult,
    code: int,
    journal_path: Path,
    folder: Path | None,
    summary: Summary | None,
) -> int:
    """The summary, or --json: the report's summary.json, or the same document without a
    report when none could be written."""
    from myopenip_bot.batch.report import Summary, document

    args = command.args
    if summary is None:
        journal = None if args.dry_run else journal_path
        data = document(result, code, file=args.file, journal=journal, report=None)
        summary = Summary(data, json_text(data))
    data = summary.document
    log.info(
        "batch_finished",
        exit_code=code,
        counts=data["counts"],
        total=data["total"],
        dry_run=data["dry_run"],
        interrupted=data["interrupted"],
        error=data["error"],
        stopped_after_failures=data["stopped_after_failures"],
        report=data["report"],
        journal=data["journal"],
    )
    if args.json:
        print(summary.text)
    else:
        _print_summary(command.out, data, result, folder, verbose=args.verbose)
    return code


def _finished(
    command: startup.Command, journal: Journal, journal_path: Path, rows: list[JournalRow]
) -> int:
    """Every row of the file is final in the journal: nothing to do, no new report."""
    from myopenip_bot.batch.report import document
    from myopenip_bot.batch.runner import BatchResult

    args = command.args
    result = BatchResult(rows=rows, dry_run=args.dry_run)
    code = of_batch(result)
    last = journal.last_run()
    shown_journal = None if args.dry_run else journal_path
    data = document(
        result, code, file=args.file, journal=shown_journal, report=None, finished_before=True
    )
    log.info("batch_already_finished", exit_code=code, rows=len(rows), journal=str(journal_path))
    if args.json:
        print(json_text(data))
        return code
    out = command.out
    out.print(
        plain(
            f"Nothing to do: every row of {args.file} is final in the journal {journal_path} "
            "(done, already without a number, or refused). No new report was written."
        )
    )
    if any(row.state == "refused" for row in rows):
        out.print(
            "A refused row stays refused in this journal: to try it again, correct it in a "
            "new file (or give another --journal).",
            highlight=False,
        )
    if last is not None:
        where = f"; its report: {Path(last.report) / 'report.html'}" if last.report else ""
        out.print(
            plain(f"The last run ended {last.finished_at} with exit code {last.exit_code}{where}")
        )
    _counts_table(out, data, "Batch (finished before)")
    out.print(f"Exit code {code}", highlight=False)
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


def _check_report_dir(folder: Path) -> bool:
    """Refuse a report folder that is a link or cannot be written; create it. True when
    it did not exist (a run that writes no report removes it again)."""
    from myopenip_bot.batch.report import check_report_folder

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


# -- the question ---------------------------------------------------------------------


def _asker(
    err: Console, stop: StopSignal, pause: Callable[[], None], resume: Callable[[], None]
) -> Callable[[BatchConfirmation], bool]:
    def ask(confirmation: BatchConfirmation) -> bool:
        pause()
        _show_plan(err, confirmation)
        yes = ask_to_valider(err, stop, confirmation.totals.licences, confirmation.warnings)
        if yes:
            resume()  # after a no, the run only winds down: no bar
        return yes

    return ask


def _show_plan(err: Console, confirmation: BatchConfirmation) -> None:
    """Per service, the rows this run read (planned with their number, or refused with
    why) and those it reads before their « Valider »."""
    totals = confirmation.totals
    err.print(
        f"The batch: {totals.licences} licence(s) of {totals.services} service(s) to do "
        f"({totals.kept} number(s) kept, « Conserver le numéro » = Oui; {totals.released} "
        "released, = Non).",
        highlight=False,
    )
    table = Table(title="Rows to do, and rows refused", title_justify="left")
    for column in ("Service", "Licence", "Number", "Conserver", "Status"):
        # a number stays on one line, whatever the width
        table.add_column(column, overflow="fold", no_wrap=column == "Number")
    shown = 0
    listed = [row for row in confirmation.rows if not row.final or row.run == confirmation.run]
    for row in listed:
        if shown == SHOWN_ROWS:
            break
        if row.state == "refused":
            status = plain(f"refused: {row.reason or ''}", style="red")
        elif row.state == "planned" and row.run == confirmation.run:
            status = plain("planned")
        elif row.final:
            continue
        else:
            status = plain("read before its « Valider »")
        number = row.planned_number if row.state == "planned" else row.number
        table.add_row(
            plain(row.service + (f" {row.service_name}" if row.service_name else "")),
            plain(row.licence),
            format_number(number) if number else "—",
            "Oui" if row.keep else "Non",
            status,
        )
        shown += 1
    err.print(table)
    if len(listed) > shown:
        err.print(f"… and {len(listed) - shown} more row(s): every row is in the report.")


# -- progress -------------------------------------------------------------------------


class _Pace:
    """The run's working time: from its start, less the time spent at the question."""

    def __init__(self) -> None:
        self._started: float | None = None
        self._paused_at: float | None = None
        self._paused = 0.0

    def start(self) -> None:
        self._started = time.monotonic()

    def pause(self) -> None:
        self._paused_at = time.monotonic()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused += time.monotonic() - self._paused_at
            self._paused_at = None

    def seconds(self) -> float:
        if self._started is None:
            return 0.0
        now = self._paused_at if self._paused_at is not None else time.monotonic()
        return now - self._started - self._paused


def _progress(err: Console, pace: _Pace) -> Progress | None:
    if not err.is_terminal:
        return None  # jobs read the JSON-lines events on stderr instead
    return Progress(
        TextColumn("[bold]batch"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(pace),
        _TimeLeftColumn(pace),
        console=err,
    )


class _RateColumn(ProgressColumn):
    """Rows settled per minute of work (rules.pace: a mean, never a burst)."""

    def __init__(self, pace: _Pace) -> None:
        super().__init__()
        self.pace = pace

    def render(self, task: Task) -> Text:
        rate, _ = rules.pace(int(task.completed), int(task.remaining or 0), self.pace.seconds())
        return Text(f"{rate:.1f} rows/min" if rate else "", style="progress.data.speed")


class _TimeLeftColumn(ProgressColumn):
    """The time left at that rate."""

    def __init__(self, pace: _Pace) -> None:
        super().__init__()
        self.pace = pace

    def render(self, task: Task) -> Text:
        _, left = rules.pace(int(task.completed), int(task.remaining or 0), self.pace.seconds())
        if left is None:
            return Text("-:--:-- left", style="progress.remaining")
        minutes, seconds = divmod(int(left + 0.5), 60)
        hours, minutes = divmod(minutes, 60)
        return Text(f"{hours}:{minutes:02d}:{seconds:02d} left", style="progress.remaining")


class _StderrNow(io.TextIOBase):
    """stderr as it is when written to: while the progress bar shows, rich's proxy of it,
    which prints each whole line above the bar."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        stream = sys.__stderr__
        return bool(stream is not None and stream.isatty())


# -- the summary ----------------------------------------------------------------------


def _counts_table(out: Console, data: dict[str, Any], title: str) -> None:
    table = Table(title=title)
    table.add_column("Outcome")
    table.add_column("Rows", justify="right")
    for outcome, count in data["counts"].items():
        table.add_row(str(outcome).replace("_", " "), str(count))
    out.print(table)


def _print_summary(
    out: Console, data: dict[str, Any], result: BatchResult, folder: Path | None, *, verbose: bool
) -> None:
    _counts_table(out, data, "Batch (dry run, nothing changed)" if data["dry_run"] else "Batch")
    rows = data["results"]
    listed = rows if verbose else [row for row in rows if row["outcome"] not in rules.SUCCESSES]
    if listed:
        title = "Every row" if verbose else "Rows not done, and why"
        table = Table(title=title, title_justify="left")
        for column in ("Service", "Licence", "Number", "Outcome", "Why"):
            # a number stays on one line, whatever the width
            table.add_column(column, overflow="fold", no_wrap=column == "Number")
        for row in listed if verbose else listed[:SHOWN_ROWS]:
            table.add_row(
                plain(row["service"]),
                plain(row["licence"]),
                row["number"] or "—",
                str(row["outcome"]).replace("_", " "),
                plain(row["reason"] or ""),
            )
        out.print(table)
        if not verbose and len(listed) > SHOWN_ROWS:
            out.print(f"… and {len(listed) - SHOWN_ROWS} more: see results.csv (or --verbose).")
    approved = [row["as_approved"] for row in rows if row["as_approved"] is not None]
    if approved and not data["dry_run"]:
        out.print(
            f"The approved plan: {sum(approved)} of {len(approved)} row(s) applied as "
            "approved (with the number the plan gave).",
            highlight=False,
        )
    if result.error:
        out.print(f"[red]{safe(result.error)}[/red]")
    working = data["counts"].get("in_progress", 0)
    if working:
        out.print(
            f"[yellow]The portal accepted {working} row(s) and is still working on them: do "
            "not redo them in the portal.[/yellow] Run the same command later to confirm them "
            "(they are never sent again)."
        )
    if result.error_kind is not None and result.error_kind.value == "drift":
        out.print(DRIFT_HINT, highlight=False)
    if data.get("interrupted") and data["exit_code"] > ExitCode.INTERRUPTED:
        out.print(f"[yellow]Interrupted by {data['interrupted']}: run the same command to resume.")
    elif data.get("interrupted"):
        out.print(
            f"[yellow]{data['interrupted']} came once every row was settled: nothing is left "
            "to resume."
        )
    if folder is not None:
        out.print(plain(f"Report: {folder / 'report.html'}"))
    if data.get("plan"):
        out.print(
            plain(
                f"Plan: {data['plan']} — once approved, run it as it is: "
                f"myopenip batch {data['plan']}"
            )
        )
    if data.get("journal"):
        out.print(plain(f"Journal: {data['journal']}"))
    out.print(f"Exit code {data['exit_code']}", highlight=False)


# -- failures before any row ------------------------------------------------------------


def _interrupted(args: argparse.Namespace, err: Console, stopped: Interrupted) -> int:
    """A signal before any row was tried (reading the file, loading the journal)."""
    err.print(f"Interrupted by {signal_name(stopped.signum)} before any row was tried.")
    return _fail_json(args, stopped, ExitCode.INTERRUPTED + stopped.signum)


def _fail_json(args: argparse.Namespace, error: BotError, code: int) -> int:
    if getattr(args, "json", False):
        from myopenip_bot.batch.report import error_document

        data = error_document(error, code, file=args.file, dry_run=bool(args.dry_run))
        print(json_text(data))
    return code
