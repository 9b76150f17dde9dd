"""The lookups on the portal: a client's services, a service's licences, who holds a
number. Every step only reads (the portal layer's steps, retried under its policy)."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from myopenip_bot.errors import ServiceNotFoundError
from myopenip_bot.lookup.rules import (
    ListedLicence,
    SdaForms,
    clients_meant,
    clients_near,
    near_words,
)
from myopenip_bot.models import ServiceInfo, Tab, format_number
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
        hint = portal.selectors.hints.number_filter_format
        self._sda = SdaForms(hint)  # how this run types a number in « SDA »

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

    def active_services(self) -> list[ServiceInfo]:
        """Every service « Actif » whose type has licences (MetaCentrex) that the list
        « Paramétrage / Monitoring » shows, all pages, in its order (filtered by type and
        state on the portal, then exactly here: its filters match substrings)."""
        self._open()
        texts = self.portal.selectors.texts
        kind, active = texts.service_type_with_licences, texts.service_state_active
        listed = self.portal.step(
            f"listing the {kind} services « {active} »",
            lambda: self.portal.list_services(type=kind, state=active),
        )
        return [s for s in listed if s.type == kind and s.state == active]

    def number_holder(
        self, number: str, services: Sequence[ServiceInfo]
    ) -> tuple[list[ListedLicence], int]:
        """The licences listing `number` (ten digits) in the first of `services` that
        lists it, and how many services were searched to find it (all of them when none
        does). Each tab is searched once by the « SDA » filter (SdaForms: how the number
        is typed); no licence is opened; nothing after the holder is searched."""
        self._open()
        for index, service in enumerate(services, 1):
            self.listings.start(service.ref, require_active=False)
            where = f"{service.ref} ({index} of {len(services)})"
            for tab in TABS:
                rows = self._rows_listing(number, tab, where)
                if rows:
                    log.info(
                        "number_holder_found", number=number, service=service.ref, searched=index
                    )
                    return [_listed(service, tab, row) for row in rows], index
        log.info("number_holder_none", number=number, searched=len(services))
        return [], len(services)

    def _rows_listing(self, number: str, tab: Tab, where: str) -> list[LicenceRow]:
        """The rows of `tab` whose number is `number`: one search in the form known (or
        the hint's); the first time one finds nothing with the form unknown, the form is
        learnt on a number the tab lists (SdaForms), and the number searched in the
        forms left."""
        step = f"looking for {format_number(number)} in {where}, {tab.value}"
        tried = self._sda.to_try
        rows = self._find_number(step, tab, number, tried)
        if rows or self._sda.known is not None:
            return rows
        sample = self._listed_number(tab, where)
        if sample is None:
            return []  # nothing to learn the form on here: the next tab
        learning = f"looking for {format_number(sample)} in {where}, {tab.value} (the « SDA » form)"
        found_by = next(
            (f for f in self._sda.in_order if self._find_number(learning, tab, sample, (f,))),
            None,
        )
        self._sda.learn(found_by)
        log.info("sda_form_learnt", found_by=found_by, forms=list(self._sda.to_try))
        left = self._sda.left_after(tried)
        return self._find_number(step, tab, number, left) if left else []

    def _find_number(
        self, step: str, tab: Tab, number: str, forms: Sequence[str]
    ) -> list[LicenceRow]:
        return self.listings.step(
            step,
            lambda: self.listings.find_rows(tab, ref=None, number=number, number_formats=forms),
        )

    def _listed_number(self, tab: Tab, where: str) -> str | None:
        """A number the first page of `tab`'s listing shows, if any."""
        rows = self.listings.step(
            f"listing {where}, {tab.value}",
            lambda: next(self.listings.pages_for(tab, "")[1], []),
        )
        return next((row.number for row in rows if row.number), None)


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
