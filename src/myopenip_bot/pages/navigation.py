"""Screen 2, the navigation bar on every page once logged in: "Mes Services" and its menu."""

from __future__ import annotations

import structlog
from playwright.sync_api import Locator, Page

from myopenip_bot.pages._base import Screen
from myopenip_bot.pages._reads import reading, watched
from myopenip_bot.pages.presence import visible_now as _visible
from myopenip_bot.pages.services import ServicesPage

log = structlog.get_logger(__name__)


class Navigation(Screen):
    """The bar with "Mes Services" (a menu holding "Paramétrage / Monitoring")."""

    @property
    def services_menu(self) -> Locator:
        return self._locate(self.selectors.navigation.services_menu)

    @property
    def menu_scope(self) -> Locator | Page:
        """Where the open menu's "Paramétrage / Monitoring" is: an open role=menu holding
        it (wherever the portal attached it), else the navigation landmark holding
        "Mes Services", else the whole page.

        Scoping matters: a breadcrumb may hold another link "Paramétrage / Monitoring".
        """
        link = self.selectors.navigation.services_settings
        menu = self.page.get_by_role("menu").filter(has=self._locate(link)).filter(visible=True)
        if menu.count() == 1:
            return menu
        bar = self.page.get_by_role("navigation").filter(has=self.services_menu)
        return bar if bar.count() == 1 else self.page

    @property
    def services_settings(self) -> Locator:
        return self._locate(self.selectors.navigation.services_settings, self.menu_scope)

    @property
    def logout(self) -> Locator:
        return self._locate(self.selectors.navigation.logout)

    def is_shown(self) -> bool:
        """Whether the navigation bar is on screen (so the session is alive)."""
        return _visible(self.services_menu)

    def wait(self, step: str) -> Navigation:
        """Wait for the navigation bar; raise SessionExpiredError if the login page shows,
        DriftError if the page settles without « Mes Services »."""
        self._await(self.selectors.navigation.services_menu, step, where="in the navigation bar")
        return self

    def open_services(self) -> ServicesPage:
        """Mes Services > Paramétrage / Monitoring."""
        step = "opening Mes Services > Paramétrage / Monitoring"
        nav = self.selectors.navigation
        with reading(self.page, step):
            self._await(nav.services_menu, step, where="in the navigation bar").click()
            # The link shows once the menu is open, wherever it is attached in the page.
            self._await(nav.services_settings, step, where='in the menu "Mes Services"')
            self.services_settings.click()
            services = ServicesPage(self.page, self.selectors, timeout_ms=self.timeout_ms)
            self._await(self.selectors.services.heading, step, where="after the menu's link")
            if watched(self.page):  # the read lasts until settled: the page may load its list
                self._wait_settled(step)
        log.info("services_opened")
        return services
