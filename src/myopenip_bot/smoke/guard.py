"""The network guard of a read-only run: after login, nothing that could change data leaves
the page.

A portal may send a read with any method (a search posted as a form, a page turn or a
tab loaded by a POST), so the method alone proves nothing. GET and HEAD go through. Any
other request goes through only while the bot is doing an action that it announced as a
read (pages.reading: a search, a page turn, a tab, a link, a tick, opening the
dissociation dialog to read it, « Annuler »), and only to what that action may call:

- a POST (what a control sends: a form, or a script's search); never PUT, PATCH,
  DELETE, nor an OPTIONS no read of the bot's needs;
- sent by the page that announced the read, to that page's own origin (a portal's reads
  go to the portal; another tab, a frame of another site or a worker is not the read).

Such a request is recorded with that action; any other is aborted and recorded as a
violation. An allowance lasts exactly as long as its action: nothing stays armed after
it, whether it ended well or raised. « Valider » is never announced: had it been
clicked, its request would be a violation.

Service workers would send requests that no route sees: a read-only session blocks them
(BrowserSession(read_only=True)); one that starts on a guarded context all the same is
recorded as a violation.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog
from playwright.sync_api import BrowserContext, Error, Page, Request, Route, Worker

from myopenip_bot.pages import watch_reads

__all__ = ["NetworkGuard"]

log = structlog.get_logger(__name__)

READING = frozenset({"GET", "HEAD"})
# What a read's control may send besides a GET: a form's or a script's POST.
READ_WRITES = frozenset({"POST"})


@dataclass(frozen=True, eq=False)
class _Read:
    """One announced read in flight (identity matters: two reads may say the same)."""

    page: Page
    what: str


class NetworkGuard:
    """Install on a context with `install()`; read `violations` (aborted) and `allowed`
    (requests that are not GETs, each sent by an announced read) at the end."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.violations: list[str] = []
        self.allowed: list[str] = []
        self._reads: list[_Read] = []  # the announced reads under way, innermost last
        self._lock = threading.Lock()
        self._installed = False

    def install(self) -> None:
        if not self._installed:
            self.context.route("**/*", self._handle)
            self.context.on("serviceworker", self._service_worker)
            watch_reads(self.context, self.reading)
            self._installed = True

    @contextmanager
    def reading(self, page: Page, what: str) -> Iterator[None]:
        """While the bot does `what` on `page`, a read it announced: its requests may go."""
        read = _Read(page, what)
        with self._lock:
            self._reads.append(read)
        try:
            yield
        finally:
            with self._lock:
                self._reads = [other for other in self._reads if other is not read]

    def _handle(self, route: Route) -> None:
        request = route.request
        if request.method in READING:
            route.continue_()
            return
        with self._lock:
            during = self._reads[-1] if self._reads else None
        why = _refused(request, during)
        if why is None:
            assert during is not None
            self.allowed.append(f"{request.method} {request.url} ({during.what})")
            log.info(
                "read_request_allowed", method=request.method, url=request.url, during=during.what
            )
            route.continue_()
            return
        self.violations.append(f"{request.method} {request.url}")
        log.error("smoke_request_aborted", method=request.method, url=request.url, why=why)
        route.abort("blockedbyclient")

    def _service_worker(self, worker: Worker) -> None:
        # Its requests bypass every route: the run can no longer prove it changed nothing.
        self.violations.append(f"a service worker started: {worker.url}")
        log.error("smoke_service_worker", url=worker.url)


def _refused(request: Request, during: _Read | None) -> str | None:
    """Why `request` (not a GET) may not go while `during` is under way, or None."""
    if during is None:
        return "no read announced"
    if request.method not in READ_WRITES:
        return f"a read sends no {request.method}"
    try:
        sender = request.frame.page
    except Error:  # a worker's request: no frame
        return "not sent by a page"
    if sender is not during.page:
        return "not sent by the page that announced the read"
    if _origin(request.url) != _origin(during.page.url):
        return "not to the page's own origin"
    return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()
