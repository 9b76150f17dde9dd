"""What the portal accepted and has not shown yet: the bot's own record of it.

After « Valider » the portal's status message means *accepted*; its back end may take
seconds or minutes to take the number off (the portal spec, screen 8). A run that ends
before the listing shows it leaves the licence `in_progress`, and whatever runs next (a
rerun of the one-shot, a batch, another folder of the same user) must never send a
second request for it. The portal may say so itself (« État » « Dissociation en cours »,
a hint); this record says it on a portal that shows nothing of the kind.

One SQLite file per user (`MYOPENIP_ACCEPTED_FILE`, in the user's state folder), a row per
(portal, licence): the number accepted, the service, when. A row is written as soon as
the answer is read (before the listing is read back) and removed once the portal shows
the licence without that number. It holds no secret: a portal's address, refs, numbers.

The record only ever prevents a click: if it cannot be read or written, the run goes on
(the batch journal and the portal's own listing still guard it) and says so in a warning.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from myopenip_bot.browser.workdir import make_private_dirs
from myopenip_bot.errors import SettingsError
from myopenip_bot.files import refuse_link
from myopenip_bot.models import LicenceTask
from myopenip_bot.text import visible

__all__ = ["Accepted", "AcceptedRecords", "same_portal"]

log = structlog.get_logger(__name__)

APPLICATION_ID = 0x4D4F4941  # "MOIA"
# What makes the file unusable: a warning, and the run goes on without it.
_UNUSABLE = (OSError, sqlite3.Error, ValueError, SettingsError)
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS accepted (
    portal TEXT NOT NULL,        -- MYOPENIP_BASE_URL, as same_portal writes it
    licence TEXT NOT NULL,
    number TEXT NOT NULL,        -- ten digits: the number the portal accepted to take off
    service TEXT NOT NULL,
    status TEXT,                 -- the portal's words (« Numéro(s) dissocié(s) : 1 »)
    at TEXT NOT NULL,            -- when the answer was read (UTC)
    PRIMARY KEY (portal, licence)
)
"""


@dataclass(frozen=True)
class Accepted:
    """A licence whose dissociation the portal accepted and did not show done yet."""

    licence: str
    number: str
    service: str
    at: str  # UTC, ISO 8601 to the second


def same_portal(base_url: str) -> str:
    """A portal's base URL as the bot's records compare it: no trailing slash, scheme and
    host in lower case (http://Portal:8000/ is http://portal:8000)."""
    scheme, sep, rest = base_url.strip().partition("://")
    host, slash, path = rest.partition("/")
    return (f"{scheme.lower()}{sep}{host.lower()}{slash}{path}").rstrip("/")


class AcceptedRecords:
    """The records of one portal, in the file at `path` (opened at each use: several
    processes and a batch's workers share it)."""

    def __init__(self, path: Path, portal: str) -> None:
        self.path = path.expanduser()
        self.portal = same_portal(portal)

    def earlier(self) -> dict[str, Accepted]:
        """Every licence of this portal whose dissociation was accepted and not yet shown
        done, by ref (none when the file cannot be read: a warning says why)."""
        if not self.path.exists():
            return {}
        try:
            with self._connect() as conn:
                found = conn.execute(
                    "SELECT licence, number, service, at FROM accepted WHERE portal = ?",
                    (self.portal,),
                ).fetchall()
        except _UNUSABLE as error:
            log.warning("accepted_records_unreadable", path=str(self.path), error=str(error))
            return {}
        return {str(r[0]): Accepted(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in found}

    def accepted(self, service: str, tasks: Sequence[LicenceTask], status: str | None) -> None:
        """The portal accepted « Valider » for `tasks` (with their planned numbers)."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        rows = [
            (self.portal, task.licence_ref, task.number, service, visible(status or ""), now)
            for task in tasks
            if task.licence_ref and task.number
        ]
        if rows:
            self._write(
                "INSERT OR REPLACE INTO accepted (portal, licence, number, service, status, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def forget(self, licences: Iterable[str]) -> None:
        """The portal shows these licences done (or with another number): no record."""
        rows = [(self.portal, licence) for licence in licences]
        if rows and self.path.exists():
            self._write("DELETE FROM accepted WHERE portal = ? AND licence = ?", rows)

    def _write(self, statement: str, rows: Sequence[tuple[object, ...]]) -> None:
        try:
            with self._connect() as conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(statement, rows)
                conn.execute("COMMIT")
        except _UNUSABLE as error:
            log.warning("accepted_records_not_written", path=str(self.path), error=str(error))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection to the file, created private (700 folder, 600 file) and checked to
        be ours; never through a link."""
        refuse_link(self.path, "the records of accepted dissociations")
        existed = self.path.exists()
        if not existed:
            make_private_dirs(self.path.parent)
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            if existed and self.path.stat().st_size > 0:
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
                if app_id != APPLICATION_ID:
                    raise ValueError(f"{self.path} is not the bot's records: not touched")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute(_SCHEMA)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            if not existed:
                with contextlib.suppress(OSError):
                    os.chmod(self.path, 0o600)
            yield conn
        finally:
            conn.close()
