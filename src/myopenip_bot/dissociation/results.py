"""A run's result for the application to report: when the run could not begin, and the
numbers it put in quarantine (numbers-to-terminate.csv, a one-shot's as a batch's)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from myopenip_bot.errors import BotError, Interrupted, error_kind
from myopenip_bot.files import write_private
from myopenip_bot.models import DissociationRequest, LicenceTask, Outcome, RunResult, format_number
from myopenip_bot.text import csv_text

__all__ = [
    "NUMBERS_TO_TERMINATE",
    "TO_TERMINATE_COLUMNS",
    "failure_result",
    "released",
    "to_terminate_text",
    "write_numbers_to_terminate",
]

#: The numbers a run put in quarantine (« Conserver le numéro » = Non), with service,
#: client and licence: « Pensez à résilier le numéro depuis vos offres contractées pour
#: arrêter sa facturation ». A batch's report folder holds one, and so does a one-shot's
#: run folder when it released numbers.
NUMBERS_TO_TERMINATE = "numbers-to-terminate.csv"
TO_TERMINATE_COLUMNS = ("number", "service", "client", "licence")


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


def released(result: RunResult) -> list[LicenceTask]:
    """The licences whose number this run put in quarantine (dissociated, not kept)."""
    return [
        task
        for task in result.results
        if task.outcome is Outcome.DONE and task.keep is False and task.number
    ]


def to_terminate_text(rows: Iterable[Iterable[object]]) -> str:
    """numbers-to-terminate.csv's text: `number;service;client;licence` rows, the
    number as "02 31 45 67 89"."""
    return csv_text(TO_TERMINATE_COLUMNS, rows)


def write_numbers_to_terminate(result: RunResult, folder: Path) -> Path | None:
    """Write the numbers `result` put in quarantine into `folder`'s
    numbers-to-terminate.csv (private), as a batch's report does; None when it released
    none (no file). OSError when it cannot be written."""
    client = result.service.client if result.service is not None else ""
    rows = [
        [format_number(task.number or ""), result.service_ref, client, task.licence_ref or ""]
        for task in released(result)
    ]
    if not rows:
        return None
    path = folder / NUMBERS_TO_TERMINATE
    write_private(path, to_terminate_text(rows))
    return path
