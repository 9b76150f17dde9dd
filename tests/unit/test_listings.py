"""Listings on the replica in Chromium: what it reuses, when it searches afresh (from what
was done on the pages it handed out, never from being told), paging, and finding a
licence by ref or by number in either format.

What the bot asked of the portal is read from its own events: « service_opened » (a
fresh service page), « licences_searched » (a search), « results_page_turned »,
« listing_reused ».
"""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import replica_settings
from playwright.sync_api import Page, expect
from structlog.testing import capture_logs

from myopenip.replica import Replica
from myopenip_bot.config.selectors import Selectors, load_selectors
from myopenip_bot.errors import TechnicalError
from myopenip_bot.models import Tab
from myopenip_bot.pages import LicenceResultsPage
from myopenip_bot.portal.listings import Listings
from myopenip_bot.portal.portal import Portal
from myopenip_bot.portal.retry import RetryPolicy

pytestmark = pytest.mark.browser

SERVICE = "SRV-10021"
G, U = Tab.GROUPEMENTS, Tab.UTILISATEURS
GUIDE = "FPC36712"  # seven of SRV-10021's Groupements (FPC367123-129), one page
USERS = 28  # SRV-10021's Utilisateurs: more than a page of 20


@pytest.fixture(scope="module")
def selectors() -> Selectors:
    return load_selectors(None)


def listings_on(page: Page, replica: Replica, selectors: Selectors) -> Listings:
    """Listings of SRV-10021, on a portal logged in (its first step), retries at once."""
    settings = replica_settings(replica, timeout_ms=10_000)
    portal = Portal(page, selectors, settings, policy=RetryPolicy(base=0.01, cap=0.01))
    portal.start_run()
    portal.step("opening the portal", portal.open_portal)
    listings = Listings(portal)
    listings.start(SERVICE)
    return listings


@pytest.fixture
def listings(page: Page, replica: Replica, selectors: Selectors) -> Listings:
    return listings_on(page, replica, selectors)


def asked(logs: list[dict[str, Any]]) -> list[str]:
    """What was asked of the portal, in order: "open" (a fresh service page), "search",
    "turn" (a next page), "reuse" (the listing on screen)."""
    names = {
        "service_opened": "open",
        "licences_searched": "search",
        "results_page_turned": "turn",
        "listing_reused": "reuse",
    }
    return [names[e["event"]] for e in logs if e["event"] in names]


def ticked_on_first_page(listings: Listings, tab: Tab, prefix: str, ref: str) -> LicenceResultsPage:
    """`ref` ticked on the first page of `prefix`'s listing: read in a step, as the bot
    reads (on a busy machine a tab click may come before the page listens, and the step
    tries again); what the tests assert is read afterwards."""

    def first_page() -> tuple[LicenceResultsPage, list[str]]:
        results, pages = listings.pages_for(tab, prefix)
        return results, [row.ref for row in next(pages)]

    results, refs = listings.step("reading the first page", first_page)
    assert ref in refs
    results.tick(ref)
    return results


# -- what it reuses ------------------------------------------------------------------------


def test_a_whole_listing_on_screen_is_reused_when_nothing_was_done_on_it(
    listings: Listings,
) -> None:
    listed = listings.rows_matching(G, GUIDE)

    with capture_logs() as logs:
        _, pages = listings.pages_for(G, GUIDE)
        again = [row for rows in pages for row in rows]

    assert asked(logs) == ["reuse"]
    assert again == listed
    assert len(listed) == 7


def test_another_prefix_or_tab_is_searched_on_the_same_page(listings: Listings) -> None:
    listings.rows_matching(G, GUIDE)

    with capture_logs() as logs:
        _, other_prefix = listings.pages_for(G, "FPC367128")
        next(other_prefix)
        _, other_tab = listings.pages_for(U, GUIDE)
        next(other_tab)

    assert asked(logs) == ["search", "search"]


def test_a_listing_of_several_pages_is_never_reused(listings: Listings) -> None:
    listings.rows_matching(U, "")

    with capture_logs() as logs:
        listings.pages_for(U, "")

    assert asked(logs) == ["search"]


def test_a_licence_found_by_ref_leaves_its_listing_to_reuse(listings: Listings) -> None:
    listings.find_rows(G, ref="FPC367128", number=None)

    with capture_logs() as logs:
        _, pages = listings.pages_for(G, "FPC367128")
        rows = next(pages)

    assert asked(logs) == ["reuse"]
    assert [row.ref for row in rows] == ["FPC367128"]


# -- what was done on a page: when it searches afresh ------------------------------------


def test_rows_ticked_send_the_next_listing_to_a_fresh_page_and_reads_stay(
    listings: Listings,
) -> None:
    ticked_on_first_page(listings, G, GUIDE, "FPC367128")

    with capture_logs() as reads:
        listings.rows_matching(G, GUIDE)
    with capture_logs() as to_act:
        results, pages = listings.pages_for(G, GUIDE)
        next(pages)

    assert asked(reads) == ["search"]  # a read: the same page, searched again
    assert asked(to_act) == ["open", "search"]  # to tick again: a fresh page, no tick left
    assert not results.checkbox("FPC367128").is_checked()


def test_a_dialog_cancelled_leaves_the_page_to_read(listings: Listings) -> None:
    results = ticked_on_first_page(listings, G, GUIDE, "FPC367128")
    results.open_dissociation().cancel()

    with capture_logs() as reads:
        listings.rows_matching(G, GUIDE)
    with capture_logs() as to_act:
        listings.pages_for(G, GUIDE)

    assert asked(reads) == ["search"]
    assert asked(to_act) == ["open", "search"]


def test_a_dialog_not_seen_closed_sends_every_read_to_a_fresh_page(listings: Listings) -> None:
    dialog = ticked_on_first_page(listings, G, GUIDE, "FPC367128").open_dissociation()
    dialog.cancel_button.click()  # behind the page object's back: as if it had failed
    expect(dialog.dialog).to_be_hidden()

    with capture_logs() as logs:
        rows = listings.rows_matching(G, GUIDE)

    assert asked(logs) == ["open", "search"]
    assert len(rows) == 7


def test_after_a_confirmed_valider_the_listing_is_read_on_the_same_page(
    listings: Listings, replica: Replica
) -> None:
    dialog = ticked_on_first_page(listings, G, "FPC367128", "FPC367128").open_dissociation()
    assert dialog.validate().confirmed

    with capture_logs() as logs:
        (row,) = listings.rows_matching(G, "FPC367128")

    assert asked(logs) == ["search"]
    assert row.number is None


def test_after_an_unconfirmed_valider_the_listing_is_read_from_a_fresh_page(
    listings: Listings, replica: Replica
) -> None:
    replica.test_api("refuse", {"message": "Refusé pour le test", "count": 1})
    dialog = ticked_on_first_page(listings, G, "FPC367128", "FPC367128").open_dissociation()
    assert not dialog.validate().confirmed
    dialog.close_if_open()  # closed: still, what the answer left on the page is unknown

    with capture_logs() as logs:
        (row,) = listings.rows_matching(G, "FPC367128")

    assert asked(logs) == ["open", "search"]
    assert row.number == "0231456789"


def test_a_step_that_failed_on_the_service_page_untouched_searches_again_on_it(
    listings: Listings,
) -> None:
    listings.rows_matching(G, GUIDE)
    failures = []

    def read() -> list[str]:
        _, pages = listings.pages_for(G, GUIDE)
        rows = next(pages)
        if not failures:
            failures.append("once")
            raise TechnicalError("the portal failed once")
        return [row.ref for row in rows]

    with capture_logs() as logs:
        refs = listings.step("reading", read)

    # The listing on screen is no longer trusted; the service's page, still shown, is.
    assert asked(logs) == ["reuse", "search"]
    assert [e["event"] for e in logs].count("service_page_kept") == 1
    assert len(refs) == 7


def test_a_step_that_failed_after_a_tick_is_redone_from_a_fresh_page(listings: Listings) -> None:
    listings.rows_matching(G, GUIDE)
    failures = []

    def read() -> list[str]:
        results, pages = listings.pages_for(G, GUIDE)
        rows = next(pages)
        if not failures:
            failures.append("once")
            results.tick("FPC367128")
            raise TechnicalError("the portal failed once")
        return [row.ref for row in rows]

    with capture_logs() as logs:
        refs = listings.step("reading", read)

    assert asked(logs) == ["reuse", "open", "search"]
    assert [e for e in logs if e["event"] == "service_page_kept"] == []
    assert len(refs) == 7


# -- paging ------------------------------------------------------------------------------


def test_every_page_is_read_and_a_reader_done_early_turns_none(listings: Listings) -> None:
    with capture_logs() as everything:
        rows = listings.rows_matching(U, "")
    with capture_logs() as first_only:
        _, pages = listings.pages_for(U, "")
        first = next(pages)

    assert len(rows) == len({row.ref for row in rows}) == USERS
    assert asked(everything) == ["open", "search", "turn"]
    assert asked(first_only) == ["search"]
    assert first == rows[: len(first)]
    assert len(first) < USERS


def test_pages_are_turned_until_there_is_none(
    page: Page, replica: Replica, selectors: Selectors
) -> None:
    replica.quirks("page-size=5")
    listings = listings_on(page, replica, selectors)

    with capture_logs() as logs:
        rows = listings.rows_matching(U, "")
        found = listings.find_rows(U, ref="FPC367158", number=None)

    assert len({row.ref for row in rows}) == USERS
    assert asked(logs) == ["open", "search"] + ["turn"] * 5 + ["search"]
    assert [row.ref for row in found] == ["FPC367158"]


# -- finding by ref, by number -------------------------------------------------------------


def test_a_ref_is_found_exactly_in_its_tab_only(listings: Listings) -> None:
    assert [row.ref for row in listings.find_rows(G, ref="fpc367128", number=None)] == ["FPC367128"]
    assert listings.find_rows(U, ref="FPC367128", number=None) == []
    assert listings.find_rows(G, ref="FPC36712", number=None) == []  # a prefix is no ref


@pytest.mark.parametrize(
    ("preferred", "typed"), [("{digits}", "0231456791"), ("{grouped}", "02 31 45 67 91")]
)
def test_a_number_is_typed_as_the_hint_says_and_found(
    page: Page, replica: Replica, selectors: Selectors, preferred: str, typed: str
) -> None:
    hinted = selectors.model_copy(
        update={"hints": selectors.hints.model_copy(update={"number_filter_format": preferred})}
    )
    listings = listings_on(page, replica, hinted)

    with capture_logs() as logs:
        found = listings.find_rows(G, ref=None, number="0231456791")

    assert [(row.ref, row.number) for row in found] == [("FPC367130", "0231456791")]
    assert asked(logs) == ["open", "search"]
    results = LicenceResultsPage(page, hinted, G)
    assert results.number_filter.input_value() == typed


def test_a_number_not_found_is_searched_in_the_other_format_too(
    page: Page, replica: Replica, selectors: Selectors
) -> None:
    listings = listings_on(page, replica, selectors)

    with capture_logs() as logs:
        found = listings.find_rows(G, ref=None, number="0299999999")

    assert found == []
    assert asked(logs) == ["open", "search", "search"]
    results = LicenceResultsPage(page, selectors, G)
    assert results.number_filter.input_value() == "02 99 99 99 99"  # the last one typed


# Swallows the first click on a tab, as a page whose scripts do not listen yet would.
FIRST_TAB_CLICK_LOST = """
document.addEventListener('click', (event) => {
  const tab = event.target instanceof Element ? event.target.closest('[role=tab]') : null;
  if (tab && !window.__tabClickLost) {
    window.__tabClickLost = true;
    event.stopImmediatePropagation();
    event.preventDefault();
  }
}, true);
"""


def test_a_tab_click_the_page_did_not_take_is_clicked_again(
    page: Page, replica: Replica, selectors: Selectors
) -> None:
    page.add_init_script(FIRST_TAB_CLICK_LOST)
    listings = listings_on(page, replica, selectors)

    with capture_logs() as logs:
        rows = listings.rows_matching(G, GUIDE)  # no step: no retry to hide a lost click

    assert [e["tab"] for e in logs if e["event"] == "tab_clicked_again"] == ["Groupements"]
    assert len(rows) == 7
