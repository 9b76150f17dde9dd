"""One Playwright browser server per test worker, for the command tests' runs to connect to.

A `python -m myopenip …` run starts Playwright's driver and, unless MYOPENIP_BROWSER_ENDPOINT
names a browser server, its own Chromium; the suite starts a hundred-odd runs on 2 busy
cores (tests/commands at -n 2: 292 core-s with a Chromium per run, 257 with this server).
`cli_env` (tests/support/cli_support.py) gives each run this worker's server by default. A
run that connects still starts its own driver, and its contexts, pages and traces are its
own: a `launch-server` server isolates each connection's contexts and closes them when the
connection drops, so a run killed with SIGKILL leaves nothing behind
(tests/commands/test_browser_server.py). Tests about the launch itself opt out
(`OWN_BROWSER` in cli_support).

The server (`playwright launch-server`: Node.js, then the Chromium it launches in a session
of its own) is started on first use, with a private TMPDIR whose path names every process
it starts, and stopped at the end of the test session (`stop`, from tests/conftest.py), at
the worker's exit (atexit), or when the worker dies without either (the Node.js process
gets SIGTERM from the kernel, PR_SET_PDEATHSIG, and closes its Chromium).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
from playwright._impl._driver import compute_driver_executable, get_driver_env

from myopenip_bot.browser.launch import find_browser

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)


class BrowserServer:
    """A running `playwright launch-server --browser chromium`: its ws:// address."""

    def __init__(self) -> None:
        launch = find_browser(os.environ.get("MYOPENIP_BROWSER_PATH"), headless=True)
        # A short path: Chromium's singleton socket lives there.
        self.folder = tempfile.mkdtemp(prefix="pws-")
        config: dict[str, object] = {
            "args": list(launch.args),
            "port": 0,
            "host": "127.0.0.1",
            "headless": True,
        }
        if launch.executable_path:
            config["executablePath"] = launch.executable_path
        config_file = Path(self.folder) / "config.json"
        config_file.write_text(json.dumps(config))
        node, cli = compute_driver_executable()
        self._owner = os.getpid()
        self._log = (Path(self.folder) / "server.log").open("wb")
        self.process = subprocess.Popen(
            [node, cli, "launch-server", "--browser", "chromium", "--config", str(config_file)],
            env=dict(get_driver_env(), TMPDIR=self.folder),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,  # the runs' signals are not its
            preexec_fn=_terminated_with_parent,
        )
        atexit.register(self.stop)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()  # "ws://127.0.0.1:PORT/ID" once listening
        if not line.startswith("ws://"):
            log = (Path(self.folder) / "server.log").read_text(errors="replace")
            self.stop()
            raise RuntimeError(f"the browser server did not start: {line!r} {log}")
        self.endpoint = line

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop Node.js (its session), then any process still naming the private folder
        (its Chromium, in a session of its own); remove the folder. Idempotent."""
        if os.getpid() != self._owner:
            return
        for signum in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)
            try:
                self.process.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
        deadline = time.monotonic() + 10
        while (left := processes_using(self.folder)) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def renderers() -> int:
    """How many renderer processes this worker's server's Chromium has: one or more per
    open page, none once every context is closed."""
    assert _running, "no browser server started"
    tree = psutil.Process(_running[0].process.pid).children(recursive=True)
    found = 0
    for process in tree:
        with contextlib.suppress(psutil.Error):
            if "--type=renderer" in process.cmdline():
                found += 1
    return found


def processes_using(folder: str) -> list[int]:
    """The processes whose command line names `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if folder.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _terminated_with_parent() -> None:
    """In the child, before exec: SIGTERM when the test worker that started it dies (the
    C library loaded beforehand: nothing but the call itself between fork and exec)."""
    with contextlib.suppress(AttributeError):
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


_running: list[BrowserServer] = []


def endpoint() -> str:
    """This worker's browser server (started now if need be): its ws:// address."""
    if _running and not _running[0].alive():
        _running.pop().stop()  # gone (killed by a test?): a new one
    if not _running:
        _running.append(BrowserServer())
    return _running[0].endpoint


def stop() -> None:
    while _running:
        _running.pop().stop()
