"""The ledger's store (myopenip_bot.ledger.store) on both back ends: what is recorded is
read back whole, found by every filter, listed for billing; its schema is created once and
never downgraded; it is append-only in the database itself; a write that fails says so and
leaves nothing half-written; two processes writing at once lose nothing; with PostgreSQL,
two machines never hold one service's lock at once.

Every test that is about the ledger takes `ledger_url` (a SQLite file, then a fresh
PostgreSQL database); those about one back end's own ways (a SQLite path, a PostgreSQL
URL) say so in their name.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psycopg
import pytest
from hostile_values import ESCAPES, FORMULAS, RICH
from ledger_support import (
    PORTAL,
    at,
    connection,
    entry,
    fail_writes,
    is_postgres,
    rows,
    written,
)
from postgres import Postgres

from myopenip_bot.ledger import (
    SCHEMA_VERSION,
    Entry,
    LedgerError,
    LedgerWriteError,
    Query,
    default_ledger_path,
    open_ledger,
)

OTHER_PORTAL = "https://other-portal.example"


def record(ledger_url: str, *entries: Entry) -> None:
    with open_ledger(ledger_url) as ledger:
        ledger.record(entries)


def read(ledger_url: str, query: Query | None = None, *, every: bool = True) -> list[Entry]:
    with open_ledger(ledger_url) as ledger:
        return ledger.entries(query or Query(), every=every)


def count(ledger_url: str) -> int:
    return int(rows(ledger_url, "SELECT count(*) FROM ledger_entries")[0][0])


# -- what is recorded is read back ----------------------------------------------------


def test_every_field_is_read_back_as_it_was_recorded(ledger_url: str) -> None:
    given = [
        entry(at=at(0), licence="FPC1", keep_number=False),
        entry(at=at(1), licence="FPC2", keep_number=True, outcome="already_done"),
        entry(
            at=at(2),
            licence="FPC3",
            number="",
            keep_number=None,
            outcome="refused",
            run_dir="",
            ticket="",
        ),
    ]
    with open_ledger(ledger_url) as ledger:
        ledger.record(given)
        found = ledger.entries(Query(), every=True)
    assert [written(e) for e in found] == given[::-1]
    assert [e.keep_number for e in found] == [None, True, False]
    ids = [e.id for e in found]
    assert all(isinstance(i, int) and i > 0 for i in ids)
    assert ids == sorted(ids, reverse=True)  # the order of writing


HOSTILE = [
    RICH,
    "[bold]x[/]",
    *FORMULAS,
    ESCAPES,
    "\x1b[31m",
    "Zoë « Ça » 東京 🚀 \u202eevil",
    'O\'Brien "quoted" `back`',
    "'); DROP TABLE ledger_entries; --",
    "100% _under_ \\back\\ !bang",
    "R" * 5000,
]


def test_hostile_texts_are_stored_as_data_and_read_back_exactly(ledger_url: str) -> None:
    given = [
        entry(
            at=at(i),
            client=text,
            account=text,
            service=text,
            licence=text,
            reason=text,
            ticket=text,
            portal_user=text,
            command=text,
            run_dir=text,
            os_user=text,
            host=text,
        )
        for i, text in enumerate(HOSTILE)
    ]
    record(ledger_url, *given)
    assert [written(e) for e in read(ledger_url)] == given[::-1]
    assert count(ledger_url) == len(HOSTILE)  # the table is still there


def test_a_client_filter_matches_percent_underscore_and_bang_literally(ledger_url: str) -> None:
    clients = ["100% Bio", "1000 Bio", "A_B Conseil", "AxB Conseil", "Oui!", "Ouix"]
    record(ledger_url, *(entry(at=at(i), client=c, account="") for i, c in enumerate(clients)))

    def clients_of(text: str) -> list[str]:
        return [e.client for e in read(ledger_url, Query(client=text))]

    assert clients_of("100%") == ["100% Bio"]
    assert clients_of("%") == ["100% Bio"]
    assert clients_of("a_b") == ["A_B Conseil"]
    assert clients_of("_") == ["A_B Conseil"]
    assert clients_of("i!") == ["Oui!"]


# -- finding entries ------------------------------------------------------------------


def test_each_filter_finds_its_entries_only(ledger_url: str) -> None:
    a = entry(
        at=at(0),
        number="0231456789",
        licence="FPC367128",
        service="SRV-10021",
        ticket="INC-1001",
        client="Société Générale",
        account="CC-0012",
    )
    b = entry(
        at=at(10),
        number="0145000000",
        licence="FPC999",
        service="SRV-20000",
        ticket="CHG-7",
        client="Boulangerie Dupont",
        account="CC-0999",
    )
    c = entry(at=at(20), portal=OTHER_PORTAL, number="0231456789", licence="FPC367128")
    record(ledger_url, a, b, c)

    def found(**query: str) -> list[Entry]:
        return [written(e) for e in read(ledger_url, Query(**query))]

    assert found(number="0231456789") == [c, a]
    assert found(number="023145678") == []  # a number is whole, not a part
    assert found(licence="fpc367128") == [c, a]
    assert found(service="srv-20000") == [b]
    assert found(ticket="inc-1001") == [c, a]
    assert found(ticket="INC") == []  # a ticket is whole
    assert found(client="societe GENERALE") == [c, a]
    assert found(client="générale") == [c, a]
    assert found(client="  societe   gen ") == [c, a]  # blanks collapsed, a part of it
    assert found(client="cc-0999") == [b]  # its account
    assert found(client="dupont cc-09") == [b]  # name then account
    assert found(since=at(10)) == [c, b]  # inclusive
    assert found(until=at(10)) == [a]  # exclusive
    assert found(since=at(0), until=at(20)) == [b, a]
    assert found(portal=OTHER_PORTAL) == [c]
    assert found(portal=PORTAL, number="0231456789") == [a]
    assert found(client="nobody") == []


def test_entries_come_newest_first_whatever_the_order_of_writing(ledger_url: str) -> None:
    record(ledger_url, entry(at=at(5), licence="L5"), entry(at=at(1), licence="L1"))
    record(ledger_url, entry(at=at(9), licence="L9"), entry(at=at(5), licence="L5b"))
    assert [e.licence for e in read(ledger_url)] == ["L9", "L5b", "L5", "L1"]


def test_the_history_shows_each_runs_last_word_unless_every_entry_is_asked(
    ledger_url: str,
) -> None:
    run1, run2 = "/runs/one", "/runs/two"
    steps = [
        entry(at=at(0), run_dir=run1, outcome="submitting"),
        entry(at=at(1), run_dir=run1, outcome="in_progress"),
        entry(at=at(2), run_dir=run1, outcome="done"),
        entry(at=at(3), run_dir=run1, licence="FPC2", number="0100000002", outcome="submitting"),
        entry(at=at(4), run_dir=run2, outcome="already_done"),
        entry(at=at(5), run_dir="", command="numbers --terminated", outcome="terminated"),
        entry(at=at(6), run_dir="", command="numbers --terminated", outcome="terminated"),
    ]
    record(ledger_url, *steps)
    latest = [(e.run_dir, e.licence, e.outcome) for e in read(ledger_url, every=False)]
    assert latest == [
        ("", "FPC367128", "terminated"),
        ("", "FPC367128", "terminated"),
        (run2, "FPC367128", "already_done"),
        (run1, "FPC2", "submitting"),  # a run stopped after its click says so
        (run1, "FPC367128", "done"),
    ]
    assert len(read(ledger_url, every=True)) == len(steps)
    with open_ledger(ledger_url) as ledger:  # the default is the last word
        assert len(ledger.entries(Query())) == len(latest)


# -- billing's lists ------------------------------------------------------------------


def numbers(found: list[Entry]) -> list[str]:
    return [e.number for e in found]


def test_released_numbers_are_listed_until_terminated_and_again_once_released_again(
    ledger_url: str,
) -> None:
    released = entry(at=at(0), number="0100000001", keep_number=False)
    kept = entry(at=at(1), number="0100000002", keep_number=True)
    with open_ledger(ledger_url) as ledger:
        ledger.record([released, kept])
        assert numbers(ledger.to_terminate()) == ["0100000001"]
        assert numbers(ledger.available()) == ["0100000002"]

        ledger.record([entry(at=at(2), number="0100000001", outcome="terminated", run_dir="")])
        assert ledger.to_terminate() == []

        # the number was given to another licence, then released again: billing's again
        again = entry(at=at(3), number="0100000001", licence="FPC777", keep_number=False)
        ledger.record([again])
        assert [written(e) for e in ledger.to_terminate()] == [again]

        # released twice without a termination between: listed once, the latest release
        twice = entry(at=at(4), number="0100000001", licence="FPC888", keep_number=False)
        ledger.record([twice])
        assert [written(e) for e in ledger.to_terminate()] == [twice]


def test_only_a_done_release_is_to_terminate_never_a_dry_run_nor_a_failure(
    ledger_url: str,
) -> None:
    not_done = [
        entry(at=at(i), number=f"010000000{i}", outcome=outcome, keep_number=False)
        for i, outcome in enumerate(
            ["would_do", "submitting", "in_progress", "unknown", "failed", "refused"]
        )
    ]
    record(ledger_url, *not_done)
    with open_ledger(ledger_url) as ledger:
        assert ledger.to_terminate() == []
        assert ledger.available() == []


def test_billings_lists_are_per_portal_when_one_is_given(ledger_url: str) -> None:
    here = entry(at=at(0), number="0100000001", keep_number=False)
    there = entry(at=at(1), number="0100000001", keep_number=False, portal=OTHER_PORTAL)
    kept_there = entry(at=at(2), number="0100000003", keep_number=True, portal=OTHER_PORTAL)
    # a termination on one portal leaves the same number released on the other listed
    terminated_here = entry(at=at(3), number="0100000001", outcome="terminated", run_dir="")
    with open_ledger(ledger_url) as ledger:
        ledger.record([here, there, kept_there, terminated_here])
        assert [written(e) for e in ledger.to_terminate()] == [there]
        assert ledger.to_terminate(PORTAL) == []
        assert [written(e) for e in ledger.to_terminate(OTHER_PORTAL)] == [there]
        assert [written(e) for e in ledger.available(OTHER_PORTAL)] == [kept_there]
        assert ledger.available(PORTAL) == []


def test_a_kept_number_is_available_until_the_bot_does_something_with_it(
    ledger_url: str,
) -> None:
    with open_ledger(ledger_url) as ledger:
        ledger.record([entry(at=at(0), number="0100000001", keep_number=True)])
        ledger.record([entry(at=at(0), number="0100000002", keep_number=True)])
        assert numbers(ledger.available()) == ["0100000002", "0100000001"]
        # given to another licence then released: no longer in the pool, billing's now
        ledger.record([entry(at=at(1), number="0100000001", keep_number=False, licence="X")])
        assert numbers(ledger.available()) == ["0100000002"]
        assert numbers(ledger.to_terminate()) == ["0100000001"]
        ledger.record([entry(at=at(2), number="0100000002", outcome="terminated", run_dir="")])
        assert ledger.available() == []


# -- the schema -----------------------------------------------------------------------


def test_the_schema_is_created_once_and_reopened_with_its_entries(ledger_url: str) -> None:
    record(ledger_url, entry(licence="FPC1"))
    record(ledger_url, entry(licence="FPC2"))
    with open_ledger(ledger_url) as ledger:
        assert sorted(e.licence for e in ledger.entries(Query())) == ["FPC1", "FPC2"]
    assert rows(ledger_url, "SELECT key, value FROM ledger_meta") == [
        ("schema_version", str(SCHEMA_VERSION))
    ]
    assert SCHEMA_VERSION == 1
    if not is_postgres(ledger_url):
        assert Path(ledger_url).stat().st_mode & 0o777 == 0o600


def test_a_ledger_of_a_newer_schema_is_refused_naming_it_and_left_untouched(
    ledger_url: str,
) -> None:
    record(ledger_url, entry())
    with connection(ledger_url) as db:
        db.execute("UPDATE ledger_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(LedgerError, match=r"schema 99, newer than this myopenip knows \(1\)"):
        open_ledger(ledger_url)
    assert rows(ledger_url, "SELECT key, value FROM ledger_meta") == [("schema_version", "99")]
    assert count(ledger_url) == 1


def test_the_database_itself_refuses_to_change_or_delete_an_entry(ledger_url: str) -> None:
    record(ledger_url, entry(reason="as it was"))
    refused = (sqlite3.Error, psycopg.Error)
    statements = [
        "UPDATE ledger_entries SET reason = 'rewritten'",
        "DELETE FROM ledger_entries",
    ]
    if is_postgres(ledger_url):
        statements.append("TRUNCATE ledger_entries")
    for statement in statements:
        with connection(ledger_url) as db, pytest.raises(refused, match="append-only"):
            db.execute(statement)
    assert [e.reason for e in read(ledger_url)] == ["as it was"]


# -- writes that fail -----------------------------------------------------------------


def test_a_write_that_fails_says_nothing_was_recorded_and_writes_nothing(
    ledger_url: str,
) -> None:
    with open_ledger(ledger_url) as ledger:
        ledger.record([entry(licence="before")])
        fail_writes(ledger_url, "disk full")
        with pytest.raises(
            LedgerWriteError, match=r"disk full.*3 entries were not recorded"
        ) as failed:
            ledger.record([entry(licence="A"), entry(licence="B"), entry(licence="C")])
        assert f"the ledger {ledger.name} could not be written" in str(failed.value)
        with pytest.raises(LedgerWriteError, match=r"1 entry was not recorded"):
            ledger.record([entry(licence="D")])
        assert [e.licence for e in ledger.entries(Query())] == ["before"]


def test_a_record_is_all_or_nothing(ledger_url: str) -> None:
    broken = entry(licence="broken", reason=None)  # type: ignore[arg-type]  # NOT NULL
    with open_ledger(ledger_url) as ledger:
        with pytest.raises(LedgerWriteError, match="3 entries were not recorded"):
            ledger.record([entry(licence="A"), broken, entry(licence="C")])
        assert ledger.entries(Query()) == []
        ledger.record([entry(licence="after")])  # the ledger goes on
        assert [e.licence for e in ledger.entries(Query())] == ["after"]


# -- a SQLite path, a PostgreSQL URL --------------------------------------------------


def test_a_sqlite_ledger_through_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real.sqlite3"
    record(str(real), entry())
    before = real.read_bytes()
    link = tmp_path / "ledger.sqlite3"
    link.symlink_to(real)
    with pytest.raises(LedgerError, match=r"ledger\.sqlite3 is a symbolic link .*refused"):
        open_ledger(str(link))
    dangling = tmp_path / "dangling.sqlite3"
    dangling.symlink_to(tmp_path / "nowhere.sqlite3")
    with pytest.raises(LedgerError, match="symbolic link"):
        open_ledger(str(dangling))
    assert not (tmp_path / "nowhere.sqlite3").exists()
    assert real.read_bytes() == before


def test_a_file_that_is_not_a_ledger_is_refused_and_left_untouched(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (what TEXT)")
        db.execute("INSERT INTO notes VALUES ('mine')")
    db.close()
    text = tmp_path / "notes.txt"
    text.write_text("Not a database, a person's notes.\n" * 50)
    marked = tmp_path / "marked.sqlite3"  # no table yet, but another application's
    with sqlite3.connect(marked) as db:
        db.execute("PRAGMA application_id = 1234")
    db.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    for path in (other, text, marked):
        before = path.read_bytes()
        with pytest.raises(LedgerError, match=str(path)):
            open_ledger(str(path))
        assert path.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == names


def test_an_empty_file_or_an_empty_database_becomes_a_ledger(tmp_path: Path) -> None:
    """As a ledger another process is creating at the same time looks."""
    empty_file = tmp_path / "empty.sqlite3"
    empty_file.touch()
    empty_database = tmp_path / "empty-db.sqlite3"
    with sqlite3.connect(empty_database) as db:
        db.execute("PRAGMA journal_mode = WAL")  # its header written, nothing in it
    db.close()
    assert empty_database.stat().st_size > 0
    for path in (empty_file, empty_database):
        record(str(path), entry())
        assert count(str(path)) == 1


def test_a_folder_as_the_sqlite_ledger_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "ledger"
    folder.mkdir()
    with pytest.raises(LedgerError, match=f"the ledger {folder} cannot be opened"):
        open_ledger(str(folder))
    assert list(folder.iterdir()) == []


def test_the_default_sqlite_ledger_is_in_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    expected = tmp_path / "data" / "myopenip" / "ledger.sqlite3"
    assert default_ledger_path() == expected
    for where in (None, "", "  "):
        with open_ledger(where) as ledger:
            assert ledger.name == str(expected)
            ledger.record([entry(ticket=f"T{where!r}")])
    assert count(str(expected)) == 3
    assert (tmp_path / "data" / "myopenip").stat().st_mode & 0o777 == 0o700
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")  # not absolute: ignored (XDG)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_ledger_path() == tmp_path / "home/.local/share/myopenip/ledger.sqlite3"


def test_a_postgresql_ledger_that_cannot_be_reached_never_says_its_password(
    postgres_server: Postgres,
) -> None:
    secret = "S3cr3t-Pa55"
    good = postgres_server.dsn("postgres")
    wrong = [
        good.replace("postgres@/postgres", f"postgres:{secret}@/no_such_database"),
        good.replace("postgres@/postgres", f"no_such_role:{secret}@/postgres"),
        good.replace("postgres@/", "postgres@/") + f"&password={secret}&dbname=nope",
        f"postgresql://agent:{secret}@/ledger?host=/nonexistent/folder&port=5432",
        f"postgres://agent:{secret}@/ledger?host=/nonexistent/folder",
    ]
    said = []
    for url in wrong:
        with pytest.raises(LedgerError) as refused:
            open_ledger(url)
        said.append(str(refused.value))
    for message in said:
        assert secret not in message
        assert message.startswith("the ledger postgres")
        assert "cannot be opened" in message
    assert 'database "no_such_database" does not exist' in said[0]
    assert 'role "no_such_role" does not exist' in said[1]
    assert 'database "nope" does not exist' in said[2]


def test_a_wrong_postgresql_password_is_an_error_that_never_says_it(
    postgres_server: Postgres,
) -> None:
    database = postgres_server.database("guarded")
    hba = postgres_server.data / "pg_hba.conf"
    rule = "local all ledger_agent scram-sha-256\n"  # this role only: others keep trust
    if rule not in hba.read_text():
        hba.write_text(rule + hba.read_text())
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute("CREATE ROLE ledger_agent LOGIN PASSWORD 'Right-Pa55'")
        admin.execute("GRANT ALL ON SCHEMA public TO ledger_agent")  # a team's own role
        admin.execute("SELECT pg_reload_conf()")
    url = database.replace("postgres@/", "ledger_agent:{}@/")
    deadline = time.monotonic() + 10
    while True:  # the server reads its rules again, a moment after being told
        try:
            open_ledger(url.format("Wr0ng-Pa55")).close()
        except LedgerError as error:
            refused = str(error)
            break
        assert time.monotonic() < deadline, "the password rule was never applied"
        time.sleep(0.05)
    assert 'password authentication failed for user "ledger_agent"' in refused
    assert "Wr0ng-Pa55" not in refused
    assert "ledger_agent:***@" in refused
    with open_ledger(url.format("Right-Pa55")) as ledger:  # the refusal was the password's
        ledger.record([entry()])
        assert len(ledger.entries(Query())) == 1


def test_a_postgresql_ledger_is_named_without_its_password(postgres_server: Postgres) -> None:
    database = postgres_server.database("named")
    url = database.replace("postgres@/", "postgres:S3cr3t@/")  # trust: any password does
    with open_ledger(url) as ledger:
        assert "S3cr3t" not in ledger.name
        assert ledger.name == database.replace("postgres@/", "postgres:***@/")


# -- writers at once, one service at a time -------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[3])
    from ledger_support import at, entry
    from myopenip_bot.ledger import open_ledger
    url, name = sys.argv[1], sys.argv[2]
    sys.stdin.readline()  # go: both open the ledger (a first open), then write, at once
    with open_ledger(url) as ledger:
        for i in range(200):
            ledger.record([entry(at=at(i), licence=f"{name}-{i}", host=name)])
    print("wrote", name, flush=True)
    """
)


def test_two_processes_writing_at_once_lose_nothing(ledger_url: str) -> None:
    support = str(Path(__file__).parents[1] / "support")
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, ledger_url, name, support],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("poste-1", "poste-2")
    ]
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        assert out.startswith("wrote")
    found = read(ledger_url)
    assert len(found) == 400
    assert len({e.id for e in found}) == 400
    for name in ("poste-1", "poste-2"):
        mine = sorted(e.licence for e in found if e.host == name)
        assert mine == sorted(f"{name}-{i}" for i in range(200))


def test_first_opens_at_once_of_an_empty_ledger_create_it_once(ledger_url: str) -> None:
    opened: list[object] = []
    start = threading.Barrier(4)

    def first_open() -> None:
        start.wait()
        try:
            with open_ledger(ledger_url) as ledger:
                ledger.record([entry(host=threading.current_thread().name)])
            opened.append("ok")
        except BaseException as error:  # said by the assertion below
            opened.append(error)

    threads = [threading.Thread(target=first_open, name=f"t{i}") for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert opened == ["ok"] * 4
    assert count(ledger_url) == 4
    assert rows(ledger_url, "SELECT value FROM ledger_meta") == [(str(SCHEMA_VERSION),)]


def test_one_machine_at_a_time_holds_a_services_lock_on_postgresql_any_on_sqlite(
    ledger_url: str,
) -> None:
    first, second = open_ledger(ledger_url), open_ledger(ledger_url)  # two machines
    try:
        assert first.try_lock_service(PORTAL, "SRV-1")
        shared = not is_postgres(ledger_url)  # SQLite: one user's, on one machine
        assert second.try_lock_service(PORTAL, "SRV-1") is shared
        assert second.try_lock_service(PORTAL, "srv-1") is shared  # a ref without its case
        assert second.try_lock_service(PORTAL, "SRV-2")  # another service is free
        assert second.try_lock_service(OTHER_PORTAL, "SRV-1")  # so is another portal's
        first.unlock_service(PORTAL, "SRV-1")
        assert second.try_lock_service(PORTAL, "SRV-1")
        assert first.try_lock_service(PORTAL, "SRV-1") is shared
    finally:
        second.close()  # its locks go with it
    try:
        assert first.try_lock_service(PORTAL, "SRV-1")
        assert first.try_lock_service(PORTAL, "SRV-2")
    finally:
        first.close()


def test_a_services_lock_is_held_until_each_taking_is_let_go_or_the_ledger_closed(
    ledger_url: str,
) -> None:
    holder, other = open_ledger(ledger_url), open_ledger(ledger_url)
    held = is_postgres(ledger_url)
    try:
        assert holder.try_lock_service(PORTAL, "SRV-1")
        assert holder.try_lock_service(PORTAL, "SRV-1")  # a batch's second worker on it
        holder.unlock_service(PORTAL, "SRV-1")
        assert other.try_lock_service(PORTAL, "SRV-1") is not held  # still taken once
        if not held:
            other.unlock_service(PORTAL, "SRV-1")
        holder.unlock_service(PORTAL, "SRV-1")
        holder.unlock_service(PORTAL, "SRV-1")  # one too many: nothing
        assert other.try_lock_service(PORTAL, "SRV-1")
        other.unlock_service(PORTAL, "SRV-1")
        assert holder.try_lock_service(PORTAL, "SRV-1")
        holder.close()  # a run that ends lets go of what it held
        assert other.try_lock_service(PORTAL, "SRV-1")
    finally:
        holder.close()
        other.close()


def test_a_nul_in_a_text_is_stored_alike_on_both_back_ends(ledger_url: str) -> None:
    """PostgreSQL's text holds no NUL: a portal text with one must not stop a run there
    only; both store the replacement character."""
    record(ledger_url, entry(client="Dupont\x00SA", reason="a\x00b"))
    (found,) = read(ledger_url)
    assert (found.client, found.reason) == ("Dupont\ufffdSA", "a\ufffdb")
    assert [e.client for e in read(ledger_url, Query(client="dupont\x00sa"))] == ["Dupont\ufffdSA"]


def test_a_write_held_up_by_another_too_long_fails_in_time_and_writes_nothing(
    ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("myopenip_bot.ledger.store.BUSY_SECONDS", 1)
    with open_ledger(ledger_url) as ledger, connection(ledger_url) as other:
        if is_postgres(ledger_url):
            other.execute("BEGIN")
            other.execute("LOCK TABLE ledger_entries IN ACCESS EXCLUSIVE MODE")
        else:
            other.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        with pytest.raises(LedgerWriteError, match="1 entry was not recorded"):
            ledger.record([entry()])
        assert time.monotonic() - started < 10
        other.execute("ROLLBACK")
        ledger.record([entry(licence="later")])  # once it is free
        assert [e.licence for e in ledger.entries(Query())] == ["later"]
