"""The fault knobs: latency, technical errors and responses lost after a commit."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import pytest

from myopenip.replica import Replica
from myopenip_portal.faults import ResponseDropped

from .conftest import META_CSRF, Portal


def test_faults_are_off_by_default(logged_in: Portal) -> None:
    for _ in range(30):
        assert logged_in.licences(tab="groupements").status_code == 200


def test_latency_delays_each_request_around_the_given_time(make_portal) -> None:
    portal: Portal = make_portal(latency_ms=200)
    started = time.monotonic()
    portal.client.get("/login")
    elapsed = time.monotonic() - started
    assert 0.1 <= elapsed < 1.0  # uniform between 100 and 300 ms


def test_latency_spares_the_test_api_and_static_files(make_portal) -> None:
    portal: Portal = make_portal(latency_ms=2000)
    started = time.monotonic()
    portal.client.get("/_test/state")
    portal.client.get("/static/portal.css")
    assert time.monotonic() - started < 1.0


def test_error_rate_one_answers_503_pages_and_json_and_changes_nothing(make_portal) -> None:
    portal: Portal = make_portal(error_rate=1.0)
    before = portal.state()
    page = portal.client.get("/login")
    assert page.status_code == 503
    assert "Erreur technique" in page.text
    api = portal.client.post("/api/services/SRV-10021/dissociations", json={})
    assert api.status_code == 503
    assert api.json()["error"] == "technical_error"
    assert portal.state() == before
    assert portal.client.get("/static/portal.css").status_code == 200


def test_error_rate_hits_about_that_fraction_the_same_way_for_the_same_seed(
    make_portal,
) -> None:
    def statuses(seed: int) -> list[int]:
        portal: Portal = make_portal(error_rate=0.3, seed=seed)
        return [portal.client.get("/login").status_code for _ in range(200)]

    first = statuses(5)
    assert 30 <= first.count(503) <= 90
    assert set(first) == {200, 503}
    assert statuses(5) == first
    assert statuses(6) != first


def test_reset_restarts_the_error_draws(make_portal) -> None:
    portal: Portal = make_portal(error_rate=0.5)
    first = [portal.client.get("/login").status_code for _ in range(40)]
    portal.client.post("/_test/reset", json={})
    assert [portal.client.get("/login").status_code for _ in range(40)] == first


def test_a_dropped_response_still_commits_the_dissociation(make_portal) -> None:
    portal: Portal = make_portal(drop_after_commit_rate=1.0)
    portal.login()
    with pytest.raises(ResponseDropped):
        portal.dissociate({"FPC367128": False})
    assert portal.licence("FPC367128")["sda"] is None
    assert portal.number("0231456789")["state"] == "quarantine"
    assert len(portal.state()["audit"]) == 1


def test_a_refused_submission_is_answered_even_when_drops_are_on(make_portal) -> None:
    portal: Portal = make_portal(drop_after_commit_rate=1.0)
    portal.login()
    assert portal.dissociate({"FPC367124": True}).status_code == 409


def _login(client: httpx.Client, replica: Replica) -> str:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    home = client.post(
        "/login",
        data={"username": replica.username, "password": replica.password, "csrf_token": token[1]},
    )
    csrf = META_CSRF.search(home.text)
    assert csrf
    return csrf[1]


@pytest.mark.slow
def test_a_real_client_gets_a_network_error_while_the_data_is_committed(
    replica_factory: Callable[..., Replica],
) -> None:
    replica = replica_factory("--drop-after-commit-rate", "1")
    with httpx.Client(base_url=replica.url, follow_redirects=True, timeout=10) as client:
        csrf = _login(client, replica)
        with pytest.raises(httpx.TransportError):
            client.post(
                "/api/services/SRV-10021/dissociations",
                json={"licences": [{"ref": "FPC367128", "keep": True}]},
                headers={"X-CSRF-Token": csrf},
            )
    licence = next(x for x in replica.state()["licences"] if x["ref"] == "FPC367128")
    assert licence["sda"] is None
    assert replica.process.poll() is None  # the server is still up


@pytest.mark.slow
def test_a_real_server_answers_503_with_error_rate_one(
    replica_factory: Callable[..., Replica],
) -> None:
    replica = replica_factory("--error-rate", "1", "--latency-ms", "20")
    with httpx.Client(base_url=replica.url, timeout=10) as client:
        response = client.get("/login")
    assert response.status_code == 503
    assert "Erreur technique" in response.text
    assert replica.state()["services"]  # the test API is spared
