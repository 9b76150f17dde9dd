"""`myopenip batch` as a scheduler runs it: a file of rows, a journal, faults, SIGKILLs, reruns,
a lock, workers, a remote browser server, and the report folder it leaves.

Every run is a real process driving real Chromiums against the replica (the classic
markup; the e2e tests drive the runner on both); the process's exit code is checked
against the one it prints (--json) and the one in summary.json; the portal is checked
through the replica's /_test/state: each row's licence dissociated exactly once with its
keep value, nothing else touched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import structlog
from batch_support import (
    BatchCli,
    Row,
    assert_committed_once,
    assert_portal_is_the_file,
    assert_released_listed,
    assert_summary_agrees,
    clicked,
    exit_agrees,
    file_state,
    flat,
    journal_left_by_a_killed_run,
    journal_rows,
    named,
    pick,
    read_report_csv,
    rows_for,
    sdas,
    write_csv,
    write_rows,
)
from browser_server import processes_using
from cli_support import shared_browser
from terminal_support import PROMPT_HINT, Terminal

import myopenip
from myopenip.cli import main
from myopenip.replica import Replica, run_replica
from myopenip_bot.batch.file import read_batch_file
from myopenip_bot.browser.launch import BrowserLaunch
from myopenip_bot.models import format_number

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Each run: no prompt, the result as JSON on stdout.
UNATTENDED = ("--yes", "--json")


def outcomes(payload: dict[str, Any]) -> dict[str, str]:
    return {row["licence"]: row["outcome"] for row in payload["results"]}


# -- 1. faults, SIGKILLs at random moments, resumed until it ends --------------------------


@pytest.mark.soak
@pytest.mark.longest(29)
def test_a_faulty_batch_killed_at_random_moments_and_resumed_ends_exactly_as_the_file(
    replica: Replica, tmp_path: Path
) -> None:
    # Sessions expire every 40 s from login: several times a run, yet not between every
    # login and « Valider » on a busy machine (each expiry there spends one of its two).
    portal = replica
    portal.test_api("reset", {"seed": 11})
    portal.faults(error_rate=0.05, session_ttl=40, drop_after_commit_rate=0.3)
    before = portal.state()
    # Two services, three dialogs: SRV-10021's Utilisateurs and Groupements, SRV-10022's
    # Utilisateurs; mixed « Conserver le numéro » in one dialog.
    rows = rows_for(
        before,
        [
            ("SRV-10021", 2, "utilisateurs"),
            ("SRV-10021", 1, "groupements"),
            ("SRV-10022", 3, "utilisateurs"),
        ],
        [False, True, False, True, False, True],
    )
    batch = write_rows(tmp_path / "batch.csv", rows)
    args = (batch, *UNATTENDED, "--journal", tmp_path / "journal.sqlite")
    args += ("--report", tmp_path / "report")
    cli = BatchCli(tmp_path, portal)
    rng = random.Random("batch-kills")
    stderr: list[str] = []
    history: list[str] = []  # what each run did, for the failure message

    def record(done: subprocess.CompletedProcess[str], what: str) -> None:
        stderr.append(done.stderr)
        rows_seen = [(e["licence"], e["state"]) for e in named(done.stderr, "batch_row")]
        lost = [e.get("problem") for e in named(done.stderr, "valider_unconfirmed")]
        history.append(
            f"{what}: exit {done.returncode}, clicked {clicked(done.stderr)}, "
            f"rows {rows_seen}, lost answers {lost}"
        )

    kills = 0
    for _ in range(2):
        event = rng.choice(["batch_row", "valider_clicking"])
        nth = rng.randint(1, 3)
        run = cli.start(*args)
        reached = run.wait_for_nth(event, nth)
        if reached:
            time.sleep(rng.uniform(0.0, 1.5))  # somewhere after it, not right on it
            run.process.kill()
            kills += 1
        done = run.finish(timeout=600)
        record(done, f"killed after {event} #{nth}" if reached else "ran to its end")
        if not reached:
            break
    # Resumed until it ends; a run that ended is not run again (the next would be a new
    # night, which reads every row again: already done).
    for _ in range(6):
        if done.returncode in (0, 1):
            break
        done = cli(*args)
        record(done, "resumed")

    journal = journal_rows(tmp_path / "journal.sqlite")
    assert done.returncode == 0, "\n".join([*history, str(journal), done.stderr[-3000:]])
    payload = exit_agrees(done)
    assert set(outcomes(payload).values()) == {"done"}, payload["results"]
    assert_portal_is_the_file(before, portal.state(), rows)
    # « Valider »: clicked for every row; each dissociated by one « Valider » the portal
    # accepted, never sent again after it (lost answers are settled by reading; those
    # answered 503 before the portal are sent again after a read, with no cap over runs).
    clicks = Counter(ref for text in stderr for ref in clicked(text))
    assert set(clicks) == {row.licence for row in rows}
    assert_committed_once(portal, [row.licence for row in rows])
    assert {r["licence"]: r["state"] for r in journal} == {row.licence: "done" for row in rows}
    assert all(r["submissions"] >= 1 for r in journal), journal
    assert kills >= 1, "no run was killed: the seeded kill points came after the end"
    # The last run's report covers the rows earlier runs did, killed or not.
    assert_summary_agrees(tmp_path / "report", 0)
    assert_released_listed(tmp_path / "report", before, rows)


# -- 2 and 7. the report of a finished batch; a rerun reads every row, clicks nothing -------


@pytest.mark.longest(20)
def test_a_finished_batch_reports_every_row_and_a_rerun_clicks_nothing(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    rows = rows_for(
        before,
        [("SRV-10021", 2, "utilisateurs"), ("SRV-10022", 1, "utilisateurs")],
        [False, True, False],
    )
    batch = write_rows(tmp_path / "batch.csv", rows, with_number=True)
    journal = tmp_path / "journal.sqlite"
    report = tmp_path / "report"
    cli = BatchCli(tmp_path, replica)

    done = cli(batch, *UNATTENDED, "--journal", journal, "--report", report)

    assert done.returncode == 0, done.stderr[-4000:]
    payload = exit_agrees(done)
    assert outcomes(payload) == {row.licence: "done" for row in rows}
    after = replica.state()
    assert_portal_is_the_file(before, after, rows)

    summary = assert_summary_agrees(report, done.returncode)
    assert summary["counts"] == {"done": 3}
    assert summary["total"] == 3
    assert summary["results"] == payload["results"]  # the same document as --json

    results = read_report_csv(report / "results.csv")
    assert results[0][:6] == ["service", "licence", "keep_number", "number", "outcome", "reason"]
    assert [line[:5] for line in results[1:]] == [
        [r.service, r.licence, r.keep_text, format_number(r.number), "done"] for r in rows
    ]
    clients = {s["ref"]: s["client"] for s in before["services"]}
    assert [line[7] for line in results[1:]] == [clients[r.service] for r in rows]
    assert_released_listed(report, before, rows)

    html = (report / "report.html").read_text(encoding="utf-8")
    for row in rows:
        assert row.licence in html
    anchors = re.findall(r'<a href="#(dialog-\d+)"', html)
    assert len(anchors) == len(rows)  # each row links its dialog ...
    for anchor in set(anchors):  # ... whose screenshot is in the page, once
        assert html.count(f'id="{anchor}"') == 1
    assert html.count("data:image/png;base64,") == len(set(anchors))
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert all(s.startswith(("data:", "#")) for s in sources), sources  # self-contained
    workers = [p for p in report.iterdir() if p.is_dir()]
    assert workers
    assert all("worker-1" in p.name for p in workers)

    # The next night, its results.csv fed back as the file (its outcome and reason columns
    # ignored): the rows of the first night's file, as the journal's digests of them say
    # below, so for the journal the same command again. Its run ended with every row
    # final, so this is a new run: every row is read again from the portal, nothing is
    # clicked, and its own report says what the portal shows now.
    rerun = cli(
        report / "results.csv", *UNATTENDED, "--journal", journal, "--report", tmp_path / "report-2"
    )

    assert rerun.returncode == 0, rerun.stderr[-4000:]
    again = exit_agrees(rerun)
    assert outcomes(again) == {row.licence: "already_done" for row in rows}
    assert (again["finished_before"], again["resumes"]) == (False, None)
    assert [row["submissions"] for row in again["results"]] == [0] * len(rows)
    assert_summary_agrees(tmp_path / "report-2", 0)
    assert clicked(rerun.stderr) == []
    assert len(named(rerun.stderr, "batch_new_run")) == 1
    assert replica.state() == after
    first_night, second_night = run_digests(journal)  # the rows of one file, both nights
    assert first_night is not None
    assert second_night == first_night


def run_digests(journal: Path) -> list[str | None]:
    """The digest of its file's rows that each run recorded in the journal, in order."""
    conn = sqlite3.connect(journal)
    try:
        return [digest for (digest,) in conn.execute("SELECT digest FROM runs ORDER BY id")]
    finally:
        conn.close()


# -- 3. a bad file: every problem named, nothing done (in-process:
# tests/unit/test_batch_command.py) ----------------------------------------------------


# -- interrupted, then resumed: a service that is not « Actif » is refused alone ----------


@pytest.mark.twin(
    "tests/hostile/test_large_files.py::test_a_large_file_reaches_its_first_search_and_stops_on_sigterm",
    "tests/e2e/test_quirks.py::test_a_batch_of_two_services_stopped_and_resumed_ends_as_the_file",
)
def test_sigterm_stops_the_batch_at_a_safe_point_and_the_rerun_refuses_only_the_bad_service(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    rows = rows_for(before, [("SRV-10021", 2, "utilisateurs")], [False, True])
    ((suspended, _),) = pick(before, "SRV-10024", 1)  # « Suspendu »
    lines = [(r.service, r.licence, r.keep_text) for r in rows]
    batch = write_csv(tmp_path / "batch.csv", [*lines, ("SRV-10024", suspended, "non")])
    report = tmp_path / "report"
    args = (batch, *UNATTENDED, "--journal", tmp_path / "j.sqlite", "--report", report)
    cli = BatchCli(tmp_path, replica)

    run = cli.start(*args)
    run.wait_for_event("licence_planned")
    run.send(signal.SIGTERM)
    stopped = run.finish(timeout=600)

    assert stopped.returncode == 143, stopped.stderr[-4000:]
    payload = exit_agrees(stopped)
    assert payload["interrupted"] == "SIGTERM"
    assert set(outcomes(payload).values()) <= {"pending", "planned"}, payload["results"]
    assert_summary_agrees(report, 143)
    assert "Traceback" not in stopped.stderr
    assert clicked(stopped.stderr) == []
    assert replica.state() == before

    rerun = cli(*args)

    assert rerun.returncode == 1, rerun.stderr[-4000:]
    payload = exit_agrees(rerun)
    assert outcomes(payload) == {
        rows[0].licence: "done",
        rows[1].licence: "done",
        suspended: "refused",
    }
    (refusal,) = [r["reason"] for r in payload["results"] if r["licence"] == suspended]
    assert "Suspendu" in refusal
    assert_summary_agrees(report, 1)
    results = {line[1]: line for line in read_report_csv(report / "results.csv")[1:]}
    assert results[suspended][4:6] == ["refused", refusal]
    assert_portal_is_the_file(before, replica.state(), rows)  # SRV-10024's licence untouched
    assert_released_listed(report, before, rows)


def test_a_batch_meeting_a_drifted_portal_stops_at_its_first_service(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    rows = rows_for(
        before,
        [("SRV-10021", 1, "utilisateurs"), ("SRV-10022", 1, "utilisateurs")],
        [False, True],
    )
    replica.test_api("drift", {"rename": {"Valider": "Confirmer"}})
    batch = write_rows(tmp_path / "batch.csv", rows)
    report = tmp_path / "report"
    args = (batch, *UNATTENDED, "--workers", "1", "--journal", tmp_path / "j.sqlite")

    stopped = BatchCli(tmp_path, replica)(*args, "--report", report)

    assert stopped.returncode == 1, stopped.stderr[-4000:]
    payload = exit_agrees(stopped)
    assert "dialog.submit" in payload["error"]["message"]
    assert set(outcomes(payload).values()) <= {"pending", "planned"}, payload["results"]
    assert {e["service"] for e in named(stopped.stderr, "service_opened")} == {"SRV-10021"}
    assert named(stopped.stderr, "service_retried") == []
    assert clicked(stopped.stderr) == []
    assert replica.state() == before
    assert_summary_agrees(report, 1)


# -- refused alone; never "refused" without reading ---------------------------------------


def test_a_dialog_that_does_not_match_the_plan_refuses_its_rows_alone(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    # One row in each tab of SRV-10021: the Utilisateurs dialog will list a wrong number.
    rows = rows_for(
        before,
        [("SRV-10021", 1, "utilisateurs"), ("SRV-10021", 1, "groupements")],
        [False, True],
    )
    misreported, fine = rows
    replica.test_api("misreport", {"licence_ref": misreported.licence, "number": "0299999999"})
    batch = write_rows(tmp_path / "batch.csv", rows)

    done = BatchCli(tmp_path, replica)(
        batch, *UNATTENDED, "--journal", tmp_path / "j.sqlite", "--report", tmp_path / "r"
    )

    assert done.returncode == 1, done.stderr[-4000:]
    payload = exit_agrees(done)
    # The mismatch is that dialog's: Annuler, its row refused; the other tab's row is done.
    assert outcomes(payload) == {misreported.licence: "refused", fine.licence: "done"}
    assert_portal_is_the_file(before, replica.state(), [fine])


def test_a_row_left_submitting_is_not_called_refused_when_its_service_cannot_be_read(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    (row,) = rows_for(before, [("SRV-10021", 1, "utilisateurs")], [False])
    batch = write_rows(tmp_path / "batch.csv", [row])
    journal = tmp_path / "j.sqlite"
    # A run clicked « Valider » (the portal dissociated the licence), then was killed before
    # it read the answer; then the back office suspended the service. The click's request
    # is sent as the portal's page sends it (no browser: it is the set-up, not the test).
    validated = valider_sent(replica, row.service, {row.licence: row.keep})
    assert validated.status_code == 200, validated.text
    assert sdas(replica.state())[row.licence] is None
    journal_left_by_a_killed_run(journal, batch, {row.licence: "submitting"})
    replica.test_api("service-state", {"service_ref": row.service, "state": "Suspendu"})
    portal = replica.state()

    done = BatchCli(tmp_path, replica)(
        batch, *UNATTENDED, "--journal", journal, "--report", tmp_path / "r"
    )

    # The number is gone (quarantine): calling the row "refused" would be false, final,
    # and would leave the number out of numbers-to-terminate.csv. It stays to settle.
    assert done.returncode == 3, done.stderr[-4000:]
    payload = exit_agrees(done)
    assert outcomes(payload)[row.licence] in {"submitting", "unknown"}
    (left,) = journal_rows(journal)
    assert left["state"] in {"submitting", "unknown"}
    assert clicked(done.stderr) == []
    assert replica.state() == portal


def valider_sent(replica: Replica, service: str, keep: dict[str, bool]) -> httpx.Response:
    """The request « Valider » sends for these licences of `service` (their keep values),
    from a session logged in with the replica's credentials: what the portal received
    from a run killed before it read the answer (the classic markup's addresses)."""
    with httpx.Client(base_url=replica.url, timeout=30) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None, form
        home = client.post(
            "/login",
            data={
                "username": replica.username,
                "password": replica.password,
                "csrf_token": token[1],
                "next": "/",
            },
            follow_redirects=True,
        )
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', home.text)
        assert csrf is not None, home.text
        return client.post(
            f"/api/services/{service}/dissociations",
            json={"licences": [{"ref": ref, "keep": kept} for ref, kept in keep.items()]},
            headers={"X-CSRF-Token": csrf[1]},
        )


# -- 4. the lock ------------------------------------------------------------------------


@pytest.mark.twin(
    "tests/unit/test_journal.py::test_the_lock_refuses_a_second_run_and_is_free_once_the_holder_is_sigkilled",
    "tests/unit/test_batch_command.py::test_a_journal_in_use_is_refused_with_exit_5_and_the_documents_error_shape",
)
def test_a_second_run_on_a_journal_in_use_exits_5_and_a_sigkill_leaves_no_stuck_lock(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    rows = rows_for(before, [("SRV-10021", 2, "utilisateurs")], [False, True])
    batch = write_rows(tmp_path / "batch.csv", rows)
    journal = tmp_path / "journal.sqlite"
    cli = BatchCli(tmp_path, replica)
    first = cli.start(batch, *UNATTENDED, "--journal", journal, "--report", tmp_path / "r1")
    try:
        first.wait_for_event("batch_started")

        started = time.monotonic()
        second = cli(batch, *UNATTENDED, "--journal", journal, "--report", tmp_path / "r2")
        took = time.monotonic() - started

        assert second.returncode == 5, second.stderr[-4000:]
        assert first.process.poll() is None, "the second run waited for the first to end"
        assert took < 90  # at once, not after the first run (generous: a busy machine)
        payload = exit_agrees(second)
        assert "another run is using the journal" in payload["error"]["message"]
        assert f"pid {first.process.pid}" in payload["error"]["message"]
        assert "Locked" in second.stderr
        assert named(second.stderr, "browser_found") == []

        first.wait_for_event("valider_clicking")
    finally:
        first.process.kill()
        first.finish(timeout=600)

    third = cli(batch, *UNATTENDED, "--journal", journal, "--report", tmp_path / "r3")

    assert third.returncode == 0, third.stderr[-4000:]
    assert set(outcomes(exit_agrees(third)).values()) == {"done"}
    assert_portal_is_the_file(before, replica.state(), rows)


# -- 5. workers -------------------------------------------------------------------------


def test_three_workers_start_together_and_share_three_services(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    rows = rows_for(
        before,
        [
            ("SRV-10021", 2, "utilisateurs"),
            ("SRV-10022", 1, "utilisateurs"),
            ("SRV-10023", 1, "utilisateurs"),
        ],
        [True, False, True, False],
    )
    batch = write_rows(tmp_path / "batch.csv", rows)
    report = tmp_path / "report"

    done = BatchCli(tmp_path, replica)(
        batch, *UNATTENDED, "--workers", "3", "--journal", tmp_path / "j.sqlite", "--report", report
    )

    assert done.returncode == 0, done.stderr[-4000:]
    assert set(outcomes(exit_agrees(done)).values()) == {"done"}
    assert_portal_is_the_file(before, replica.state(), rows)
    services_by_worker: dict[str, set[str]] = {}
    for folder in report.iterdir():
        match = re.search(r"worker-(\d+)$", folder.name)
        if folder.is_dir() and match:
            shots = [p.name for p in folder.glob("*dialog-before-valider.png")]
            services = {re.sub(r"^\d+-(SRV-\d+)-.*$", r"\1", name) for name in shots}
            services_by_worker.setdefault(match[1], set()).update(services)
    # Workers 2 and 3 start their browsers together once worker 1 has logged in (they
    # once shared one driver wrapper and worker 3 crashed): at least two did some work.
    assert "worker_crashed" not in done.stderr
    assert set(services_by_worker) <= {"1", "2", "3"}, services_by_worker
    assert sum(bool(s) for s in services_by_worker.values()) >= 2, services_by_worker
    assert set().union(*services_by_worker.values()) == {"SRV-10021", "SRV-10022", "SRV-10023"}
    # A service belongs to one worker: no service was worked on by both.
    assert sum(len(s) for s in services_by_worker.values()) == 3, services_by_worker
    # One login for the three: workers 2 and 3 started their browsers meanwhile, then took
    # worker 1's cookies.
    assert len(named(done.stderr, "logged_in")) == 1
    assert sorted(e["worker"] for e in named(done.stderr, "login_handed_over")) == [2, 3]


@pytest.mark.longest(25)
def test_two_workers_share_one_service_each_row_one_owner_killed_and_resumed_exactly(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    # One service, 20 rows: shared 10 + 10 (rules.split_work); the second share holds
    # both tabs' licences (two dialogs), the first only Utilisateurs.
    rows = rows_for(
        before,
        [("SRV-10021", 16, "utilisateurs"), ("SRV-10021", 4, "groupements")],
        [True, False] * 10,
    )
    batch = write_rows(tmp_path / "batch.csv", rows)
    report = tmp_path / "report"
    args = (batch, *UNATTENDED, "--workers", "2", "--journal", tmp_path / "j.sqlite")
    args += ("--report", report)
    # Killed as the first « Valider » is clicked: the other worker is somewhere in its share.
    run = BatchCli(tmp_path, replica).start(*args)
    assert run.wait_for_nth("valider_clicking", 1)
    run.process.kill()
    killed = run.finish(timeout=120)
    split = named(killed.stderr, "work_split")
    assert [(e["asked"], e["workers"], e["split"]) for e in split] == [
        (2, 2, {"SRV-10021": [10, 10]})
    ], split
    left = [r for r in journal_rows(tmp_path / "j.sqlite") if r["state"] != "done"]
    # Resumed with a person's console (the split said on it; the events in events.jsonl).
    done = BatchCli(tmp_path, replica, log_format="console")(*args)

    assert done.returncode == 0, done.stderr[-4000:]
    assert set(outcomes(exit_agrees(done)).values()) == {"done"}
    assert_portal_is_the_file(before, replica.state(), rows)
    # Every licence went through one « Valider » the portal accepted, never again after.
    assert_committed_once(replica, [row.licence for row in rows])
    journal = journal_rows(tmp_path / "j.sqlite")
    assert {r["licence"]: r["state"] for r in journal} == {row.licence: "done" for row in rows}
    resumed = [
        json.loads(line)
        for line in (report / "events.jsonl").read_text(encoding="utf-8").splitlines()
        if line.startswith("{")
    ]
    last = max(i for i, e in enumerate(resumed) if e["event"] == "batch_started")
    resumed = resumed[last:]  # the resumed run's (the folder may keep the killed run's too)
    # In each run, each row was in one dialog at most: the shares never overlap.
    for events_of in (named(killed.stderr, "valider_clicking"), resumed):
        dialogs = [e["licences"] for e in events_of if e["event"] == "valider_clicking"]
        shown = [licence for licences in dialogs for licence in licences]
        assert len(shown) == len(set(shown)), dialogs
    # The resumed run shared what was left, and said so on the console.
    said = [e for e in resumed if e["event"] == "work_split"]
    text = flat(done.stderr)
    if len(left) >= 20:
        half = len(left) // 2
        assert [e["split"] for e in said] == [{"SRV-10021": [len(left) - half, half]}]
        assert f"SRV-10021: its {len(left)} rows are shared by 2 workers" in text, text
    elif left:
        assert [e["workers"] for e in said] == [1], said
        assert "--workers 2: 1 worker starts" in text, text
    assert_summary_agrees(report, 0)


# -- 6. a browser server (playwright launch-server) -----------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_listening(
    port: int, server: subprocess.Popen[bytes], log: Path, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the browser server exited: {log.read_text()[-3000:]}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the browser server never listened on {port}")


def test_a_worker_drives_a_browser_of_a_playwright_launch_server(
    replica: Replica, tmp_path: Path, browser_launch: BrowserLaunch
) -> None:
    port = free_port()
    config: dict[str, Any] = {
        "args": list(browser_launch.args),
        "port": port,
        "host": "127.0.0.1",
        "wsPath": "/pw-test",
        "headless": True,
    }
    if browser_launch.executable_path:
        config["executablePath"] = browser_launch.executable_path
    (tmp_path / "cfg.json").write_text(json.dumps(config))
    # A private temp folder with a short path: Chromium's singleton socket lives there.
    server_tmp = tempfile.TemporaryDirectory(prefix="pws-", ignore_cleanup_errors=True)
    log = (tmp_path / "server.log").open("wb")
    command = [sys.executable, "-m", "playwright", "launch-server", "--browser", "chromium"]
    server = subprocess.Popen(
        [*command, "--config", str(tmp_path / "cfg.json")],
        cwd=tmp_path,
        env=dict(os.environ, TMPDIR=server_tmp.name),
        stdout=log,
        stderr=log,
        start_new_session=True,  # its node and Chromium are stopped with it
    )
    try:
        wait_listening(port, server, tmp_path / "server.log")
        before = replica.state()
        rows = rows_for(before, [("SRV-10021", 2, "utilisateurs")], [True, False])
        batch = write_rows(tmp_path / "batch.csv", rows)
        endpoint = f"ws://127.0.0.1:{port}/pw-test"

        done = BatchCli(tmp_path, replica, browser_endpoint=endpoint)(
            batch, *UNATTENDED, "--journal", tmp_path / "j.sqlite", "--report", tmp_path / "r"
        )

        assert done.returncode == 0, done.stderr[-4000:]
        assert set(outcomes(exit_agrees(done)).values()) == {"done"}
        assert [e["source"] for e in named(done.stderr, "browser_found")] == [endpoint]
        assert_portal_is_the_file(before, replica.state(), rows)
        assert server.poll() is None  # the server's browser is the server's: still there
    finally:
        with_children_stopped(server, server_tmp.name)
        log.close()
        server_tmp.cleanup()


def with_children_stopped(server: subprocess.Popen[bytes], tmp: str) -> None:
    """Stop the server's session (python, node), then the Chromium it launched in a process
    group of its own: the processes whose command line names the server's own temp folder."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, signum)
        except ProcessLookupError:
            break
        try:
            server.wait(timeout=20)
            break
        except subprocess.TimeoutExpired:
            continue
    server.wait(timeout=20)
    deadline = time.monotonic() + 20
    while (left := processes_using(tmp)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_an_unreachable_browser_server_is_a_clear_error_and_changes_nothing(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    batch = write_csv(tmp_path / "batch.csv", [("SRV-10021", "FPC367131", "oui")])
    endpoint = f"ws://127.0.0.1:{free_port()}/pw-test"

    failed = BatchCli(tmp_path, replica, browser_endpoint=endpoint)(
        batch, *UNATTENDED, "--journal", tmp_path / "j.sqlite", "--report", tmp_path / "r"
    )

    assert failed.returncode in (2, 3), failed.stderr[-4000:]
    payload = exit_agrees(failed)
    assert "MYOPENIP_BROWSER_ENDPOINT" in payload["error"]["message"]
    assert endpoint in payload["error"]["message"]
    assert "Traceback" not in failed.stderr
    assert outcomes(payload) == {"FPC367131": "pending"}
    # One browser that cannot be reached is not "--max-failures technical failures in a row".
    assert payload["stopped_after_failures"] is False
    assert replica.state() == before


# -- 8. a journal that is not ours, a report folder that cannot be written -------------------


def _text_journal(path: Path) -> None:
    path.write_text("my notes: not a journal\n")


def _other_apps_db(path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('Durand', '0231456789')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_text_journal, "not a journal"),
        (_other_apps_db, "not a myopenip journal"),
        (lambda path: path.mkdir(), "journal"),
    ],
    ids=["text-file", "other-apps-sqlite", "a-folder"],
)
def test_a_journal_that_is_not_ours_is_refused_with_exit_2_and_left_untouched(
    replica: Replica, tmp_path: Path, make: Callable[[Path], None], says: str
) -> None:
    journal = tmp_path / "journal.sqlite"
    make(journal)
    kept = file_state(journal) if journal.is_file() else None
    batch = write_csv(tmp_path / "batch.csv", [("SRV-10021", "FPC367131", "oui")])
    before = replica.state()

    refused = BatchCli(tmp_path, replica)(
        batch, *UNATTENDED, "--journal", journal, "--report", tmp_path / "r"
    )

    assert refused.returncode == 2, refused.stderr[-4000:]
    payload = exit_agrees(refused)
    assert says in payload["error"]["message"]
    assert str(journal) in payload["error"]["message"]
    assert "Traceback" not in refused.stderr
    assert named(refused.stderr, "browser_found") == []
    if journal.is_file():
        assert file_state(journal) == kept
    else:
        assert list(journal.iterdir()) == []
    assert replica.state() == before


def test_a_report_folder_that_cannot_be_written_is_refused_with_exit_2(
    replica: Replica, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("a file, not a folder")
    report = tmp_path / "a-file" / "report"
    batch = write_csv(tmp_path / "batch.csv", [("SRV-10021", "FPC367131", "oui")])
    before = replica.state()

    refused = BatchCli(tmp_path, replica)(
        batch, *UNATTENDED, "--journal", tmp_path / "j.sqlite", "--report", report
    )

    assert refused.returncode == 2, refused.stderr[-4000:]
    payload = exit_agrees(refused)
    assert "--report" in payload["error"]["message"]
    assert str(report) in payload["error"]["message"]
    assert "Traceback" not in refused.stderr
    assert named(refused.stderr, "browser_found") == []
    assert not (tmp_path / "j.sqlite").exists()
    assert replica.state() == before


# -- 9. a dry run ---------------------------------------------------------------------


def test_a_dry_run_changes_nothing_and_creates_no_journal(replica: Replica, tmp_path: Path) -> None:
    before = replica.state()
    rows = rows_for(before, [("SRV-10021", 2, "utilisateurs")], [True, False])
    lines = [(r.service, r.licence, r.keep_text) for r in rows]
    batch = write_csv(tmp_path / "batch.csv", [*lines, ("SRV-10021", "FPC999999", "non")])
    cli = BatchCli(tmp_path, replica)

    done = cli(batch, "--dry-run", "--json", "--report", tmp_path / "r")

    assert done.returncode == 1, done.stderr[-4000:]  # the unknown licence is refused
    payload = exit_agrees(done)
    assert outcomes(payload) == {
        rows[0].licence: "would_do",
        rows[1].licence: "would_do",
        "FPC999999": "refused",
    }
    assert payload["dry_run"] is True
    assert payload["journal"] is None
    assert clicked(done.stderr) == []
    assert replica.state() == before
    journals = tmp_path / ".myopenip" / "journals"
    assert not journals.exists() or list(journals.iterdir()) == []
    assert [p for p in tmp_path.rglob("*.sqlite*")] == []


def test_a_dry_run_after_a_killed_run_never_writes_the_real_journal(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    rows = rows_for(before, [("SRV-10021", 1, "utilisateurs")], [False])
    batch = write_rows(tmp_path / "batch.csv", rows)
    journal = tmp_path / "journal.sqlite"
    # A run SIGKILLed after it planned the row: its journal is left as a kill leaves it.
    journal_left_by_a_killed_run(journal, batch, {rows[0].licence: "planned"})
    files = ("journal.sqlite", "journal.sqlite-wal")
    kept = {name: file_state(tmp_path / name) for name in files}

    done = BatchCli(tmp_path, replica)(
        batch, "--dry-run", "--json", "--journal", journal, "--report", tmp_path / "r"
    )

    assert done.returncode == 0, done.stderr[-4000:]
    assert outcomes(exit_agrees(done)) == {rows[0].licence: "would_do"}
    assert clicked(done.stderr) == []
    assert replica.state() == before
    assert {name: file_state(tmp_path / name) for name in files} == kept
    (row,) = journal_rows(journal)
    assert (row["licence"], row["state"]) == (rows[0].licence, "planned")


# -- 10. the question, in a terminal: Ctrl-C or Ctrl-D is no --------------------------------


@pytest.mark.cells
@pytest.mark.parametrize("keys", [b"\x03", b"\x04"], ids=["ctrl-c", "ctrl-d"])
def test_ctrl_c_or_ctrl_d_at_the_batch_prompt_is_no_exit_4_without_a_traceback(
    replica: Replica, tmp_path: Path, keys: bytes
) -> None:
    before = replica.state()
    rows = rows_for(
        before,
        [("SRV-10021", 2, "utilisateurs"), ("SRV-10022", 1, "utilisateurs")],
        [False, True, False],
    )
    batch = write_rows(tmp_path / "batch.csv", rows)
    report = tmp_path / "report"
    terminal = Terminal(
        BatchCli(tmp_path, replica),
        batch, "--journal", tmp_path / "j.sqlite", "--report", report,
        columns=100, lines=50,
    )  # fmt: skip

    terminal.expect(PROMPT_HINT)
    asked = terminal.screen
    terminal.type(keys)
    code = terminal.wait()

    assert code == 4, terminal.screen
    assert "Traceback" not in terminal.screen
    assert terminal.screen.count(PROMPT_HINT) == 1
    # The question lists every row per service: those read with their number, the others.
    flat = " ".join(asked.split())
    for row in rows:
        assert row.licence in flat
    for row in rows[:2]:  # SRV-10021, read first
        assert f"{row.licence} │ {format_number(row.number)}" in flat
    assert "read before its « Valider »" in flat  # SRV-10022's row
    # The prompt has a line of its own: the progress bar stopped before the question.
    (line,) = [line for line in asked.split("\n") if PROMPT_HINT in line]
    assert line.strip() == PROMPT_HINT, line
    assert replica.state() == before
    summary = assert_summary_agrees(report, 4)
    assert {row["outcome"] for row in summary["results"]} == {"not_confirmed"}
    assert all(row["reason"] for row in summary["results"])


# -- 11. plan, approve, apply: the run does exactly the approved plan -----------------------

SCHEMA = json.loads(
    (Path(myopenip.__file__).parent / "schemas" / "batch.schema.json").read_text(encoding="utf-8")
)


def valid(payload: dict[str, Any]) -> dict[str, Any]:
    jsonschema.Draft202012Validator(SCHEMA).validate(payload)
    return payload


@pytest.fixture
def portal_on_file(tmp_path: Path) -> Iterator[tuple[Replica, Path]]:
    """A replica whose database is a file: a test changes a licence's number there, as the
    operator's back office would between the plan and its run. One markup, as every
    command test: the runner reads both (tests/e2e, a batch of each in test_quirks.py)."""
    database = tmp_path / "portal.sqlite"
    with run_replica("--db", str(database), delays=False) as replica:
        yield replica, database


def give_a_new_number(database: Path, licence: str, old: str, new: str) -> None:
    conn = sqlite3.connect(database)
    try:
        (account,) = conn.execute("SELECT account FROM numbers WHERE number = ?", (old,)).fetchone()
        conn.execute(
            "UPDATE numbers SET state = 'available', licence_ref = NULL WHERE number = ?", (old,)
        )
        conn.execute("UPDATE licences SET sda = ? WHERE ref = ?", (new, licence))
        conn.execute("INSERT INTO numbers VALUES (?, ?, 'assigned', ?)", (new, account, licence))
        conn.commit()
    finally:
        conn.close()


def give_a_number(database: Path, licence: str, new: str) -> None:
    """A licence without a number (freed by an earlier night) given `new` by the back office."""
    conn = sqlite3.connect(database)
    try:
        (account,) = conn.execute(
            "SELECT clients.account FROM licences JOIN services ON services.ref ="
            " licences.service_ref JOIN clients ON clients.id = services.client_id"
            " WHERE licences.ref = ?",
            (licence,),
        ).fetchone()
        conn.execute("UPDATE licences SET sda = ? WHERE ref = ?", (new, licence))
        conn.execute("INSERT INTO numbers VALUES (?, ?, 'assigned', ?)", (new, account, licence))
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[[Replica, list[str | Path]], tuple[int, dict[str, Any]]]]:
    """`myopenip batch ARGS --json` in this process against a replica: (exit code, JSON)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("MYOPENIP_") and name != "MYOPENIP_BROWSER_PATH":
            monkeypatch.delenv(name)

    def run(replica: Replica, args: list[str | Path]) -> tuple[int, dict[str, Any]]:
        settings = {
            "BASE_URL": replica.url,
            "USERNAME": replica.username,
            "PASSWORD": replica.password,  # a run takes it out of os.environ: set each time
            "TRACES_DIR": str(tmp_path / "traces"),
            "STATE_FILE": str(tmp_path / "private" / "state.json"),
            "LOG_FORMAT": "json",
            "TIMEOUT_MS": "15000",
            "TRACE": "off",  # as the processes the other tests start (cli_env)
        }
        for name, value in settings.items():
            monkeypatch.setenv(f"MYOPENIP_{name}", value)
        for name, value in shared_browser().items():  # as cli_env: the worker's server
            monkeypatch.setenv(name, value)
        code = main(["batch", *(str(a) for a in args), "--json"])
        out = capsys.readouterr().out
        payload: dict[str, Any] = json.loads(out)
        assert payload["exit_code"] == code
        return code, valid(payload)

    yield run
    structlog.reset_defaults()


@pytest.mark.longest(34)
def test_a_dry_runs_plan_once_approved_is_done_exactly_but_the_row_that_changed_since(
    portal_on_file: tuple[Replica, Path],
    tmp_path: Path,
    in_process: Callable[[Replica, list[str | Path]], tuple[int, dict[str, Any]]],
) -> None:
    replica, database = portal_on_file
    before = replica.state()
    rows = rows_for(
        before,
        [("SRV-10021", 2, "utilisateurs"), ("SRV-10021", 1, "groupements")],
        [False, True, False],
    )
    # The portal's own words as headers, separated by tabs, no numbers; and a service ref
    # that is well formed but unknown.
    file = tmp_path / "licences.csv"
    lines = [f"{r.service}\t{r.licence}\t{'Oui' if r.keep else 'Non'}" for r in rows]
    lines.append("SRV-10092\tFPC999991\tNon")
    header = "Réf. du service\tLicence\tConserver le numéro"
    file.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")

    code, dry = in_process(replica, [file, "--dry-run", "--report", tmp_path / "plan"])

    assert code == 1  # the unknown service
    assert replica.state() == before
    by_licence = {row["licence"]: row for row in dry["results"]}
    assert {r.licence: by_licence[r.licence]["outcome"] for r in rows} == {
        r.licence: "would_do" for r in rows
    }
    assert by_licence["FPC999991"]["outcome"] == "refused"
    assert "the closest refs the services list shows: SRV-" in by_licence["FPC999991"]["reason"]
    assert dry["journal"] is None
    types = {lic["ref"]: lic["type"] for lic in before["licences"]}
    plan = Path(dry["plan"])
    planned = read_batch_file(plan)
    assert [(p.licence, p.keep, p.number) for p in planned] == [
        (r.licence, r.keep, r.number) for r in rows
    ]
    plan_lines = read_report_csv(plan)[1:]
    assert [line[6] for line in plan_lines] == [types[r.licence] for r in rows]
    assert all(line[4] and line[7] for line in plan_lines)  # service name, user
    html = (tmp_path / "plan" / "report.html").read_text(encoding="utf-8")
    anchors = re.findall(r'<a href="#(dialog-\d+)"', html)
    assert len(anchors) == len(rows)  # every row would do, in a dialog it links ...
    assert len(set(anchors)) == 2  # ... one per tab, whose screenshot the page holds
    assert html.count("data:image/png;base64,") == 2
    assert ".sqlite" not in html  # a dry run names no journal: it wrote none

    # Between the plan and its run, the back office gives the first licence another number.
    changed = rows[0]
    give_a_new_number(database, changed.licence, changed.number, "0299999901")
    after_change = replica.state()

    code, applied = in_process(
        replica, [plan, "--yes", "--journal", tmp_path / "j.sqlite", "--report", tmp_path / "r"]
    )

    assert code == 1
    results = {row["licence"]: row for row in applied["results"]}
    assert {licence: row["outcome"] for licence, row in results.items()} == {
        changed.licence: "refused",
        rows[1].licence: "done",
        rows[2].licence: "done",
    }
    assert "02 99 99 99 01" in results[changed.licence]["reason"]
    assert results[changed.licence]["number"] == "02 99 99 99 01"  # the number read
    assert results[changed.licence]["number_in_file"] == format_number(changed.number)
    assert [results[r.licence]["as_approved"] for r in rows] == [False, True, True]
    assert_portal_is_the_file(after_change, replica.state(), rows[1:])
    text = " ".join(
        re.sub(r"<[^>]+>", " ", (tmp_path / "r" / "report.html").read_text("utf-8")).split()
    )
    assert "Rows given with their number (a plan's): 2 of 3 done with that number" in text

    # The next night, the same plan (the same path, the same journal): a new run, every row
    # read again. The licence it freed has a new number since: refused, not as approved;
    # the one it freed and still free: already done. Never exit 0 with them untouched.
    give_a_number(database, rows[1].licence, "0299999902")
    before_night = replica.state()

    code, night = in_process(
        replica, [plan, "--yes", "--journal", tmp_path / "j.sqlite", "--report", tmp_path / "r2"]
    )

    assert code == 1
    assert (night["finished_before"], night["resumes"]) == (False, None)
    results = {row["licence"]: row for row in night["results"]}
    assert {licence: row["outcome"] for licence, row in results.items()} == {
        changed.licence: "refused",
        rows[1].licence: "refused",
        rows[2].licence: "already_done",
    }
    assert "02 99 99 99 02" in results[rows[1].licence]["reason"]
    assert [results[r.licence]["as_approved"] for r in rows] == [False, False, False]
    assert replica.state() == before_night  # nothing sent


@pytest.mark.twin(
    "tests/unit/test_nights.py::test_a_new_night_puts_final_rows_back_to_pending_and_keeps_the_open_ones",
    "tests/unit/test_nights.py::test_only_a_portal_that_answered_a_login_binds_the_journal",
    "tests/commands/test_batch.py::test_a_dry_runs_plan_once_approved_is_done_exactly_but_the_row_that_changed_since",
)
def test_the_same_inbox_two_nights_running_acts_on_a_licence_renumbered_in_between(
    portal_on_file: tuple[Replica, Path],
    tmp_path: Path,
    in_process: Callable[[Replica, list[str | Path]], tuple[int, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cron line of docs/scheduling.md, `myopenip batch inbox/licences.csv --yes`, every
    night with its journal by the file's path: a licence freed one night and given a new
    number since is freed again the next night, never exit 0 with it untouched. The first
    night began on a URL where nothing answered: that binds the journal to nothing."""
    replica, database = portal_on_file
    before = replica.state()
    rows = rows_for(before, [("SRV-10022", 2, "utilisateurs")], [False, True])
    inbox = tmp_path / "inbox" / "licences.csv"
    inbox.parent.mkdir()
    write_rows(inbox, rows)
    nowhere = dataclasses.replace(replica, url=f"http://127.0.0.1:{free_port()}")

    monkeypatch.setenv("MYOPENIP_STARTUP_TIMEOUT", "0")  # not waited for
    code, down = in_process(nowhere, [inbox, "--yes"])
    monkeypatch.delenv("MYOPENIP_STARTUP_TIMEOUT")
    code_1, night_1 = in_process(replica, [inbox, "--yes"])

    assert code not in (0, 1, 2)  # a technical failure: not "nothing to do", not refused
    assert {row["outcome"] for row in down["results"]} == {"pending"}
    assert code_1 == 0  # the right URL: not refused as another portal's journal
    assert night_1["journal"] == down["journal"]
    assert night_1["resumes"] is not None  # the run that reached nothing, rows left to do
    assert outcomes(night_1) == {row.licence: "done" for row in rows}
    assert_portal_is_the_file(before, replica.state(), rows)

    # Between two nights, the back office gives the first licence a new number.
    renumbered = Row(rows[0].service, rows[0].licence, rows[0].keep, "0299999911")
    give_a_number(database, renumbered.licence, renumbered.number)
    between = replica.state()

    code_2, night_2 = in_process(replica, [inbox, "--yes"])

    assert code_2 == 0
    assert (night_2["resumes"], night_2["finished_before"]) == (None, False)
    assert outcomes(night_2) == {rows[0].licence: "done", rows[1].licence: "already_done"}
    assert night_2["results"][0]["number"] == "02 99 99 99 11"
    assert night_2["results"][0]["submissions"] == 1  # this night's « Valider »
    assert_portal_is_the_file(between, replica.state(), [renumbered])


@pytest.mark.twin(
    "tests/e2e/test_back_end.py::test_a_batch_stopped_while_the_portal_works_resumes_without_a_second_valider",
    "tests/commands/test_dissociate_edges.py::test_a_dissociation_the_portal_has_not_shown_in_time_exits_6_and_is_never_sent_again",
    "tests/unit/test_journal.py::test_submitting_is_on_disk_when_it_returns",
)
def test_a_batch_killed_while_the_portal_works_is_never_sent_again_and_ends_done(
    replica: Replica, tmp_path: Path
) -> None:
    """SIGKILL during the wait for the portal to show what it accepted: the journal and
    the records already say "accepted"; the reruns read, never click, until it shows."""
    replica.quirks("late-completion=600")  # the back end is done when the test says so
    before = replica.state()
    rows = rows_for(before, [("SRV-10022", 2, "utilisateurs")], [True, False])
    batch = write_rows(tmp_path / "batch.csv", rows)
    args = (batch, *UNATTENDED, "--journal", tmp_path / "journal.sqlite")
    cli = BatchCli(tmp_path, replica, completion_timeout="2")

    run = cli.start(*args)
    assert run.wait_for_nth("completion_awaited", 1)
    run.process.kill()
    run.finish()
    waiting = cli(*args)
    replica.test_api("complete")
    done = cli(*args)

    assert waiting.returncode == 6, waiting.stderr[-3000:]
    assert set(outcomes(exit_agrees(waiting)).values()) == {"in_progress"}
    assert clicked(waiting.stderr) == []
    assert done.returncode == 0, done.stderr[-3000:]
    assert set(outcomes(exit_agrees(done)).values()) == {"done"}
    assert replica.submitted() == [[row.licence for row in rows]]  # one dialog, once
    assert_portal_is_the_file(before, replica.state(), rows)
