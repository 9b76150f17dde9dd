"""`myopenip dissociate` at its edges, as a user meets them: the confirmation prompt in a
terminal, signals mid-run, a SIGKILL, settings files shared with other tools, refusals.

Every run here is a real process driving a real Chromium against the real replica; the
process's exit code and the exit code its JSON reports are checked to agree.
"""

from __future__ import annotations

import json
import re
import signal
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_support import OWN_BROWSER, Cli, exit_agrees, named
from e2e_support import SERVICE, licence, number_state
from terminal_support import PROMPT_HINT, Terminal

from myopenip.replica import Replica
from myopenip_bot.browser.artifacts import find_secrets

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT?\s?\d\d:\d\d:\d\d")
# One licence in each tab of SRV-10021: the prompt must cover both.
TWO_TABS = ("--licence", "FPC367128", "--licence", "FPC367131")
NUMBERS = ("0231456789", "0231456701")


def test_terminal_steps_then_one_prompt_with_plan_and_warnings_no_changes_nothing_events_kept(
    replica: Replica, tmp_path: Path
) -> None:
    """On a terminal a person reads steps, not log lines, then one prompt with the whole
    plan and the portal's warnings; « no » changes nothing, and the run's events are kept
    in its folder."""
    before = replica.state()
    cli = Cli(tmp_path, replica)
    terminal = Terminal(cli, *TWO_TABS, "--release-number")

    terminal.expect(PROMPT_HINT)
    before_prompt = terminal.screen
    shown = terminal.flat
    # The steps, with a spinner, not log lines.
    assert TIMESTAMP.search(before_prompt) is None, before_prompt
    assert "Opening the portal…" in before_prompt
    # The whole plan, both tabs, before the first « Valider »: service, client, numbers.
    for text in ("SRV-10021", "Normandie Logistique", "FPC367128", "FPC367131"):
        assert text in shown
    assert "02 31 45 67 89" in shown
    assert "02 31 45 67 01" in shown
    assert "Utilisateurs" in shown
    assert "Groupements" in shown
    assert "conferencing" in shown  # FPC367128's type, in the confirmation
    # The portal's warnings whole, wrapped rather than cut at 80 columns.
    assert "Cette action n'est pas réversible" in shown
    assert (
        "Vous pouvez conserver ce numéro pour d'autres utilisateurs si vous le souhaitez" in shown
    )
    terminal.type(b"n\r")

    assert terminal.wait() == 4
    assert terminal.screen.count(PROMPT_HINT) == 1  # one question for the two tabs
    assert "Traceback" not in terminal.screen
    assert replica.state() == before
    (run_dir,) = cli.traces.iterdir()
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert {"logged_in", "licence_planned", "dissociation_not_confirmed"} <= {
        e["event"] for e in events
    }


@pytest.mark.twin(
    "tests/commands/test_language.py::test_non_at_the_french_prompt_changes_nothing_and_oui_dissociates",
)
def test_yes_at_the_prompt_dissociates_every_licence_of_the_plan(
    replica: Replica, tmp_path: Path
) -> None:
    terminal = Terminal(Cli(tmp_path, replica), *TWO_TABS, "--release-number")

    terminal.expect(PROMPT_HINT)
    terminal.type(b"oui\r")

    assert terminal.wait() == 0
    assert terminal.screen.count(PROMPT_HINT) == 1
    state = replica.state()
    for number in NUMBERS:
        assert number_state(state, number) == "quarantine"


@pytest.mark.cells
@pytest.mark.parametrize(
    ("keys", "name"), [(b"\x04", "Ctrl-D"), (b"\x03", "Ctrl-C")], ids=["ctrl-d", "ctrl-c"]
)
def test_hanging_up_at_the_prompt_means_no_without_a_traceback(
    replica: Replica, tmp_path: Path, keys: bytes, name: str
) -> None:
    before = replica.state()
    terminal = Terminal(Cli(tmp_path, replica), *TWO_TABS, "--keep-number")

    terminal.expect(PROMPT_HINT)
    terminal.type(keys)

    assert terminal.wait() == 4, terminal.screen
    assert "Traceback" not in terminal.screen
    assert "Annuler clicked, nothing changed" in terminal.flat
    assert replica.state() == before


def test_sigterm_while_planning_stops_at_a_safe_point_with_a_summary_and_result_file(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    run = Cli(tmp_path, replica).start(*TWO_TABS, "--release-number", "--yes", "--json")

    run.wait_for_event("licence_planned")
    run.send(signal.SIGTERM)
    done = run.finish()

    assert done.returncode == 143, done.stderr
    payload = exit_agrees(done)
    assert payload["interrupted"] == "SIGTERM"
    assert {row["outcome"] for row in payload["results"]} <= {"not_attempted"}
    written = Path(payload["run_dir"]) / "result.json"
    assert exit_agrees_file(written, 143)["interrupted"] == "SIGTERM"
    assert "Traceback" not in done.stderr
    assert replica.state() == before


def exit_agrees_file(path: Path, code: int) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert payload["exit_code"] == code
    return payload


@pytest.mark.parametrize(
    ("drop", "outcome", "settled"),
    # The answer read: accepted, not read back (the status means accepted, only the listing
    # shows done): in progress; a rerun reads it done, as the bot's records expected.
    # The answer lost: unknown; a rerun finds it without its number, nothing to do.
    [(0.0, "in_progress", "done"), (1.0, "unknown", "already_done")],
    ids=["answer-read", "answer-lost"],
)
@pytest.mark.longest(22)
def test_sigterm_right_after_valider_reads_its_answer_and_a_rerun_settles_the_licence(
    replica: Replica, tmp_path: Path, drop: float, outcome: str, settled: str
) -> None:
    slow = replica
    slow.faults(latency_ms=400, drop_after_commit_rate=drop)  # « Valider » answers late
    cli = Cli(tmp_path, slow)
    run = cli.start("--licence", "FPC367128", "--release-number", "--yes", "--json")

    run.wait_for_event("valider_clicking")  # past the last safe point before « Valider »
    run.send(signal.SIGTERM)
    done = run.finish()

    assert done.returncode == 143, done.stderr
    payload = exit_agrees(done)
    (row,) = payload["results"]
    assert row["outcome"] == outcome  # the answer was waited for, never cut off
    if outcome == "unknown":
        assert "rerun to settle" in row["reason"]
    assert licence(slow.state(), "FPC367128")["sda"] is None
    assert [entry["licence_ref"] for entry in slow.state()["audit"]] == ["FPC367128"]
    slow.faults(latency_ms=0)  # only « Valider » had to answer late: the rerun need not wait

    rerun = cli("--licence", "FPC367128", "--release-number", "--yes", "--json")

    assert rerun.returncode == 0, rerun.stderr
    assert [r["outcome"] for r in exit_agrees(rerun)["results"]] == [settled]
    assert len(slow.state()["audit"]) == 1  # settled by reading, never a second « Valider »


@pytest.mark.longest(22)
def test_after_a_sigkill_nothing_the_bot_wrote_holds_a_secret_once_the_next_run_started(
    replica_factory: Callable[..., Replica], tmp_path: Path
) -> None:
    password = "s3cr3t"  # six characters: short passwords are secrets too
    portal = replica_factory(password=password)
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    # Its own Chromium (not the worker's browser server): the killed run's browser files
    # (profile, cookie database, raw trace) are the subject.
    cli = Cli(tmp_path, portal, trace="on", **OWN_BROWSER)
    cli.env["TMPDIR"] = str(system_tmp)
    run = cli.start("--licence", "FPC367128", "--keep-number", "--dry-run")

    run.wait_for_event("dialog_read_back")  # logged in, tracing, a dialog open
    run.process.kill()
    run.finish()

    work = tmp_path / ".myopenip" / "work"
    left = [path for path in work.rglob("*")]
    assert left, "the killed run's working files are still there"
    for path in [work, *left]:
        if not path.is_symlink():
            assert stat.S_IMODE(path.lstat().st_mode) & 0o077 == 0, f"{path} is not private"

    # The next run records no trace (about 1.8 core-s less): the killed run's files are the
    # subject; a kept trace of a run on a saved session, with a login mid-run, is
    # test_dissociate.py::test_no_secret_reaches_a_trace_a_screenshot_a_log_or_the_output's.
    cli.env["MYOPENIP_TRACE"] = "off"
    rerun = cli("--licence", "FPC367128", "--keep-number", "--dry-run", "--json")

    assert rerun.returncode == 0, rerun.stderr
    assert list(work.iterdir()) == []  # the next run removed what the killed one left
    cookies = {
        cookie["value"] for cookie in _saved_cookies(cli.state_file) if len(cookie["value"]) >= 8
    }
    assert cookies
    written = [
        path
        for path in tmp_path.rglob("*")
        if path.is_file() and path != cli.state_file and not path.is_relative_to(system_tmp)
    ]
    assert written
    assert find_secrets(tmp_path / "traces", {password} | cookies) == []
    assert [p for p in written if find_secrets(p, {password} | cookies)] == []
    # Nothing of the bot's browser went to the shared temp folder.
    assert find_secrets(system_tmp, {password} | cookies) == []
    assert not [p for p in system_tmp.rglob("*") if "playwright" in p.name]


def _saved_cookies(state_file: Path) -> list[dict[str, Any]]:
    cookies: list[dict[str, Any]] = json.loads(state_file.read_text())["storage_state"]["cookies"]
    return cookies


@pytest.mark.twin(
    "tests/unit/test_artifacts.py::test_a_short_password_is_redacted_in_every_spelling_and_the_trace_stays_valid_json",
    "tests/commands/test_dissociate_edges.py::test_after_a_sigkill_nothing_the_bot_wrote_holds_a_secret_once_the_next_run_started",
)
def test_a_six_character_password_never_reaches_a_kept_trace(
    replica_factory: Callable[..., Replica], tmp_path: Path
) -> None:
    portal = replica_factory(password="Pw-6ch")
    cli = Cli(tmp_path, portal, trace="on")

    done = cli("--licence", "FPC367128", "--release-number", "--yes", "--json")

    assert done.returncode == 0, done.stderr
    run_dir = Path(exit_agrees(done)["run_dir"])
    assert (run_dir / "trace.zip").is_file()  # kept: MYOPENIP_TRACE=on
    assert find_secrets(run_dir, ["Pw-6ch"]) == []
    assert "Pw-6ch" not in done.stdout + done.stderr


def test_a_dotenv_shared_with_other_tools_and_lower_case_refs_are_accepted(
    replica: Replica, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, replica)
    password = cli.env.pop("MYOPENIP_PASSWORD")
    (tmp_path / ".env").write_text(
        f"DATABASE_URL=postgres://db/app\nDJANGO_SECRET_KEY=xyz\nMYOPENIP_PASSWORD={password}\n"
    )

    done = cli(
        "--licence", "fpc367128", "--keep-number", "--yes", "--json", service=SERVICE.lower()
    )

    assert done.returncode == 0, done.stderr
    assert [r["outcome"] for r in exit_agrees(done)["results"]] == ["done"]
    assert number_state(replica.state(), "0231456789") == "available"


def test_a_typo_among_several_licences_changes_nothing_and_exits_1(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()

    refused = Cli(tmp_path, replica)(
        "--licence", "FPC367128", "--licence", "FPC36712B", "--release-number", "--yes", "--json"
    )

    assert refused.returncode == 1, refused.stderr
    payload = exit_agrees(refused)
    assert [r["outcome"] for r in payload["results"]] == ["not_attempted", "refused"]
    assert "FPC36712B" in payload["error"]["message"]
    assert replica.state() == before


# Cases of one path: the service's state is read when it is opened, before a dry run and
# a real run part ways (the quick tier runs one of them in turn).
@pytest.mark.cells
@pytest.mark.parametrize("mode", [(), ("--dry-run",)], ids=["real-run", "dry-run"])
def test_a_suspended_service_exits_1_naming_its_state_and_nothing_changes(
    replica: Replica, tmp_path: Path, mode: tuple[str, ...]
) -> None:
    before = replica.state()
    one = next(row for row in before["licences"] if row["service_ref"] == "SRV-10024")

    refused = Cli(tmp_path, replica)(
        "--licence", one["ref"], "--release-number", "--yes", "--json", *mode, service="SRV-10024"
    )

    assert refused.returncode == 1, refused.stderr
    assert "« Suspendu »" in exit_agrees(refused)["error"]["message"]
    assert replica.state() == before


def test_a_refusal_after_valider_exits_1_with_the_portals_words(
    replica: Replica, tmp_path: Path
) -> None:
    # The back office suspends the service while the bot has planned and the dialog is
    # being prepared: the portal itself refuses « Valider ».
    cli = Cli(tmp_path, replica)
    run = cli.start("--licence", "FPC367128", "--release-number", "--yes", "--json")
    run.wait_for_event("dissociation_opened")
    replica.test_api("service-state", {"service_ref": SERVICE, "state": "Suspendu"})
    done = run.finish()

    assert done.returncode == 1, done.stderr
    (row,) = exit_agrees(done)["results"]
    assert row["outcome"] == "refused"
    assert "n'est pas un service MetaCentrex actif" in row["reason"]
    assert len(named(done, "dissociation_submitted")) == 1
    assert replica.state()["audit"] == []


@pytest.mark.parametrize(
    ("setting", "value", "named_in_error"),
    [
        ("traces_dir", "{tmp}/a-file/traces", "MYOPENIP_TRACES_DIR"),
        ("browser_path", "{tmp}/a-file", "MYOPENIP_BROWSER_PATH"),
        ("browser_path", "/bin/true", "did not start"),  # executable, but not a browser
        ("state_file", "{tmp}", "MYOPENIP_STATE_FILE"),  # a folder
    ],
    ids=[
        "traces-dir-under-a-file",
        "browser-not-executable",
        "browser-not-a-browser",
        "state-file-a-folder",
    ],
)
def test_an_unusable_folder_or_browser_is_one_clear_line_and_exit_2(
    replica: Replica, tmp_path: Path, setting: str, value: str, named_in_error: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder, not a browser")
    # Its own browser launch: the subject is the launch (a browser path that is not one).
    cli = Cli(tmp_path, replica, **OWN_BROWSER, **{setting: value.format(tmp=tmp_path)})

    failed = cli("--licence", "FPC367128", "--release-number", "--yes")

    assert failed.returncode == 2
    said = [line for line in failed.stderr.splitlines() if not line.startswith("{")]
    assert len(said) == 1, said  # one clear line
    assert named_in_error in said[0]
    assert "Traceback" not in failed.stderr
    assert not list((tmp_path / ".myopenip").rglob("*.tmp"))  # no session left anywhere


# Without saving the session, a saved login is not reused: the third run of
# test_dissociate.py::test_a_dry_run_changes_nothing_and_its_saved_session_spares_the_next_…


def test_a_drifted_portal_fails_a_one_shot_with_exit_1_naming_the_key(
    replica: Replica, tmp_path: Path
) -> None:
    replica.test_api("drift", {"rename": {"Rechercher": "Filtrer"}})
    before = replica.state()

    failed = Cli(tmp_path, replica)("--licence", "FPC367128", "--release-number", "--yes")

    shown = failed.stdout + failed.stderr
    assert failed.returncode == 1, shown
    assert "services.search" in shown
    assert "Filtrer" in shown  # what shows instead
    assert "myopenip smoke" in shown  # what to run next
    assert "Traceback" not in shown
    assert replica.state() == before


@pytest.mark.longest(22)
def test_a_dissociation_the_portal_has_not_shown_in_time_exits_6_and_is_never_sent_again(
    replica: Replica, tmp_path: Path
) -> None:
    replica.quirks("late-completion=600")  # the back end is done when the test says so
    cli = Cli(tmp_path, replica, completion_timeout="1")
    args = ("--licence", "FPC367128", "--release-number", "--yes")

    first = cli(*args)
    rerun = cli(*args, "--json")
    replica.test_api("complete")
    confirmed = cli(*args, "--json")

    assert first.returncode == 6, first.stderr
    assert "in progress" in first.stdout
    assert "do not redo them in the portal" in first.stdout
    (row,) = exit_agrees(rerun)["results"]  # the JSON follows its schema
    assert (rerun.returncode, row["outcome"]) == (6, "in_progress")
    assert confirmed.returncode == 0, confirmed.stderr
    (row,) = exit_agrees(confirmed)["results"]
    assert (row["outcome"], row["number"]) == ("done", "02 31 45 67 89")
    assert replica.submitted() == [["FPC367128"]]
