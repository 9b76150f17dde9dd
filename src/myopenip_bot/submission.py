"""The submission: tick the planned licences, open « Dissocier vos numéros », set « Conserver
le numéro » per number, read the dialog back, and click « Valider » once.

Nothing here decides whether to click « Valider »: the runner does, after the read-back
and the confirmation. `prepare` is a step that may be redone (it changes nothing on the
portal); `valider` is never redone and never raises: every answer is data.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from myopenip_bot.driver import PortalDriver, translated
from myopenip_bot.errors import ReadBackMismatchError, SessionExpiredError
from myopenip_bot.models import Outcome, Tab, format_number
from myopenip_bot.pages import DissociationDialog, LicenceResultsPage, SubmitAnswer
from myopenip_bot.plan import Item, common_prefix
from myopenip_bot.selectors import Selectors

__all__ = ["Submitter"]

log = structlog.get_logger(__name__)

# Result pages walked when looking for the planned licences: this only stops a runaway loop.
MAX_PAGES = 100
# Each dialog searches for the first licences left (in ref order) rather than for all of
# them: with hundreds of licences in a tab, the common prefix of all would list them all,
# and each dialog would turn more pages than the one before. About a results page's worth
# (the replica shows 20 rows; another portal's page size only changes how many pages are
# turned, never what is ticked: every licence left that the page shows is).
SEARCH_CHUNK = 20


class Submitter:
    """Prepares one dialog at a time and clicks « Valider » in it."""

    def __init__(self, driver: PortalDriver, selectors: Selectors) -> None:
        self.driver = driver
        self.selectors = selectors
        self.results: LicenceResultsPage | None = None  # the results the last dialog came from

    def prepare(self, tab: Tab, todo: list[Item]) -> tuple[DissociationDialog | None, list[Item]]:
        """Tick the licences of `todo` shown on one results page; open and fill the dialog.

        Searches for the first SEARCH_CHUNK licences of `todo` by ref and ticks every one of
        `todo` on the first results page that shows any. Returns no dialog and an empty
        batch when none is listed any more (the chunk is marked failed), or those listed
        have another number than planned (they are marked failed). Raises
        ReadBackMismatchError, after Annuler, when the dialog is not the plan.
        """
        chunk = sorted(todo, key=lambda item: item.ref or "")[:SEARCH_CHUNK]
        prefix = common_prefix(item.ref or "" for item in chunk)
        reuse = self.driver.shows(tab, prefix)  # the plan's listing is still on screen
        results = self.driver.results(tab, fresh=True)
        self.results = results
        rows = results.rows() if reuse and self.driver.shows(tab, prefix) else None
        if rows is None:
            rows = results.search(licence=prefix)
        else:
            log.info("listing_reused", tab=tab.value, prefix=prefix)
        batch: list[Item] = []
        for _ in range(MAX_PAGES):
            shown = {row.ref: row for row in rows}
            batch = [item for item in todo if item.ref in shown]
            if batch or not results.next_page(licence=prefix):
                break
            rows = results.rows()
        if not batch:  # on no page of a search that lists the chunk, if it is still there
            for item in chunk:
                item.settle(Outcome.FAILED, f"no longer listed in {tab.value} when acting")
            return None, []
        changed = [item for item in batch if shown[item.ref or ""].number != item.number]
        for item in changed:
            now = shown[item.ref or ""].number
            item.settle(
                Outcome.FAILED,
                f"its number changed since it was planned (now {_number(now)})",
            )
        batch = [item for item in batch if item not in changed]
        if not batch:
            return None, []
        for item in batch:
            results.tick(item.ref or "")
        self.driver.mark_dirty()
        results.expect_ticked([item.ref or "" for item in batch], f"ticking in {tab.value}")
        dialog = results.open_dissociation()
        self._read_back(dialog, batch, check_keep=False)
        for item in batch:
            dialog.set_keep(item.number or "", item.keep)
        self._read_back(dialog, batch, check_keep=True)
        return dialog, batch

    def _read_back(
        self, dialog: DissociationDialog, batch: list[Item], *, check_keep: bool
    ) -> None:
        """The dialog must list exactly the batch's (licence, number) pairs; else Annuler."""
        expected = {(item.ref or "", item.number or "") for item in batch}
        listed = dialog.listed_numbers()
        problems: list[str] = []
        if {(row.ref, row.number) for row in listed} != expected or len(listed) != len(expected):
            problems.append(f"it lists {_pairs((r.ref, r.number) for r in listed)}")
        without = dialog.licences_without_number()
        if without:
            problems.append(
                f"it lists {', '.join(without)} under {self.selectors.texts.without_number!r}"
            )
        if not problems and dialog.keep_select_count() != len(expected):
            problems.append(f"it has {dialog.keep_select_count()} 'Conserver le numéro' choices")
        if not problems and check_keep:
            texts = self.selectors.texts
            for item in batch:
                wanted = texts.keep_yes if item.keep else texts.keep_no
                shown = dialog.kept(item.number or "")
                if shown != wanted:
                    problems.append(
                        f"'Conserver le numéro {format_number(item.number or '')}' shows {shown!r}"
                    )
        if problems:
            dialog.cancel()
            error = ReadBackMismatchError(
                f"the dissociation dialog does not match the plan {_pairs(expected)}: "
                f"{'; '.join(problems)}. Annuler was clicked: nothing changed"
            )
            for item in batch:
                item.settle(Outcome.REFUSED, str(error))
            raise error
        log.info(
            "dialog_read_back",
            pairs=sorted(expected),
            keep={item.ref: item.keep for item in batch} if check_keep else None,
        )

    def valider(self, dialog: DissociationDialog, batch: list[Item]) -> SubmitAnswer:
        """Click « Valider » once for `batch` and return the portal's answer, whatever it is."""
        for item in batch:
            item.submissions += 1
        # Past the last safe point: a signal from now on waits for the answer to be read.
        log.info("valider_clicking", licences=[item.ref for item in batch])
        answer = dialog.validate()
        if answer.problem:
            log.warning("valider_unconfirmed", answer=answer.kind.value, problem=answer.problem)
        if answer.login_shown:
            # The portal answered with its login page: the session had ended, so the
            # click was refused as unauthenticated and did nothing. It does not count
            # towards the two « Valider » a licence may get (the fresh read still decides).
            for item in batch:
                item.submissions -= 1
        if not answer.confirmed:
            self.driver.forget_page()  # the dialog may still be open: go on from a fresh page
            if not answer.login_shown:
                translated("closing the dialog after Valider", dialog.close_if_open)
        return answer

    def cancel(self, dialog: DissociationDialog) -> None:
        """Click « Annuler »; a dialog the login page replaced needs nothing more."""
        try:
            translated("cancelling the dialog", dialog.cancel)
        except SessionExpiredError:
            log.info("dialog_gone_with_session")


def _number(digits: str | None) -> str:
    return format_number(digits) if digits else "none"


def _pairs(pairs: Iterable[tuple[str, str]]) -> str:
    shown = [f"{ref} {format_number(number)}" for ref, number in sorted(pairs)]
    return "[" + ", ".join(shown) + "]"
