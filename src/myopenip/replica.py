"""Start the portal replica in a child process on a free port and stop it cleanly.

The bot never imports the replica: the demo and the tests run it as a separate server,
exactly as they would reach the real portal, and talk to it over HTTP only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# The replica prints this line on stdout once its socket listens (see myopenip_portal.cli).
READY_LINE = re.compile(r"^MyOpenIP replica listening on (?P<url>http://\S+)\s*$")


class ReplicaStartError(RuntimeError):
    """The replica exited or never announced its address."""


@dataclass
class Replica:
    """A running replica: its base URL, the demo credentials and the test API."""

    url: str
    username: str
    password: str
    process: subprocess.Popen[str]

    def state(self) -> dict[str, Any]:
        """GET /_test/state (the replica must run with --test-api)."""
        return self._call("GET", "/_test/state")

    def back_end(self) -> dict[str, Any]:
        """GET /_test/back-end: every « Valider » the back end received (`submissions`)
        and what it accepted and will complete (`pending`, the late-completion quirk)."""
        return self._call("GET", "/_test/back-end")

    def submitted(self) -> list[list[str]]:
        """The licences of each « Valider » that reached the back end, in order."""
        return [list(s["licences"]) for s in self.back_end()["submissions"]]

    def test_api(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST to a /_test/ endpoint, e.g. test_api("reset") or test_api("expire-sessions")."""
        return self._call("POST", f"/_test/{path}", payload or {})

    def faults(self, **values: float) -> dict[str, float]:
        """Turn fault knobs at run time (POST /_test/faults), e.g. faults(latency_ms=100,
        error_rate=0.1); returns every knob in force. None given: only reads them.
        `test_api("reset")` restores the start-up values."""
        return self._call("POST", "/_test/faults", values)

    def quirks(self, *names: str) -> list[str]:
        """Switch to these quirks (POST /_test/quirks, e.g. quirks("client-paging",
        "page-size=5"); none: the markup's own behaviour) from the next page load on;
        returns the quirks in force."""
        quirks: list[str] = self._call("POST", "/_test/quirks", {"quirks": list(names)})["quirks"]
        return quirks

    def _call(self, method: str, path: str, payload: Any = None) -> dict[str, Any]:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body: dict[str, Any] = json.loads(response.read().decode())
            return body


@contextmanager
def run_replica(
    *extra_args: str,
    seed: int | None = None,
    username: str = "demo",
    password: str = "demo",
    test_api: bool = True,
    startup_timeout: float = 30.0,
    markup: str = "classic",
    delays: bool = True,
    quirks: Sequence[str] = (),
) -> Iterator[Replica]:
    """Serve the replica on 127.0.0.1 and a free port for the duration of the block.

    `markup` picks its front end: "classic" or "aria" (same portal, other URLs and markup).
    `delays=False` starts it without the built-in delays of a search and of the dialog's
    preview (`--no-delays`), for tests that need no loading state to watch. `quirks`
    starts it with behaviours of other portals (`--quirks`, e.g. ["search-first"]); a reset
    comes back to them.
    """
    command: list[str] = [sys.executable, "-m", "myopenip_portal", "--host", "127.0.0.1"]
    command += ["--port", "0", "--user", username, "--password", password]
    command += ["--markup", markup]
    if seed is not None:
        command += ["--seed", str(seed)]
    if test_api:
        command.append("--test-api")
    if not delays:
        command.append("--no-delays")
    if quirks:
        command += ["--quirks", ",".join(quirks)]
    command += list(extra_args)
    process = _spawn(command)
    try:
        url = _wait_until_ready(process, startup_timeout)
        yield Replica(url=url, username=username, password=password, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _spawn(command: Sequence[str]) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _wait_until_ready(process: subprocess.Popen[str], timeout: float) -> str:
    """Read the child's output until it prints its address; keep draining it afterwards."""
    assert process.stdout is not None
    found: dict[str, str] = {}
    seen: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if not ready.is_set():
                seen.append(line.rstrip())
                match = READY_LINE.match(line)
                if match:
                    found["url"] = match["url"].rstrip("/")
                    ready.set()
        ready.set()  # the child closed its output: it has exited

    threading.Thread(target=pump, name="replica-output", daemon=True).start()
    ready.wait(timeout)
    if "url" not in found:
        process.kill()
        output = "\n".join(seen[-20:]) or "(no output)"
        raise ReplicaStartError(f"the replica did not start: {output}")
    return found["url"]
