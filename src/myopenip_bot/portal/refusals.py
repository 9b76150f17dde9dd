"""Logins the portal refused, remembered between runs so that a stale password never locks
the account (the portal locks it after a few failed attempts; a nightly job would get there
in a few nights).

    RefusedLogins(folder, url, user, password)
        .check()      AuthenticationError naming the first refusal, when these very
                      credentials were refused before (nothing is tried)
        .remember(why) these credentials were refused (the first refusal is kept)
        .forget()     a login of this user on this portal succeeded: no record any more

The record holds the portal's address, the username, when and why, and a salted hash of
address + username + password (scrypt, a random salt per record): never the password.
It is one private file (mode 600) in the bot's private work folder (MYOPENIP_WORK_DIR).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from myopenip_bot.browser.workdir import make_private_dirs
from myopenip_bot.errors import AuthenticationError, SettingsError
from myopenip_bot.files import write_private

__all__ = ["FILE_NAME", "LoginRefusedBeforeError", "RefusedLogins"]

log = structlog.get_logger(__name__)

FILE_NAME = "refused-logins.json"
_FORMAT = 1
# scrypt's cost: about 50 ms and 16 MiB here, once per run; enough that the hash of a
# guessed password costs as much as the attacker's own scrypt.
_N, _R, _P = 2**14, 8, 1


class LoginRefusedBeforeError(AuthenticationError):
    """These credentials were refused by an earlier run: not tried again (--retry-login)."""


def _digest(salt: bytes, url: str, user: str, password: str) -> str:
    secret = "\0".join((url, user, password)).encode("utf-8")
    return hashlib.scrypt(secret, salt=salt, n=_N, r=_R, p=_P, dklen=32).hex()


class RefusedLogins:
    """The record of refused logins for one portal address, username and password."""

    def __init__(self, folder: Path, url: str, user: str, password: str) -> None:
        self.path = folder.expanduser() / FILE_NAME
        self._url = url.rstrip("/")
        self._user = user
        self._password = password

    def check(self) -> None:
        """Raise LoginRefusedBeforeError when these credentials were refused before."""
        record = self._matching()
        if record is not None:
            raise LoginRefusedBeforeError(
                f"the portal {record['url']} refused the login of {record['user']!r} on "
                f"{record['when']} ({record.get('why') or 'no reason given'}); not tried "
                "again with the same password, so that the account is not locked: change "
                "the password (MYOPENIP_PASSWORD), or pass --retry-login to try it once more"
            )

    def remember(self, why: str) -> None:
        """These credentials were refused: kept until they change or a login succeeds."""
        if self._matching() is not None:
            return  # the first refusal is the one to name
        salt = secrets.token_bytes(16)
        record = {
            "url": self._url,
            "user": self._user,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "why": why,
            "salt": salt.hex(),
            "hash": _digest(salt, self._url, self._user, self._password),
        }
        # One record per portal and user: the one of an older password is of no use.
        self._write([*self._others(), record])
        log.info("refused_login_remembered", url=self._url, user=self._user)

    def forget(self) -> None:
        """A login of this user on this portal succeeded: its record is of no use any more."""
        records = self._records()
        others = self._others(records)
        if len(others) != len(records):
            self._write(others)
            log.info("refused_login_forgotten", url=self._url, user=self._user)

    # -- the file -----------------------------------------------------------------------

    def _matching(self) -> dict[str, Any] | None:
        for record in self._records():
            if record.get("url") != self._url or record.get("user") != self._user:
                continue
            try:
                salt = bytes.fromhex(str(record["salt"]))
            except (KeyError, ValueError):
                continue
            digest = _digest(salt, self._url, self._user, self._password)
            if hmac.compare_digest(digest, str(record.get("hash", ""))):
                return record
        return None

    def _others(self, records: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in (self._records() if records is None else records)
            if (r.get("url"), r.get("user")) != (self._url, self._user)
        ]

    def _records(self) -> list[dict[str, Any]]:
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            log.warning("refused_logins_unreadable", path=str(self.path), error=str(error))
            return []
        if not isinstance(saved, dict) or saved.get("format") != _FORMAT:
            return []
        records = saved.get("records")
        return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []

    def _write(self, records: list[dict[str, Any]]) -> None:
        # A record that cannot be written costs a warning, never the run's outcome.
        try:
            make_private_dirs(self.path.parent)
            write_private(self.path, json.dumps({"format": _FORMAT, "records": records}, indent=1))
        except (OSError, SettingsError) as error:
            log.warning("refused_logins_not_written", path=str(self.path), error=str(error))
