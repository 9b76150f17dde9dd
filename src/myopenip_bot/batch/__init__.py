"""Batches: the file, the journal, the workers, the report.

`run_batch(settings, options, rows, exit_code=…)` runs one batch end to end (batch/run.py);
its parts: `read_batch_file` (file.py), `Journal` (journal.py), `Batch` (runner.py, the
workers), `write_report` (report.py), and the rules over plain data (rules.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from myopenip_bot.batch.results import BatchConfirmation, BatchOptions, BatchResult
    from myopenip_bot.batch.run import BatchProgress, BatchRun, run_batch

# Imported on first use (PEP 562): reading a file or a journal does not start Playwright's
# import.
_HOMES = {
    "BatchConfirmation": "myopenip_bot.batch.results",
    "BatchOptions": "myopenip_bot.batch.results",
    "BatchProgress": "myopenip_bot.batch.run",
    "BatchResult": "myopenip_bot.batch.results",
    "BatchRun": "myopenip_bot.batch.run",
    "run_batch": "myopenip_bot.batch.run",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'myopenip_bot.batch' has no attribute {name!r}")


__all__ = [
    "BatchConfirmation",
    "BatchOptions",
    "BatchProgress",
    "BatchResult",
    "BatchRun",
    "run_batch",
]
