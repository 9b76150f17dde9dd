"""The read-only guard (smoke.guard) on the replica, in each markup and under each quirk:
a request that could change data leaves the page only while a read is announced, only
as a POST of that page to its own origin; never after the read, never from elsewhere.

One logged-in page per markup: each quirk is switched on, the service's page opened
through the page objects (their reads announced), then the page itself tries every write
it could send outside a read, « Valider »'s own request first.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from e2e_support import SERVICE, replica_settings
from playwright.sync_api import Browser, Page
from structlog.testing import capture_logs

from myopenip.replica import Replica
from myopenip_bot.browser.session import BotSession
from myopenip_bot.config.selectors import Selectors
from myopenip_bot.pages import reading
from myopenip_bot.portal.portal import Portal
from myopenip_bot.smoke.guard import NetworkGuard
from myopenip_portal.markup import MARKUPS
from myopenip_portal.quirks import SWITCHES

pytestmark = pytest.mark.browser

# Every quirk of the replica (page-size and late-completion with a value), and none.
QUIRKS = [(), *((name,) for name in SWITCHES), ("page-size=5",), ("late-completion=1",)]
# The page's own session token (the classic markup's meta, the other's hidden field).
TOKEN = (
    "(document.querySelector('meta[name=\"csrf-token\"]') || {}).content"
    " || (document.querySelector('form input[type=\"hidden\"]') || {}).value || ''"
)
# Each write the page could send, sent by the page itself: 'sent' or 'aborted' each.
WRITES = """async ([dissociate, preview, licences, logout, token]) => {
  const headers = {'content-type': 'application/json', 'x-csrf-token': token};
  const body = JSON.stringify({licences: [{ref: 'FPC367128', keep: false}]});
  const tries = [
    [dissociate, {method: 'POST', headers, body}],
    [preview, {method: 'POST', headers, body}],
    [licences, {method: 'POST', headers, body: '{}'}],
    [dissociate, {method: 'PUT', headers, body}],
    [dissociate, {method: 'DELETE', headers}],
    [logout, {method: 'POST', headers}],
  ];
  const answers = [];
  for (const [url, init] of tries) {
    answers.push(await fetch(url, init).then(() => 'sent', () => 'aborted'));
  }
  return answers;
}"""


MC_REF = "MC-004217"  # SERVICE, under the quirk mc-refs
# A service worker that would see every request of its pages.
WORKER = "self.addEventListener('fetch', () => {});"
JS = {"status": 200, "content_type": "application/javascript"}


def logged_in(page: Page, selectors: Selectors, replica: Replica) -> Portal:
    portal = Portal(page, selectors, replica_settings(replica, timeout_ms=10_000))
    portal.step("logging in", portal.open_portal)
    return portal


def writes(page: Page, markup: str, ref: str = SERVICE) -> list[str]:
    paths = MARKUPS[markup]
    urls = [
        path.format(ref=ref)
        for path in (paths.api_dissociate, paths.api_preview, paths.api_licences)
    ]
    answers: list[str] = page.evaluate(WRITES, [*urls, paths.logout_path, page.evaluate(TOKEN)])
    return answers


@pytest.mark.twin(
    "tests/commands/test_smoke.py::test_the_network_guard_aborts_any_request_that_is_not_a_read",
    "tests/commands/test_smoke.py::test_the_guard_lets_through_what_an_announced_read_sends_and_nothing_else",
    "tests/e2e/test_guard.py::test_an_allowance_ends_with_its_read_and_covers_only_that_page_and_its_origin",
)
def test_a_write_outside_a_read_is_aborted_on_every_markup_and_quirk(
    page: Page, replica: Replica, selectors: Selectors, markup: str
) -> None:
    portal = logged_in(page, selectors, replica)
    before = replica.state()["licences"]
    guard = NetworkGuard(page.context)
    guard.install()
    answers = {}
    for quirks in QUIRKS:
        replica.quirks(*quirks)
        ref = MC_REF if "mc-refs" in quirks else SERVICE
        services, _ = portal.step("finding the service", partial(portal.find_service, ref))
        portal.open_found(services, ref)  # the page objects' reads, each announced
        answers[quirks] = writes(portal.page, markup, ref)  # (a tab it renewed: same context)
    replica.quirks()
    page = portal.page

    assert answers == {quirks: ["aborted"] * 6 for quirks in QUIRKS}
    assert len(guard.violations) == 6 * len(QUIRKS)
    assert replica.submitted() == []  # no « Valider » reached the back end
    assert replica.state()["licences"] == before
    # The same dissociation, sent by the page inside an announced read (what the guard
    # cannot tell from a search posted as a form), does reach it: the writes were real.
    with reading(page, "a read"):
        assert writes(page, markup)[0] == "sent"
    assert replica.submitted() != []


def test_an_allowance_ends_with_its_read_and_covers_only_that_page_and_its_origin(
    browser: Browser, page: Page, replica: Replica, selectors: Selectors, markup: str
) -> None:
    logged_in(page, selectors, replica)
    guard = NetworkGuard(page.context)
    guard.install()
    other = page.context.new_page()
    other.goto(replica.url)
    post = "(url) => fetch(url, {method: 'POST'}).then(() => 'sent', () => 'aborted')"
    put = "(url) => fetch(url, {method: 'PUT'}).then(() => 'sent', () => 'aborted')"
    elsewhere = replica.url.replace("127.0.0.1", "localhost") + "/nowhere"

    with pytest.raises(RuntimeError), reading(page, "a search that fails"):
        raise RuntimeError("the read failed")
    after_failure = page.evaluate(post, "/nowhere")  # nothing left armed
    with reading(page, "searching FPC367128 in Groupements"):
        during = {
            "post": page.evaluate(post, "/nowhere"),
            "put": page.evaluate(put, "/nowhere"),
            "another tab": other.evaluate(post, "/nowhere"),
            "another origin": page.evaluate(post, elsewhere),
        }
    after = page.evaluate(post, "/nowhere")

    assert after_failure == after == "aborted"
    assert during == {
        "post": "sent",
        "put": "aborted",
        "another tab": "aborted",
        "another origin": "aborted",
    }
    assert guard.allowed == [f"POST {replica.url}/nowhere (searching FPC367128 in Groupements)"]
    assert [v.split(" ")[0] for v in guard.violations] == ["POST", "PUT", "POST", "POST", "POST"]


def test_a_read_only_session_blocks_service_workers_and_the_guard_reports_any(
    browser: Browser, replica: Replica, tmp_path: Path
) -> None:
    """Their requests would bypass every route of the guard: a find or a smoke has none;
    one that starts all the same on a guarded context is a violation."""
    register = (
        "() => navigator.serviceWorker.register('/sw.js')"
        ".then(() => navigator.serviceWorker.getRegistrations()).then((found) => found.length)"
    )
    registered, violations = {}, {}
    for read_only in (True, False):
        settings = replica_settings(
            replica,
            traces_dir=tmp_path / "traces",
            work_dir=tmp_path / "work",
            state_file=tmp_path / "private" / "state.json",
            save_session=False,
        )
        session = BotSession(settings, label="guard", browser=browser, read_only=read_only)
        with capture_logs(), session:
            guard = NetworkGuard(session.context)
            guard.install()
            session.context.route("**/sw.js", lambda route: route.fulfill(body=WORKER, **JS))
            session.page.goto(replica.url)
            registered[read_only] = session.page.evaluate(register)
            if read_only is False:  # once it runs, the guard is told
                session.page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
            violations[read_only] = [v.split(":")[0] for v in guard.violations]

    assert registered == {True: 0, False: 1}
    assert violations == {True: [], False: ["a service worker started"]}
