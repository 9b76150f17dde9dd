"""The submission (dissociation/submit.py) on the replica, in a real Chromium: what
`prepare` ticks and reads back before « Valider », what it refuses, and that `valider`
clicks once and turns whatever the portal answers into data.

Each « Valider » is observed where it lands: the replica's own record of the
submissions that reached its back end (`GET /_test/back-end`), and the POSTs the page
sent. The runner's order around these (confirm, verify) is tests/e2e's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from e2e_support import replica_settings
from playwright.sync_api import Page, Request, expect
from structlog.testing import capture_logs

from myopenip.replica import Replica
from myopenip_bot.config.selectors import Selectors, load_selectors
from myopenip_bot.dissociation.submit import Prepared, Submitter
from myopenip_bot.models import LicenceTask, Outcome, Tab, Target
from myopenip_bot.pages import AnswerKind
from myopenip_bot.portal.listings import Listings
from myopenip_bot.portal.portal import Portal

pytestmark = pytest.mark.browser

SERVICE = "SRV-10021"
TAB = Tab.GROUPEMENTS
# Licences of SRV-10021's « Groupements » in the replica's seed, and their numbers.
NUMBERS = {"FPC367128": "0231456789", "FPC367129": "0231456790", "FPC367123": "0231456780"}
STATUS_TWO = "Numéro(s) dissocié(s) : 2"


@dataclass
class Acting:
    """A Submitter on the service's page, and what the page sent: the POSTs of « Valider »."""

    submitter: Submitter
    listings: Listings
    page: Page
    posted: list[str]

    def prepare(self, *tasks: LicenceTask) -> Prepared:
        return self.listings.step(
            "preparing the dissociation", lambda: self.submitter.prepare(TAB, list(tasks))
        )

    def dialog_shown(self) -> bool:
        return self.page.get_by_role("dialog").is_visible()


@pytest.fixture(scope="module")
def selectors() -> Selectors:
    return load_selectors(None)


@pytest.fixture
def acting(page: Page, replica: Replica, selectors: Selectors) -> Iterator[Acting]:
    """Logged in, on SRV-10021's settings, as the runner is once it has planned."""
    posted: list[str] = []

    def note(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/dissociations"):
            posted.append(request.url)

    page.on("request", note)
    settings = replica_settings(replica, timeout_ms=10_000)
    portal = Portal(page, selectors, settings)
    portal.start_run()
    listings = Listings(portal)
    with capture_logs():
        portal.step("opening the portal", portal.open_portal)
        listings.start(SERVICE)
        listings.step(f"finding the service {SERVICE}", listings.open_service)
    return Acting(Submitter(listings, selectors), listings, page, posted)


def planned(
    ref: str, *, keep: bool = False, number: str | None = None, index: int = 0
) -> LicenceTask:
    """A task as the planner leaves it: found in « Groupements » with its number."""
    return LicenceTask(
        index,
        Target(licence_ref=ref),
        keep=keep,
        licence_ref=ref,
        number=number or NUMBERS[ref],
        tab=TAB,
    )


def number_state(replica: Replica, number: str) -> str:
    (found,) = [n for n in replica.state()["numbers"] if n["number"] == number]
    return str(found["state"])


# -- prepare: read back, never sent --------------------------------------------------------


def test_prepare_opens_the_dialog_of_exactly_the_plan_and_sends_nothing(
    acting: Acting, replica: Replica
) -> None:
    before = replica.state()
    tasks = (planned("FPC367128", keep=True), planned("FPC367129", index=1))

    with capture_logs() as logs:
        prepared = acting.prepare(*tasks)

    assert prepared.dialog is not None
    assert prepared.batch == tasks
    assert prepared.settled == ()
    assert prepared.mismatch is None
    assert len(prepared.warnings) == 3  # the guide's three paragraphs, word for word
    assert prepared.warnings[0].startswith("Si vous dissociez le numéro de votre licence")
    # Read back twice: the pairs, then each « Conserver le numéro » as the plan wants it.
    reads = [e for e in logs if e["event"] == "dialog_read_back"]
    assert [r["keep"] for r in reads] == [None, {"FPC367128": True, "FPC367129": False}]
    assert prepared.dialog.kept("0231456789") == "Oui"
    assert prepared.dialog.kept("0231456790") == "Non"
    assert acting.posted == []
    assert replica.submitted() == []
    assert replica.state() == before

    acting.submitter.cancel(prepared.dialog)

    assert not acting.dialog_shown()
    assert acting.posted == []
    assert replica.submitted() == []


def test_a_dialog_that_does_not_list_the_plan_is_cancelled_and_valider_never_clicked(
    acting: Acting, replica: Replica
) -> None:
    replica.test_api("misreport", {"licence_ref": "FPC367128", "number": "0299999999"})
    tasks = (planned("FPC367128"), planned("FPC367129", index=1))

    prepared = acting.prepare(*tasks)

    assert prepared.dialog is None
    assert prepared.batch == ()
    assert prepared.mismatch is not None
    assert "02 99 99 99 99" in prepared.mismatch
    assert prepared.mismatch.endswith("Annuler was clicked: nothing changed")
    assert [(t.licence_ref, t.outcome) for t in prepared.settled] == [
        ("FPC367128", Outcome.REFUSED),
        ("FPC367129", Outcome.REFUSED),
    ]
    assert not acting.dialog_shown()  # « Annuler », not left open
    assert acting.posted == []
    assert replica.submitted() == []
    assert number_state(replica, "0231456789") == "assigned"


def test_a_licence_whose_number_changed_since_planning_fails_and_the_others_go_on(
    acting: Acting, replica: Replica
) -> None:
    stale = planned("FPC367128", number="0231456700")  # planned with another number
    tasks = (stale, planned("FPC367129", index=1))

    prepared = acting.prepare(*tasks)

    (failed,) = prepared.settled
    assert (failed.licence_ref, failed.outcome) == ("FPC367128", Outcome.FAILED)
    assert failed.reason == "its number changed since it was planned (now 02 31 45 67 89)"
    assert prepared.dialog is not None
    assert [task.licence_ref for task in prepared.batch] == ["FPC367129"]
    assert [(r.ref, r.number) for r in prepared.dialog.listed_numbers()] == [
        ("FPC367129", "0231456790")
    ]
    acting.submitter.cancel(prepared.dialog)
    assert replica.submitted() == []


def test_licences_no_longer_listed_fail_without_a_dialog(acting: Acting, replica: Replica) -> None:
    gone = LicenceTask(
        0, Target(licence_ref="FPC399999"), keep=False, licence_ref="FPC399999",
        number="0231459999", tab=TAB,
    )  # fmt: skip

    prepared = acting.prepare(gone)

    assert prepared.dialog is None
    assert [(t.outcome, t.reason) for t in prepared.settled] == [
        (Outcome.FAILED, "no longer listed in Groupements when acting")
    ]
    assert not acting.dialog_shown()
    assert replica.submitted() == []


def test_ticks_of_a_cancelled_dialog_never_reach_the_next_one(
    acting: Acting, replica: Replica
) -> None:
    first = acting.prepare(planned("FPC367128"), planned("FPC367129", index=1))
    assert first.dialog is not None
    acting.submitter.cancel(first.dialog)

    second = acting.prepare(planned("FPC367129", index=1))
    assert second.dialog is not None
    listed = [(r.ref, r.number) for r in second.dialog.listed_numbers()]
    with capture_logs():
        submitted = acting.submitter.valider(second.counted())

    assert listed == [("FPC367129", "0231456790")]
    assert submitted.answer.confirmed
    assert replica.submitted() == [["FPC367129"]]
    assert number_state(replica, "0231456789") == "assigned"


# -- valider: once, and every answer is data --------------------------------------------------


def test_valider_sends_the_plan_once_with_each_keep_and_returns_the_status(
    acting: Acting, replica: Replica
) -> None:
    prepared = acting.prepare(planned("FPC367128", keep=True), planned("FPC367129", index=1))
    counted = prepared.counted()

    with capture_logs() as logs:
        submitted = acting.submitter.valider(counted)

    assert submitted.answer.kind is AnswerKind.CONFIRMED
    assert submitted.answer.status == STATUS_TWO
    assert [t.submissions for t in submitted.batch] == [1, 1]  # counted before the click
    assert len(acting.posted) == 1
    assert replica.submitted() == [["FPC367128", "FPC367129"]]
    assert number_state(replica, "0231456789") == "available"  # kept
    assert number_state(replica, "0231456790") == "quarantine"  # released
    (clicking,) = [e for e in logs if e["event"] == "valider_clicking"]
    assert clicking["licences"] == ["FPC367128", "FPC367129"]


def test_a_refusal_after_valider_is_an_answer_and_the_dialog_is_closed(
    acting: Acting, replica: Replica
) -> None:
    replica.test_api("refuse", {"message": "Opération impossible pour le moment.", "count": 1})
    prepared = acting.prepare(planned("FPC367128")).counted()

    with capture_logs():
        submitted = acting.submitter.valider(prepared)  # never raises

    assert submitted.answer.kind is AnswerKind.REFUSED
    assert submitted.answer.problem == "Opération impossible pour le moment."
    assert [t.submissions for t in submitted.batch] == [1]
    assert len(acting.posted) == 1  # clicked once, never again
    assert [s["status"] for s in replica.back_end()["submissions"]] == [409]
    expect(acting.page.get_by_role("dialog")).to_be_hidden()
    assert number_state(replica, "0231456789") == "assigned"


def test_a_valider_answered_by_the_login_page_is_not_counted(
    acting: Acting, replica: Replica
) -> None:
    prepared = acting.prepare(planned("FPC367128")).counted()
    replica.test_api("expire-sessions")  # the session ends while the person reads

    with capture_logs():
        submitted = acting.submitter.valider(prepared)

    assert submitted.answer.kind is AnswerKind.LOST
    assert submitted.answer.login_shown
    assert [t.submissions for t in submitted.batch] == [0]  # the click did nothing
    assert replica.submitted() == []
    assert number_state(replica, "0231456789") == "assigned"


def test_a_valider_answered_503_before_the_portal_is_lost_and_the_next_prepare_sends_it_again(
    acting: Acting, replica: Replica
) -> None:
    replica.test_api("fail-submissions", {"count": 1})
    first = acting.prepare(planned("FPC367128")).counted()

    with capture_logs():
        lost = acting.submitter.valider(first)
        again = acting.prepare(*lost.batch)  # a fresh read: the number is still there

    assert lost.answer.kind is AnswerKind.LOST
    assert "503" in (lost.answer.problem or "")
    assert replica.submitted() == []  # it never reached the back end
    assert again.settled == ()
    assert [t.licence_ref for t in again.batch] == ["FPC367128"]
    assert again.dialog is not None
    acting.submitter.cancel(again.dialog)


def test_a_lost_answer_the_portal_committed_is_done_when_read_never_sent_again(
    acting: Acting, replica: Replica
) -> None:
    replica.faults(drop_after_commit_rate=1.0)
    first = acting.prepare(planned("FPC367128")).counted()

    with capture_logs():
        lost = acting.submitter.valider(first)
        replica.faults(drop_after_commit_rate=0.0)
        again = acting.prepare(*lost.batch)

    assert lost.answer.kind is AnswerKind.LOST
    assert again.dialog is None
    assert [(t.licence_ref, t.outcome) for t in again.settled] == [("FPC367128", Outcome.DONE)]
    assert replica.submitted() == [["FPC367128"]]
    assert len(acting.posted) == 1
