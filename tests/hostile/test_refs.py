"""Service refs of any shape are data: the guide shows none, so a batch file or the portal
may give any, and none ever names a file or folder as it is (`../`, `\\`, NUL, a reserved
device name): run folders, screenshots and reports stay where they belong."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from batch_support import BatchCli
from playwright.sync_api import Page

from myopenip.replica import Replica
from myopenip_bot.browser.session import BotSession

HOSTILE = ["../../x", "..\\..\\y", "/etc/passwd", "NUL", "a/../../../../z", ".."]


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


@pytest.mark.twin(
    "tests/unit/test_batchfile.py::test_a_service_ref_of_any_shape_is_read_as_written",
    "tests/unit/test_artifacts.py::test_a_run_folder_named_after_a_hostile_ref_stays_in_its_root",
    "tests/hostile/test_refs.py::test_a_screenshot_named_after_a_hostile_ref_stays_in_its_run_folder",
    "tests/e2e/test_workflow_guards.py::test_an_unknown_service_is_refused_naming_the_services_found",
    "tests/commands/test_batch.py::test_a_dry_runs_plan_once_approved_is_done_exactly_but_the_row_that_changed_since",
)
def test_a_file_whose_services_read_as_paths_writes_nothing_outside_its_report_folder(
    replica: Replica, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "hostile.csv").write_text(
        "service;licence;keep_number\n"
        + "".join(f"{ref};FPC36713{n};non\n" for n, ref in enumerate(HOSTILE)),
        encoding="utf-8",
    )
    outside = files_under(tmp_path)
    report = work / "report"

    done = BatchCli(work, replica)("hostile.csv", "--dry-run", "--json", "--report", report)

    assert done.returncode == 1, done.stderr  # each service refused: it does not exist
    payload = json.loads(done.stdout)
    assert {row["service"] for row in payload["results"]} == set(HOSTILE)
    assert {row["outcome"] for row in payload["results"]} == {"refused"}
    assert all("no service" in row["reason"] for row in payload["results"])
    new = files_under(tmp_path) - outside
    assert new, "the report was written"
    allowed = [report, work / ".myopenip", work / "traces", work / "private"]
    stray = [path for path in new if not any(path.is_relative_to(a) for a in allowed)]
    assert stray == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_a_screenshot_named_after_a_hostile_ref_stays_in_its_run_folder(
    tmp_path: Path, page: Page
) -> None:
    run_dir = tmp_path / "traces" / "run"
    run_dir.mkdir(parents=True)
    session = SimpleNamespace(_shots=0, run_dir=run_dir)
    page.set_content("<p>a dialog</p>")

    shots = [
        BotSession.screenshot(session, page, f"{ref}-dialog-before-valider")  # type: ignore[arg-type]
        for ref in ("../../x", "../../../../tmp/y", "a/b\\c", "NUL")
    ]

    assert [shot.parent if shot else None for shot in shots] == [run_dir] * 4
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "01-x-dialog-before-valider.png",
        "02-tmp-y-dialog-before-valider.png",
        "03-a-b-c-dialog-before-valider.png",
        "04-NUL-dialog-before-valider.png",
    ]
    assert files_under(tmp_path) == files_under(run_dir)
