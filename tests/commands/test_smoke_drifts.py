"""Every drift the replica rehearses (`/_test/drift`, the table of docs/replica.md) gives
the smoke its true verdict: a failed check naming its selectors key, with a proposal
that the rerun passes where a text changed (a column header, an option) — every other
check still run — or a pass where the bot rightly copes (numbers in another of the
spec's forms: data, read as ten digits). A control under another role with its name
kept is named too, and the role proposed. In process: a real Chromium on the replica,
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


@pytest.mark.cells
@pytest.mark.parametrize(
    ("drift", "named", "candidate", "entries"),
    [
        (
            {"rename": {"SDA": "Numéro SDA"}},  # the column, and the filter labelled alike
            "Utilisateurs tab: texts.licence_columns",
            ("columnheader", "Numéro SDA"),
            ["licences.number_filter", "texts.licence_columns.number", "licences.filters[0]"],
        ),
        (
            {"rename": {"Nom du service": "Libellé du service"}},
            "Paramétrage / Monitoring: texts.service_columns",
            ("columnheader", "Libellé du service"),
            ["services.filters[1]", "texts.service_columns.name"],
        ),
        (
            {"rename": {"Non": "Refuser"}},
            "Dissociation dialog: texts.keep_no",
            ("option", "Refuser"),
            ["texts.keep_no"],
        ),
        (
            {"roles": {"Mes Services": "link"}},  # a role changed, its name kept
            "Navigation: navigation.services_menu",
            ("link", "Mes Services"),
            ["navigation.services_menu"],
        ),
        ({"numbers": "international"}, None, None, []),
        ({"numbers": "digits"}, None, None, []),
    ],
    ids=[
        "licence-column",
        "service-column",
        "option",
        "role",
        "numbers-international",
        "numbers-digits",
    ],
)
def test_each_drift_fails_its_key_with_a_passing_proposal_or_passes_where_the_bot_copes(
    browser: Browser,
    replica: Replica,
    tmp_path: Path,
    drift: dict[str, Any],
    named: str | None,
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

    checks = {check.id: check for check in first.checks}
    assert first.error is None
    # A drift, never the portal failing; past a text that drifted every check runs ("not
    # run" is no verdict); a control the rest of the walk needs (a gate) stops it there.
    if named is None or not checks[named].spec.gate:
        assert [c.message for c in first.checks if c.status is Status.ERROR] == []
    if named is None:  # the bot copes: nothing fails, nothing to propose
        assert [c.message for c in first.checks if c.status is Status.FAILED] == []
        assert proposal.changes == []
    else:
        # The drift named by its key, what shows instead first …
        assert checks[named].status is Status.FAILED, checks[named].message
        assert checks[named].message.startswith(f"{checks[named].spec.key}: ")
        assert checks[named].candidates[0] == candidate
        # … and a proposal changing those entries, which the rerun passes.
        assert sorted(change.entry for change in proposal.changes) == sorted(entries)
        assert proposal.passes, proposal.verdict and [c.message for c in proposal.verdict.failed]
    assert unchanged(replica.state()) == before
