"""The planner (dissociation/plan.py) over listings given as plain data: which licence each
task means, in which tab, with which number, and how few searches it takes to know.

What a found row means (done, in progress, a number mismatch) is rules.found's, tested in
test_rules.py; here, what the planner reads to get there and what it makes of a licence
that is in no listing, or in two. The end-to-end runs on the replica: tests/e2e.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any, TypeVar, cast

import pytest
from ledger_samples import entry
from structlog.testing import capture_logs

from myopenip_bot.config.selectors import Selectors, load_selectors
from myopenip_bot.dissociation.plan import Planner
from myopenip_bot.ledger import Entry
from myopenip_bot.models import LicenceTask, Outcome, Tab, Target
from myopenip_bot.pages import LicenceRow
from myopenip_bot.portal.listings import Listings

T = TypeVar("T")

U, G = Tab.UTILISATEURS, Tab.GROUPEMENTS
SERVICE = "SRV-10021"


def row(ref: str, number: str | None, state: str = "Affectée") -> LicenceRow:
    return LicenceRow(
        ref=ref, type="Licence full conferencing", number=number, text=ref, state=state
    )


# A service's two tabs as plain data (refs and numbers of the guide's kind; the tabs are
# this test's own, not the replica's).
GUIDE = {
    U: [
        row("FPC367128", "0231456789"),
        row("FPC367129", "0231456790"),
        row("FPC367124", None, "Non affectée"),
    ],
    G: [row("FPC367131", "0231456791"), row("FPC367123", "0231456780")],
}


class FakeListings:
    """A service's listings as plain data: each tab's rows, filtered as the portal does
    (the « Licence » filter matches a part of the ref; « SDA » the whole number), and
    what each tab shows as it opens (`shown`: nothing unless given). Every search is
    recorded in `reads`, every look at a tab as it shows in `glances`, each with whether
    it ran inside a step (retried under the policy)."""

    def __init__(
        self,
        rows: dict[Tab, list[LicenceRow]],
        selectors: Selectors | None = None,
        shown: dict[Tab, list[LicenceRow]] | None = None,
        more: frozenset[Tab] = frozenset(),
    ) -> None:
        self.rows = rows
        self.shown = shown or {}
        self.more = more  # the tabs whose listing on screen shows more pages
        self.glances: list[tuple[Tab, bool]] = []
        self.service_ref = SERVICE
        self.portal = SimpleNamespace(selectors=selectors or load_selectors(None))
        self.reads: list[tuple[Any, ...]] = []
        self.steps: list[str] = []
        self._in_step = False

    def step(self, name: str, action: Callable[[], T]) -> T:
        self.steps.append(name)
        self._in_step = True
        try:
            return action()
        finally:
            self._in_step = False

    def rows_shown(self, tab: Tab) -> tuple[list[LicenceRow], bool]:
        self.glances.append((tab, self._in_step))
        return list(self.shown.get(tab, [])), tab in self.more

    def rows_matching(self, tab: Tab, prefix: str, *, again: bool = False) -> list[LicenceRow]:
        self.reads.append(("listing", tab, prefix, self._in_step))
        return [r for r in self.rows.get(tab, []) if prefix.upper() in r.ref.upper()]

    def find_rows(self, tab: Tab, *, ref: str | None, number: str | None) -> list[LicenceRow]:
        self.reads.append(("finding", tab, ref, number, self._in_step))
        if ref is not None:
            return [r for r in self.rows.get(tab, []) if r.ref.upper() == ref.upper()]
        return [r for r in self.rows.get(tab, []) if r.number == number]


def plan(listings: FakeListings, *targets: Target | LicenceTask) -> list[LicenceTask]:
    tasks = [
        t if isinstance(t, LicenceTask) else LicenceTask(index, t, keep=False)
        for index, t in enumerate(targets)
    ]
    return Planner(cast(Listings, listings)).plan(tasks)


def by_ref(ref: str) -> Target:
    return Target(licence_ref=ref)


# -- what the tabs show as they open: no search ------------------------------------------


def test_a_licence_a_tab_shows_as_it_opens_is_planned_without_any_search() -> None:
    listings = FakeListings(GUIDE, shown={U: GUIDE[U][:1], G: GUIDE[G]})

    (task,) = plan(listings, by_ref("FPC367123"))

    assert (task.licence_ref, task.tab, task.number) == ("FPC367123", G, "0231456780")
    assert task.planned
    assert listings.glances == [(U, True), (G, True)]  # the guide's order, each in a step
    assert listings.reads == []


def test_once_every_licence_is_shown_the_next_tab_is_not_even_opened() -> None:
    listings = FakeListings(GUIDE, shown=GUIDE)

    tasks = plan(listings, by_ref("fpc367128"), Target(number="0231456790"))

    assert [(t.licence_ref, t.tab) for t in tasks] == [("FPC367128", U), ("FPC367129", U)]
    assert listings.glances == [(U, True)]
    assert listings.reads == []


def test_those_not_shown_are_searched_from_the_tab_on_screen_first() -> None:
    listings = FakeListings(GUIDE, shown={U: GUIDE[U][:1], G: GUIDE[G][:1]})

    tasks = plan(listings, by_ref("FPC367128"), by_ref("FPC367129"), by_ref("FPC367123"))

    assert [(t.licence_ref, t.tab) for t in tasks] == [
        ("FPC367128", U),
        ("FPC367129", U),
        ("FPC367123", G),
    ]
    # Groupements is on screen after the glances: searched first, then Utilisateurs.
    assert listings.reads == [("listing", G, "FPC36712", True), ("listing", U, "FPC367129", True)]


def test_a_tab_that_showed_more_pages_is_searched_first() -> None:
    listings = FakeListings(GUIDE, shown={U: GUIDE[U][:1], G: GUIDE[G]}, more=frozenset({U}))

    (task,) = plan(listings, by_ref("FPC367129"))

    assert (task.licence_ref, task.tab) == ("FPC367129", U)
    assert listings.reads == [("finding", U, "FPC367129", None, True)]  # one search


def test_a_licence_shown_in_two_rows_of_a_tab_is_left_to_the_search_which_refuses() -> None:
    twice = [row("FPC367128", "0231456789"), row("FPC367128", "0231456789")]
    listings = FakeListings({U: twice, G: []}, shown={U: twice})

    (task,) = plan(listings, by_ref("FPC367128"))

    assert task.outcome is Outcome.REFUSED
    assert "2 licences" in (task.reason or "")
    assert [read[:2] for read in listings.reads] == [("finding", G), ("finding", U)]


def test_a_licence_shown_with_another_number_than_given_is_refused_as_a_search_would() -> None:
    listings = FakeListings(GUIDE, shown=GUIDE)

    (task,) = plan(listings, Target(licence_ref="FPC367128", number="0231456700"))

    assert task.outcome is Outcome.REFUSED
    assert "02 31 45 67 89" in (task.reason or "")
    assert listings.reads == []


# -- several refs: one listing per tab ----------------------------------------------------


def test_several_refs_are_found_from_one_listing_of_their_prefix_per_tab() -> None:
    listings = FakeListings(GUIDE)

    tasks = plan(listings, by_ref("FPC367131"), by_ref("FPC367128"), by_ref("FPC367129"))

    assert [(t.licence_ref, t.tab, t.number, t.outcome) for t in tasks] == [
        ("FPC367131", G, "0231456791", None),
        ("FPC367128", U, "0231456789", None),
        ("FPC367129", U, "0231456790", None),
    ]
    assert all(task.planned for task in tasks)
    # Groupements (on screen after the glances): the prefix of all three; Utilisateurs:
    # of the two left.
    assert listings.reads == [("listing", G, "FPC3671", True), ("listing", U, "FPC36712", True)]


def test_once_every_ref_is_found_the_next_tab_is_not_listed() -> None:
    listings = FakeListings(GUIDE)

    tasks = plan(listings, by_ref("FPC367131"), by_ref("FPC367123"))

    assert [t.tab for t in tasks] == [G, G]
    assert listings.reads == [("listing", G, "FPC3671", True)]


def test_a_ref_in_neither_listing_is_refused_and_the_others_are_still_planned() -> None:
    listings = FakeListings(GUIDE)

    tasks = plan(listings, by_ref("FPC367128"), by_ref("FPC999999"))

    assert tasks[0].planned
    assert tasks[1].outcome is Outcome.REFUSED
    assert tasks[1].reason == (
        f"no licence FPC999999 in the service {SERVICE} (searched Utilisateurs and Groupements)"
    )
    assert [read[:2] for read in listings.reads] == [("listing", G), ("listing", U)]


def test_refs_are_taken_whatever_their_case_and_kept_as_the_portal_writes_them() -> None:
    listings = FakeListings(GUIDE)

    tasks = plan(listings, by_ref("fpc367128"), by_ref("Fpc367131"))

    assert [(t.licence_ref, t.tab) for t in tasks] == [("FPC367128", U), ("FPC367131", G)]


def test_a_listing_that_shows_longer_refs_takes_only_the_exact_ones() -> None:
    # The « Licence » filter matches a part of a ref: FPC36712 lists FPC367128 too.
    listings = FakeListings({U: [row("FPC3671280", "0231456700"), row("FPC367129", "0231456790")]})

    tasks = plan(listings, by_ref("FPC367128"), by_ref("FPC367129"))

    assert tasks[0].outcome is Outcome.REFUSED
    assert (tasks[1].licence_ref, tasks[1].number) == ("FPC367129", "0231456790")


# -- one licence: a search of its own -------------------------------------------------------


def test_a_single_ref_not_shown_is_searched_for_itself_from_the_tab_on_screen() -> None:
    listings = FakeListings(GUIDE)

    (task,) = plan(listings, by_ref("FPC367128"))

    assert (task.licence_ref, task.tab, task.number) == ("FPC367128", U, "0231456789")
    assert listings.reads == [
        ("finding", G, "FPC367128", None, True),
        ("finding", U, "FPC367128", None, True),
    ]
    assert listings.steps == [
        "reading the licences shown in Utilisateurs",
        "reading the licences shown in Groupements",
        "finding FPC367128",
    ]


def test_a_single_ref_in_no_tab_is_refused_naming_the_service() -> None:
    (task,) = plan(FakeListings(GUIDE), by_ref("FPC999999"))

    assert task.outcome is Outcome.REFUSED
    assert task.reason == (
        f"no licence FPC999999 in the service {SERVICE} (searched Utilisateurs and Groupements)"
    )


def test_a_number_finds_the_licence_holding_it_searched_by_number_alone() -> None:
    listings = FakeListings(GUIDE)

    (task,) = plan(listings, Target(number="0231456780"))

    assert (task.licence_ref, task.tab, task.number) == ("FPC367123", G, "0231456780")
    assert task.planned
    assert [read[1:4] for read in listings.reads] == [(G, None, "0231456780")]


def test_a_ref_and_a_number_are_searched_by_the_ref_and_the_number_checked() -> None:
    listings = FakeListings(GUIDE)

    (task,) = plan(listings, Target(licence_ref="FPC367128", number="0231456700"))

    assert listings.reads == [
        ("finding", G, "FPC367128", None, True),
        ("finding", U, "FPC367128", None, True),
    ]
    assert task.outcome is Outcome.REFUSED  # the licence's number is another one
    assert "02 31 45 67 89" in (task.reason or "")


def test_a_number_no_licence_holds_is_refused_as_a_wrong_number() -> None:
    (task,) = plan(FakeListings(GUIDE), Target(number="0299999999"))

    assert task.outcome is Outcome.REFUSED
    assert task.reason == (
        f"no licence of {SERVICE} holds 02 99 99 99 99: check the number (it may be another "
        "service's or another client's)"
    )


def test_the_ledger_is_asked_once_of_numbers_none_holds_and_licences_without_one() -> None:
    asked: list[list[str]] = []
    earlier = entry(number="0299999999", licence="FPC367100")

    def evidence(keys: Sequence[str]) -> Mapping[str, Entry]:
        asked.append(list(keys))
        return {"0299999999": earlier}

    tasks = [
        LicenceTask(index, target, keep=False)
        for index, target in enumerate(
            (
                Target(number="0299999999"),  # dissociated by the bot: already done
                Target(number="0299999998"),  # nobody's: refused
                by_ref("FPC367124"),  # listed without a number
                by_ref("FPC367128"),  # to do
            )
        )
    ]
    done, wrong, without, todo = Planner(cast(Listings, FakeListings(GUIDE)), evidence).plan(tasks)

    assert asked == [["0299999999", "0299999998", "FPC367124"]]
    assert done.outcome is Outcome.ALREADY_DONE
    assert "dissociated from FPC367100 on " in (done.reason or "")
    assert "by alice (ticket INC-1001)" in (done.reason or "")
    assert wrong.outcome is Outcome.REFUSED
    assert (without.outcome, without.reason) == (
        Outcome.ALREADY_DONE,
        "FPC367124 has no number: nothing to do",  # the ledger knows nothing of it
    )
    assert todo.planned


def test_the_ledger_is_not_asked_when_every_licence_has_its_number() -> None:
    asked: list[Sequence[str]] = []

    def evidence(keys: Sequence[str]) -> Mapping[str, Entry]:
        asked.append(keys)
        return {}

    tasks = [LicenceTask(0, by_ref("FPC367128"), keep=False)]
    Planner(cast(Listings, FakeListings(GUIDE)), evidence).plan(tasks)

    assert asked == []


def test_a_number_two_licences_of_a_tab_hold_is_refused_naming_both() -> None:
    listings = FakeListings(
        {U: [row("FPC367128", "0231456789"), row("FPC367150", "0231456789")], G: []}
    )

    (task,) = plan(listings, Target(number="0231456789"))

    assert task.outcome is Outcome.REFUSED
    assert task.reason == (
        f"2 licences of {SERVICE} match 02 31 45 67 89 in Utilisateurs "
        "(FPC367128, FPC367150): refused"
    )
    assert [read[1] for read in listings.reads] == [G, U]  # refused in U, the last searched


# -- what is already known, and what the row shows ---------------------------------------


def test_a_task_settled_already_is_kept_as_it_is_and_never_looked_up() -> None:
    listings = FakeListings(GUIDE)
    duplicate = LicenceTask(0, by_ref("FPC367128"), keep=False).settle(
        Outcome.REFUSED, "FPC367128 is given 2 times: refused as a duplicate"
    )

    for tasks in ([duplicate], [duplicate, LicenceTask(1, by_ref("FPC367131"), keep=False)]):
        planned = plan(listings, *tasks)
        assert planned[0] is duplicate

    refs_read = {read[2] for read in listings.reads}
    assert refs_read == {"FPC367131"}  # the single one left, searched on its own


def test_a_licence_the_portal_shows_at_work_is_in_progress_never_planned() -> None:
    working = FakeListings({U: [row("FPC367128", "0231456789", "Dissociation en cours")]})

    (task,) = plan(working, by_ref("FPC367128"))

    assert task.outcome is Outcome.IN_PROGRESS
    assert "« Dissociation en cours »" in (task.reason or "")


def test_on_a_portal_whose_state_says_nothing_of_the_kind_the_same_row_is_planned() -> None:
    selectors = load_selectors(None)
    unhinted = selectors.model_copy(
        update={"hints": selectors.hints.model_copy(update={"in_progress": None})}
    )
    listings = FakeListings(
        {U: [row("FPC367128", "0231456789", "Dissociation en cours")]}, unhinted
    )

    (task,) = plan(listings, by_ref("FPC367128"))

    assert task.planned


def test_a_licence_listed_without_a_number_is_already_done_and_not_logged_as_planned() -> None:
    with capture_logs() as logs:
        tasks = plan(FakeListings(GUIDE), by_ref("FPC367124"), by_ref("FPC367128"))

    assert [t.outcome for t in tasks] == [Outcome.ALREADY_DONE, None]
    planned = [
        (e["licence"], e["number"], e["tab"]) for e in logs if e["event"] == "licence_planned"
    ]
    assert planned == [("FPC367128", "0231456789", "Utilisateurs")]


@pytest.mark.parametrize("refs", [("FPC367128",), ("FPC367128", "FPC367131")], ids=["one", "two"])
def test_every_read_of_the_listings_runs_inside_a_step(refs: tuple[str, ...]) -> None:
    listings = FakeListings(GUIDE)

    plan(listings, *(by_ref(ref) for ref in refs))

    assert listings.reads
    assert listings.glances
    assert all(read[-1] for read in listings.reads)  # retried under the policy if it fails
    assert all(in_step for _, in_step in listings.glances)
