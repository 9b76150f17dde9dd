"""The verification: after « Valider », read the portal again and settle each licence.

The portal's answer to « Valider » is never trusted alone: one search (the common prefix
of the batch's refs) reads every licence of the dialog back. What the answer was decides
what an unchanged number means: after a refusal it is final; after a lost answer (5xx,
network, timeout, the login page) the click may never have reached the portal, so that
licence may be submitted once more (MAX_SUBMISSIONS in all, ever).
"""

from __future__ import annotations

import structlog

from myopenip_bot.driver import PortalDriver
from myopenip_bot.models import Outcome, Tab, format_number
from myopenip_bot.pages import AnswerKind, LicenceResultsPage, LicenceRow, SubmitAnswer
from myopenip_bot.plan import MAX_SUBMISSIONS, Item, common_prefix

__all__ = ["Verifier", "settle_unread"]

log = structlog.get_logger(__name__)


class Verifier:
    """Reads a dialog's licences back and settles them against the portal's answer."""

    def __init__(self, driver: PortalDriver) -> None:
        self.driver = driver

    def read(self, tab: Tab, batch: list[Item]) -> dict[str, LicenceRow]:
        """Each licence of `batch` as the portal shows it now, by ref (absent: not found)."""
        refs = {item.ref or "" for item in batch}
        rows = self.driver.rows_matching(tab, common_prefix(refs))
        found = {row.ref: row for row in rows if row.ref in refs}
        for ref in sorted(refs - found.keys()):  # a portal whose filter is not a prefix match
            matches = self.driver.find_rows(tab, ref=ref, number=None)
            if len(matches) == 1:
                found[ref] = matches[0]
        log.info("licences_verified", numbers={ref: row.number for ref, row in found.items()})
        return found

    def read_refreshed(
        self, results: LicenceResultsPage, batch: list[Item]
    ) -> dict[str, LicenceRow] | None:
        """After a confirmed « Valider »: the results the portal refreshed by itself (the
        spec says it does), once settled, when they show every licence of `batch` without
        its number; None otherwise (stale or partial: the caller searches afresh).

        Only positive evidence is taken from it: a row that still shows its number could
        be the table from before the refresh, so it sends the caller to a fresh search.
        """
        refs = {item.ref or "" for item in batch}
        results.wait_settled("reading the refreshed results")
        shown = {row.ref: row for row in results.rows() if row.ref in refs}
        if shown.keys() != refs or any(row.number is not None for row in shown.values()):
            return None
        log.info("licences_verified", numbers={ref: None for ref in shown}, how="refreshed")
        return shown

    def settle(
        self, batch: list[Item], answer: SubmitAnswer, now: dict[str, LicenceRow]
    ) -> list[Item]:
        """Give each licence its outcome from what the portal shows; return those to resubmit."""
        again: list[Item] = []
        for item in batch:
            row = now.get(item.ref or "")
            if row is not None and row.number is None:
                item.settle(Outcome.DONE, _done_reason(answer))
            elif row is None:
                item.settle(
                    Outcome.FAILED,
                    f"not found when verifying ({answer.problem or answer.status})",
                )
            elif answer.kind is AnswerKind.REFUSED:
                item.settle(Outcome.REFUSED, f"the portal refused it: « {answer.problem} »")
            elif (
                answer.kind is AnswerKind.LOST
                and item.submissions < MAX_SUBMISSIONS
                and row.number == item.number
            ):
                # The answer was lost and the fresh read shows that nothing was done (an
                # expired session, a 5xx before the portal acted): submit once more.
                log.info("resubmitting", licence=item.ref, why=answer.problem)
                again.append(item)
            else:
                times = "once" if item.submissions == 1 else f"{item.submissions} times"
                item.settle(
                    Outcome.FAILED,
                    f"the portal still shows {format_number(row.number or '')} after Valider"
                    f" was clicked {times} ({answer.problem or answer.status})",
                )
        return again


def settle_unread(batch: list[Item], answer: SubmitAnswer, why: str) -> None:
    """Settle a batch whose verification will not run (the run is stopping): `why` says so."""
    for item in batch:
        if answer.kind is AnswerKind.CONFIRMED:
            item.settle(Outcome.DONE, f"the portal said « {answer.status} »; not re-read: {why}")
        elif answer.kind is AnswerKind.REFUSED:
            item.settle(Outcome.REFUSED, f"the portal refused it: « {answer.problem} »")
        else:
            item.settle(
                Outcome.UNKNOWN,
                f"Valider was clicked and its answer was lost ({answer.problem}); {why}: "
                "rerun to settle",
            )


def _done_reason(answer: SubmitAnswer) -> str | None:
    if answer.kind is AnswerKind.CONFIRMED:
        return None
    if answer.kind is AnswerKind.REFUSED:
        return f"the portal answered « {answer.problem} », yet the number is gone"
    return f"verified after: {answer.problem}"
