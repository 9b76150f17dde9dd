"""Dissociation: the dialog's preview, "Valider" and what it does to the data."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Portal


def test_preview_lists_ticked_licences_with_their_numbers_and_those_without(
    logged_in: Portal,
) -> None:
    response = logged_in.preview(["FPC367128", "FPC367124", "FPC367129"])
    assert response.status_code == 200
    body = response.json()
    assert [(x["ref"], x["number_display"]) for x in body["with_number"]] == [
        ("FPC367128", "02 31 45 67 89"),
        ("FPC367129", "02 31 45 67 90"),
    ]
    assert body["without_number"] == [{"ref": "FPC367124", "type": "Licence SVI"}]


def test_preview_changes_nothing(logged_in: Portal) -> None:
    before = logged_in.state()
    logged_in.preview(["FPC367128"])
    assert logged_in.state() == before


def test_keeping_the_number_makes_it_available_and_wipes_the_licence(logged_in: Portal) -> None:
    assert logged_in.licence("FPC367128")["settings"]
    response = logged_in.dissociate({"FPC367128": True})
    assert response.status_code == 200
    assert response.json()["dissociated"] == 1
    assert response.json()["message"] == "Numéro(s) dissocié(s) : 1"
    licence = logged_in.licence("FPC367128")
    assert licence["sda"] is None
    assert licence["state"] == "Non affectée"
    assert licence["settings"] == {}
    assert licence["history"] == 0
    assert licence["type"] == "Licence full conferencing"  # the licence itself stays
    number = logged_in.number("0231456789")
    assert (number["state"], number["licence_ref"]) == ("available", None)


def test_not_keeping_the_number_puts_it_in_quarantine(logged_in: Portal) -> None:
    logged_in.dissociate({"FPC367129": False})
    assert logged_in.number("0231456790")["state"] == "quarantine"


def test_standardiste_option_ends_and_other_options_stay(logged_in: Portal) -> None:
    before = logged_in.licence("FPC367131")
    assert set(before["options"]) == {"Application standardiste", "Enregistrement des appels"}
    logged_in.dissociate({"FPC367131": True})
    assert logged_in.licence("FPC367131")["options"] == ["Enregistrement des appels"]


def test_each_dissociated_number_gets_an_audit_entry(logged_in: Portal) -> None:
    logged_in.dissociate({"FPC367128": True, "FPC367129": False})
    audit = logged_in.state()["audit"]
    assert [(a["licence_ref"], a["number"], a["keep"]) for a in audit] == [
        ("FPC367128", "0231456789", True),
        ("FPC367129", "0231456790", False),
    ]
    assert all(a["user"] == "demo" and a["action"] == "dissociation" and a["at"] for a in audit)


def test_the_search_then_shows_the_licences_without_number(logged_in: Portal) -> None:
    logged_in.dissociate({"FPC367128": True})
    rows = logged_in.licences(tab="groupements", licence="FPC367128").json()["rows"]
    assert rows[0]["sda"] is None
    assert rows[0]["sda_display"] == ""
    assert rows[0]["user"] == ""


@pytest.mark.parametrize(
    ("choices", "service", "status", "culprit"),
    [
        ({"FPC367128": True, "FPC367124": True}, "SRV-10021", 409, "FPC367124"),
        ({"FPC367128": True, "FPC999999": True}, "SRV-10021", 404, "FPC999999"),
        ({"FPC367128": True, "FPC367123": False}, "SRV-10022", 403, "FPC367128"),
    ],
    ids=["already-without-number", "unknown-licence", "licence-of-another-service"],
)
def test_a_refused_submission_names_the_licence_and_changes_nothing(
    logged_in: Portal, choices: dict[str, bool], service: str, status: int, culprit: str
) -> None:
    before = logged_in.state()
    response = logged_in.dissociate(choices, service=service)
    assert response.status_code == status
    assert response.json()["licence_ref"] == culprit
    assert culprit in response.json()["message"]
    assert logged_in.state() == before


def test_a_licence_of_another_client_is_refused(logged_in: Portal) -> None:
    foreign = next(x for x in logged_in.state()["licences"] if x["service_ref"] == "SRV-20001")
    before = logged_in.state()
    response = logged_in.dissociate({foreign["ref"]: True})
    assert response.status_code == 403
    assert logged_in.state() == before
    assert logged_in.preview([foreign["ref"]]).status_code == 403


def test_a_service_of_another_partner_is_refused(logged_in: Portal) -> None:
    foreign = next(x for x in logged_in.state()["licences"] if x["service_ref"] == "SRV-20001")
    response = logged_in.dissociate({foreign["ref"]: True}, service="SRV-20001")
    assert response.status_code == 403


def test_an_unknown_service_in_the_url_is_refused(logged_in: Portal) -> None:
    before = logged_in.state()
    assert logged_in.dissociate({"FPC367128": True}, service="SRV-99999").status_code == 404
    assert logged_in.preview(["FPC367128"], service="SRV-99999").status_code == 404
    assert logged_in.state() == before


def test_a_suspended_service_refuses_dissociation(logged_in: Portal) -> None:
    licence = next(
        x for x in logged_in.state()["licences"] if x["service_ref"] == "SRV-10024" and x["sda"]
    )
    before = logged_in.state()
    response = logged_in.dissociate({licence["ref"]: True}, service="SRV-10024")
    assert response.status_code == 409
    assert response.json()["error"] == "service_not_active"
    assert logged_in.state() == before


def test_the_second_of_two_submissions_for_one_licence_is_refused(logged_in: Portal) -> None:
    assert logged_in.dissociate({"FPC367128": True}).status_code == 200
    after_first = logged_in.state()
    second = logged_in.dissociate({"FPC367128": False})
    assert second.status_code == 409
    assert logged_in.state() == after_first
    assert logged_in.number("0231456789")["state"] == "available"


@pytest.mark.parametrize("token", ["", "forged"], ids=["missing", "forged"])
def test_a_submission_without_the_right_csrf_token_is_refused(
    logged_in: Portal, token: str
) -> None:
    before = logged_in.state()
    response = logged_in.dissociate({"FPC367128": True}, csrf=token)
    assert response.status_code == 403
    assert response.json()["error"] == "csrf"
    assert logged_in.state() == before


def test_the_csrf_token_of_another_session_is_refused(make_portal) -> None:
    first: Portal = make_portal()
    first.login()
    other_token = first.csrf
    first.client.cookies.clear()
    first.login()
    assert first.csrf != other_token
    response = first.dissociate({"FPC367128": True}, csrf=other_token)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"licences": []},
        {"licences": [{"ref": "FPC367128"}]},
        {"licences": [{"ref": "FPC367128", "keep": "oui"}]},
        {"licences": [{"ref": "FPC367128", "keep": True}, {"ref": "FPC367128", "keep": True}]},
        ["FPC367128"],
    ],
    ids=["empty", "no-licence", "no-keep", "keep-not-bool", "duplicate", "not-an-object"],
)
def test_a_malformed_submission_is_refused(logged_in: Portal, body: Any) -> None:
    before = logged_in.state()
    response = logged_in.client.post(
        "/api/services/SRV-10021/dissociations",
        json=body,
        headers={"X-CSRF-Token": logged_in.csrf},
    )
    assert response.status_code == 400
    assert response.json()["message"]
    assert logged_in.state() == before


def test_submitting_without_session_is_refused(portal: Portal) -> None:
    before = portal.state()
    assert portal.dissociate({"FPC367128": True}, csrf="x").status_code == 401
    assert portal.state() == before


def test_misreport_changes_the_preview_but_not_the_data(logged_in: Portal) -> None:
    logged_in.client.post(
        "/_test/misreport", json={"licence_ref": "FPC367128", "number": "0299999999"}
    )
    body = logged_in.preview(["FPC367128"]).json()
    assert body["with_number"][0]["number_display"] == "02 99 99 99 99"
    assert logged_in.licence("FPC367128")["sda"] == "0231456789"
    logged_in.dissociate({"FPC367128": True})
    assert logged_in.state()["audit"][0]["number"] == "0231456789"


@pytest.mark.slow
def test_two_simultaneous_submissions_for_one_licence_dissociate_it_once(replica) -> None:
    """Against the real server: two sessions post at the same instant; one wins."""
    import re
    import threading

    import httpx

    def session() -> tuple[httpx.Client, str]:
        client = httpx.Client(base_url=replica.url, follow_redirects=True, timeout=10)
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        home = client.post(
            "/login", data={"username": "demo", "password": "demo", "csrf_token": token[1]}
        )
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', home.text)
        assert csrf
        return client, csrf[1]

    sessions = [session(), session()]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def submit(client: httpx.Client, csrf: str, keep: bool) -> None:
        start.wait()
        response = client.post(
            "/api/services/SRV-10021/dissociations",
            json={"licences": [{"ref": "FPC367128", "keep": keep}]},
            headers={"X-CSRF-Token": csrf},
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=submit, args=(*sessions[0], True)),
        threading.Thread(target=submit, args=(*sessions[1], False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client, _ in sessions:
        client.close()
    assert sorted(statuses) == [200, 409]
    audit = replica.state()["audit"]
    assert [a["licence_ref"] for a in audit] == ["FPC367128"]
