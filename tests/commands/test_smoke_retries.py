"""`myopenip smoke` on a portal failing now and then: its reads are retried under the one
retry policy, as the bot's steps are, so that a flaky day keeps a CI green and a drift
still red. (A portal failing throughout: test_smoke.py, exit 3.)"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import forked
import pytest
from cli_support import Cli

from myopenip.replica import Replica

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def smoke(cli: Cli, *args: str) -> subprocess.CompletedProcess[str]:
    return forked.run(
        [sys.executable, "-m", "myopenip", "smoke", *args], cwd=cli.cwd, env=cli.env, timeout=300
    )


def unchanged(state: dict[str, object]) -> dict[str, object]:
    return {key: state[key] for key in ("services", "licences", "numbers", "audit")}


@pytest.mark.soak
def test_a_portal_failing_one_request_in_five_passes_three_smokes_and_a_drift_still_fails(
    replica_factory: Callable[..., Replica], tmp_path: Path
) -> None:
    flaky = replica_factory("--error-rate", "0.2", "--seed", "7", delays=False)
    cli = Cli(tmp_path, flaky, trace="off")
    before = unchanged(flaky.state())

    runs = [smoke(cli, "--json") for _ in range(3)]
    flaky.test_api("drift", {"rename": {"Valider": "Confirmer"}})
    drifted = smoke(cli, "--json")

    for run in runs:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "step_retried" in "".join(run.stderr for run in runs)  # the portal did fail
    assert drifted.returncode == 1, drifted.stdout[-3000:] + drifted.stderr[-3000:]
    failed = [c["id"] for c in json.loads(drifted.stdout)["checks"] if c["status"] == "failed"]
    assert failed == ["Dissociation dialog: dialog.submit"]
    assert unchanged(flaky.state()) == before  # retried reads, never a write
