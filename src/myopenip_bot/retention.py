"""What the bot keeps of its past runs: the newest MYOPENIP_KEEP_RUNS run folders, plans
apart, and the newest MYOPENIP_KEEP_RUNS finished batch journals; the older removed.

Run folders (`prune_runs`): only folders the bot made count, and only those are ever
removed: real folders (never a link) directly under the traces folder, named as the bot
names them — a UTC timestamp first, `20261201-172825-worker-1`,
`20261201-172825-batch-licences`. Anything else there is left alone. A folder that changed
in the last RECENT_SECONDS (itself or an entry in it) is never removed, however old its
name: another run may still be writing it. A folder holding a plan (a dry run's
`plan.csv`, which a supervisor approves and then runs as it is) is counted apart, among
the plans alone: a plan awaiting approval is never pushed out by nightly runs, only once
MYOPENIP_KEEP_RUNS newer plans were made.

Journals (`prune_journals`): only those of the default journals folder, named as the bot
names them (`<file>-<hash>.sqlite`, a regular file, no link), that are finished: not
locked by a run, not changed in the last RECENT_SECONDS, their last run recorded its end
and every row is final (done, already done, refused). The newest MYOPENIP_KEEP_RUNS of
those are kept; a journal that is not finished is never removed (a rerun resumes it).

Every command prunes run folders when it starts (myopenip.startup), before it makes its
own folder: a support desk's one-shots are kept in bounds as a scheduler's batches are;
a batch prunes the journals too, before it opens its own (never removed).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

import structlog

from myopenip_bot.errors import BotError

__all__ = [
    "JOURNAL_NAME",
    "PLAN_NAME",
    "RECENT_SECONDS",
    "RUN_FOLDER",
    "journals_to_remove",
    "prune_journals",
    "prune_runs",
    "runs_to_remove",
]

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

log = structlog.get_logger(__name__)

RUN_FOLDER = re.compile(r"[0-9]{8}-[0-9]{6}-.+")
RECENT_SECONDS = 15 * 60
# A dry run's plan (myopenip_bot.batch.report.PLAN_FILE, not imported: start-up stays light).
PLAN_NAME = "plan.csv"
# A journal the bot named (myopenip_bot.batch.run.default_journal).
JOURNAL_NAME = re.compile(r".+-[0-9a-f]{8}\.sqlite")


def runs_to_remove(names: Iterable[str], keep: int, plans: Iterable[str] = ()) -> list[str]:
    """The names of run folders beyond the newest `keep`, oldest last (the timestamp
    first in a name sorts them); names the bot does not give are never among them. The
    folders named in `plans` (they hold a plan) are counted apart: beyond the newest
    `keep` plans."""
    holding = set(plans)
    runs = sorted((name for name in names if RUN_FOLDER.fullmatch(name)), reverse=True)
    others = [name for name in runs if name not in holding]
    with_plan = [name for name in runs if name in holding]
    return sorted(others[max(keep, 0) :] + with_plan[max(keep, 0) :], reverse=True)


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
    plans = [name for name in names if _holds_plan(root / name)]
    removed = []
    for name in runs_to_remove(names, keep, plans):
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


def _holds_plan(folder: Path) -> bool:
    plan = folder / PLAN_NAME
    return plan.is_file() and not plan.is_symlink()


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


def journals_to_remove(finished: Iterable[tuple[str, float]], keep: int) -> list[str]:
    """The names of finished journals (name, time last changed) beyond the newest `keep`,
    newest first; a journal not finished is never given here."""
    newest_first = sorted(finished, key=lambda item: (item[1], item[0]), reverse=True)
    return [name for name, _ in newest_first[max(keep, 0) :]]


def prune_journals(
    folder: Path, keep: int, *, spare: Path | None = None, now: float | None = None
) -> list[Path]:
    """Remove the finished journals of `folder` beyond the newest `keep` (see the module
    docstring for which are never removed; `spare` is this run's, never removed);
    return those removed."""
    root = folder.expanduser()
    if not root.is_dir() or root.is_symlink():
        return []
    now = time.time() if now is None else now
    spared = spare.expanduser().resolve() if spare is not None else None
    try:
        entries = [
            entry
            for entry in root.iterdir()
            if JOURNAL_NAME.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink()
        ]
    except OSError as error:
        log.warning("journals_not_pruned", folder=str(root), error=str(error))
        return []
    finished = []
    for entry in entries:
        if spared is not None and entry.resolve() == spared:
            continue
        changed = _last_change(entry)
        if changed is None or changed >= now - RECENT_SECONDS:
            continue
        if _finished_journal(entry, remove=False):
            finished.append((entry.name, changed))
    removed = []
    for name in journals_to_remove(finished, keep):
        path = root / name
        if _finished_journal(path, remove=True):  # checked again, under its lock
            removed.append(path)
    if removed:
        log.info("journals_pruned", folder=str(root), removed=len(removed), kept=keep)
    return removed


def _last_change(journal: Path) -> float | None:
    """When the journal last changed, its write-ahead log included (not its -shm, which a
    mere reader touches); None: cannot tell."""
    times = []
    for suffix in ("", "-wal", "-journal"):
        try:
            times.append(journal.with_name(journal.name + suffix).lstat().st_mtime)
        except FileNotFoundError:
            continue
        except OSError:
            return None
    return max(times) if times else None


def _finished_journal(path: Path, *, remove: bool) -> bool:
    """Whether the journal at `path` is finished, no run holding its lock (checked while
    holding it); with `remove`, removed then with its companions, the lock file last."""
    from myopenip_bot.batch import journal as journals  # SQLite's, only for a batch

    try:
        journals.check_path(path)
        fd = os.open(
            path.with_name(path.name + ".lock"),
            os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
            0o600,
        )
    except (OSError, BotError):  # a link, a folder: not ours to remove
        return False
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # a run holds it
        if not _finished(path, journals.APPLICATION_ID, journals.FINAL):
            return False
        if not remove:
            return True
        try:
            for suffix in ("", "-wal", "-shm", "-journal", ".lock"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        except OSError as error:
            log.warning("journal_not_removed", journal=str(path), error=str(error))
            return False
        return True
    finally:
        os.close(fd)


def _finished(path: Path, application_id: int, final: Iterable[object]) -> bool:
    """A journal of ours whose last run recorded its end and whose rows are all final."""
    states = ", ".join(f"'{state}'" for state in sorted(str(s) for s in final))
    try:
        # quoted: a name holding "?" or "#" is a name, never the URI's query
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] != application_id:
            return False
        last = conn.execute("SELECT finished_at FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        if last is None or last[0] is None:
            return False
        (left,) = conn.execute(
            f"SELECT COUNT(*) FROM rows WHERE state NOT IN ({states})"
        ).fetchone()
        return int(left) == 0
    except sqlite3.Error:
        return False
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.close()
