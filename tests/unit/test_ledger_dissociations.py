"""What the ledger says the bot dissociated on a service (Ledger.dissociations), the
evidence a rerun's planning asks for: on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import replace

from ledger_samples import OTHER_PORTAL, PORTAL, entry

from myopenip_bot.ledger import open_ledger

DONE = entry(at="2026-12-07T13:02:41.000000Z", licence="FPC367130", number="0231456791")


def test_the_latest_dissociation_of_each_number_and_licence_of_the_service_on_its_portal(
    ledger_url: str,
) -> None:
    with open_ledger(ledger_url) as ledger:
        ledger.record(
            [
                replace(DONE, outcome="submitting", at="2026-12-07T13:02:39.000000Z"),
                replace(DONE, outcome="in_progress", at="2026-12-07T13:02:40.000000Z"),
                DONE,
                # a rerun's, another service's, another portal's: no evidence
                replace(DONE, outcome="already_done", at="2026-12-08T08:00:00.000000Z"),
                replace(DONE, service="SRV-10022", number="0231456792", licence="FPC302848"),
                replace(DONE, portal=OTHER_PORTAL, number="0231456793", licence="FPC302849"),
            ]
        )

        told = ledger.dissociations(
            PORTAL, "srv-10021", ["0231456791", "fpc367130", "0231456792", "FPC302849"]
        )
        many = ledger.dissociations(
            PORTAL, "SRV-10021", [*(f"02{n:08d}" for n in range(900)), "0231456791"]
        )

    assert {key: (e.outcome, e.at) for key, e in told.items()} == {
        "0231456791": ("done", DONE.at),
        "FPC367130": ("done", DONE.at),
    }
    assert set(many) == {"0231456791"}  # more keys than one statement takes: read in parts
