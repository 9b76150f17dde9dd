"""Log events never carry a secret: secret-named keys and known secret values are masked."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import structlog

from myopenip_bot.config.logs import EVENTS_NAME, RunLog, configure_logging
from myopenip_bot.config.settings import LogFormat


def test_json_log_lines_mask_passwords_and_cookies() -> None:
    stream = io.StringIO()
    configure_logging(LogFormat.JSON, "info", stream=stream)
    with RunLog(["Sup3r-Secret-Value"]).bound():
        structlog.get_logger("t").info(
            "login", username="agent-7", password="x", note="typed Sup3r-Secret-Value", cookie="abc"
        )
    event = json.loads(stream.getvalue())
    assert event["username"] == "agent-7"
    assert event["password"] == "[redacted]"
    assert event["cookie"] == "[redacted]"
    assert "Sup3r-Secret-Value" not in stream.getvalue()


def test_debug_events_are_filtered_at_info_level() -> None:
    stream = io.StringIO()
    configure_logging(LogFormat.JSON, "info", stream=stream)
    structlog.get_logger("t").debug("noise")
    assert stream.getvalue() == ""


def test_each_run_writes_its_events_to_its_own_folder_and_masks_only_its_secrets(
    tmp_path: Path,
) -> None:
    configure_logging(LogFormat.JSON, "info", stream=io.StringIO())
    first, second = RunLog(["first-secret"]), RunLog(["second-secret"])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first.open(tmp_path / "a")
    second.open(tmp_path / "b")
    log = structlog.get_logger("t")
    with first.bound():
        log.info("one", said="first-secret second-secret")
        with second.bound():
            log.info("two", said="first-secret second-secret")
        log.info("three")
    log.info("outside any run")
    assert first.folder == tmp_path / "a"
    first.close()
    second.close()

    def events(folder: str) -> list[dict[str, str]]:
        lines = (tmp_path / folder / EVENTS_NAME).read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    assert [e["event"] for e in events("a")] == ["one", "three"]
    assert [e["event"] for e in events("b")] == ["two"]
    assert events("a")[0]["said"] == "[redacted] second-secret"
    assert events("b")[0]["said"] == "first-secret [redacted]"


def test_events_before_the_run_has_a_folder_wait_for_it(tmp_path: Path) -> None:
    configure_logging(LogFormat.JSON, "info", stream=io.StringIO())
    run = RunLog()
    with run.bound():
        structlog.get_logger("t").info("early")
        run.open(tmp_path)
        structlog.get_logger("t").info("late")
    run.close()
    lines = (tmp_path / EVENTS_NAME).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["early", "late"]


def test_an_events_file_on_a_full_disk_loses_its_lines_never_the_run(tmp_path: Path) -> None:
    """/dev/full answers every write with ENOSPC, as a full disk does: the events file
    stops, says why, and logging goes on (stderr still has the events)."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    stream = io.StringIO()
    configure_logging(LogFormat.JSON, "info", stream=stream)
    run = RunLog()
    run.events.open(Path("/dev/full"))
    log = structlog.get_logger("t")
    with run.bound():
        log.info("one")
        log.warning("two")
    run.close()

    assert run.events.failed is not None
    assert "No space left" in run.events.failed
    assert [json.loads(line)["event"] for line in stream.getvalue().splitlines()] == ["one", "two"]


def test_a_persons_console_reads_warnings_as_sentences_and_not_the_rows_a_table_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At a terminal: a retry of a read as a plain sentence in the person's language, no
    timestamp nor level padding; a batch's rows are left to its table and report; the
    events keep every field."""
    stream = io.StringIO()
    configure_logging(LogFormat.CONSOLE, "info", stream=stream)
    log = structlog.get_logger("test")
    retry = {"step": "opening the service SRV-10022", "attempt": 2, "attempts": 3}
    error = "opening Mes Services: the portal answered 'Erreur technique'"

    log.warning("read_again", error=error, **retry)
    log.warning("batch_row", service="SRV-10021", licence="FPC1", outcome="refused")
    log.error("screenshot_not_taken", path="x.png")
    monkeypatch.setenv("MYOPENIP_LANG", "fr")
    log.warning("read_again", error=error, **retry)

    english, other, french = stream.getvalue().splitlines()
    assert english == (
        "The portal failed while opening the service SRV-10022 (opening Mes Services: the "
        "portal answered 'Erreur technique'): trying again (2 of 3)."
    )
    assert other == "Error: screenshot not taken (path: x.png)"
    assert french.startswith("Le portail a échoué pendant l'étape «\u00a0ouverture du service")
    assert french.endswith("nouvel essai (2 sur 3).")


def test_portal_text_in_a_console_warning_is_plain_and_short() -> None:
    """An escape sequence the portal sent is written out, never sent to the terminal; a
    10,000-character text is shortened on the console (the events file keeps it)."""
    stream = io.StringIO()
    configure_logging(LogFormat.CONSOLE, "info", stream=stream)
    log = structlog.get_logger("test")

    log.warning("service_locked", why="\x1b[2J[bold]<script>x</script>" + "x" * 10_000)

    (line,) = stream.getvalue().splitlines()
    assert "\x1b" not in line
    assert "<script>x</script>" in line  # plain text, shown as it is
    assert line.endswith(" characters)")
    assert len(line) < 1_100
