"""The command tests' runs connect to their worker's browser server (tests/support/
browser_server.py): what holds for that server if the other tests are to mean what they say.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import browser_server
import pytest
from cli_support import OWN_BROWSER, Cli, exit_agrees, named

from myopenip.replica import Replica

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("TESTS_BROWSER_SERVER") == "0", reason="TESTS_BROWSER_SERVER=0: no server"
    ),
]

DRY_RUN = ("--licence", "FPC367128", "--keep-number", "--dry-run", "--json")


def test_a_run_connects_to_the_workers_server_unless_it_asks_for_its_own(
    replica: Replica, tmp_path: Path
) -> None:
    (tmp_path / "connected").mkdir()
    (tmp_path / "own").mkdir()
    connected = Cli(tmp_path / "connected", replica)(*DRY_RUN)
    own = Cli(tmp_path / "own", replica, **OWN_BROWSER)(*DRY_RUN)

    assert connected.returncode == 0, connected.stderr[-3000:]
    assert own.returncode == 0, own.stderr[-3000:]
    assert exit_agrees(connected)["results"] == exit_agrees(own)["results"]
    (found,) = named(connected, "browser_found")
    assert found["source"] == browser_server.endpoint()
    (launched,) = named(own, "browser_found")
    assert not launched["source"].startswith("ws://")


def test_a_sigkilled_run_leaves_no_page_open_in_the_server(
    replica: Replica, tmp_path: Path
) -> None:
    browser_server.endpoint()  # started before the run, to count its pages
    before = browser_server.renderers()
    cli = Cli(tmp_path, replica)
    run = cli.start("--licence", "FPC367128", "--keep-number", "--dry-run")

    run.wait_for_event("session_started")  # its context and page open
    assert browser_server.renderers() > before
    run.process.kill()
    run.finish()

    deadline = time.monotonic() + 30
    while browser_server.renderers() > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert browser_server.renderers() == before  # the dropped connection's contexts closed
    again = cli(*DRY_RUN)
    assert again.returncode == 0, again.stderr[-3000:]
