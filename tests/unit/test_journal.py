"""The batch journal: created, reopened with its history, never written when it is not ours,
locked against a second run, and free again once the run holding it is SIGKILLed.

No browser: the journal is plain SQLite and a lock file.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from myopenip_bot.batch.file import BatchRow
from myopenip_bot.batch.journal import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    Journal,
    JournalError,
    JournalLockedError,
    JournalWriteError,
    Settlement,
    Stage,
)
from myopenip_bot.batch.results import BatchResult
from myopenip_bot.errors import SettingsError
from myopenip_bot.models import Outcome

ROWS = [
    BatchRow(line=2, service="SRV-10021", licence="FPC367128", keep=False),
    BatchRow(line=3, service="SRV-10021", licence="FPC367131", keep=True, number="0231456701"),
    BatchRow(line=4, service="SRV-10022", licence="FPC302848", keep=False),
]


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file of `folder` but lock files: its digest and mtime."""
    return {
        path.name: (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in sorted(folder.iterdir())
        if path.is_file() and not path.name.endswith(".lock")
    }


def states(journal: Journal) -> dict[str, str]:
    return {row.licence: row.state for row in journal.rows()}


# -- create, reopen ---------------------------------------------------------------------


def test_a_new_journal_is_created_private_and_marked_as_ours(tmp_path: Path) -> None:
    path = tmp_path / "journals" / "batch.sqlite"

    with Journal.open(path) as journal:
        rows = journal.load(ROWS)

    assert [(r.licence, r.state, r.submissions) for r in rows] == [
        ("FPC367128", "pending", 0),
        ("FPC367131", "pending", 0),
        ("FPC302848", "pending", 0),
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_a_reopened_journal_keeps_every_state_and_load_keeps_the_history(tmp_path: Path) -> None:
    path = tmp_path / "batch.sqlite"
    with Journal.open(path) as journal:
        journal.load(ROWS)
        run = journal.start_run(Path("batch.csv"))
        journal.planned("SRV-10021", "FPC367128", "0231456789", "Groupements")
        journal.submitting("SRV-10021", ["FPC367128"], "/shots/01-dialog.png")
        journal.settle("SRV-10021", [Settlement("FPC367128", Outcome.DONE, number="0231456789")])
        journal.planned("SRV-10021", "FPC367131", "0231456701", "Utilisateurs")
        journal.submitting("SRV-10021", ["FPC367131"], None)
        journal.settle(
            "SRV-10021",
            [
                Settlement(
                    "FPC367131",
                    Outcome.REFUSED,
                    reason="the portal refused it",
                    answer="« Service suspendu »",
                )
            ],
        )
        journal.set_service("SRV-10021", client="Normandie Logistique")
        journal.finish_run(1)

    with Journal.open(path) as journal:
        # The same file again, with the keep values flipped: a final row keeps its own.
        flipped = [BatchRow(r.line, r.service, r.licence, not r.keep, r.number) for r in ROWS]
        rows = {row.licence: row for row in journal.load(flipped)}

    done, refused, pending = rows["FPC367128"], rows["FPC367131"], rows["FPC302848"]
    assert (done.state, done.submissions, done.planned_number, done.tab) == (
        "done",
        1,
        "0231456789",
        "Groupements",
    )
    assert done.keep is False
    assert done.screenshot == "/shots/01-dialog.png"
    assert done.client == "Normandie Logistique"
    assert done.run == run
    assert (refused.state, refused.reason, refused.answer) == (
        "refused",
        "the portal refused it",
        "« Service suspendu »",
    )
    assert refused.keep is True
    assert refused.submissions == 1
    assert (pending.state, pending.keep) == ("pending", True)  # not final: the file wins
    assert done.final
    assert refused.final
    assert not pending.final


def test_load_returns_only_the_files_rows_and_keeps_the_others(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "batch.sqlite") as journal:
        journal.load(ROWS)
        journal.settle("SRV-10022", [Settlement("FPC302848", Outcome.ALREADY_DONE)])

        rows = journal.load(ROWS[:1])

        assert [row.licence for row in rows] == ["FPC367128"]
        assert states(journal)["FPC302848"] == "already_done"


def test_a_row_left_submitting_keeps_its_keep_value_when_the_file_changes(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "batch.sqlite") as journal:
        journal.load(ROWS)
        journal.submitting("SRV-10021", ["FPC367128"], None)
        journal.settle("SRV-10021", [Settlement("FPC367131", Outcome.UNKNOWN)])

        flipped = [BatchRow(r.line, r.service, r.licence, not r.keep, r.number) for r in ROWS]
        rows = {row.licence: row for row in journal.load(flipped)}

    # What was submitted with « Valider » stays what the journal says.
    assert (rows["FPC367128"].state, rows["FPC367128"].keep) == ("submitting", False)
    assert (rows["FPC367131"].state, rows["FPC367131"].keep) == ("unknown", True)


def test_submitting_counts_every_valider_over_runs(tmp_path: Path) -> None:
    path = tmp_path / "batch.sqlite"
    for _ in range(2):
        with Journal.open(path) as journal:
            journal.load(ROWS)
            journal.start_run(Path("batch.csv"))
            journal.submitting("SRV-10021", ["FPC367128", "FPC367131"], None)
            journal.settle("SRV-10021", [Settlement("FPC367128", Outcome.UNKNOWN)])

    with Journal.open(path) as journal:
        rows = {row.licence: row for row in journal.rows()}

    assert rows["FPC367128"].submissions == 2
    assert rows["FPC367131"].submissions == 2
    assert rows["FPC302848"].submissions == 0
    conn = sqlite3.connect(path)
    try:
        runs = conn.execute("SELECT id, finished_at, exit_code FROM runs").fetchall()
    finally:
        conn.close()
    assert [run[0] for run in runs] == [1, 2]


def test_submitting_is_on_disk_when_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "batch.sqlite"
    with Journal.open(path) as journal:
        journal.load(ROWS)
        journal.submitting("SRV-10021", ["FPC367128"], None)

        other = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            seen = other.execute(
                "SELECT state, submissions FROM rows WHERE licence = 'FPC367128'"
            ).fetchone()
        finally:
            other.close()

    assert seen == ("submitting", 1)


def test_a_row_in_an_unknown_state_is_refused_when_read(tmp_path: Path) -> None:
    path = tmp_path / "batch.sqlite"
    with Journal.open(path) as journal:
        journal.load(ROWS)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE rows SET state = 'finished' WHERE licence = 'FPC367128'")
    conn.commit()
    conn.close()

    with Journal.open(path) as journal, pytest.raises(SettingsError, match="'finished'"):
        journal.load(ROWS)


def test_states_are_read_as_the_runners_outcomes(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "batch.sqlite") as journal:
        journal.load(ROWS)
        journal.settle("SRV-10021", [Settlement("FPC367128", Outcome.DONE)])
        found = {row.licence: row.state for row in journal.rows()}

    assert found["FPC367128"] is Outcome.DONE
    assert found["FPC302848"] is Stage.PENDING


def test_an_outcome_no_row_keeps_leaves_the_state_and_says_why(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "batch.sqlite") as journal:
        journal.load(ROWS)
        journal.planned("SRV-10021", "FPC367128", "0231456789", "Utilisateurs")
        journal.settle(
            "SRV-10021",
            [Settlement("FPC367128", Outcome.WOULD_DO, reason="dry run", screenshot="/d.png")],
        )
        (row,) = [row for row in journal.rows() if row.licence == "FPC367128"]

    assert (row.state, row.reason, row.screenshot) == ("planned", "dry run", "/d.png")


def test_a_final_row_keeps_its_state_whatever_is_settled_after(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "batch.sqlite") as journal:
        journal.load(ROWS)
        journal.settle("SRV-10021", [Settlement("FPC367128", Outcome.DONE, reason="done")])
        journal.settle("SRV-10021", [Settlement("FPC367128", Outcome.FAILED, reason="late")])
        journal.planned("SRV-10021", "FPC367128", "0231456789", "Utilisateurs")

        assert states(journal)["FPC367128"] == "done"
        assert journal.rows()[0].reason == "done"


def test_a_row_told_again_in_the_same_final_state_keeps_the_new_reason(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "batch.sqlite") as journal:
        journal.load(ROWS)
        journal.settle("SRV-10021", [Settlement("FPC367128", Outcome.DONE, reason="first")])
        journal.settle("SRV-10021", [Settlement("FPC367128", Outcome.DONE, reason="then")])

        assert (journal.rows()[0].state, journal.rows()[0].reason) == ("done", "then")


def test_two_entries_found_to_be_one_licence_refuse_a_row_already_without_number(
    tmp_path: Path,
) -> None:
    with Journal.open(tmp_path / "batch.sqlite") as journal:
        journal.load(ROWS)
        journal.settle("SRV-10022", [Settlement("FPC302848", Outcome.ALREADY_DONE)])
        journal.settle("SRV-10022", [Settlement("FPC302848", Outcome.REFUSED, reason="twice")])

        assert states(journal)["FPC302848"] == "refused"


def test_a_row_accepted_before_is_never_written_submitting_again(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "batch.sqlite") as journal:
        journal.load(ROWS)
        journal.submitting("SRV-10021", ["FPC367128"], None)
        journal.settle("SRV-10021", [Settlement("FPC367128", Outcome.IN_PROGRESS)])

        with pytest.raises(JournalError, match="« Valider » was not clicked"):
            journal.submitting("SRV-10021", ["FPC367131", "FPC367128"], "/shot.png")

        rows = {row.licence: row for row in journal.rows()}
    assert (rows["FPC367128"].state, rows["FPC367128"].submissions) == ("in_progress", 1)
    # All or nothing: the other row of that « Valider » was not written either.
    assert (rows["FPC367131"].state, rows["FPC367131"].submissions) == ("pending", 0)


def test_a_service_refused_as_a_whole_leaves_rows_whose_answer_is_due(tmp_path: Path) -> None:
    rows = [BatchRow(n, "SRV-10021", f"FPC3671{n:02d}", True) for n in range(2, 7)]
    with Journal.open(tmp_path / "batch.sqlite") as journal:
        journal.load(rows)
        journal.start_run(Path("batch.csv"))
        journal.settle(
            "SRV-10021",
            [
                Settlement("FPC367102", Outcome.DONE),
                Settlement("FPC367103", Outcome.UNKNOWN),
                Settlement("FPC367104", Outcome.IN_PROGRESS),
                Settlement("FPC367105", Outcome.FAILED),
            ],
        )
        journal.refuse("SRV-10021", [row.licence for row in rows], "no service SRV-10021")

        assert states(journal) == {
            "FPC367102": "done",
            "FPC367103": "unknown",
            "FPC367104": "in_progress",
            "FPC367105": "refused",
            "FPC367106": "refused",
        }


def test_finish_run_records_the_exit_code(tmp_path: Path) -> None:
    path = tmp_path / "batch.sqlite"
    with Journal.open(path) as journal:
        journal.load(ROWS)
        journal.start_run(Path("batch.csv"))
        journal.finish_run(3)
    conn = sqlite3.connect(path)
    try:
        ((file, finished, code),) = conn.execute(
            "SELECT file, finished_at, exit_code FROM runs"
        ).fetchall()
    finally:
        conn.close()
    assert (file, code) == ("batch.csv", 3)
    assert finished


# -- not ours: never written --------------------------------------------------------------


def _foreign_sqlite(path: Path, wal: bool = False) -> None:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()


def _other_version(path: Path) -> None:
    with Journal.open(path) as journal:
        journal.load(ROWS)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()


def _text(path: Path) -> None:
    path.write_text("service;licence;keep_number\nSRV-10021;FPC367128;oui\n")


def _short(path: Path) -> None:
    path.write_bytes(b"SQLite")


def _header_only(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84)


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_text, "not an SQLite file"),
        (_short, "not an SQLite file"),
        (_foreign_sqlite, "not a myopenip journal"),
        (lambda path: _foreign_sqlite(path, wal=True), "not a myopenip journal"),
        (_other_version, "another version"),
        (_header_only, "corrupt"),
    ],
    ids=["text", "short", "other-app", "other-app-wal", "other-version", "header-only"],
)
def test_a_file_that_is_not_our_journal_is_refused_and_left_as_it_was(
    tmp_path: Path, make: object, says: str
) -> None:
    path = tmp_path / "batch.sqlite"
    assert callable(make)
    make(path)
    before = snapshot(tmp_path)

    with pytest.raises(SettingsError, match=says):
        Journal.open(path)

    assert snapshot(tmp_path) == before


def test_a_journal_with_a_broken_constraint_is_refused_as_corrupt(tmp_path: Path) -> None:
    # quick_check finds it ("NULL value in rows.state"): writing on must not go on.
    path = tmp_path / "batch.sqlite"
    with Journal.open(path) as journal:
        journal.load(ROWS)
    conn = sqlite3.connect(path)
    (schema,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'rows'").fetchone()
    conn.execute("PRAGMA writable_schema = ON")
    loose = schema.replace("state TEXT NOT NULL", "state TEXT")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'rows'", (loose,))
    conn.commit()
    conn.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE rows SET state = NULL WHERE licence = 'FPC367128'")
    conn.commit()
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'rows'", (schema,))
    conn.commit()
    conn.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA quick_check").fetchone()[0] != "ok"
    conn.close()
    before = snapshot(tmp_path)

    with pytest.raises(SettingsError, match="corrupt"):
        Journal.open(path).close()

    assert snapshot(tmp_path) == before


def test_a_journal_with_damaged_pages_is_refused_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "batch.sqlite"
    with Journal.open(path) as journal:
        journal.load([BatchRow(n, "SRV-10021", f"FPC3671{n:02d}", True) for n in range(2, 90)])
    data = bytearray(path.read_bytes())
    for index in range(len(data) // 2, len(data)):
        data[index] = 0xA5
    path.write_bytes(bytes(data))
    before = path.stat().st_mtime_ns

    with pytest.raises(SettingsError, match="corrupt"):
        Journal.open(path).close()

    assert path.read_bytes() == data
    assert path.stat().st_mtime_ns == before


def test_a_journal_path_that_is_a_folder_is_a_clear_settings_error(tmp_path: Path) -> None:
    folder = tmp_path / "batch.sqlite"
    folder.mkdir()

    with pytest.raises(SettingsError):
        Journal.open(folder)

    assert list(folder.iterdir()) == []


def test_a_journal_under_a_file_is_a_clear_settings_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")

    with pytest.raises(SettingsError, match="a-file"):
        Journal.open(tmp_path / "a-file" / "batch.sqlite")


# -- the lock -----------------------------------------------------------------------------


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from myopenip_bot.batch.file import BatchRow
    from myopenip_bot.batch.journal import Journal

    journal = Journal.open(Path(sys.argv[1]))
    journal.load([BatchRow(2, "SRV-10021", "FPC367128", False)])
    journal.start_run(Path("batch.csv"))
    journal.submitting("SRV-10021", ["FPC367128"], None)
    print("holding", flush=True)
    time.sleep(120)
    """
)


def test_the_lock_refuses_a_second_run_and_is_free_once_the_holder_is_sigkilled(
    tmp_path: Path,
) -> None:
    path = tmp_path / "batch.sqlite"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"

        with pytest.raises(JournalLockedError) as refused:
            Journal.open(path)
        assert f"pid {holder.pid}" in str(refused.value)
        assert "another run is using the journal" in str(refused.value)

        holder.send_signal(signal.SIGKILL)
        assert holder.wait(timeout=30) == -signal.SIGKILL
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()

    # The kernel released the lock with the process; what it wrote before dying is there.
    with Journal.open(path) as journal:
        (row,) = journal.rows()
        assert (row.state, row.submissions) == ("submitting", 1)
        assert (path.with_name(path.name + ".lock")).read_text() == str(os.getpid())


def test_the_lock_refuses_a_second_open_in_the_same_process_until_closed(tmp_path: Path) -> None:
    path = tmp_path / "batch.sqlite"
    first = Journal.open(path)
    try:
        with pytest.raises(JournalLockedError):
            Journal.open(path)
    finally:
        first.close()

    Journal.open(path).close()


# -- schema version 1, brought forward --------------------------------------------------

V1_SCHEMA = """
CREATE TABLE rows (
    service TEXT NOT NULL, licence TEXT NOT NULL, line INTEGER NOT NULL,
    keep INTEGER NOT NULL, number TEXT, state TEXT NOT NULL, planned_number TEXT, tab TEXT,
    submissions INTEGER NOT NULL DEFAULT 0, reason TEXT, answer TEXT, screenshot TEXT,
    client TEXT, run INTEGER, updated_at TEXT NOT NULL, PRIMARY KEY (service, licence));
CREATE TABLE runs (
    id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, file TEXT NOT NULL,
    exit_code INTEGER);
"""


def _v1_journal(path: Path) -> None:
    """A journal as the bot wrote it before version 2: one row done, one left submitting."""
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.executemany(
        "INSERT INTO rows (service, licence, line, keep, number, state, planned_number, tab,"
        " submissions, client, run, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'Utilisateurs',"
        " ?, 'Normandie Logistique', 1, '2026-01-01T00:00:00+00:00')",
        [
            ("SRV-10021", "FPC367128", 2, 0, None, "done", "0231456789", 1),
            ("SRV-10021", "FPC367131", 3, 1, "0231456701", "submitting", "0231456701", 1),
        ],
    )
    conn.execute("INSERT INTO runs (started_at, file) VALUES ('2026-01-01T00:00:00+00:00', 'b')")
    conn.commit()
    conn.close()


def test_a_version_1_journal_is_brought_forward_in_place_keeping_every_row(
    tmp_path: Path,
) -> None:
    path = tmp_path / "batch.sqlite"
    _v1_journal(path)

    with Journal.open(path) as journal:
        rows = journal.load(ROWS[:2])
        journal.start_run(Path("batch.csv"))
        journal.planned(
            "SRV-10021", "FPC367131", "0231456701", "Utilisateurs",
            licence_type="Licence utilisateur essentiel", user="Hugo Laurent",
        )  # fmt: skip
        journal.set_service("SRV-10021", name="MetaCentrex Siège Caen")
        journal.finish_run(3, tmp_path / "report")
        after = {row.licence: row for row in journal.rows()}
        last = journal.last_run()

    assert [(r.licence, r.state, r.submissions) for r in rows] == [
        ("FPC367128", "done", 1),
        ("FPC367131", "submitting", 1),
    ]
    moved = after["FPC367131"]
    assert (moved.state, moved.licence_type, moved.user) == (
        "planned",
        "Licence utilisateur essentiel",
        "Hugo Laurent",
    )
    assert after["FPC367128"].service_name == "MetaCentrex Siège Caen"
    assert after["FPC367128"].client == "Normandie Logistique"
    assert last is not None
    assert (last.exit_code, last.report) == (3, str(tmp_path / "report"))
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        # Its runs name no portal (version 3's column, empty): any portal may go on with it.
        assert conn.execute("SELECT DISTINCT portal FROM runs").fetchall() == [(None,)]
    finally:
        conn.close()
    with Journal.open(path) as journal:
        assert journal.other_portal("https://myopenip.example") is None


def test_a_dry_runs_copy_of_a_version_1_journal_leaves_the_journal_at_version_1(
    tmp_path: Path,
) -> None:
    from myopenip_bot.batch.journal import copy_for_dry_run

    path = tmp_path / "batch.sqlite"
    _v1_journal(path)
    before = snapshot(tmp_path)["batch.sqlite"]

    copy_for_dry_run(path, tmp_path / "copy.sqlite")
    with Journal.open(tmp_path / "copy.sqlite") as copy:
        assert {row.licence: row.state for row in copy.rows()} == {
            "FPC367128": "done",
            "FPC367131": "submitting",
        }

    assert snapshot(tmp_path)["batch.sqlite"] == before
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        conn.close()


@pytest.mark.parametrize("name", ["nuit?mode=rw.sqlite", "nuit#1.sqlite", "nuit%20.sqlite"])
def test_a_dry_runs_copy_reads_the_journal_named_and_no_other_file(
    tmp_path: Path, name: str
) -> None:
    """The read-only URI quotes the name: `?`, `#` or `%` in it are the name's own, never
    options or another file (unquoted, "nuit?mode=rw.sqlite" opens "nuit" read-write)."""
    from myopenip_bot.batch.journal import copy_for_dry_run

    path = tmp_path / name
    _v1_journal(path)
    copy_for_dry_run(path, tmp_path / "copy.sqlite")
    with Journal.open(tmp_path / "copy.sqlite") as copy:
        assert {row.licence for row in copy.rows()} == {"FPC367128", "FPC367131"}
    # Nothing else was created (an unquoted "nuit?…" would have read, or made, "nuit").
    assert all(p.name.startswith((name, "copy.sqlite")) for p in tmp_path.iterdir())


def test_rows_never_reached_say_why_and_rows_that_moved_on_keep_their_reason(
    tmp_path: Path,
) -> None:
    with Journal.open(tmp_path / "batch.sqlite") as journal:
        journal.load(ROWS)
        journal.start_run(Path("batch.csv"))
        journal.settle(
            "SRV-10021",
            [
                Settlement("FPC367128", Outcome.REFUSED, reason="no licence"),
                Settlement("FPC367131", Outcome.FAILED, reason="the portal timed out"),
            ],
        )
        rows = journal.rows()
    result = BatchResult(
        rows=rows, unreached="not reached: interrupted by SIGTERM", reached=frozenset()
    )

    assert {row.licence: result.reason(row) for row in rows} == {
        "FPC367128": "no licence",
        "FPC367131": "the portal timed out",
        "FPC302848": "not reached: interrupted by SIGTERM",
    }
    # A row this run reached keeps the journal's reason, whatever its state.
    reached = BatchResult(rows=rows, unreached="not reached", reached=frozenset({"FPC302848"}))
    assert reached.reason(rows[-1]) is None


# -- a journal that cannot be written ---------------------------------------------------


def test_a_journal_that_cannot_grow_says_so_as_a_journal_write_error_and_keeps_what_it_had(
    tmp_path: Path,
) -> None:
    """SQLite's "database or disk is full" (here its own page limit: the same error code a
    full disk gives) is a JournalWriteError naming the journal, never a raw traceback; the
    transaction is rolled back and the journal stays usable once there is room."""
    path = tmp_path / "j.sqlite"
    with Journal.open(path) as journal:
        journal.load(ROWS)
        journal.start_run(Path("batch.csv"))
        journal._conn.execute("PRAGMA journal_mode = DELETE")  # pages counted in the file
        pages = journal._conn.execute("PRAGMA page_count").fetchone()[0]
        journal._conn.execute(f"PRAGMA max_page_count = {pages}")
        many = [
            BatchRow(line=10 + n, service="SRV-10023", licence=f"FPC4{n:05d}", keep=True)
            for n in range(2000)
        ]

        with pytest.raises(JournalWriteError) as caught:
            journal.load(many)

        assert str(path) in str(caught.value)
        assert "database or disk is full" in str(caught.value)
        assert not journal._conn.in_transaction
        assert states(journal) == {row.licence: "pending" for row in ROWS}
        journal.settle("SRV-10021", [Settlement("FPC367128", Outcome.DONE)])  # in a page it had
        assert states(journal)["FPC367128"] == "done"
