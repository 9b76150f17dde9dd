"""A run's result as plain data, for files and jobs (the application adds its exit code)."""

from __future__ import annotations

from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import Any

from myopenip_bot.errors import BotError, Interrupted, error_kind, signal_name
from myopenip_bot.models import DissociationRequest, RunResult

__all__ = ["failure_result", "result_data"]


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


def result_data(result: RunResult) -> dict[str, Any]:
    """`result` as JSON-ready data: every field, the counts, the signal by its name."""
    data: dict[str, Any] = _plain(asdict(result))
    data["counts"] = result.counts
    data["interrupted"] = signal_name(result.interrupted) if result.interrupted else None
    return data


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
