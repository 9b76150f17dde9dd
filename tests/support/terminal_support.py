"""A command run in a pseudo-terminal, as a person runs it (imported by name: tests/support
is on sys.path)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import sys
import termios
import threading
import time
from pathlib import Path

from batch_support import BatchCli
from cli_support import Cli

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PROMPT_HINT = "[o/oui/y/yes = yes, n/non/no = no; Enter = no]"


class Terminal:
    """`myopenip …` (a one-shot's Cli, a batch's BatchCli) run in a pseudo-terminal, 80
    columns wide unless told, as a person runs it."""

    def __init__(
        self, cli: Cli | BatchCli, *args: str | Path, columns: int = 80, lines: int = 40
    ) -> None:
        env = dict(cli.env, NO_COLOR="1", TERM="xterm", COLUMNS=str(columns), LINES=str(lines))
        env["MYOPENIP_LOG_FORMAT"] = "auto"  # what a person gets: no JSON lines on screen
        argv = cli.argv(*(str(arg) for arg in args))
        pid, fd = pty.fork()
        if pid == 0:  # the child: the pty is its controlling terminal
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
            os.chdir(cli.cwd)
            os.execve(sys.executable, argv, env)
        self.pid, self.fd = pid, fd
        self._output = bytearray()
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                chunk = b""
            with self._changed:
                if not chunk:
                    self._changed.notify_all()
                    return
                self._output += chunk
                self._changed.notify_all()

    @property
    def screen(self) -> str:
        """Everything shown so far, without colours and with plain line ends."""
        text = self._output.decode("utf-8", "replace")
        return ANSI.sub("", text).replace("\r\n", "\n")

    @property
    def flat(self) -> str:
        """The screen as one line of words: what wraps in a table or a panel reads whole."""
        return " ".join(re.sub(r"[│┃┏┓┗┛┡┩└┘┌┐╭╮╰╯─━┳┻╇╈┼]", " ", self.screen).split())

    def expect(self, text: str, timeout: float = 300) -> None:
        with self._changed:
            found = self._changed.wait_for(lambda: text in self.screen, timeout)
        assert found, f"{text!r} never showed; the screen:\n{self.screen}"

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def wait(self, timeout: float = 300) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.1)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError(f"still running after {timeout} s; the screen:\n{self.screen}")
