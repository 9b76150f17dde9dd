"""Paging is checked, not assumed: a listing that says it has more pages than « Suivant »
led to is a drift of « Suivant » (licences.next_page), for the smoke and the bot alike;
and the answer to « Valider » never waits on its status message alone."""

from __future__ import annotations

import pytest
from e2e_support import SERVICE, RunFn, replica_settings
from playwright.sync_api import Browser, Page
from structlog.testing import capture_logs

from myopenip.exitcodes import ExitCode, of_smoke
from myopenip.replica import Replica
from myopenip_bot.config.selectors import Selectors
from myopenip_bot.errors import DriftError
from myopenip_bot.models import Outcome, Tab, Target
from myopenip_bot.portal.listings import Listings
from myopenip_bot.portal.portal import Portal
from myopenip_bot.smoke.checks import Status
from myopenip_bot.smoke.run import SmokeResult
from myopenip_bot.smoke.walk import WalkOptions, smoke_walk

pytestmark = [pytest.mark.browser]

NEXT_PAGE = "Utilisateurs tab: licences.next_page"


def walk(browser: Browser, selectors: Selectors, replica: Replica) -> SmokeResult:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    walking = smoke_walk(Portal(page, selectors, replica_settings(replica)), WalkOptions())
    try:
        checks = walking.run()
    finally:
        context.close()
    return SmokeResult(checks, error=walking.error)


@pytest.mark.cells
@pytest.mark.parametrize(
    ("markup", "drift"),
    [
        ("classic", {"rename": {"Suivant": "Page suivante"}}),
        ("aria", {"hide": ["Suivant"]}),
    ],
    ids=["classic-renamed", "aria-hidden"],
    indirect=["markup"],
)
def test_a_drifted_suivant_fails_the_smoke_naming_licences_next_page(
    browser: Browser, selectors: Selectors, replica: Replica, drift: dict[str, object]
) -> None:
    before = replica.state()
    replica.test_api("drift", drift)

    result = walk(browser, selectors, replica)

    failed = {check.id: check for check in result.failed}
    assert NEXT_PAGE in failed, list(failed)
    assert failed[NEXT_PAGE].message.startswith("licences.next_page: ")
    assert of_smoke(result) == ExitCode.REFUSED  # a check failed: the portal drifted
    assert replica.state()["numbers"] == before["numbers"]


@pytest.mark.parametrize("markup", ["aria"], indirect=True)
def test_the_smoke_reaches_the_second_page_where_the_portal_has_one(
    browser: Browser, selectors: Selectors, replica: Replica
) -> None:
    result = walk(browser, selectors, replica)

    (check,) = [c for c in result.checks if c.id == NEXT_PAGE]
    assert check.status is Status.PASSED, check.message
    assert check.message.startswith("page 2 reached")
    assert of_smoke(result) == ExitCode.OK


@pytest.mark.parametrize("markup", ["classic"], indirect=True)
def test_the_bot_never_reads_a_listing_with_more_pages_to_its_end_without_suivant(
    page: Page, selectors: Selectors, replica: Replica
) -> None:
    portal = Portal(page, selectors, replica_settings(replica))
    portal.log_in()
    listings = Listings(portal)
    listings.start(SERVICE)
    assert len(listings.rows_matching(Tab.UTILISATEURS, "FPC3671")) == 28  # two pages

    replica.test_api("drift", {"hide": ["Suivant"]})
    listings.start(SERVICE)
    with pytest.raises(DriftError) as raised:
        listings.rows_matching(Tab.UTILISATEURS, "FPC3671")

    assert raised.value.key == "licences.next_page"
    assert "1 sur 2" in str(raised.value)  # what the page says, quoted


def test_a_renamed_status_message_is_never_waited_on_the_one_shot_is_done(
    run: RunFn, replica: Replica
) -> None:
    # Both markups answer « Valider » with this message (the test runs on each: tiers.py).
    replica.test_api("drift", {"rename": {"Numéro(s) dissocié(s)": "Numéro(s) libéré(s)"}})

    with capture_logs() as logs:
        result = run(Target(licence_ref="FPC367128"), keep=True)

    (task,) = result.results
    assert task.outcome is Outcome.DONE, task.reason
    submitted = [e for e in logs if e["event"] == "dissociation_submitted"]
    assert [e["answer"] for e in submitted] == ["confirmed"], submitted
    assert not any("no answer within" in str(e.get("problem")) for e in logs)
    assert [e["by"] for e in logs if e["event"] == "valider_answered"] == ["the dialog closing"]
    (licence,) = [lic for lic in replica.state()["licences"] if lic["ref"] == "FPC367128"]
    assert licence["sda"] is None
