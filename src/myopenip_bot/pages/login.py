"""Screen 1, the login page: "Connectez-vous à MyOpenIP"."""

from __future__ import annotations

import structlog
from playwright.sync_api import Locator, expect
from pydantic import SecretStr

from myopenip_bot.errors import (
    AuthenticationError,
    TechnicalError,
    TransientError,
)
from myopenip_bot.pages._base import Exchange, Screen, portal_text
from myopenip_bot.pages.presence import expect_shown, is_transient
from myopenip_bot.pages.presence import visible_now as _visible

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
            lambda: expect_shown(either, self.timeout_ms),
            step,
            "the login page or the portal's navigation",
        )
        if _visible(self._technical_error) and not self.is_shown():
            raise TechnicalError(
                f"{step}: the portal answered {self.selectors.hints.technical_error!r}"
            )

    def log_in(self, username: str, password: SecretStr) -> None:
        """Fill the form and submit it once; return when the portal has answered.

        The login is judged by its own screen: answered when the form is gone (whatever
        the next page shows: its navigation is the next step's to check), refused when an
        alert shows on the login page. Raises AuthenticationError with the portal's own
        message when it refuses (never retried: the account would lock),
        TransientError when the request got a 5xx or no answer, and TechnicalError when
        it shows an error page or nothing changes within the timeout.
        """
        step = "logging in"
        login = self.selectors.login
        self._await(login.username, step, where="on the login page").fill(username)
        self._await(login.password, step, where="on the login page").fill(
            password.get_secret_value()
        )
        submit = self._await(login.submit, step, where="on the login page")
        # Only an alert shown after this submission is its answer: one left from before
        # ("your session expired") must not be read as the portal's answer.
        mark = self._mark()
        exchange = Exchange(self.page)
        try:
            submit.click()
            self._wait_settled(step, mark)
            # The form still there, with no alert nor error page: not answered yet.
            answered = self.error.filter(visible=True).or_(self._technical_error)
            waiting = self.page.locator(":root").filter(has_not=answered.filter(visible=True))
            form = self._locate(login.password, waiting).filter(visible=True)
            self._expect(
                lambda: expect(form).to_have_count(0, timeout=self.timeout_ms),
                step,
                "the portal's answer to the login",
            )
        finally:
            exchange.close()
        status = exchange.worst_status()
        if status is not None and (status < 0 or is_transient(status)):
            raise TransientError(f"{step}: {exchange.failure()}")
        if _visible(self._technical_error):
            raise TechnicalError(
                f"{step}: the portal answered {self.selectors.hints.technical_error!r}"
            )
        alerts = self.error.filter(visible=True)
        if _visible(self._locate(login.password)) and alerts.count():
            message = "; ".join(portal_text(text) for text in alerts.all_inner_texts())
            log.warning("login_refused", user=username, message=message)
            raise AuthenticationError(
                f"the portal refused the login of {username!r}: {message or 'no reason given'}"
                " (not retried, so that the account is not locked)"
            )
        log.info("logged_in", user=username)
