"""The search of a number over many services (lookup/finder.py), on a fake portal whose
« SDA » filter takes one form of a number only: one search per tab once the form is
known, learnt on a number a tab lists; nothing searched after the holder."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, cast

import pytest

from myopenip_bot.config.selectors import Selectors, load_selectors
from myopenip_bot.lookup.finder import Finder
from myopenip_bot.models import ServiceInfo, Tab
from myopenip_bot.pages import LicenceRow
from myopenip_bot.portal.listings import Listings
from myopenip_bot.portal.portal import Portal

T = TypeVar("T")

SERVICES = [ServiceInfo(f"SRV-1000{i}", client=f"Client {i}", account=f"CC-{i}") for i in (1, 2, 3)]
# Each service's tabs: (service, tab) -> its licences' numbers.
LISTED = {
    ("SRV-10001", Tab.UTILISATEURS): ["0231000001", "0231000002"],
    ("SRV-10001", Tab.GROUPEMENTS): [],
    ("SRV-10002", Tab.UTILISATEURS): ["0231000003"],
    ("SRV-10002", Tab.GROUPEMENTS): ["0231000004"],
    ("SRV-10003", Tab.UTILISATEURS): ["0231000005"],
    ("SRV-10003", Tab.GROUPEMENTS): ["0231000006"],
}


class FakePortal:
    """Steps run at once; logged in already."""

    def __init__(self, selectors: Selectors) -> None:
        self.selectors = selectors

    def step(self, name: str, action: Callable[[], T]) -> T:
        return action()


class FakeListings:
    """A service's tabs whose « SDA » filter finds a number typed in `accepts` only;
    every search it was asked for, in `searched`: (service, tab, number, form)."""

    def __init__(self, accepts: str | None) -> None:
        self.accepts = accepts
        self.service = ""
        self.searched: list[tuple[str, Tab, str | None, str | None]] = []

    def start(self, service_ref: str, *, require_active: bool = True) -> None:
        self.service = service_ref

    def step(self, name: str, action: Callable[[], T]) -> T:
        return action()

    def find_rows(
        self, tab: Tab, *, ref: str | None, number: str | None, number_formats: Sequence[str]
    ) -> list[LicenceRow]:
        rows: list[LicenceRow] = []
        for form in number_formats:
            self.searched.append((self.service, tab, number, form))
            if form == self.accepts and number in LISTED[self.service, tab]:
                rows = [_row(number)]
                break
        return rows

    def pages_for(self, tab: Tab, prefix: str) -> tuple[object, Iterator[list[LicenceRow]]]:
        self.searched.append((self.service, tab, None, None))
        return object(), iter([[_row(n) for n in LISTED[self.service, tab]]])


def _row(number: str) -> LicenceRow:
    return LicenceRow(ref=f"FPC{number[-6:]}", type="Licence SVI", number=number, text=number)


def finder_on(accepts: str | None, hint: str = "{digits}") -> tuple[Finder, FakeListings]:
    selectors = load_selectors(None)
    hints = selectors.hints.model_copy(update={"number_filter_format": hint})
    portal = FakePortal(selectors.model_copy(update={"hints": hints}))
    listings = FakeListings(accepts)
    finder = Finder(cast(Portal, portal), opened=True, listings=cast(Listings, listings))
    return finder, listings


def test_each_tab_is_searched_once_in_the_hints_form_once_it_finds_a_listed_number() -> None:
    finder, listings = finder_on(accepts="{digits}")

    found, searched = finder.number_holder("0231000005", SERVICES)

    assert (searched, [row.licence for row in found]) == (3, ["FPC000005"])
    assert found[0].service == SERVICES[2]
    assert listings.searched == [
        ("SRV-10001", Tab.UTILISATEURS, "0231000005", "{digits}"),
        ("SRV-10001", Tab.UTILISATEURS, None, None),  # a number the tab lists, to learn on
        ("SRV-10001", Tab.UTILISATEURS, "0231000001", "{digits}"),  # found: the form
        ("SRV-10001", Tab.GROUPEMENTS, "0231000005", "{digits}"),
        ("SRV-10002", Tab.UTILISATEURS, "0231000005", "{digits}"),
        ("SRV-10002", Tab.GROUPEMENTS, "0231000005", "{digits}"),
        ("SRV-10003", Tab.UTILISATEURS, "0231000005", "{digits}"),  # the holder: the end
    ]


def test_a_portal_that_takes_the_other_form_is_searched_in_it_after_learning_it() -> None:
    finder, listings = finder_on(accepts="{grouped}")

    found, searched = finder.number_holder("0231000004", SERVICES)

    assert (searched, [row.number for row in found]) == (2, ["0231000004"])
    assert found[0].tab is Tab.GROUPEMENTS
    assert listings.searched[1:4] == [
        ("SRV-10001", Tab.UTILISATEURS, None, None),
        ("SRV-10001", Tab.UTILISATEURS, "0231000001", "{digits}"),
        ("SRV-10001", Tab.UTILISATEURS, "0231000001", "{grouped}"),  # learnt
    ]
    assert listings.searched[4:] == [
        ("SRV-10001", Tab.UTILISATEURS, "0231000004", "{grouped}"),  # the form left
        ("SRV-10001", Tab.GROUPEMENTS, "0231000004", "{grouped}"),
        ("SRV-10002", Tab.UTILISATEURS, "0231000004", "{grouped}"),
        ("SRV-10002", Tab.GROUPEMENTS, "0231000004", "{grouped}"),
    ]


@pytest.mark.parametrize("accepts", [None, "{digits}"])
def test_a_number_held_by_none_is_searched_in_every_service(accepts: Any) -> None:
    finder, listings = finder_on(accepts=accepts)

    found, searched = finder.number_holder("0299999999", SERVICES)

    assert (found, searched) == ([], 3)
    wanted = [(s, tab, form) for s, tab, n, form in listings.searched if n == "0299999999"]
    forms = ("{digits}", "{grouped}") if accepts is None else ("{digits}",)  # none learnt
    assert [form for *_, form in wanted] == list(forms) * 6  # each tab of the 3 services
