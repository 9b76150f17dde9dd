"""Resolves the session cookie once per request, before any route runs.

Doing it here (not in each route) makes every request that carries a valid session count
exactly once towards `POST /_test/expire-sessions {"after_requests": N}`. Static files
and the test API are left out: they neither need nor consume a session.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from myopenip_portal.auth import SESSION_COOKIE, SessionStore

_SKIPPED = ("/static/", "/_test/")


class SessionMiddleware:
    """Puts `session` (or None) and `session_expired` into the request's state."""

    def __init__(self, app: ASGIApp, store: SessionStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(_SKIPPED):
            session, expired = self.store.resolve(_cookie(scope, SESSION_COOKIE))
            state = scope.setdefault("state", {})
            state["session"] = session
            state["session_expired"] = expired
        await self.app(scope, receive, send)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is simply no session
                return None
            if name in jar:
                return jar[name].value
    return None
