"""Turn a RunResult into what people and jobs read: a rich summary, JSON, an exit code."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from myopenip_bot.errors import BotError, Interrupted, error_kind, signal_name
from myopenip_bot.models import (
    DissociationRequest,
    ErrorKind,
    LicenceResult,
    Outcome,
    RunResult,
    format_number,
)
from myopenip_bot.terminal import plain, safe

EXIT_OK = 0  # every licence done, already done, or (dry run) would be done
EXIT_REFUSED = 1  # at least one business refusal; nothing technical failed
EXIT_USAGE = 2  # bad arguments or settings, wrong credentials (argparse's own code)
EXIT_TECHNICAL = 3  # the portal or the browser failed, or an outcome is unknown
EXIT_NOT_CONFIRMED = 4  # a person answered no at the confirmation: nothing changed
EXIT_SIGNAL_BASE = 128  # + the signal's number: 130 for SIGINT, 143 for SIGTERM

# When several apply, the first of these wins (after an interruption, which wins over all).
PRECEDENCE = (EXIT_TECHNICAL, EXIT_USAGE, EXIT_REFUSED, EXIT_NOT_CONFIRMED, EXIT_OK)

_BY_OUTCOME = {
    Outcome.FAILED: EXIT_TECHNICAL,
    Outcome.UNKNOWN: EXIT_TECHNICAL,
    Outcome.REFUSED: EXIT_REFUSED,
    Outcome.NOT_CONFIRMED: EXIT_NOT_CONFIRMED,
}
_BY_KIND = {
    ErrorKind.TECHNICAL: EXIT_TECHNICAL,
    ErrorKind.USAGE: EXIT_USAGE,
    ErrorKind.AUTHENTICATION: EXIT_USAGE,
    ErrorKind.BUSINESS: EXIT_REFUSED,
}

_LABELS = {
    Outcome.DONE: ("dissociated", "green"),
    Outcome.ALREADY_DONE: ("already without number", "cyan"),
    Outcome.WOULD_DO: ("would be dissociated", "yellow"),
    Outcome.REFUSED: ("refused", "red"),
    Outcome.NOT_CONFIRMED: ("not confirmed", "yellow"),
    Outcome.SKIPPED: ("not attempted", "yellow"),
    Outcome.FAILED: ("failed", "red"),
    Outcome.UNKNOWN: ("unknown: rerun to settle", "red"),
}


def exit_code(result: RunResult) -> int:
    """The process exit code of a run: the one function behind `$?` and JSON `exit_code`.

    An interruption gives 128 + the signal; otherwise the per-licence outcomes and the
    run-level failure each give a code, and the first of PRECEDENCE among them wins:
    technical 3 > usage 2 > refused 1 > not confirmed 4 > 0. So a run that changed the
    portal and then failed never says "nothing was changed" (4).
    """
    if result.interrupted:
        return EXIT_SIGNAL_BASE + result.interrupted
    codes = {_BY_OUTCOME.get(row.outcome, EXIT_OK) for row in result.results}
    if result.error_kind is not None:
        codes.add(_BY_KIND[result.error_kind])
    return min(codes | {EXIT_OK}, key=PRECEDENCE.index)


def failure_result(request: DissociationRequest, error: BotError) -> RunResult:
    """The result of a run that failed before it could plan anything."""
    return RunResult(
        service_ref=request.service_ref,
        keep_number=request.keep_number,
        dry_run=request.dry_run,
        error=str(error),
        error_kind=error_kind(error),
        error_type=type(error).__name__,
        interrupted=error.signum if isinstance(error, Interrupted) else None,
    )


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
    data["interrupted"] = signal_name(result.interrupted) if result.interrupted else None
    data["exit_code"] = exit_code(result)
    return json.dumps(data, ensure_ascii=False, indent=2)


def _number(row: LicenceResult) -> str:
    return format_number(row.number) if row.number else "—"


def print_summary(result: RunResult, console: Console) -> None:
    """A table per licence, then the run's totals and where its artifacts are.

    Made to read at 80 columns: the outcome is never cut, the reasons fold, and a
    reason every skipped licence shares (the run's error) is said once, below.
    """
    mode = "dry run, nothing changed" if result.dry_run else "run"
    keep = "Oui (kept)" if result.keep_number else "Non (quarantine)"
    service = result.service
    named = f" « {service.name} », client {service.client}" if service and service.client else ""
    console.print(
        f"[bold]Service {safe(result.service_ref)}{safe(named)}[/bold]: {mode}; "
        f"« Conserver le numéro » = {keep}",
        soft_wrap=True,
        highlight=False,
    )
    table = Table(show_lines=False)
    table.add_column("Licence", no_wrap=True)
    table.add_column("Tab", no_wrap=True)
    table.add_column("Number", no_wrap=True)
    table.add_column("Outcome", no_wrap=True)
    table.add_column("Why", overflow="fold", ratio=1)
    for row in result.results:
        label, colour = _LABELS[row.outcome]
        asked = row.target.label()
        licence = row.licence_ref or asked
        if row.licence_ref and asked not in (row.licence_ref, ""):
            licence = f"{row.licence_ref} ({asked})" if row.target.number is None else asked
        why = row.reason or ""
        if row.outcome is Outcome.SKIPPED and result.error and result.error in why:
            why = "not attempted: see the error below"
        table.add_row(
            plain(licence),
            row.tab.value if row.tab else "—",
            _number(row),
            f"[{colour}]{label}[/{colour}]",
            plain(why),
        )
    console.print(table)
    for message in result.status_messages:
        console.print(plain(f"Portal: « {message} »"))
    if result.error:
        console.print(f"[red]Error: {safe(result.error)}[/red]", soft_wrap=True)
    if result.interrupted:
        console.print(
            f"[yellow]Interrupted by {signal_name(result.interrupted)}: stopped at a safe point."
            "[/yellow]"
        )
    if any(row.outcome is Outcome.UNKNOWN for row in result.results):
        console.print(
            "Run the same command again: it reads the portal and settles the licences "
            "whose outcome is unknown (never clicking « Valider » for one already done)."
        )
    if result.trace_dir:
        console.print(plain(f"Trace and screenshots: {result.trace_dir}"), soft_wrap=True)
