"""The reads a page object announces, for whoever guards the network of a read-only run.

A read-only run (`myopenip find`, `myopenip smoke`) must change nothing, and a portal may
send its reads with any HTTP method: a search, a page turn or a tab may be a POST. So
the method proves nothing; what the bot was doing does. Every action of a page object
that only reads — a search, a page turn, a tab, a link to the next screen, a tick and
« Dissocier vos numéros » to read the dialog, « Annuler » — runs inside
`reading(page, what)`, from the click until the page has settled. A guard installed on
the page's browser context (smoke.guard) lets through what such an action may send
(a POST of that page to its own origin), and blocks any other request that is not a GET:
« Valider » is never announced.

Without a guard (a dissociation), `reading` does nothing.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from playwright.sync_api import BrowserContext, Page

__all__ = ["reading", "watch_reads", "watched"]

#: Given the page and what the bot is about to do on it, a context manager around the
#: time it does it.
Watcher = Callable[[Page, str], AbstractContextManager[None]]

_watchers: weakref.WeakKeyDictionary[BrowserContext, Watcher] = weakref.WeakKeyDictionary()


def watch_reads(context: BrowserContext, watcher: Watcher) -> None:
    """From now on, every read announced on a page of `context` is told to `watcher`."""
    _watchers[context] = watcher


def watched(page: Page) -> bool:
    """Whether a guard watches the reads of `page` (a read must then last until the page
    has settled: what the page loads by itself belongs to it)."""
    return page.context in _watchers


@contextmanager
def reading(page: Page, what: str) -> Iterator[None]:
    """Around an action that only reads (`what`, e.g. "searching FPC3671… in Groupements")."""
    watcher = _watchers.get(page.context)
    if watcher is None:
        yield
        return
    with watcher(page, what):
        yield
