"""The runner against a failing portal: expired sessions, 5xx, answers lost after commit.

A fault is the portal's, not its markup's: each test runs on one markup, the two spread
over them (the login form, the dialog and the listings are read on both by every other
end-to-end test).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_support import RecordingHooks, RunFn, licence, on_markup, outcomes
from playwright.sync_api import Page, Route
from structlog.testing import capture_logs

from myopenip.replica import Replica
from myopenip_bot.errors import TechnicalError
from myopenip_bot.models import Outcome, Target

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.cells  # cases of one list: the quick tier runs one, turning
@pytest.mark.parametrize(
    ("markup", "after_requests"),
    # The second run's authenticated requests, from the menu on screen: classic's 2nd is
    # the services search, aria's 4th the Groupements listing read while planning.
    [("classic", 2), ("aria", 4)],
    ids=["classic-early", "aria-while-planning"],
    indirect=["markup"],
)
def test_a_session_expiring_mid_run_is_renewed_and_the_run_completes(
    run: RunFn, replica: Replica, hooks: RecordingHooks, after_requests: int
) -> None:
    run()  # log in: the session exists before it is set to expire
    replica.test_api("expire-sessions", {"after_requests": after_requests})

    result = run(Target(licence_ref="FPC367128"), Target(licence_ref="FPC367129"))

    state = replica.state()
    assert outcomes(result) == [Outcome.DONE, Outcome.DONE]
    assert hooks.logins == 2
    assert sorted(entry["licence_ref"] for entry in state["audit"]) == ["FPC367128", "FPC367129"]


@on_markup("classic")
def test_a_session_expiring_at_valider_is_renewed_and_valider_sent_again_after_a_reread(
    run: RunFn, replica: Replica, hooks: RecordingHooks
) -> None:
    # The confirmation is the last thing before "Valider": expire every session there.
    hooks.before_answer = lambda: replica.test_api("expire-sessions")

    with capture_logs() as logs:
        result = run(Target(licence_ref="FPC367128"), Target(licence_ref="FPC367129"))

    state = replica.state()
    assert [e["event"] for e in logs if e["event"] == "resubmitting"] == ["resubmitting"] * 2
    assert outcomes(result) == [Outcome.DONE, Outcome.DONE]
    assert hooks.logins == 2
    assert len(hooks.confirmations) == 1  # the second Valider was already confirmed
    assert sorted(entry["licence_ref"] for entry in state["audit"]) == ["FPC367128", "FPC367129"]


def test_a_portal_answering_5xx_surfaces_as_a_technical_error(
    run: RunFn, replica_factory: Callable[..., Replica]
) -> None:
    failing = replica_factory("--error-rate", "1")

    with pytest.raises(TechnicalError, match="HTTP 503") as raised:
        run(Target(licence_ref="FPC367128"), on=failing)

    assert raised.value.result is not None
    assert outcomes(raised.value.result) == [Outcome.SKIPPED]
    assert failing.state()["audit"] == []


@on_markup("aria")
def test_an_answer_dropped_after_commit_is_verified_done_without_a_second_valider(
    run: RunFn, replica_factory: Callable[..., Replica], hooks: RecordingHooks
) -> None:
    dropping = replica_factory("--drop-after-commit-rate", "1")

    result = run(Target(licence_ref="FPC367128"), on=dropping)

    state = dropping.state()
    assert outcomes(result) == [Outcome.DONE]
    assert "verified after" in (result.results[0].reason or "")
    assert [entry["licence_ref"] for entry in state["audit"]] == ["FPC367128"]
    assert len(hooks.confirmations) == 1


def fail_once(page: Page, url_pattern: str | Callable[[str], bool], method: str) -> list[str]:
    """Answer the first matching request with a 503 that never reaches the portal."""
    failed: list[str] = []

    def handle(route: Route) -> None:
        if route.request.method == method and not failed:
            failed.append(route.request.url)
            route.fulfill(status=503, json={"error": "technical_error", "message": "Erreur"})
        else:
            route.continue_()

    page.route(url_pattern, handle)
    return failed


@on_markup("classic")
def test_a_search_failing_once_is_redone_by_its_step_under_the_retry_policy(
    run: RunFn, replica: Replica, page: Page
) -> None:
    # The bot's own search for the licence, not the tab's first listing: FPC367158, on the
    # last page of Utilisateurs, which no tab shows as it opens.
    failed = fail_once(page, lambda url: "/licences?" in url and "FPC367158" in url, "GET")

    with capture_logs() as logs:
        result = run(Target(licence_ref="FPC367158"))

    assert failed
    retries = [e for e in logs if e["event"] == "step_retried"]
    assert [(e["attempt"], e["attempts"]) for e in retries] == [(2, 3)]  # one policy, said
    assert outcomes(result) == [Outcome.DONE]
    assert licence(replica.state(), "FPC367158")["sda"] is None


@on_markup("aria")
def test_a_valider_failing_before_the_portal_is_sent_again_once_after_a_reread(
    run: RunFn, replica: Replica, page: Page, hooks: RecordingHooks
) -> None:
    failed = fail_once(page, lambda url: url.endswith("/dissociations"), "POST")

    with capture_logs() as logs:
        result = run(Target(licence_ref="FPC367128"), Target(licence_ref="FPC367129"))

    state = replica.state()
    assert failed
    assert [e["event"] for e in logs if e["event"] == "resubmitting"] == ["resubmitting"] * 2
    assert outcomes(result) == [Outcome.DONE, Outcome.DONE]
    assert len(hooks.confirmations) == 1
    assert sorted(entry["licence_ref"] for entry in state["audit"]) == ["FPC367128", "FPC367129"]


@on_markup("aria")
def test_a_login_answered_503_is_tried_again_and_a_refused_one_never_is(
    run: RunFn, replica: Replica, page: Page, hooks: RecordingHooks
) -> None:
    # The login form's address differs between markups (/login, /connexion).
    failed = fail_once(page, lambda url: "/login" in url or "/connexion" in url, "POST")

    with capture_logs() as logs:
        result = run(Target(licence_ref="FPC367128"), dry_run=True)

    assert failed
    assert [e["event"] for e in logs].count("step_retried") == 1  # the login's step
    assert hooks.logins == 2  # the failed attempt and the one that got in
    assert outcomes(result) == [Outcome.WOULD_DO]
