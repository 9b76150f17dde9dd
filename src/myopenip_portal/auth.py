"""Sessions, CSRF tokens and account lockout, kept in memory (a restart logs everyone out).

A session lives `--session-ttl` seconds after login (an absolute lifetime, so a long bot
run meets an expiry however busy it is). Its CSRF token must accompany every POST. Login
itself is protected by a pre-session token: a cookie and the form's hidden field must match.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

SESSION_COOKIE = "myopenip_session"
LOGIN_COOKIE = "myopenip_login"  # the pre-session CSRF token of the login form
MAX_FAILED_LOGINS = 5


@dataclass
class Session:
    """A logged-in user."""

    token: str
    user: str
    csrf: str
    logged_in_at: float


@dataclass
class LoginResult:
    """The outcome of a login attempt: a session, or the alert to show."""

    session: Session | None = None
    message: str = ""


@dataclass
class SessionStore:
    """All sessions, the failed-login counters and the test API's expiry countdown."""

    # The seconds a session lives after its login, as now in force: a change at run time
    # (/_test/faults) applies to the sessions already open too.
    ttl: Callable[[], float]
    clock: Callable[[], float]
    sessions: dict[str, Session] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    # POST /_test/expire-sessions {"after_requests": N}: N more authenticated requests
    # are served, then every session dies.
    expire_countdown: int | None = None

    def reset(self) -> None:
        self.sessions.clear()
        self.failures.clear()
        self.expire_countdown = None

    def login(self, user: str, password: str, expected_password: str | None) -> LoginResult:
        """Check credentials, counting failures; a locked account refuses even the right one."""
        if self.failures.get(user, 0) >= MAX_FAILED_LOGINS:
            return LoginResult(message=_LOCKED)
        if expected_password is None or not hmac.compare_digest(
            password.encode(), expected_password.encode()
        ):
            if expected_password is None:
                return LoginResult(message="Identifiant ou mot de passe incorrect.")
            count = self.failures.get(user, 0) + 1
            self.failures[user] = count
            if count >= MAX_FAILED_LOGINS:
                return LoginResult(message=_LOCKED)
            left = MAX_FAILED_LOGINS - count
            return LoginResult(
                message="Identifiant ou mot de passe incorrect. "
                f"Il vous reste {left} tentative{'s' if left > 1 else ''} "
                "avant le verrouillage de votre compte."
            )
        self.failures.pop(user, None)
        session = Session(
            token=secrets.token_urlsafe(32),
            user=user,
            csrf=secrets.token_urlsafe(32),
            logged_in_at=self.clock(),
        )
        self.sessions[session.token] = session
        return LoginResult(session=session)

    def resolve(self, token: str | None) -> tuple[Session | None, bool]:
        """The session for a cookie, and whether a cookie was sent but is no longer valid.

        Every call with a valid session counts towards the test API's expiry countdown.
        """
        if not token:
            return None, False
        session = self.sessions.get(token)
        if session is None:
            return None, True
        if session.logged_in_at + self.ttl() <= self.clock():
            del self.sessions[token]
            return None, True
        if self.expire_countdown is not None:
            if self.expire_countdown <= 0:
                self.expire_countdown = None
                self.sessions.clear()
                return None, True
            self.expire_countdown -= 1
        return session, False

    def logout(self, token: str) -> None:
        self.sessions.pop(token, None)

    def expire_all(self, after_requests: int | None = None) -> None:
        if after_requests is None or after_requests <= 0:
            self.sessions.clear()
            self.expire_countdown = None
        else:
            self.expire_countdown = after_requests


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens; a missing one never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)


_LOCKED = (
    "Votre compte est verrouillé après 5 tentatives de connexion infructueuses. "
    "Contactez votre administrateur pour le débloquer."
)
