"""The record of refused logins (portal/refusals.py): these very credentials, never the
password, kept privately until they change or a login succeeds."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from myopenip_bot.portal.refusals import FILE_NAME, LoginRefusedBeforeError, RefusedLogins

URL = "http://127.0.0.1:8765"


def record(folder: Path, password: str, user: str = "demo", url: str = URL) -> RefusedLogins:
    return RefusedLogins(folder, url, user, password)


def test_credentials_refused_once_are_refused_at_once_naming_the_first_refusal(
    tmp_path: Path,
) -> None:
    record(tmp_path, "stale-Pw").remember("Identifiant ou mot de passe incorrect.")

    with pytest.raises(LoginRefusedBeforeError) as refused:
        record(tmp_path, "stale-Pw").check()

    message = str(refused.value)
    assert URL in message
    assert "'demo'" in message
    assert "Identifiant ou mot de passe incorrect." in message
    assert "--retry-login" in message
    assert "stale-Pw" not in message


def test_the_record_is_private_and_holds_no_password(tmp_path: Path) -> None:
    record(tmp_path, "stale-Pw").remember("refused")

    path = tmp_path / FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "stale-Pw" not in path.read_text(encoding="utf-8")
    (saved,) = json.loads(path.read_text(encoding="utf-8"))["records"]
    assert len(bytes.fromhex(saved["salt"])) == 16


def test_other_credentials_are_tried(tmp_path: Path) -> None:
    record(tmp_path, "stale-Pw").remember("refused")

    record(tmp_path, "new-Pw").check()
    record(tmp_path, "stale-Pw", user="other").check()
    record(tmp_path, "stale-Pw", url="http://127.0.0.1:9999").check()


def test_a_second_refusal_keeps_the_first_one_named(tmp_path: Path) -> None:
    record(tmp_path, "stale-Pw").remember("first")
    record(tmp_path, "stale-Pw").remember("second")

    with pytest.raises(LoginRefusedBeforeError, match="first"):
        record(tmp_path, "stale-Pw").check()


def test_a_login_that_succeeds_forgets_the_refusal(tmp_path: Path) -> None:
    record(tmp_path, "stale-Pw").remember("refused")

    record(tmp_path, "new-Pw").forget()

    record(tmp_path, "stale-Pw").check()


def test_an_unreadable_record_refuses_nothing(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("not json", encoding="utf-8")

    record(tmp_path, "stale-Pw").check()
