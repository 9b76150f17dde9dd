"""The ledger as `dissociate` and `batch` write it: real processes, a real Chromium, the
replica, and a real ledger on each back end (SQLite, a throw-away PostgreSQL)."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import forked
import psycopg
import pytest
from batch_support import BatchCli, exit_agrees, pick, write_csv
from cli_support import Cli
from e2e_support import licence
from postgres import Postgres

from myopenip.replica import Replica
from myopenip_bot.ledger import Entry, Query, open_ledger, portal_key
from myopenip_bot.models import format_number
from myopenip_bot.retention import RECENT_SECONDS

_databases = itertools.count(1)


def _entries(ledger_url: str, query: Query | None = None, *, every: bool = True) -> list[Entry]:
    with open_ledger(ledger_url) as ledger:
        return ledger.entries(query or Query(), every=every)


def test_a_one_shot_records_who_did_what_for_which_ticket_before_and_after_valider(
    replica: Replica, tmp_path: Path, ledger_url: str
) -> None:
    cli = Cli(tmp_path, replica, ledger=ledger_url)

    done = cli("--licence", "FPC367128", "--release-number", "--yes", "--ticket", " INC-1001 ")

    assert done.returncode == 0, done.stderr[-3000:]
    submitting, accepted, outcome = reversed(_entries(ledger_url))  # newest first
    assert [e.outcome for e in (submitting, accepted, outcome)] == [
        "submitting",
        "in_progress",  # the portal's status read: accepted
        "done",
    ]
    assert "Numéro(s) dissocié(s)" in accepted.reason
    assert [e.outcome for e in _entries(ledger_url, every=False)] == ["done"]
    for entry in (submitting, accepted, outcome):
        assert entry.ticket == "INC-1001"
        assert (entry.service, entry.licence, entry.number) == (
            "SRV-10021",
            "FPC367128",
            "0231456789",
        )
        assert entry.keep_number is False
        assert entry.portal == portal_key(replica.url)
        assert entry.portal_user == replica.username
        assert entry.client
        assert entry.account.startswith("CC-")
        assert entry.command == "dissociate"
        assert entry.os_user
        assert entry.host
        assert Path(entry.run_dir).is_absolute()
        assert "dissociate-SRV-10021" in entry.run_dir
    assert submitting.id < outcome.id
    assert submitting.at <= outcome.at
    # billing's list: the released number
    with open_ledger(ledger_url) as ledger:
        assert [e.number for e in ledger.to_terminate(portal_key(replica.url))] == ["0231456789"]


def test_a_dry_run_is_recorded_as_such_and_never_on_billings_list(
    replica: Replica, tmp_path: Path, ledger_url: str
) -> None:
    cli = Cli(tmp_path, replica, ledger=ledger_url)

    done = cli("--licence", "FPC367128", "--release-number", "--dry-run")

    assert done.returncode == 0, done.stderr[-3000:]
    (entry,) = _entries(ledger_url)
    assert (entry.outcome, entry.command) == ("would_do", "dissociate --dry-run")
    with open_ledger(ledger_url) as ledger:
        assert ledger.to_terminate() == []


def test_a_batchs_rows_carry_their_own_ticket_or_the_runs(
    replica: Replica, tmp_path: Path, ledger_url: str
) -> None:
    (first, first_number), (second, second_number) = pick(replica.state(), "SRV-10021", 2)
    batch = write_csv(
        tmp_path / "batch.csv",
        [("SRV-10021", first, "non", "INC-7"), ("SRV-10021", second, "oui", "")],
        header=("service", "licence", "keep_number", "ticket"),
    )
    cli = BatchCli(tmp_path, replica, ledger=ledger_url)

    done = cli(batch, "--yes", "--json", "--ticket", "CHG-42", "--report", tmp_path / "report")

    assert done.returncode == 0, done.stderr[-3000:]
    exit_agrees(done)
    settled = {e.licence: e for e in _entries(ledger_url, every=False)}
    assert {ref: (e.outcome, e.ticket, e.command) for ref, e in settled.items()} == {
        first: ("done", "INC-7", "batch"),
        second: ("done", "CHG-42", "batch"),
    }
    assert settled[first].number == first_number
    assert settled[second].number == second_number
    assert settled[first].run_dir == str((tmp_path / "report").resolve())
    assert [e.outcome for e in _entries(ledger_url, Query(ticket="inc-7"))] == [
        "done",
        "in_progress",
        "submitting",
    ]
    with open_ledger(ledger_url) as ledger:
        assert [e.number for e in ledger.available()] == [second_number]


@pytest.mark.twin(
    "tests/unit/test_batch_command.py::test_a_one_shot_keeps_the_run_folders_in_bounds_too",
    "tests/commands/test_ledger_runs.py::test_billings_list_holds_every_released_number_of_every_run_until_marked_terminated",
)
def test_the_ledger_outlives_the_run_folders_retention_prunes(
    replica: Replica, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, replica, keep_runs="1")  # the user's ledger: XDG_DATA_HOME's
    refs = [ref for ref, _number in pick(replica.state(), "SRV-10021", 3)]

    for ref in refs:
        done = cli("--licence", ref, "--release-number", "--yes")
        assert done.returncode == 0, done.stderr[-3000:]
        _age(tmp_path / "traces")  # an old run: the next one may prune it

    folders = [p for p in (tmp_path / "traces").iterdir() if p.is_dir()]
    assert len(folders) <= 2  # MYOPENIP_KEEP_RUNS pruned the others
    settled = _entries(str(Path(_data_home()) / "myopenip" / "ledger.sqlite3"), every=False)
    assert [e.licence for e in settled] == refs[::-1]


def _age(folder: Path) -> None:
    long_ago = time.time() - 2 * RECENT_SECONDS
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (long_ago, long_ago), follow_symlinks=False)


def _data_home() -> str:
    return os.environ["XDG_DATA_HOME"]


@pytest.mark.parametrize("kind", ["folder", "not a ledger"])
def test_a_ledger_that_cannot_be_opened_stops_the_run_before_anything(
    replica: Replica, tmp_path: Path, kind: str
) -> None:
    where = tmp_path / "ledger"
    if kind == "folder":
        where.mkdir()
    else:
        where.write_text("a shopping list\n", encoding="utf-8")
    before = replica.state()

    done = Cli(tmp_path, replica, ledger=str(where))(
        "--licence", "FPC367128", "--release-number", "--yes"
    )

    assert done.returncode == 9, done.stderr[-3000:]
    assert str(where) in done.stderr
    assert "ledger" in done.stderr
    assert replica.state() == before
    if kind == "not a ledger":
        assert where.read_text(encoding="utf-8") == "a shopping list\n"  # untouched


def _team_database(server: Postgres, name: str) -> str:
    return server.database(f"team{next(_databases)}_{name}")


def test_a_team_ledger_that_refuses_the_write_stops_the_run_before_valider(
    replica: Replica, tmp_path: Path, postgres_server: Postgres
) -> None:
    owner = _team_database(postgres_server, "refuses")
    open_ledger(owner).close()  # the schema, made by its owner
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS ledger_reader")
        conn.execute("CREATE ROLE ledger_reader LOGIN")
        conn.execute("GRANT SELECT ON ledger_entries, ledger_meta TO ledger_reader")
    reader = owner.replace("postgresql://postgres@", "postgresql://ledger_reader:s3cret@")
    before = replica.state()

    done = Cli(tmp_path, replica, ledger=reader)(
        "--licence", "FPC367128", "--release-number", "--yes", "--json"
    )

    assert done.returncode == 9, done.stderr[-3000:]
    assert "permission denied" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout
    assert replica.state() == before  # « Valider » never clicked
    assert licence(replica.state(), "FPC367128")["sda"] == "0231456789"
    assert _entries(owner) == []


def test_two_machines_never_act_on_one_service_at_once(
    replica: Replica, tmp_path: Path, postgres_server: Postgres
) -> None:
    team = _team_database(postgres_server, "lock")
    (ref, _number), *_ = pick(replica.state(), "SRV-10022", 1)
    batch = write_csv(tmp_path / "batch.csv", [("SRV-10022", ref, "non")])
    before = replica.state()
    with open_ledger(team) as other_machine:
        assert other_machine.try_lock_service(portal_key(replica.url), "SRV-10022")

        one_shot = Cli(tmp_path, replica, ledger=team)(
            "--licence", ref, "--release-number", "--yes", service="SRV-10022"
        )
        locked = BatchCli(tmp_path, replica, ledger=team)(batch, "--yes", "--json")

        assert one_shot.returncode == 3, one_shot.stderr[-3000:]
        assert "another run holds the lock" in one_shot.stderr
        assert locked.returncode == 3, locked.stderr[-3000:]
        (row,) = exit_agrees(locked)["results"]
        assert row["outcome"] == "pending"  # left to do: the next run does it
        assert replica.state() == before  # nothing clicked by either

    # the other machine is done: the same batch, run again, does the row
    again = BatchCli(tmp_path, replica, ledger=team)(batch, "--yes", "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    assert licence(replica.state(), ref)["sda"] is None


def _myopenip(cwd: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    """`myopenip ARGS --json` run in `cwd`, its document (exit 0)."""
    cwd.mkdir(parents=True, exist_ok=True)
    done = forked.run(
        [sys.executable, "-m", "myopenip", *args, "--json"], cwd=cwd, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def test_a_ticket_is_found_by_any_number_format_from_another_folder_portal_down(
    replica_factory: Callable[..., Replica], tmp_path: Path
) -> None:
    portal = replica_factory()
    (tmp_path / "desk").mkdir()
    one_shot = Cli(tmp_path / "desk", portal)
    done = one_shot("--licence", "FPC367128", "--release-number", "--yes", "--ticket", "INC-1001")
    assert done.returncode == 0, done.stderr[-3000:]
    portal.process.terminate()  # the portal is down from here on
    portal.process.wait(timeout=30)

    found = _myopenip(
        tmp_path / "elsewhere", one_shot.env, "history", "--number", "+33 2 31 45 67 89"
    )

    (entry,) = found["entries"]
    assert (entry["ticket"], entry["outcome"], entry["licence"]) == (
        "INC-1001",
        "done",
        "FPC367128",
    )
    assert entry["number"] == "02 31 45 67 89"


def test_billings_list_holds_every_released_number_of_every_run_until_marked_terminated(
    replica: Replica, tmp_path: Path
) -> None:
    (released, released_number), (kept, kept_number) = pick(replica.state(), "SRV-10022", 2)
    batch = write_csv(
        tmp_path / "batch.csv",
        [("SRV-10022", released, "non"), ("SRV-10022", kept, "oui")],
    )
    assert BatchCli(tmp_path, replica)(batch, "--yes", "--ticket", "CHG-9").returncode == 0
    one_shot = Cli(tmp_path, replica)
    assert one_shot("--licence", "FPC367128", "--release-number", "--yes").returncode == 0

    listed = _myopenip(tmp_path, one_shot.env, "numbers", "--to-terminate")
    assert sorted(n["number"] for n in listed["numbers"]) == sorted(
        format_number(n) for n in (released_number, "0231456789")
    )
    available = _myopenip(tmp_path, one_shot.env, "numbers", "--available")
    assert [n["number"] for n in available["numbers"]] == [format_number(kept_number)]

    _myopenip(
        tmp_path, one_shot.env, "numbers", "--terminated", released_number, "--ticket", "BILL-1"
    )

    left = _myopenip(tmp_path, one_shot.env, "numbers", "--to-terminate")
    assert [n["number"] for n in left["numbers"]] == ["02 31 45 67 89"]
    history = _myopenip(tmp_path, one_shot.env, "history", "--number", released_number)
    assert [(e["outcome"], e["ticket"]) for e in history["entries"]] == [
        ("terminated", "BILL-1"),
        ("done", "CHG-9"),
    ]


@pytest.mark.twin(
    "tests/unit/test_ledger_store.py::test_two_processes_writing_at_once_lose_nothing",
    "tests/unit/test_history.py::test_each_filter_finds_what_it_names_whatever_the_case_and_accents",
)
def test_two_machines_on_one_team_ledger_and_a_third_sees_both_tickets(
    replica: Replica, tmp_path: Path, postgres_server: Postgres
) -> None:
    team = _team_database(postgres_server, "homes")
    (first, _), (second, _) = pick(replica.state(), "SRV-10021", 2)
    homes = []
    for name, ref, ticket in (("alice", first, "INC-1"), ("bob", second, "INC-2")):
        (tmp_path / name).mkdir()
        machine = Cli(tmp_path / name, replica, ledger=team)
        machine.env |= {
            "HOME": str(tmp_path / name),
            "XDG_DATA_HOME": str(tmp_path / name / "data"),
        }
        homes.append(machine)
        done = machine("--licence", ref, "--release-number", "--yes", "--ticket", ticket)
        assert done.returncode == 0, done.stderr[-3000:]
    third = dict(homes[0].env, HOME=str(tmp_path / "carol"), XDG_DATA_HOME=str(tmp_path / "carol"))

    seen = {
        ticket: _myopenip(tmp_path / "carol", third, "history", "--ticket", ticket)["entries"]
        for ticket in ("INC-1", "INC-2")
    }

    assert [e["licence"] for e in seen["INC-1"]] == [first]
    assert [e["licence"] for e in seen["INC-2"]] == [second]
    assert not (tmp_path / "carol" / "myopenip").exists()  # no SQLite ledger of its own


def test_a_user_freed_by_the_bot_is_found_by_name_and_a_rerun_is_already_done(
    replica: Replica, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, replica)  # the user's own ledger
    ticket = ("--keep-number", "--yes", "--ticket", "INC-5", "--json")

    first = cli("--user", "Lina André", *ticket, client="Cabinet Durand Avocats")
    again = cli("--user", "andré LINA", *ticket, client="Cabinet Durand Avocats")

    assert first.returncode == 0, first.stderr[-3000:]
    (done,) = json.loads(first.stdout)["results"]
    assert done["outcome"] == "done"
    assert again.returncode == 0, again.stderr[-3000:]
    (rerun,) = json.loads(again.stdout)["results"]
    assert rerun["outcome"] == "already_done"
    assert "« andré LINA » any more: dissociated from " + done["licence"] in rerun["reason"]
    assert "(ticket INC-5)" in rerun["reason"]
    found = _myopenip(tmp_path, cli.env, "history", "--user", "ANDRE lina")
    assert [(e["user"], e["licence"], e["outcome"]) for e in found["entries"]] == [
        ("andré LINA", done["licence"], "already_done"),  # the rerun: the user as asked
        ("Lina André", done["licence"], "done"),  # as the listing showed it
    ]
