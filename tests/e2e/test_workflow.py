"""The runner end to end against the replica: outcomes are checked in the portal's data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from e2e_support import RecordingHooks, RunFn, confirmed_refs, licence, number_state, outcomes
from playwright.sync_api import Page
from structlog.testing import capture_logs

from myopenip.replica import Replica
from myopenip_bot.models import Outcome, Tab, Target

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_release_puts_the_number_in_quarantine(run: RunFn, replica: Replica) -> None:
    result = run(Target(licence_ref="FPC367128"), keep=False)

    state = replica.state()
    assert outcomes(result) == [Outcome.DONE]
    assert result.results[0].number == "0231456789"
    assert result.results[0].tab is Tab.GROUPEMENTS
    assert licence(state, "FPC367128")["sda"] is None
    assert number_state(state, "0231456789") == "quarantine"
    assert result.status_messages == ["Numéro(s) dissocié(s) : 1"]


def test_keep_puts_the_number_back_in_the_pool(
    run: RunFn, replica: Replica, hooks: RecordingHooks
) -> None:
    result = run(Target(licence_ref="FPC367127"), keep=True)

    state = replica.state()
    assert outcomes(result) == [Outcome.DONE]
    assert licence(state, "FPC367127")["sda"] is None
    assert number_state(state, "0231456781") == "available"
    assert [entry["keep"] for entry in state["audit"]] == [True]
    assert hooks.screenshots == ["dialog-before-valider", "verification"]


def test_several_licences_of_a_tab_are_dissociated_in_one_dialog(
    run: RunFn, replica: Replica, hooks: RecordingHooks
) -> None:
    result = run(Target(licence_ref="FPC367128"), Target(licence_ref="FPC367129"))

    assert outcomes(result) == [Outcome.DONE, Outcome.DONE]
    assert result.status_messages == ["Numéro(s) dissocié(s) : 2"]
    assert confirmed_refs(hooks) == [["FPC367128", "FPC367129"]]
    warnings = hooks.confirmations[0].warnings
    assert len(warnings) == 3
    assert warnings[0].startswith("Si vous dissociez le numéro de votre licence")
    assert {entry["licence_ref"] for entry in replica.state()["audit"]} == {
        "FPC367128",
        "FPC367129",
    }


def test_licences_of_both_tabs_are_confirmed_once_then_dissociated_from_their_own_tab(
    run: RunFn, replica: Replica, hooks: RecordingHooks
) -> None:
    with capture_logs() as logs:
        result = run(Target(licence_ref="FPC367123"), Target(licence_ref="FPC367131"))

    state = replica.state()
    assert outcomes(result) == [Outcome.DONE, Outcome.DONE]
    # One question for the whole plan, both tabs, before the first « Valider ».
    assert confirmed_refs(hooks) == [["FPC367131", "FPC367123"]]
    assert [lc.tab for lc in hooks.confirmations[0].licences] == [
        Tab.UTILISATEURS,
        Tab.GROUPEMENTS,
    ]
    assert hooks.confirmations[0].service.client == "Normandie Logistique"
    assert [row.tab for row in result.results] == [Tab.GROUPEMENTS, Tab.UTILISATEURS]
    assert licence(state, "FPC367123")["sda"] is None
    assert licence(state, "FPC367131")["sda"] is None
    assert len(result.status_messages) == 2
    # Once the first tab's « Valider » is confirmed, the second tab opens on the same
    # service page: the service is searched and opened once.
    events = [e["event"] for e in logs]
    assert events.count("services_searched") == 1
    assert events.count("service_opened") == 1
    # Groupements first: the plan read it last, so it is on screen; then Utilisateurs.
    kept = [e["tab"] for e in logs if e["event"] == "service_page_kept"]
    assert kept == ["Utilisateurs"]
    assert [e["licence_ref"] for e in state["audit"]] == ["FPC367123", "FPC367131"]
    assert [e["tab"] for e in logs if e["event"] == "tab_opened"] == [
        "Utilisateurs",  # the plan reads both tabs, as they show
        "Groupements",
        "Utilisateurs",  # once Groupements' « Valider » is confirmed
    ]


def test_a_status_left_on_screen_sends_the_second_tab_to_a_fresh_page(
    run: RunFn, replica: Replica, hooks: RecordingHooks
) -> None:
    # The first tab's status stays as the other tab opens (a page-level status bar): on
    # that page, the next « Valider » would find an answer already shown. The second
    # dialog starts from a fresh page of the service, and each answer is its own.
    replica.quirks("status-stays")
    with capture_logs() as logs:
        result = run(Target(licence_ref="FPC367123"), Target(licence_ref="FPC367131"))

    state = replica.state()
    assert outcomes(result) == [Outcome.DONE, Outcome.DONE]
    assert licence(state, "FPC367123")["sda"] is None
    assert licence(state, "FPC367131")["sda"] is None
    assert [e["tab"] for e in logs if e["event"] == "service_page_left"] == ["Utilisateurs"]
    assert "service_page_kept" not in [e["event"] for e in logs]
    assert [e["event"] for e in logs].count("service_opened") == 2
    assert [e["licence_ref"] for e in state["audit"]] == ["FPC367123", "FPC367131"]


def test_a_run_after_another_starts_from_the_menu_on_screen_unless_a_dialog_is_open(
    run: RunFn, replica: Replica, page: Page
) -> None:
    # A batch's worker goes from one service to the next on its page: the portal's home
    # is not loaded again, « Mes Services » is on the last service's page already.
    run(Target(licence_ref="FPC367128"))
    documents: list[str] = []
    page.on("request", lambda r: documents.append(r.url) if r.is_navigation_request() else None)
    with capture_logs() as logs:
        result = run(Target(licence_ref="FPC367131"))

    home = replica.url.rstrip("/") + "/"
    assert outcomes(result) == [Outcome.DONE]
    assert home not in documents
    assert [e["event"] for e in logs].count("services_opened") == 1
    assert "login_needed" not in [e["event"] for e in logs]

    # What a run stopped half way may leave: a dialog open over the menu. The next run
    # starts from the portal's home, and the dialog left is never sent.
    page.get_by_role("checkbox", name="Sélectionner FPC367132").check()
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("menuitem", name="Dissocier vos numéros").click()
    dialog = page.get_by_role("dialog", name="Dissocier vos numéros")
    dialog.get_by_role("button", name="Valider").wait_for()
    documents.clear()

    result = run(Target(licence_ref="FPC367129"))

    assert outcomes(result) == [Outcome.DONE]
    assert documents[0] == home
    state = replica.state()
    assert licence(state, "FPC367132")["sda"] is not None
    assert [e["licence_ref"] for e in state["audit"]] == ["FPC367128", "FPC367131", "FPC367129"]


def test_licences_on_different_result_pages_get_one_dialog_per_page(
    run: RunFn, replica: Replica
) -> None:
    # 28 Utilisateurs licences, 20 a page: FPC367131 is on page 1, FPC367158 on page 2.
    result = run(Target(licence_ref="FPC367131"), Target(licence_ref="FPC367158"))

    state = replica.state()
    assert outcomes(result) == [Outcome.DONE, Outcome.DONE]
    assert result.status_messages == ["Numéro(s) dissocié(s) : 1"] * 2
    assert licence(state, "FPC367158")["sda"] is None


def test_a_run_that_moves_to_a_new_tab_at_each_visit_still_does_each_licence_once(
    run: RunFn, replica: Replica, page: Page
) -> None:
    # A batch moves to a new tab every RENEW_PAGE_EVERY visits to the service (memory);
    # here at each visit: plan, two dialogs and their checks each start in a new tab.
    result = run(
        Target(licence_ref="FPC367131"), Target(licence_ref="FPC367158"), renew_page_every=1
    )

    assert outcomes(result) == [Outcome.DONE, Outcome.DONE]
    assert result.status_messages == ["Numéro(s) dissocié(s) : 1"] * 2
    state = replica.state()
    assert licence(state, "FPC367131")["sda"] is None
    assert licence(state, "FPC367158")["sda"] is None
    assert page.is_closed()  # the test's first tab was left for another ...
    assert len(page.context.pages) == 1  # ... and none is left open behind


def searches(logs: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """The bot's searches of licences, in order: (tab, « Licence » filter)."""
    return [(e["tab"], e["licence"]) for e in logs if e["event"] == "licences_searched"]


@pytest.mark.parametrize(
    ("ref", "tab", "tabs_read"),
    [
        ("FPC367128", Tab.GROUPEMENTS, ["Utilisateurs", "Groupements"]),  # the guide's own
        ("FPC367131", Tab.UTILISATEURS, ["Utilisateurs"]),  # Groupements not even opened
    ],
    ids=["groupements", "utilisateurs"],
)
def test_a_licence_its_tab_shows_as_it_opens_is_dissociated_without_any_search(
    run: RunFn, replica: Replica, ref: str, tab: Tab, tabs_read: list[str]
) -> None:
    with capture_logs() as logs:
        result = run(Target(licence_ref=ref))

    assert outcomes(result) == [Outcome.DONE]
    assert result.results[0].tab is tab
    assert licence(replica.state(), ref)["sda"] is None
    assert searches(logs) == []  # planned, ticked and verified from what the tabs showed
    assert [e["tab"] for e in logs if e["event"] == "listing_read"] == tabs_read
    assert [e.get("how") for e in logs if e["event"] == "licences_verified"] == ["refreshed"]
    if tab is Tab.UTILISATEURS:
        assert "Groupements" not in [e["tab"] for e in logs if e["event"] == "tab_opened"]


def test_a_licence_no_tab_shows_is_searched_first_where_a_tab_showed_more_pages(
    run: RunFn, replica: Replica
) -> None:
    # 28 Utilisateurs: FPC367158 is on their last page, so no tab shows it as it opens.
    # The classic markup lists 20 a page (Utilisateurs shows « Suivant », Groupements its
    # 8 whole), the aria markup 7 (both show « Suivant »: Groupements, on screen, first).
    with capture_logs() as logs:
        result = run(Target(licence_ref="FPC367158"))

    assert outcomes(result) == [Outcome.DONE]
    assert licence(replica.state(), "FPC367158")["sda"] is None
    more = {e["tab"]: e["more"] for e in logs if e["event"] == "listing_read"}
    assert more["Utilisateurs"] is True
    expected = [("Groupements", "FPC367158")] if more["Groupements"] else []
    assert searches(logs) == [*expected, ("Utilisateurs", "FPC367158")]


def test_a_licence_given_by_its_number_is_found_and_dissociated(
    run: RunFn, replica: Replica
) -> None:
    result = run(Target(number="0231456790"))

    assert outcomes(result) == [Outcome.DONE]
    assert result.results[0].licence_ref == "FPC367129"
    assert licence(replica.state(), "FPC367129")["sda"] is None


def test_dry_run_reads_the_dialog_back_and_changes_nothing(
    run: RunFn, replica: Replica, hooks: RecordingHooks
) -> None:
    before = replica.state()

    result = run(Target(licence_ref="FPC367128"), Target(licence_ref="FPC367131"), dry_run=True)

    assert outcomes(result) == [Outcome.WOULD_DO, Outcome.WOULD_DO]
    assert len(result.warnings) == 3
    assert hooks.confirmations == []
    assert replica.state() == before


def test_a_rerun_reports_already_done_and_changes_nothing(
    run: RunFn, replica: Replica, hooks: RecordingHooks
) -> None:
    run(Target(licence_ref="FPC367128"))
    after_first = replica.state()

    result = run(Target(licence_ref="FPC367128"), Target(licence_ref="FPC367124"))

    assert outcomes(result) == [Outcome.ALREADY_DONE, Outcome.ALREADY_DONE]
    assert len(hooks.confirmations) == 1
    assert replica.state() == after_first


def test_each_action_is_logged_and_no_log_holds_the_password(
    run: RunFn, replica_factory: Callable[..., Replica]
) -> None:
    portal = replica_factory(password="S3cret-Pw-42")

    with capture_logs() as logs:
        run(Target(licence_ref="FPC367128"), on=portal)

    events = [entry["event"] for entry in logs]
    for expected in (
        "logged_in",
        "licence_ticked",
        "keep_number_set",
        "dialog_read_back",
        "dissociation_submitted",
        "licences_verified",
    ):
        assert expected in events
    assert not [entry for entry in logs if "S3cret-Pw-42" in repr(entry)]
