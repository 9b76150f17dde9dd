"""Portals that do their work in the page: the runner, the smoke walk and a batch on a
pairwise covering set of the replica's quirks, in both markups — the same outcomes as on
the default replica, and no step waits out a timeout or is retried.

The seven quirks and the markup are eight on/off factors: every pair of them is seen
on and off together in these six combinations (with the default replica of every other
test), not in all 256.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from e2e_support import RunFn, licence, outcomes, replica_settings
from playwright.sync_api import Browser
from pydantic import SecretStr
from structlog.testing import capture_logs

from myopenip.replica import Replica
from myopenip_bot.batch.file import BatchRow
from myopenip_bot.batch.journal import Journal
from myopenip_bot.batch.runner import Batch, BatchOptions
from myopenip_bot.config.selectors import Selectors
from myopenip_bot.config.settings import Settings, TraceMode
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.models import Outcome, Target
from myopenip_bot.portal.portal import Portal
from myopenip_bot.smoke.checks import Status
from myopenip_bot.smoke.walk import WalkOptions, smoke_walk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Three combinations per markup (a pairwise covering array of the eight factors, plus
# every quirk at once on the classic markup).
COMBINATIONS = {
    "aria": [
        ("client-paging", "client-filtering", "search-first", "disabled-next", "page-size=5"),
        ("client-paging", "client-filtering", "replace-table", "no-page-indicator"),
        ("search-first", "disabled-next", "replace-table", "no-page-indicator"),
    ],
    "classic": [
        ("client-paging", "search-first", "page-size=5", "replace-table"),
        ("client-filtering", "disabled-next", "page-size=5", "no-page-indicator"),
        (
            "client-paging",
            "client-filtering",
            "search-first",
            "disabled-next",
            "page-size=3",
            "replace-table",
            "no-page-indicator",
        ),
    ],
}


@pytest.fixture(params=[0, 1, 2], ids=["first", "second", "third"])
def quirky(request: pytest.FixtureRequest, replica: Replica, markup: str) -> Replica:
    """The session's replica of this markup with one combination of quirks."""
    replica.quirks(*COMBINATIONS[markup][request.param])
    return replica


def slow_events(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events that say a step waited out a timeout or had to be redone."""
    return [
        e
        for e in logs
        if e["event"] in {"step_retried", "service_retried"}
        or "timed out" in str(e.get("error", ""))
    ]


def test_a_licence_that_is_not_there_is_refused_without_waiting_out_a_timeout(
    run: RunFn, quirky: Replica
) -> None:
    """Searches that find nothing, in both tabs, on this combination. (Licences found on
    later pages and in both tabs: the batch below does FPC367158, the last of 28
    Utilisateurs, and FPC367128 of Groupements through the same Runner, on every
    combination, and asserts each done once without a slow step.)"""
    before = quirky.state()

    with capture_logs() as logs:
        unknown = run(Target(licence_ref="FPC999999"))

    assert outcomes(unknown) == [Outcome.REFUSED]
    assert slow_events(logs) == []
    assert quirky.state() == before


def walk(browser: Browser, selectors: Selectors, replica: Replica) -> dict[str, Any]:
    """The smoke's checks in a new context, in process: failed checks by id, and the rest."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    settings = replica_settings(replica, timeout_ms=10_000)
    portal = Portal(page, selectors, settings)
    checks = smoke_walk(portal, WalkOptions(service="SRV-10021")).run()
    context.close()
    return {
        "failed": {c.id: c.message for c in checks if c.status is Status.FAILED},
        "passed": sum(c.status is Status.PASSED for c in checks),
    }


# The combination of each markup whose walk is also drifted: the one with the most quirks.
# The quirks change how listings are searched and paged, never the dialog: that the walk
# reaches the dialog through every combination is the passing walk's to show; the drift
# of « Valider » named there, once per markup (each walk is seconds of Chromium).
DRIFTED = {"aria": 0, "classic": 2}


def test_the_smoke_passes_then_names_valider_when_it_drifts(
    browser: Browser,
    selectors: Selectors,
    quirky: Replica,
    markup: str,
    request: pytest.FixtureRequest,
) -> None:
    before = quirky.state()

    passing = walk(browser, selectors, quirky)

    assert passing["failed"] == {}
    assert passing["passed"] > 50
    if request.node.callspec.params["quirky"] == DRIFTED[markup]:
        quirky.test_api("drift", {"rename": {"Valider": "Confirmer"}})
        drifted = walk(browser, selectors, quirky)
        assert list(drifted["failed"]) == ["Dissociation dialog: dialog.submit"]
        assert "Confirmer" in drifted["failed"]["Dissociation dialog: dialog.submit"]
    assert quirky.state()["licences"] == before["licences"]


def test_a_batch_of_two_services_stopped_and_resumed_ends_as_the_file(
    quirky: Replica, selectors: Selectors, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    state = quirky.state()
    other = sorted(
        lc["ref"]
        for lc in state["licences"]
        if lc["service_ref"] == "SRV-10022" and lc["sda"] and lc["tab"] == "utilisateurs"
    )[-2:]
    rows = [
        BatchRow(2, "SRV-10021", "FPC367158", keep=False),
        BatchRow(3, "SRV-10021", "FPC367128", keep=True),
        *(BatchRow(4 + n, "SRV-10022", ref, keep=bool(n)) for n, ref in enumerate(other)),
    ]
    settings = Settings(
        base_url=quirky.url,
        username=quirky.username,
        password=SecretStr(quirky.password),
        timeout_ms=10_000,
        traces_dir=tmp_path / "traces",
        work_dir=tmp_path / "work",
        state_file=tmp_path / "private" / "state.json",
        browser_path=os.environ.get("MYOPENIP_BROWSER_PATH") or None,
        trace=TraceMode.OFF,  # not what is tested here; recording one is a third of the CPU
    )
    options = BatchOptions(
        file=tmp_path / "batch.csv", journal=tmp_path / "j.sqlite", report_dir=tmp_path / "r"
    )

    def run_batch(stop_after_first_row: bool) -> list[str]:
        stop = StopSignal()
        with Journal.open(options.journal) as journal:
            loaded = journal.load(rows)

            def on_rows(told: list[Any]) -> None:
                if stop_after_first_row and any(row.state == "done" for row in told):
                    stop.request(15)  # what SIGTERM does: stop at the next safe point

            batch = Batch(
                settings, options, rows, journal, selectors=selectors, stop=stop, on_rows=on_rows
            )
            with capture_logs() as logs:
                result = batch.run(loaded)
        assert slow_events(logs) == [], slow_events(logs)
        assert result.error is None, (result.error, [e for e in logs if e["log_level"] == "error"])
        return [row.state for row in result.rows]

    first = run_batch(stop_after_first_row=True)
    second = run_batch(stop_after_first_row=False)

    assert "done" in first
    assert set(first) != {"done"}  # stopped halfway
    assert second == ["done"] * 4
    state = quirky.state()
    assert [licence(state, row.licence)["sda"] for row in rows] == [None] * 4
    audit = state["audit"]
    refs = [row.licence for row in rows]
    assert sorted(entry["licence_ref"] for entry in audit) == sorted(refs)  # each once
    assert {e["licence_ref"]: bool(e["keep"]) for e in audit} == {r.licence: r.keep for r in rows}
