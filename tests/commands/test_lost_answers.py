"""`myopenip batch` and `myopenip dissociate` when the answers to « Valider » are lost: a
technical failure is never final. A batch rerun until it exits 0 settles every row by
reading the portal, and the portal ends exactly as the file asked, no row `failed`, each
licence dissociated once; a one-shot that lost every answer it got says "unknown" (exit
3) and its rerun does it.

Real processes, real Chromium, the replica's faults: `error_rate` (any request answered
503, reads included: the bot's retry policy takes those) and `/_test/fail-submissions`
(the next « Valider » answered 503 before the portal sees it). Answers lost after the
portal committed (`drop_after_commit_rate`) are test_batch.py's killed-and-resumed batch
and test_workflow_faults.py's: read done, never sent twice.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from batch_support import (
    BatchCli,
    assert_committed_once,
    assert_portal_is_the_file,
    clicked,
    named,
    rows_for,
    write_rows,
)
from cli_support import Cli, exit_agrees

from myopenip.replica import Replica
from myopenip_bot.dissociation.rules import RESUBMISSIONS_PER_RUN

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UNATTENDED = ("--yes", "--json")
# Ten rows of one service over both tabs (two dialogs), « Conserver le numéro » mixed.
PLAN = [("SRV-10021", 5, "utilisateurs"), ("SRV-10021", 5, "groupements")]
KEEPS = [True, False] * 5


def outcomes(payload: dict[str, Any]) -> dict[str, str]:
    return {row["licence"]: row["outcome"] for row in payload["results"]}


def rerun_until_done(
    cli: BatchCli, args: tuple[str | Path, ...], runs: int
) -> tuple[list[subprocess.CompletedProcess[str]], list[dict[str, str]]]:
    """The same command run again while it exits 3 ("rerun"), at most `runs` times:
    each run's process and its rows' outcomes."""
    done: list[subprocess.CompletedProcess[str]] = []
    seen: list[dict[str, str]] = []
    for _ in range(runs):
        run = cli(*args)
        done.append(run)
        seen.append(outcomes(exit_agrees(run)))
        if run.returncode != 3:
            break
    return done, seen


def history(done: list[subprocess.CompletedProcess[str]], seen: list[dict[str, str]]) -> str:
    return "\n".join(
        f"run {n}: exit {run.returncode}, clicked {clicked(run.stderr)}, {sorted(out.items())}"
        for n, (run, out) in enumerate(zip(done, seen, strict=True), start=1)
    ) + ("\n" + done[-1].stderr[-3000:] if done else "")


@pytest.mark.soak
@pytest.mark.longest(84)
def test_a_batch_whose_answers_are_lost_rerun_until_exit_0_ends_exact_within_three_runs(
    replica: Replica, tmp_path: Path
) -> None:
    # Deterministic draws (the seed); a small latency, as a real portal has; 0.3 on every
    # request, as issue 27 asks: the reads hold because a failing one is tried again in
    # place (an error page opened again, a search made again on the service's page)
    # rather than by a way from the portal's home whose every request must pass.
    replica.test_api("reset", {"seed": 3})
    before = replica.state()
    rows = rows_for(before, PLAN, KEEPS)
    args = (write_rows(tmp_path / "batch.csv", rows), *UNATTENDED)
    args += ("--journal", tmp_path / "journal.sqlite", "--report", tmp_path / "report")
    replica.faults(error_rate=0.3, latency_ms=20)
    # And the first four « Valider » of the service answered 503 before reaching the
    # portal: all a run sends for one dialog, each after a backoff and a fresh read.
    replica.test_api("fail-submissions", {"count": RESUBMISSIONS_PER_RUN + 1})

    done, seen = rerun_until_done(BatchCli(tmp_path, replica), args, runs=3)

    assert done[-1].returncode == 0, history(done, seen)
    assert all("failed" not in out.values() for out in seen), history(done, seen)
    assert seen[-1] == {row.licence: "done" for row in rows}
    assert_portal_is_the_file(before, replica.state(), rows)
    assert_committed_once(replica, [row.licence for row in rows])
    # The first dialog was sent at least four times by the first run (each after a
    # backoff and a fresh read), and never made a row failed.
    clicks = Counter(clicked(done[0].stderr))
    assert max(clicks.values()) >= RESUBMISSIONS_PER_RUN + 1, history(done, seen)


@pytest.mark.twin(
    "tests/e2e/test_workflow_faults.py::test_a_valider_failing_before_the_portal_is_sent_again_once_after_a_reread",
    "tests/unit/test_rules.py::test_a_lost_answer_is_resubmitted_a_few_times_a_run_then_unknown_never_failed",
    "tests/unit/test_verify.py::test_a_lost_answer_is_read_only_after_a_backoff_growing_with_the_runs_lost_answers",
    "tests/unit/test_submit.py::test_a_valider_answered_503_before_the_portal_is_lost_and_the_next_prepare_sends_it_again",
    "tests/commands/test_dissociate_edges.py::test_sigterm_right_after_valider_reads_its_answer_and_a_rerun_settles_the_licence",
)
@pytest.mark.longest(36)
def test_a_one_shot_whose_answers_are_lost_all_run_long_is_unknown_and_its_rerun_does_it(
    replica: Replica, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, replica)
    asked = ("--licence", "FPC367128", "--licence", "FPC367129", "--release-number")
    replica.test_api("fail-submissions", {"count": RESUBMISSIONS_PER_RUN + 1})

    first = cli(*asked, *UNATTENDED)

    assert first.returncode == 3, first.stderr[-3000:]  # "rerun to settle"
    results = exit_agrees(first)["results"]
    assert [r["outcome"] for r in results] == ["unknown", "unknown"]
    assert all("rerun to settle" in r["reason"] for r in results), results
    assert Counter(clicked(first.stderr)) == {"FPC367128": 4, "FPC367129": 4}
    lost = named(first.stderr, "valider_answer_lost")
    assert [e["clicks_this_run"] for e in lost] == [1, 2, 3, 4]
    assert [round(e["wait_s"]) for e in lost] == sorted(round(e["wait_s"]) for e in lost)
    assert replica.back_end()["submissions"] == []  # none reached the portal

    rerun = cli(*asked, *UNATTENDED)

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert [r["outcome"] for r in exit_agrees(rerun)["results"]] == ["done", "done"]
    assert_committed_once(replica, ["FPC367128", "FPC367129"])
    assert {e["licence_ref"] for e in replica.state()["audit"]} == {"FPC367128", "FPC367129"}
