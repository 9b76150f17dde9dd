"""Settings are read from MYOPENIP_* variables and .env, and fail at start-up naming the culprit."""

from __future__ import annotations

from pathlib import Path

import pytest

from myopenip_bot.config.settings import LogFormat, TraceMode, load_settings
from myopenip_bot.errors import SettingsError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("MYOPENIP_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_target_the_local_replica_and_retain_traces_on_failure() -> None:
    settings = load_settings()
    assert settings.base_url == "http://127.0.0.1:8765"
    assert settings.trace is TraceMode.RETAIN_ON_FAILURE
    assert settings.traces_dir == Path("traces")
    assert settings.headless is True
    assert settings.log_format is LogFormat.AUTO


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYOPENIP_BASE_URL", "https://my.openip.fr/")
    monkeypatch.setenv("MYOPENIP_TRACE", "off")
    monkeypatch.setenv("MYOPENIP_TIMEOUT_MS", "5000")
    monkeypatch.setenv("MYOPENIP_SAVE_SESSION", "false")
    settings = load_settings()
    assert settings.base_url == "https://my.openip.fr"
    assert settings.trace is TraceMode.OFF
    assert settings.timeout_ms == 5000
    assert settings.save_session is False  # no session file, none reused


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MYOPENIP_USERNAME=alice\nMYOPENIP_PASSWORD=s3cret-pass\n")
    username, password = load_settings().require_credentials()
    assert username == "alice"
    assert password.get_secret_value() == "s3cret-pass"


def test_password_is_never_shown_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYOPENIP_PASSWORD", "s3cret-pass")
    settings = load_settings()
    assert "s3cret-pass" not in repr(settings)
    assert "s3cret-pass" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("MYOPENIP_TIMEOUT_MS", "soon", "MYOPENIP_TIMEOUT_MS"),
        ("MYOPENIP_TIMEOUT_MS", "10", "MYOPENIP_TIMEOUT_MS"),
        ("MYOPENIP_TRACE", "sometimes", "MYOPENIP_TRACE"),
        ("MYOPENIP_BASE_URL", "my.openip.fr", "MYOPENIP_BASE_URL"),
        ("MYOPENIP_BROWSER_PATH", "/nowhere/chromium", "MYOPENIP_BROWSER_PATH"),
        ("MYOPENIP_LOG_LEVEL", "loud", "MYOPENIP_LOG_LEVEL"),
        ("MYOPENIP_PASWORD", "typo", "MYOPENIP_PASWORD"),
    ],
)
def test_invalid_setting_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=named):
        load_settings()


def test_unknown_key_in_dotenv_fails_naming_it(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MYOPENIP_USERNAM=alice\n")
    with pytest.raises(SettingsError, match="MYOPENIP_USERNAM: unknown setting"):
        load_settings()


def test_missing_credentials_name_both_variables() -> None:
    with pytest.raises(SettingsError, match="MYOPENIP_USERNAME and MYOPENIP_PASSWORD"):
        load_settings().require_credentials()


def test_empty_password_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYOPENIP_USERNAME", "alice")
    monkeypatch.setenv("MYOPENIP_PASSWORD", "")
    with pytest.raises(SettingsError, match="MYOPENIP_PASSWORD"):
        load_settings().require_credentials()


def test_keys_of_other_tools_in_a_shared_dotenv_are_ignored(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "DATABASE_URL=postgres://db/app\nSECRET_KEY=abc\nMYOPENIP_USERNAME=alice\n"
    )
    assert load_settings().username == "alice"


@pytest.mark.parametrize("where", ["environment", "dotenv"])
def test_a_typo_among_myopenip_names_is_refused_with_a_suggestion(
    where: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if where == "environment":
        monkeypatch.setenv("MYOPENIP_PASWORD", "typo")
    else:
        (tmp_path / ".env").write_text("MYOPENIP_PASWORD=typo\n")
    with pytest.raises(SettingsError, match=r"did you mean MYOPENIP_PASSWORD\?"):
        load_settings()


def test_an_unusable_traces_folder_is_one_clear_error_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MYOPENIP_TRACES_DIR", str(blocker / "traces"))
    settings = load_settings()
    with pytest.raises(SettingsError, match="MYOPENIP_TRACES_DIR: cannot use the folder"):
        settings.prepare_folders()


def test_a_command_that_acts_refuses_records_it_could_not_keep(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without its record of what the portal accepted, a later run could send « Valider »
    again for what the portal is still working on: refused before any browser starts."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MYOPENIP_ACCEPTED_FILE", str(tmp_path))
    with pytest.raises(SettingsError, match=r"MYOPENIP_ACCEPTED_FILE: .* is a folder"):
        load_settings().prepare_folders(acting=True)
    monkeypatch.setenv("MYOPENIP_ACCEPTED_FILE", str(blocker / "accepted.sqlite3"))
    with pytest.raises(SettingsError, match="MYOPENIP_ACCEPTED_FILE: cannot use the folder"):
        load_settings().prepare_folders(acting=True)
    load_settings().prepare_folders()  # a read-only command (find, smoke) needs none


def test_the_user_records_what_the_portal_accepted_in_their_state_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert load_settings().accepted_file == tmp_path / "state" / "myopenip" / "accepted.sqlite3"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")  # the spec: absolute only
    assert load_settings().accepted_file.parent.parts[-3:] == (".local", "state", "myopenip")


def test_the_bot_creates_its_folders_readable_by_their_owner_only(tmp_path: Path) -> None:
    settings = load_settings()  # relative defaults, under the test's working folder
    settings.prepare_folders()
    for folder in (tmp_path / "traces", tmp_path / ".myopenip", tmp_path / ".myopenip" / "work"):
        assert folder.stat().st_mode & 0o777 == 0o700


def test_a_browser_path_that_is_not_executable_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("MYOPENIP_BROWSER_PATH", str(fake))
    with pytest.raises(SettingsError, match=r"MYOPENIP_BROWSER_PATH: .*not executable"):
        load_settings()


def test_the_password_leaves_the_environment_the_process_started_with() -> None:
    import subprocess
    import sys

    script = (
        "from myopenip_bot.config.settings import forget_password_environment\n"
        "import os\n"
        "before = open('/proc/self/environ', 'rb').read().count(b'S3cr3t-value')\n"
        "forget_password_environment()\n"
        "after = open('/proc/self/environ', 'rb').read().count(b'S3cr3t-value')\n"
        "print(before, after, 'MYOPENIP_PASSWORD' in os.environ, os.environ['OTHER'])\n"
    )
    env = {"MYOPENIP_PASSWORD": "S3cr3t-value", "OTHER": "kept", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )

    assert done.stdout.split() == ["1", "0", "False", "kept"]
