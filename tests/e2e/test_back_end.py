"""A portal with a telecom operator's back end, in both markups: a dissociation completed
seconds after « Valider » (« État » « Dissociation en cours » meanwhile, a second request
refused), reads sent as POSTs, service refs that are not the replica's (MC-004217); and a
portal that renders its results twice. The true verdict every time, « Valider » sent once.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from e2e_support import RunFn, licence, on_markup, outcomes, replica_settings
from playwright.sync_api import Browser
from structlog.testing import capture_logs

from myopenip.exitcodes import of_batch
from myopenip.replica import Replica
from myopenip_bot.batch.file import BatchRow
from myopenip_bot.batch.journal import Journal
from myopenip_bot.batch.runner import Batch, BatchOptions, BatchResult
from myopenip_bot.config.selectors import Selectors
from myopenip_bot.config.settings import Settings, TraceMode
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.lookup.run import FindQuery, run_find
from myopenip_bot.models import Outcome, Target
from myopenip_bot.portal.portal import Portal
from myopenip_bot.smoke.checks import Status
from myopenip_bot.smoke.walk import smoke_walk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The guide's service and two more, as this portal names them.
SERVICES = ("MC-004217", "MC-004218", "MC-004219")
TELECOM = ("late-completion=1", "post-reads", "mc-refs")


@pytest.fixture
def telecom(replica: Replica) -> Replica:
    replica.quirks(*TELECOM)
    return replica


def settings_for(replica: Replica, tmp_path: Path, **more: Any) -> Settings:
    return replica_settings(
        replica,
        timeout_ms=10_000,
        traces_dir=tmp_path / "traces",
        work_dir=tmp_path / "work",
        state_file=tmp_path / "private" / "state.json",
        browser_path=os.environ.get("MYOPENIP_BROWSER_PATH") or None,
        trace=TraceMode.OFF,
        **more,
    )


def test_a_one_shot_is_done_once_the_portal_shows_it_having_sent_valider_once(
    run: RunFn, telecom: Replica
) -> None:
    # Done 3 s after « Valider »: a loaded machine's first read back comes before it.
    telecom.quirks("late-completion=3", *TELECOM[1:])
    with capture_logs() as logs:
        result = run(Target(licence_ref="FPC367158"), service=SERVICES[0])

    assert outcomes(result) == [Outcome.DONE], [task.reason for task in result.results]
    assert result.results[0].reason is None  # verified, not assumed
    assert licence(telecom.state(), "FPC367158")["sda"] is None
    assert telecom.submitted() == [["FPC367158"]]
    assert any(e["event"] == "completion_awaited" for e in logs)  # it did wait for it


@on_markup("aria")
def test_past_the_completion_timeout_it_is_in_progress_and_no_later_run_sends_it_again(
    run: RunFn, replica: Replica, selectors: Selectors, tmp_path: Path
) -> None:
    replica.quirks("late-completion=600")  # done when the test says (/_test/complete)
    later = {"completion_timeout": 1}

    first = run(Target(licence_ref="FPC367128"), settings=later)
    again = run(Target(licence_ref="FPC367128"), settings=later)
    # The portal's « État » unread (another portal's wording): the bot's records suffice.
    blind = selectors.model_copy(
        update={"hints": selectors.hints.model_copy(update={"in_progress": None})}
    )
    unhinted = run(Target(licence_ref="FPC367128"), settings=later, using=blind)
    # No records (another user's): the portal's « État » suffices.
    others = {**later, "accepted_file": tmp_path / "other-user" / "accepted.sqlite3"}
    unrecorded = run(Target(licence_ref="FPC367128"), settings=others)
    replica.test_api("complete")
    settled = run(Target(licence_ref="FPC367128"), settings=later)

    assert outcomes(first) == [Outcome.IN_PROGRESS]
    assert "still listed after 1 s" in (first.results[0].reason or "")
    assert "do not redo it" in (first.results[0].reason or "")
    assert outcomes(again) == outcomes(unhinted) == outcomes(unrecorded) == [Outcome.IN_PROGRESS]
    assert "accepted in an earlier run" in (unhinted.results[0].reason or "")
    assert "« Dissociation en cours »" in (unrecorded.results[0].reason or "")
    assert outcomes(settled) == [Outcome.DONE]
    assert settled.results[0].number == "0231456789"  # the number it took off
    assert "took effect" in (settled.results[0].reason or "")
    assert replica.submitted() == [["FPC367128"]]


def walk(browser: Browser, selectors: Selectors, replica: Replica) -> dict[str, Any]:
    """The smoke's checks in a new context, in process, on this portal's first service."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    settings = replica_settings(replica, timeout_ms=10_000)
    checks = smoke_walk(Portal(page, selectors, settings)).run()
    context.close()
    return {c.id: (c.status, c.message) for c in checks}


def test_the_smoke_passes_proving_read_only_with_posted_reads_then_names_valider(
    browser: Browser, selectors: Selectors, telecom: Replica, markup: str
) -> None:
    telecom.quirks(*TELECOM, "render-twice")  # and every search answered twice
    before = telecom.state()

    passing = walk(browser, selectors, telecom)

    failed = {key: message for key, (status, message) in passing.items() if status is Status.FAILED}
    assert failed == {}
    status, proof = passing["Read-only guard: network.read_only"]
    assert status is Status.PASSED
    assert "requests that are not GETs, each sent by a read the walk announced" in proof
    assert "after « Annuler » (read again)" in proof
    assert passing["Paramétrage / Monitoring: hints.service_ref"][0] is Status.SKIPPED
    if markup == "classic":  # the drift on one markup: the guard's proof is the same on both
        telecom.test_api("drift", {"rename": {"Valider": "Confirmer"}})
        drifted = walk(browser, selectors, telecom)
        failed = [key for key, (status, _) in drifted.items() if status is Status.FAILED]
        assert failed == ["Dissociation dialog: dialog.submit"]
        assert drifted["Read-only guard: network.read_only"][0] is Status.PASSED
    assert telecom.state()["licences"] == before["licences"]
    assert telecom.submitted() == []


def test_find_answers_a_client_on_a_portal_whose_reads_are_posts(
    telecom: Replica, selectors: Selectors, tmp_path: Path
) -> None:
    query = FindQuery(client="Clinique du Parc")
    with capture_logs() as logs, ThreadPoolExecutor(1) as thread:  # away from pytest's loop
        found = thread.submit(run_find, settings_for(telecom, tmp_path), selectors, query).result()

    assert SERVICES[2] in [service.ref for service in found.services]
    assert [e for e in logs if e["event"] == "smoke_request_aborted"] == []
    assert any(e["event"] == "read_request_allowed" for e in logs)  # its searches are POSTs


def nine_rows(replica: Replica) -> list[BatchRow]:
    """Three numbered licences of each of the three services, keep and release mixed."""
    state = replica.state()
    rows = []
    for service in SERVICES:
        numbered = sorted(
            lc["ref"] for lc in state["licences"] if lc["service_ref"] == service and lc["sda"]
        )[:3]
        rows += [
            BatchRow(len(rows) + 2, service, ref, keep=bool(n % 2))
            for n, ref in enumerate(numbered)
        ]
    return rows


class StopWhileWaiting(StopSignal):
    """What SIGTERM does, the first time the run pauses to let the portal work."""

    def sleep(self, seconds: float) -> None:
        self.request(15)
        super().sleep(seconds)


def batch_run(
    settings: Settings,
    selectors: Selectors,
    rows: list[BatchRow],
    tmp_path: Path,
    stop: StopSignal | None = None,
) -> BatchResult:
    options = BatchOptions(
        file=tmp_path / "batch.csv", journal=tmp_path / "j.sqlite", report_dir=tmp_path / "r"
    )
    with Journal.open(options.journal) as journal:
        loaded = journal.load(rows)
        batch = Batch(
            settings, options, rows, journal, selectors=selectors, stop=stop or StopSignal()
        )
        return batch.run(loaded)


@pytest.mark.twin(
    "tests/e2e/test_back_end.py::test_a_batch_stopped_while_the_portal_works_resumes_without_a_second_valider",
    "tests/e2e/test_quirks.py::test_a_batch_of_two_services_stopped_and_resumed_ends_as_the_file",
)
@on_markup("aria")
def test_a_batch_of_nine_rows_over_three_services_is_done_with_one_valider_each(
    telecom: Replica, selectors: Selectors, tmp_path: Path
) -> None:
    rows = nine_rows(telecom)

    result = batch_run(settings_for(telecom, tmp_path), selectors, rows, tmp_path)

    assert [row.state for row in result.rows] == ["done"] * 9
    assert of_batch(result) == 0
    sent = [ref for dialog in telecom.submitted() for ref in dialog]
    assert sorted(sent) == sorted(row.licence for row in rows)  # each once, none twice


@on_markup("classic")
def test_a_batch_stopped_while_the_portal_works_resumes_without_a_second_valider(
    replica: Replica, selectors: Selectors, tmp_path: Path
) -> None:
    """SIGTERM (what it does) during the wait: the rows accepted are in progress, the run
    exits 143 to be resumed; the resume reads them done and never clicks again (a batch
    SIGKILLed there: tests/commands/test_batch.py)."""
    replica.quirks("late-completion=600", "mc-refs")  # done when the test says
    rows = nine_rows(replica)[:3]
    settings = settings_for(replica, tmp_path, completion_timeout=1)

    stopped = batch_run(settings, selectors, rows, tmp_path, stop=StopWhileWaiting())
    replica.test_api("complete")
    resumed = batch_run(settings, selectors, rows, tmp_path)

    assert [row.state for row in stopped.rows] == ["in_progress"] * 3
    assert of_batch(stopped) == 143  # rows left: run it again
    assert [row.state for row in resumed.rows] == ["done"] * 3
    assert of_batch(resumed) == 0
    assert replica.submitted() == [[row.licence for row in rows]]  # one dialog, once


@on_markup("classic")
def test_a_results_table_is_never_read_from_the_previous_search(
    run: RunFn, replica: Replica
) -> None:
    replica.quirks("render-twice")

    # An unknown licence: its searches find nothing; then a number, searched right after an
    # empty search: the portal first renders that empty table again.
    result = run(
        Target(licence_ref="FPC999999"),
        Target(number="0231456789"),
        dry_run=True,
        skip_refused=True,
    )

    assert outcomes(result) == [Outcome.REFUSED, Outcome.WOULD_DO]
    assert result.results[1].licence_ref == "FPC367128"


@on_markup("classic")
def test_a_rerun_waits_for_what_an_earlier_run_left_in_progress(
    run: RunFn, replica: Replica
) -> None:
    replica.quirks("late-completion=3")

    first = run(Target(licence_ref="FPC367128"), settings={"completion_timeout": 0})
    rerun = run(Target(licence_ref="FPC367128"))  # the default 60 s: it waits, reading

    assert outcomes(first) == [Outcome.IN_PROGRESS]
    assert outcomes(rerun) == [Outcome.DONE]
    assert "the earlier « Valider » took effect" in (rerun.results[0].reason or "")
    assert replica.submitted() == [["FPC367128"]]
