"""The smoke's evidence on plain data: JUnit (errors for what could not run, failures with
their screenshot and closest names), one exit code for the command and its pytest suite,
the JSON document against its schema, and the suite's own settings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from myopenip.commands.smoke import document
from myopenip.exitcodes import of_smoke
from myopenip_bot.config.selectors import Control
from myopenip_bot.config.settings import load_settings
from myopenip_bot.errors import AuthenticationError, SettingsError, TechnicalError
from myopenip_bot.smoke.checks import CHECKS, CheckResult, Status
from myopenip_bot.smoke.junit import write_junit
from myopenip_bot.smoke.run import SmokeResult, not_run


def schema(command: str) -> dict[str, Any]:
    """The JSON Schema of `myopenip <command> --json`, as the package ships it."""
    text = (resources.files("myopenip") / "schemas" / f"{command}.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


SUBMIT = next(spec for spec in CHECKS if spec.key == "dialog.submit")


def results(**statuses: Status) -> list[CheckResult]:
    """Every check passed, but those named by key (the first check of that key)."""
    found = []
    for spec in CHECKS:
        status = statuses.pop(spec.key.replace(".", "_"), Status.PASSED)
        found.append(CheckResult(spec, status, f"{spec.key}: {status.value}"))
    return found


def drifted(screenshot: Path | None) -> list[CheckResult]:
    checks = results()
    at = checks.index(next(c for c in checks if c.spec is SUBMIT))
    checks[at] = CheckResult(
        SUBMIT,
        Status.FAILED,
        'dialog.submit: no button named "Valider"; found button "Confirmer\x1b[31m"',
        screenshot=screenshot,
        control=Control(role="button", name="Valider"),
        candidates=(("button", "Confirmer\x1b[31m"), ("button", "Annuler")),
    )
    return checks


def cases(path: Path) -> dict[str, ET.Element]:
    return {
        f"{case.get('classname', '').removeprefix('smoke.')}: {case.get('name')}": case
        for case in ET.parse(path).getroot().iter("testcase")
    }


def test_checks_that_could_not_run_are_junit_errors_never_skips(tmp_path: Path) -> None:
    unreachable = not_run("the portal at http://127.0.0.1:9/ cannot be reached")

    write_junit(unreachable, tmp_path / "junit.xml")

    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert (suite.get("errors"), suite.get("failures"), suite.get("skipped")) == (
        str(len(CHECKS)),
        "0",
        "0",
    )
    for case in cases(tmp_path / "junit.xml").values():
        error = case.find("error")
        assert error is not None
        assert "cannot be reached" in (error.get("message") or "")


def test_a_failed_check_attaches_its_screenshot_and_the_closest_names(tmp_path: Path) -> None:
    shot = tmp_path / "run" / "07-failed-dialog.submit.png"
    shot.parent.mkdir()
    shot.write_bytes(b"png")

    write_junit(drifted(shot), tmp_path / "junit.xml")

    case = cases(tmp_path / "junit.xml")[SUBMIT.id]
    failure = case.find("failure")
    assert failure is not None
    assert "dialog.submit" in (failure.get("message") or "")
    out = case.findtext("system-out") or ""
    assert f"[[ATTACHMENT|{shot.resolve()}]]" in out.splitlines()
    assert 'button "Confirmer\\x1b[31m", button "Annuler"' in out  # portal text: visible
    assert "\x1b" not in (tmp_path / "junit.xml").read_text(encoding="utf-8")
    passing = cases(tmp_path / "junit.xml")[CHECKS[0].id]
    assert list(passing) == []  # a passing check: nothing to say


def test_an_attachment_is_relative_to_the_folder_the_run_started_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitLab links an attachment only by a path relative to the project folder."""
    shot = tmp_path / "traces" / "run" / "07-failed-dialog.submit.png"
    shot.parent.mkdir(parents=True)
    shot.write_bytes(b"png")
    monkeypatch.chdir(tmp_path)

    write_junit(drifted(shot), tmp_path / "junit.xml")

    out = cases(tmp_path / "junit.xml")[SUBMIT.id].findtext("system-out") or ""
    assert "[[ATTACHMENT|traces/run/07-failed-dialog.submit.png]]" in out.splitlines()
    assert "Screenshot: traces/run/07-failed-dialog.submit.png" in out.splitlines()


@pytest.mark.parametrize(
    ("result", "code"),
    [
        (SmokeResult(results()), 0),
        (SmokeResult(results(login_error=Status.SKIPPED)), 0),
        (SmokeResult(drifted(None)), 1),
        (SmokeResult(results(dialog_submit=Status.ERROR)), 1),  # not run after a failed gate
        (SmokeResult(not_run("refused"), error=AuthenticationError("refused")), 2),
        (SmokeResult(not_run("bad"), error=SettingsError("bad")), 2),
        (SmokeResult(not_run("unreachable"), error=TechnicalError("unreachable")), 3),
        (SmokeResult(drifted(None), interrupted=2), 130),
        (SmokeResult(not_run("x"), error=TechnicalError("x"), interrupted=15), 143),
    ],
    ids=[
        "passed",
        "skipped",
        "drift",
        "not-run-after-a-drift",
        "login-refused",
        "settings",
        "unreachable",
        "sigint",
        "sigterm",
    ],
)
def test_one_exit_code_for_the_command_and_its_pytest_suite(result: SmokeResult, code: int) -> None:
    assert of_smoke(result) == code


def test_the_json_document_follows_its_schema_whatever_stopped_the_walk(tmp_path: Path) -> None:
    validator = Draft202012Validator(schema("smoke"))
    Draft202012Validator.check_schema(schema("smoke"))
    shot = tmp_path / "shot.png"
    for result in (
        SmokeResult(drifted(shot), run_dir=tmp_path),
        SmokeResult(not_run("no"), error=TechnicalError("the portal \x1b cannot be reached")),
        SmokeResult(results(), interrupted=2),
    ):
        payload = document(result, of_smoke(result), "http://portal")

        errors = sorted(validator.iter_errors(payload), key=str)
        assert errors == [], errors[0].message if errors else ""
        assert payload["exit_code"] == of_smoke(result)
    assert payload["interrupted"] == "SIGINT"


def test_the_suites_service_and_licence_are_settings_not_typos(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("MYOPENIP_SMOKE_SERVICE", "SRV-10021")
    monkeypatch.setenv("MYOPENIP_SMOKE_LICENCE", "FPC367128")

    settings = load_settings()

    assert (settings.smoke_service, settings.smoke_licence) == ("SRV-10021", "FPC367128")
    monkeypatch.setenv("MYOPENIP_SMOKE_LICENSE", "FPC367128")
    with pytest.raises(SettingsError, match="MYOPENIP_SMOKE_LICENSE: unknown setting"):
        load_settings()


def test_junits_messages_are_french_under_myopenip_lang_fr_and_its_names_and_json_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shot = tmp_path / "07-failed-dialog.submit.png"
    shot.write_bytes(b"png")
    checks = drifted(shot)
    gate = next(i for i, c in enumerate(checks) if c.spec.key == "login.heading")
    checks[gate] = CheckResult(checks[gate].spec, Status.ERROR, "not run: interrupted by SIGINT")
    english = document(SmokeResult(checks), 1, "http://portal")
    monkeypatch.setenv("MYOPENIP_LANG", "fr")

    write_junit(checks, tmp_path / "junit.xml")

    found = cases(tmp_path / "junit.xml")
    error = found[checks[gate].id].find("error")
    assert error is not None
    assert error.get("message") == "non exécutée\u00a0: interrompue par SIGINT"
    assert error.get("type") == "not run"  # a machine's word: the same in every language
    out = found[SUBMIT.id].findtext("system-out") or ""
    assert "Les plus proches à l'écran, la meilleure d'abord\u00a0: button" in out
    assert f"Capture d'écran\u00a0: {shot.resolve()}" in out.splitlines()
    assert SUBMIT.id in found  # the cases keep their names
    assert document(SmokeResult(checks), 1, "http://portal") == english  # JSON: no French


def test_a_long_detail_shows_whole_in_the_table_wrapped_and_a_huge_one_shortened() -> None:
    """A check's sentence of a few hundred characters (a guard quoting the requests it
    saw) is wrapped in its cell, never cut mid-word; only one past a screen's worth is
    shortened, saying how long it was."""
    from rich.console import Console

    from myopenip.commands.smoke import _print_table

    long = "network.read_only: " + " ".join(f"request{i} answered" for i in range(20))
    huge = "x" * 5_000
    checks = results()
    checks[0] = CheckResult(checks[0].spec, Status.FAILED, long)
    checks[1] = CheckResult(checks[1].spec, Status.FAILED, huge)
    console = Console(width=80, record=True, color_system=None)

    _print_table(console, SmokeResult(checks), "http://portal")

    screen = console.export_text()
    words = set(screen.replace("│", " ").split())
    assert {f"request{i}" for i in range(20)} <= words, screen  # whole, none cut
    assert screen.count("characters)") == 1  # the huge one alone is shortened
    assert "(5,000 characters)" in screen
