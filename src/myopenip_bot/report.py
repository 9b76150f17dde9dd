"""Turn a RunResult into what people and jobs read: a rich summary, JSON, an exit code."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from myopenip_bot.models import LicenceResult, Outcome, RunResult, format_number

EXIT_OK = 0  # every licence done, already done, or (dry run) would be done
EXIT_REFUSED = 1  # at least one business refusal; nothing technical failed
EXIT_USAGE = 2  # bad arguments or settings, wrong credentials (argparse's own code)
EXIT_TECHNICAL = 3  # the portal or the browser failed; retrying may help
EXIT_NOT_CONFIRMED = 4  # a person answered no at the confirmation: nothing changed

_LABELS = {
    Outcome.DONE: ("dissociated", "green"),
    Outcome.ALREADY_DONE: ("already without number", "cyan"),
    Outcome.WOULD_DO: ("would be dissociated", "yellow"),
    Outcome.REFUSED: ("refused", "red"),
    Outcome.FAILED: ("failed", "red"),
}


def exit_code(result: RunResult) -> int:
    outcomes = {r.outcome for r in result.results}
    if Outcome.FAILED in outcomes:
        return EXIT_TECHNICAL
    if Outcome.REFUSED in outcomes:
        return EXIT_REFUSED
    if result.error:
        return EXIT_TECHNICAL
    return EXIT_OK


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_json(result: RunResult) -> str:
    data = _plain(asdict(result))
    data["counts"] = result.counts
    data["exit_code"] = exit_code(result)
    return json.dumps(data, ensure_ascii=False, indent=2)


def _number(row: LicenceResult) -> str:
    return format_number(row.number) if row.number else "—"


def print_summary(result: RunResult, console: Console) -> None:
    """A table per licence, then the run's totals and where its artifacts are."""
    mode = "dry run, nothing changed" if result.dry_run else "run"
    keep = "Oui (kept)" if result.keep_number else "Non (quarantine)"
    table = Table(title=f"Service {result.service_ref}: {mode}; « Conserver le numéro » = {keep}")
    for column in ("Asked", "Licence", "Tab", "Number", "Outcome", "Why"):
        table.add_column(column)
    for row in result.results:
        label, colour = _LABELS[row.outcome]
        table.add_row(
            row.target.label(),
            row.licence_ref or "—",
            row.tab.value if row.tab else "—",
            _number(row),
            f"[{colour}]{label}[/{colour}]",
            row.reason or "",
        )
    console.print(table)
    for message in result.status_messages:
        console.print(f"Portal: « {message} »")
    if result.error:
        console.print(f"[red]Error: {result.error}[/red]")
    if result.trace_dir:
        console.print(f"Trace and screenshots: {result.trace_dir}")
