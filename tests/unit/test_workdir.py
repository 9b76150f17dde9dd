"""A run's work area is private, removed when the run ends, and by the next run if it was killed."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from myopenip_bot.browser.workdir import WorkArea, make_private_dirs, remove_stale

FAKE_SECRET = "myopenip_session=Zx81-fake-cookie-0123456789"
AREA_LINE = "AREA "  # the child's line naming its area; structlog may print other lines

# A stand-in for a bot run: opens its area, writes a secret into it as Chromium would, says
# where, then lives until it is killed (or a minute passes, so that nothing outlives a test).
CHILD = textwrap.dedent(
    f"""
    import sys, time
    from pathlib import Path
    from myopenip_bot.browser.workdir import WorkArea

    area = WorkArea.open(Path(sys.argv[1]))
    (area.tmp / "Cookies").write_text({FAKE_SECRET!r})
    print({AREA_LINE!r} + str(area.path), flush=True)
    time.sleep(60)
    """
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class Child:
    """A child process holding a work area under `root`, until `kill()`."""

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.area = self._read_area()

    def _read_area(self) -> Path:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(AREA_LINE):
                return Path(line[len(AREA_LINE) :].strip())
        assert self.process.stderr is not None
        raise AssertionError(f"the child ended without an area: {self.process.stderr.read()}")

    def kill(self) -> None:
        """SIGKILL: the child cannot clean anything up."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def children() -> Iterator[list[Child]]:
    """Children started by a test; any left alive are killed at the end."""
    started: list[Child] = []
    yield started
    for child in started:
        child.kill()


# -- make_private_dirs ------------------------------------------------------------------


def test_missing_folders_are_created_readable_by_their_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "state" / "runs" / "today"

    assert make_private_dirs(target) == target

    for folder in (tmp_path / "state", tmp_path / "state" / "runs", target):
        assert folder.is_dir()
        assert mode(folder) == 0o700


def test_folders_that_exist_already_keep_their_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)

    make_private_dirs(shared / "mine")
    make_private_dirs(shared)

    assert mode(shared) == 0o755
    assert mode(shared / "mine") == 0o700


def test_a_parent_that_is_a_file_raises_os_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")

    with pytest.raises(OSError, match=re.escape(str(blocker))):
        make_private_dirs(blocker / "a" / "b")

    assert blocker.read_text() == "not a folder"


def test_a_path_that_is_a_file_raises_os_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")

    with pytest.raises(OSError, match="not a folder"):
        make_private_dirs(blocker)


# -- WorkArea ---------------------------------------------------------------------------


def test_a_work_area_is_a_private_folder_named_after_the_run_with_tmp_and_traces(
    tmp_path: Path,
) -> None:
    root = tmp_path / "work"
    area = WorkArea.open(root)
    try:
        assert area.path.parent == root
        prefix, pid, token = area.path.name.split("-")
        assert (prefix, pid) == ("run", str(os.getpid()))
        assert len(token) == 8
        int(token, 16)  # hexadecimal
        assert mode(root) == 0o700
        assert mode(area.path) == 0o700
        for sub in (area.tmp, area.traces):
            assert sub.resolve().parent == area.path
            assert sub.is_dir()
            assert mode(sub) == 0o700
        # Chromium's socket goes in its TMPDIR: a short name, whatever the work folder.
        assert len(str(area.tmp)) < 40
        assert area.tmp.is_symlink()
    finally:
        area.close()


def test_a_deep_work_folder_still_gives_chromium_a_short_temp_folder(tmp_path: Path) -> None:
    area = WorkArea.open(tmp_path / ("deep-" * 30) / "work")
    try:
        socket = area.tmp / "org.chromium.Chromium.XXXXXX" / "SingletonSocket"
        assert len(str(socket)) <= 107  # sun_path
    finally:
        area.close()
    assert not area.tmp.is_symlink()  # the link goes with its area


def test_closing_a_work_area_removes_it_with_its_contents_and_may_be_repeated(
    tmp_path: Path,
) -> None:
    area = WorkArea.open(tmp_path)
    (area.tmp / "Cookies").write_text(FAKE_SECRET)
    (area.traces / "trace-1.zip").write_bytes(b"PK")

    area.close()
    area.close()

    assert not area.path.exists()
    assert list(tmp_path.iterdir()) == []


def test_two_areas_of_one_process_are_distinct_and_neither_removes_the_other(
    tmp_path: Path,
) -> None:
    first = WorkArea.open(tmp_path)
    second = WorkArea.open(tmp_path)
    try:
        assert first.path != second.path
        assert first.path.is_dir()
        assert second.path.is_dir()
    finally:
        first.close()
        second.close()


def test_a_work_area_left_by_a_killed_run_is_removed_by_the_next_one(
    tmp_path: Path, children: list[Child]
) -> None:
    dead = Child(tmp_path)
    children.append(dead)
    alive = Child(tmp_path)
    children.append(alive)
    assert (dead.area / "tmp" / "Cookies").read_text() == FAKE_SECRET
    assert alive.area.is_dir()

    dead.kill()
    assert dead.area.is_dir()  # SIGKILL: the run could not remove it
    area = WorkArea.open(tmp_path)
    try:
        assert not dead.area.exists()
        assert alive.area.is_dir()  # its run still holds the lock
        assert (alive.area / "tmp" / "Cookies").read_text() == FAKE_SECRET
        assert sorted(tmp_path.iterdir()) == sorted([alive.area, area.path])
    finally:
        area.close()
        alive.kill()


def test_an_unlocked_area_of_a_process_that_is_gone_is_removed(tmp_path: Path) -> None:
    # A run killed between creating its folder and locking it: only its pid tells.
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    orphan = tmp_path / f"run-{gone.stdout.strip()}-0badcafe"
    orphan.mkdir()

    assert remove_stale(tmp_path) == [orphan]
    assert not orphan.exists()


def test_an_unlocked_area_of_a_live_process_is_kept(tmp_path: Path) -> None:
    # A run being born: its folder exists, its lock not yet.
    newborn = tmp_path / f"run-{os.getpid()}-0badcafe"
    newborn.mkdir()

    assert remove_stale(tmp_path) == []
    assert newborn.is_dir()


def test_files_and_folders_that_are_not_areas_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "run-file").write_text("a file, not an area")

    assert remove_stale(tmp_path) == []
    assert (tmp_path / "notes").is_dir()
    assert (tmp_path / "run-file").is_file()


def test_a_work_folder_given_relative_still_gives_a_working_short_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    area = WorkArea.open(Path(".myopenip") / "work")  # the default is relative
    try:
        (area.tmp / "probe").write_text("x", encoding="utf-8")  # through the link
        assert (area.path / "tmp" / "probe").read_text(encoding="utf-8") == "x"
    finally:
        area.close()
