"""What a batch leaves for people and jobs: its exit code, and a report folder.

report.html               one self-contained page: totals, then a row per licence with
                          its outcome, number, keep value, the portal's answer and a
                          link to the dialog it was submitted in (each dialog's
                          screenshot inlined once, however many licences it held)
results.csv               the file's columns plus outcome and reason: the rows that
                          failed can be fed back as a file
numbers-to-terminate.csv  the numbers this batch put in quarantine (« Conserver le
                          numéro » = Non), with service, client and licence: « Pensez à
                          résilier le numéro depuis vos offres contractées pour arrêter
                          sa facturation »
summary.json              the totals, the exit code and how the run ended
"""

from __future__ import annotations

import base64
import csv
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader

from myopenip_bot.batch.journal import JournalRow
from myopenip_bot.batch.runner import BatchResult
from myopenip_bot.errors import signal_name
from myopenip_bot.files import refuse_link, write_private
from myopenip_bot.models import format_number
from myopenip_bot.text import csv_cell, visible

__all__ = ["REPORT_FILES", "check_report_folder", "outcome_of", "summary", "write_report"]

REPORT_FILES = ("report.html", "results.csv", "numbers-to-terminate.csv", "summary.json")


def outcome_of(row: JournalRow, result: BatchResult) -> str:
    """A row's outcome as reports show it: its journal state, or "would_do" in a dry run."""
    if result.dry_run and row.licence in result.would_do:
        return "would_do"
    if result.not_confirmed and row.state in {"pending", "planned"}:
        return "not_confirmed"
    return row.state


def summary(result: BatchResult, exit_code: int) -> dict[str, Any]:
    """The totals and how the run ended, with the process's exit code."""
    counts = Counter(outcome_of(row, result) for row in result.rows)
    return {
        "rows": len(result.rows),
        "counts": dict(sorted(counts.items())),
        "dry_run": result.dry_run,
        "interrupted": signal_name(result.interrupted) if result.interrupted else None,
        "error": result.error,
        "error_kind": result.error_kind.value if result.error_kind else None,
        "stopped_after_failures": result.stopped_after_failures,
        "exit_code": exit_code,
    }


def released(result: BatchResult) -> list[JournalRow]:
    """Rows whose number this batch put in quarantine."""
    return [row for row in result.rows if row.state == "done" and not row.keep]


def check_report_folder(folder: Path) -> None:
    """Refuse a report folder that is a link, or whose report files are: the report would
    be written over whatever they point to (UnsafePathError)."""
    refuse_link(folder, "the report folder")
    for name in REPORT_FILES:
        refuse_link(folder / name, "the report file")


def write_report(
    result: BatchResult, folder: Path, *, file: Path, journal: Path, exit_code: int
) -> Path:
    """Write the four report files into `folder` (created, private); return it."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_csv(
        folder / "results.csv",
        ["service", "licence", "keep_number", "number", "outcome", "reason"],
        [
            [
                row.service,
                row.licence,
                "oui" if row.keep else "non",
                row.number or "",
                outcome_of(row, result),
                row.reason or "",
            ]
            for row in result.rows
        ],
    )
    _write_csv(
        folder / "numbers-to-terminate.csv",
        ["number", "service", "client", "licence"],
        [
            [
                format_number(row.planned_number) if row.planned_number else "",
                row.service,
                row.client or result.services.get(row.service, ""),
                row.licence,
            ]
            for row in released(result)
        ],
    )
    data = summary(result, exit_code) | {
        "file": str(file),
        "journal": str(journal),
        "report": str(folder),
    }
    _write(folder / "summary.json", json.dumps(data, ensure_ascii=False, indent=2))
    _write(folder / "report.html", _html(result, data))
    return folder


def _html(result: BatchResult, data: dict[str, Any]) -> str:
    # Every value is escaped (the template's name ends in .j2, which select_autoescape
    # would not match) and made visible: portal texts and file names are data.
    env = Environment(
        loader=PackageLoader("myopenip_bot.batch", "templates"),
        autoescape=True,
        finalize=lambda value: visible(str(value)) if isinstance(value, str) else value,
    )
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

    rows = [
        {
            "service": row.service,
            "client": row.client or result.services.get(row.service, ""),
            "licence": row.licence,
            "number": format_number(row.planned_number or row.number or "")
            if (row.planned_number or row.number)
            else "—",
            "keep": "Oui" if row.keep else "Non",
            "outcome": outcome_of(row, result),
            "reason": row.reason or "",
            "answer": row.answer or "",
            "dialog": dialog_of(row),
        }
        for row in result.rows
    ]
    return template.render(
        summary=data,
        rows=rows,
        dialogs=list(dialogs.values()),
        released=released(result),
        when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        format_number=format_number,
    )


def _inline(path: str) -> str | None:
    """A screenshot as a data: URL, so that the page is one self-contained file."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    lines: list[str] = []

    class _Sink:
        def write(self, text: str) -> int:
            lines.append(text)
            return len(text)

    writer = csv.writer(_Sink(), delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    _write(path, "\ufeff" + "".join(lines))  # a BOM: Excel opens it as UTF-8


def _write(path: Path, text: str) -> None:
    write_private(path, text)
