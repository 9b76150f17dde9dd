"""Running `myopenip dissociate` as a user does: a real process in its own folder, its
settings in MYOPENIP_* variables, its structlog events read from stderr (imported by name:
tests/support is on sys.path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import browser_server
import forked
from e2e_support import SERVICE
from jsonschema import validate
from schemas import schema

from myopenip.replica import Replica

# The settings of a run that launches its own Chromium, as a user's run does.
OWN_BROWSER: dict[str, str | None] = {"browser_endpoint": None}


def shared_browser() -> dict[str, str]:
    """MYOPENIP_BROWSER_ENDPOINT: this worker's browser server (none if TESTS_BROWSER_SERVER=0)."""
    if os.environ.get("TESTS_BROWSER_SERVER") == "0":
        return {}
    return {"MYOPENIP_BROWSER_ENDPOINT": browser_server.endpoint()}


def cli_env(
    traces: Path, state_file: Path, replica: Replica | None, settings: dict[str, str | None]
) -> dict[str, str]:
    """The environment of a bot process: this one's without its MYOPENIP_* (but the
    browser path), JSON logs, no Playwright trace, its own traces folder and state file,
    the replica's URL and credentials, then `settings` (lower-case names, without the
    prefix; None leaves a setting to the bot's default, e.g. `trace=None`).

    No trace unless a test asks: recording one (screenshots and snapshots all along) is
    a third of a short run's CPU, and the tests about traces set MYOPENIP_TRACE
    themselves (or None, for the default `retain-on-failure`).

    No Chromium of its own either, unless a test asks: the run connects to this worker's
    browser server (MYOPENIP_BROWSER_ENDPOINT, tests/support/browser_server.py): no
    Chromium start per run (tests/commands at -n 2: about 12% less CPU). The tests about
    the launch itself (the browser path, a killed run's browser files) pass
    `browser_endpoint=None` (`**OWN_BROWSER`): the bot then finds and launches its own, as
    a user's run does. `TESTS_BROWSER_SERVER=0` gives every run its own (to check that
    nothing depends on the server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOPENIP_")}
    if "MYOPENIP_BROWSER_PATH" in os.environ:
        env["MYOPENIP_BROWSER_PATH"] = os.environ["MYOPENIP_BROWSER_PATH"]
    env |= {
        "MYOPENIP_TRACES_DIR": str(traces),
        "MYOPENIP_STATE_FILE": str(state_file),
        # The records of what the portal accepted: the test's own (a session's replica
        # keeps its address from test to test, its data does not).
        "MYOPENIP_ACCEPTED_FILE": str(state_file.parent / "accepted.sqlite3"),
        "MYOPENIP_LOG_FORMAT": "json",
        "MYOPENIP_TRACE": "off",
        # English, whatever the locale: the tests of the language pass lang="fr" (or None
        # and a LANG of their own).
        "MYOPENIP_LANG": "en",
    }
    if "browser_endpoint" not in settings:
        env |= shared_browser()
    if replica is not None:
        env |= {
            "MYOPENIP_BASE_URL": replica.url,
            "MYOPENIP_USERNAME": replica.username,
            "MYOPENIP_PASSWORD": replica.password,
        }
    for name, value in settings.items():
        if value is None:
            env.pop(f"MYOPENIP_{name.upper()}", None)
        else:
            env[f"MYOPENIP_{name.upper()}"] = value
    return env


class Cli:
    """Runs `python -m myopenip dissociate …` in `tmp_path` with MYOPENIP_* set for a replica."""

    def __init__(self, tmp_path: Path, replica: Replica | None, **settings: str | None) -> None:
        self.cwd = tmp_path
        self.traces = tmp_path / "traces"
        self.state_file = tmp_path / "private" / "session-state.json"
        timeout: dict[str, str | None] = {"timeout_ms": "10000"}
        self.env = cli_env(self.traces, self.state_file, replica, timeout | settings)

    def argv(self, *args: str, service: str = SERVICE, client: str | None = None) -> list[str]:
        where = ["--client", client] if client is not None else ["--service", service]
        return [sys.executable, "-m", "myopenip", "dissociate", *where, *args]

    def __call__(
        self, *args: str, service: str = SERVICE, client: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return forked.run(
            self.argv(*args, service=service, client=client),
            cwd=self.cwd,
            env=self.env,
            timeout=180,
        )

    def start(self, *args: str, service: str = SERVICE) -> Running:
        """Start the command without waiting: signal it, watch its events as they come."""
        process = subprocess.Popen(
            self.argv(*args, service=service),
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return Running(process)


class Running:
    """A command under way: its structlog events as they are written, then its end."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._stdout: list[str] = []
        threading.Thread(target=self._read_stderr, daemon=True).start()
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # end of output
            self._changed.notify_all()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        self._stdout.append(self.process.stdout.read())

    def wait_for_event(self, event: str, timeout: float = 120) -> dict[str, Any]:
        """Block until the command logs `event`; fail if it ends or takes too long first."""

        def found() -> dict[str, Any] | None:
            for line in self.lines:
                if line.startswith("{") and json.loads(line)["event"] == event:
                    return dict(json.loads(line))
            return None

        with self._changed:
            seen = self._changed.wait_for(lambda: found() or "" in self.lines, timeout)
            match = found()
        assert seen, f"no {event!r} event within {timeout} s; stderr: {''.join(self.lines)}"
        assert match is not None, f"the run ended without {event!r}: {''.join(self.lines)}"
        return match

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def finish(self, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Wait for the end; the whole output as `subprocess.run` would give it."""
        code = self.process.wait(timeout)
        with self._changed:
            self._changed.wait_for(lambda: "" in self.lines, timeout)
        deadline = time.monotonic() + timeout
        while not self._stdout and time.monotonic() < deadline:
            time.sleep(0.05)  # the reader thread is draining the last bytes
        return subprocess.CompletedProcess(
            self.process.args, code, "".join(self._stdout), "".join(self.lines)
        )


def events(process: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """The structlog events (JSON lines) the run wrote on stderr."""
    found = []
    for line in process.stderr.splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def named(process: subprocess.CompletedProcess[str], event: str) -> list[dict[str, Any]]:
    return [e for e in events(process) if e["event"] == event]


def exit_agrees(process: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON the run printed, after checking its exit_code is the process's own and,
    when its command has a schema (src/myopenip/schemas), that it follows it."""
    payload: dict[str, Any] = json.loads(process.stdout)
    assert payload["exit_code"] == process.returncode, (payload["exit_code"], process.stderr)
    command = payload.get("command")
    if command is not None:
        validate(payload, schema(command))
    return payload
