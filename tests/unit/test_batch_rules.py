"""A batch's rules on plain data: outcomes, an approved plan, the plan a dry run writes,
the closest service refs, the pace of a run, which run folders go. No browser, no portal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from myopenip_bot.batch import rules
from myopenip_bot.batch.journal import JournalRow
from myopenip_bot.retention import RECENT_SECONDS, prune_runs, runs_to_remove


def row(
    licence: str = "FPC367128",
    state: str = "done",
    *,
    number: str | None = None,
    planned: str | None = "0231456789",
) -> JournalRow:
    return JournalRow(
        service="SRV-10021",
        licence=licence,
        line=2,
        keep=False,
        number=number,
        state=state,
        planned_number=planned,
        tab="Utilisateurs",
        submissions=0,
        reason=None,
        answer=None,
        screenshot=None,
        client=None,
        run=1,
    )


@pytest.mark.parametrize(
    ("state", "would_do", "not_confirmed", "outcome"),
    [
        ("done", False, False, "done"),
        ("refused", False, True, "refused"),
        ("planned", True, False, "would_do"),
        ("pending", True, False, "would_do"),
        ("planned", False, False, "pending"),
        ("pending", False, True, "not_confirmed"),
        ("planned", False, True, "not_confirmed"),
        ("submitting", False, False, "unknown"),
        ("failed", False, False, "failed"),
    ],
)
def test_every_output_names_a_rows_outcome_from_its_state(
    state: str, would_do: bool, not_confirmed: bool, outcome: str
) -> None:
    found = rules.outcome_of(state, would_do=would_do, not_confirmed=not_confirmed)

    assert found == outcome
    assert found in rules.OUTCOMES


def test_a_plans_row_is_as_approved_only_when_done_with_the_number_it_gave() -> None:
    assert rules.as_approved(row(number=None), "done") is None  # no number given: no plan
    assert rules.as_approved(row(number="0231456789"), "done") is True
    assert rules.as_approved(row(number="0231456789"), "would_do") is True
    changed = row(state="refused", number="0231456789", planned="0299999901")
    assert rules.as_approved(changed, "refused") is False
    assert rules.as_approved(row(number="0231456789", planned=None), "already_done") is False


def test_the_plan_holds_only_the_rows_a_dry_run_would_do_with_their_numbers() -> None:
    rows = [
        row("FPC367128", "planned"),
        row("FPC367129", "refused", planned=None),
        row("FPC367130", "already_done", planned=None),
        row("FPC367131", "planned"),
    ]
    outcomes = {
        "FPC367128": "would_do",
        "FPC367129": "refused",
        "FPC367130": "already_done",
        "FPC367131": "pending",  # never reached
    }

    assert [r.licence for r in rules.plan_rows(rows, outcomes)] == ["FPC367128"]


def test_an_unknown_service_gets_the_closest_refs_and_a_listed_one_none() -> None:
    listed = ["SRV-10021", "SRV-10022", "SRV-10029", "SRV-20001", "SRV-10210"]

    assert rules.closest_refs("srv-10029", listed) == []
    # One digit off first (the nearest number first), then two (two digits swapped).
    assert rules.closest_refs("SRV-10092", [*listed, "SRV-10097"]) == [
        "SRV-10097",
        "SRV-10022",
        "SRV-10029",
    ]
    assert rules.closest_refs("XYZ", listed) == []


def test_the_pace_is_the_mean_since_the_start_never_a_burst() -> None:
    # Twenty rows settled together (one dialog, a refused service) a tenth of a second in.
    assert rules.pace(20, 80, 0.1) == (None, None)
    # Not before the run has worked a little, and not before a row settled.
    assert rules.pace(0, 100, 60) == (None, None)
    rate, left = rules.pace(20, 80, 60)
    assert rate == pytest.approx(20.0)  # rows a minute
    assert left == pytest.approx(240.0)  # 80 rows at 20 a minute


# -- retention -------------------------------------------------------------------------


def test_only_the_bots_run_folders_beyond_the_newest_are_removed() -> None:
    names = [
        "20250103-090000-worker-1",
        "20250101-090000-dissociate",
        "20250102-090000-batch-licences",
        "notes",
        "2025-01-01-mine",
        "20250104-090000-smoke",
    ]

    assert runs_to_remove(names, 2) == [
        "20250102-090000-batch-licences",
        "20250101-090000-dissociate",
    ]
    assert runs_to_remove(names, 10) == []


def test_pruning_leaves_links_other_folders_and_folders_in_use(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep")
    names = [f"2025010{day}-120000-worker-1" for day in range(1, 6)]
    for name in names:
        (traces / name).mkdir(parents=True)
        (traces / name / "trace.zip").write_bytes(b"x")
    (traces / "20240101-000000-link").symlink_to(outside)
    (traces / "mine").mkdir()
    now = 1_800_000_000.0
    for name in names[1:]:
        for path in (traces / name / "trace.zip", traces / name):
            os.utime(path, (now - 2 * RECENT_SECONDS, now - 2 * RECENT_SECONDS))
    # names[0], the oldest by its name, is still being written (its files are recent).
    for path in (traces / names[0] / "trace.zip", traces / names[0]):
        os.utime(path, (now - 10, now - 10))

    removed = prune_runs(traces, 2, now=now)

    assert sorted(path.name for path in removed) == names[1:3]
    left = sorted(path.name for path in traces.iterdir())
    assert left == sorted([names[0], *names[3:], "20240101-000000-link", "mine"])
    assert (outside / "precious").read_text() == "keep"
