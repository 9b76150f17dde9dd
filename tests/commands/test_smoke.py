"""`myopenip smoke`, its pytest suite and its walk against the replica.

As processes, for what is about the process: exit codes, the files a run leaves (its run
folder always holds smoke.json and junit.xml), the pytest suite agreeing with the
command, an unreachable portal that a CI must not read as green, Ctrl-C, and `--propose`
end to end. In process (a real Chromium on the replica, no subprocess): each drift of
the issue named (how soon: `make bench`), the new name first among the candidates, and a
proposal that the smoke then passes, changing exactly the drifted entries. The portal is
never changed, not even by a failed run or a proposal's reruns.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import forked
import pytest
from cli_support import Cli, Running
from e2e_support import replica_settings
from jsonschema import Draft202012Validator
from notify_support import receiver
from playwright.sync_api import Browser, Page
from structlog.testing import capture_logs

from myopenip.exitcodes import ExitCode, of_smoke
from myopenip.replica import Replica
from myopenip_bot.config.selectors import Selectors, default_selectors_path, load_selectors
from myopenip_bot.config.settings import Settings
from myopenip_bot.pages import reading
from myopenip_bot.portal.portal import Portal
from myopenip_bot.smoke.checks import CHECKS, Status
from myopenip_bot.smoke.guard import NetworkGuard
from myopenip_bot.smoke.propose import propose
from myopenip_bot.smoke.run import SmokeResult
from myopenip_bot.smoke.walk import WalkOptions, smoke_walk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SUITE_WARNING = "PytestRemovedIn10Warning"
TOKEN = "n0tify-t0ken-kept-secret"  # the notification's credentials: never written


def smoke(cli: Cli, *args: str) -> subprocess.CompletedProcess[str]:
    return forked.run(
        [sys.executable, "-m", "myopenip", "smoke", *args], cwd=cli.cwd, env=cli.env, timeout=300
    )


def start_smoke(cli: Cli, *args: str) -> Running:
    """A real `myopenip smoke` process, to signal while it runs (never forked)."""
    return Running(
        subprocess.Popen(
            [sys.executable, "-m", "myopenip", "smoke", *args],
            cwd=cli.cwd,
            env=cli.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    )


def suite(cli: Cli, base_url: str, junit: Path) -> subprocess.CompletedProcess[str]:
    """The pytest suite as QA's own CI runs it: outside the project, its own options."""
    # (and without the command's notification: the suite tells nobody; without a trace,
    # which nothing here reads: the suite's trace is test_smoke_suite.py's)
    env = {k: v for k, v in cli.env.items() if k not in ("MYOPENIP_BASE_URL", "MYOPENIP_NOTIFY")}
    return subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"),
            *("--pyargs", "myopenip_bot.smoke_suite", "--base-url", base_url),
            *("--output", str(cli.cwd / "results")),
            *("--junitxml", str(junit)),
        ],
        cwd=cli.cwd,  # not the project: no pyproject.toml to filter its warnings
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def valid(payload: dict[str, Any]) -> dict[str, Any]:
    """`payload`, once checked against the smoke's JSON Schema."""
    text = (resources.files("myopenip") / "schemas" / "smoke.schema.json").read_text("utf-8")
    errors = list(Draft202012Validator(json.loads(text)).iter_errors(payload))
    assert errors == [], [error.message for error in errors]
    return payload


def unchanged(state: dict[str, Any]) -> dict[str, Any]:
    """What a read-only run must leave exactly as it was."""
    return {key: state[key] for key in ("services", "licences", "numbers", "audit")}


def outcomes(junit: Path) -> dict[str, str]:
    """Each JUnit case's outcome by check id, whoever wrote the file (the command's
    classname.name, or the suite's test_smoke[chromium-<id>])."""
    found = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name") or ""
        if name.startswith("test_smoke["):  # pytest writes its ids in ASCII: \\xe9 for é
            check = name.removeprefix("test_smoke[").removesuffix("]").split("-", 1)[1]
            check = check.encode("ascii", "backslashreplace").decode("unicode_escape")
        else:
            check = f"{(case.get('classname') or '').removeprefix('smoke.')}: {name}"
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        found[check] = {"failure": "failed", "error": "error", "skipped": "skipped"}.get(
            kinds[0] if kinds else "", "passed"
        )
    return found


def run_folder(cli: Cli, label: str = "smoke") -> Path:
    (found,) = [path for path in cli.traces.iterdir() if path.name.endswith(f"-{label}")]
    return found


@pytest.mark.longest(38)
def test_a_drift_fails_with_its_evidence_a_proven_proposal_and_the_suite_agrees(
    replica: Replica, tmp_path: Path
) -> None:
    """The run also tells a receiver (MYOPENIP_NOTIFY) how it ended: the notification of
    a drifted smoke, asserted on this run rather than on one more (test_notifications.py
    has the other commands')."""
    replica.test_api("drift", {"rename": {"Valider": "Confirmer"}})
    with receiver() as told:  # the receiver's port, then only the command's run
        cli = Cli(tmp_path, replica, trace="off", notify=told.url(credentials=f"bot:{TOKEN}"))
        before = unchanged(replica.state())
        selectors_before = default_selectors_path().read_bytes()
        proposal = tmp_path / "proposal.yaml"

        done = smoke(cli, "--junit-xml", str(tmp_path / "smoke.xml"), "--propose", str(proposal))
    by_suite = suite(cli, replica.url, tmp_path / "suite.xml")

    assert done.returncode == 1, done.stdout + done.stderr
    folder = run_folder(cli)
    payload = valid(json.loads((folder / "smoke.json").read_text(encoding="utf-8")))
    assert payload["exit_code"] == 1
    assert [check["id"] for check in payload["checks"]] == [spec.id for spec in CHECKS]
    for check in payload["checks"]:
        assert check["status"] != "skipped" or check["message"]  # every skip says why
    failed = {c["id"]: c for c in payload["checks"] if c["status"] == "failed"}
    assert list(failed) == ["Dissociation dialog: dialog.submit"]
    submit = failed["Dissociation dialog: dialog.submit"]
    assert submit["message"].startswith("dialog.submit: ")
    assert submit["candidates"][0] == {"role": "button", "name": "Confirmer"}
    # Its evidence: a screenshot of its screen, attached in the JUnit files.
    shot = Path(submit["screenshot"])
    assert shot.is_file()
    assert len(list(folder.glob("*.png"))) >= 6  # and one of each screen
    assert outcomes(folder / "junit.xml") == outcomes(tmp_path / "smoke.xml")
    (case,) = [
        c
        for c in ET.parse(tmp_path / "smoke.xml").getroot().iter("testcase")
        if c.get("name") == "dialog.submit"
    ]
    assert case.find("failure") is not None
    # relative to the folder the run started in (GitLab reads no absolute path)
    relative = shot.resolve().relative_to(cli.cwd.resolve()).as_posix()
    assert f"[[ATTACHMENT|{relative}]]" in (case.findtext("system-out") or "")
    # The proposal: one entry, marked for a second look, passing, never applied.
    assert [c["entry"] for c in payload["proposal"]["changes"]] == ["dialog.submit"]
    (change,) = payload["proposal"]["changes"]
    assert change["now"]["name"] == "Confirmer"
    assert change["second_look"] is True
    assert payload["proposal"]["passes"] is True
    assert [rerun["exit_code"] for rerun in payload["proposal"]["reruns"]] == [0]
    # Each rerun's run folder keeps its own smoke.json and junit.xml, as the first run's.
    for rerun in payload["proposal"]["reruns"]:
        kept = valid(json.loads((Path(rerun["run_dir"]) / "smoke.json").read_text("utf-8")))
        assert kept["exit_code"] == 0
        assert kept["proposal"] is None
        assert outcomes(Path(rerun["run_dir"]) / "junit.xml")[submit["id"]] == "passed"
    assert load_selectors(proposal).dialog.submit.name == "Confirmer"
    assert "  dialog.submit   (second look: it changes the portal)" in done.stdout
    assert '+   {role: button, name: "Confirmer"}' in done.stdout
    assert f"the proposal passes all {len(CHECKS)} checks" in done.stdout
    assert "Second look: dialog.submit changes the portal" in done.stdout
    assert default_selectors_path().read_bytes() == selectors_before
    # The pytest suite: the same outcomes, the same code, no deprecation warning.
    assert by_suite.returncode == 1, by_suite.stdout[-3000:] + by_suite.stderr[-3000:]
    assert SUITE_WARNING not in by_suite.stdout + by_suite.stderr
    assert outcomes(tmp_path / "suite.xml") == outcomes(tmp_path / "smoke.xml")
    suite_case = next(
        c
        for c in ET.parse(tmp_path / "suite.xml").getroot().iter("testcase")
        if "dialog.submit" in (c.get("name") or "")
    )
    assert "[[ATTACHMENT|" in (suite_case.findtext("system-out") or "")
    assert unchanged(replica.state()) == before  # nor by the rerun, nor by the suite
    # The notification: one message, the drift and the run folder, never a secret.
    (post,) = told.posts
    assert post["title"] == "myopenip smoke: exit 1 — a check failed"
    assert "failed: 1" in post["message"]
    assert "drifted: dialog.submit" in post["message"]
    assert f"Report: {folder}" in post["message"]
    for text in [*(body.decode() for body in told.raw), done.stdout, done.stderr]:
        assert replica.password not in text
        assert TOKEN not in text


def test_an_unreachable_portal_is_an_error_in_every_check_for_the_command_and_the_suite(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    # No start-up budget: waiting for a portal to come up is test_startup's.
    cli = Cli(tmp_path, None, base_url=url, username="demo", password="demo", startup_timeout="0")

    as_json = smoke(cli, "--json")
    as_table = smoke(
        cli, "--junit-xml", str(tmp_path / "smoke.xml"), "--propose", str(tmp_path / "p.yaml")
    )
    by_suite = suite(cli, url, tmp_path / "suite.xml")

    assert as_json.returncode == 3, as_json.stdout + as_json.stderr
    payload = valid(json.loads(as_json.stdout))
    assert payload["exit_code"] == 3
    assert payload["error"]["kind"] == "technical"
    assert {check["status"] for check in payload["checks"]} == {"error"}
    assert json.loads((Path(payload["run_dir"]) / "smoke.json").read_text("utf-8")) == payload
    assert as_table.returncode == 3
    assert f"0 passed, 0 failed, {len(CHECKS)} errors, 0 skipped." in as_table.stdout
    assert "│ error " in as_table.stdout  # error rows, not skipped ones
    assert "skipped │" not in as_table.stdout
    assert "No proposal written" in as_table.stdout  # nothing drifted: nothing to propose
    assert not (tmp_path / "p.yaml").exists()
    junits = [
        tmp_path / "smoke.xml",
        Path(payload["run_dir"]) / "junit.xml",
        tmp_path / "suite.xml",
    ]
    for junit in junits:
        root = ET.parse(junit).getroot()
        suite_element = root if root.tag == "testsuite" else root.find("testsuite")
        assert suite_element is not None
        assert suite_element.get("errors") == str(len(CHECKS)), junit
        assert suite_element.get("skipped") == "0", junit
    assert by_suite.returncode == 3, by_suite.stdout[-3000:]


def test_the_smoke_records_a_trace_only_when_asked_and_keeps_it_redacted(
    replica: Replica, tmp_path: Path
) -> None:
    replica.test_api("drift", {"rename": {"Mes Services": "Mes Offres"}})  # fails early
    unset = Cli(tmp_path / "unset", replica, trace=None)  # the default: no trace
    asked = Cli(tmp_path / "asked", replica, trace="retain-on-failure")
    for cli in (unset, asked):
        cli.cwd.mkdir()

    runs = [smoke(cli, "--json") for cli in (unset, asked)]

    assert [run.returncode for run in runs] == [1, 1], runs[1].stderr
    assert not list(run_folder(unset).glob("trace*.zip"))
    (trace,) = run_folder(asked).glob("trace*.zip")
    with zipfile.ZipFile(trace) as archive:
        recorded = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Mes Offres" in recorded  # the walk itself was recorded
    assert replica.password.encode() not in recorded


def test_ctrl_c_while_the_login_is_retried_stops_at_once_as_an_interruption(
    replica: Replica, tmp_path: Path
) -> None:
    replica.test_api("faults", {"error_rate": 1.0})  # every request answered 503
    cli = Cli(tmp_path, replica, trace="off")
    running = start_smoke(cli, "--json")
    running.wait_for_event("step_retried")  # in the wait before the next attempt

    running.send(signal.SIGINT)
    done = running.finish()

    assert done.returncode == 130, done.stdout + done.stderr  # not 3: a person stopped it
    assert valid(json.loads(done.stdout))["interrupted"] == "SIGINT"


def test_ctrl_c_prints_the_partial_table_and_writes_the_partial_files(
    replica: Replica, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, replica, trace="off")
    running = start_smoke(cli)
    running.wait_for_event("logged_in")

    running.send(signal.SIGINT)
    done = running.finish()

    assert done.returncode == 130, done.stdout + done.stderr
    assert "Login" in done.stdout  # the checks run so far, as a table
    assert "Interrupted by SIGINT:" in done.stdout
    folder = run_folder(cli)
    payload = valid(json.loads((folder / "smoke.json").read_text(encoding="utf-8")))
    assert payload["interrupted"] == "SIGINT"
    assert payload["exit_code"] == 130
    statuses = [check["status"] for check in payload["checks"]]
    assert statuses[0] == "passed"
    assert statuses[-2] == "error"  # not run: said so, not skipped
    assert "interrupted by SIGINT" in payload["checks"][-2]["message"]
    assert outcomes(folder / "junit.xml")[CHECKS[0].id] == "passed"


# -- drifts, in process ---------------------------------------------------------------------


def walk(
    browser: Browser,
    selectors: Selectors,
    replica: Replica,
    screenshot: Callable[[str], Path | None] = lambda name: None,
    checks: frozenset[str] | None = None,
) -> SmokeResult:
    """The whole smoke in a new context of the test's browser, as run_smoke would; a
    long timeout, which a drift (named by what the settled page lacks) never waits out.
    `checks`: the walk stops once they have their results, as the suite's -k (every check
    before them run as in the whole walk; the others "not run: not selected")."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    page: Page = context.new_page()
    settings = replica_settings(replica, timeout_ms=60_000)
    options = WalkOptions(screenshot=screenshot, checks=checks)
    walking = smoke_walk(Portal(page, selectors, settings), options)
    try:
        checks = walking.run()
    finally:
        context.close()
    return SmokeResult(checks, error=walking.error)


def test_a_failing_portal_is_retried_at_the_login_and_never_read_as_a_drift(
    browser: Browser, replica: Replica
) -> None:
    selectors = load_selectors(None)
    replica.test_api("faults", {"error_rate": 1.0})  # every request answered 503
    with capture_logs() as logs:
        unanswered = walk(browser, selectors, replica)
    replica.test_api("faults", {"error_rate": 0.0})

    def fail_from_now(name: str) -> None:
        if name == "parametrage-monitoring":  # the services screen checked: the portal fails
            replica.test_api("faults", {"error_rate": 1.0})

    failing = walk(browser, selectors, replica, screenshot=fail_from_now)

    retried = [e for e in logs if e["event"] == "step_retried"]
    assert [e["attempt"] for e in retried] == [2, 3]  # the policy's three attempts
    assert of_smoke(unanswered) == ExitCode.TECHNICAL
    assert "HTTP 503" in str(unanswered.error)
    assert {c.status for c in unanswered.checks} == {Status.ERROR}
    assert of_smoke(failing) == ExitCode.TECHNICAL
    assert not failing.failed  # no check reads a failing portal as a drift
    first_error = next(c for c in failing.checks if c.status is Status.ERROR)
    assert first_error.id.startswith("Paramétrage / Monitoring: ")
    assert "could not run" in first_error.message


def test_an_error_page_in_other_words_is_the_portal_failing_never_a_drift(
    browser: Browser, replica_factory: Callable[..., Replica]
) -> None:
    """The other markup's error page says « Service indisponible », not the hint's
    « Erreur technique »: the page's own HTTP 503 says the portal failed."""
    aria = replica_factory(markup="aria")

    def fail_from_now(name: str) -> None:
        if name == "parametrage-monitoring":  # « Paramétrer > » will get an error page
            aria.test_api("faults", {"error_rate": 1.0})

    failing = walk(browser, load_selectors(None), aria, screenshot=fail_from_now)

    assert of_smoke(failing) == ExitCode.TECHNICAL
    assert not failing.failed  # no check reads the error page as a drift
    first_error = next(c for c in failing.checks if c.status is Status.ERROR)
    assert "HTTP 503" in first_error.message


@pytest.mark.cells
@pytest.mark.parametrize(
    ("rename", "failing", "candidate", "entries"),
    [
        (
            {"Mes Services": "Mes Offres"},
            "Navigation: navigation.services_menu",
            ("button", "Mes Offres"),
            ["navigation.services_menu"],
        ),
        (
            {"Rechercher": "Filtrer"},
            "Paramétrage / Monitoring: services.search",
            ("button", "Filtrer"),
            ["services.search", "licences.search"],  # both « Rechercher »: one per screen
        ),
        (
            {"Dissocier vos numéros": "Libérer vos numéros"},
            "Dissociation dialog: licences.dissociate",
            ("menuitem", "Libérer vos numéros"),
            ["licences.dissociate", "dialog.dialog"],  # the menu item and the dialog's name
        ),
        (
            {"Utilisateurs": "Usagers"},
            "Service settings: service.tabs.Utilisateurs",
            ("tab", "Usagers"),
            ["service.tabs.Utilisateurs"],
        ),
    ],
    # (a button of a listing, « Actions », is a button renamed as « Mes Services » and
    # « Rechercher » are; its drift named: tests/e2e/test_drift.py)
    ids=["mes-services", "rechercher", "dissocier", "utilisateurs"],
)
def test_a_rename_is_named_at_once_and_its_proposal_passes_changing_only_it(
    browser: Browser,
    replica: Replica,
    tmp_path: Path,
    rename: dict[str, str],
    failing: str,
    candidate: tuple[str, str],
    entries: list[str],
) -> None:
    selectors = load_selectors(None)
    replica.test_api("drift", {"rename": rename})
    before = unchanged(replica.state())

    first = walk(browser, selectors, replica)
    proposal = propose(
        Settings(),
        selectors,
        default_selectors_path(),
        first,
        tmp_path / "proposal.yaml",
        run=lambda settings, proposed, **_: walk(browser, proposed, replica),
    )

    failed = first.failed
    assert failed, "the drift went unnoticed"
    assert failed[0].id == failing
    key = failing.split(": ", 1)[1]
    assert failed[0].message.startswith(f"{key}: no ")
    assert failed[0].candidates[0] == candidate
    assert [change.entry for change in proposal.changes] == entries
    assert proposal.passes, proposal.verdict and [c.message for c in proposal.verdict.failed]
    assert unchanged(replica.state()) == before


@pytest.mark.cells
@pytest.mark.parametrize(
    ("rename", "failing", "candidate"),
    [
        (
            {"SDA": "Numéro SDA"},
            "Utilisateurs tab: licences.number_filter",
            ("textbox", "Numéro SDA"),
        ),
        (
            {"Pensez à résilier le numéro": "N'oubliez pas de résilier le numéro"},
            "Dissociation dialog: dialog.warnings",
            ("paragraph", "N'oubliez pas de résilier le numéro"),
        ),
    ],
    ids=["label", "text"],
)
def test_a_renamed_label_or_text_is_named_with_what_shows_instead_first(
    browser: Browser,
    replica: Replica,
    rename: dict[str, str],
    failing: str,
    candidate: tuple[str, str],
) -> None:
    replica.test_api("drift", {"rename": rename})

    # Every check up to the drifted one, as the whole smoke runs them; none after it.
    first = walk(browser, load_selectors(None), replica, checks=frozenset({failing}))

    failed = {check.id: check for check in first.failed}
    assert failing in failed, list(failed)
    role, start = candidate
    assert failed[failing].candidates[0][0] == role
    assert failed[failing].candidates[0][1].startswith(start)


def test_a_hidden_control_is_said_present_but_hidden_and_nothing_is_proposed(
    browser: Browser, replica: Replica, tmp_path: Path
) -> None:
    selectors = load_selectors(None)
    replica.test_api("drift", {"hide": ["Rechercher"]})

    first = walk(browser, selectors, replica)
    proposal = propose(
        Settings(),
        selectors,
        default_selectors_path(),
        first,
        tmp_path / "proposal.yaml",
        run=lambda settings, proposed, **_: pytest.fail("nothing to rerun"),
    )

    (failed,) = first.failed
    assert failed.id == "Paramétrage / Monitoring: services.search"
    assert failed.message == (
        'services.search: button named "Rechercher" present but hidden '
        "on « Paramétrage / Monitoring »"
    )
    assert failed.candidates == ()
    assert proposal.changes == []
    assert not (tmp_path / "proposal.yaml").exists()


def test_the_region_ranks_the_new_name_first_in_the_other_markup_too(
    browser: Browser, replica_factory: Any
) -> None:
    aria = replica_factory(markup="aria", delays=False)
    aria.test_api("drift", {"rename": {"Rechercher": "Filtrer"}})

    first = walk(browser, load_selectors(None), aria)

    assert first.failed[0].id == "Paramétrage / Monitoring: services.search"
    assert first.failed[0].candidates[0] == ("button", "Filtrer")


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


def test_the_guard_lets_through_what_an_announced_read_sends_and_nothing_else(
    page: Page, replica: Replica
) -> None:
    page.goto(replica.url)
    guard = NetworkGuard(page.context)
    guard.install()
    post = "() => fetch('/nowhere', {method: 'POST'}).then(() => 'sent', () => 'aborted')"
    get = "() => fetch('/nowhere').then(() => 'sent', () => 'aborted')"

    with reading(page, "searching FPC367128 in Groupements"):
        during = page.evaluate(post)  # a search a portal sends as a POST
    after = page.evaluate(post)  # nothing announced: could change data
    read = page.evaluate(get)

    assert (during, after, read) == ("sent", "aborted", "sent")
    assert guard.allowed == [f"POST {replica.url}/nowhere (searching FPC367128 in Groupements)"]
    assert guard.violations == [f"POST {replica.url}/nowhere"]


def test_a_walk_for_some_checks_goes_no_further_than_they_need(
    browser: Browser, replica: Replica
) -> None:
    """The pytest suite's -k: the dialog's checks wanted, the walk stops after them (no
    search after the dialog); none wanted, the dialog is never opened."""
    dialog_ids = frozenset(spec.id for spec in CHECKS if "dialog" in spec.id)
    first_ids = frozenset(spec.id for spec in CHECKS if spec.screen in ("Login", "Navigation"))
    walked = {}
    for name, wanted in (("dialog", dialog_ids), ("first", first_ids)):
        context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
        portal = Portal(context.new_page(), load_selectors(None), replica_settings(replica))
        walking = smoke_walk(portal, WalkOptions(checks=wanted))
        try:
            walked[name] = ({c.id: c for c in walking.run()}, walking._guard.allowed)
        finally:
            context.close()

    checks, allowed = walked["dialog"]
    assert {checks[i].status for i in dialog_ids} <= {Status.PASSED, Status.SKIPPED}
    after = ["After Annuler: licences.row_checkbox", "Service settings: hints.empty_results"]
    assert [checks[i].ran for i in after] == [False, False]  # the untick, the searches
    assert checks["Service settings: hints.empty_results"].message == "not run: not selected"
    checks, allowed = walked["first"]
    assert {checks[i].status for i in first_ids} <= {Status.PASSED, Status.SKIPPED}
    assert not [c.id for c in checks.values() if c.ran and c.spec.screen == "Dissociation dialog"]
    assert not [entry for entry in allowed if "dissociation" in entry]  # no dialog opened
