"""Screen 4, a MetaCentrex service's settings: its heading and the two tabs."""

from __future__ import annotations

import structlog
from playwright.sync_api import Locator, expect

from myopenip_bot.models import Tab
from myopenip_bot.pages._base import Screen
from myopenip_bot.pages._reads import reading
from myopenip_bot.pages.licences import LicenceResultsPage
from myopenip_bot.pages.presence import LOOK_MS

log = structlog.get_logger(__name__)


class ServiceSettingsPage(Screen):
    """A service's settings; `open_tab` returns the tab's licence search."""

    @property
    def tablist(self) -> Locator:
        return self._locate(self.selectors.service.tablist)

    def tab(self, tab: Tab) -> Locator:
        return self._locate(self.selectors.service.tabs[tab], self.tablist)

    def wait(self, step: str) -> ServiceSettingsPage:
        """Wait for the tabs; raise SessionExpiredError if the login page shows instead,
        DriftError if the page settles without them."""
        self._await(self.selectors.service.tablist, step, where="on the service's page")
        return self

    def open_tab(self, tab: Tab) -> LicenceResultsPage:
        """Select the "Utilisateurs" or "Groupements" tab and wait for its search form."""
        step = f"opening the tab {tab.value}"
        self.wait(step)
        tabs = self.selectors.service.tabs
        control = self._await(tabs[tab], step, self.tablist, "in the tab list")
        results = LicenceResultsPage(self.page, self.selectors, tab, timeout_ms=self.timeout_ms)
        with reading(self.page, step):  # a tab may load its licences with any method
            selected = control.get_attribute("aria-selected") == "true"
            before = None if selected else results.shown_text()
            if not selected:
                control.click()
                _click_again_unless_selected(control, tab)
            self._expect(
                lambda: expect(control).to_have_attribute(
                    "aria-selected", "true", timeout=self.timeout_ms
                ),
                step,
                f"the selection of the tab {tab.value}",
            )
            results.wait(step)
            if not selected:  # its own listing, once it no longer reads as the other tab's
                results.listed(before, step)
        log.info("tab_opened", tab=tab.value)
        return results


def _click_again_unless_selected(control: Locator, tab: Tab) -> None:
    """A tab clicked before the page listens stays unselected: clicked once more when it
    is not selected within a look (a tab only reads: a second click changes nothing, and
    costs nothing when the first one took)."""
    try:
        expect(control).to_have_attribute("aria-selected", "true", timeout=LOOK_MS)
    except AssertionError:
        log.info("tab_clicked_again", tab=tab.value)
        control.click()
