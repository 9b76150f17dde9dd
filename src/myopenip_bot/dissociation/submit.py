"""The submission: tick the planned licences, open « Dissocier vos numéros », set « Conserver
le numéro » per number, read the dialog back, and click « Valider » once.

Nothing here decides whether to click « Valider »: the runner does, after the read-back
and the confirmation. `prepare` changes nothing on the portal and may be redone;
`valider` is never redone and never raises: every answer is data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import structlog

from myopenip_bot.config.selectors import Selectors
from myopenip_bot.dissociation.rules import (
    DialogShows,
    before_again,
    common_prefix,
    pairs_text,
    read_back_problems,
)
from myopenip_bot.errors import SessionExpiredError
from myopenip_bot.failures import translated
from myopenip_bot.models import LicenceTask, Outcome, Tab, format_number
from myopenip_bot.pages import (
    DissociationDialog,
    LicenceResultsPage,
    SubmitAnswer,
    shows_working,
)
from myopenip_bot.portal.listings import Listings

__all__ = ["SEARCH_CHUNK", "Prepared", "Submitted", "Submitter"]

log = structlog.get_logger(__name__)

# Each dialog searches for the first licences left (in ref order) rather than for all of
# them: with hundreds of licences in a tab, the common prefix of all would list them all,
# and each dialog would turn more pages than the one before. About a results page's worth
# (the replica shows 20 rows; another portal's page size only changes how many pages are
# turned, never what is ticked: every licence left that the page shows is).
SEARCH_CHUNK = 20


@dataclass(frozen=True)
class Prepared:
    """One dialog ready for « Valider », or none.

    `batch` the tasks the dialog lists (read back: exactly the plan), `settled` the tasks
    this preparation settled (no longer listed, number changed, the dialog did not match),
    `results` the results page the dialog was opened from (the portal refreshes it after
    « Valider »), `mismatch` why the dialog was not the plan (it was cancelled).
    """

    dialog: DissociationDialog | None
    batch: tuple[LicenceTask, ...] = ()
    settled: tuple[LicenceTask, ...] = ()
    results: LicenceResultsPage | None = None
    warnings: tuple[str, ...] = ()  # the dialog's own paragraphs, word for word
    mismatch: str | None = None

    def counted(self) -> Prepared:
        """The same, each task counting the « Valider » about to be clicked (counted
        before the click: a run stopped after it knows the outcome is unknown)."""
        batch = tuple(replace(t, submissions=t.submissions + 1) for t in self.batch)
        return replace(self, batch=batch)


@dataclass(frozen=True)
class Submitted:
    """« Valider » clicked once: the portal's answer, and the batch with its count."""

    answer: SubmitAnswer
    batch: tuple[LicenceTask, ...]


class Submitter:
    """Prepares one dialog at a time and clicks « Valider » in it."""

    def __init__(self, listings: Listings, selectors: Selectors) -> None:
        self.listings = listings
        self.selectors = selectors

    def prepare(self, tab: Tab, todo: Sequence[LicenceTask]) -> Prepared:
        """Tick the licences of `todo` shown on one results page; open and fill the dialog.

        Searches for the first SEARCH_CHUNK licences of `todo` by ref (unless the page on
        screen shows them all) and ticks every one of `todo` on the first results page
        that shows any. No dialog when none is listed
        any more (the chunk fails), or those listed have another number than planned
        (they fail); a dialog that is not the plan is cancelled and its batch refused.
        """
        chunk = sorted(todo, key=lambda task: task.licence_ref or "")[:SEARCH_CHUNK]
        prefix = common_prefix(task.licence_ref or "" for task in chunk)
        refs = {task.licence_ref or "" for task in chunk}
        results, pages = self.listings.pages_for(tab, prefix, refs=refs)
        for rows in pages:
            shown = {row.ref: row for row in rows}
            batch = [task for task in todo if task.licence_ref in shown]
            if batch:
                break
        else:  # on no page of a search that lists the chunk
            gone = f"no longer listed in {tab.value} when acting"
            return Prepared(None, settled=tuple(t.settle(Outcome.FAILED, gone) for t in chunk))
        # Sent before and its answer lost: what the listing shows now may settle it (the
        # number gone, the portal at work) rather than send it again.
        hints = self.listings.portal.selectors.hints
        rechecked = [
            before_again(
                t,
                shown[t.licence_ref or ""],
                working=shows_working(shown[t.licence_ref or ""], hints),
            )
            for t in batch
        ]
        again_settled = tuple(t for t in rechecked if t.outcome is not None)
        batch = [t for t in rechecked if t.outcome is None]
        changed = [t for t in batch if shown[t.licence_ref or ""].number != t.number]
        settled = again_settled + tuple(
            task.settle(
                Outcome.FAILED,
                f"its number changed since it was planned (now "
                f"{_number(shown[task.licence_ref or ''].number)})",
            )
            for task in changed
        )
        batch = [task for task in batch if task not in changed]
        if not batch:
            return Prepared(None, settled=settled)
        for task in batch:
            results.tick(task.licence_ref or "")
        results.expect_ticked([task.licence_ref or "" for task in batch], f"ticking in {tab.value}")
        dialog = results.open_dissociation()
        problems = self._read_back(dialog, batch, check_keep=False)
        if not problems:
            for task in batch:
                dialog.set_keep(task.number or "", task.keep)
            problems = self._read_back(dialog, batch, check_keep=True)
        if problems:
            dialog.cancel()
            expected = [(t.licence_ref or "", t.number or "") for t in batch]
            mismatch = (
                f"the dissociation dialog does not match the plan {pairs_text(expected)}: "
                f"{'; '.join(problems)}. Annuler was clicked: nothing changed"
            )
            refused = tuple(t.settle(Outcome.REFUSED, mismatch) for t in batch)
            return Prepared(None, settled=settled + refused, mismatch=mismatch)
        return Prepared(
            dialog,
            batch=tuple(batch),
            settled=settled,
            results=results,
            warnings=tuple(dialog.warnings()),
        )

    def _read_back(
        self, dialog: DissociationDialog, batch: list[LicenceTask], *, check_keep: bool
    ) -> list[str]:
        """Why the dialog is not exactly the batch's (licence, number) pairs, if it is not."""
        listing = dialog.listing()
        shows = DialogShows(
            pairs=tuple((row.ref, row.number) for row in listing.rows),
            without_number=listing.without_number,
            keep_selects=dialog.keep_select_count(),
            kept={t.number or "": dialog.kept(t.number or "") for t in batch} if check_keep else {},
        )
        problems = read_back_problems(batch, shows, self.selectors.texts, check_keep=check_keep)
        if not problems:
            log.info(
                "dialog_read_back",
                pairs=sorted(shows.pairs),
                keep={t.licence_ref: t.keep for t in batch} if check_keep else None,
            )
        return problems

    def valider(self, prepared: Prepared) -> Submitted:
        """Click « Valider » once for the prepared batch (`Prepared.counted`) and return
        the portal's answer, whatever it is. When the login page answered, the session
        had ended and the click did nothing: it is not counted (the fresh read decides)."""
        assert prepared.dialog is not None
        dialog = prepared.dialog
        # Past the last safe point: a signal from now on waits for the answer to be read.
        log.info("valider_clicking", licences=[task.licence_ref for task in prepared.batch])
        answer = dialog.validate()
        if answer.problem:
            log.warning("valider_unconfirmed", answer=answer.kind.value, problem=answer.problem)
        batch = prepared.batch
        if answer.login_shown:
            batch = tuple(replace(t, submissions=t.submissions - 1) for t in batch)
        if not answer.confirmed and not answer.login_shown:  # (the listings then read afresh)
            translated("closing the dialog after Valider", dialog.close_if_open)
        return Submitted(answer, batch)

    def cancel(self, dialog: DissociationDialog) -> None:
        """Click « Annuler »; a dialog the login page replaced needs nothing more."""
        try:
            translated("cancelling the dialog", dialog.cancel)
        except SessionExpiredError:
            log.info("dialog_gone_with_session")


def _number(digits: str | None) -> str:
    return format_number(digits) if digits else "none"
