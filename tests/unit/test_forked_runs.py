"""The command tests' forked runs (tests/support/forked.py) give what a new process gives:
the same exit code, output and errors, for arguments, environment and folder alike."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import forked
import pytest


def both(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[object, object]:
    real = subprocess.run(
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    fork = forked.run(argv, cwd=cwd, env=env, timeout=60)
    return (
        (real.returncode, real.stdout, timeless(real.stderr)),
        (fork.returncode, fork.stdout, timeless(fork.stderr)),
    )


def timeless(text: str) -> str:
    """Events' timestamps aside (each run logs its own end, at its own time)."""
    return re.sub(r'"timestamp": "[^"]*"', '"timestamp": "…"', text)


@pytest.mark.parametrize(
    ("args", "settings"),
    [
        (["dissociate", "--help"], {}),
        (["dissociate", "--service", "SRV-10021", "--bogus"], {}),
        (["batch", "missing.csv", "--yes"], {"MYOPENIP_BASE_URL": "http://127.0.0.1:9"}),
        (["find", "--client", "X"], {"MYOPENIP_TIMEOUT_MS": "soon"}),
    ],
    ids=["help", "usage-error", "relative-file", "bad-setting"],
)
def test_a_forked_run_exits_and_prints_as_a_new_process(
    tmp_path: Path, args: list[str], settings: dict[str, str]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOPENIP_")}
    env |= {"MYOPENIP_USERNAME": "u", "MYOPENIP_PASSWORD": "p"} | settings
    argv = [sys.executable, "-m", "myopenip", *args]

    real, fork = both(argv, tmp_path, env)

    assert fork == real
    assert real[0] != 0 or args[-1] == "--help"  # each case says something


def test_a_forked_run_past_its_timeout_is_killed_and_the_next_one_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOPENIP_")}
    slow = [sys.executable, "-m", "myopenip", "portal", "--port", "0"]  # serves until stopped

    with pytest.raises(subprocess.TimeoutExpired):
        forked.run(slow, cwd=tmp_path, env=env, timeout=3)
    after = forked.run(
        [sys.executable, "-m", "myopenip", "--help"], cwd=tmp_path, env=env, timeout=60
    )

    assert after.returncode == 0
    assert "dissociate" in after.stdout
