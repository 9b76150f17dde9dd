"""The smoke's network guard: after login, nothing that could change data leaves the page.

GET and HEAD requests go through. Any other request is aborted and recorded as a
violation, except the one the smoke announces before opening the dissociation dialog
(the portal may ask, with a POST, what the dialog will list): `allow_one()` lets exactly
one such request through, within the dialog's opening. « Valider » would be a second one.
"""

from __future__ import annotations

import threading

import structlog
from playwright.sync_api import BrowserContext, Route

__all__ = ["NetworkGuard"]

log = structlog.get_logger(__name__)

READING = frozenset({"GET", "HEAD", "OPTIONS"})


class NetworkGuard:
    """Install on a context with `install()`; read `violations` at the end."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.violations: list[str] = []
        self._allowance = 0
        self._lock = threading.Lock()
        self._installed = False

    def install(self) -> None:
        if not self._installed:
            self.context.route("**/*", self._handle)
            self._installed = True

    def allow_one(self) -> None:
        """The next request that is not a read may go (the dialog's preview), only it."""
        with self._lock:
            self._allowance = 1

    def _handle(self, route: Route) -> None:
        request = route.request
        if request.method in READING:
            route.continue_()
            return
        with self._lock:
            allowed = self._allowance > 0
            self._allowance = 0
        if allowed:
            log.info("smoke_request_allowed", method=request.method, url=request.url)
            route.continue_()
            return
        self.violations.append(f"{request.method} {request.url}")
        log.error("smoke_request_aborted", method=request.method, url=request.url)
        route.abort("blockedbyclient")
