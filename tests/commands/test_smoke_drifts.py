"""Every drift the replica rehearses (`/_test/drift`, the table of docs/replica.md) gives
the smoke its true verdict: a failed check naming its selectors key, with a proposal
that the rerun passes where a text changed (a column header, an option) — every other
check still run — or a pass where the bot rightly copes (numbers in another of the
spec's forms: data, read as ten digits). In process: a real Chromium on the replica,
the reruns too. (Controls renamed or hidden, « Suivant », the status message: their
own tests, named in that table.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser
from test_smoke import unchanged, walk

from myopenip.replica import Replica
from myopenip_bot.config.selectors import default_selectors_path, load_selectors
from myopenip_bot.config.settings import Settings
from myopenip_bot.smoke.checks import Status
from myopenip_bot.smoke.propose import propose

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize(
    ("drift", "failing", "candidate", "entries"),
    [
        (
            {"rename": {"SDA": "Numéro SDA"}},  # the column, and the filter labelled alike
            ["Utilisateurs tab: licences.filters", "Utilisateurs tab: licences.number_filter"],
            ("columnheader", "Numéro SDA"),
            ["licences.number_filter", "texts.licence_columns.number", "licences.filters[0]"],
        ),
        (
            {"rename": {"Nom du service": "Libellé du service"}},
            ["Paramétrage / Monitoring: services.filters"],
            ("columnheader", "Libellé du service"),
            ["services.filters[1]", "texts.service_columns.name"],
        ),
        (
            {"rename": {"Non": "Refuser"}},
            [],
            ("option", "Refuser"),
            ["texts.keep_no"],
        ),
        ({"numbers": "international"}, [], None, []),
        ({"numbers": "digits"}, [], None, []),
    ],
    ids=["licence-column", "service-column", "option", "numbers-international", "numbers-digits"],
)
def test_each_drift_fails_its_key_with_a_passing_proposal_or_passes_where_the_bot_copes(
    browser: Browser,
    replica: Replica,
    tmp_path: Path,
    drift: dict[str, Any],
    failing: list[str],
    candidate: tuple[str, str] | None,
    entries: list[str],
) -> None:
    selectors = load_selectors(None)
    replica.test_api("drift", drift)
    before = unchanged(replica.state())

    first = walk(browser, selectors, replica)
    proposal = propose(
        Settings(),
        selectors,
        default_selectors_path(),
        first,
        tmp_path / "proposal.yaml",
        run=lambda settings, proposed, **_: walk(browser, proposed, replica),
    )

    statuses = {check.id: check.status for check in first.checks}
    if candidate is None:  # the bot copes: nothing fails, nothing to propose
        assert [c.message for c in first.checks if c.status is Status.FAILED] == []
        assert [c.message for c in first.checks if c.status is Status.ERROR] == []
        assert first.error is None
        assert proposal.changes == []
    else:
        # The drifted text named by its key, what shows instead first …
        key = {"columnheader": "columns", "option": "keep"}[candidate[0]]
        named = [c for c in first.failed if key in (c.entry or "")]
        assert named, [c.message for c in first.failed]
        assert named[0].candidates[0] == candidate
        assert named[0].message.startswith(f"{named[0].spec.key}: ")
        for check_id in failing:  # (and the controls named alike)
            assert statuses[check_id] is Status.FAILED, check_id
        # … every other check run: a drift, not the portal failing (no "did not run")
        assert [c.message for c in first.checks if c.status is Status.ERROR] == []
        assert first.error is None
        # … and a proposal changing those entries, which the rerun passes.
        assert sorted(change.entry for change in proposal.changes) == sorted(entries)
        assert proposal.passes, proposal.verdict and [c.message for c in proposal.verdict.failed]
    assert unchanged(replica.state()) == before
