"""The verification: after « Valider », read the portal again and settle each licence.

The portal's answer to « Valider » is never trusted alone. After a confirmed answer the
results the portal refreshed by itself are read first: when they show every licence of
the dialog without its number, that is proof enough. Otherwise one search (the common
prefix of the batch's refs) reads them back. What the answer was decides what an
unchanged number means (rules.settle_after_valider).
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from myopenip_bot.dissociation.rules import common_prefix, settle_after_valider
from myopenip_bot.dissociation.submit import Submitted
from myopenip_bot.models import LicenceTask, Tab
from myopenip_bot.pages import LicenceResultsPage, LicenceRow
from myopenip_bot.portal.listings import Listings

__all__ = ["Verified", "Verifier"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Verified:
    """Each licence of a dialog settled, or to be submitted once more."""

    settled: tuple[LicenceTask, ...]
    again: tuple[LicenceTask, ...]


class Verifier:
    """Reads a dialog's licences back and settles them against the portal's answer."""

    def __init__(self, listings: Listings) -> None:
        self.listings = listings

    def verify(
        self, tab: Tab, submitted: Submitted, results: LicenceResultsPage | None
    ) -> Verified:
        """Read the batch back (the refreshed `results` when they prove it, else a search)
        and settle each licence."""
        batch = list(submitted.batch)
        now = None
        if submitted.answer.confirmed and results is not None:
            now = self.listings.step(
                f"reading the refreshed results in {tab.value}",
                lambda: self._refreshed(results, batch),
            )
        if now is None:
            now = self.listings.step(f"verifying in {tab.value}", lambda: self._read(tab, batch))
        settled, again = settle_after_valider(batch, submitted.answer, now)
        return Verified(tuple(settled), tuple(again))

    def _read(self, tab: Tab, batch: list[LicenceTask]) -> dict[str, LicenceRow]:
        """Each licence of `batch` as the portal shows it now, by ref (absent: not found)."""
        refs = {task.licence_ref or "" for task in batch}
        rows = self.listings.rows_matching(tab, common_prefix(refs))
        found = {row.ref: row for row in rows if row.ref in refs}
        for ref in sorted(refs - found.keys()):  # a portal whose filter is not a prefix match
            matches = self.listings.find_rows(tab, ref=ref, number=None)
            if len(matches) == 1:
                found[ref] = matches[0]
        log.info("licences_verified", numbers={ref: row.number for ref, row in found.items()})
        return found

    def _refreshed(
        self, results: LicenceResultsPage, batch: list[LicenceTask]
    ) -> dict[str, LicenceRow] | None:
        """The results the portal refreshed by itself after a confirmed « Valider » (the
        spec says it does), once settled, when they show every licence of `batch` without
        its number; None otherwise (stale or partial: the caller searches afresh).

        Only positive evidence is taken from it: a row that still shows its number could
        be the table from before the refresh, so it sends the caller to a fresh search.
        """
        refs = {task.licence_ref or "" for task in batch}
        results.wait_settled("reading the refreshed results")
        shown = {row.ref: row for row in results.rows() if row.ref in refs}
        if shown.keys() != refs or any(row.number is not None for row in shown.values()):
            return None
        log.info("licences_verified", numbers={ref: None for ref in shown}, how="refreshed")
        return shown
