"""A large batch file: read, checked and loaded (in several chunks of the journal), its
first search reached, and a SIGTERM at that point obeyed — the run stops at its next safe
point and ends with its summary, its report and 143. `make bench` does the same with
200,000 rows and times each part (bench/limits.py); 30,000 here show the behaviour in a
seventh of the CPU, and the bounds only keep a stuck run from hanging the suite."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from batch_support import BatchCli, exit_agrees

from myopenip.replica import Replica

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROWS = 30_000  # three chunks of the journal's load; stderr's bound below is a sixth


def test_a_large_file_reaches_its_first_search_and_stops_on_sigterm(
    replica: Replica, tmp_path: Path
) -> None:
    file = tmp_path / "large.csv"
    lines = [f"SRV-10021;FPC{600000 + n};non" for n in range(ROWS)]
    file.write_text("service;licence;keep_number\n" + "\n".join(lines) + "\n", encoding="utf-8")
    before = replica.state()
    cli = BatchCli(tmp_path, replica)

    run = cli.start(file, "--yes", "--json", "--journal", tmp_path / "j.sqlite")
    run.wait_for_event("services_searched", timeout=240)  # its first search
    run.send(signal.SIGTERM)
    done = run.finish(timeout=120)

    assert done.returncode == 143, done.stderr[-3000:]
    payload = exit_agrees(done)
    assert payload["interrupted"] == "SIGTERM"
    assert len(payload["results"]) == ROWS
    # Each row says it was not reached and why; a rerun does them (they stay pending).
    assert {(r["outcome"], r["reason"]) for r in payload["results"]} == {
        ("pending", "not reached: the run was interrupted by SIGTERM")
    }
    assert replica.state()["audit"] == before["audit"]  # nothing was clicked
    assert len(done.stderr.splitlines()) < 5_000  # events, not one per row
