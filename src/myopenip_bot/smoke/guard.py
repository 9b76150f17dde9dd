"""The network guard of a read-only run: after login, nothing that could change data leaves
the page.

A portal may send a read with any method (a search posted as a form, a page turn or a
tab loaded by a POST), so the method alone proves nothing. GET, HEAD and OPTIONS go
through. Any other request goes through only while the bot is doing an action that it
announced as a read (pages.reading: a search, a page turn, a tab, a link, a tick,
opening the dissociation dialog to read it, « Annuler »), and is recorded with that
action; any other is aborted and recorded as a violation. « Valider » is never announced:
had it been clicked, its request would be one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from playwright.sync_api import BrowserContext, Route

from myopenip_bot.pages import watch_reads

__all__ = ["NetworkGuard"]

log = structlog.get_logger(__name__)

READING = frozenset({"GET", "HEAD", "OPTIONS"})


class NetworkGuard:
    """Install on a context with `install()`; read `violations` (aborted) and `allowed`
    (requests that are not GETs, each sent by an announced read) at the end."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.violations: list[str] = []
        self.allowed: list[str] = []
        self._reads: list[str] = []  # the announced reads under way, innermost last
        self._lock = threading.Lock()
        self._installed = False

    def install(self) -> None:
        if not self._installed:
            self.context.route("**/*", self._handle)
            watch_reads(self.context, self.reading)
            self._installed = True

    @contextmanager
    def reading(self, what: str) -> Iterator[None]:
        """While the bot does `what`, a read it announced: its requests may go."""
        with self._lock:
            self._reads.append(what)
        try:
            yield
        finally:
            with self._lock:
                self._reads.remove(what)

    def _handle(self, route: Route) -> None:
        request = route.request
        if request.method in READING:
            route.continue_()
            return
        with self._lock:
            during = self._reads[-1] if self._reads else None
        if during is not None:
            self.allowed.append(f"{request.method} {request.url} ({during})")
            log.info("read_request_allowed", method=request.method, url=request.url, during=during)
            route.continue_()
            return
        self.violations.append(f"{request.method} {request.url}")
        log.error("smoke_request_aborted", method=request.method, url=request.url)
        route.abort("blockedbyclient")
