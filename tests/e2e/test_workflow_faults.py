"""The runner against a failing portal: expired sessions, 5xx, answers lost after commit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_support import RecordingHooks, RunFn, licence, outcomes

from myopenip.replica import Replica
from myopenip_bot.errors import TechnicalError
from myopenip_bot.models import Outcome, Target

pytestmark = [pytest.mark.browser, pytest.mark.slow]


# With today's request counts these land the expiry while finding the service, while
# preparing the dialog, and on "Valider" itself; whatever step it lands on, the run must
# end with both licences dissociated exactly once.
@pytest.mark.parametrize(
    "after_requests", [3, 12, 19], ids=["finding-service", "preparing-dialog", "at-valider"]
)
def test_a_session_expiring_mid_run_is_renewed_and_the_run_completes(
    run: RunFn, replica: Replica, hooks: RecordingHooks, after_requests: int
) -> None:
    run(Target(licence_ref="FPC367130"), dry_run=True)  # logged in: the session exists
    logins_before = hooks.logins
    replica.test_api("expire-sessions", {"after_requests": after_requests})

    result = run(Target(licence_ref="FPC367128"), Target(licence_ref="FPC367129"))

    state = replica.state()
    assert outcomes(result) == [Outcome.DONE, Outcome.DONE]
    assert hooks.logins == logins_before + 1
    assert licence(state, "FPC367128")["sda"] is None
    assert sorted(entry["licence_ref"] for entry in state["audit"]) == ["FPC367128", "FPC367129"]


def test_a_portal_answering_5xx_surfaces_as_a_technical_error(
    run: RunFn, replica_factory: Callable[..., Replica]
) -> None:
    failing = replica_factory("--error-rate", "1")

    with pytest.raises(TechnicalError, match="HTTP 503") as raised:
        run(Target(licence_ref="FPC367128"), on=failing)

    assert raised.value.result is not None
    assert outcomes(raised.value.result) == [Outcome.FAILED]
    assert failing.state()["audit"] == []


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
