"""What MYOPENIP_KEEP_RUNS keeps: plans awaiting approval counted apart from the nightly
runs, and finished journals pruned while a journal a rerun still needs is never touched.
Real folders and real journals (myopenip_bot.batch.journal), no browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from myopenip_bot.batch.file import BatchRow
from myopenip_bot.batch.journal import Journal, Settlement
from myopenip_bot.batch.run import default_journal
from myopenip_bot.models import Outcome
from myopenip_bot.retention import (
    RECENT_SECONDS,
    journals_to_remove,
    prune_journals,
    prune_runs,
    runs_to_remove,
)

NOW = 1_800_000_000.0
LONG_AGO = NOW - 10 * RECENT_SECONDS


def age(path: Path, when: float = LONG_AGO) -> None:
    """`path` and what it holds last changed at `when`."""
    for entry in [*path.iterdir(), path] if path.is_dir() else [path]:
        os.utime(entry, (when, when))


def test_a_plan_is_counted_among_plans_only() -> None:
    nights = [f"2025010{day}-020000-batch-licences" for day in range(2, 8)]
    plans = ["20250101-170000-batch-licences", "20250105-170000-batch-other"]

    assert runs_to_remove([*nights, *plans], 2, plans) == sorted(nights[:-2], reverse=True)
    assert runs_to_remove([*nights, *plans], 1, plans) == sorted(
        [*nights[:-1], plans[0]], reverse=True
    )


def test_twenty_nights_never_remove_the_plan_awaiting_approval(tmp_path: Path) -> None:
    """The supervisor flow: a dry run's plan.csv waits for approval while the nightly
    batches run; MYOPENIP_KEEP_RUNS=5 keeps five nights, and the plan."""
    traces = tmp_path / "traces"
    plan_run = traces / "20250101-170000-batch-licences"
    plan_run.mkdir(parents=True)
    (plan_run / "plan.csv").write_text("service;licence;keep_number\n", encoding="utf-8")
    (plan_run / "report.html").write_text("<html></html>", encoding="utf-8")
    nights = [traces / f"202501{day:02d}-020000-batch-licences" for day in range(2, 22)]
    for night in nights:
        night.mkdir()
        (night / "summary.json").write_text("{}", encoding="utf-8")
    for folder in [plan_run, *nights]:
        age(folder)

    removed = prune_runs(traces, 5, now=NOW)

    assert sorted(removed) == nights[:-5]
    assert (plan_run / "plan.csv").is_file()
    assert sorted(traces.iterdir()) == [plan_run, *nights[-5:]]


def test_the_newest_finished_journals_are_kept() -> None:
    finished = [("a-00000001.sqlite", 3.0), ("b-00000002.sqlite", 1.0), ("c-0000000c.sqlite", 2.0)]

    assert journals_to_remove(finished, 1) == ["c-0000000c.sqlite", "b-00000002.sqlite"]
    assert journals_to_remove(finished, 3) == []


def journal(folder: Path, name: str, *, states: list[Outcome], finished: bool = True) -> Path:
    """A journal of the bot's naming in `folder` whose rows have `states`; its run ended
    (`finished`) or not (killed)."""
    path = folder / f"{name}-{abs(hash(name)) % 16**8:08x}.sqlite"
    rows = [
        BatchRow(line=n + 2, service="SRV-10021", licence=f"FPC36{n:04d}", keep=True)
        for n in range(len(states))
    ]
    with Journal.open(path) as opened:
        opened.load(rows)
        opened.start_run(Path(f"{name}.csv"))
        opened.settle(
            "SRV-10021",
            [
                Settlement(row.licence, state)
                for row, state in zip(rows, states, strict=True)
                if state != Outcome.SKIPPED
            ],
        )
        if finished:
            opened.finish_run(0)
    return path


def test_finished_journals_beyond_the_newest_go_and_those_a_rerun_needs_stay(
    tmp_path: Path,
) -> None:
    folder = tmp_path / ".myopenip" / "journals"
    folder.mkdir(parents=True)
    done = Outcome.DONE
    old = [journal(folder, f"night-{n}", states=[done, Outcome.REFUSED]) for n in range(4)]
    killed = journal(folder, "killed", states=[done], finished=False)  # its run never ended
    unsettled = journal(folder, "unsettled", states=[done, Outcome.UNKNOWN])  # a rerun reads it
    held = journal(folder, "held", states=[done])  # a run holds its lock
    mine = journal(folder, "mine", states=[done])  # the journal this run opens next
    recent = journal(folder, "recent", states=[done])
    (folder / "notes.sqlite").write_text("not a journal of ours")
    (folder / "linked-0000000a.sqlite").symlink_to(old[0])
    for n, path in enumerate([*old, killed, unsettled, held, mine]):
        for companion in folder.glob(f"{path.name}*"):
            os.utime(companion, (LONG_AGO + n, LONG_AGO + n))
    os.utime(recent, (NOW - 10, NOW - 10))

    with Journal.open(held):
        removed = prune_journals(folder, 2, spare=mine, now=NOW)

    assert sorted(removed) == sorted(old[:2])  # the newest two finished ones kept
    for path in old[:2]:
        assert not [p for p in folder.iterdir() if p.name.startswith(path.name)]
    left = {path.name for path in folder.iterdir()}
    for path in [*old[2:], killed, unsettled, held, mine, recent]:
        assert path.name in left
    assert {"notes.sqlite", "linked-0000000a.sqlite"} <= left
    with Journal.open(old[2]) as still:  # what is left is whole
        assert {row.state for row in still.rows()} == {Outcome.DONE, Outcome.REFUSED}


def test_the_default_journals_are_named_as_retention_finds_them(tmp_path: Path) -> None:
    from myopenip_bot.retention import JOURNAL_NAME

    path = default_journal(tmp_path / "licences du soir.csv")

    assert JOURNAL_NAME.fullmatch(path.name)
    assert path.parent == Path(".myopenip") / "journals"


def test_a_journal_named_like_a_uri_is_read_as_itself(tmp_path: Path) -> None:
    """A name holding "?" and "#" is read as itself, never as a URI's query."""
    folder = tmp_path / "journals"
    folder.mkdir()
    odd = journal(folder, "night?mode=rw#x", states=[Outcome.DONE, Outcome.UNKNOWN])
    plain = journal(folder, "night", states=[Outcome.DONE])
    for n, path in enumerate([odd, plain]):
        for companion in folder.glob(f"{path.name}*"):
            os.utime(companion, (LONG_AGO + n, LONG_AGO + n))
    # What a URI would read instead: "…/night", a finished journal (not one of the bot's names).
    shutil.copyfile(plain, folder / "night")

    removed = prune_journals(folder, 0, now=NOW)

    assert removed == [plain]  # the odd one has a row a rerun still needs
    assert odd.exists()
