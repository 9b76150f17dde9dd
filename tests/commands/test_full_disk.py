"""`myopenip batch` on a full disk, as a night job meets one: a report folder that cannot be
written is an error (exit 8, the journal complete); a journal whose disk fills mid-run
stops the run before its next « Valider » (exit 7), prints its JSON, never a traceback,
and the next run, the disk freed, ends exactly as the file says. A one-shot's result.json
and a smoke's files on a full disk: exit 8 too, never a traceback nor a success.

The disk is a real one: a small tmpfs mounted for the test (root, as CI runs, where mount
works; skipped with the reason otherwise), filled up with a file; the batch is a real
process against the replica.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import forked
import pytest
from batch_support import (
    BatchCli,
    assert_portal_is_the_file,
    clicked,
    exit_agrees,
    journal_rows,
    named,
    rows_for,
    write_csv,
    write_rows,
)
from cli_support import Cli

from myopenip.replica import Replica

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UNATTENDED = ("--yes", "--json")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """Mount a tmpfs of `size` kB in tmp_path (unmounted after the test)."""
    mounted: list[Path] = []

    def mount(size: int) -> Path:
        if os.geteuid() != 0:
            pytest.skip("a small disk is a tmpfs mounted for the test: needs root (CI is)")
        folder = tmp_path / f"disk-{len(mounted)}"
        folder.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}k", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path) -> Path:
    """Fill `disk` up to its last byte with one file; return it (remove it to free the disk)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        why = None
        while why is None:
            try:
                handle.write(b"\0" * 65536)
            except OSError as error:
                why = error.errno
    assert why == errno.ENOSPC
    return filler


def finished(stderr: str) -> list[tuple[str, int]]:
    return [(e["level"], e["exit_code"]) for e in named(stderr, "batch_finished")]


def test_a_report_folder_on_a_full_disk_is_exit_8_and_the_journal_holds_every_row(
    replica: Replica, tmp_path: Path, small_disk: Callable[[int], Path]
) -> None:
    disk = small_disk(256)
    fill(disk)
    before = replica.state()
    rows = rows_for(before, [("SRV-10022", 1, "utilisateurs")], [True])
    lines = [(r.service, r.licence, r.keep_text) for r in rows]
    batch = write_csv(tmp_path / "batch.csv", [*lines, ("SRV-10022", "FPC999999", "non")])
    journal, report = tmp_path / "journal.sqlite", disk / "report"
    cli = BatchCli(tmp_path, replica)

    done = cli(batch, *UNATTENDED, "--journal", journal, "--report", report)

    assert done.returncode == 8, done.stderr[-4000:]
    assert "Traceback" not in done.stderr
    payload = exit_agrees(done)
    assert payload["report"] is None
    assert "No space left on device" in payload["report_error"]
    assert f"in the journal {journal}, complete" in payload["report_error"]
    outcomes = {row["licence"]: row["outcome"] for row in payload["results"]}
    assert outcomes == {rows[0].licence: "done", "FPC999999": "refused"}
    # The journal is complete: every row final, as the JSON says.
    assert {r["licence"]: r["state"] for r in journal_rows(journal)} == outcomes
    assert_portal_is_the_file(before, replica.state(), rows)
    assert not (report / "summary.json").exists()
    assert not (report / "report.html").exists()
    assert "No report" in done.stderr
    # Monitoring's signals: the refused row a warning, the end an error; the last summary.
    levels = {e["licence"]: e["level"] for e in named(done.stderr, "batch_row")}
    assert levels["FPC999999"] == "warning"
    assert levels[rows[0].licence] == "info"
    assert finished(done.stderr) == [("error", 8)]
    latest = json.loads((tmp_path / "traces" / "summary-latest.json").read_text("utf-8"))
    assert latest == payload


def test_a_journal_whose_disk_fills_mid_run_stops_with_exit_7_and_the_rerun_ends_exact(
    replica: Replica, tmp_path: Path, small_disk: Callable[[int], Path]
) -> None:
    disk = small_disk(1024)
    before = replica.state()
    # Two services: two dialogs, two « Valider »; the disk fills at the first.
    rows = rows_for(
        before, [("SRV-10021", 2, "utilisateurs"), ("SRV-10022", 2, "utilisateurs")], [True] * 4
    )
    batch = write_rows(tmp_path / "batch.csv", rows)
    journal = disk / "journal.sqlite"
    args = (batch, *UNATTENDED, "--journal", journal, "--report", tmp_path / "report")
    cli = BatchCli(tmp_path, replica)

    run = cli.start(*args)
    assert run.wait_for_nth("valider_clicking", 1)
    filler = fill(disk)
    done = run.finish(timeout=600)

    assert done.returncode == 7, done.stderr[-4000:]
    assert "Traceback" not in done.stderr
    payload = exit_agrees(done)  # --json still prints its document
    assert payload["error"]["type"] == "JournalWriteError"
    assert "database or disk is full" in payload["error"]["message"]
    assert "could not be written" in done.stderr
    assert finished(done.stderr) == [("error", 7)]
    # It stopped before its next « Valider »: one dialog's licences clicked, and every
    # licence the portal changed is in the journal as sent (its outcome read by a rerun).
    sent = clicked(done.stderr)
    assert sent
    assert {r.licence for r in rows if r.service == "SRV-10022"}.isdisjoint(sent) or {
        r.licence for r in rows if r.service == "SRV-10021"
    }.isdisjoint(sent)
    changed = {e["licence_ref"] for e in replica.state()["audit"][len(before["audit"]) :]}
    recorded = {r["licence"]: r for r in journal_rows(journal)}
    assert changed <= set(sent)
    for licence in changed:
        assert recorded[licence]["submissions"] >= 1, recorded[licence]
        assert recorded[licence]["state"] not in ("pending", "planned"), recorded[licence]

    filler.unlink()  # the disk freed: the same command resumes and ends exactly as the file
    again = cli(*args)

    assert again.returncode == 0, again.stderr[-4000:]
    assert {row["outcome"] for row in exit_agrees(again)["results"]} == {"done"}
    assert_portal_is_the_file(before, replica.state(), rows)


def test_a_dissociation_whose_run_folder_is_on_a_full_disk_exits_8_and_still_prints_it(
    replica: Replica, tmp_path: Path, small_disk: Callable[[int], Path]
) -> None:
    disk = small_disk(64)
    (disk / "traces").mkdir()
    fill(disk)
    cli = Cli(tmp_path, replica)
    cli.env["MYOPENIP_TRACES_DIR"] = str(disk / "traces")

    done = cli("--licence", "FPC367128", "--release-number", "--yes", "--json")

    assert done.returncode == 8, done.stderr[-4000:]
    assert "Traceback" not in done.stderr
    payload = exit_agrees(done)
    assert [(r["licence"], r["outcome"]) for r in payload["results"]] == [("FPC367128", "done")]
    assert "No result.json" in done.stderr
    assert not list((disk / "traces").rglob("result.json"))


def test_a_smoke_whose_junit_file_is_on_a_full_disk_exits_8_without_a_traceback(
    tmp_path: Path, small_disk: Callable[[int], Path]
) -> None:
    disk = small_disk(64)
    fill(disk)
    with socket.socket() as probe:  # a portal nothing answers for: the walk is quick
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    cli = Cli(tmp_path, None, base_url=url, username="demo", password="demo", startup_timeout="0")
    argv = [sys.executable, "-m", "myopenip", "smoke", "--json"]

    done = forked.run(
        [*argv, "--junit-xml", str(disk / "smoke.xml")], cwd=cli.cwd, env=cli.env, timeout=300
    )

    assert done.returncode == 8, done.stderr[-4000:]
    assert "Traceback" not in done.stderr
    payload = json.loads(done.stdout)
    assert payload["exit_code"] == 8
    # The run folder's smoke.json (on another disk) is written last: it says 8 as well.
    assert json.loads((Path(payload["run_dir"]) / "smoke.json").read_text("utf-8")) == payload
    assert "Files not written" in done.stderr
    assert not (disk / "smoke.xml").exists()
