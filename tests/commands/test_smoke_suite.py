"""The smoke's pytest suite with pytest-playwright's options, as QA's CI runs it: a process
outside the project. What it cannot honour is refused at start (exit 2, naming what it
supports); the exit codes hold under `-n 2`; ids read as the checks' names, `-k` selects
by them and the verdict is the selected checks'; each test its check's time; a failed
test's artifacts in its own folder under --output, attached by a relative path.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_support import Cli

from myopenip.replica import Replica
from myopenip_bot.smoke.checks import CHECKS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# A check with an accent in its name (-k Paramétrage selects it), and a drift of its own.
COLUMNS = "test_smoke[chromium-Paramétrage / Monitoring: texts.service_columns]"


def suite(cli: Cli, base_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Without the command's settings, and without a display: headless, as on a CI runner.
    dropped = ("MYOPENIP_BASE_URL", "MYOPENIP_NOTIFY", "DISPLAY", "WAYLAND_DISPLAY")
    environ = {k: v for k, v in cli.env.items() if k not in dropped}
    return subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"),
            *("--pyargs", "myopenip_bot.smoke_suite", "--base-url", base_url, *args),
        ],
        cwd=cli.cwd,
        env=environ | env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def unreachable() -> str:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--browser", "firefox"), "--browser chromium"),
        (("--browser", "webkit", "-n", "2"), "--browser chromium"),
        (("--headed",), "DISPLAY"),
    ],
)
def test_what_the_suite_cannot_honour_is_refused_at_start_naming_what_it_supports(
    tmp_path: Path, args: tuple[str, ...], named: str
) -> None:
    cli = Cli(tmp_path, None, base_url=unreachable(), username="demo", password="demo")
    started = time.monotonic()
    done = suite(cli, unreachable(), *args)
    took = time.monotonic() - started

    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "myopenip smoke suite:" in done.stderr
    assert named in done.stderr
    assert "Chromium" in done.stderr or "display" in done.stderr
    assert took < 15  # no browser launched, nothing waited for (about 1 s on an idle machine)
    assert not (tmp_path / "test-results").exists()


def test_an_unreachable_portal_exits_3_under_xdist_too(tmp_path: Path) -> None:
    url = unreachable()
    cli = Cli(tmp_path, None, base_url=url, username="demo", password="demo", startup_timeout="0")

    done = suite(cli, url, "-n", "2", "--junitxml", str(tmp_path / "suite.xml"))

    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
    root = ET.parse(tmp_path / "suite.xml").getroot()
    assert sum(int(s.get("errors") or 0) for s in root.iter("testsuite")) > 0


def test_k_selects_by_the_checks_names_and_the_verdict_is_theirs(
    replica: Replica, tmp_path: Path
) -> None:
    """A drift on the first screen past the navigation (a column of « Paramétrage /
    Monitoring », no gate: every check of that screen still runs), so that the runs here
    walk no further than that screen."""
    replica.test_api("drift", {"rename": {"Nom du service": "Libellé du service"}})
    cli = Cli(tmp_path, replica, trace="off")
    junit = tmp_path / "suite.xml"

    # The drift is outside the selection: its verdict is not this run's; no screenshot asked.
    others = suite(cli, replica.url, "-k", "Login or Navigation", "--screenshot", "off")
    shots = list(tmp_path.rglob("*.png"))
    # The drift selected, under pytest-xdist: exit 1, its artifacts in its own folder. One
    # worker: its controller still writes the JUnit file and keeps the worker's exit code
    # (two workers, each walking, for the exit code: test_an_unreachable_portal_exits_3…).
    drifted = suite(
        cli,
        replica.url,
        *("-k", "Paramétrage", "-n", "1", "--output", "results"),
        *("--tracing", "retain-on-failure", "--junitxml", str(junit)),
    )

    assert others.returncode == 0, others.stdout[-3000:] + others.stderr[-3000:]
    assert " passed" in others.stdout
    assert "failed" not in others.stdout
    assert shots == []  # --screenshot off: none
    assert drifted.returncode == 1, drifted.stdout[-3000:] + drifted.stderr[-3000:]
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert COLUMNS in cases  # readable ids: no \xe9
    paramétrage = [f"test_smoke[chromium-{s.id}]" for s in CHECKS if "Paramétrage" in s.id]
    assert sorted(cases) == sorted(paramétrage)  # each check -k names, and no other
    assert cases[COLUMNS].find("failure") is not None
    # Each test its check's own time, not the whole walk in the first one's.
    times = [float(c.get("time") or 0) for c in cases.values()]
    assert max(times) < 10, times
    # pytest-playwright's layout: results/<slug of the test id>/, attached relatively.
    (folder,) = [p for p in (tmp_path / "results").iterdir() if "service-columns" in p.name]
    assert folder.name == (
        "test-smoke-py-test-smoke-chromium-parametrage-monitoring-texts-service-columns"
    )
    assert (folder / "test-failed-1.png").is_file()
    assert (folder / "trace.zip").is_file()
    out = cases[COLUMNS].findtext("system-out") or ""
    assert f"[[ATTACHMENT|results/{folder.name}/test-failed-1.png]]" in out
    assert [p.name for p in (tmp_path / "results").iterdir() if p.is_dir()].count(folder.name) == 1


def test_k_narrows_the_walk_to_what_the_selected_checks_need(
    replica: Replica, tmp_path: Path
) -> None:
    """Only login and navigation checks selected: the walk stops once they have their
    verdicts — no tab listed, no dissociation dialog opened (its screens never shot)."""
    cli = Cli(tmp_path, replica, trace="off")
    junit = tmp_path / "suite.xml"

    done = suite(
        cli,
        replica.url,
        *("-k", "Login or Navigation", "--screenshot", "on", "--output", "results"),
        *("--junitxml", str(junit)),
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    cases = [c.get("name") or "" for c in ET.parse(junit).getroot().iter("testcase")]
    assert len(cases) == 8, cases  # 5 login checks, 3 navigation checks
    assert all("Login: " in c or "Navigation: " in c for c in cases), cases
    # (myopenip-smoke-gw0 when this test runs under xdist: the worker's name is inherited)
    shots = sorted(p.name for p in (tmp_path / "results").glob("myopenip-smoke*/*.png"))
    assert any(name.endswith("-login.png") for name in shots), shots
    walked_on = ("utilisateurs", "groupements", "actions", "dissocier", "parametrage-monitoring")
    assert not [name for name in shots if any(part in name for part in walked_on)], shots
