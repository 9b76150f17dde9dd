"""`myopenip dissociate` as a user runs it: a real process, a real Chromium, the real replica."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
from cli_support import Cli, exit_agrees, named
from e2e_support import licence, number_state
from playwright.sync_api import Browser

from myopenip.replica import Replica
from myopenip_bot.browser.artifacts import find_secrets

SECRET_PASSWORD = "Tr0ub4dor&3-correct-horse"


def test_a_release_exits_0_prints_the_outcome_as_json_drops_its_trace_and_keeps_the_screenshots(
    replica: Replica, tmp_path: Path
) -> None:
    """One successful run, two outcomes of it: the JSON of a release, and the default trace
    mode (retain-on-failure) dropping the trace of a run that succeeded while its
    screenshots stay."""
    cli = Cli(tmp_path, replica, trace=None)  # the default trace mode: retain-on-failure
    done = cli("--licence", "FPC367128", "--release-number", "--yes", "--json")

    assert done.returncode == 0, done.stderr
    result = exit_agrees(done)
    assert result["exit_code"] == 0
    assert [(r["licence"], r["outcome"]) for r in result["results"]] == [("FPC367128", "done")]
    assert result["status_messages"] == ["Numéro(s) dissocié(s) : 1"]
    state = replica.state()
    assert licence(state, "FPC367128")["sda"] is None
    assert number_state(state, "0231456789") == "quarantine"
    run_dir = Path(result["run_dir"])
    assert not list(run_dir.glob("trace*.zip"))
    assert list(run_dir.glob("*dialog-before-valider.png"))
    assert list(run_dir.glob("*verification.png"))


# A dry run needing no confirmation and changing nothing: the first run of
# test_a_dry_run_changes_nothing_and_its_saved_session_spares_the_next_run_a_login.


def test_without_a_terminal_the_bot_refuses_to_act_unless_told_yes(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    refused = Cli(tmp_path, replica)("--licence", "FPC367128", "--release-number")

    assert refused.returncode == 2
    assert "pass --yes" in refused.stderr
    assert replica.state() == before


def test_an_unknown_licence_exits_1_naming_it_and_changes_nothing(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    refused = Cli(tmp_path, replica)(
        "--licence", "FPC999999", "--release-number", "--yes", "--json"
    )

    assert refused.returncode == 1, refused.stderr
    (row,) = exit_agrees(refused)["results"]
    assert row["outcome"] == "refused"
    assert "FPC999999" in row["reason"]
    assert replica.state()["licences"] == before["licences"]


# A refused password exits 2 and saves no session: the first runs of
# test_startup.py::test_six_wrong_password_runs_save_no_session_never_lock_the_…


def test_missing_credentials_exit_2_before_any_browser_starts(tmp_path: Path) -> None:
    refused = Cli(tmp_path, None)("--licence", "FPC367128", "--release-number", "--yes")

    assert refused.returncode == 2
    assert "MYOPENIP_USERNAME and MYOPENIP_PASSWORD" in refused.stderr
    assert not named(refused, "browser_found")


def test_an_unreachable_portal_exits_3_as_a_technical_failure(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cli = Cli(
        tmp_path,
        None,
        base_url=f"http://127.0.0.1:{port}",
        username="demo",
        password="demo",
        startup_timeout="0",  # waiting for a portal to come up is test_startup's
    )
    failed = cli("--licence", "FPC367128", "--release-number", "--yes", "--json")

    assert failed.returncode == 3, failed.stderr
    error = exit_agrees(failed)["error"]
    assert error["kind"] == "technical"
    # In words, with Chromium's code for whoever searches it; not Playwright's call.
    assert f"cannot reach http://127.0.0.1:{port}/: nothing answers there" in error["message"]
    assert "(net::ERR_CONNECTION_REFUSED)" in error["message"]
    assert "Page.goto" not in error["message"]


@pytest.mark.twin(
    "tests/unit/test_settings.py::test_environment_variables_are_read",
    "tests/unit/test_session.py::test_a_saved_login_spares_the_next_session_a_login_for_the_same_portal_and_user_only",
    "tests/unit/test_session.py::test_a_traced_session_keeps_neither_the_password_nor_a_cookie_and_its_working_files_go",
    "tests/commands/test_ledger_runs.py::test_a_dry_run_is_recorded_as_such_and_never_on_billings_list",
    "tests/e2e/test_workflow.py::test_dry_run_reads_the_dialog_back_and_changes_nothing",
    "tests/commands/test_dissociate.py::test_no_secret_reaches_a_trace_a_screenshot_a_log_or_the_output",
    "tests/commands/test_language.py::test_json_is_the_same_in_both_languages",
)
@pytest.mark.longest(23)
def test_a_dry_run_changes_nothing_and_its_saved_session_spares_the_next_run_a_login(
    replica: Replica, tmp_path: Path
) -> None:
    """A dry run needs no confirmation (no --yes, no terminal) and changes nothing; the
    session it saved is private and spares the next run a login, unless that run is told
    not to save sessions (MYOPENIP_SAVE_SESSION=false)."""
    before = replica.state()
    cli = Cli(tmp_path, replica)
    first = cli("--licence", "FPC367128", "--keep-number", "--dry-run", "--json")
    assert first.returncode == 0, first.stderr
    assert [r["outcome"] for r in exit_agrees(first)["results"]] == ["would_do"]
    assert replica.state() == before
    assert len(named(first, "logged_in")) == 1
    assert stat.S_IMODE(cli.state_file.stat().st_mode) == 0o600

    second = cli("--licence", "FPC367128", "--keep-number", "--dry-run")

    assert second.returncode == 0, second.stderr
    assert named(second, "logged_in") == []
    assert named(second, "session_started")[0]["reused_login"] is True

    # Without saving the session, the saved login is not reused.
    assert cli.state_file.exists()
    cli.env["MYOPENIP_SAVE_SESSION"] = "false"
    third = cli("--licence", "FPC367128", "--keep-number", "--dry-run")

    assert third.returncode == 0, third.stderr
    assert named(third, "session_started")[0]["reused_login"] is False
    assert len(named(third, "logged_in")) == 1


def _log_in_and_save_state(browser: Browser, replica: Replica, state_file: Path) -> dict[str, Any]:
    """Log in as a person would and save the session where the bot will look for it."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(replica.url)
    page.get_by_label("Identifiant").fill(replica.username)
    page.get_by_label("Mot de passe").fill(replica.password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Se déconnecter").wait_for()
    storage: dict[str, Any] = context.storage_state()  # type: ignore[assignment]
    context.close()
    state_file.parent.mkdir(parents=True, exist_ok=True)
    saved = {"format": 1, "base_url": replica.url, "username": replica.username}
    state_file.write_text(json.dumps(saved | {"storage_state": storage}))
    return storage


@pytest.mark.longest(33)
def test_no_secret_reaches_a_trace_a_screenshot_a_log_or_the_output(
    replica_factory: Any, browser: Browser, tmp_path: Path
) -> None:
    replica = replica_factory(password=SECRET_PASSWORD)
    cli = Cli(tmp_path, replica, trace="on")
    first_session = _log_in_and_save_state(browser, replica, cli.state_file)
    # The saved session dies mid-run, so the bot logs in again while tracing is on.
    replica.test_api("expire-sessions", {"after_requests": 6})

    done = cli("--licence", "FPC367128", "--release-number", "--yes", "--json")

    assert done.returncode == 0, done.stderr
    assert named(done, "session_started")[0]["reused_login"] is True
    assert len(named(done, "logged_in")) == 1  # the mid-run login happened
    last_session = json.loads(cli.state_file.read_text())["storage_state"]
    cookies = {c["value"] for s in (first_session, last_session) for c in s["cookies"]}
    secrets = {SECRET_PASSWORD} | {c for c in cookies if len(c) >= 8}
    assert len(secrets) >= 3  # the password and a session cookie per login at least
    (run_dir,) = cli.traces.iterdir()
    traces = sorted(run_dir.glob("trace*.zip"))
    assert traces, "with MYOPENIP_TRACE=on the trace is kept"
    assert list(run_dir.glob("*dialog-before-valider.png"))
    assert find_secrets(run_dir, secrets) == []
    for secret in secrets:
        assert secret not in done.stdout
        assert secret not in done.stderr


def test_a_dialog_mismatch_exits_1_reporting_each_licence_and_keeping_the_trace(
    replica: Replica, tmp_path: Path
) -> None:
    replica.test_api("misreport", {"licence_ref": "FPC367128", "number": "0299999999"})
    before = replica.state()

    refused = Cli(tmp_path, replica, trace=None)(  # the default trace mode
        "--licence", "FPC367128", "--release-number", "--yes", "--json"
    )

    assert refused.returncode == 1, refused.stderr
    payload = exit_agrees(refused)
    assert payload["error"]["type"] == "ReadBackMismatchError"
    assert [r["outcome"] for r in payload["results"]] == ["refused"]
    assert replica.state()["licences"] == before["licences"]
    run_dir = Path(payload["run_dir"])  # retain-on-failure, the default, keeps the trace
    assert list(run_dir.glob("trace*.zip"))
    assert json.loads((run_dir / "result.json").read_text())["error"]
