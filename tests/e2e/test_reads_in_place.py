"""Reads tried again in place on a flaky portal (portal/portal.py, portal/listings.py): an
error page answering a page the bot opened is opened again, and a licence search that
failed on the service's page is made again there, rather than by the whole way from the
portal's home, whose every request must pass (issue 27: at 30 % errors that way gave out).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_support import RunFn, licence, on_markup, outcomes
from playwright.sync_api import Page, Route
from structlog.testing import capture_logs

from myopenip.replica import Replica
from myopenip_bot.models import Outcome, Target

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def fail_once(page: Page, matches: Callable[[str], bool]) -> list[str]:
    """Answer the first GET whose address `matches` with a 503 page that never reaches the
    portal; the addresses so answered."""
    failed: list[str] = []

    def handle(route: Route) -> None:
        if route.request.method == "GET" and not failed:
            failed.append(route.request.url)
            route.fulfill(status=503, content_type="text/html", body="<h1>Indisponible</h1>")
        else:
            route.continue_()

    page.route(lambda url: matches(url), handle)
    return failed


@on_markup("classic")
@pytest.mark.parametrize(
    "failing",
    [
        pytest.param(lambda url: "/services?" in url and "SRV-10021" in url, id="the-search"),
        pytest.param(lambda url: url.endswith("/services/SRV-10021"), id="parametrer"),
    ],
)
def test_a_page_of_the_way_to_the_service_answered_5xx_is_opened_again_in_place(
    run: RunFn, replica: Replica, page: Page, failing: Callable[[str], bool]
) -> None:
    failed = fail_once(page, failing)

    with capture_logs() as logs:
        result = run(Target(licence_ref="FPC367128"))

    assert len(failed) == 1
    again = [e for e in logs if e["event"] == "read_again"]
    assert [(e["step"], e["attempt"]) for e in again] == [("opening the service SRV-10021", 2)]
    assert [e for e in logs if e["event"] == "step_retried"] == []  # not the whole way
    assert [e["event"] for e in logs].count("services_opened") == 1  # the menu once
    assert outcomes(result) == [Outcome.DONE]
    assert licence(replica.state(), "FPC367128")["sda"] is None


@on_markup("aria")
def test_a_licence_search_answered_5xx_is_made_again_on_the_services_page(
    run: RunFn, replica: Replica, page: Page
) -> None:
    # FPC367158, on the last page of Utilisateurs: no tab shows it as it opens, so the bot
    # searches for it (FPC367128 is planned from the Groupements listing, no search).
    failed = fail_once(page, lambda url: "/licences?" in url and "FPC367158" in url)

    with capture_logs() as logs:
        result = run(Target(licence_ref="FPC367158"))

    assert failed
    events = [e["event"] for e in logs]
    assert [(e["attempt"], e["attempts"]) for e in logs if e["event"] == "step_retried"] == [(2, 3)]
    assert events.count("service_page_kept") == 1
    assert events.count("service_opened") == 1  # not opened again from the services list
    assert outcomes(result) == [Outcome.DONE]
    assert licence(replica.state(), "FPC367158")["sda"] is None
