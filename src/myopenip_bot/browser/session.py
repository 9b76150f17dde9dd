"""One browser session of the bot: Chromium, a context that reuses the saved login, artifacts.

Secrets at rest, in the order they are defended:

1. The password is typed in a separate browser context that is never traced; only its
   cookies are handed to the run's context. The password is removed from the process
   environment before the driver and Chromium start, so they never inherit it.
2. Playwright's and Chromium's working files (the trace being recorded, with every
   cookie header; the browser profile, with its cookie database) live in a private
   `WorkArea` (mode 700), removed when the session ends, and by the next run after a
   SIGKILL.
3. A trace is kept only as a copy redacted from the raw one (cookie headers blanked,
   the password and cookie values replaced); a copy that still holds a secret is deleted.
4. Run folders are created readable by their owner only.

The saved login (Playwright storage state) lives in `settings.state_file`, mode 600 in a
private folder, and is reused only for the same portal address and username: it is the
one file that holds a live session on purpose (`MYOPENIP_SAVE_SESSION=false` turns it off).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import structlog
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api._context_manager import PlaywrightContextManager

from myopenip_bot.browser import artifacts
from myopenip_bot.browser.launch import detached_driver, find_browser, node_compile_cache
from myopenip_bot.browser.login import cookie_secrets, untraced_login
from myopenip_bot.browser.state import StateFile
from myopenip_bot.browser.workdir import WorkArea
from myopenip_bot.config.logs import RunLog
from myopenip_bot.config.selectors import Selectors
from myopenip_bot.config.settings import Settings, TraceMode, forget_password_environment
from myopenip_bot.errors import (
    BrowserFailure,
    BrowserNotFoundError,
    SettingsError,
    TechnicalError,
)
from myopenip_bot.failures import best_effort, translated, translating
from myopenip_bot.files import safe_name
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.portal.portal import Portal

log = structlog.get_logger(__name__)

TRACE_NAME = "trace.zip"
# The process environment is changed while a driver starts: one start at a time.
_LAUNCH_LOCK = threading.Lock()


class BotSession:
    """Context manager giving the runner a page, a private login, and hooks for artifacts."""

    def __init__(
        self,
        settings: Settings,
        *,
        label: str,
        browser: Browser | None = None,
        reuse_login: bool = True,
        run_log: RunLog | None = None,
        read_only: bool = False,
    ) -> None:
        username, password = settings.require_credentials()
        self.settings = settings
        self._label = label
        self._browser = browser
        self._owns_browser = browser is None
        self._playwright_cm: PlaywrightContextManager | None = None
        self._playwright: Playwright | None = None
        self._password = password.get_secret_value()
        self._cookies: set[str] = set()
        # The run's, when the caller runs one (a batch: every worker's, one file); else the
        # session's own, bound until it finishes.
        self._own_log = ExitStack()
        if run_log is None:
            run_log = RunLog()
            self._own_log.callback(run_log.close)
            self._own_log.enter_context(run_log.bound())
        self.run_log = run_log
        run_log.forbid(self._password)
        self._state = StateFile(settings.state_file, settings.base_url, username)
        self._save_session = settings.save_session
        self._reuse_login = reuse_login and settings.save_session
        # A read-only run (find, smoke) guards its network by routes (smoke.guard), which a
        # service worker's requests would bypass: its contexts allow none.
        self._service_workers: Literal["allow", "block"] = "block" if read_only else "allow"
        self._read_only = read_only
        #: the first login is typed on the run's own page (see __enter__)
        self._login_here = False
        self._tracing = False
        self._shots = 0
        try:
            self.work = WorkArea.open(settings.work_dir)
            self.run_dir = artifacts.new_run_dir(settings.traces_dir, label)
            run_log.open(self.run_dir)  # unless a batch's report has it
        except OSError as error:
            if hasattr(self, "work"):
                self.work.close()
            self._own_log.close()
            raise SettingsError(f"cannot create the bot's private folders: {error}") from None
        self.context: BrowserContext
        self.page: Page
        self.failed = False
        self.kept_dir: Path | None = None
        self._finished = False

    @property
    def secrets(self) -> set[str]:
        """The password and every session cookie value seen so far."""
        return {self._password} | self._cookies

    # -- lifetime -------------------------------------------------------------------------
    def __enter__(self) -> BotSession:
        try:
            with translating():
                if self._browser is None:
                    self._browser = self._launch()
                saved = self._state.load() if self._reuse_login else None
                self.context = self._new_context(storage_state=saved)
                self._start_tracing()
                self.page = self.context.new_page()
                # No saved login: the portal's first step will be to log in (see portal()).
                self._login_here = saved is None and not self._read_only
        except BrowserFailure as failure:
            self._close()
            self.work.close()
            self._own_log.close()
            raise TechnicalError(f"could not start the browser: {failure.why}") from None
        except BaseException:
            self._close()
            self.work.close()
            self._own_log.close()
            raise
        log.info("session_started", run_dir=str(self.run_dir), reused_login=saved is not None)
        return self

    def _launch(self) -> Browser:
        """Start Playwright's driver and Chromium with private working files and no password.

        With MYOPENIP_BROWSER_ENDPOINT, connect to that browser server instead (its
        working files are the server's: start it with a private TMPDIR too).
        """
        endpoint = self.settings.browser_endpoint
        forget_password_environment()  # never inherited by the driver
        # Workers start their own driver, one at a time: the environment is the process's,
        # and the wrapper is written while it names no other worker's wrapper.
        with _LAUNCH_LOCK:
            overrides = {"TMPDIR": str(self.work.tmp), "TMP": str(self.work.tmp)}
            wrapper = detached_driver(self.work.path)
            if wrapper is not None:
                overrides["PLAYWRIGHT_NODEJS_PATH"] = wrapper
            compile_cache = node_compile_cache()
            if compile_cache is not None:
                overrides["NODE_COMPILE_CACHE"] = compile_cache
            with _environment(overrides):
                launch = (
                    None
                    if endpoint
                    else find_browser(self.settings.browser_path, headless=self.settings.headless)
                )
                log.info("browser_found", source=endpoint or (launch.source if launch else ""))
                self._playwright_cm = sync_playwright()
                playwright = self._playwright = self._playwright_cm.__enter__()
        if endpoint:
            try:
                return translated(
                    None,
                    lambda: playwright.chromium.connect(
                        endpoint, timeout=self.settings.navigation_timeout_ms
                    ),
                )
            except BrowserFailure as failure:
                raise TechnicalError(
                    f"cannot reach the browser server MYOPENIP_BROWSER_ENDPOINT={endpoint}: "
                    f"{failure.why}"
                ) from None
        assert launch is not None
        try:
            return translated(
                None,
                lambda: playwright.chromium.launch(
                    headless=self.settings.headless,
                    traces_dir=self.work.traces,
                    handle_sigint=False,
                    handle_sigterm=False,
                    handle_sighup=False,
                    **launch.as_kwargs(),  # type: ignore[arg-type]
                ),
            )
        except BrowserFailure as failure:
            # Not a browser, or one that cannot start here: a setting to fix, in one line.
            raise BrowserNotFoundError(
                f"the browser {launch.executable_path or ''} ({launch.source}) did not start: "
                f"{failure.why}"
                " (set MYOPENIP_BROWSER_PATH to a Chromium or Chrome binary)"
            ) from None

    def _new_context(self, storage_state: dict[str, Any] | None = None) -> BrowserContext:
        assert self._browser is not None
        context = self._browser.new_context(
            storage_state=storage_state,  # type: ignore[arg-type]
            locale="fr-FR",
            timezone_id="Europe/Paris",
            viewport={"width": 1366, "height": 900},
            service_workers=self._service_workers,
        )
        context.set_default_timeout(self.settings.timeout_ms)
        context.set_default_navigation_timeout(self.settings.navigation_timeout_ms)
        return context

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish(failed=self.failed or exc is not None)

    def finish(self, *, failed: bool) -> Path | None:
        """Stop tracing, close the browser, keep a redacted trace if the mode says so.

        Returns the run folder if anything was kept in it (also in `kept_dir`). The
        working area is removed whatever happens. Idempotent.
        """
        if self._finished:
            return self.kept_dir
        self._finished = True
        raw = self.work.traces / TRACE_NAME
        keep = self.settings.trace is TraceMode.ON or (
            self.settings.trace is TraceMode.RETAIN_ON_FAILURE and failed
        )
        try:
            try:
                if hasattr(self, "context"):  # not when the browser did not start
                    best_effort(lambda: self._save_trace(raw), None, event="trace_not_saved")
            finally:
                self._close()
            if keep and raw.is_file():
                self._keep_trace(raw)
        finally:
            self.work.close()
        # The folder stays, even empty: result.json goes there whatever happened.
        self.kept_dir = self.run_dir if self.run_dir.exists() else None
        log.info("session_finished", run_dir=str(self.kept_dir or ""), trace_kept=keep)
        self._own_log.close()
        return self.kept_dir

    def _keep_trace(self, raw: Path) -> None:
        target = self.run_dir / TRACE_NAME
        artifacts.redact_trace(raw, target, self.secrets)
        if artifacts.find_secrets(target, self.secrets):
            target.unlink()
            log.error("trace_discarded", reason="a secret survived redaction", trace=target.name)

    def _start_tracing(self) -> None:
        if self.settings.trace is not TraceMode.OFF and not self._tracing:
            self.context.tracing.start(screenshots=True, snapshots=True, title=self._label)
            self._tracing = True

    def _save_trace(self, raw: Path) -> None:
        self._remember_cookies(self.context)
        if self._tracing:
            self._tracing = False
            self.context.tracing.stop(path=raw)

    def _close(self) -> None:
        """Close what this session opened; a browser that is already gone is not an error."""
        if hasattr(self, "context"):
            best_effort(self.context.close, None)
        if self._owns_browser and self._browser is not None:
            best_effort(self._browser.close, None)
        if self._playwright_cm is not None:
            playwright = self._playwright_cm
            best_effort(lambda: playwright.__exit__(None, None, None), None)
            self._playwright_cm = None

    def _remember(self, values: set[str]) -> None:
        self._cookies |= values
        self.run_log.forbid(*values)

    def _remember_cookies(self, context: BrowserContext) -> None:
        self._remember(cookie_secrets(context))

    # -- what the portal and the runner use ------------------------------------------------
    def portal(
        self,
        selectors: Selectors,
        stop: StopSignal | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> Portal:
        """The portal on this session's page, logging in through `logging_in`.

        Without a saved login, the portal's first step is to log in: it does so on the
        run's own page, before anything records that page (the trace, started empty with
        the session, starts again once the login is over): no second context, and no
        page loaded twice. A read-only run's page is guarded against writes
        (smoke.guard), so its login stays in a context of its own, as every later login
        does."""
        if (
            self._login_here
            and self.page.url == "about:blank"
            and not best_effort(self.context.cookies, [])  # none handed over (a batch's)
        ):
            if self._tracing:
                self._tracing = False
                best_effort(self.context.tracing.stop, None, event="trace_not_stopped")
        else:
            self._login_here = False
        return Portal(
            self.page,
            selectors,
            self.settings,
            stop=stop,
            login_page=self.logging_in,
            on_step=on_step,
            startup=True,
        )

    @contextmanager
    def logging_in(self, page: Page) -> Iterator[Page]:
        """Yield a page to log in on, and save the login for the next run (unless
        MYOPENIP_SAVE_SESSION=false): the first login of a run without a saved one,
        `page` itself, which nothing records yet (the trace starts after it, whatever
        the login's outcome); any other, a page of a fresh, untraced context, whose
        cookies are handed over once logged in."""
        self._remember_cookies(self.context)
        if self._login_here:  # the first login of a portal (see portal())
            self._login_here = False
            try:
                yield page
            finally:
                self._remember_cookies(self.context)
                best_effort(self._start_tracing, None, event="trace_not_started")
        else:
            with untraced_login(self._new_context, self.context, self._remember) as login_page:
                yield login_page
        if self._save_session:
            self._state.save(self.context.storage_state())  # type: ignore[arg-type]
            log.info("session_state_saved", path=str(self._state.path))

    def screenshot(self, page: Page, name: str) -> Path | None:
        """Keep a screenshot of `page` in the run folder, numbered in order (`name`, which
        may hold a service ref of any shape, made safe as a file name: files.safe_name)."""
        self._shots += 1
        return artifacts.screenshot(
            page, self.run_dir / f"{self._shots:02d}-{safe_name(name, 'screen')}.png"
        )


@contextmanager
def _environment(overrides: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block (a child started in it inherits them)."""
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
