"""The lookups on the portal: a client's services, a service's licences, who holds a
number. Every step only reads (the portal layer's steps, retried under its policy)."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from myopenip_bot.errors import ServiceNotFoundError
from myopenip_bot.lookup.rules import ListedLicence, clients_meant, clients_near, near_words
from myopenip_bot.models import ServiceInfo, Tab
from myopenip_bot.pages import LicenceRow
from myopenip_bot.portal.listings import Listings
from myopenip_bot.portal.portal import Portal

__all__ = ["TABS", "Finder"]

log = structlog.get_logger(__name__)

TABS = (Tab.UTILISATEURS, Tab.GROUPEMENTS)  # the guide's order


class Finder:
    """Reads the portal through `portal` (logged in on the first step); a service's
    licences through `listings` (a run's own, which then knows what the lookup left on
    screen), else its own."""

    def __init__(
        self, portal: Portal, *, opened: bool = False, listings: Listings | None = None
    ) -> None:
        self.portal = portal
        self.listings = listings if listings is not None else Listings(portal)
        self._opened = opened  # a run that opened the portal already

    def _open(self) -> None:
        if not self._opened:
            self.portal.start_run()
            self.portal.step("opening the portal", self.portal.open_portal)
            self._opened = True

    def services(self, ref: str = "", **columns: str) -> list[ServiceInfo]:
        """The services the list shows for these filters (see Portal.list_services)."""
        self._open()
        what = " ".join(v for v in (ref, *columns.values()) if v) or "every service"
        return self.portal.step(
            f"listing the services of {what}", lambda: self.portal.list_services(ref, **columns)
        )

    def client_services(self, client: str) -> tuple[tuple[str, str], list[ServiceInfo]]:
        """The one client `client` means (its name or « Compte client »), and its
        services; ServiceNotFoundError naming the candidates when it means none or
        several."""
        by_account = client.upper().startswith("CC-")
        found = self.services(**({"account": client} if by_account else {"client": client}))
        meant = clients_meant(client, found)
        if not meant:
            near = [] if by_account else self._clients_near(client)
            hint = " or ".join(f"{name} ({account})" for name, account in near)
            raise ServiceNotFoundError(
                f"no client {client!r} in the services list"
                + (f"; did you mean {hint}?" if hint else "")
            )
        if len(meant) > 1:
            names = "; ".join(f"{name} ({account})" for name, account in meant)
            raise ServiceNotFoundError(
                f"{client!r} names {len(meant)} clients: {names}; give the name in full "
                "or the « Compte client »"
            )
        name, account = meant[0]
        return meant[0], [s for s in found if (s.client, s.account) == (name, account)]

    def _clients_near(self, client: str) -> list[tuple[str, str]]:
        """Clients whose name reads like `client`, listed by one of its words."""
        for word in near_words(client):
            near = clients_near(client, self.services(client=word))
            if near:
                return near
        return []

    def licences(self, service: ServiceInfo, tabs: Sequence[Tab] = TABS) -> list[ListedLicence]:
        """Every licence of `service`, in each of `tabs`, all pages."""
        self._open()
        self.listings.start(service.ref, require_active=False)
        listed: list[ListedLicence] = []
        for tab in tabs:
            rows = self.listings.step(
                f"listing the licences of {service.ref} in {tab.value}",
                lambda tab=tab: self.listings.rows_matching(tab, ""),  # type: ignore[misc]
            )
            listed += [_listed(service, tab, row) for row in rows]
        return listed

    def holding(
        self, service: ServiceInfo, *, ref: str | None = None, number: str | None = None
    ) -> list[ListedLicence]:
        """The licences of `service` whose ref, else number (ten digits), is exactly the
        one given (none, one, or several when the portal lists several)."""
        self._open()
        self.listings.start(service.ref, require_active=False)
        found: list[ListedLicence] = []
        for tab in TABS:
            rows = self.listings.step(
                f"looking for {ref or number} in {service.ref}, {tab.value}",
                lambda tab=tab: self.listings.find_rows(tab, ref=ref, number=number),  # type: ignore[misc]
            )
            found += [_listed(service, tab, row) for row in rows]
            if found:
                break
        log.info("lookup_found", service=service.ref, ref=ref, number=number, found=len(found))
        return found


def _listed(service: ServiceInfo, tab: Tab, row: LicenceRow) -> ListedLicence:
    return ListedLicence(
        service=service,
        tab=tab,
        licence=row.ref,
        type=row.type,
        number=row.number,
        user=row.user,
        site=row.site,
        state=row.state,
    )
