"""Screen 1, the login page: "Connectez-vous à MyOpenIP"."""

from __future__ import annotations

import structlog
from playwright.sync_api import Locator, expect
from pydantic import SecretStr

from myopenip_bot.errors import (
    AuthenticationError,
    SessionExpiredError,
    TechnicalError,
    TransientError,
)
from myopenip_bot.pages._base import Screen, _visible, is_transient, portal_text

log = structlog.get_logger(__name__)


class LoginPage(Screen):
    """The login form. A refusal raises AuthenticationError at once and is never retried."""

    @property
    def heading(self) -> Locator:
        return self._locate(self.selectors.login.heading)

    @property
    def username(self) -> Locator:
        return self._locate(self.selectors.login.username)

    @property
    def password(self) -> Locator:
        return self._locate(self.selectors.login.password)

    @property
    def submit(self) -> Locator:
        return self._locate(self.selectors.login.submit)

    @property
    def error(self) -> Locator:
        return self._locate(self.selectors.login.error)

    def is_shown(self) -> bool:
        """Whether the login page is on screen now."""
        return _visible(self.heading)

    def wait_for_login_or_navigation(self, step: str) -> None:
        """Wait until the page is either this login page or a logged-in page."""
        menu = self._locate(self.selectors.navigation.services_menu)
        # `.first`: whichever shows first decides; nothing is acted upon.
        either = self.heading.or_(menu).or_(self._technical_error).filter(visible=True).first
        self._expect(
            lambda: expect(either).to_be_visible(timeout=self.timeout_ms),
            step,
            "the login page or the portal's navigation",
        )
        if _visible(self._technical_error) and not self.is_shown():
            raise TechnicalError(
                f"{step}: the portal answered {self.selectors.hints.technical_error!r}"
            )

    def log_in(self, username: str, password: SecretStr) -> None:
        """Fill the form and submit it once; return when the portal's navigation shows.

        Raises AuthenticationError with the portal's own message when it refuses (an
        alert on the login page, e.g. wrong password or locked account), TransientError
        when it answers 5xx (a failure, not a refusal: the caller may log in again), and
        TechnicalError when it shows an error page or nothing within the timeout.
        """
        step = "logging in"
        self.username.fill(username)
        self.password.fill(password.get_secret_value())
        # Wait for the answer to this submission: an alert left from before (e.g. "your
        # session expired") must not be read as the portal's answer to these credentials.
        try:
            answer = self._send(self.submit.click, step)
        except SessionExpiredError:  # still on this page: the portal never answered
            raise TechnicalError(f"{step}: the portal did not answer the login") from None
        if is_transient(answer.status):
            raise TransientError(f"{step}: the portal answered HTTP {answer.status}")
        menu = self._locate(self.selectors.navigation.services_menu)
        refused = self.error.filter(visible=True).or_(self._technical_error)
        # `.first`: whichever shows first decides; nothing is acted upon.
        self._expect(
            lambda: expect(menu.or_(refused).filter(visible=True).first).to_be_visible(
                timeout=self.timeout_ms
            ),
            step,
            "the portal's answer to the login",
        )
        if not _visible(menu):
            if _visible(self._technical_error):
                raise TechnicalError(
                    f"{step}: the portal answered {self.selectors.hints.technical_error!r}"
                )
            alerts = self.error.filter(visible=True).all_inner_texts()
            message = "; ".join(portal_text(text) for text in alerts)
            log.warning("login_refused", user=username, message=message)
            raise AuthenticationError(
                f"the portal refused the login of {username!r}: {message or 'no reason given'}"
                " (not retried, so that the account is not locked)"
            )
        log.info("logged_in", user=username)
