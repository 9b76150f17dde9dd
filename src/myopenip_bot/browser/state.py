"""The saved login (Playwright storage state) for one portal address and username.

It is the one file that holds a live session on purpose: private (mode 600 in a private
folder), written whole and never through a link, reused only for the same portal and
username (`MYOPENIP_SAVE_SESSION=false` turns it off).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import structlog

from myopenip_bot.browser.workdir import make_private_dirs
from myopenip_bot.files import write_private

__all__ = ["StateFile"]

log = structlog.get_logger(__name__)

_STATE_FORMAT = 1


class StateFile:
    """The saved login for one portal address and username, private to its owner."""

    def __init__(self, path: Path, base_url: str, username: str) -> None:
        self.path = path.expanduser()
        self._key = {"base_url": base_url, "username": username}

    def load(self) -> dict[str, Any] | None:
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("session_state_unreadable", path=str(self.path), error=str(exc))
            return None
        if not isinstance(saved, dict) or saved.get("format") != _STATE_FORMAT:
            return None
        if {k: saved.get(k) for k in self._key} != self._key:
            log.info("session_state_not_reused", reason="other portal or username")
            return None
        state = saved.get("storage_state")
        return state if isinstance(state, dict) else None

    def save(self, storage_state: dict[str, Any]) -> None:
        make_private_dirs(self.path.parent)
        payload = json.dumps({"format": _STATE_FORMAT, **self._key, "storage_state": storage_state})
        write_private(self.path, payload)  # a new private file, renamed into place
