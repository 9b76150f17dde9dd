"""Screens 7 and 8: the dialog "Dissocier vos numéros", and what follows "Valider"; the
same dialog as a read-only run sees it (ReadOnlyDialog, which cannot reach "Valider")."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import structlog
from playwright.sync_api import Locator, Page, expect

from myopenip_bot.config.selectors import Control, Selectors, locate
from myopenip_bot.errors import BrowserFailure, DriftError, TechnicalError, first_line
from myopenip_bot.failures import translating
from myopenip_bot.models import format_number, normalize_number
from myopenip_bot.pages._base import (
    DEFAULT_TIMEOUT_MS,
    Exchange,
    Screen,
    for_browser,
    portal_text,
    squash,
)
from myopenip_bot.pages._closest import absent
from myopenip_bot.pages._reads import reading
from myopenip_bot.pages.presence import BESIDE_MS, PRESENT_MS, Presence, expect_shown
from myopenip_bot.pages.presence import visible_now as _visible

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DialogRow:
    """A (licence, number) pair the dialog lists under "Numéros à dissocier"."""

    ref: str
    number: str  # ten digits


def dissociated_status(page: Page, selectors: Selectors) -> Locator:
    """The status message of a confirmed dissociation ("Numéro(s) dissocié(s) : N") on
    `page`: the answer to « Valider », and what a page a dialog left behind still shows."""
    return locate(page, selectors.licences.status).filter(
        has_text=for_browser(selectors.texts.status_dissociated)
    )


@dataclass(frozen=True)
class DialogListing:
    """What the dialog lists: its number rows, and the licences shown without one."""

    rows: tuple[DialogRow, ...]
    without_number: tuple[str, ...]


class AnswerKind(StrEnum):
    """How the portal answered « Valider »."""

    CONFIRMED = "confirmed"  # the status "Numéro(s) dissocié(s) : N"
    REFUSED = "refused"  # the portal said no (an alert, a 4xx): final, never sent again
    LOST = "lost"  # no usable answer (5xx, network, timeout, login page): read the portal


@dataclass(frozen=True)
class SubmitAnswer:
    """What the portal showed after « Valider », and what the bot may conclude from it."""

    kind: AnswerKind
    status: str | None = None  # the status message, when confirmed
    problem: str | None = None  # the portal's own words (refused), or what went wrong (lost)
    login_shown: bool = False  # the session had expired: the click may not have reached it

    @property
    def confirmed(self) -> bool:
        return self.kind is AnswerKind.CONFIRMED


class DissociationDialog(Screen):
    """The dialog; its query methods read it back, `validate` clicks "Valider" exactly once."""

    # What became of it, for whoever reads the page after (portal.listings): the answer
    # to its « Valider », or « Annuler » clicked and the dialog seen closed.
    answer: SubmitAnswer | None = None
    cancelled: bool = False

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
        self._await(self.selectors.dialog.dialog, step, where="after « Dissocier vos numéros »")
        self._await(self.selectors.dialog.heading, step, self.dialog, "in the dialog")
        self._wait_settled(step, scope=self.dialog)
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
            message = "; ".join(portal_text(text) for text in self.error.all_inner_texts())
            self.cancel()
            raise TechnicalError(f"{step}: the dialog shows an error: {message} (Annuler clicked)")
        # Both ways out, before anyone is asked: a « Valider » the portal renamed is a
        # drift named now, not a click that times out after the person said yes. The
        # dialog has settled with its list; once it shows a button, the other one a
        # person sees beside it is there too: a short look each (a drift in about 1 s).
        buttons = self.dialog.get_by_role("button").filter(visible=True)
        with contextlib.suppress(AssertionError):  # none at all: the look below says so
            expect_shown(buttons, min(self.timeout_ms, PRESENT_MS))
        for control in (self.selectors.dialog.submit, self.selectors.dialog.cancel):
            found = self._locate(control, self.dialog).filter(visible=True).first
            try:
                expect_shown(found, min(self.timeout_ms, BESIDE_MS))
            except AssertionError:
                self._raise_for_page(step)
                message = absent(self.dialog, control, "in the dialog", BESIDE_MS)
                self.close_if_open()
                raise DriftError(self.selectors.key_of(control), message) from None
        return self

    def listing(self) -> DialogListing:
        """What the dialog lists, from one read of what it shows: its (licence, number)
        rows, and the licence refs it shows outside them ("Licences sans numéro")."""
        text = self.dialog.inner_text()
        texts = self.selectors.texts
        rows = tuple(
            DialogRow(ref=match["ref"], number=normalize_number(match["number"]))
            for match in texts.dialog_row.finditer(text)
        )
        paired = {row.ref for row in rows}
        unpaired = {ref for ref in texts.licence_ref.findall(text) if ref not in paired}
        return DialogListing(rows=rows, without_number=tuple(sorted(unpaired)))

    def listed_numbers(self) -> list[DialogRow]:
        """The (licence, number) rows the dialog lists, read from what it shows."""
        return list(self.listing().rows)

    def licences_without_number(self) -> list[str]:
        """Licence refs the dialog shows outside its number rows ("Licences sans numéro")."""
        return list(self.listing().without_number)

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
            found += [portal_text(text) for text in texts if portal_text(text) not in found]
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
        with reading(self.page, "Annuler"):
            self.cancel_button.click()
            self._expect(
                lambda: expect(self.dialog).to_be_hidden(timeout=self.timeout_ms),
                "cancelling the dissociation dialog",
                "the closing of the dialog",
            )
        self.cancelled = True
        log.info("dissociation_cancelled")

    def close_if_open(self) -> None:
        """After a failed "Valider": cancel the dialog if it is still open, never raising."""
        try:
            if _visible(self.dialog) and _visible(self.cancel_button):
                self.cancel()
        except Exception as error:  # best effort: the page may be gone or be the login page
            log.warning("dialog_not_closed", error=first_line(error))

    def validate(self) -> SubmitAnswer:
        """Click « Valider » once and report what the portal answered; never clicks it again.

        The answer is read from the screen (the status message, an alert in the dialog,
        the login page) together with the HTTP answer to the request the click sent, so
        that a refusal (an alert after a 4xx, or with no request at all) is told apart
        from a failure (5xx, 408, 429, a connection cut, no answer within the timeout, the
        login page). Only a LOST answer leaves the outcome open: the caller must re-read
        the portal before anything else.
        """
        status = dissociated_status(self.page, self.selectors)
        problem = self.error.filter(visible=True)
        login = self._login_heading
        # The dialog gone (the portal closed it): an answer of its own, so that the status
        # message stays a hint, never waited on (a portal may word it otherwise, or show
        # none). A dialog no longer shown is out of the accessibility tree: the page's body
        # without it is then what shows.
        closed = self.page.locator("body").filter(has_not=self.dialog)
        exchange = Exchange(self.page)
        try:
            with translating():
                self.submit_button.click()
                # Whichever answer shows first decides; nothing is acted upon.
                answers = status.or_(problem).or_(login).or_(self._technical_error)
                expect_shown(answers.or_(closed), self.timeout_ms)
                answer = self._answer(status, problem, login, exchange)
        except AssertionError:
            answer = SubmitAnswer(
                AnswerKind.LOST, problem=f"no answer within {self.timeout_ms / 1000:g} s"
            )
        except BrowserFailure as failure:
            answer = SubmitAnswer(AnswerKind.LOST, problem=f"the browser failed: {failure.why}")
        finally:
            exchange.close()
        self.answer = answer
        log.info(
            "dissociation_submitted",
            answer=answer.kind.value,
            status=answer.status,
            problem=answer.problem,
        )
        return answer

    def _answer(
        self, status: Locator, problem: Locator, login: Locator, exchange: Exchange
    ) -> SubmitAnswer:
        """The answer the screen shows now; when only the dialog's closing shows, the
        answer once the page has settled (the request the click sent answered, the
        listing refreshed): the status message if it came meanwhile, else the HTTP
        answer to the click's request."""
        shown = status.or_(problem).or_(login).or_(self._technical_error)
        answer = None
        if _visible(shown.filter(visible=True).first):
            answer = self._shown_answer(status, problem, login, exchange.failure())
        if answer is not None:
            log.info("valider_answered", by=answer.kind.value)
            return answer
        if _visible(self.dialog):
            return SubmitAnswer(
                AnswerKind.LOST, problem="the answer vanished before it could be read"
            )
        self._wait_settled("reading the answer to « Valider »")
        answer = self._shown_answer(status, problem, login, exchange.failure())
        if answer is None:
            answer = _closed_answer(exchange)
        log.info("valider_answered", by="the dialog closing", answer=answer.kind.value)
        return answer

    def _shown_answer(
        self, status: Locator, problem: Locator, login: Locator, http_failure: str | None
    ) -> SubmitAnswer | None:
        # Read at once, without waiting: the page may already be moving on (its results
        # reload, or a session that expired right after sends it to the login page).
        pattern = self.selectors.texts.status_dissociated
        said = [portal_text(text) for text in status.all_inner_texts()]
        confirmed = [text for text in said if pattern.search(text)]
        if confirmed:
            return SubmitAnswer(AnswerKind.CONFIRMED, status=confirmed[0])
        if _visible(login):
            return SubmitAnswer(
                AnswerKind.LOST, problem="the portal showed its login page", login_shown=True
            )
        alert = "; ".join(portal_text(t) for t in problem.all_inner_texts() if t.strip())
        if http_failure is not None:
            shown = f" (the dialog says: {alert})" if alert else ""
            return SubmitAnswer(AnswerKind.LOST, problem=http_failure + shown)
        if alert:
            return SubmitAnswer(AnswerKind.REFUSED, problem=alert)
        if _visible(self._technical_error):
            return SubmitAnswer(
                AnswerKind.LOST,
                problem=f"the portal answered {self.selectors.hints.technical_error!r}",
            )
        return None


def _closed_answer(exchange: Exchange) -> SubmitAnswer:
    """The dialog closed, nothing else shown once settled: the HTTP answer to the request
    « Valider » sent decides (the listing's refresh may still be on its way, or be
    cancelled by the page). Answered without an error: accepted (the listing then
    shows whether it is done); none sent, or it failed: lost (the caller reads the
    portal)."""
    if not exchange.sent:
        return SubmitAnswer(AnswerKind.LOST, problem="the dialog closed without sending anything")
    # « Valider »'s own request: the first that is not a GET (a refresh of the listing,
    # which the page may cancel, is one), else the first sent.
    request = next((r for r in exchange.sent if r.method != "GET"), exchange.sent[0])
    if request in exchange.failures:
        return SubmitAnswer(
            AnswerKind.LOST, problem=f"the request failed ({exchange.failures[request]})"
        )
    status = exchange.statuses.get(request)
    if status is None:
        # Its answer not recorded yet (the browser may tell it after the page moved on):
        # awaited (a state: it ends answered or failed), never guessed.
        try:
            response = request.response()
        except Exception as error:  # the page or the browser gone: lost
            return SubmitAnswer(AnswerKind.LOST, problem=f"the request failed ({error})")
        if response is None:
            return SubmitAnswer(AnswerKind.LOST, problem="the request got no answer")
        status = response.status
    if status >= 400:
        return SubmitAnswer(
            AnswerKind.LOST, problem=f"the dialog closed after an HTTP {status} answer"
        )
    return SubmitAnswer(AnswerKind.CONFIRMED)


class ReadOnlyDialog:
    """« Dissocier vos numéros » opened to be read, never submitted: what a read-only run
    (the smoke) sees of the dialog.

    Whatever it is asked, it answers with data (texts, counts, whether a control shows),
    never with a locator or the page: no caller can reach « Valider » through it. It can
    tell that « Valider » is there (`show`), and its one click is « Annuler ». It is not
    a DissociationDialog (whose `validate` clicks « Valider »), nor a Screen.
    """

    def __init__(
        self, page: Page, selectors: Selectors, *, timeout_ms: float = DEFAULT_TIMEOUT_MS
    ) -> None:
        self._page = page
        self._selectors = selectors
        self._presence = Presence(page, selectors, timeout_ms=timeout_ms)
        self._root = locate(page, selectors.dialog.dialog)

    def wait_shown(self, where: str) -> None:
        """The dialog shows (Missing if not), and has loaded its content."""
        self._presence.shown(self._selectors.dialog.dialog, where)
        self._presence.wait_settled("loading the dialog")  # its list may come from the portal

    def show(
        self,
        control: Control,
        where: str,
        *,
        enabled: bool = False,
        beside: bool = False,
        values: dict[str, str] | None = None,
    ) -> None:
        """`control` shows in the dialog (enabled too, with `enabled`): Missing if not
        (Presence.shown). It says so, and nothing more: nothing is clicked."""
        self._presence.shown(
            control, where, self._root, enabled=enabled, beside=beside, values=values
        )

    def show_all(self, controls: Sequence[Control], where: str) -> None:
        """Every one of `controls` shows in the dialog: Missing names the first that does not."""
        self._presence.shown_all([(control, {}) for control in controls], where, self._root)

    def text(self) -> str:
        """Everything the dialog says, as it shows it."""
        return self._root.inner_text()

    def rows(self) -> list[tuple[str, str]]:
        """The (licence, number) rows it lists, the number as the dialog writes it."""
        pattern = self._selectors.texts.dialog_row
        return [(match["ref"], match["number"]) for match in pattern.finditer(self.text())]

    def keep_options(self, number: str) -> tuple[list[str], str]:
        """The options of the choice « Conserver le numéro … » of `number` (as the dialog
        writes it), and the text of the one it shows selected."""
        control = self._selectors.dialog.keep_select
        select = locate(self._root, control, number=number).filter(visible=True)
        options = [portal_text(text) for text in select.locator("option").all_inner_texts()]
        selected = select.evaluate("s => s.options[s.selectedIndex]?.text || ''")
        return options, str(selected)

    def keep_select_count(self) -> int:
        """How many « Conserver le numéro … » choices show."""
        control = self._selectors.dialog.any_keep_select
        return locate(self._root, control).filter(visible=True).count()

    def cancel(self) -> None:
        """Click « Annuler » and wait for the dialog to close; nothing is changed."""
        with reading(self._page, "Annuler"):
            locate(self._root, self._selectors.dialog.cancel).click()
            try:
                expect(self._root).to_be_hidden(timeout=self._presence.timeout_ms)
            except AssertionError:
                raise DriftError(
                    "dialog.cancel",
                    f"the dialog is still open {self._presence.timeout_ms / 1000:g} s "
                    "after « Annuler »",
                ) from None
