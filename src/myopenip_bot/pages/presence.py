"""Whether a screen shows a control, and when a page has settled: one decision for the
page objects and the smoke checks alike.

A page has *settled* when every request it sent is answered, nothing in it changed for a
moment, and nothing shows a loading state. A control is *present* when it shows at once,
or within a look, or within a second look once the page has settled; absent then, it
is absent — a drift, named in seconds and never retried. While looking, the portal's
login page (the session expired) and its error page (it failed) are told apart from a
drift: a failing portal is never a drift.

    Presence(page, selectors, timeout_ms=…)
      .look(control, step, scope, where)    the element, once visible, else Missing
      .shown(control, where, scope)         the same, held to what a check expects (one,
                                            enabled), candidates ranked by its neighbours
      .wait_settled(step)                   every request answered, still, not loading
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

from playwright.sync_api import Locator, Page, expect
from pydantic import BaseModel

from myopenip_bot.config.selectors import Control, Selectors, locate
from myopenip_bot.errors import (
    BrowserFailure,
    DriftError,
    SessionExpiredError,
    TechnicalError,
    TransientError,
)
from myopenip_bot.failures import best_effort, translating
from myopenip_bot.pages._closest import explain, named

__all__ = [
    "BESIDE_MS",
    "LOOK_MS",
    "PRESENT_MS",
    "QUIET_MS",
    "Missing",
    "Presence",
    "is_transient",
    "prepare_page",
    "visible_now",
]

DEFAULT_TIMEOUT_MS = 15_000.0

# Answers that say "try again later" rather than "no": a request that got one (or no
# answer at all) is transient. Page objects never retry: the portal layer's one retry
# policy redoes the whole step (portal.retry).
TRANSIENT_STATUSES = frozenset({408, 425, 429})

# How long the page must stay still (no DOM change, no request of its own under way) for
# what it shows to count as settled. Portals differ in how they render results; none
# needs to say "done": a still page whose requests are all answered is done.
QUIET_MS = 50
# How long a control may take to show once its page has settled (a menu opening, a
# dialog fading in): past this, the portal does not show it — a drift, said in seconds.
PRESENT_MS = 3_000
# A control is looked for this long, then once more as long when the page has settled
# (its requests answered, its DOM still): the settle covers a slow portal (however long
# its answers take), and the second look a control that lags behind its siblings
# (BESIDE_MS), so a control absent after both looks has drifted: said in about 2 s.
LOOK_MS = 1_000
# How long a control may lag behind its siblings: once a settled scope shows a button,
# another of its buttons that a person would see beside it is there within this.
BESIDE_MS = 1_000

# Installed in every page the bot drives (before the portal's own scripts): counts the
# page's fetch/XHR requests under way and notes the time of the last DOM change. It only
# observes; the portal's requests go through unchanged.
SETTLE_SCRIPT = """
(() => {
  if (window.__myopenipSettle) return;
  const state = { id: Math.random().toString(36).slice(2), last: performance.now(), open: [] };
  const touch = () => { state.last = performance.now(); };
  const track = () => {
    const t = performance.now();
    state.open.push(t);
    touch();
    return () => {
      const i = state.open.indexOf(t);
      if (i >= 0) state.open.splice(i, 1);
      touch();
    };
  };
  const fetch0 = window.fetch;
  if (fetch0) {
    window.fetch = function (...args) {
      const done = track();
      return fetch0.apply(this, args).then(
        (r) => { done(); return r; }, (e) => { done(); throw e; });
    };
  }
  const send0 = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    const done = track();
    this.addEventListener("loadend", done, { once: true });
    return send0.apply(this, args);
  };
  state.mark = () => [state.id, performance.now()];
  state.settled = (mark, quiet) => {
    const since = mark && mark[0] === state.id ? mark[1] : 0;
    const busy = state.open.some((t) => t >= since);
    return !busy && performance.now() - state.last >= quiet;
  };
  window.__myopenipSettle = state;
  new MutationObserver(touch).observe(document, {
    subtree: true, childList: true, characterData: true, attributes: true });
})();
"""

# Waits for that state; on a page without the script (not yet reloaded since the bot
# started), it watches DOM changes from now on and counts no request.
_SETTLED = """
([mark, quiet]) => {
  const state = window.__myopenipSettle;
  if (state) return state.settled(mark, quiet);
  if (!window.__myopenipQuiet) {
    const q = window.__myopenipQuiet = { last: performance.now() };
    new MutationObserver(() => { q.last = performance.now(); }).observe(document, {
      subtree: true, childList: true, characterData: true, attributes: true });
  }
  return performance.now() - window.__myopenipQuiet.last >= quiet;
}
"""

_prepared: weakref.WeakSet[Page] = weakref.WeakSet()

# The HTTP status the document on screen came with (null: not known).
_DOCUMENT_STATUS = """() => {
  const n = performance.getEntriesByType("navigation")[0];
  return n && n.responseStatus ? n.responseStatus : null;
}"""
# Given the error hints shown: how many, and the document's status.
_ERROR_PAGE = f"(shown) => [shown.length, ({_DOCUMENT_STATUS})()]"


def _status(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def prepare_page(page: Page) -> None:
    """Let the bot tell when `page` has settled, from its next load on (once per page)."""
    if page not in _prepared:
        page.add_init_script(SETTLE_SCRIPT)
        _prepared.add(page)


def is_transient(status: int) -> bool:
    """Whether an HTTP status means the portal failed rather than refused."""
    return status >= 500 or status in TRANSIENT_STATUSES


def visible_now(locator: Locator) -> bool:
    """Whether any element of `locator` is visible now (no waiting, no strictness)."""
    return locator.filter(visible=True).count() > 0


def expect_shown(locator: Locator, timeout_ms: float) -> None:
    """Wait until an element of `locator` is visible; AssertionError past `timeout_ms`.

    As `expect(locator).to_be_visible()`, without its strictness (several shown is
    shown), and at a fraction of its cost for what does not show at once: while its
    element is missing, each poll of `to_be_visible` writes an ARIA snapshot of the whole
    page for a failure message (Playwright 1.5x), and the bot's looks are often meant to
    find nothing for a while (the page still loading, the answer to come, a drift); a
    count assertion writes none.
    """
    expect(locator.filter(visible=True)).not_to_have_count(0, timeout=timeout_ms)


class Missing(DriftError):
    """A control not shown as the selectors say, once the page has settled: `detail` says
    how (absent, hidden, disabled, several where one is expected); for one that is absent,
    `control` (with its placeholders' `values`) is what was looked for and `candidates`
    what the screen shows instead, (role, name) the best first."""

    def __init__(
        self,
        key: str,
        detail: str,
        *,
        control: Control | None = None,
        values: dict[str, str] | None = None,
        candidates: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(key, detail)
        self.detail = detail
        self.control = control
        self.values = values or {}
        self.candidates = candidates


class Presence:
    """Looks and waits on one page, as `selectors` name its controls, within `timeout_ms`."""

    def __init__(
        self, page: Page, selectors: Selectors, *, timeout_ms: float = DEFAULT_TIMEOUT_MS
    ) -> None:
        self.page = page
        self.selectors = selectors
        self.timeout_ms = timeout_ms
        self._missing: set[tuple[object, ...]] = set()  # controls found missing, with values

    @property
    def login_heading(self) -> Locator:
        return locate(self.page, self.selectors.login.heading)

    @property
    def technical_error(self) -> Locator:
        return self.page.get_by_text(self.selectors.hints.technical_error)

    # -- presence -------------------------------------------------------------------

    def look(
        self,
        control: Control,
        step: str,
        scope: Page | Locator | None = None,
        where: str = "",
        *,
        beside: bool = False,
        near: Sequence[Control] = (),
        expired: bool = True,
        values: dict[str, str] | None = None,
    ) -> Locator:
        """The element `control` finds, once visible; raise if the login or an error page
        shows instead, and Missing when the page has settled without it.

        `beside`: the control sits beside what the bot has just used on a screen already
        settled (« Actions » beside the results it ticked, an item of the menu it opened):
        it is looked for once, after the page settles, for BESIDE_MS (a drift said in
        about 1 s, not 2). `near`: its neighbours, to rank what shows instead (see
        pages._closest). `expired`: whether the login page means the session expired
        (not on the login page itself). `values` fill the control's placeholders. A
        control found missing before on this page is not looked for again: once the page
        has settled, it shows or it does not.
        """
        values = values or {}
        expected = locate(self.page if scope is None else scope, control, **values)
        if visible_now(expected):  # one query: most controls are there at the first look
            return expected
        # `.first`: we wait for whichever of these shows first; nothing is acted upon.
        anything = expected.or_(self.login_heading) if expired else expected
        anything = anything.or_(self.technical_error).filter(visible=True).first
        memo = (id(control), *values.items())
        if memo in self._missing:  # missing before: once the page has settled, or not at all
            looks: tuple[tuple[bool, float], ...] = ((True, 0),)
        elif beside:
            looks = ((True, BESIDE_MS),)
        else:
            looks = ((False, LOOK_MS), (True, LOOK_MS))
        for wait_settled, look_ms in looks:
            if wait_settled:  # not yet: once every request is answered, a little more
                self.wait_settled(step)
            if self._within(anything, look_ms):
                break
            self._raise_for(step, expired)
        else:
            self._missing.add(memo)
            here = where or f"({step})"
            absence = explain(scope or self.page, control, here, LOOK_MS, near=near, values=values)
            raise Missing(
                self.selectors.key_of(control),
                absence.message,
                control=control,
                values=values,
                candidates=absence.candidates,
            )
        if not visible_now(expected):
            self._raise_for(step, expired)
        return expected

    def shown(
        self,
        control: Control,
        where: str,
        scope: Page | Locator | None = None,
        *,
        enabled: bool = False,
        one: bool = True,
        beside: bool = False,
        values: dict[str, str] | None = None,
    ) -> Locator:
        """The visible element(s) `control` finds in `scope`, held to what a check of the
        screen expects: one (unless `one` is false), enabled too with `enabled`; Missing
        otherwise, naming what shows instead, ranked by the control's neighbours. (The
        login page's own controls are looked for on it: there, it is no expired session.)"""
        key = self.selectors.key_of(control)
        found = self.look(
            control,
            where,
            scope,
            where,
            beside=beside,
            near=self.neighbours(control),
            expired=not key.startswith("login."),
            values=values,
        ).filter(visible=True)
        values = values or {}
        count = found.count()
        if one and count > 1:
            raise Missing(
                key, f"{count} elements are {named(control, **values)} {where}; one expected"
            )
        if enabled and found.first.is_disabled():
            raise Missing(key, f"{named(control, **values)} present but disabled {where}")
        return found

    def shown_all(
        self,
        controls: Sequence[tuple[Control, dict[str, str]]],
        where: str,
        scope: Page | Locator | None = None,
    ) -> None:
        """Every one of `controls` (each with its placeholders' values) shows in `scope`:
        counted at once, else looked for one by one (`shown`) to name the first missing."""
        if not controls:
            return
        root = self.page if scope is None else scope
        located = [locate(root, control, **values) for control, values in controls]
        every = located[0]
        for locator in located[1:]:
            every = every.or_(locator)
        if every.filter(visible=True).count() == len(controls):  # one query, most often
            return
        for control, values in controls:
            self.shown(control, where, scope, values=values)

    def shows(self, locator: Locator, step: str) -> bool:
        """Whether `locator` shows something: at once, within a look, or within a second
        look once the page has settled."""
        shown = locator.filter(visible=True).first
        if visible_now(shown) or self._within(shown, LOOK_MS):
            return True
        self.wait_settled(step)
        return self._within(shown, LOOK_MS)

    def _within(self, locator: Locator, look_ms: float) -> bool:
        """Whether `locator` is visible within `look_ms` (0: now, without waiting)."""
        if look_ms <= 0:
            return visible_now(locator)
        try:
            expect_shown(locator, min(self.timeout_ms, look_ms))
        except AssertionError:
            return False
        return True

    def neighbours(self, control: Control) -> tuple[Control, ...]:
        """The other controls of `control`'s section of selectors/: what is known to be
        near it on its screen (they rank the candidates of a control that is gone)."""
        section = getattr(self.selectors, self.selectors.key_of(control).split(".")[0], None)
        if not isinstance(section, BaseModel):
            return ()
        return tuple(other for other in _controls(section) if other is not control)

    # -- what the page is -----------------------------------------------------------

    def _raise_for(self, step: str, expired: bool) -> None:
        if expired:
            self.raise_for_page(step)
        else:
            self.raise_for_error_page(step)

    def raise_for_page(self, step: str) -> None:
        """Raise SessionExpiredError or TechnicalError if the page is the login or an error page."""
        if visible_now(self.login_heading):
            raise SessionExpiredError(f"{step}: the portal showed its login page")
        self.raise_for_error_page(step)

    def raise_for_error_page(self, step: str) -> None:
        """Raise TechnicalError if the page is the portal's error page: its wording says so
        (a hint), or the page itself came with a 5xx (whatever it says: another portal's
        error page reads otherwise, and a failing portal is never a drift)."""
        # Both in one call, as the page is now (the smoke asks after each of its checks).
        both = best_effort(
            lambda: self.technical_error.filter(visible=True).evaluate_all(_ERROR_PAGE), None
        )
        if isinstance(both, list) and len(both) == 2:
            hint_shown, status = bool(both[0]), _status(both[1])
        else:  # a page being replaced meanwhile: asked again, one at a time
            hint_shown = visible_now(self.technical_error)
            status = None if hint_shown else self.document_status()
        if hint_shown:
            raise TechnicalError(
                f"{step}: the portal answered {self.selectors.hints.technical_error!r}"
            )
        if status is not None and is_transient(status):
            raise TransientError(f"{step}: the portal answered HTTP {status} (its error page)")

    def document_status(self) -> int | None:
        """The HTTP status the page on screen came with (None: not known)."""
        # None from a page being replaced: the next look decides.
        return _status(best_effort(lambda: self.page.evaluate(_DOCUMENT_STATUS), None))

    def require(self, check: Callable[[], None], step: str, what: str) -> None:
        """Run a web-first assertion; a failure is the login page, an error page, or a timeout."""
        try:
            check()
        except AssertionError:
            self.raise_for_page(step)
            raise TechnicalError(
                f"{step}: {what} did not happen within {self.timeout_ms / 1000:g} s"
            ) from None

    # -- settling -------------------------------------------------------------------

    def mark(self) -> Any:
        """A point in the page's life: requests sent after it count for `wait_settled`."""
        # None from a page being replaced: the next one counts from its start.
        return best_effort(
            lambda: self.page.evaluate(
                "() => window.__myopenipSettle ? window.__myopenipSettle.mark() : null"
            ),
            None,
        )

    def wait_settled(
        self,
        step: str,
        mark: Any = None,
        scope: Page | Locator | None = None,
        *,
        quiet_ms: int = QUIET_MS,
    ) -> None:
        """Wait until the page has settled: every request it sent since `mark` answered,
        nothing changed for `quiet_ms`, and nothing shows a loading state.

        No text needs to say "done": a loading sentence is only a hint, while aria-busy
        and a progressbar are ARIA states any portal may use.
        """
        try:
            with translating(step):
                self.page.wait_for_function(
                    _SETTLED, arg=[mark, quiet_ms], timeout=self.timeout_ms, polling="raf"
                )
        except BrowserFailure as failure:
            self.raise_for_page(step)
            raise TechnicalError(
                f"{step}: the page did not settle within {self.timeout_ms / 1000:g} s "
                f"({failure.why})"
            ) from None
        self.wait_loaded(scope or self.page, step)

    def wait_loaded(self, scope: Page | Locator, step: str) -> None:
        """Wait until nothing in `scope` shows a loading state (aria-busy, a progressbar,
        or the loading hint text)."""
        loading = (
            scope.get_by_text(self.selectors.hints.loading)
            .or_(scope.locator("[aria-busy='true']"))  # an ARIA state, not a style hook
            .or_(scope.get_by_role("progressbar"))
        )
        self.require(
            lambda: expect(loading.filter(visible=True)).to_have_count(0, timeout=self.timeout_ms),
            step,
            "the end of loading",
        )


def _controls(model: BaseModel) -> list[Control]:
    """Every control of a section of selectors/, in the file's order."""
    found: list[Control] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value.values() if isinstance(value, dict) else value
        for item in items if isinstance(value, dict | tuple) else (value,):
            if isinstance(item, Control):
                found.append(item)
    return found
