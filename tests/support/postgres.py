"""A throw-away PostgreSQL server for the ledger's tests, from the system's own binaries.

`Postgres().start()` runs `initdb` in a private temporary folder (trust authentication, a
`postgres` superuser, no fsync: nothing in it has to survive) and `pg_ctl start -w` on a
free port, listening only on a unix socket in that folder (no TCP: only the tests' user,
and root, can reach it). `database(name)` creates an empty
database and returns its DSN, `postgresql://postgres@/NAME?host=FOLDER&port=PORT`.

The binaries: `initdb` and `pg_ctl` from one folder, the first of PATH then of
/usr/lib/postgresql/*/bin (Debian's, not in PATH), newest version first;
`PostgresNotFoundError` names what is missing and how to get it (`make test` installs
Debian's `postgresql` package when it can: scripts/bootstrap.sh --tests). `initdb` refuses
to run as root: as root the folder belongs to the `postgres` user, and `initdb` and
`pg_ctl` run as that user (`runuser`).

`stop` kills the server (`pg_ctl stop -m immediate`) and removes the folder; so does the
interpreter's exit (atexit) and, when the process that started it dies without either
(SIGKILL, a crash), a watchdog process waiting for it (`_WATCHDOG`): `pg_ctl` starts the
server in a session of its own, which nothing else would stop.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
SERVER_USER = "postgres"  # the user initdb and the server run as when the tests run as root
SUPERUSER = "postgres"  # the database role the DSNs connect as (trust: no password)
# Nothing in the cluster outlives the tests: no fsync, no full pages after checkpoints, a
# small shared memory (one server per test worker).
SETTINGS = {
    "listen_addresses": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "'16MB'",
}
_SOCKET_PATH_MAX = 107  # sun_path, less its terminating NUL
# Waits on its stdin (a pipe only the starting process writes to) until that process is
# gone, then stops the server and removes the folder. Arguments: the folder, then the
# stop command.
_WATCHDOG = 'folder=$1; shift; cat >/dev/null; "$@" >/dev/null 2>&1; rm -rf -- "$folder"'


class PostgresNotFoundError(RuntimeError):
    """No folder holds both `initdb` and `pg_ctl`, or the tests run as root and the
    `postgres` user they need to run them as does not exist."""


class PostgresStartError(RuntimeError):
    """`initdb` or `pg_ctl start` failed: the message holds their output and the log."""


def find_binaries() -> Path:
    """The folder of `initdb` and `pg_ctl`: the first in PATH that has both, else the newest
    version of /usr/lib/postgresql/*/bin that has both."""
    folders = [Path(entry) for entry in os.environ.get("PATH", "").split(os.pathsep) if entry]
    folders += sorted(
        (Path(found) for found in glob.glob(DEBIAN_BINARIES)),
        key=lambda folder: _version(folder.parent.name),
        reverse=True,
    )
    for folder in folders:
        if all(os.access(folder / name, os.X_OK) for name in ("initdb", "pg_ctl")):
            return folder
    raise PostgresNotFoundError(
        f"PostgreSQL's initdb and pg_ctl, which the ledger's tests start a throw-away server "
        f"with, are in neither PATH nor {DEBIAN_BINARIES}. Install PostgreSQL's server: on "
        "Debian `apt-get install postgresql` (`make test` does it when it runs as root or "
        "with sudo without a password), elsewhere your system's PostgreSQL server package; "
        "or put the folder of initdb and pg_ctl in PATH."
    )


class Postgres:
    """A PostgreSQL server of this process, in a temporary folder: `start`, `database`, `stop`."""

    def __init__(self) -> None:
        self.binaries = find_binaries()
        self._as_user: list[str] = []
        self._owner_ids: tuple[int, int] | None = None
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgresNotFoundError(
                    f"The tests run as root and initdb refuses root: they run it as the "
                    f"{SERVER_USER!r} user, which does not exist (Debian's postgresql package "
                    "creates it). Create that user, or run the tests as another user."
                ) from None
            self._owner_ids = (user.pw_uid, user.pw_gid)
            self._as_user = ["runuser", "-u", SERVER_USER, "--"]
        self.folder: Path | None = None
        self.port = 0
        self._owner = os.getpid()
        self._watchdog: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        assert self.folder is not None, "not started"
        return self.folder / "data"

    def start(self) -> Postgres:
        """`initdb`, then `pg_ctl start -w` (returns once the server accepts connections)."""
        assert self.folder is None, "started already"
        self.folder = Path(tempfile.mkdtemp(prefix="pg-", dir=_base_folder()))
        atexit.register(self.stop)
        if self._owner_ids is not None:
            os.chown(self.folder, *self._owner_ids)
        self._watchdog = subprocess.Popen(
            ["sh", "-c", _WATCHDOG, "sh", str(self.folder), *self._pg_ctl_stop()],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            start_new_session=True,  # a Ctrl-C of the tests is not its
        )
        try:
            self._run(
                "initdb",
                [
                    *("-D", str(self.data), "--auth=trust", "-U", SUPERUSER, "--no-sync"),
                    *("--encoding=UTF8", "--locale=C"),
                ],
            )
            self.port = _free_port()
            settings = {
                **SETTINGS,
                "port": str(self.port),
                "unix_socket_directories": f"'{self.folder}'",
            }
            with (self.data / "postgresql.conf").open("a") as conf:  # the last setting wins
                conf.write("".join(f"{key} = {value}\n" for key, value in settings.items()))
            log = self.folder / "server.log"
            self._run("pg_ctl", ["start", "-w", "-t", "60", "-D", str(self.data), "-l", str(log)])
        except BaseException:
            self.stop()
            raise
        return self

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def dsn(self, database: str = "postgres") -> str:
        """The DSN of `database` on this server (a unix socket, no password)."""
        assert self.folder is not None, "not started"
        host = quote(str(self.folder), safe="/")
        return f"postgresql://{SUPERUSER}@/{quote(database, safe='')}?host={host}&port={self.port}"

    def database(self, name: str) -> str:
        """Create the empty database `name` (an error if it exists): its DSN."""
        # Imported here: 0.1 s that every test worker would spend importing tests/conftest.py.
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn(name)

    def stop(self) -> None:
        """Kill the server (`pg_ctl stop -m immediate`) and remove its folder. Idempotent;
        nothing in a process forked from the one that started it."""
        if os.getpid() != self._owner or self.folder is None:
            return
        if self._watchdog is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._watchdog.pid, signal.SIGKILL)
            self._watchdog.wait()
            assert self._watchdog.stdin is not None
            self._watchdog.stdin.close()
            self._watchdog = None
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                self._pg_ctl_stop(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                cwd=self.folder,
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None
        atexit.unregister(self.stop)

    def _pg_ctl_stop(self) -> list[str]:
        stop = [str(self.binaries / "pg_ctl"), "stop", "-m", "immediate", "-w", "-D"]
        return [*self._as_user, *stop, str(self.data)]

    def _run(self, name: str, args: list[str]) -> None:
        """One binary, as the server's user; PostgresStartError with its output and the
        server's log when it fails."""
        assert self.folder is not None
        done = subprocess.run(
            [*self._as_user, str(self.binaries / name), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=self.folder,  # the server's user may not reach the tests' folder
            env={key: value for key, value in os.environ.items() if not key.startswith("PG")},
            check=False,
        )
        if done.returncode != 0:
            log = self.folder / "server.log"
            logged = log.read_text(errors="replace") if log.exists() else ""
            raise PostgresStartError(
                f"{self.binaries / name} failed (exit code {done.returncode}):\n"
                f"{done.stdout}{done.stderr}{logged}"
            )


def _version(name: str) -> tuple[int, ...]:
    """`15` -> (15,), `9.6` -> (9, 6); anything else sorts first."""
    return (
        tuple(int(part) for part in name.split(".")) if re.fullmatch(r"\d+(\.\d+)*", name) else ()
    )


def _base_folder() -> str:
    """The system's temporary folder, or /tmp when the socket's path would be too long there
    or, as root, when the server's user cannot reach it (TMPDIR under /root, say)."""
    base = tempfile.gettempdir()
    if len(base) + len("/pg-XXXXXXXX/.s.PGSQL.65535") > _SOCKET_PATH_MAX:
        return "/tmp"
    if os.geteuid() == 0:
        for folder in (Path(base), *Path(base).parents):
            if not folder.stat().st_mode & 0o001:
                return "/tmp"
    return base


def _free_port() -> int:
    """A TCP port nothing listens on: the number of the server's socket file (it listens on
    no TCP port; its folder being private, any number would do)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
