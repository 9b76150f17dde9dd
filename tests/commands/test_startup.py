"""A run's start as a scheduler meets it: a refused login remembered between runs (never
the password), and a portal that comes up after the job started waited for.

Every run here is a real process driving a real Chromium against the real replica.
"""

from __future__ import annotations

import json
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import forked
import pytest
from cli_support import Cli, exit_agrees, named

from myopenip.replica import Replica

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DRY_RUN = ("--licence", "FPC367128", "--keep-number", "--dry-run", "--json")
WRONG = "wr0ng-Pw"


def refusals_file(tmp_path: Path) -> Path:
    return tmp_path / ".myopenip" / "work" / "refused-logins.json"  # MYOPENIP_WORK_DIR's


def test_six_wrong_password_runs_save_no_session_never_lock_the_account_and_the_right_one_works(
    replica: Replica, tmp_path: Path
) -> None:
    portal = replica  # the session's: its reset left nobody locked, no failure counted
    wrong = Cli(tmp_path, portal, password=WRONG)

    runs = [wrong(*DRY_RUN) for _ in range(6)]

    first, *later = runs
    assert first.returncode == 2, first.stderr[-3000:]
    assert exit_agrees(first)["error"]["kind"] == "authentication"
    assert "Il vous reste 4 tentatives" in first.stderr  # the portal counted one failure
    for run in later:
        assert run.returncode == 2, run.stderr[-3000:]
        message = exit_agrees(run)["error"]["message"]
        assert "--retry-login" in message
        assert portal.url in message
        assert portal.username in message
        assert not named(run, "browser_found")  # not tried: no browser even started
        assert WRONG not in run.stdout + run.stderr
    record = refusals_file(tmp_path)
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert WRONG not in record.read_text(encoding="utf-8")

    # --retry-login tries once more: the portal counts its second failure only.
    retried = wrong(*DRY_RUN, "--retry-login")
    assert retried.returncode == 2, retried.stderr[-3000:]
    assert "Il vous reste 3 tentatives" in retried.stderr
    assert not wrong.state_file.exists()  # a refused login saves no session

    right = Cli(tmp_path, portal)(*DRY_RUN)  # the replica's own password
    assert right.returncode == 0, right.stderr[-3000:]
    assert json.loads(record.read_text(encoding="utf-8"))["records"] == []  # forgotten


def test_every_command_that_logs_in_knows_the_refusal_and_takes_retry_login(
    replica: Replica, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, replica, password=WRONG)
    (tmp_path / "rows.csv").write_text("service;licence;conserver\n", encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "myopenip", *args]
        return forked.run(argv, cwd=tmp_path, env=cli.env, timeout=300)

    first = run("find", "--client", "Normandie Logistique", "--json")
    assert first.returncode == 2, first.stderr[-3000:]
    assert "Il vous reste 4 tentatives" in first.stderr

    for args in (
        ("find", "--client", "Normandie Logistique", "--json"),
        ("smoke", "--json"),
        ("batch", "rows.csv", "--dry-run", "--json"),
    ):
        again = run(*args)
        assert again.returncode == 2, (args, again.stderr[-3000:])
        assert "--retry-login" in again.stdout + again.stderr, args
        assert not named(again, "browser_found"), args
        assert "--retry-login" in run(args[0], "--help").stdout


def free_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on (yet)
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_portal_that_comes_up_after_the_job_started_is_waited_for(
    replica_factory: Callable[..., Replica], tmp_path: Path
) -> None:
    port = free_port()
    cli = Cli(
        tmp_path,
        None,
        base_url=f"http://127.0.0.1:{port}",
        username="demo",
        password="demo",
        startup_timeout="30",
    )
    running = cli.start(*DRY_RUN)
    first = running.wait_for_event("step_retried", timeout=60)  # connection refused
    assert first["step"] == "opening the portal"
    assert 0 < first["seconds_left"] <= 30
    started = time.monotonic()
    time.sleep(5)  # allowed: the portal comes up a while after the job started
    replica_factory("--port", str(port), delays=False)

    done = running.finish()

    assert done.returncode == 0, done.stderr[-4000:]
    assert exit_agrees(done)["results"][0]["outcome"] == "would_do"
    retries = named(done, "step_retried")
    assert len(retries) > 3  # more than the policy's three attempts
    assert [r["attempt"] for r in retries] == list(range(2, len(retries) + 2))
    assert time.monotonic() - started < 30


def test_a_sigterm_while_the_portal_is_waited_for_stops_the_run_at_once(tmp_path: Path) -> None:
    cli = Cli(
        tmp_path,
        None,
        base_url=f"http://127.0.0.1:{free_port()}",
        username="demo",
        password="demo",
        startup_timeout="600",
    )
    running = cli.start(*DRY_RUN)
    running.wait_for_event("step_retried", timeout=60)
    threading.Event().wait(2)  # allowed: into the backoff's longer waits
    sent = time.monotonic()

    running.send(signal.SIGTERM)
    done = running.finish(timeout=30)

    assert done.returncode == 128 + signal.SIGTERM, done.stderr[-4000:]
    assert time.monotonic() - sent < 10
    assert exit_agrees(done)["interrupted"] == "SIGTERM"
    assert "Traceback" not in done.stderr
