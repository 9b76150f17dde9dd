"""Support's questions on both markups, in process: the first ticket done knowing only
the client and the number (then "already done"), a client's licences listed, a
misspelt client refused with the close names, a number alone found in the active
services (tests/commands/test_support.py runs the same as commands, on the classic
markup)."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import RecordingHooks, licence, replica_settings
from playwright.sync_api import Page

from myopenip.replica import Replica
from myopenip_bot.config.selectors import Selectors
from myopenip_bot.dissociation.observer import Observers
from myopenip_bot.dissociation.runner import Runner
from myopenip_bot.errors import ServiceNotFoundError
from myopenip_bot.ledger import open_ledger, portal_key
from myopenip_bot.ledger.observer import LedgerObserver, RunContext
from myopenip_bot.lookup.finder import Finder
from myopenip_bot.models import DissociationRequest, Outcome, Target
from myopenip_bot.portal.portal import Portal
from myopenip_portal.seed import DEMO_CLIENTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLIENT = "Normandie Logistique"
NUMBER = "0231456791"  # FPC367130's, in SRV-10021's Groupements


def portal_on(page: Page, replica: Replica, selectors: Selectors, hooks: RecordingHooks) -> Portal:
    settings = replica_settings(replica, timeout_ms=10_000)
    return Portal(page, selectors, settings, login_page=hooks.logging_in)


def test_the_first_ticket_by_client_and_number_then_already_done(
    page: Page, replica: Replica, selectors: Selectors, hooks: RecordingHooks, tmp_path: Path
) -> None:
    # The ledger is the evidence that a number no licence holds any more was done here.
    ledger = open_ledger(str(tmp_path / "ledger.sqlite3"))
    context = RunContext.of(
        portal=portal_key(replica.url), portal_user="demo", command="dissociate", run_dir=None
    )
    runner = Runner(
        portal_on(page, replica, selectors, hooks),
        observer=Observers(LedgerObserver(ledger, context), hooks),
        confirm=hooks.confirm,
        screenshot=hooks.screenshot,
        ledger=ledger,
    )
    request = DissociationRequest(
        service_ref="", client=CLIENT, targets=(Target(number=NUMBER),), keep_number=True
    )

    with ledger:
        done = runner.run(request)
        again = runner.run(request)

    (row,) = done.results
    assert (done.service_ref, row.licence_ref, row.outcome) == (
        "SRV-10021",
        "FPC367130",
        Outcome.DONE,
    )
    assert licence(replica.state(), "FPC367130")["sda"] is None
    assert [r.outcome for r in again.results] == [Outcome.ALREADY_DONE]
    assert "dissociated from FPC367130 on " in (again.results[0].reason or "")
    assert len(replica.state()["audit"]) == 1


def test_a_clients_licences_are_listed_and_a_misspelt_client_is_offered_close_names(
    page: Page, replica: Replica, selectors: Selectors, hooks: RecordingHooks
) -> None:
    finder = Finder(portal_on(page, replica, selectors, hooks))
    before = replica.state()

    client, services = finder.client_services(CLIENT.lower())
    siege = next(s for s in services if s.ref == "SRV-10021")
    listed = {row.licence: row for row in finder.licences(siege)}
    with pytest.raises(ServiceNotFoundError, match=r"did you mean Normandie Logistique \("):
        finder.client_services("Normandie Logistiqe")

    assert client == (CLIENT, "CC-100245")
    assert listed["FPC367130"].number == NUMBER
    assert listed["FPC367130"].user
    assert listed["FPC367130"].type
    assert {row.tab.value for row in listed.values()} == {"Utilisateurs", "Groupements"}
    assert replica.state() == before


def test_a_number_alone_is_searched_in_every_active_service_up_to_its_holder(
    page: Page, replica: Replica, selectors: Selectors, hooks: RecordingHooks
) -> None:
    state = replica.state()
    demos = {account for _, account, _ in DEMO_CLIENTS}  # the clients the login sees
    active = {
        s["ref"]
        for s in state["services"]
        if (s["type"], s["state"]) == ("MetaCentrex", "Actif") and s["account"] in demos
    }
    finder = Finder(portal_on(page, replica, selectors, hooks))

    services = finder.active_services()
    last = services[-1]
    held = next(lc for lc in state["licences"] if lc["service_ref"] == last.ref and lc["sda"])
    found, searched = finder.number_holder(held["sda"], services)
    with pytest.raises(ServiceNotFoundError, match=r"did you mean Normandie Logistique \("):
        finder.client_services("logistique normandie")  # its words swapped, no capital

    assert {s.ref for s in services} == active  # the list's pages, neither suspended nor other
    assert len(active) > 2
    assert searched == len(services)
    assert [(row.service.ref, row.licence, row.number) for row in found] == [
        (last.ref, held["ref"], held["sda"])
    ]
    assert (found[0].service.client, found[0].service.account) == (last.client, last.account)
    assert replica.state() == state
