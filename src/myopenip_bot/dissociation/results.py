"""A run's result when the run could not begin: for the application to report it."""

from __future__ import annotations

from myopenip_bot.errors import BotError, Interrupted, error_kind
from myopenip_bot.models import DissociationRequest, RunResult

__all__ = ["failure_result"]


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
