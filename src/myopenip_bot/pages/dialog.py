"""Screens 7 and 8: the dialog "Dissocier vos numéros", and what follows "Valider"."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, expect

from myopenip_bot.errors import TechnicalError
from myopenip_bot.models import format_number, normalize_number
from myopenip_bot.pages._base import Screen, _visible, for_browser, squash

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DialogRow:
    """A (licence, number) pair the dialog lists under "Numéros à dissocier"."""

    ref: str
    number: str  # ten digits


@dataclass(frozen=True)
class SubmitAnswer:
    """What the portal showed after "Valider": a status (done) or a problem (unknown state)."""

    status: str | None = None
    problem: str | None = None
    login_shown: bool = False  # the session had expired: the click may not have reached it

    @property
    def confirmed(self) -> bool:
        return self.status is not None


class DissociationDialog(Screen):
    """The dialog; its query methods read it back, `validate` clicks "Valider" exactly once."""

    @property
    def dialog(self) -> Locator:
        return self._locate(self.selectors.dialog.dialog)

    @property
    def heading(self) -> Locator:
        return self._locate(self.selectors.dialog.heading, self.dialog)

    @property
    def cancel_button(self) -> Locator:
        return self._locate(self.selectors.dialog.cancel, self.dialog)

    @property
    def submit_button(self) -> Locator:
        return self._locate(self.selectors.dialog.submit, self.dialog)

    @property
    def error(self) -> Locator:
        return self._locate(self.selectors.dialog.error, self.dialog)

    def keep_select(self, number: str) -> Locator:
        """The select "Conserver le numéro 02 31 45 67 89" of a number (ten digits)."""
        return self._locate(
            self.selectors.dialog.keep_select, self.dialog, number=format_number(number)
        )

    def wait_loaded(self, step: str) -> DissociationDialog:
        """Wait for the dialog and its fetched content (rows, or "Licences sans numéro")."""
        self._await(self.heading, step)
        self._settle(self.dialog, step)
        content = (
            self._locate(self.selectors.dialog.any_keep_select, self.dialog)
            .or_(self.dialog.get_by_text(self.selectors.texts.without_number))
            .or_(self.error)
        )
        self._expect(
            lambda: expect(content).not_to_have_count(0, timeout=self.timeout_ms),
            step,
            "the dialog's list of numbers",
        )
        if _visible(self.error):
            message = "; ".join(squash(text) for text in self.error.all_inner_texts())
            self.cancel()
            raise TechnicalError(f"{step}: the dialog shows an error: {message} (Annuler clicked)")
        return self

    def listed_numbers(self) -> list[DialogRow]:
        """The (licence, number) rows the dialog lists, read from what it shows."""
        text = self.dialog.inner_text()
        return [
            DialogRow(ref=match["ref"], number=normalize_number(match["number"]))
            for match in self.selectors.texts.dialog_row.finditer(text)
        ]

    def licences_without_number(self) -> list[str]:
        """Licence refs the dialog shows outside its number rows ("Licences sans numéro")."""
        text = self.dialog.inner_text()
        paired = {row.ref for row in self.listed_numbers()}
        return sorted(
            {ref for ref in self.selectors.texts.licence_ref.findall(text) if ref not in paired}
        )

    def keep_select_count(self) -> int:
        """How many "Conserver le numéro …" selects the dialog holds."""
        return self._locate(self.selectors.dialog.any_keep_select, self.dialog).count()

    def warnings(self) -> list[str]:
        """The portal's warning paragraphs, word for word, as the dialog shows them."""
        found: list[str] = []
        for control in self.selectors.dialog.warnings:
            texts = self._locate(control, self.dialog).all_inner_texts()
            if not texts:
                log.warning("dialog_warning_missing", warning=control.describe())
            found += [squash(text) for text in texts if squash(text) not in found]
        return found

    def set_keep(self, number: str, keep: bool) -> None:
        """Choose "Oui" (keep the number in the pool) or "Non" (quarantine) for a number."""
        label = self.selectors.texts.keep_yes if keep else self.selectors.texts.keep_no
        self.keep_select(number).select_option(label=label)
        log.info("keep_number_set", number=number, keep=keep)

    def kept(self, number: str) -> str:
        """The option the number's select shows now ("Oui" / "Non")."""
        select = self.keep_select(number)
        label = select.evaluate("s => s.selectedIndex < 0 ? '' : s.options[s.selectedIndex].text")
        return squash(str(label))

    def cancel(self) -> None:
        """Click "Annuler" and wait for the dialog to close; nothing is changed."""
        self.cancel_button.click()
        self._expect(
            lambda: expect(self.dialog).to_be_hidden(timeout=self.timeout_ms),
            "cancelling the dissociation dialog",
            "the closing of the dialog",
        )
        log.info("dissociation_cancelled")

    def close_if_open(self) -> None:
        """After a failed "Valider": cancel the dialog if it is still open, never raising."""
        try:
            if _visible(self.dialog) and _visible(self.cancel_button):
                self.cancel()
        except Exception as error:  # best effort: the page may be gone or be the login page
            log.warning("dialog_not_closed", error=str(error).splitlines()[0] if str(error) else "")

    def validate(self) -> SubmitAnswer:
        """Click "Valider" once and report what the portal answered; never clicks it again.

        Returns the status message ("Numéro(s) dissocié(s) : N") when the dialog closed
        with it, else the problem (an alert in the dialog, the login page, an error page,
        or no answer within the timeout): the dissociation may or may not have happened,
        so the caller must re-read the portal before anything else.
        """
        status = self._locate(self.selectors.licences.status).filter(
            has_text=for_browser(self.selectors.texts.status_dissociated)
        )
        problem = self.error.filter(visible=True)
        login = self._login_heading
        failure = self._technical_error
        try:
            self.submit_button.click()
            # `.first`: whichever answer shows first decides; nothing is acted upon.
            answers = status.or_(problem).or_(login).or_(failure).filter(visible=True)
            expect(answers.first).to_be_visible(timeout=self.timeout_ms)
            answer = self._answer(status, problem, login)
        except AssertionError:
            answer = SubmitAnswer(problem=f"no answer within {self.timeout_ms / 1000:g} s")
        except PlaywrightError as error:
            answer = SubmitAnswer(problem=f"the browser failed: {str(error).splitlines()[0]}")
        log.info("dissociation_submitted", status=answer.status, problem=answer.problem)
        return answer

    def _answer(self, status: Locator, problem: Locator, login: Locator) -> SubmitAnswer:
        # Read at once, without waiting: the page may already be moving on (its results
        # reload, or a session that expired right after sends it to the login page).
        pattern = self.selectors.texts.status_dissociated
        said = [squash(text) for text in status.all_inner_texts()]
        confirmed = [text for text in said if pattern.search(text)]
        if confirmed:
            return SubmitAnswer(status=confirmed[0])
        if _visible(login):
            return SubmitAnswer(problem="the portal showed its login page", login_shown=True)
        if _visible(problem):
            return SubmitAnswer(problem="; ".join(squash(t) for t in problem.all_inner_texts()))
        if _visible(self._technical_error):
            return SubmitAnswer(
                problem=f"the portal answered {self.selectors.texts.technical_error!r}"
            )
        return SubmitAnswer(problem="the answer vanished before it could be read")
