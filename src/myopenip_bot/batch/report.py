"""What a batch leaves for people and jobs: its exit code, a JSON document, a report folder.

report.html               one self-contained page: totals, then a row per licence with
                          its service (ref and name), licence (ref and type), user,
                          number, keep value, outcome, whether it was done as the plan
                          said (an approved plan's rows), the portal's answer and a link
                          to the dialog it was in (each dialog's screenshot inlined once,
                          however many licences it held; a dry run's too)
results.csv               the file's columns plus outcome and reason, then what the
                          portal showed (service name, client, licence type, user): the
                          rows that failed can be fed back as a file
plan.csv                  (a dry run) the rows it would do, each with the number, licence
                          type, user and service name it read: a batch file a supervisor
                          approves and runs as it is (a row whose number changed since
                          is refused)
numbers-to-terminate.csv  the numbers this batch put in quarantine (« Conserver le
                          numéro » = Non), with service, client and licence: « Pensez à
                          résilier le numéro depuis vos offres contractées pour arrêter
                          sa facturation »
summary.json              the same document as `--json` prints (docs/json.md)

Every number in them reads the same way: ten digits grouped by two, "02 31 45 67 89".
"""

from __future__ import annotations

import base64
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from myopenip_bot import i18n, wording
from myopenip_bot.batch import rules
from myopenip_bot.batch.file import BatchFileError
from myopenip_bot.batch.journal import JournalRow, State
from myopenip_bot.batch.results import BatchResult
from myopenip_bot.dissociation.results import NUMBERS_TO_TERMINATE, to_terminate_text
from myopenip_bot.errors import BotError, Interrupted, error_kind, first_line, signal_name
from myopenip_bot.files import refuse_link, write_private
from myopenip_bot.models import Outcome, format_number
from myopenip_bot.text import csv_text, json_text, visible

__all__ = [
    "LATEST_SUMMARY",
    "PLAN_FILE",
    "REPORT_FILES",
    "SCHEMA_VERSION",
    "Summary",
    "check_report_folder",
    "document",
    "error_document",
    "forget_latest",
    "number_text",
    "outcome_of",
    "write_latest",
    "write_report",
]

# The last batch's document, whatever its end, in the traces folder (docs/scheduling.md).
LATEST_SUMMARY = "summary-latest.json"
log = structlog.get_logger(__name__)

SCHEMA_VERSION = 1  # of the JSON document (src/myopenip/schemas/batch.schema.json)
PLAN_FILE = "plan.csv"
REPORT_FILES = (
    "report.html",
    "results.csv",
    NUMBERS_TO_TERMINATE,
    "summary.json",
    PLAN_FILE,
)
RESULTS_COLUMNS = (
    "service",
    "licence",
    "keep_number",
    "number",
    "outcome",
    "reason",
    "service_name",
    "client",
    "licence_type",
    "user",
    "ticket",
)
# A plan is run as a batch file: its ticket column (last: the others keep their place)
# keeps each row's ticket (file.COLUMNS).
PLAN_COLUMNS = (
    "service",
    "licence",
    "keep_number",
    "number",
    "service_name",
    "client",
    "licence_type",
    "user",
    "ticket",
)


def outcome_of(row: JournalRow, result: BatchResult) -> State:
    """A row's outcome as every output shows it (rules.outcome_of)."""
    return result.outcome(row)


def number_text(digits: str | None) -> str | None:
    """A number as every file the bot writes shows it: "02 31 45 67 89" (None: none)."""
    return format_number(digits) if digits else None


def _number_read(row: JournalRow) -> str | None:
    """The number the portal showed for the row, else the one its file gave."""
    return number_text(row.planned_number or row.number)


def _client(row: JournalRow, result: BatchResult) -> str:
    """The service's client, as the journal keeps it (made visible), else as the run saw it."""
    return row.client or visible(result.services.get(row.service, ""))


def _error(result: BatchResult) -> dict[str, str] | None:
    if result.error is None:
        return None
    kind = result.error_kind.value if result.error_kind else "technical"
    return {
        "kind": kind,
        "type": result.error_type or "BotError",
        "message": visible(first_line(result.error)),
    }


def document(
    result: BatchResult,
    exit_code: int,
    *,
    file: Path,
    journal: Path | None,
    report: Path | None,
    plan: Path | None = None,
    resumes: str | None = None,
) -> dict[str, Any]:
    """The batch's JSON document (docs/json.md, schema version 1): how the run ended, the
    totals, and every row of the file. `resumes`: when the run this one resumed started
    (None: a new run, which read every row of the file).

    `finished_before` is always false: a file whose run finished is a new run when given
    again (Journal.begin), never "nothing to do"; the field stays for schema version 1."""
    outcomes = [result.outcome(row) for row in result.rows]
    counts = Counter(outcomes)
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "batch",
        "exit_code": exit_code,
        "error": _error(result),
        "interrupted": signal_name(result.interrupted) if result.interrupted else None,
        "dry_run": result.dry_run,
        "file": visible(str(file)),
        "journal": visible(str(journal)) if journal else None,
        "report": visible(str(report)) if report else None,
        "plan": visible(str(plan)) if plan else None,
        "report_error": visible(result.report_error) if result.report_error else None,
        "finished_before": False,
        "resumes": resumes,
        "stopped_after_failures": result.stopped_after_failures,
        "total": len(result.rows),
        "counts": {o.value: counts[o] for o in rules.OUTCOMES if counts[o]},
        "results": [
            _row_data(row, outcome, result)
            for row, outcome in zip(result.rows, outcomes, strict=True)
        ],
    }


def _row_data(row: JournalRow, outcome: State, result: BatchResult) -> dict[str, Any]:
    return {
        "line": row.line,
        "service": row.service,
        "service_name": row.service_name,
        "client": _client(row, result) or None,
        "licence": row.licence,
        "licence_type": row.licence_type,
        "user": row.user,
        "number": _number_read(row),
        "number_in_file": number_text(row.number),
        "keep_number": row.keep,
        "outcome": outcome.value,
        "as_approved": rules.as_approved(row, outcome),
        "reason": result.reason(row),
        "submissions": row.submissions,
    }


def error_document(error: BotError, exit_code: int, *, file: Path, dry_run: bool) -> dict[str, Any]:
    """The JSON document of a run that stopped before any row (a bad file, a locked
    journal, bad settings, a signal while reading the file)."""
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "command": "batch",
        "exit_code": exit_code,
        "error": {
            "kind": error_kind(error).value,
            "type": type(error).__name__,
            "message": visible(first_line(error)),
        },
        "interrupted": signal_name(error.signum) if isinstance(error, Interrupted) else None,
        "dry_run": dry_run,
        "file": visible(str(file)),
        "journal": None,
        "report": None,
        "plan": None,
        "report_error": None,
        "finished_before": False,
        "resumes": None,
        "stopped_after_failures": False,
        "total": 0,
        "counts": {},
        "results": [],
    }
    if isinstance(error, Interrupted):
        data["error"] = None
    if isinstance(error, BatchFileError):
        data["error"]["problems"] = [visible(line.strip()) for line in error.lines()]
    return data


def released(result: BatchResult) -> list[JournalRow]:
    """Rows whose number this batch put in quarantine."""
    return [row for row in result.rows if row.state == Outcome.DONE and not row.keep]


def check_report_folder(folder: Path) -> None:
    """Refuse a report folder that is a link, or whose report files are: the report would
    be written over whatever they point to (UnsafePathError)."""
    refuse_link(folder, "the report folder")
    for name in REPORT_FILES:
        refuse_link(folder / name, "the report file")


@dataclass(frozen=True)
class Summary:
    """A report's summary.json: its document, and its text, which `--json` prints as it
    is (200,000 rows are serialized once)."""

    document: dict[str, Any]
    text: str


def write_report(
    result: BatchResult,
    folder: Path,
    *,
    file: Path,
    journal: Path | None,
    exit_code: int,
    resumes: str | None = None,
) -> Summary:
    """Write the report files into `folder` (created, private); return its summary.json
    (the one `--json` prints). A dry run's report names no journal (it wrote none) and
    holds its plan."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    journal = None if result.dry_run else journal
    outcomes = {row.licence: result.outcome(row) for row in result.rows}
    _write_csv(
        folder / "results.csv",
        list(RESULTS_COLUMNS),
        [
            [
                row.service,
                row.licence,
                "oui" if row.keep else "non",
                _number_read(row) or "",
                outcomes[row.licence],
                result.reason(row) or "",
                row.service_name or "",
                _client(row, result),
                row.licence_type or "",
                row.user or "",
                result.ticket_of(row),
            ]
            for row in result.rows
        ],
    )
    plan = None
    if result.dry_run:
        plan = folder / PLAN_FILE
        _write_csv(
            plan,
            list(PLAN_COLUMNS),
            [
                [
                    row.service,
                    row.licence,
                    "oui" if row.keep else "non",
                    number_text(row.planned_number) or "",
                    row.service_name or "",
                    _client(row, result),
                    row.licence_type or "",
                    row.user or "",
                    result.ticket_of(row),
                ]
                for row in rules.plan_rows(result.rows, outcomes)
            ],
        )
    _write(
        folder / NUMBERS_TO_TERMINATE,
        to_terminate_text(
            [number_text(row.planned_number) or "", row.service, _client(row, result), row.licence]
            for row in released(result)
        ),
    )
    data = document(
        result, exit_code, file=file, journal=journal, report=folder, plan=plan, resumes=resumes
    )
    summary = Summary(data, json_text(data))
    _write(folder / "summary.json", summary.text)
    _write(folder / "report.html", _html(result, data))
    return summary


def write_latest(traces_dir: Path, text: str) -> Path | None:
    """Write `text` (the last batch's JSON document) to the traces folder's
    summary-latest.json, whole or not at all, never through a link; return its path.
    When it cannot be written (a full disk), the one there is removed, so that it never
    shows an older run as the last: None."""
    path = traces_dir / LATEST_SUMMARY
    try:
        refuse_link(traces_dir, "the traces folder")
        if not traces_dir.is_dir():
            return None
        write_private(path, text if text.endswith("\n") else text + "\n")
    except (OSError, BotError) as error:
        log.warning("latest_summary_not_written", path=str(path), error=str(error))
        forget_latest(traces_dir)
        return None
    return path


def forget_latest(traces_dir: Path) -> None:
    """Remove the traces folder's summary-latest.json (a link there is left: not ours)."""
    path = traces_dir / LATEST_SUMMARY
    if not path.is_symlink():
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _html(result: BatchResult, data: dict[str, Any]) -> str:
    # Every value is escaped (the template's name ends in .j2, which select_autoescape
    # would not match) and made visible: portal texts and file names are data.
    # In the language of the person who runs the batch (Jinja2's i18n extension over the
    # bot's catalog; myopenip_bot.i18n reads MYOPENIP_LANG and the locale).
    env = Environment(
        loader=PackageLoader("myopenip_bot.batch", "templates"),
        autoescape=True,
        # (a translated sentence is Markup, its values already escaped: `|visible` them)
        finalize=lambda value: (
            visible(str(value))
            if isinstance(value, str) and not isinstance(value, Markup)
            else value
        ),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]
        i18n.translations(i18n.language()), newstyle=True
    )
    env.filters["visible"] = lambda value: visible(str(value))
    env.globals["outcome_word"] = wording.outcome_word
    env.globals["outcome_count"] = wording.outcome_count
    env.globals["reason_text"] = wording.reason_text
    env.globals["why_text"] = wording.why_text
    template = env.get_template("report.html.j2")
    dialogs: dict[str, dict[str, Any]] = {}  # one entry per screenshot, in order

    def dialog_of(row: JournalRow) -> str | None:
        if not row.screenshot:
            return None
        if row.screenshot not in dialogs:
            image = _inline(row.screenshot)
            if image is None:
                return None
            dialogs[row.screenshot] = {
                "anchor": f"dialog-{len(dialogs) + 1}",
                "image": image,
                "service": row.service,
                "licences": [],
            }
        dialogs[row.screenshot]["licences"].append(row.licence)
        return str(dialogs[row.screenshot]["anchor"])

    pairs = list(zip(result.rows, data["results"], strict=True))
    shown = _shown(pairs)
    rows = [
        {
            "service": row.service,
            "service_name": row.service_name or "",
            "client": _client(row, result),
            "licence": row.licence,
            "licence_type": row.licence_type or "",
            "user": row.user or "",
            "number": _number_read(row) or "—",
            "number_in_file": number_text(row.number),
            "keep": "Oui" if row.keep else "Non",
            "outcome": item["outcome"],
            "as_approved": item["as_approved"],
            "reason": result.reason(row) or "",
            "answer": row.answer or "",
            "dialog": dialog_of(row),
            "ticket": result.ticket_of(row),
        }
        for row, item in shown
    ]
    approved = [item for _, item in pairs if item["as_approved"] is not None]
    return template.render(
        summary=data,
        error=result.error,
        rows=rows,
        dialogs=list(dialogs.values()),
        released=released(result),
        plan_rows=sum(1 for _, item in pairs if item["outcome"] == Outcome.WOULD_DO),
        hidden=len(pairs) - len(shown),
        hidden_reached=sum(1 for _, item in pairs if item["outcome"] != Outcome.SKIPPED)
        - sum(1 for _, item in shown if item["outcome"] != Outcome.SKIPPED),
        approved=approved,
        tickets=any(row["ticket"] for row in rows),  # a column only when a row has one
        approved_ok=sum(1 for row in approved if row["as_approved"]),
        when=i18n.format_datetime(datetime.now(UTC)),
        resumes=_resumed(data.get("resumes"), i18n.format_datetime),
        lang=i18n.language(),
    )


def _resumed(stamp: object, shown: Callable[[datetime], str]) -> str:
    """When the run a resumed run resumes started, as a person reads it."""
    if not isinstance(stamp, str):
        return ""
    try:
        return shown(datetime.fromisoformat(stamp))
    except ValueError:
        return stamp


HTML_ROWS = 2000
"""The report's table shows at most this many rows; results.csv holds them all."""


def _shown(
    pairs: list[tuple[JournalRow, dict[str, Any]]],
) -> list[tuple[JournalRow, dict[str, Any]]]:
    """The rows the page lists, in the file's order: those the run reached first,
    then those it did not, up to HTML_ROWS. A stopped run of 200,000 rows makes a
    page a browser opens, not one of 200,000 rows saying « not attempted »."""
    if len(pairs) <= HTML_ROWS:
        return pairs
    reached = [i for i, (_, item) in enumerate(pairs) if item["outcome"] != Outcome.SKIPPED]
    rest = [i for i, (_, item) in enumerate(pairs) if item["outcome"] == Outcome.SKIPPED]
    keep = sorted((reached + rest)[:HTML_ROWS])
    return [pairs[i] for i in keep]


def _inline(path: str) -> str | None:
    """A screenshot as a data: URL, so that the page is one self-contained file."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    _write(path, csv_text(header, rows))


def _write(path: Path, text: str) -> None:
    write_private(path, text)
