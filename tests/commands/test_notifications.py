"""`myopenip batch` and `myopenip smoke` tell a person how they ended: one JSON message
posted to a local receiver (Apprise's json://), with the counts, the exit code and its
meaning, the report's folder; never a secret; a receiver that is down changes nothing.

Real processes against the replica, as a scheduler runs them.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

import pytest
from batch_support import BatchCli, exit_agrees, named, rows_for, write_csv, write_rows
from cli_support import Cli
from notify_support import Receiver, down_url, receiver

from myopenip.replica import Replica

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "n0tify-t0ken-kept-secret"
UNKNOWN = "FPC999999"  # no such licence: its row is refused


@pytest.fixture
def got() -> Any:
    with receiver() as running:
        yield running


def one_message(got: Receiver) -> tuple[str, str]:
    (post,) = got.posts
    return post["title"], post["message"]


def assert_no_secret(replica: Replica, got: Receiver, *texts: str) -> None:
    for text in [*(raw.decode() for raw in got.raw), *texts]:
        assert replica.password not in text
        assert TOKEN not in text


def test_a_batch_with_a_refused_row_posts_one_message_with_its_counts(
    replica: Replica, tmp_path: Path, got: Receiver
) -> None:
    (row,) = rows_for(replica.state(), [("SRV-10021", 1, "utilisateurs")], [False])
    batch = write_csv(
        tmp_path / "batch.csv", [(row.service, row.licence, "non"), (row.service, UNKNOWN, "oui")]
    )
    report = tmp_path / "report"
    cli = BatchCli(tmp_path, replica, notify=got.url(credentials=f"bot:{TOKEN}"))

    done = cli(batch, "--yes", "--json", "--journal", tmp_path / "j.sqlite", "--report", report)

    assert done.returncode == 1, done.stderr[-4000:]  # exit code unchanged by the message
    assert exit_agrees(done)["counts"] == {"done": 1, "refused": 1}
    title, body = one_message(got)
    assert title == "myopenip batch: exit 1 — some rows refused"
    assert "Exit code 1: some rows refused" in body
    assert "Counts: done: 1, refused: 1 (total 2)" in body
    assert f"Report: {report}" in body
    assert f"Portal: {replica.url}" in body
    (sent,) = named(done.stderr, "notification_sent")
    assert sent["schemes"] == ["json"]
    assert sent["exit_code"] == 1
    logs = "".join(p.read_text(encoding="utf-8") for p in report.rglob("*.jsonl"))
    assert_no_secret(replica, got, done.stdout, done.stderr, logs)


@pytest.mark.parametrize(("on", "posts"), [("problems", 0), ("always", 1)])
def test_a_clean_run_is_told_only_when_notify_on_is_always(
    replica: Replica, tmp_path: Path, got: Receiver, on: str, posts: int
) -> None:
    rows = rows_for(replica.state(), [("SRV-10021", 1, "utilisateurs")], [True])
    batch = write_rows(tmp_path / "batch.csv", rows)
    cli = BatchCli(tmp_path, replica, notify=got.url(), notify_on=on)

    done = cli(batch, "--dry-run", "--json", "--report", tmp_path / "r")

    assert done.returncode == 0, done.stderr[-4000:]
    assert len(got.posts) == posts
    if posts:
        title, body = one_message(got)
        assert title == "myopenip batch: exit 0 — nothing to report"
        assert "Counts: would do: 1 (total 1)" in body
        assert got.posts[0]["type"] == "success"


def test_a_bad_file_is_told_with_exit_2_and_its_error(
    replica: Replica, tmp_path: Path, got: Receiver
) -> None:
    batch = write_csv(tmp_path / "batch.csv", [("SRV-10021", "FPC367131", "peut-être")])
    cli = BatchCli(tmp_path, replica, notify=got.url())

    done = cli(batch, "--yes", "--json")

    assert done.returncode == 2, done.stderr[-4000:]
    title, body = one_message(got)
    assert title.startswith("myopenip batch: exit 2 — a bad file")
    assert "Error: " in body
    assert f"File: {batch}" in body
    assert named(done.stderr, "browser_found") == []


def test_a_journal_locked_by_another_run_is_told_with_exit_5(
    replica: Replica, tmp_path: Path, got: Receiver
) -> None:
    batch = write_csv(tmp_path / "batch.csv", [("SRV-10021", UNKNOWN, "oui")])
    journal = tmp_path / "journal.sqlite"
    cli = BatchCli(tmp_path, replica, notify=got.url())

    with (tmp_path / "journal.sqlite.lock").open("w") as held:  # another run holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        done = cli(batch, "--yes", "--json", "--journal", journal)

    assert done.returncode == 5, done.stderr[-4000:]
    title, body = one_message(got)
    assert title == "myopenip batch: exit 5 — another run holds the journal's lock"
    assert "Error: another run is using the journal" in body


def test_a_receiver_that_is_down_leaves_the_exit_code_and_is_a_warning(
    replica: Replica, tmp_path: Path
) -> None:
    # A run that ends before any browser (another run holds its journal: exit 5), told to a
    # receiver that is down: every run ends through the one notify.tell, whatever its exit.
    # (A whole run's events never name the URL's secret: the refused-row batch above.)
    batch = write_csv(tmp_path / "batch.csv", [("SRV-10021", UNKNOWN, "oui")])
    journal = tmp_path / "journal.sqlite"
    url = down_url().replace("json://", f"json://bot:{TOKEN}@")
    cli = BatchCli(tmp_path, replica, notify=url)

    with (tmp_path / "journal.sqlite.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = cli(batch, "--yes", "--json", "--journal", journal)

    assert done.returncode == 5, done.stderr[-4000:]
    assert "another run is using the journal" in exit_agrees(done)["error"]["message"]
    (failed,) = named(done.stderr, "notification_failed")
    assert failed["level"] == "warning"
    assert failed["schemes"] == ["json"]
    assert "Traceback" not in done.stderr
    assert TOKEN not in done.stderr + done.stdout
    assert url.split("@", 1)[1] not in done.stderr  # not even the host and port


def test_an_unparsable_notify_url_is_a_settings_error_that_does_not_echo_it(
    replica: Replica, tmp_path: Path
) -> None:
    batch = write_csv(tmp_path / "batch.csv", [("SRV-10021", UNKNOWN, "oui")])
    cli = BatchCli(tmp_path, replica, notify=f"nosuch://bot:{TOKEN}@example.com/x")

    done = cli(batch, "--yes", "--json")

    assert done.returncode == 2, done.stderr[-4000:]
    assert "MYOPENIP_NOTIFY" in done.stdout + done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


# A drifted portal's smoke and its one message: asserted on the run of tests/commands/
# test_smoke.py::test_a_drift_fails_with_its_evidence_a_proven_proposal_and_the_suite_agrees.


def test_a_refused_one_shot_dissociation_posts_one_message(
    replica: Replica, tmp_path: Path, got: Receiver
) -> None:
    cli = Cli(tmp_path, replica, notify=got.url())

    done = cli("--licence", UNKNOWN, "--release-number", "--yes", "--json")

    assert done.returncode == 1, done.stderr[-4000:]
    title, body = one_message(got)
    assert title == "myopenip dissociate: exit 1 — a business refusal"
    assert "Counts: refused: 1 (total 1)" in body
    assert "Service: SRV-" in body
    assert_no_secret(replica, got, done.stdout, done.stderr)
