"""A run is a night, not a path: the journal's rule for a new run or a resumption
(journal.resumes, Journal.begin), and a journal bound to a portal only once that portal
answered a login. No browser: the journal is plain SQLite (the same nights against the
replica: tests/commands/test_batch.py).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from myopenip_bot.batch import journal as journal_module
from myopenip_bot.batch.file import BatchRow
from myopenip_bot.batch.journal import (
    FINAL,
    Journal,
    RunRecord,
    Settlement,
    Stage,
    State,
    file_digest,
    resumes,
)
from myopenip_bot.errors import Interrupted
from myopenip_bot.models import Outcome

ROWS = [
    BatchRow(line=2, service="SRV-10021", licence="FPC367128", keep=False),
    BatchRow(line=3, service="SRV-10021", licence="FPC367131", keep=True, number="0231456701"),
    BatchRow(line=4, service="SRV-10022", licence="FPC302848", keep=False),
]
FILE = Path("inbox/licences.csv")


def run_of(digest: str | None, exit_code: int | None = 0) -> RunRecord:
    finished = None if exit_code is None else "2026-12-06T02:10:00+00:00"
    return RunRecord(1, "2026-12-06T02:00:00+00:00", finished, exit_code, None, digest)


# -- the rule ------------------------------------------------------------------------------


DIGEST = file_digest(ROWS)


@pytest.mark.parametrize(
    ("last", "states", "resumed"),
    [
        (None, [Stage.PENDING], False),  # a first run
        (run_of(DIGEST, 0), [Outcome.DONE, Outcome.ALREADY_DONE, Outcome.REFUSED], False),
        (run_of(DIGEST, 1), [Outcome.DONE, Outcome.REFUSED], False),  # finished: a new night
        (run_of(DIGEST, None), [Outcome.DONE, Stage.SUBMITTING], True),  # killed
        (run_of(DIGEST, 143), [Outcome.DONE, Stage.PENDING], True),  # SIGTERM
        (run_of(DIGEST, 3), [Outcome.DONE, Outcome.UNKNOWN], True),  # rows to settle
        (run_of(DIGEST, 6), [Outcome.DONE, Outcome.IN_PROGRESS], True),
        (run_of(DIGEST, 4), [Stage.PLANNED, Stage.PENDING], True),  # "no" at the question
        (run_of(DIGEST, None), [Outcome.DONE, Outcome.DONE], True),  # killed: no end recorded
        (run_of("another file", 3), [Outcome.DONE, Outcome.UNKNOWN], False),  # the file changed
        (run_of(None, None), [Stage.PENDING], False),  # a run of version 3: no digest
    ],
)
def test_a_run_resumes_the_last_only_when_it_was_of_the_same_rows_and_left_one_open(
    last: RunRecord | None, states: list[State], resumed: bool
) -> None:
    assert resumes(last, DIGEST, states) is resumed


def test_the_digest_is_what_the_file_asks_not_how_it_is_written() -> None:
    moved = [BatchRow(row.line + 5, row.service, row.licence, row.keep, row.number) for row in ROWS]
    flipped = [BatchRow(ROWS[0].line, ROWS[0].service, ROWS[0].licence, True), *ROWS[1:]]
    renumbered = [*ROWS[:1], BatchRow(3, "SRV-10021", "FPC367131", True, "0231456702"), *ROWS[2:]]

    assert file_digest(moved) == DIGEST  # blank lines, comments: the same rows
    assert len({DIGEST, file_digest(flipped), file_digest(renumbered), file_digest(ROWS[:2])}) == 4


# -- Journal.begin --------------------------------------------------------------------------


def last_night(path: Path) -> None:
    """A night that ended with every kind of row: done (clicked once), already done,
    refused, and one of each state not final."""
    rows = [
        *ROWS,
        BatchRow(line=5, service="SRV-10022", licence="FPC302849", keep=True),
        BatchRow(line=6, service="SRV-10022", licence="FPC302850", keep=True),
    ]
    with Journal.open(path) as journal:
        journal.begin(FILE, rows)
        journal.planned("SRV-10021", "FPC367128", "0231456789", "Utilisateurs", user="H. Laurent")
        journal.submitting("SRV-10021", ["FPC367128"], "/shots/dialog.png")
        journal.settle(
            "SRV-10021",
            [Settlement("FPC367128", Outcome.DONE, reason="done", answer="« Numéro(s) : 1 »")],
        )
        journal.set_service("SRV-10021", name="Siège", client="Normandie Logistique")
        journal.settle(
            "SRV-10021",
            [Settlement("FPC367131", Outcome.REFUSED, reason="number mismatch", number="0299")],
        )
        journal.planned("SRV-10022", "FPC302848", "0231450001", "Utilisateurs")
        journal.submitting("SRV-10022", ["FPC302848"], None)
        journal.settle(
            "SRV-10022", [Settlement("FPC302848", Outcome.IN_PROGRESS, number="0231450001")]
        )
        journal.settle("SRV-10022", [Settlement("FPC302849", Outcome.ALREADY_DONE)])
        journal.planned("SRV-10022", "FPC302850", "0231450002", "Utilisateurs")
        journal.submitting("SRV-10022", ["FPC302850"], None)  # killed before its answer
        journal.finish_run(6)


def test_a_new_night_puts_final_rows_back_to_pending_and_keeps_the_open_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    last_night(path)
    with Journal.open(path) as journal:
        rows = [row for row in journal.rows() if row.licence != "FPC302850"]
        file = [
            BatchRow(row.line, row.service, row.licence, row.keep, row.number) for row in rows
        ]  # a file without the row left submitting: another file, a new run

        loaded, resumed = journal.begin(FILE, file)
        new_run = journal.run_id
        kept_out = journal.row("SRV-10022", "FPC302850")

    by_licence = {row.licence: row for row in loaded}
    assert resumed is None
    assert set(by_licence) == {"FPC367128", "FPC367131", "FPC302848", "FPC302849"}
    for licence in ("FPC367128", "FPC367131", "FPC302849"):  # done, refused, already done
        row = by_licence[licence]
        assert row.state == Stage.PENDING
        assert (row.submissions, row.reason, row.answer, row.planned_number) == (
            0,
            None,
            None,
            None,
        )
        assert (row.screenshot, row.run, row.user, row.client, row.tab) == (None,) * 5
    assert by_licence["FPC367131"].number == "0231456701"  # the file's, the guard
    accepted = by_licence["FPC302848"]  # never sent again: settled by reading
    assert (accepted.state, accepted.submissions, accepted.planned_number) == (
        Outcome.IN_PROGRESS,
        1,
        "0231450001",
    )
    assert kept_out is not None
    assert kept_out.state == Stage.SUBMITTING
    assert new_run is not None
    assert new_run > 1


def test_the_same_file_after_a_night_that_left_rows_open_resumes_it(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    last_night(path)
    with Journal.open(path) as journal:
        file = [
            BatchRow(row.line, row.service, row.licence, row.keep, row.number)
            for row in journal.rows()
        ]
        before = {row.licence: row for row in journal.rows()}

        loaded, resumed = journal.begin(FILE, file)
        run = journal.last_run(finished=False)

    assert resumed is not None
    assert resumed.exit_code == 6
    assert {row.licence: row for row in loaded} == before  # nothing moved
    assert run is not None
    assert run.resumes == resumed.id
    assert run.digest == resumed.digest


def test_a_night_after_one_that_left_every_row_final_reads_them_all(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal.open(path) as journal:
        journal.begin(FILE, ROWS)
        journal.settle("SRV-10021", [Settlement("FPC367128", Outcome.DONE, submissions=1)])
        journal.settle("SRV-10021", [Settlement("FPC367131", Outcome.ALREADY_DONE)])
        journal.settle("SRV-10022", [Settlement("FPC302848", Outcome.REFUSED)])
        journal.finish_run(1)

    with Journal.open(path) as journal:
        loaded, resumed = journal.begin(FILE, ROWS)

    assert resumed is None
    assert {row.state for row in loaded} == {Stage.PENDING}
    assert all(row.state not in FINAL for row in loaded)


def test_a_signal_while_a_new_run_begins_leaves_the_last_night_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Final rows half put back to pending, no run recorded: the next run would take the
    ended night for one to resume and skip the rest. Nothing is kept instead."""
    path = tmp_path / "journal.sqlite"
    with Journal.open(path) as journal:
        journal.begin(FILE, ROWS)
        for row in ROWS:
            journal.settle(row.service, [Settlement(row.licence, Outcome.DONE)])
        journal.finish_run(0)
    monkeypatch.setattr(journal_module, "LOAD_CHUNK", 1)

    def signal_comes() -> None:
        raise Interrupted(15)

    with Journal.open(path) as journal:
        with pytest.raises(Interrupted):
            journal.begin(FILE, ROWS, check=signal_comes)
        assert {row.state for row in journal.rows()} == {Outcome.DONE}
        last = journal.last_run(finished=False)
        assert last is not None
        assert last.exit_code == 0  # the ended night, still the last
        loaded, resumed = journal.begin(FILE, ROWS)

    assert resumed is None
    assert {row.state for row in loaded} == {Stage.PENDING}


# -- a journal bound to a portal that answered a login ------------------------------------


def test_only_a_portal_that_answered_a_login_binds_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal.open(path) as journal:
        journal.begin(FILE, ROWS)  # a wrong URL: never answered
        journal.finish_run(3)
    with Journal.open(path) as journal:
        assert journal.other_portal("http://127.0.0.1:8765") is None
        journal.begin(FILE, ROWS)
        journal.portal_answered("http://127.0.0.1:8765/")
        journal.finish_run(0)
    with Journal.open(path) as journal:
        assert journal.other_portal("HTTP://127.0.0.1:8765") is None
        assert journal.other_portal("http://127.0.0.1:18899") == "http://127.0.0.1:8765"


def test_a_version_3_journal_forgets_the_portal_of_runs_that_never_reached_it(
    tmp_path: Path,
) -> None:
    """Version 3 recorded the portal when a run started: a run on a wrong URL bound the
    journal to it for good. Brought forward, a run no row names is bound to nothing."""
    path = tmp_path / "journal.sqlite"
    with Journal.open(path) as journal:
        journal.begin(FILE, ROWS)
        journal.portal_answered("https://myopenip.example")
        journal.settle("SRV-10021", [Settlement("FPC367128", Outcome.DONE)])
        journal.finish_run(3)
        journal.start_run(FILE, "http://127.0.0.1:18899")  # version 3's: at start, no login
        journal.finish_run(3)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE runs DROP COLUMN digest")
    conn.execute("ALTER TABLE runs DROP COLUMN resumes")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()

    with Journal.open(path) as journal:
        assert journal.other_portal("https://myopenip.example") is None
        assert journal.other_portal("http://127.0.0.1:18899") == "https://myopenip.example"
        last = journal.last_run()
    assert last is not None
    assert last.digest is None
