"""Run folders kept under the traces folder: the newest MYOPENIP_KEEP_RUNS, the older removed.

Only folders the bot made count, and only those are ever removed: real folders (never a
link) directly under the traces folder, named as the bot names them — a UTC timestamp
first, `20261201-172825-worker-1`, `20261201-172825-batch-licences`. Anything else there
is left alone. A folder that changed in the last RECENT_SECONDS (itself or an entry in
it) is never removed, however old its name: another run may still be writing it.

Every command prunes when it starts (myopenip.startup), before it makes its own folder:
a support desk's one-shots are kept in bounds as a scheduler's batches are.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

import structlog

__all__ = ["RECENT_SECONDS", "RUN_FOLDER", "prune_runs", "runs_to_remove"]

log = structlog.get_logger(__name__)

RUN_FOLDER = re.compile(r"[0-9]{8}-[0-9]{6}-.+")
RECENT_SECONDS = 15 * 60


def runs_to_remove(names: Iterable[str], keep: int) -> list[str]:
    """The names of run folders beyond the newest `keep`, oldest last (the timestamp
    first in a name sorts them); names the bot does not give are never among them."""
    runs = sorted((name for name in names if RUN_FOLDER.fullmatch(name)), reverse=True)
    return runs[max(keep, 0) :]


def prune_runs(traces_dir: Path, keep: int, *, now: float | None = None) -> list[Path]:
    """Remove the run folders of `traces_dir` beyond the newest `keep` (see the module
    docstring for which are never removed); return those removed."""
    root = traces_dir.expanduser()
    if not root.is_dir() or root.is_symlink():
        return []
    now = time.time() if now is None else now
    try:
        names = [entry.name for entry in root.iterdir() if _run_folder(entry)]
    except OSError as error:
        log.warning("runs_not_pruned", folder=str(root), error=str(error))
        return []
    removed = []
    for name in runs_to_remove(names, keep):
        folder = root / name
        if _changed_since(folder, now - RECENT_SECONDS):
            continue
        try:
            shutil.rmtree(folder)
        except OSError as error:
            log.warning("run_not_removed", folder=str(folder), error=str(error))
            continue
        removed.append(folder)
    if removed:
        log.info("runs_pruned", folder=str(root), removed=len(removed), kept=keep)
    return removed


def _run_folder(entry: Path) -> bool:
    return (
        RUN_FOLDER.fullmatch(entry.name) is not None and entry.is_dir() and not entry.is_symlink()
    )


def _changed_since(folder: Path, since: float) -> bool:
    try:
        if folder.lstat().st_mtime >= since:
            return True
        return any(entry.lstat().st_mtime >= since for entry in folder.iterdir())
    except OSError:
        return True  # cannot tell: leave it
