"""The runner's guards end to end: bad inputs are refused before anything changes.

What the runner reads (the services list, the licences, the dialog, the login form, the
portal's alerts) is read on both markups. A rule it applies to what it read (an unknown,
partial, duplicate or foreign licence, a service not active) runs on one markup, its
variants spread over both.
"""

from __future__ import annotations

import pytest
from e2e_support import SERVICE, RecordingHooks, RunFn, licence, on_markup, outcomes
from playwright.sync_api import Page, Request

from myopenip.replica import Replica
from myopenip_bot.errors import (
    AuthenticationError,
    ReadBackMismatchError,
    ServiceNotActiveError,
    ServiceNotFoundError,
)
from myopenip_bot.models import Outcome, Target

pytestmark = [pytest.mark.browser, pytest.mark.slow]


# "SRV-1002" is a substring of SRV-10021 … SRV-10027, none of which is exactly it.
@pytest.mark.parametrize(
    ("markup", "service", "found"),
    [("classic", "SRV-1002", "SRV-10021, SRV-10022"), ("aria", "SRV-99999", "showed: none")],
    ids=["classic-substring-of-others", "aria-unknown"],
    indirect=["markup"],
)
def test_an_unknown_service_is_refused_naming_the_services_found(
    run: RunFn, replica: Replica, service: str, found: str
) -> None:
    before = replica.state()

    with pytest.raises(ServiceNotFoundError, match=found) as raised:
        run(Target(licence_ref="FPC367128"), service=service)

    assert raised.value.result is not None
    assert outcomes(raised.value.result) == [Outcome.SKIPPED]
    assert replica.state() == before


@on_markup("aria")
def test_a_typo_among_several_licences_changes_nothing_and_names_the_refusal(
    run: RunFn, replica: Replica, hooks: RecordingHooks
) -> None:
    before = replica.state()

    result = run(
        Target(licence_ref="FPC367128"),
        Target(licence_ref="FPC999999"),
        Target(number="0231456790"),
    )

    assert outcomes(result) == [Outcome.SKIPPED, Outcome.REFUSED, Outcome.SKIPPED]
    assert "no licence FPC999999 in the service SRV-10021" in (result.results[1].reason or "")
    assert "FPC999999" in (result.error or "")
    assert "FPC999999" in (result.results[0].reason or "")
    assert hooks.confirmations == []
    assert replica.state() == before


@on_markup("classic")
def test_with_skip_refused_an_unknown_licence_is_refused_and_the_others_are_done(
    run: RunFn, replica: Replica
) -> None:
    result = run(
        Target(licence_ref="FPC999999"), Target(licence_ref="FPC367128"), skip_refused=True
    )

    assert outcomes(result) == [Outcome.REFUSED, Outcome.DONE]
    assert result.error is None
    assert licence(replica.state(), "FPC367128")["sda"] is None


@on_markup("aria")
def test_a_partial_ref_is_not_taken_for_the_licences_it_is_part_of(
    run: RunFn, replica: Replica
) -> None:
    before = replica.state()

    # The portal's filter is a substring match: "FPC36712" lists FPC367123 … FPC367129.
    result = run(Target(licence_ref="FPC36712"))

    assert outcomes(result) == [Outcome.REFUSED]
    assert "no licence FPC36712 " in (result.results[0].reason or "")
    assert replica.state() == before


@on_markup("classic")
def test_a_licence_of_another_service_is_refused(run: RunFn, replica: Replica) -> None:
    before = replica.state()
    other = next(
        row
        for row in before["licences"]
        if row["service_ref"] == "SRV-10022" and row["sda"] is not None
    )

    result = run(Target(licence_ref=other["ref"]))

    assert outcomes(result) == [Outcome.REFUSED]
    assert replica.state() == before


@on_markup("aria")
def test_a_number_that_is_not_the_licences_current_one_is_refused(
    run: RunFn, replica: Replica, hooks: RecordingHooks
) -> None:
    before = replica.state()

    result = run(Target(licence_ref="FPC367128", number="0231456790"))

    assert outcomes(result) == [Outcome.REFUSED]
    assert "not 02 31 45 67 90" in (result.results[0].reason or "")
    assert hooks.confirmations == []
    assert replica.state() == before


@pytest.mark.parametrize(
    ("markup", "targets"),
    [
        ("aria", (Target(licence_ref="FPC367128"), Target(licence_ref="FPC367128"))),
        ("classic", (Target(licence_ref="FPC367128"), Target(number="0231456789"))),
    ],
    ids=["aria-same-ref-twice", "classic-ref-and-its-number"],
    indirect=["markup"],
)
def test_the_same_licence_given_twice_is_refused_as_a_duplicate(
    run: RunFn, replica: Replica, targets: tuple[Target, ...]
) -> None:
    before = replica.state()

    result = run(*targets)

    assert outcomes(result) == [Outcome.REFUSED, Outcome.REFUSED]
    assert all("duplicate" in (row.reason or "") for row in result.results)
    assert replica.state() == before


def test_a_wrong_password_stops_at_once_after_a_single_attempt(
    run: RunFn, replica: Replica, hooks: RecordingHooks
) -> None:
    # The portal counts failures: after one it says 4 attempts are left.
    with pytest.raises(AuthenticationError, match="Il vous reste 4 tentatives"):
        run(Target(licence_ref="FPC367128"), password="not-the-password")

    assert hooks.logins == 1
    result = run(Target(licence_ref="FPC367128"), dry_run=True)  # not locked
    assert outcomes(result) == [Outcome.WOULD_DO]


def test_a_dialog_that_lists_another_number_is_cancelled_and_nothing_changes(
    run: RunFn, replica: Replica, hooks: RecordingHooks
) -> None:
    replica.test_api("misreport", {"licence_ref": "FPC367128", "number": "0299999999"})
    before = replica.state()

    with pytest.raises(ReadBackMismatchError, match="02 99 99 99 99") as raised:
        run(Target(licence_ref="FPC367128"), Target(licence_ref="FPC367129"))

    assert raised.value.result is not None
    assert outcomes(raised.value.result) == [Outcome.REFUSED, Outcome.REFUSED]
    assert hooks.confirmations == []
    assert replica.state() == before


def test_a_declined_confirmation_cancels_the_dialog_and_changes_nothing(
    run: RunFn, replica: Replica, hooks: RecordingHooks
) -> None:
    hooks.answer = False
    before = replica.state()

    # Two tabs: one question, and "no" leaves both untouched.
    result = run(Target(licence_ref="FPC367128"), Target(licence_ref="FPC367131"))

    assert outcomes(result) == [Outcome.NOT_CONFIRMED, Outcome.NOT_CONFIRMED]
    assert len(hooks.confirmations) == 1
    assert "not confirmed" in (result.results[0].reason or "")
    assert replica.state() == before


def test_a_service_without_licences_is_refused_naming_its_type(
    run: RunFn, replica: Replica
) -> None:
    with pytest.raises(ServiceNotFoundError, match="Trunk SIP"):
        run(Target(licence_ref="FPC367128"), service="SRV-10026")


@pytest.mark.cells  # cases of one list: the quick tier runs one, turning
@pytest.mark.parametrize(
    ("markup", "dry_run", "service", "state"),
    [
        ("classic", True, "SRV-10024", "Suspendu"),
        ("aria", False, "SRV-10024", "Suspendu"),
        ("aria", True, "SRV-10025", "Résilié"),
        ("classic", False, "SRV-10025", "Résilié"),
    ],
    ids=[
        "classic-dry-run-suspendu",
        "aria-real-run-suspendu",
        "aria-dry-run-resilie",
        "classic-real-run-resilie",
    ],
    indirect=["markup"],
)
def test_a_service_that_is_not_active_is_refused_when_planning_naming_its_state(
    run: RunFn, replica: Replica, hooks: RecordingHooks, service: str, state: str, dry_run: bool
) -> None:
    before = replica.state()
    one = next(row for row in before["licences"] if row["service_ref"] == service)

    with pytest.raises(ServiceNotActiveError, match=f"« {state} »") as raised:
        run(Target(licence_ref=one["ref"]), service=service, dry_run=dry_run)

    assert raised.value.result is not None
    assert outcomes(raised.value.result) == [Outcome.SKIPPED]
    assert hooks.confirmations == []
    assert replica.state() == before  # the audit too: no « Valider » was ever sent


def test_a_refusal_shown_after_valider_is_final_and_valider_is_never_clicked_again(
    run: RunFn, replica: Replica, hooks: RecordingHooks, page: Page
) -> None:
    sent: list[str] = []

    def note(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/dissociations"):
            sent.append(request.url)

    page.on("request", note)
    # The back office suspends the service while the person reads the confirmation.
    hooks.before_answer = lambda: replica.test_api(
        "service-state", {"service_ref": SERVICE, "state": "Suspendu"}
    )
    before = replica.state()

    result = run(Target(licence_ref="FPC367128"), Target(licence_ref="FPC367129"))

    assert outcomes(result) == [Outcome.REFUSED, Outcome.REFUSED]
    assert "n'est pas un service MetaCentrex actif" in (result.results[0].reason or "")
    assert len(sent) == 1  # one « Valider », never a second after the portal said no
    after = replica.state()
    assert after["licences"] == before["licences"]
    assert after["audit"] == []


def test_a_search_that_finds_nothing_concludes_without_waiting_a_timeout_out(
    run: RunFn, replica: Replica
) -> None:
    # With a 2 s timeout, a bot that waited for a "nothing found" sentence the portal
    # does not show (the aria markup shows none) would fail with a TechnicalError.
    result = run(Target(licence_ref="FPC999999"), timeout_ms=2_000)

    assert outcomes(result) == [Outcome.REFUSED]
    assert "no licence FPC999999 in the service SRV-10021" in (result.results[0].reason or "")
