"""The demo data: the contract the bot's demo and tests rely on, and determinism."""

from __future__ import annotations

import re
from collections import Counter

from myopenip_portal import db, seed
from myopenip_portal.config import OTHER_PARTNER_LOGIN

GUIDE_LICENCES = {
    "FPC367123": ("Licence SVI", "0231456780"),
    "FPC367127": ("Licence fax entreprise", "0231456781"),
    "FPC367128": ("Licence full conferencing", "0231456789"),
    "FPC367129": ("Licence full meeting avancée", "0231456790"),
}


def seeded(value: int = 1) -> dict:
    conn = db.connect(None)
    seed.seed_database(conn, value, "demo", "demo")
    return db.state(conn)


def test_the_guides_four_licences_are_groupements_of_srv_10021_with_their_numbers() -> None:
    licences = {item["ref"]: item for item in seeded()["licences"]}
    for ref, (type_, number) in GUIDE_LICENCES.items():
        assert licences[ref]["type"] == type_
        assert licences[ref]["sda"] == number
        assert licences[ref]["tab"] == "groupements"
        assert licences[ref]["service_ref"] == "SRV-10021"


def test_srv_10021_is_an_active_metacentrex_service_identical_for_every_seed() -> None:
    def srv_10021(value: int) -> tuple:
        state = seeded(value)
        service = next(s for s in state["services"] if s["ref"] == "SRV-10021")
        return service, [x for x in state["licences"] if x["service_ref"] == "SRV-10021"]

    service, licences = srv_10021(1)
    assert (service["type"], service["state"]) == ("MetaCentrex", "Actif")
    assert srv_10021(7) == (service, licences)
    tabs = Counter(x["tab"] for x in licences)
    assert tabs["groupements"] < 20 < tabs["utilisateurs"]
    users = [x for x in licences if x["tab"] == "utilisateurs"]
    assert any(x["sda"] is None for x in users)
    assert any("Application standardiste" in x["options"] for x in users)


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    assert seeded(3) == seeded(3)
    assert seeded(3)["licences"] != seeded(4)["licences"]


def test_default_seed_offers_sixty_numbered_licences_over_three_active_metacentrex() -> None:
    state = seeded()
    active = {
        s["ref"] for s in state["services"] if s["type"] == "MetaCentrex" and s["state"] == "Actif"
    }
    numbered = Counter(x["service_ref"] for x in state["licences"] if x["sda"])
    spread = {ref: count for ref, count in numbered.items() if ref in active and count >= 10}
    assert len(spread) >= 3
    assert sum(spread.values()) >= 60


def test_every_state_and_type_of_service_is_present() -> None:
    services = seeded()["services"]
    metacentrex_states = {s["state"] for s in services if s["type"] == "MetaCentrex"}
    assert metacentrex_states >= {"Actif", "Suspendu", "Résilié"}
    assert {s["type"] for s in services} >= {"MetaCentrex", "Trunk SIP", "Accès Fibre"}


def test_every_licence_type_of_the_spec_is_present_and_refs_and_numbers_are_unique() -> None:
    state = seeded()
    types = {x["type"] for x in state["licences"]}
    assert types >= {
        "Licence utilisateur essentiel",
        "Licence utilisateur avancé",
        "Licence SVI",
        "Licence fax entreprise",
        "Licence full conferencing",
        "Licence full meeting avancée",
    }
    refs = [x["ref"] for x in state["licences"]]
    assert len(refs) == len(set(refs))
    assert all(re.fullmatch(r"FPC\d{6}", ref) for ref in refs)
    numbers = [n["number"] for n in state["numbers"]]
    assert len(numbers) == len(set(numbers))
    assert all(re.fullmatch(r"0\d{9}", n) for n in numbers)


def test_every_licence_number_is_an_assigned_number_of_its_clients_account() -> None:
    state = seeded()
    numbers = {n["number"]: n for n in state["numbers"]}
    accounts = {s["ref"]: s["account"] for s in state["services"]}
    for licence in state["licences"]:
        if licence["sda"]:
            number = numbers[licence["sda"]]
            assert number["state"] == "assigned"
            assert number["licence_ref"] == licence["ref"]
            assert number["account"] == accounts[licence["service_ref"]]
        else:
            assert licence["state"] == "Non affectée"


def test_the_demo_user_sees_more_than_a_page_of_services_and_never_the_other_partners() -> None:
    conn = db.connect(None)
    seed.seed_database(conn, 1, "demo", "demo")
    mine = {s["ref"] for s in db.services_for(conn, "demo", {})}
    theirs = {s["ref"] for s in db.services_for(conn, OTHER_PARTNER_LOGIN, {})}
    assert len(mine) > 20
    assert theirs
    assert not mine & theirs


def test_licences_per_service_tops_up_two_services_and_leaves_the_rest_as_seeded() -> None:
    def bulk(value: int, per_service: int) -> dict:
        conn = db.connect(None)
        seed.seed_database(conn, value, "demo", "demo", licences_per_service=per_service)
        return db.state(conn)

    plain, topped = seeded(1), bulk(1, 150)
    count = Counter(lic["service_ref"] for lic in topped["licences"])
    assert count["SRV-10022"] == count["SRV-10023"] == 150
    added = [lic for lic in topped["licences"] if lic not in plain["licences"]]
    assert {lic["service_ref"] for lic in added} == {"SRV-10022", "SRV-10023"}
    assert all(lic["sda"] and lic["tab"] == "utilisateurs" for lic in added)
    refs = [lic["ref"] for lic in topped["licences"]]
    numbers = [lic["sda"] for lic in topped["licences"] if lic["sda"]]
    assert len(refs) == len(set(refs))
    assert len(numbers) == len(set(numbers))
    # Everything else is the seed's, row for row.
    assert [lic for lic in topped["licences"] if lic not in added] == plain["licences"]
    assert topped["services"] == plain["services"]
    assert bulk(1, 150) == topped  # deterministic


def bulk(value: int, per_service: int, services: int) -> dict:
    conn = db.connect(None)
    seed.seed_database(
        conn, value, "demo", "demo", licences_per_service=per_service, bulk_services=services
    )
    return {**db.state(conn), "visible": db.services_for(conn, "demo", {})}


def test_bulk_services_adds_services_of_other_clients_and_leaves_the_seed_alone() -> None:
    plain, four = bulk(1, 40, 2), bulk(1, 40, 4)
    targets = ["SRV-10022", "SRV-10023", "SRV-10403", "SRV-10404"]
    count = Counter(lic["service_ref"] for lic in four["licences"])
    assert [count[ref] for ref in targets] == [40] * 4
    services = {s["ref"]: s for s in four["services"]}
    assert len({services[ref]["account"] for ref in targets}) == 4  # four clients
    assert all(services[ref]["type"] == "MetaCentrex" for ref in targets)
    assert all(services[ref]["state"] == "Actif" for ref in targets)
    assert set(targets) <= {s["ref"] for s in four["visible"]}  # the demo user's
    assert services["SRV-10404"]["client"] == "Banc d'essai 04"
    added = {ref: [lic for lic in four["licences"] if lic["service_ref"] == ref] for ref in targets}
    assert added["SRV-10403"][0]["ref"] == "FPC800000"
    assert added["SRV-10404"][0]["ref"] == "FPC800040"
    assert {lic["sda"][:4] for lic in added["SRV-10404"]} == {"0973"}
    # The first two are topped up exactly as with the default K, the rest is the seed's.
    assert [lic for lic in four["licences"] if lic["service_ref"] not in targets[2:]] == plain[
        "licences"
    ]
    assert [s for s in four["services"] if s["ref"] not in targets[2:]] == plain["services"]
    refs = [lic["ref"] for lic in four["licences"]]
    numbers = [n["number"] for n in four["numbers"]]
    assert len(refs) == len(set(refs))
    assert len(numbers) == len(set(numbers))
    assert bulk(1, 40, 4) == four


def test_bulk_services_without_licences_per_service_add_nothing() -> None:
    assert bulk(1, 0, 5) == bulk(1, 0, 2)
    assert {k: v for k, v in bulk(1, 0, 2).items() if k != "visible"} == seeded(1)


def test_bulk_services_and_licences_must_fit_their_refs_and_numbers() -> None:
    assert seed.bulk_problem(2, 99999) is None
    assert seed.bulk_problem(30, 7142) is None
    assert "at most 200000" in (seed.bulk_problem(30, 7200) or "")
    assert seed.bulk_problem(31, 1) is not None
    assert seed.bulk_problem(0, 1) is not None
