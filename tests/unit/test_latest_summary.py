"""traces/summary-latest.json: the last batch's document at one fixed name, written whole,
never through a link, so that a hostile link there cannot make the bot write elsewhere."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from myopenip_bot.batch import report
from myopenip_bot.batch.report import LATEST_SUMMARY, forget_latest, write_latest


def test_the_latest_summary_is_written_whole_and_private_and_replaced_each_run(
    tmp_path: Path,
) -> None:
    first = write_latest(tmp_path, '{"exit_code": 3}')
    second = write_latest(tmp_path, '{"exit_code": 0}')

    assert first == second == tmp_path / LATEST_SUMMARY
    assert (tmp_path / LATEST_SUMMARY).read_text(encoding="utf-8") == '{"exit_code": 0}\n'
    assert stat.S_IMODE((tmp_path / LATEST_SUMMARY).stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == [LATEST_SUMMARY]  # no temporary


def test_a_link_at_the_latest_summary_or_for_the_traces_folder_is_never_written_through(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "precious"
    target.write_text("keep", encoding="utf-8")
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / LATEST_SUMMARY).symlink_to(target)
    linked = tmp_path / "linked-traces"
    linked.symlink_to(outside)

    assert write_latest(traces, '{"exit_code": 0}') is None
    assert write_latest(linked, '{"exit_code": 0}') is None
    forget_latest(traces)

    assert target.read_text(encoding="utf-8") == "keep"
    assert (traces / LATEST_SUMMARY).is_symlink()  # not ours: left as it is
    assert sorted(path.name for path in outside.iterdir()) == ["precious"]


def test_a_summary_that_cannot_be_written_removes_the_older_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It never shows an older run as the last (tests/commands/test_full_disk.py fills a
    real disk under a report; here the write itself answers ENOSPC)."""
    write_latest(tmp_path, '{"exit_code": 0}')

    def full(path: Path, data: str | bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(report, "write_private", full)

    assert write_latest(tmp_path, '{"exit_code": 8}') is None
    assert not (tmp_path / LATEST_SUMMARY).exists()
