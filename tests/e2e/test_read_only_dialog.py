"""The dialog the smoke reads (pages.ReadOnlyDialog) cannot reach « Valider »: whatever it
is asked, on the real dialog, it answers with data, and the portal receives no submission."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import SERVICE, replica_settings
from playwright.sync_api import BrowserContext, ElementHandle, Frame, JSHandle, Locator, Page

from myopenip.replica import Replica
from myopenip_bot.config.selectors import Selectors, locate
from myopenip_bot.models import Tab, format_number
from myopenip_bot.pages import LicenceResultsPage, ReadOnlyDialog
from myopenip_bot.portal.portal import Portal
from myopenip_bot.smoke.guard import NetworkGuard

pytestmark = [pytest.mark.browser]

LICENCE = "FPC367128"
# What could click something: the browser's own objects.
REACHING = (Locator, Page, Frame, ElementHandle, JSHandle, BrowserContext)


def reaching(value: Any) -> list[Any]:
    """The browser objects in `value` (an answer of the dialog), however nested."""
    if isinstance(value, REACHING):
        return [value]
    if isinstance(value, list | tuple | set):
        return [found for item in value for found in reaching(item)]
    if isinstance(value, dict):
        return reaching(list(value.keys()) + list(value.values()))
    return []


def opened(page: Page, selectors: Selectors, replica: Replica) -> tuple[ReadOnlyDialog, str]:
    """The dialog of LICENCE, opened as the smoke opens it (Actions > « Dissocier vos
    numéros » in an announced read), as the read-only view the smoke reads it through."""
    settings = replica_settings(replica, timeout_ms=10_000)
    portal = Portal(page, selectors, settings)
    services, _ = portal.step("finding the service", lambda: portal.find_service(SERVICE))
    service = services.open_service(SERVICE)
    results: LicenceResultsPage | None = None
    number = ""
    for tab in (Tab.GROUPEMENTS, Tab.UTILISATEURS):
        rows = [row for row in service.open_tab(tab).search(licence=LICENCE) if row.ref == LICENCE]
        if rows and rows[0].number:
            results = LicenceResultsPage(page, selectors, tab, timeout_ms=10_000)
            number = rows[0].number
            break
    assert results is not None, f"{LICENCE} is not listed with a number"
    results.tick(LICENCE)
    locate(results.scope, selectors.licences.actions).click()
    locate(page, selectors.licences.dissociate).click()
    dialog = ReadOnlyDialog(page, selectors, timeout_ms=10_000)
    dialog.wait_shown("after « Dissocier vos numéros »")
    return dialog, format_number(number)


def test_the_read_only_dialog_answers_only_with_data_and_nothing_is_submitted(
    page: Page, replica: Replica, selectors: Selectors
) -> None:
    before = replica.state()["licences"]
    guard = NetworkGuard(page.context)
    dialog, number = opened(page, selectors, replica)
    guard.install()
    submit = selectors.dialog.submit
    members = {name: getattr(dialog, name) for name in dir(dialog) if not name.startswith("_")}

    # Every way in, tried on the open dialog, « Valider » among the controls it is asked about.
    answers = {
        "text": dialog.text(),
        "rows": dialog.rows(),
        "keep_options": dialog.keep_options(number),
        "keep_select_count": dialog.keep_select_count(),
        "show": [
            dialog.show(control, "in the dialog")
            for control in (selectors.dialog.heading, selectors.dialog.cancel, submit)
        ],
        "show_all": dialog.show_all([submit, selectors.dialog.cancel], "in the dialog"),
        "wait_shown": dialog.wait_shown("in the test"),
    }
    still_open = locate(page, selectors.dialog.dialog).is_visible()
    dialog.cancel()

    assert sorted(members) == sorted([*answers, "cancel"])  # no other way in
    assert [name for name, member in members.items() if not callable(member)] == []
    assert reaching(list(answers.values())) == []  # nothing that could click
    assert answers["show"] == [None, None, None]  # « Valider » is there, and that is all
    assert (LICENCE, number) in answers["rows"]
    for name in ("validate", "submit", "submit_button", "page", "root", "dialog", "look"):
        with pytest.raises(AttributeError):
            getattr(dialog, name)
    assert still_open  # every answer read the open dialog
    assert not locate(page, selectors.dialog.dialog).is_visible()  # « Annuler » closed it
    assert guard.violations == []
    assert replica.submitted() == []  # the back end never received a « Valider »
    assert replica.state()["licences"] == before
