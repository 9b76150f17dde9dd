"""The batch journal: a write-ahead record of each row's state, in SQLite, that a killed run
leaves ready to resume.

    pending ──plan──▶ planned ──▶ submitting ──▶ done | refused | failed | unknown
       │                  │              ╰──▶ in_progress ──▶ done
       │                  ╰──▶ already_done | refused | failed | in_progress
       ╰── (a rerun) every row not final goes through the plan again

"submitting" is written and synced *before* the click on « Valider »; "in_progress" as
soon as the portal's answer says it accepted (before the listing is read back); the
outcome after. A rerun skips final rows (done, already done, refused) and plans the
others again: a row left "submitting" or "unknown" is settled by reading the portal (no
number any more: done), and « Valider » is clicked for it again only if its number is
still there and it was clicked fewer than twice in all; a row "in_progress" is never
submitted again (done once the portal shows it, else in progress still). WAL mode,
synchronous=FULL, one transaction per transition (BEGIN IMMEDIATE), a schema version in
PRAGMA user_version and our own PRAGMA application_id, so that a file that is not a
journal is never written to.
A lock file beside it (`<journal>.lock`, flock) lets one run at a time use it; the kernel
releases it when a run dies, so a killed run never leaves it stuck. The lock is taken only
once the journal's path is checked (a regular file or nothing yet, no link for it or its
companions), and never through a link. The journal holds no secret: refs, numbers,
states, what the portal showed of each row (service name, client, licence type, user) and
its answers (made visible, text.visible), screenshot paths, and each run's exit code and
report folder.

Schema versions: 1 had no service name, licence type, user or report; a version 1 journal
is brought forward in place when it is opened (the columns added, empty until a run
fills them), never refused.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from myopenip_bot.batch.file import BatchRow
from myopenip_bot.browser.workdir import make_private_dirs
from myopenip_bot.dissociation.accepted import same_portal
from myopenip_bot.errors import BotError, SettingsError
from myopenip_bot.files import refuse_link
from myopenip_bot.text import visible

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["FINAL", "Journal", "JournalLockedError", "JournalRow", "RunRecord"]

APPLICATION_ID = 0x4D4F4950  # "MOIP"
SCHEMA_VERSION = 3
FINAL = frozenset({"done", "already_done", "refused"})
# Rows added per transaction when a file is loaded (a signal is checked between two).
LOAD_CHUNK = 10_000
# The files SQLite and the lock keep beside a journal.
COMPANIONS = ("-wal", "-shm", "-journal", ".lock")
_COLUMNS = (  # in JournalRow's order
    "service, licence, line, keep, number, state, planned_number, tab,"
    " submissions, reason, answer, screenshot, client, run,"
    " service_name, licence_type, user_name"
)
STATES = frozenset(
    {
        "pending",
        "planned",
        "submitting",
        "in_progress",
        "done",
        "already_done",
        "refused",
        "failed",
        "unknown",
    }
)

_SCHEMA = """
CREATE TABLE rows (
    service TEXT NOT NULL,
    licence TEXT NOT NULL,
    line INTEGER NOT NULL,
    keep INTEGER NOT NULL,
    number TEXT,                 -- as the file gives it, or NULL
    state TEXT NOT NULL,
    planned_number TEXT,         -- the number the portal showed when planned
    tab TEXT,
    submissions INTEGER NOT NULL DEFAULT 0,  -- « Valider » clicks with it, over all runs
    reason TEXT,
    answer TEXT,                 -- the portal's words after « Valider »
    screenshot TEXT,             -- the dialog before « Valider »
    client TEXT,                 -- the service's client, as the services list shows it
    run INTEGER,                 -- the run that gave the row its state
    updated_at TEXT NOT NULL,
    service_name TEXT,           -- (2) the service's name, as the services list shows it
    licence_type TEXT,           -- (2) "Licence full conferencing", as the listing shows it
    user_name TEXT,              -- (2) « Utilisateur », as the listing shows it
    PRIMARY KEY (service, licence)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    file TEXT NOT NULL,
    exit_code INTEGER,
    report TEXT,                 -- (2) its report folder
    portal TEXT                  -- (3) the portal it ran on (MYOPENIP_BASE_URL)
);
"""
# From each version to the next, in place, in one transaction.
_MIGRATIONS = {
    1: (
        "ALTER TABLE rows ADD COLUMN service_name TEXT",
        "ALTER TABLE rows ADD COLUMN licence_type TEXT",
        "ALTER TABLE rows ADD COLUMN user_name TEXT",
        "ALTER TABLE runs ADD COLUMN report TEXT",
    ),
    2: ("ALTER TABLE runs ADD COLUMN portal TEXT",),
}


class JournalLockedError(BotError):
    """Another run holds the journal's lock."""


@dataclass(slots=True)
class JournalRow:
    """One row of the journal as read. Not frozen: a batch reads 200,000 of them after
    a stop, and a frozen dataclass takes three times as long to build; nothing assigns
    to one (a fresh read replaces it)."""

    service: str
    licence: str
    line: int
    keep: bool
    number: str | None
    state: str
    planned_number: str | None
    tab: str | None
    submissions: int
    reason: str | None
    answer: str | None
    screenshot: str | None
    client: str | None
    run: int | None
    service_name: str | None = None
    licence_type: str | None = None
    user: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL


@dataclass(frozen=True)
class RunRecord:
    """One run of the journal, as `finish_run` recorded it."""

    id: int
    started_at: str
    finished_at: str | None
    exit_code: int | None
    report: str | None


def copy_for_dry_run(path: Path, copy: Path) -> None:
    """Copy the journal at `path` to `copy` without ever writing to it: checked through a
    read-only connection (its last records included, even those a killed run left in the
    write-ahead log), while its lock is held. Raises like `Journal.open`."""
    check_path(path)
    lock_fd = _lock(path)
    try:
        with path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise SettingsError(f"{path} is not a journal (not an SQLite file): not touched")
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error as error:
            raise SettingsError(f"the journal {path} cannot be read: {error}") from None
        try:
            app_id = source.execute("PRAGMA application_id").fetchone()[0]
            if app_id != APPLICATION_ID:
                raise SettingsError(f"{path} is an SQLite file but not a myopenip journal")
            target = sqlite3.connect(copy)
            try:
                source.backup(target)
            finally:
                target.close()
        except sqlite3.DatabaseError as error:
            raise SettingsError(f"the journal {path} is unreadable or corrupt: {error}") from None
        finally:
            source.close()
    finally:
        if lock_fd is not None:
            os.close(lock_fd)


class Journal:
    """An open, locked journal; `open` it, `close` it."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_fd: int | None) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd = lock_fd
        self._mutex = threading.RLock()  # workers share the connection: one at a time
        self.run_id: int | None = None

    @classmethod
    def open(cls, path: Path) -> Journal:
        """Lock and open (or create) the journal at `path`.

        Raises JournalLockedError when another run holds it, SettingsError when the file
        is not a journal of ours, is corrupt, or cannot be created: it is never overwritten.
        """
        path = path.expanduser()
        check_path(path)
        try:
            make_private_dirs(path.parent)
        except OSError as error:
            raise SettingsError(
                f"cannot create the journal's folder {path.parent}: {error}"
            ) from None
        lock_fd = _lock(path)
        try:
            conn = _connect(path)
        except BaseException:
            if lock_fd is not None:
                os.close(lock_fd)
            raise
        return cls(path, conn, lock_fd)

    def close(self) -> None:
        self._conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- rows -----------------------------------------------------------------------------

    def load(
        self, rows: list[BatchRow], check: Callable[[], None] | None = None
    ) -> list[JournalRow]:
        """Add the file's rows not yet in the journal; return every row of the file.

        A row already in the journal keeps its history. If the file now asks another
        « Conserver le numéro » for a row that is not final, the file wins (nothing was
        submitted with the old value unless it is "submitting", which keeps its value).
        Rows go in LOAD_CHUNK at a time (loading twice adds nothing twice); `check` is
        called between two chunks, so that a signal stops a long load.
        """
        now = _now()
        for start in range(0, len(rows), LOAD_CHUNK):
            if check is not None and start:
                check()
            with self._transaction() as conn:
                conn.executemany(
                    "INSERT INTO rows (service, licence, line, keep, number, state, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, 'pending', ?)"
                    " ON CONFLICT (service, licence) DO UPDATE SET line = excluded.line,"
                    " keep = CASE WHEN state IN ('pending', 'planned', 'failed')"
                    "        THEN excluded.keep ELSE keep END,"
                    " number = excluded.number",
                    [
                        (row.service, row.licence, row.line, int(row.keep), row.number, now)
                        for row in rows[start : start + LOAD_CHUNK]
                    ],
                )
        wanted = {(row.service, row.licence) for row in rows}
        return [row for row in self.rows() if (row.service, row.licence) in wanted]

    def rows(self) -> list[JournalRow]:
        """Every row, in the file's order."""
        return self._select("ORDER BY line")

    def rows_of(self, service: str) -> list[JournalRow]:
        """The rows of one service, in the file's order."""
        return self._select("WHERE service = ? ORDER BY line", (service,))

    def row(self, service: str, licence: str) -> JournalRow | None:
        found = self._select("WHERE service = ? AND licence = ?", (service, licence))
        return found[0] if found else None

    def _select(self, where: str, values: tuple[object, ...] = ()) -> list[JournalRow]:
        with self._mutex:
            cursor = self._conn.execute(f"SELECT {_COLUMNS} FROM rows {where}", values)
            found = cursor.fetchall()
        return [JournalRow(r[0], r[1], r[2], bool(r[3]), *r[4:]) for r in found]

    def planned(
        self,
        service: str,
        licence: str,
        number: str | None,
        tab: str | None,
        *,
        licence_type: str | None = None,
        user: str | None = None,
    ) -> None:
        """Found with a number, by this run: what the listing showed of it."""
        fields: dict[str, object] = {
            "state": "planned",
            "planned_number": number,
            "tab": tab,
            "reason": None,
            "run": self.run_id,
        }
        if licence_type is not None:
            fields["licence_type"] = licence_type
        if user is not None:
            fields["user_name"] = user
        self._update(service, licence, **fields)

    def submitting(self, service: str, licences: list[str], screenshot: str | None) -> None:
        """Before « Valider »: these rows are being submitted (synced to disk on return)."""
        now = _now()
        with self._transaction() as conn:
            for licence in licences:
                conn.execute(
                    "UPDATE rows SET state = 'submitting', submissions = submissions + 1,"
                    " screenshot = COALESCE(?, screenshot), updated_at = ?"
                    " WHERE service = ? AND licence = ?",
                    (screenshot, now, service, licence),
                )

    def settle(
        self,
        service: str,
        licence: str,
        state: str,
        *,
        reason: str | None = None,
        answer: str | None = None,
        number: str | None = None,
        tab: str | None = None,
        submissions: int | None = None,
    ) -> None:
        """Record a row's outcome (and its « Valider » count, when the runner knows it)."""
        self.record_outcomes(
            service,
            [
                (
                    licence,
                    state,
                    {
                        "reason": reason,
                        "answer": answer,
                        "number": number,
                        "tab": tab,
                        "submissions": submissions,
                    },
                )
            ],
        )

    def record_outcomes(
        self, service: str, outcomes: Sequence[tuple[str, str | None, Mapping[str, object]]]
    ) -> None:
        """Several rows' outcomes in one transaction: (licence, state, details) each, with
        details `reason`, `answer`, `number` (as planned), `tab`, `submissions`, and what
        the listing showed (`licence_type`, `user`) and the dialog's `screenshot` (those
        None are left as they are). A state None only records why the row stays as it is
        (not attempted, not confirmed, would be done in a dry run), with what was read."""
        now = _now()
        groups: dict[tuple[str, ...], list[tuple[object, ...]]] = {}  # by columns set
        with self._transaction() as conn:
            for licence, state, details in outcomes:
                fields: dict[str, object] = {"reason": details.get("reason")}
                shown = [
                    ("licence_type", "licence_type"),
                    ("user", "user_name"),
                    ("screenshot", "screenshot"),
                ]
                if state is not None:
                    fields |= {"state": state, "run": self.run_id}
                    shown += [
                        ("answer", "answer"),
                        ("number", "planned_number"),
                        ("tab", "tab"),
                        ("submissions", "submissions"),
                    ]
                elif details.get("number") is not None:
                    fields["planned_number"] = details["number"]  # a dry run's, say
                for name, column in shown:
                    if details.get(name) is not None:
                        fields[column] = details[name]
                fields = _checked_fields(fields)
                groups.setdefault(tuple(fields), []).append(
                    (*fields.values(), now, service, licence)
                )
            for columns, values in groups.items():  # a stopped batch's 200,000: a few calls
                assignments = ", ".join(f"{name} = ?" for name in columns)
                conn.executemany(
                    f"UPDATE rows SET {assignments}, updated_at = ? "
                    "WHERE service = ? AND licence = ?",
                    values,
                )

    def settle_many(
        self,
        service: str,
        licences: Sequence[str],
        state: str,
        *,
        reason: str,
        unless: frozenset[str] = frozenset(),
    ) -> None:
        """Give rows of `service` one outcome, in one transaction, but those whose state is
        one of `unless` (a service refused as a whole, say)."""
        with self._transaction() as conn:
            for licence in licences:
                current = conn.execute(
                    "SELECT state FROM rows WHERE service = ? AND licence = ?", (service, licence)
                ).fetchone()
                if current is not None and current[0] not in unless:
                    _set(
                        conn,
                        service,
                        licence,
                        {"state": state, "reason": reason, "run": self.run_id},
                    )

    def _update(self, service: str, licence: str, **fields: object) -> None:
        with self._transaction() as conn:
            _set(conn, service, licence, fields)

    # -- runs -----------------------------------------------------------------------------

    def set_client(self, service: str, client: str) -> None:
        self.set_service(service, client=client)

    def set_service(
        self, service: str, *, name: str | None = None, client: str | None = None
    ) -> None:
        """What the services list showed of `service`, for every row of it."""
        with self._transaction() as conn:
            if client is not None:
                conn.execute(
                    "UPDATE rows SET client = ? WHERE service = ?", (visible(client), service)
                )
            if name is not None:
                conn.execute(
                    "UPDATE rows SET service_name = ? WHERE service = ?", (visible(name), service)
                )

    def note(self, service: str, licence: str, reason: str) -> None:
        """Say why a row that is not final stays so (not attempted, not confirmed)."""
        self._update(service, licence, reason=reason)

    def start_run(self, file: Path, portal: str | None = None) -> int:
        """Record a run of `file` on `portal` (its base URL) starting now."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (started_at, file, portal) VALUES (?, ?, ?)",
                (_now(), str(file), same_portal(portal) if portal else None),
            )
        self.run_id = int(cursor.lastrowid or 0)
        return self.run_id

    def other_portal(self, portal: str) -> str | None:
        """The portal an earlier run of this journal ran on, when it is not `portal`: its
        rows' states are that portal's, not this one's (None: the same, or not known)."""
        with self._mutex:
            found = self._conn.execute(
                "SELECT DISTINCT portal FROM runs WHERE portal IS NOT NULL"
            ).fetchall()
        others = sorted(row[0] for row in found if row[0] != same_portal(portal))
        return others[0] if others else None

    def finish_run(self, exit_code: int, report: Path | None = None) -> None:
        if self.run_id is None:
            return
        with self._transaction() as conn:
            conn.execute(
                "UPDATE runs SET finished_at = ?, exit_code = ?, report = ? WHERE id = ?",
                (_now(), exit_code, str(report) if report else None, self.run_id),
            )

    def last_run(self) -> RunRecord | None:
        """The last run that finished (recorded its exit code), if any."""
        with self._mutex:
            found = self._conn.execute(
                "SELECT id, started_at, finished_at, exit_code, report FROM runs"
                " WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return RunRecord(*found) if found else None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")  # synchronous=FULL: on disk when this returns


def _checked_fields(fields: dict[str, object]) -> dict[str, object]:
    """`fields` with the texts from the portal made visible, its state a known one."""
    for name in ("reason", "answer", "client", "service_name", "licence_type", "user_name"):
        value = fields.get(name)
        if isinstance(value, str):
            fields[name] = visible(value)
    state = fields.get("state")
    if state is not None and state not in STATES:
        raise ValueError(f"unknown state {state!r}")
    return fields


def _set(conn: sqlite3.Connection, service: str, licence: str, fields: dict[str, object]) -> None:
    """Update one row's columns (texts from the portal made visible first)."""
    fields = _checked_fields(fields)
    columns = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(
        f"UPDATE rows SET {columns}, updated_at = ? WHERE service = ? AND licence = ?",
        (*fields.values(), _now(), service, licence),
    )


def check_path(path: Path) -> None:
    """Refuse a journal path that is a link, a folder or not a regular file (a device, a
    pipe), or whose companions (`-wal`, `-shm`, `.lock`) are links: nothing is created."""
    refuse_link(path, "the journal")
    for suffix in COMPANIONS:
        refuse_link(path.with_name(path.name + suffix), "the journal's companion file")
    if path.is_dir():
        raise SettingsError(f"the journal {path} is a folder; give a file path with --journal")
    if path.exists() and not path.is_file():
        raise SettingsError(
            f"the journal {path} is not a regular file; give a file path with --journal"
        )


def _lock(path: Path) -> int | None:
    if fcntl is None:
        return None
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as error:
        raise SettingsError(f"cannot create the journal's lock {lock_path}: {error}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode(errors="replace").strip()
        os.close(fd)
        who = f" (pid {holder})" if holder else ""
        raise JournalLockedError(
            f"another run is using the journal {path}{who}: wait for it to end, or give this "
            "run its own --journal"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def _connect(path: Path) -> sqlite3.Connection:
    existed = path.exists() and path.stat().st_size > 0
    try:
        if existed:
            with path.open("rb") as handle:
                if handle.read(16) != b"SQLite format 3\x00":
                    raise SettingsError(
                        f"{path} is not a journal (not an SQLite file): not touched; "
                        "give another --journal"
                    )
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if existed:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if app_id != APPLICATION_ID:
                conn.close()
                raise SettingsError(
                    f"{path} is an SQLite file but not a myopenip journal: not touched; "
                    "give another --journal"
                )
            if version not in _MIGRATIONS and version != SCHEMA_VERSION:
                conn.close()
                raise SettingsError(
                    f"{path} is a journal of another version ({version}, this bot writes "
                    f"{SCHEMA_VERSION}): not touched"
                )
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                conn.close()
                raise SettingsError(
                    f"the journal {path} is corrupt ({verdict}): not touched; keep it for a "
                    "person to look at, and give another --journal"
                )
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        if existed:
            _migrate(conn, version)
        if not existed:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        os.chmod(path, 0o600)
        return conn
    except sqlite3.DatabaseError as error:
        with contextlib.suppress(UnboundLocalError, sqlite3.Error):
            conn.close()
        raise SettingsError(f"the journal {path} is unreadable or corrupt: {error}") from None


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring a journal of an earlier version forward, one version at a time, each in one
    transaction (a run killed halfway leaves it at a version it can go on from)."""
    while version in _MIGRATIONS:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _MIGRATIONS[version]:
                conn.execute(statement)
            version += 1
            conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
