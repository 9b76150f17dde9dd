"""Whatever the portal shows is a value: hostile texts in every field the bot reads give a
normal run, with its summary, result file and documented exit code, and visible escapes
wherever they are shown or stored. Real commands, a real Chromium, the replica's data
edited by hand (POST /_test/data, /_test/refuse)."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import forked
import pytest
from batch_support import BatchCli
from cli_support import Cli, exit_agrees
from hostile_values import BIDI, ESCAPES, LONG, RICH, SCRIPT, SHOWN, UNENCODABLE

from myopenip.replica import Replica

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EVERYTHING = RICH + ESCAPES + BIDI + UNENCODABLE + SCRIPT


@pytest.fixture
def hostile(replica: Replica) -> Replica:
    """SRV-10021, its client and two of its licences named with every hostile text."""
    replica.test_api(
        "data",
        {
            "clients": {"CC-100245": {"name": EVERYTHING + LONG}},
            "services": {"SRV-10021": {"name": EVERYTHING, "site": UNENCODABLE}},
            "licences": {
                ref: {"type": EVERYTHING, "user_name": EVERYTHING, "site": ESCAPES}
                for ref in ("FPC367128", "FPC367129")
            },
        },
    )
    return replica


def no_raw_escapes(*texts: str) -> None:
    for text in texts:
        for raw in ("\x1b", "\x07", "\u202e", "\ufffe", "\uffff"):
            assert raw not in text, repr(raw)


def test_a_one_shot_on_hostile_names_runs_normally_and_shows_them_visibly(
    hostile: Replica, tmp_path: Path
) -> None:
    done = Cli(tmp_path, hostile)("--licence", "FPC367128", "--release-number", "--yes", "--json")

    assert done.returncode == 0, done.stderr
    payload = exit_agrees(done)
    assert [r["outcome"] for r in payload["results"]] == ["done"]
    client = payload["service"]["client"]
    for value in (ESCAPES, UNENCODABLE, BIDI):
        assert SHOWN[value] in client
    assert client.endswith(LONG)  # kept whole in files
    assert json.loads((Path(payload["run_dir"]) / "result.json").read_text())["service"]
    no_raw_escapes(done.stdout, done.stderr)


def test_a_refusal_in_hostile_words_is_final_and_shown_visibly(
    hostile: Replica, tmp_path: Path
) -> None:
    hostile.test_api("refuse", {"message": EVERYTHING})

    refused = Cli(tmp_path, hostile)("--licence", "FPC367129", "--keep-number", "--yes", "--json")

    assert refused.returncode == 1, refused.stderr
    (row,) = exit_agrees(refused)["results"]
    assert row["outcome"] == "refused"
    assert SHOWN[ESCAPES] in row["reason"]
    no_raw_escapes(refused.stdout, refused.stderr)


def test_a_batch_on_hostile_names_reports_them_as_data(hostile: Replica, tmp_path: Path) -> None:
    file = tmp_path / "batch.csv"
    file.write_text(
        "service;licence;keep_number\nSRV-10021;FPC367128;non\nSRV-10021;FPC367129;oui\n",
        encoding="utf-8",
    )

    done = BatchCli(tmp_path, hostile)(file, "--yes", "--json", "--report", tmp_path / "r")

    assert done.returncode == 0, done.stderr
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "<script>document" not in html
    assert "&lt;script&gt;" in html
    assert SHOWN[ESCAPES] in html
    terminate = (tmp_path / "r" / "numbers-to-terminate.csv").read_text(encoding="utf-8-sig")
    assert SHOWN[ESCAPES] in terminate
    no_raw_escapes(done.stdout, done.stderr, html, terminate)


def test_the_smoke_reads_hostile_screens_and_writes_well_formed_files(
    hostile: Replica, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, hostile)
    junit = tmp_path / "smoke.xml"

    checked = forked.run(
        [sys.executable, "-m", "myopenip", "smoke", "--json", "--junit-xml", str(junit)],
        cwd=cli.cwd,
        env=cli.env,
        timeout=300,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["exit_code"] == 0
    ET.parse(junit)  # well formed
    no_raw_escapes(checked.stdout, checked.stderr, junit.read_text(encoding="utf-8"))
