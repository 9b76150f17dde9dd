"""`python -m myopenip …` for the tests that read only what a run prints and writes: the
run is forked from a process of this test worker that has imported the commands already.

A cold `python -m myopenip` spends about 0.5 core-s importing Python, pydantic, structlog,
rich and Playwright before it does anything; the suite starts about a hundred of them on 2
busy cores. The fork does what the interpreter does for `-m`: same arguments, environment,
folder, standard streams (stdin from /dev/null, stdout and stderr to files), the module run
as `__main__`, the exit code of its SystemExit (or 1 and the traceback), the `atexit`
handlers; the command starts its own Playwright driver and Chromium as always.

Real processes stay where only they can show the behaviour: signals and kills
(`Cli.start`), a terminal (tests/support/terminal_support.py), the process's own
environment block. `TESTS_FORK=0` runs every command as a new process (to check
that nothing depends on the fork).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import locale
import os
import selectors
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# Imported once by the server; a run imports what else its command needs, as a process does.
PRELOAD = (
    "myopenip.cli",
    "myopenip.commands.batch",
    "myopenip.commands.dissociate",
    "myopenip.commands.find",
    "myopenip.commands.smoke",
    "myopenip_bot.batch.report",
    "myopenip_bot.batch.runner",
    "myopenip_bot.dissociation.run",
    "myopenip_bot.lookup.run",
    "myopenip_bot.smoke.propose",
    "myopenip_bot.smoke.run",
    "playwright.sync_api",
)
_PREFIX = ["-m", "myopenip"]


def run(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run(argv, cwd=, env=, stdin=DEVNULL, capture_output=True, text=True,
    timeout=)`, forked when `argv` is `python -m myopenip …` and forks are on."""
    if argv[1:3] != _PREFIX or os.environ.get("TESTS_FORK") == "0":
        return subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    request = {"argv": [argv[0], *argv[3:]], "cwd": str(cwd), "env": env}
    with (
        open(os.devnull, "rb") as null,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn,
    ):
        conn.connect(_server().path)
        fds = [null.fileno(), out.fileno(), err.fileno()]
        socket.send_fds(conn, [json.dumps(request).encode()], fds)
        answer = conn.recv(64)
        assert answer, "the fork server is gone (see the worker's stderr)"
        pid = int(answer)
        conn.settimeout(timeout)
        try:
            code = int(conn.recv(64))
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
            raise subprocess.TimeoutExpired(argv, timeout) from None
        return subprocess.CompletedProcess(argv, code, _text(out), _text(err))


def _text(file: Any) -> str:
    """What `text=True` gives: the locale's encoding, universal newlines."""
    file.seek(0)
    text: str = file.read().decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _Server:
    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="fork-")
        self.path = os.path.join(self.folder, "s")
        self.process = subprocess.Popen(
            [sys.executable, __file__, self.path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        assert ready == "ready\n", f"the fork server did not start: {ready!r}"
        atexit.register(self.stop)

    def stop(self) -> None:
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        with contextlib.suppress(OSError):
            os.unlink(self.path)
            os.rmdir(self.folder)


_started: list[_Server] = []


def _server() -> _Server:
    if not _started:
        _started.append(_Server())
    return _started[0]


# -- the server -----------------------------------------------------------------------


def _serve(path: str) -> None:
    """Accept one run per connection: fork it, answer its pid, then its exit code."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(16)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    waiting = selectors.DefaultSelector()
    waiting.register(listener, selectors.EVENT_READ)
    while os.getppid() == parent:  # the test worker gone: stop
        for key, _ in waiting.select(timeout=1.0):
            if key.fileobj is listener:
                conn, _ = listener.accept()
                message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                pid = os.fork()
                if pid == 0:
                    _child(json.loads(message), fds)
                for fd in fds:
                    os.close(fd)
                conn.send(f"{pid}".encode())
                waiting.register(os.pidfd_open(pid), selectors.EVENT_READ, (pid, conn))
            else:
                pid, conn = key.data
                waiting.unregister(key.fileobj)
                os.close(key.fd)
                _, status = os.waitpid(pid, 0)
                with contextlib.suppress(OSError):  # a client gone (its run timed out)
                    conn.send(f"{os.waitstatus_to_exitcode(status)}".encode())
                conn.close()


def _child(request: dict[str, Any], fds: list[int]) -> None:
    """Become `python -m myopenip ARGS` in the request's folder and environment; never return."""
    import runpy
    import traceback

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for name in os.listdir("/proc/self/fd"):  # the server's sockets, the request's copies
        if int(name) > 2:
            with contextlib.suppress(OSError):
                os.close(int(name))
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = list(request["argv"])
    sys.path[0] = request["cwd"]  # where `python -m` looks first, as the server does not
    tempfile.tempdir = None  # TMPDIR as the request's environment says
    code = 0
    try:
        runpy.run_module("myopenip", run_name="__main__", alter_sys=True)
    except SystemExit as exit:
        if exit.code is None:
            code = 0
        elif isinstance(exit.code, int):
            code = exit.code
        else:
            print(exit.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    _serve(sys.argv[1])
