"""One browser session of the bot: Chromium, a context that reuses the saved login, artifacts.

The saved login (Playwright storage state) lives in `settings.state_file`, readable by its
owner only, and is reused only for the same portal address and username. Tracing runs for
the whole session except while a login is typed, and every trace is redacted (cookie and
password values) before the session ends; a trace that still holds a secret is deleted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api._context_manager import PlaywrightContextManager

from myopenip_bot import artifacts
from myopenip_bot.browser import find_browser
from myopenip_bot.errors import TechnicalError
from myopenip_bot.logs import scrubber
from myopenip_bot.models import Target
from myopenip_bot.settings import Settings, TraceMode

log = structlog.get_logger(__name__)

_STATE_FORMAT = 1
ConfirmFn = Callable[[list[tuple[Target, str, str]], list[str]], bool]


def always_yes(plan: list[tuple[Target, str, str]], warnings: list[str]) -> bool:
    """The confirmation of `--yes` runs and of callers that confirmed beforehand."""
    return True


class StateFile:
    """The saved login for one portal address and username, private to its owner."""

    def __init__(self, path: Path, base_url: str, username: str) -> None:
        self.path = path.expanduser()
        self._key = {"base_url": base_url, "username": username}

    def load(self) -> dict[str, Any] | None:
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("session_state_unreadable", path=str(self.path), error=str(exc))
            return None
        if not isinstance(saved, dict) or saved.get("format") != _STATE_FORMAT:
            return None
        if {k: saved.get(k) for k in self._key} != self._key:
            log.info("session_state_not_reused", reason="other portal or username")
            return None
        state = saved.get("storage_state")
        return state if isinstance(state, dict) else None

    def save(self, storage_state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = json.dumps({"format": _STATE_FORMAT, **self._key, "storage_state": storage_state})
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.chmod(tmp, 0o600)  # in case the file existed with wider permissions
        tmp.replace(self.path)


class BotSession:
    """Context manager giving the runner a logged-in-capable page and hooks for artifacts."""

    def __init__(
        self,
        settings: Settings,
        *,
        label: str,
        browser: Browser | None = None,
        confirm: ConfirmFn = always_yes,
    ) -> None:
        username, password = settings.require_credentials()
        self.settings = settings
        self._label = label
        self._browser = browser
        self._owns_browser = browser is None
        self._playwright_cm: PlaywrightContextManager | None = None
        self._playwright: Playwright | None = None
        self._confirm = confirm
        self._password = password.get_secret_value()
        self._secrets: set[str] = {self._password}
        scrubber.add(self._password)
        self._state = StateFile(settings.state_file, settings.base_url, username)
        self._tracing = False
        self._chunks = 0
        self._shots = 0
        self.run_dir = artifacts.new_run_dir(settings.traces_dir, label)
        self.context: BrowserContext
        self.page: Page
        self.failed = False
        self.kept_dir: Path | None = None
        self._finished = False

    # -- lifetime -------------------------------------------------------------------------
    def __enter__(self) -> BotSession:
        try:
            if self._browser is None:
                launch = find_browser(self.settings.browser_path)
                log.info("browser_found", source=launch.source)
                self._playwright_cm = sync_playwright()
                self._playwright = self._playwright_cm.__enter__()
                self._browser = self._playwright.chromium.launch(
                    headless=self.settings.headless,
                    **launch.as_kwargs(),  # type: ignore[arg-type]
                )
            saved = self._state.load()
            self.context = self._browser.new_context(
                storage_state=saved,  # type: ignore[arg-type]
                locale="fr-FR",
                timezone_id="Europe/Paris",
                viewport={"width": 1366, "height": 900},
            )
            self.context.set_default_timeout(self.settings.timeout_ms)
            self.context.set_default_navigation_timeout(self.settings.navigation_timeout_ms)
            if self.settings.trace is not TraceMode.OFF:
                self.context.tracing.start(screenshots=True, snapshots=True, title=self._label)
                self._tracing = True
            self.page = self.context.new_page()
        except PlaywrightError as exc:
            self._close()
            raise TechnicalError(f"could not start the browser: {exc.message}") from exc
        except BaseException:
            self._close()
            raise
        log.info("session_started", run_dir=str(self.run_dir), reused_login=saved is not None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish(failed=self.failed or exc is not None)

    def finish(self, *, failed: bool) -> Path | None:
        """Save and redact the trace, drop it if the mode says so, close the browser.

        Returns the run folder if anything was kept in it (also in `kept_dir`). Idempotent.
        """
        if self._finished:
            return self.kept_dir
        self._finished = True
        try:
            self._remember_cookies()
            if self._tracing:
                self._stop_chunk()
                self.context.tracing.stop()
                self._tracing = False
        except PlaywrightError as exc:
            log.warning("trace_not_saved", error=exc.message)
        finally:
            self._close()
        keep = self.settings.trace is TraceMode.ON or (
            self.settings.trace is TraceMode.RETAIN_ON_FAILURE and failed
        )
        for trace in sorted(self.run_dir.glob("trace*.zip")):
            if not keep:
                trace.unlink()
                continue
            artifacts.redact_trace(trace, self._secrets)
            if artifacts.find_secrets(trace, self._secrets):
                trace.unlink()
                log.error("trace_discarded", reason="a secret survived redaction", trace=trace.name)
        artifacts.remove_if_empty(self.run_dir)
        self.kept_dir = self.run_dir if self.run_dir.exists() else None
        log.info("session_finished", run_dir=str(self.kept_dir or ""), trace_kept=keep)
        return self.kept_dir

    def _close(self) -> None:
        """Close what this session opened; a browser that is already gone is not an error."""
        with suppress(PlaywrightError):
            if hasattr(self, "context"):
                self.context.close()
        with suppress(PlaywrightError):
            if self._owns_browser and self._browser is not None:
                self._browser.close()
        if self._playwright_cm is not None:
            with suppress(PlaywrightError):
                self._playwright_cm.__exit__(None, None, None)
            self._playwright_cm = None

    # -- tracing ----------------------------------------------------------------------------
    def _stop_chunk(self) -> None:
        self._chunks += 1
        self.context.tracing.stop_chunk(path=self.run_dir / f"trace-{self._chunks}.zip")

    def _remember_cookies(self) -> None:
        try:
            values = {c["value"] for c in self.context.cookies() if c.get("value")}
        except (PlaywrightError, AttributeError):
            return
        self._secrets |= values
        scrubber.add(*values)

    # -- hooks for the runner ---------------------------------------------------------------
    @contextmanager
    def logging_in(self) -> Iterator[None]:
        """Pause tracing while credentials are typed; save the new login afterwards."""
        self._remember_cookies()
        paused = self._tracing
        if paused:
            self._stop_chunk()
        try:
            yield
        finally:
            if paused:
                self.context.tracing.start_chunk(title=self._label)
        self._remember_cookies()
        self._state.save(self.context.storage_state())  # type: ignore[arg-type]
        log.info("session_state_saved", path=str(self._state.path))

    def screenshot(self, page: Page, name: str) -> None:
        self._shots += 1
        path = self.run_dir / f"{self._shots:02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        log.info("screenshot_taken", path=str(path))

    def confirm(self, plan: list[tuple[Target, str, str]], warnings: list[str]) -> bool:
        return self._confirm(plan, warnings)
