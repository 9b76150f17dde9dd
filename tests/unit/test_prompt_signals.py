"""The confirmation prompt hears a signal whichever thread the kernel hands it to.

The kernel delivers a terminal's Ctrl-C to any thread of the process that does not block
it; Playwright's child watcher is one. Delivered there, it does not cut the main thread's
read(2) short: a prompt waiting in input() would wait for ever (CI once hung on it for
300 s). Here a bystander thread takes the signal on purpose (pthread_kill), in a real
pseudo-terminal, and the prompt must still answer no at once.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import textwrap
import time

import pytest
from terminal_support import PROMPT_HINT

CHILD = textwrap.dedent(
    """
    import os, signal, sys, threading
    from rich.console import Console
    from myopenip.terminal import ask_to_valider
    from myopenip_bot.interrupts import StopSignal

    go = int(sys.argv[1])
    signum = int(sys.argv[2])

    def bystander():
        os.read(go, 1)  # the test saw the prompt
        signal.pthread_kill(threading.get_ident(), signum)

    threading.Thread(target=bystander, daemon=True).start()
    stop = StopSignal()
    with stop.installed():
        answer = ask_to_valider(Console(), stop, 1, ("Cette action n'est pas réversible.",))
    print(f"answer={answer} stop_requested={stop.requested}", flush=True)
    """
)


def _run_in_a_terminal(signum: int) -> tuple[int, str]:
    go_read, go_write = os.pipe()
    os.set_inheritable(go_read, True)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its terminal
        os.close(go_write)
        os.execv(sys.executable, [sys.executable, "-c", CHILD, str(go_read), str(signum)])
    os.close(go_read)
    screen = b""
    deadline = time.monotonic() + 20
    sent = False
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child is gone: its terminal closed
                    chunk = b""
                if not chunk:
                    break
                screen += chunk
            if not sent and PROMPT_HINT.encode() in screen:
                os.write(go_write, b"x")
                sent = True
        done, status = os.waitpid(pid, os.WNOHANG)
        while not done and time.monotonic() < deadline:  # its terminal closes as it exits
            time.sleep(0.05)
            done, status = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"the prompt still waits; the screen:\n{screen.decode()}")
        return os.waitstatus_to_exitcode(status), screen.decode("utf-8", "replace")
    finally:
        os.close(go_write)
        os.close(fd)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_taken_by_another_thread_still_answers_no_at_the_prompt(signum: int) -> None:
    code, screen = _run_in_a_terminal(signum)

    assert code == 0, screen
    assert "answer=False stop_requested=False" in screen
    assert "Traceback" not in screen
