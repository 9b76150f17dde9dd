"""One test per smoke check, in the order the guide's screens come."""

from __future__ import annotations

import pytest

from myopenip_bot.smoke.checks import CHECKS, CheckResult, Status


@pytest.mark.parametrize("check_id", [spec.id for spec in CHECKS])
def test_smoke(smoke_checks: dict[str, CheckResult], check_id: str) -> None:
    result = smoke_checks[check_id]
    if result.status is Status.SKIPPED:
        pytest.skip(result.message)
    if result.status is Status.FAILED:
        pytest.fail(result.message, pytrace=False)
