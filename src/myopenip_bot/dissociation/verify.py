"""The verification: after « Valider », read the portal again and settle each licence.

The portal's answer to « Valider » is never trusted alone: its status message means the
portal *accepted* the request (the portal spec, screen 8); only the listing shows it
done. After a confirmed answer the results the portal refreshed by itself are read
first: when they show every licence of the dialog without its number, that is proof
enough. Otherwise one search (the common prefix of the batch's refs) reads them back.
What the answer was decides what an unchanged number means
(rules.settle_after_valider). After a lost answer (a 5xx, a timeout, a cut connection) the
portal is read only after a backoff (the retry policy's, longer with each lost answer of
the run, cut by a signal): the number gone is done, the row at work is waited for, the
number still there is submitted once more (a few times a run; then unknown, for a rerun
to read and settle). After an accepted request, the portal's back end may still
be working, so the listing is read again, with a growing pause between two reads (a
backoff a signal cuts), until it shows the change or MYOPENIP_COMPLETION_TIMEOUT has
passed (then: in progress). Waiting only ever reads: « Valider » is not clicked again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

import structlog

from myopenip_bot.dissociation import rules
from myopenip_bot.dissociation.rules import (
    common_prefix,
    completion,
    settle_after_valider,
    still_in_progress,
)
from myopenip_bot.dissociation.submit import Submitted
from myopenip_bot.errors import Interrupted
from myopenip_bot.models import LicenceTask, Tab
from myopenip_bot.pages import (
    AnswerKind,
    LicenceResultsPage,
    LicenceRow,
    SubmitAnswer,
    shows_working,
)
from myopenip_bot.portal.listings import Listings

__all__ = ["Verified", "Verifier"]

log = structlog.get_logger(__name__)

# The pause before the first new read of a licence the portal accepted, how it grows,
# and its ceiling: a back end done in 3 s is seen done within about a second of it, one
# taking minutes is read every few seconds, never hammered.
FIRST_PAUSE_S = 0.5
PAUSE_GROWTH = 1.5
MAX_PAUSE_S = 5.0


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
        """Read the batch back (the refreshed `results` when they prove it, else a search),
        settle each licence, and wait for the portal to show what it accepted."""
        batch = list(submitted.batch)
        answer = submitted.answer
        if answer.kind is AnswerKind.LOST and not answer.login_shown:
            try:
                self._back_off(batch, answer)
            except Interrupted:  # a safe point: nothing is under way; the runner stops next
                why = "the run was interrupted"
                return Verified(tuple(rules.settle_unread(batch, answer, why)), ())
        now = None
        if submitted.answer.confirmed and results is not None:
            now = self.listings.step(
                f"reading the refreshed results in {tab.value}",
                lambda: self._refreshed(results, batch),
            )
        if now is None:
            now = self.listings.step(f"verifying in {tab.value}", lambda: self._read(tab, batch))
        after = settle_after_valider(batch, submitted.answer, now, working=self._working(now))
        settled = list(after.settled)
        if after.waiting:
            settled += self._await_completion(tab, list(after.waiting), submitted)
        return Verified(tuple(settled), after.again)

    def _back_off(self, batch: Sequence[LicenceTask], answer: SubmitAnswer) -> None:
        """After a lost answer, let the portal recover before reading it again: the retry
        policy's backoff, longer with each lost answer of this run (a 5xx comes from a
        portal under load; hammering it only loses the next answer too)."""
        portal = self.listings.portal
        clicks = max((rules.clicks_this_run(task) for task in batch), default=1)
        delay = portal.policy.delay(max(clicks, 1))
        log.info(
            "valider_answer_lost",
            licences=[task.licence_ref for task in batch],
            problem=answer.problem,
            clicks_this_run=clicks,
            wait_s=round(delay, 2),
        )
        # allowed: a backoff before reading the portal after a lost answer, cut by a signal
        portal.stop.sleep(delay)

    def await_earlier(self, tab: Tab, tasks: Sequence[LicenceTask]) -> list[LicenceTask]:
        """Licences an earlier « Valider » was accepted for (or that the portal shows at
        work) and that it still listed when planned: read again, as after « Valider »,
        until they show without their numbers (done: the earlier « Valider » took effect)
        or the completion timeout has passed (in progress, as they were)."""
        shown, left = self._poll(tab, list(tasks), rules.earlier_shown, again=False)
        return shown + left

    def _await_completion(
        self, tab: Tab, waiting: list[LicenceTask], submitted: Submitted
    ) -> list[LicenceTask]:
        """Read `waiting` again until the portal lists them without their numbers (done)
        or the completion timeout has passed (in progress). A signal cuts a pause short:
        those still waiting are in progress, and the runner stops next."""
        answer = submitted.answer
        settled, waiting = self._poll(
            tab, waiting, lambda left, now: completion(left, answer, now), again=True
        )
        timeout = self.listings.portal.settings.completion_timeout
        if self.listings.portal.stop.requested:  # a safe point: nothing is under way
            why = "the run was interrupted"
            return settled + [rules.stopped(replace(task, accepted=True), why) for task in waiting]
        if waiting:
            log.warning(
                "completion_not_shown",
                licences=[task.licence_ref for task in waiting],
                timeout_s=timeout,
            )
        return settled + [still_in_progress(t, answer, timeout) for t in waiting]

    def _poll(
        self,
        tab: Tab,
        waiting: list[LicenceTask],
        shown: Callable[
            [list[LicenceTask], dict[str, LicenceRow]],
            tuple[list[LicenceTask], list[LicenceTask]],
        ],
        *,
        again: bool,
    ) -> tuple[list[LicenceTask], list[LicenceTask]]:
        """Read `waiting` again, pausing longer each time, until `shown` (given them and
        a read) says the portal shows them done, or the completion timeout has passed:
        (those done, those still waiting). `again`: the search on screen is theirs
        already. A signal cuts a pause short and ends the reads (a safe point)."""
        portal = self.listings.portal
        timeout = portal.settings.completion_timeout
        started = time.monotonic()
        pause = FIRST_PAUSE_S
        settled: list[LicenceTask] = []
        try:
            while waiting and (left := timeout - (time.monotonic() - started)) > 0:
                log.info(
                    "completion_awaited",
                    licences=[task.licence_ref for task in waiting],
                    waited_s=round(time.monotonic() - started, 1),
                    timeout_s=timeout,
                )
                # allowed: a backoff between two reads of the listing, cut by a signal
                portal.stop.sleep(min(pause, left))
                pause = min(pause * PAUSE_GROWTH, MAX_PAUSE_S)
                now = self.listings.step(
                    f"waiting for the portal to show the dissociation in {tab.value}",
                    partial(self._read, tab, tuple(waiting), again=again),
                )
                again = True
                done, waiting = shown(waiting, now)
                settled += done
        except Interrupted:
            pass
        return settled, waiting

    def _working(self, now: dict[str, LicenceRow]) -> frozenset[str]:
        hints = self.listings.portal.selectors.hints
        return frozenset(ref for ref, row in now.items() if shows_working(row, hints))

    def _read(
        self, tab: Tab, batch: Sequence[LicenceTask], *, again: bool = False
    ) -> dict[str, LicenceRow]:
        """Each licence of `batch` as the portal shows it now, by ref (absent: not found).
        `again`: the search on screen asked once more (a poll: a stale render of it only
        shows the number a little longer, never a false "done")."""
        refs = {task.licence_ref or "" for task in batch}
        rows = self.listings.rows_matching(tab, common_prefix(refs), again=again)
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
