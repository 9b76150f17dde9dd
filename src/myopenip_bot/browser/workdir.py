"""Private folders: the bot's own working area, and folders created readable by their owner only.

Playwright and Chromium write working files while a run lives: the trace being recorded
(with every request's cookie header), the browser profile (with its cookie database),
downloads. They go to a `WorkArea`, `<root>/run-<pid>-<token>/` with mode 700, never to
the shared temp folder. A run removes its area when it ends; a run killed with SIGKILL
cannot, so every new area first removes the areas of runs that are gone: each live run
holds an exclusive lock on its `lock` file, which the kernel releases when it dies.

Chromium puts a Unix socket in its TMPDIR, and a socket's path may not exceed 107
bytes: a work area under a deep folder would make Chromium abort at start. So the
browser's TMPDIR is a short link in the system's temp folder (`/tmp/myopenip-<token>`)
to the area's `tmp/`: the files stay in the private area, only the name is short. The
link goes with its area, also when the next run removes a killed run's area.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

import structlog

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locks, areas are removed by their run
    fcntl = None  # type: ignore[assignment]

__all__ = ["WorkArea", "make_private_dirs"]

log = structlog.get_logger(__name__)

PRIVATE_DIR = 0o700


def make_private_dirs(path: Path) -> Path:
    """Create `path` and its missing parents readable by their owner only; return it.

    Folders that exist already are left as they are. Raises OSError when it cannot.
    """
    path = path.expanduser()
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=PRIVATE_DIR)
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is masked by the umask
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a folder")
    return path


class WorkArea:
    """One run's private working folder; `open` it, `close` it (also on errors)."""

    def __init__(self, path: Path, lock_fd: int | None, tmp_link: Path | None = None) -> None:
        self.path = path
        self._lock_fd = lock_fd
        self._tmp_link = tmp_link

    @property
    def tmp(self) -> Path:
        """The temp folder of Playwright's driver and Chromium (their TMPDIR), by a short
        name (see the module docstring)."""
        return self._tmp_link or self.path / "tmp"

    @property
    def traces(self) -> Path:
        """Where traces are recorded before they are redacted into the run folder."""
        return self.path / "traces"

    @classmethod
    def open(cls, root: Path) -> WorkArea:
        """Remove the areas of runs that are gone, then create and lock a new one."""
        root = make_private_dirs(root)
        remove_stale(root)
        name = f"run-{os.getpid()}-{secrets.token_hex(4)}"
        # Built under a name remove_stale ignores, locked, then renamed: another run never
        # sees it unlocked.
        building = root / f".new-{name}"
        building.mkdir(mode=PRIVATE_DIR)
        os.chmod(building, PRIVATE_DIR)
        lock_fd = None
        if fcntl is not None:
            lock_fd = os.open(building / "lock", os.O_WRONLY | os.O_CREAT, 0o600)
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for sub in ("tmp", "traces"):
            (building / sub).mkdir(mode=PRIVATE_DIR)
        path = root / name
        building.rename(path)
        return cls(path, lock_fd, _short_link(path))

    def close(self) -> None:
        """Remove the area and everything in it; idempotent."""
        _remove_link(self.path)
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def remove_stale(root: Path) -> list[Path]:
    """Remove the areas under `root` whose run is gone; return them."""
    removed: list[Path] = []
    for area in sorted([*root.glob("run-*"), *root.glob(".new-run-*")]):
        if area.is_dir() and _is_stale(area):
            _remove_link(area)
            shutil.rmtree(area, ignore_errors=True)
            removed.append(area)
    _remove_dangling_links()
    if removed:
        log.info("stale_work_removed", folders=[str(p) for p in removed])
    return removed


def _remove_dangling_links() -> None:
    """Our short links whose area is gone some other way (a work folder deleted by hand)."""
    for link in {*Path("/tmp").glob("myopenip-*"), *Path(tempfile.gettempdir()).glob("myopenip-*")}:
        with contextlib.suppress(OSError):
            if link.is_symlink() and not link.exists() and link.lstat().st_uid == os.getuid():
                link.unlink()


_LINK_NOTE = "tmp-link"


def _short_link(area: Path) -> Path | None:
    """A link with a short name in the system temp folder to the area's `tmp/` (noted in
    the area, so that whoever removes the area removes the link); None if none can be
    made (the area's own path is used then)."""
    base = Path("/tmp") if os.access("/tmp", os.W_OK) else Path(tempfile.gettempdir())
    for _ in range(5):
        link = base / f"myopenip-{secrets.token_hex(6)}"
        try:
            os.symlink((area / "tmp").resolve(), link)  # absolute: the link is elsewhere
        except FileExistsError:
            continue
        except OSError:
            return None
        (area / _LINK_NOTE).write_text(str(link), encoding="utf-8")
        return link
    return None


def _remove_link(area: Path) -> None:
    """Remove the short link of `area`, if it has one and it still points there."""
    with contextlib.suppress(OSError):
        link = Path((area / _LINK_NOTE).read_text(encoding="utf-8"))
        if link.is_symlink() and Path(os.readlink(link)) == (area / "tmp").resolve():
            link.unlink()


def _is_stale(area: Path) -> bool:
    lock = area / "lock"
    if fcntl is None or area.name.startswith(".new-") or not lock.exists():
        return not _pid_alive(area.name)  # being built (or long gone): judge by its pid
    try:
        fd = os.open(lock, os.O_WRONLY)
    except FileNotFoundError:
        return False  # its run just removed it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a live run holds it
    finally:
        os.close(fd)  # also releases the lock we may have taken
    return True


def _pid_alive(name: str) -> bool:
    found = re.search(r"run-(\d+)-", name)
    if found is None:
        return False
    pid = int(found.group(1))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
