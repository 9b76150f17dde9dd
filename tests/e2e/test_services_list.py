"""A service searched by its ref is opened from that search while it still shows
(portal/portal.py, `find_service` after `list_services`): `find --service` searches the
services list once, not a second time from the menu; anything done on the page since,
or a search by other columns, sends the way back to the menu."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import RecordingHooks, replica_settings
from playwright.sync_api import Page
from structlog.testing import capture_logs

from myopenip.replica import Replica
from myopenip_bot.config.selectors import Selectors
from myopenip_bot.errors import ServiceNotFoundError
from myopenip_bot.lookup.finder import Finder
from myopenip_bot.models import Tab
from myopenip_bot.pages import ServicesPage
from myopenip_bot.portal.portal import Portal

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SERVICE = "SRV-10021"


def finder_on(page: Page, replica: Replica, selectors: Selectors, hooks: RecordingHooks) -> Finder:
    settings = replica_settings(replica, timeout_ms=10_000)
    return Finder(Portal(page, selectors, settings, login_page=hooks.logging_in))


def searches(logs: list[dict[str, Any]]) -> list[str]:
    """The services searches made, by ref, in order."""
    return [e["ref"] for e in logs if e["event"] == "services_searched"]


def test_a_service_found_by_its_ref_is_opened_from_that_search_without_another(
    page: Page, replica: Replica, selectors: Selectors, hooks: RecordingHooks
) -> None:
    finder = finder_on(page, replica, selectors, hooks)

    typed = SERVICE.lower()  # as a person may type it: the portal's search ignores case
    with capture_logs() as logs:
        (service,) = finder.services(typed)
        licences = finder.licences(service, tabs=(Tab.GROUPEMENTS,))

    assert service.ref == SERVICE
    assert searches(logs) == [typed]  # one search, not a second from the menu
    assert [e["ref"] for e in logs if e["event"] == "services_list_reused"] == [SERVICE]
    assert [e["service"] for e in logs if e["event"] == "service_opened"] == [SERVICE]
    assert "FPC367128" in {listed.licence for listed in licences}  # the service's own page


def test_a_search_no_longer_on_screen_or_by_other_columns_is_made_again_from_the_menu(
    page: Page, replica: Replica, selectors: Selectors, hooks: RecordingHooks
) -> None:
    finder = finder_on(page, replica, selectors, hooks)
    portal = finder.portal

    with capture_logs() as logs:
        (service,) = finder.services(SERVICE)
        # The filter typed over by hand: the list on screen no longer shows that search.
        ServicesPage(page, selectors).ref_filter.fill("SRV-1002")
        portal.step("opening", lambda: portal.find_service(SERVICE))
        # A search by client: its list is not a search by the ref.
        finder.services(client="Normandie Logistique")
        portal.step("opening", lambda: portal.find_service(SERVICE))
        # A ref the search did not show: not found, from a search of its own.
        finder.services(SERVICE)
        with pytest.raises(ServiceNotFoundError):
            portal.step("opening", lambda: portal.find_service("SRV-99999"))

    assert service.ref == SERVICE
    assert searches(logs) == [SERVICE, SERVICE, "", SERVICE, SERVICE, "SRV-99999"]
    assert [e for e in logs if e["event"] == "services_list_reused"] == []
