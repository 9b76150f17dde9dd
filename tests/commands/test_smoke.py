"""`myopenip smoke` and its pytest suite against the replica (the e2e tests walk both
markups and the portals' quirks in-process): every check
passes on a portal as the spec says, one fails naming its selector key on each drift the
replica can be told to make, and the portal is never changed — not even by a failed run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from cli_support import Cli
from playwright.sync_api import Page

from myopenip.replica import Replica
from myopenip_bot.smoke.checks import CHECKS
from myopenip_bot.smoke.guard import NetworkGuard

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def smoke(cli: Cli, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "myopenip", "smoke", *args],
        cwd=cli.cwd,
        env=cli.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def unchanged(state: dict[str, Any]) -> dict[str, Any]:
    """What a read-only run must leave exactly as it was."""
    return {key: state[key] for key in ("services", "licences", "numbers", "audit")}


def cases(junit: Path) -> list[ET.Element]:
    return list(ET.parse(junit).getroot().iter("testcase"))


def test_smoke_passes_on_the_replica_with_one_junit_case_per_check(
    replica: Replica, tmp_path: Path
) -> None:
    before = unchanged(replica.state())

    done = smoke(Cli(tmp_path, replica), "--junit-xml", str(tmp_path / "smoke.xml"), "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    payload = json.loads(done.stdout)
    assert payload["exit_code"] == 0
    assert [check["id"] for check in payload["checks"]] == [spec.id for spec in CHECKS]
    assert payload["counts"]["failed"] == 0
    found = cases(tmp_path / "smoke.xml")
    assert len(found) == len(CHECKS)
    assert not [case for case in found if case.find("failure") is not None]
    # Every skip says why.
    for case in found:
        skipped = case.find("skipped")
        if skipped is not None:
            assert skipped.get("message")
    assert unchanged(replica.state()) == before
    run_dir = Path(payload["run_dir"])
    assert len(list(run_dir.glob("*.png"))) >= 6  # a screenshot of each screen


@pytest.mark.parametrize(
    ("rename", "failing", "named"),
    [
        ({"Valider": "Confirmer"}, "Dissociation dialog: dialog.submit", 'button "Confirmer"'),
        ({"SDA": "Numéro SDA"}, "Utilisateurs tab: licences.number_filter", "Numéro SDA"),
        (
            {"Pensez à résilier le numéro": "N'oubliez pas de résilier le numéro"},
            "Dissociation dialog: dialog.warnings",
            "Pensez à résilier le numéro",
        ),
    ],
    ids=["valider-renamed", "sda-filter-renamed", "warning-reworded"],
)
def test_a_drift_fails_the_check_of_its_selector_key_naming_what_shows(
    replica: Replica, tmp_path: Path, rename: dict[str, str], failing: str, named: str
) -> None:
    replica.test_api("drift", {"rename": rename})
    before = unchanged(replica.state())

    done = smoke(Cli(tmp_path, replica), "--junit-xml", str(tmp_path / "smoke.xml"), "--json")

    assert done.returncode == 1, done.stdout + done.stderr
    failed = {
        c["id"]: c["message"] for c in json.loads(done.stdout)["checks"] if c["status"] == "failed"
    }
    assert failing in failed, failed
    key = failing.split(": ", 1)[1]
    assert failed[failing].startswith(key + ":")
    assert named in failed[failing]
    junit_failures = {
        f"{case.get('classname', '').removeprefix('smoke.')}: {case.get('name')}": case
        for case in cases(tmp_path / "smoke.xml")
        if case.find("failure") is not None
    }
    assert failing in junit_failures
    failure = junit_failures[failing].find("failure")
    assert failure is not None
    assert key in (failure.get("message") or "")
    assert unchanged(replica.state()) == before  # a failed smoke changes nothing either


def test_the_pytest_suite_runs_against_a_replica_started_outside_pytest(
    replica: Replica, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, replica)
    env = {k: v for k, v in cli.env.items() if k != "MYOPENIP_BASE_URL"}
    before = unchanged(replica.state())

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--pyargs",
            "myopenip_bot.smoke_suite",
            "--base-url",
            replica.url,
            "--tracing",
            "retain-on-failure",
            "--output",
            str(tmp_path / "results"),
            "--junitxml",
            str(tmp_path / "suite.xml"),
        ],
        cwd=tmp_path,  # not the project: QA's own CI
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = cases(tmp_path / "suite.xml")
    assert len(found) == len(CHECKS)
    assert not [case for case in found if case.find("failure") is not None]
    assert unchanged(replica.state()) == before


def test_the_network_guard_aborts_any_request_that_is_not_a_read(
    page: Page, replica: Replica
) -> None:
    page.goto(replica.url)
    guard = NetworkGuard(page.context)
    guard.install()

    posted = page.evaluate(
        "() => fetch('/logout', {method: 'POST'}).then(() => 'sent', () => 'aborted')"
    )
    read = page.evaluate("() => fetch('/').then((r) => r.status, () => 'aborted')")

    assert posted == "aborted"
    assert read in (200, 303)
    assert [v.split(" ")[0] for v in guard.violations] == ["POST"]


def test_the_guard_lets_one_announced_request_through_and_no_second(
    page: Page, replica: Replica
) -> None:
    page.goto(replica.url)
    guard = NetworkGuard(page.context)
    guard.install()
    guard.allow_one()

    first = page.evaluate(
        "() => fetch('/nowhere', {method: 'POST'}).then(() => 'sent', () => 'aborted')"
    )
    second = page.evaluate(
        "() => fetch('/nowhere', {method: 'POST'}).then(() => 'sent', () => 'aborted')"
    )

    assert (first, second) == ("sent", "aborted")
    assert len(guard.violations) == 1
