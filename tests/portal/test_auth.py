"""Login, lockout, CSRF, session lifetime and the session-expiry test API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from .conftest import FORM_CSRF, Portal


def test_login_page_shows_the_heading_fields_and_button(portal: Portal) -> None:
    page = portal.client.get("/login")
    assert page.status_code == 200
    assert "<h1>Connectez-vous à MyOpenIP</h1>" in page.text
    assert '<label for="username">Identifiant</label>' in page.text
    assert '<label for="password">Mot de passe</label>' in page.text
    assert 'id="password" name="password" type="password"' in page.text
    assert '<button type="submit" class="primary">Se connecter</button>' in page.text


def test_right_credentials_open_the_home_page_with_the_navigation(portal: Portal) -> None:
    response = portal.login()
    assert response.status_code == 200
    assert str(response.url).endswith("/")
    assert "Mes Services" in response.text
    assert '<a href="/services">Paramétrage / Monitoring</a>' in response.text
    assert "Se déconnecter" in response.text


def test_wrong_password_shows_an_alert_and_stays_on_the_login_page(portal: Portal) -> None:
    response = portal.login(password="wrong")
    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert "Identifiant ou mot de passe incorrect." in response.text
    assert "Connectez-vous à MyOpenIP" in response.text
    assert portal.client.get("/services", follow_redirects=False).status_code == 303


def test_unknown_user_is_refused_like_a_wrong_password(portal: Portal) -> None:
    response = portal.login(user="nobody", password="demo")
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in response.text


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(
    portal: Portal,
) -> None:
    for _ in range(4):
        assert "Il vous reste" in portal.login(password="wrong").text
    assert "verrouillé" in portal.login(password="wrong").text
    locked = portal.login(password="demo")
    assert locked.status_code == 401
    assert "Votre compte est verrouillé" in locked.text


def test_reset_unlocks_a_locked_account(portal: Portal) -> None:
    for _ in range(5):
        portal.login(password="wrong")
    portal.client.post("/_test/reset", json={})
    assert portal.login().status_code == 200


def test_a_right_password_before_the_fifth_failure_clears_the_count(portal: Portal) -> None:
    for _ in range(4):
        portal.login(password="wrong")
    assert portal.login().status_code == 200
    for _ in range(4):
        portal.login(password="wrong")
    assert portal.login().status_code == 200


def test_login_without_its_csrf_token_is_refused_and_counts_nothing(portal: Portal) -> None:
    portal.client.get("/login")
    for token in ("", "forged"):
        response = portal.client.post(
            "/login", data={"username": "demo", "password": "demo", "csrf_token": token}
        )
        assert response.status_code == 403
        assert "Requête refusée" in response.text
    assert portal.client.get("/services", follow_redirects=False).status_code == 303


def test_session_cookie_is_httponly_and_samesite_lax(portal: Portal) -> None:
    page = portal.client.get("/login")
    token = FORM_CSRF.search(page.text)
    assert token
    response = portal.client.post(
        "/login",
        data={"username": "demo", "password": "demo", "csrf_token": token[1]},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("myopenip_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie


def test_a_page_without_session_redirects_to_login_and_login_returns_there(
    portal: Portal,
) -> None:
    response = portal.client.get("/services/SRV-10021?tab=groupements", follow_redirects=False)
    assert response.status_code == 303
    target = urlparse(response.headers["location"])
    assert target.path == "/login"
    nxt = parse_qs(target.query)["next"][0]
    assert nxt == "/services/SRV-10021?tab=groupements"
    page = portal.client.get(response.headers["location"])
    token = FORM_CSRF.search(page.text)
    assert token
    after = portal.client.post(
        "/login",
        data={"username": "demo", "password": "demo", "csrf_token": token[1], "next": nxt},
    )
    assert after.url.path == "/services/SRV-10021"
    assert after.url.query == b"tab=groupements"


def test_login_never_returns_to_another_site(portal: Portal) -> None:
    page = portal.client.get("/login")
    token = FORM_CSRF.search(page.text)
    assert token
    for evil in ("//evil.example/", "https://evil.example/"):
        response = portal.client.post(
            "/login",
            data={"username": "demo", "password": "demo", "csrf_token": token[1], "next": evil},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


def test_a_session_expires_after_its_ttl_and_the_login_page_says_so(
    make_portal,
) -> None:
    portal: Portal = make_portal(session_ttl=60)
    portal.login()
    portal.clock.advance(59)
    assert portal.client.get("/services", follow_redirects=False).status_code == 200
    portal.clock.advance(2)
    response = portal.client.get("/services", follow_redirects=False)
    assert response.status_code == 303
    assert "expired=1" in response.headers["location"]
    page = portal.client.get(response.headers["location"])
    assert "Votre session a expiré. Veuillez vous reconnecter." in page.text
    assert 'role="alert"' not in page.text  # the notice is not a login failure


def test_an_api_call_with_an_expired_session_gets_401_json(logged_in: Portal) -> None:
    logged_in.client.post("/_test/expire-sessions", json={})
    response = logged_in.licences(tab="groupements")
    assert response.status_code == 401
    assert response.json()["error"] == "session_expired"


def test_an_api_call_without_session_gets_401_json(portal: Portal) -> None:
    response = portal.licences()
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_expire_sessions_after_n_requests_serves_n_then_logs_out(logged_in: Portal) -> None:
    logged_in.client.post("/_test/expire-sessions", json={"after_requests": 3})
    logged_in.client.get("/static/portal.css")  # static files do not count
    logged_in.client.get("/_test/state")  # nor does the test API
    for _ in range(3):
        assert logged_in.client.get("/services", follow_redirects=False).status_code == 200
    response = logged_in.client.get("/services", follow_redirects=False)
    assert response.status_code == 303
    assert "expired=1" in response.headers["location"]


def test_after_an_expiry_logging_in_again_works(logged_in: Portal) -> None:
    logged_in.client.post("/_test/expire-sessions", json={})
    assert logged_in.client.get("/", follow_redirects=False).status_code == 303
    assert logged_in.login().status_code == 200
    assert logged_in.client.get("/services", follow_redirects=False).status_code == 200


def test_logout_needs_the_csrf_token_and_ends_the_session(logged_in: Portal) -> None:
    refused = logged_in.client.post("/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert logged_in.client.get("/services", follow_redirects=False).status_code == 200
    done = logged_in.client.post("/logout", data={"csrf_token": logged_in.csrf})
    assert "Vous êtes déconnecté." in done.text
    assert logged_in.client.get("/services", follow_redirects=False).status_code == 303
