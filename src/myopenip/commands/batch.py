"""`myopenip batch FILE`: read the file, run the batch, print the outcome.

Nothing here clicks or writes a journal: `myopenip_bot.batch.run_batch` opens the journal
and the report folder, runs the workers and writes the report. This module reads the
arguments and the file, asks once (in the main thread, where Ctrl-C lands: it means no),
shows progress, and prints the result with its exit code (exitcodes.of_batch).

On a terminal, stderr shows a progress bar and, above it, only the warnings and errors
(every event goes to the report folder's events.jsonl); the bar is stopped while the
question is asked, so that nothing shares a line with it. Otherwise stderr carries every
event as a JSON line, for jobs.
"""

from __future__ import annotations

import argparse
import logging
import textwrap
from pathlib import Path
from typing import Any

import structlog
from rich.console import Console
from rich.table import Table

from myopenip import startup
from myopenip.documents import ticket_argument
from myopenip.exitcodes import JOURNAL_WRITE_ERROR, MEANINGS, ExitCode, epilog, of_batch
from myopenip.progress import RowsBar
from myopenip.terminal import ask_to_valider, drift_hint, numbers_whole, plain, safe, say_error
from myopenip_bot import notify
from myopenip_bot.batch import rules
from myopenip_bot.batch.file import BatchFileError, EmptyBatchFileError, read_batch_file
from myopenip_bot.batch.journal import JournalLockedError, JournalWriteError, Stage
from myopenip_bot.batch.report import error_document, forget_latest, write_latest
from myopenip_bot.batch.results import BatchConfirmation, BatchOptions, BatchResult
from myopenip_bot.batch.run import (
    BatchConfirm,
    BatchRun,
    default_journal,
    default_report,
)
from myopenip_bot.config.logs import configure_logging
from myopenip_bot.config.settings import Settings
from myopenip_bot.errors import BotError, Interrupted, error_kind, first_line, signal_name
from myopenip_bot.i18n import _, format_datetime, format_int, language, ngettext
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.ledger import LedgerError
from myopenip_bot.models import Outcome, format_number
from myopenip_bot.retention import prune_journals
from myopenip_bot.text import json_text
from myopenip_bot.wording import error_lines, outcome_word, reason_text, why_text

__all__ = ["add_arguments", "run"]

# Rows the screen lists at the question and in the final table (files hold them all;
# --verbose lists every row at the end).
SHOWN_ROWS = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `myopenip batch` (the command tree lives in myopenip.cli)."""
    parser.description = textwrap.fill(
        _(
            "Dissociate the numbers of many licences, as a file says: columns "
            "service;licence;keep_number[;number][;ticket] (separated by ; , a tab or |, "
            "UTF-8, a header row, which may use the portal's words « Réf. du service », "
            "« Licence », « Conserver le numéro », « SDA »; keep_number oui/non or yes/no), or "
            "an .xlsx file with the same columns. The whole file is checked first. A journal "
            "records each row, so that a run killed halfway resumes where it stopped when the "
            "same command runs again. A dry run writes plan.csv in its report folder: the rows "
            "it would do with the numbers it read, a batch file to approve and run as it is. "
            "Every outcome goes to the ledger too (`myopenip history`)."
        ),
        width=80,
    )
    parser.epilog = epilog("batch")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("file", type=Path, metavar=_("FILE"), help=_("the .csv or .xlsx file"))
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help=_("open each dialog, check it, then Annuler; write the plan (plan.csv)"),
    )
    parser.add_argument("--yes", action="store_true", help=_("do not ask before Valider"))
    parser.add_argument(
        "--ticket",
        metavar=_("TEXT"),
        help=_(
            "the ticket the rows are done for, recorded in the ledger (a row's own "
            "`ticket` column wins)"
        ),
    )
    parser.add_argument(
        "--workers", type=_workers, default=1, metavar=_("N"), help=_("browsers in parallel (1-16)")
    )
    parser.add_argument(
        "--journal",
        type=Path,
        metavar=_("PATH"),
        help=_("the journal (default: .myopenip/journals/<file>-<hash>.sqlite)"),
    )
    parser.add_argument(
        "--report", type=Path, metavar=_("DIR"), help=_("the report folder (default: a run folder)")
    )
    parser.add_argument(
        "--max-failures",
        type=_positive,
        default=5,
        metavar=_("N"),
        help=_("stop after N technical failures in a row (default 5)"),
    )
    parser.add_argument("--headed", action="store_true", help=_("show the browsers"))
    startup.add_retry_login(parser)
    parser.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    parser.add_argument(
        "--verbose",
        action="store_true",
        help=_("list every row at the end, not only those not done"),
    )


def _workers(text: str) -> int:
    value = _positive(text)
    if value > 16:
        raise argparse.ArgumentTypeError(_("at most 16"))
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("not a whole number: %(text)r") % {"text": text}
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(_("must be 1 or more"))
    return value


def run(args: argparse.Namespace) -> int:
    """`myopenip batch`, once its arguments are parsed; returns the exit code."""
    return startup.run(_run, args)


def _run(command: startup.Command) -> int:
    from myopenip_bot.batch.run import run_batch  # imports Playwright when it runs

    args, err, stop = command.args, command.err, command.stop
    settings: Settings | None = None  # read: a notification can be sent
    try:
        loaded = command.load(acting=True)
        settings = loaded.settings
        rows = read_batch_file(args.file, check=stop.check)
        if not args.dry_run:  # the file first: a typo in its name is said before --yes
            command.require_terminal(_("to run the batch unattended"))
        options = BatchOptions(
            file=args.file,
            journal=args.journal or default_journal(args.file),
            report_dir=args.report or default_report(settings.traces_dir, args.file),
            dry_run=args.dry_run,
            workers=args.workers,
            max_failures=args.max_failures,
            ticket=ticket_argument(args.ticket) if args.ticket is not None else "",
        )
        # Finished journals beyond MYOPENIP_KEEP_RUNS; never this run's, never one not finished.
        prune_journals(default_journal(args.file).parent, settings.keep_runs, spare=options.journal)
        bar = RowsBar(err, settings)
        run = run_batch(
            settings,
            options,
            rows,
            exit_code=of_batch,
            selectors=loaded.selectors,
            confirm=None if (args.yes or args.dry_run) else _asker(err, stop, bar),
            progress=bar,
            stop=stop,
        )
    except EmptyBatchFileError as error:
        return _told(settings, args, *_nothing(command, error))
    except BotError as error:
        code, data = _failed(args, err, error)
        return _told(settings, args, code, data, error=error)
    if run.report_error is not None:
        err.print("[red]" + _("No report:") + f"[/red] {safe(run.report_error)}", soft_wrap=True)
    if run.result.error_type == JOURNAL_WRITE_ERROR:
        _journal_failed(err, run.summary.document)
    if args.json:
        print(run.summary.text)
    else:
        _print_summary(
            command.out, run.summary.document, run.result, run.report, verbose=args.verbose
        )
    return _told(settings, args, run.exit_code, run.summary.text, run=run)


def _told(
    settings: Settings | None,
    args: argparse.Namespace,
    code: int,
    summary: str | dict[str, Any],
    *,
    run: BatchRun | None = None,
    error: BotError | None = None,
) -> int:
    """Leave the end of the batch where monitoring looks: for a batch that ran, `summary`
    (its JSON document) in the traces folder's summary-latest.json; for one that stopped
    before any row (a bad file, a lock, the settings), its `batch_finished` event (a run
    logs its own), and no summary-latest.json (it would be an older run's); a file
    without rows leaves it as it was. Then tell MYOPENIP_NOTIFY
    (never a secret). Returns `code` as it was."""
    if run is None:
        _log_end(code, summary if isinstance(summary, dict) else {}, error)
    if settings is not None and run is not None:
        write_latest(settings.traces_dir, summary if isinstance(summary, str) else "")
    elif settings is not None and error is not None:
        forget_latest(settings.traces_dir)  # it would show an older run as the last one
    folder = run.report if run is not None else None
    notify.tell(
        settings,
        notify.Notice(
            command="batch",
            exit_code=code,
            meaning=notify.meaning_of(MEANINGS["batch"], code),
            counts=dict(run.summary.document["counts"]) if run is not None else {},
            folder=str(folder) if folder else None,
            portal=settings.base_url if settings is not None else None,
            subject=str(args.file),
            detail=first_line(error) if error is not None else None,
        ),
    )
    return code


def _log_end(code: int, data: dict[str, Any], error: BotError | None) -> None:
    """The `batch_finished` event of a batch that stopped before any row: an error (a
    signal: a warning; nothing to do: info), even when the settings were never read."""
    if not structlog.is_configured():  # the settings failed: events as JSON on stderr
        configure_logging()
    level = logging.INFO if code == ExitCode.OK else logging.ERROR
    if isinstance(error, Interrupted):
        level = logging.WARNING
    structlog.get_logger(__name__).log(
        level,
        "batch_finished",
        exit_code=code,
        error=data.get("error"),
        interrupted=data.get("interrupted"),
        dry_run=data.get("dry_run"),
        total=0,
        counts={},
        file=data.get("file"),
    )


def _failed(args: argparse.Namespace, err: Console, error: BotError) -> tuple[int, dict[str, Any]]:
    """A run that stopped before any row: the file, the journal, the settings, a signal."""
    if isinstance(error, Interrupted):
        err.print(
            _("Interrupted by %(signal)s before any row was tried: nothing was changed.")
            % {"signal": signal_name(error.signum)}
        )
        code = ExitCode.INTERRUPTED + error.signum
    elif isinstance(error, BatchFileError):
        err.print(
            "[red]" + _("Bad file:") + f"[/red] {safe(reason_text(str(error)), 20_000)}",
            highlight=False,
            soft_wrap=True,
        )
        err.print(_("Nothing was changed. Correct the file, then run the same command."))
        code = ExitCode.USAGE
    elif isinstance(error, JournalLockedError):
        err.print("[red]" + _("Locked:") + f"[/red] {safe(error)}", soft_wrap=True)
        err.print(
            _("Nothing was changed. Wait for the other run to end, then run the same command.")
        )
        code = ExitCode.LOCKED
    elif isinstance(error, JournalWriteError):  # before any row: nothing was done
        err.print("[red]" + _("Journal not written:") + f"[/red] {safe(error)}", soft_wrap=True)
        err.print(_("Nothing was changed. Free the disk, then run the same command."))
        code = ExitCode.JOURNAL_FAILED
    elif isinstance(error, LedgerError):  # before any row: nothing was done
        err.print("[red]" + _("Ledger:") + f"[/red] {safe(error)}", soft_wrap=True)
        err.print(_("Nothing was changed. Fix the ledger (MYOPENIP_LEDGER), then run again."))
        code = ExitCode.LEDGER_FAILED
    else:
        say_error(err, error_lines(error, error_kind(error), changed=False, hint=drift_hint))
        code = ExitCode.USAGE
    data = error_document(error, code, file=args.file, dry_run=bool(args.dry_run))
    if args.json:
        print(json_text(data))
    return code, data


def _nothing(command: startup.Command, error: EmptyBatchFileError) -> tuple[int, dict[str, Any]]:
    """A file without a row: nothing to do, exit 0 (an upstream export that found none)."""
    args = command.args
    data = error_document(error, ExitCode.OK, file=args.file, dry_run=bool(args.dry_run))
    data["error"] = None
    if args.json:
        print(json_text(data))
    else:
        command.out.print(
            plain(
                _("Nothing to do: %(file)s holds no row (only a header, or nothing).")
                % {"file": args.file}
            )
        )
        command.out.print(_("Exit code %(code)d") % {"code": ExitCode.OK}, highlight=False)
    return ExitCode.OK, data


def _journal_failed(err: Console, data: dict[str, Any]) -> None:
    """The journal could not be written mid-run: which rows it could not record."""
    open_rows = [row for row in data["results"] if row["outcome"] not in rules.SUCCESSES]
    acted = [row for row in open_rows if row["submissions"]]
    err.print(
        "[red]"
        + _("The journal could not be written: the run stopped before its next « Valider »."),
        soft_wrap=True,
    )
    if acted:
        err.print(
            plain(
                ngettext(
                    "%(count)d row whose « Valider » was clicked has no outcome recorded "
                    "(the next run reads it from the portal; never sent twice): ",
                    "%(count)d rows whose « Valider » was clicked have no outcome recorded "
                    "(the next run reads them from the portal; never sent twice): ",
                    len(acted),
                )
                % {"count": len(acted)}
                + ", ".join(row["licence"] for row in acted[:SHOWN_ROWS])
            ),
            soft_wrap=True,
        )
    waiting = len(open_rows) - len(acted)
    if waiting:
        err.print(
            ngettext(
                "%(count)d row not done (or not recorded as done): free the disk, then run "
                "the same command to resume.",
                "%(count)d rows not done (or not recorded as done): free the disk, then run "
                "the same command to resume.",
                waiting,
            )
            % {"count": waiting},
            highlight=False,
        )


# -- the question ---------------------------------------------------------------------


def _asker(err: Console, stop: StopSignal, bar: RowsBar) -> BatchConfirm:
    def ask(confirmation: BatchConfirmation) -> bool:
        bar.pause()  # the question never shares a line with the bar
        _show_plan(err, confirmation)
        yes = ask_to_valider(err, stop, confirmation.totals.licences, confirmation.warnings)
        if yes:
            bar.resume()  # after a no, the run only winds down: no bar
        return yes

    return ask


def _show_plan(err: Console, confirmation: BatchConfirmation) -> None:
    """Per service, the rows this run read (planned with their number, or refused with
    why) and those it reads before their « Valider »."""
    totals = confirmation.totals
    err.print(
        ngettext(
            "The batch: %(licences)d licence of %(services)d service(s) to do",
            "The batch: %(licences)d licences of %(services)d service(s) to do",
            totals.licences,
        )
        % {"licences": totals.licences, "services": totals.services}
        + _(
            " (%(kept)d number(s) kept, « Conserver le numéro » = Oui; %(released)d "
            "released, = Non)."
        )
        % {"kept": totals.kept, "released": totals.released},
        highlight=False,
    )
    table = Table(title=_("Rows to do, and rows refused"), title_justify="left")
    # the refs, the number and the keep stay on one line; the service's name and the
    # status wrap at words, whatever the width
    table.add_column(_("Service"))
    table.add_column(_("Licence"), no_wrap=True)
    table.add_column(_("Number"), no_wrap=True)
    table.add_column(_("Conserver"), no_wrap=True)
    table.add_column(_("Status"), min_width=16)
    shown = 0
    listed = [row for row in confirmation.rows if not row.final or row.run == confirmation.run]
    for row in listed:
        if shown == SHOWN_ROWS:
            break
        planned = row.state == Stage.PLANNED and row.run == confirmation.run
        if row.state == Outcome.REFUSED:
            status = plain(
                _("refused: %(reason)s") % {"reason": reason_text(row.reason)}, style="red"
            )
        elif planned:
            status = plain(_("planned"))
        elif row.final:
            continue
        else:
            status = plain(_("read before its « Valider »"))
        number = row.planned_number if row.state == Stage.PLANNED else row.number
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
        err.print(
            _("… and %(count)d more row(s): every row is in the report.")
            % {"count": len(listed) - shown}
        )


# -- the summary ----------------------------------------------------------------------


def _counts_table(out: Console, data: dict[str, Any], title: str) -> None:
    table = Table(title=title)
    table.add_column(_("Outcome"))
    table.add_column(_("Rows"), justify="right")
    for outcome, count in data["counts"].items():
        table.add_row(outcome_word(outcome), format_int(count))
    out.print(table)


def _print_summary(
    out: Console, data: dict[str, Any], result: BatchResult, folder: Path | None, *, verbose: bool
) -> None:
    title = _("Batch (dry run, nothing changed)") if data["dry_run"] else _("Batch")
    _counts_table(out, data, title)
    rows = data["results"]
    listed = rows if verbose else [row for row in rows if row["outcome"] not in rules.SUCCESSES]
    if listed:
        title = _("Every row") if verbose else _("Rows not done, and why")
        table = Table(title=title, title_justify="left")
        # the refs and the number stay on one line; the outcome and why wrap at words
        table.add_column(_("Service"), no_wrap=True)
        table.add_column(_("Licence"), no_wrap=True)
        table.add_column(_("Number"), no_wrap=True)
        table.add_column(_("Outcome"))
        table.add_column(_("Why"), min_width=20)
        for row in listed if verbose else listed[:SHOWN_ROWS]:
            table.add_row(
                plain(row["service"]),
                plain(row["licence"]),
                row["number"] or "—",
                outcome_word(row["outcome"]),
                plain(numbers_whole(why_text(row["reason"], row["outcome"]))),
            )
        out.print(table)
        if not verbose and len(listed) > SHOWN_ROWS:
            out.print(
                _("… and %(count)d more: see results.csv (or --verbose).")
                % {"count": len(listed) - SHOWN_ROWS}
            )
    approved = [row["as_approved"] for row in rows if row["as_approved"] is not None]
    if approved and not data["dry_run"]:
        out.print(
            _(
                "Rows given with their number (a plan's): %(applied)d of %(rows)d done with "
                "that number."
            )
            % {"applied": sum(approved), "rows": len(approved)},
            highlight=False,
        )
    if result.error:
        changed = any(row["outcome"] in ("done", "in_progress", "unknown") for row in rows)
        say_error(
            out, error_lines(result.error, result.error_kind, changed=changed, hint=drift_hint)
        )
    working = data["counts"].get("in_progress", 0)
    if working:
        out.print(
            "[yellow]"
            + _(
                "The portal accepted %(count)d row(s) and is still working on them: do not "
                "redo them in the portal."
            )
            % {"count": working}
            + "[/yellow] "
            + _("Run the same command later to confirm them (they are never sent again).")
        )
    if data.get("interrupted") and data["exit_code"] > ExitCode.INTERRUPTED:
        out.print(
            "[yellow]"
            + _("Interrupted by %(signal)s: run the same command to resume.")
            % {"signal": data["interrupted"]}
        )
    elif data.get("interrupted"):
        out.print(
            "[yellow]"
            + _("%(signal)s came once every row was settled: nothing is left to resume.")
            % {"signal": data["interrupted"]}
        )
    if data.get("resumes"):
        out.print(
            plain(
                _(
                    "This run resumed the run started %(when)s (killed, or it left rows to "
                    "settle): the rows it had settled (done, already done, refused) were not "
                    "read again."
                )
                % {"when": _when(data["resumes"])}
            )
        )
    if folder is not None:
        out.print(plain(_("Report: %(path)s") % {"path": folder / "report.html"}))
    if data.get("plan"):
        out.print(
            plain(
                _("Plan: %(plan)s — once approved, run it as it is: myopenip batch %(plan)s")
                % {"plan": data["plan"]}
            )
        )
    if data.get("journal"):
        out.print(plain(_("Journal: %(path)s") % {"path": data["journal"]}))
    out.print(_("Exit code %(code)d") % {"code": data["exit_code"]}, highlight=False)


def _when(stamp: str) -> str:
    """An ISO date of the JSON as a person reads it (as written when it is not one)."""
    from datetime import datetime

    if language() == "en":
        return stamp  # as the JSON and the journal write it
    try:
        return format_datetime(datetime.fromisoformat(stamp))
    except ValueError:
        return stamp
