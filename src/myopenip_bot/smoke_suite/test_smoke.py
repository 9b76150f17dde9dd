"""One test per smoke check, in the order the guide's screens come."""

from __future__ import annotations

import pytest

from myopenip_bot.smoke.checks import CHECKS, CheckResult, Status
from myopenip_bot.smoke.junit import evidence
from myopenip_bot.wording import check_text


@pytest.mark.parametrize("smoke_check", [spec.id for spec in CHECKS], indirect=True)
def test_smoke(smoke_check: CheckResult) -> None:
    if smoke_check.status is Status.SKIPPED:
        pytest.skip(check_text(smoke_check.message))  # (MYOPENIP_LANG=fr: French)
    if smoke_check.status is Status.FAILED:
        print(evidence(smoke_check))  # the JUnit file's <system-out>: names, screenshot
        pytest.fail(check_text(smoke_check.message), pytrace=False)
