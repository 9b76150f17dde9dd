"""The throw-away PostgreSQL server of the ledger's tests (tests/support/postgres.py) and the
`ledger_url` fixture built on it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from postgres import Postgres, PostgresNotFoundError, find_binaries


def test_the_server_answers_on_a_unix_socket_of_its_own_folder(postgres_server: Postgres) -> None:
    dsn = postgres_server.database("answers")
    assert dsn.startswith("postgresql://postgres@/answers?host=/")
    with psycopg.connect(dsn) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
        assert connection.info.dbname == "answers"
        assert connection.execute("SHOW listen_addresses").fetchone() == ("",)
        assert connection.execute("SHOW fsync").fetchone() == ("off",)
        (sockets,) = connection.execute("SHOW unix_socket_directories").fetchone() or ("",)
    assert sockets == str(postgres_server.folder)


def test_a_table_written_by_one_connection_is_read_by_another(postgres_server: Postgres) -> None:
    dsn = postgres_server.database("shared")
    with psycopg.connect(dsn) as writer:
        writer.execute("CREATE TABLE actions (id serial PRIMARY KEY, what text NOT NULL)")
        writer.execute("INSERT INTO actions (what) VALUES (%s), (%s)", ("dissocier", "« Valider »"))
    with psycopg.connect(dsn) as reader:
        rows = reader.execute("SELECT what FROM actions ORDER BY id").fetchall()
    assert rows == [("dissocier",), ("« Valider »",)]


def test_each_database_is_new_and_independent_of_the_others(postgres_server: Postgres) -> None:
    first = postgres_server.database("first")
    second = postgres_server.database("second")
    assert first != second
    with psycopg.connect(first) as connection:
        connection.execute("CREATE TABLE actions (what text)")
        connection.execute("INSERT INTO actions VALUES ('first')")
    with psycopg.connect(second) as connection:
        tables = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchall() == []
        connection.execute("CREATE TABLE actions (what text)")  # the same name, its own table
    with pytest.raises(psycopg.errors.DuplicateDatabase):
        postgres_server.database("first")


def test_ledger_url_is_a_sqlite_file_then_a_fresh_postgresql_database(
    ledger_url: str, tmp_path: Path
) -> None:
    if ledger_url.startswith("postgresql://"):
        with psycopg.connect(ledger_url) as connection:
            tables = connection.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            )
            assert tables.fetchone() == (0,)
    else:
        assert ledger_url == str(tmp_path / "ledger.sqlite3")
        assert not Path(ledger_url).exists()


def test_stop_kills_the_server_and_removes_its_folder() -> None:
    server = Postgres().start()
    folder = server.folder
    assert folder is not None
    dsn = server.database("gone")
    server.stop()
    server.stop()  # idempotent
    assert not folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=5)


def test_a_killed_test_process_leaves_no_server_behind(tmp_path: Path) -> None:
    """The watchdog: a process killed with SIGKILL runs no atexit handler."""
    support = Path(__file__).parents[1] / "support"
    script = (
        "import os, signal, sys; sys.path.insert(0, sys.argv[1]); import postgres; "
        "server = postgres.Postgres().start(); print(server.dsn(), server.folder, flush=True); "
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(support)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -9, done.stderr
    dsn, folder = done.stdout.split()
    deadline = time.monotonic() + 10
    while Path(folder).exists() and time.monotonic() < deadline:  # `pg_ctl stop`, then `rm`
        time.sleep(0.05)
    assert not Path(folder).exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=5)


def test_no_binaries_is_an_error_naming_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("postgres.DEBIAN_BINARIES", "/nowhere/postgresql/*/bin")
    with pytest.raises(
        PostgresNotFoundError, match=r"initdb and pg_ctl.*apt-get install postgresql"
    ):
        find_binaries()
