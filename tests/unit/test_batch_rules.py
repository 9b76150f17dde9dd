"""A batch's rules on plain data: outcomes, an approved plan, the plan a dry run writes,
the closest service refs, how rows are shared between workers, the pace of a run, which
run folders go. No browser, no portal."""

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


# -- sharing the rows between workers ------------------------------------------------------


def licences(service: str, count: int, first: int = 0) -> list[str]:
    return [f"{service}-L{index:03d}" for index in range(first, first + count)]


def owners(parts: list[rules.WorkPart]) -> dict[tuple[str, str], int]:
    """Each (service, licence) and how many parts hold it."""
    held: dict[tuple[str, str], int] = {}
    for part in parts:
        for licence in part.licences:
            held[(part.service, licence)] = held.get((part.service, licence), 0) + 1
    return held


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 16])
@pytest.mark.parametrize(
    "sizes",
    [{"A": 40}, {"A": 1}, {"A": 19}, {"A": 20}, {"A": 41, "B": 9}, {"A": 6, "B": 6, "C": 33}],
)
def test_every_row_left_is_in_exactly_one_part_in_the_files_order(
    sizes: dict[str, int], workers: int
) -> None:
    by_service = {service: licences(service, count) for service, count in sizes.items()}
    parts = rules.split_work(by_service, workers)
    wanted = {(service, licence) for service, rows in by_service.items() for licence in rows}
    assert owners(parts) == dict.fromkeys(wanted, 1)
    for service, rows in by_service.items():
        mine = sorted((p for p in parts if p.service == service), key=lambda p: p.part)
        # a split service's parts are runs of its rows, in order, numbered 1..n of n
        assert [licence for p in mine for licence in p.licences] == rows
        assert [(p.part, p.parts) for p in mine] == [(i + 1, len(mine)) for i in range(len(mine))]
        sizes_of = [len(p.licences) for p in mine]
        assert max(sizes_of) - min(sizes_of) <= 1
        if len(mine) > 1:
            assert min(sizes_of) >= rules.MIN_PART_ROWS
    assert len(parts) <= max(workers, len(by_service))


def test_one_service_is_shared_by_the_workers_and_services_enough_stay_whole() -> None:
    one = {"SRV-1": licences("SRV-1", 40)}
    assert [len(p.licences) for p in rules.split_work(one, 2)] == [20, 20]
    assert [len(p.licences) for p in rules.split_work(one, 4)] == [10, 10, 10, 10]
    # parts of fewer than MIN_PART_ROWS rows are not worth their own opening of the service
    assert [len(p.licences) for p in rules.split_work(one, 16)] == [10, 10, 10, 10]
    assert [len(p.licences) for p in rules.split_work({"S": licences("S", 19)}, 2)] == [19]
    # as many services as workers: each stays whole, the biggest taken first
    many = {"A": licences("A", 6), "B": licences("B", 30), "C": licences("C", 6)}
    parts = rules.split_work(many, 3)
    assert [(p.service, p.parts) for p in parts] == [("B", 1), ("A", 1), ("C", 1)]
    # fewer services than workers: the one with the most rows a part is split first
    parts = rules.split_work({"A": licences("A", 12), "B": licences("B", 50)}, 3)
    assert sorted((p.service, len(p.licences)) for p in parts) == [("A", 12), ("B", 25), ("B", 25)]
    assert rules.split_work({}, 4) == []


def test_a_resumed_run_shares_only_the_rows_left_each_in_one_part() -> None:
    # A killed run left 40 rows of one service: 13 final, 27 not. The rerun's journal
    # gives it the 27 (Batch.run: not final), which it shares again, each row once.
    every = licences("SRV-1", 40)
    final = set(every[:7]) | set(every[20:26])
    left = [licence for licence in every if licence not in final]
    parts = rules.split_work({"SRV-1": left}, 2)
    assert owners(parts) == dict.fromkeys((("SRV-1", licence) for licence in left), 1)
    assert [len(p.licences) for p in parts] == [14, 13]
    assert not final & {licence for p in parts for licence in p.licences}


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
