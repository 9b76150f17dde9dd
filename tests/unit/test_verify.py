"""The verification (dissociation/verify.py) over a listing given as plain data: after
« Valider », what the bot reads to settle each licence, how it waits for a back end still
at work (growing pauses, a timeout, a signal), and that waiting only ever reads.

What an answer and a read mean for one licence is rules.settle_after_valider's (tested
in test_rules.py); here the Verifier's own part: which read, how many, when it stops.
The listing's back end takes the numbers off after a given number of reads.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeVar, cast

import pytest
from structlog.testing import capture_logs

from myopenip_bot.config.selectors import load_selectors
from myopenip_bot.dissociation.submit import Submitted
from myopenip_bot.dissociation.verify import (
    FIRST_PAUSE_S,
    MAX_PAUSE_S,
    PAUSE_GROWTH,
    Verified,
    Verifier,
)
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.models import LicenceTask, Outcome, Tab, Target
from myopenip_bot.pages import AnswerKind, LicenceResultsPage, LicenceRow, SubmitAnswer
from myopenip_bot.portal.listings import Listings
from myopenip_bot.portal.retry import DEFAULT_POLICY

T = TypeVar("T")

TAB = Tab.GROUPEMENTS
STATUS = "Numéro(s) dissocié(s) : 2"
CONFIRMED = SubmitAnswer(AnswerKind.CONFIRMED, status=STATUS)
REFUSED = SubmitAnswer(AnswerKind.REFUSED, problem="Le service n'est pas actif.")
LOST = SubmitAnswer(AnswerKind.LOST, problem="the portal answered HTTP 503")
NUMBERS = {"FPC367131": "0231456791", "FPC367123": "0231456780"}


def row(ref: str, number: str | None, state: str = "Affectée") -> LicenceRow:
    return LicenceRow(ref=ref, type="Licence SVI", number=number, text=ref, state=state)


class Pauses(StopSignal):
    """The stop signal: each pause recorded; slept only when `sleeps` (for a timeout to
    pass), and a signal arriving in the `signal_in`-th one."""

    def __init__(self, *, sleeps: bool = False, signal_in: int | None = None) -> None:
        super().__init__()
        self.pauses: list[float] = []
        self._sleeps = sleeps
        self._signal_in = signal_in

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if len(self.pauses) == self._signal_in:
            self.request(signal.SIGTERM)
        if self._sleeps:
            time.sleep(seconds)
        self.check()


class Listing:
    """One tab's listing as plain data, behind the surface the Verifier uses: searches by
    prefix (`again`: the search on screen asked once more) or by exact ref, each inside a
    step. Its back end takes the numbers of `working` off at the `done_at`-th search (never
    when None); `gone` are no longer listed at all."""

    def __init__(
        self,
        refs: tuple[str, ...] = tuple(NUMBERS),
        *,
        done_at: int | None = 1,
        gone: tuple[str, ...] = (),
        state: str = "Affectée",
        timeout: float = 60.0,
        stop: StopSignal | None = None,
    ) -> None:
        self.refs, self.done_at, self.gone, self.state = refs, done_at, gone, state
        self.reads: list[tuple[Any, ...]] = []
        self.service_ref = "SRV-10021"
        self.portal = SimpleNamespace(
            settings=SimpleNamespace(completion_timeout=timeout),
            stop=stop if stop is not None else Pauses(),
            selectors=load_selectors(None),
            policy=DEFAULT_POLICY,  # the backoff before reading after a lost answer
        )
        self._in_step = False

    @property
    def searches(self) -> int:
        return len(self.reads)

    def rows(self) -> list[LicenceRow]:
        done = self.done_at is not None and self.searches >= self.done_at
        return [
            row(ref, None, "Non affectée") if done else row(ref, NUMBERS[ref], self.state)
            for ref in self.refs
            if ref not in self.gone
        ]

    def step(self, name: str, action: Callable[[], T]) -> T:
        self._in_step = True
        try:
            return action()
        finally:
            self._in_step = False

    def rows_matching(self, tab: Tab, prefix: str, *, again: bool = False) -> list[LicenceRow]:
        assert self._in_step, "a read outside a step is never retried"
        self.reads.append(("listing", tab, prefix, again))
        return [r for r in self.rows() if r.ref.startswith(prefix)]

    def find_rows(self, tab: Tab, *, ref: str | None, number: str | None) -> list[LicenceRow]:
        assert self._in_step, "a read outside a step is never retried"
        self.reads.append(("finding", tab, ref, number))
        return [r for r in self.rows() if r.ref == ref]


class Refreshed:
    """The results page the portal refreshed after « Valider »: its rows, read once settled.
    It has nothing else: a Verifier that clicked anything on it would fail here."""

    def __init__(self, rows: list[LicenceRow]) -> None:
        self._rows = rows
        self.calls: list[str] = []

    def wait_settled(self, step: str) -> None:
        self.calls.append("wait_settled")

    def rows(self) -> list[LicenceRow]:
        self.calls.append("rows")
        return list(self._rows)


def batch(*refs: str, submissions: int = 1) -> tuple[LicenceTask, ...]:
    return tuple(
        LicenceTask(
            index,
            Target(licence_ref=ref),
            keep=False,
            licence_ref=ref,
            number=NUMBERS[ref],
            tab=TAB,
            submissions=submissions,
            accepted=True,
        )
        for index, ref in enumerate(refs)
    )


def verify(
    listing: Listing,
    answer: SubmitAnswer,
    tasks: tuple[LicenceTask, ...] | None = None,
    results: Refreshed | None = None,
) -> Verified:
    submitted = Submitted(answer, tasks if tasks is not None else batch(*NUMBERS))
    return Verifier(cast(Listings, listing)).verify(
        TAB, submitted, cast(LicenceResultsPage | None, results)
    )


def outcomes(verified: Verified) -> dict[str, Outcome | None]:
    return {task.licence_ref or "": task.outcome for task in verified.settled}


# -- the read after « Valider » ------------------------------------------------------------


def test_refreshed_results_showing_every_licence_without_its_number_are_proof_enough() -> None:
    listing = Listing(done_at=None)  # a search would show the numbers: it must not be made
    # Other licences on the page do not matter.
    refreshed = Refreshed([row(ref, None) for ref in NUMBERS] + [row("FPC367150", "0231456799")])

    verified = verify(listing, CONFIRMED, results=refreshed)

    assert outcomes(verified) == {"FPC367131": Outcome.DONE, "FPC367123": Outcome.DONE}
    assert refreshed.calls == ["wait_settled", "rows"]  # read once the page has settled
    assert listing.reads == []


@pytest.mark.parametrize(
    "shown",
    [
        [row("FPC367131", None), row("FPC367123", "0231456780")],  # the table from before
        [row("FPC367131", None)],  # one licence not shown (yet)
    ],
    ids=["a-number-still-shown", "partial"],
)
def test_refreshed_results_that_prove_less_send_the_verifier_to_a_search_of_its_own(
    shown: list[LicenceRow],
) -> None:
    listing = Listing(done_at=1)

    verified = verify(listing, CONFIRMED, results=Refreshed(shown))

    assert outcomes(verified) == {"FPC367131": Outcome.DONE, "FPC367123": Outcome.DONE}
    assert listing.reads == [("listing", TAB, "FPC3671", False)]  # one search, their prefix


@pytest.mark.parametrize("answer", [REFUSED, LOST], ids=["refused", "lost"])
def test_without_a_confirmed_answer_the_refreshed_results_are_not_read(
    answer: SubmitAnswer,
) -> None:
    refreshed = Refreshed([row(ref, None) for ref in NUMBERS])
    listing = Listing(done_at=1)

    verify(listing, answer, results=refreshed)

    assert refreshed.calls == []
    assert listing.reads[0] == ("listing", TAB, "FPC3671", False)


class WholeRefFilter(Listing):
    """A portal whose « Licence » filter matches whole refs only: a prefix lists nothing."""

    def rows_matching(self, tab: Tab, prefix: str, *, again: bool = False) -> list[LicenceRow]:
        super().rows_matching(tab, prefix, again=again)
        return [r for r in self.rows() if r.ref == prefix]


def test_a_licence_the_prefix_search_does_not_list_is_looked_up_by_its_own_ref() -> None:
    listing = WholeRefFilter(done_at=1)

    verified = verify(listing, CONFIRMED)

    assert outcomes(verified) == {"FPC367131": Outcome.DONE, "FPC367123": Outcome.DONE}
    assert sorted(read[2] for read in listing.reads[1:]) == ["FPC367123", "FPC367131"]


def test_a_licence_listed_nowhere_after_valider_failed_naming_the_answer() -> None:
    listing = Listing(done_at=None, gone=("FPC367123",))

    verified = verify(listing, REFUSED, batch("FPC367123"))

    (task,) = verified.settled
    assert task.outcome is Outcome.FAILED
    assert task.reason == f"not found when verifying ({REFUSED.problem})"


# -- what each answer leads to ------------------------------------------------------------


def test_a_refusal_with_the_numbers_still_shown_is_final_without_waiting() -> None:
    stop = Pauses()
    listing = Listing(done_at=None, stop=stop)

    verified = verify(listing, REFUSED)

    assert set(outcomes(verified).values()) == {Outcome.REFUSED}
    assert verified.again == ()
    assert stop.pauses == []
    assert len(listing.reads) == 1


def test_a_lost_answer_with_the_numbers_unchanged_is_to_be_sent_again_never_settled() -> None:
    listing = Listing(done_at=None)

    verified = verify(listing, LOST)

    assert verified.settled == ()
    assert [task.licence_ref for task in verified.again] == ["FPC367131", "FPC367123"]


def test_a_lost_answer_the_portal_acted_on_is_done() -> None:
    verified = verify(Listing(done_at=1), LOST)

    assert set(outcomes(verified).values()) == {Outcome.DONE}
    assert {task.reason for task in verified.settled} == {f"verified after: {LOST.problem}"}


def test_a_lost_answer_is_read_only_after_a_backoff_growing_with_the_runs_lost_answers() -> None:
    waits = []
    for clicks in (1, 3):
        stop = Pauses()
        listing = Listing(done_at=None, stop=stop)

        verify(listing, LOST, batch(*NUMBERS, submissions=clicks))

        (wait,) = stop.pauses
        waits.append(wait)
        assert listing.searches >= 1  # read after it, never before: one pause, then reads
    first, third = (DEFAULT_POLICY.base * 2.0 ** (n - 1) for n in (1, 3))
    assert first / 2 <= waits[0] <= first
    assert third / 2 <= waits[1] <= third


def test_a_signal_in_the_backoff_after_a_lost_answer_leaves_it_unknown_without_reading() -> None:
    listing = Listing(done_at=None, stop=Pauses(signal_in=1))

    verified = verify(listing, LOST)

    assert listing.searches == 0
    assert verified.again == ()
    assert set(outcomes(verified).values()) == {Outcome.UNKNOWN}


def test_an_accepted_or_refused_answer_is_read_at_once() -> None:
    for answer in (CONFIRMED, REFUSED):
        stop = Pauses()

        verify(Listing(done_at=1, stop=stop), answer)

        assert stop.pauses == []


# -- waiting for the back end ---------------------------------------------------------------


def test_an_accepted_dissociation_still_listed_is_read_again_until_shown_done() -> None:
    stop = Pauses()
    listing = Listing(done_at=4, stop=stop)

    with capture_logs() as logs:
        verified = verify(listing, CONFIRMED)

    assert outcomes(verified) == {"FPC367131": Outcome.DONE, "FPC367123": Outcome.DONE}
    assert {task.reason for task in verified.settled} == {None}  # verified, not assumed
    # The first search, then the same search asked again on screen at each poll.
    assert (
        listing.reads
        == [("listing", TAB, "FPC3671", False)] + [("listing", TAB, "FPC3671", True)] * 3
    )
    assert len(stop.pauses) == 3
    assert [e["event"] for e in logs].count("completion_awaited") == 3


def test_the_pauses_between_two_reads_grow_up_to_their_ceiling() -> None:
    stop = Pauses()

    verify(Listing(done_at=10, stop=stop), CONFIRMED)

    wanted = [min(FIRST_PAUSE_S * PAUSE_GROWTH**n, MAX_PAUSE_S) for n in range(9)]
    assert stop.pauses == pytest.approx(wanted)
    assert stop.pauses[-1] == MAX_PAUSE_S


class OneAfterTheOther(Listing):
    """FPC367131 done at the second search, FPC367123 at the fourth."""

    def rows(self) -> list[LicenceRow]:
        done = {"FPC367131"} if self.searches >= 2 else set()
        done |= {"FPC367123"} if self.searches >= 4 else set()
        return [row(ref, None if ref in done else NUMBERS[ref]) for ref in self.refs]


def test_one_licence_done_early_is_settled_and_only_the_other_is_waited_for() -> None:
    listing = OneAfterTheOther(done_at=None)

    verified = verify(listing, CONFIRMED)

    assert [task.licence_ref for task in verified.settled] == ["FPC367131", "FPC367123"]
    assert set(outcomes(verified).values()) == {Outcome.DONE}
    assert [read[2] for read in listing.reads] == ["FPC3671", "FPC3671", "FPC367123", "FPC367123"]


def test_past_the_completion_timeout_it_is_in_progress_and_said_so() -> None:
    stop = Pauses(sleeps=True)
    listing = Listing(done_at=None, timeout=0.3, stop=stop)

    with capture_logs() as logs:
        verified = verify(listing, CONFIRMED)

    assert set(outcomes(verified).values()) == {Outcome.IN_PROGRESS}
    reason = verified.settled[0].reason or ""
    assert reason.startswith(f"accepted (« {STATUS} »), still listed after 0.3 s")
    assert "do not redo it" in reason
    assert sum(stop.pauses) == pytest.approx(0.3, abs=0.05)  # never a pause past the timeout
    (warning,) = [e for e in logs if e["event"] == "completion_not_shown"]
    assert warning["licences"] == ["FPC367131", "FPC367123"]


def test_a_row_showing_the_portal_at_work_is_waited_for_whatever_the_answer() -> None:
    listing = Listing(done_at=3, state="Dissociation en cours")

    verified = verify(listing, LOST)  # the answer lost, the request reached the portal

    assert set(outcomes(verified).values()) == {Outcome.DONE}
    assert verified.again == ()  # never sent again while the portal works on it


def test_a_signal_during_a_pause_ends_the_wait_and_leaves_them_in_progress() -> None:
    stop = Pauses(signal_in=2)
    listing = Listing(done_at=None, stop=stop)

    with capture_logs():
        verified = verify(listing, CONFIRMED)  # the runner stops next, at its safe point

    assert len(stop.pauses) == 2
    assert len(listing.reads) == 2  # no read after the signal
    assert set(outcomes(verified).values()) == {Outcome.IN_PROGRESS}
    assert all(task.accepted for task in verified.settled)
    assert "the run was interrupted" in (verified.settled[0].reason or "")


# -- licences accepted by an earlier run ----------------------------------------------------


def earlier(*refs: str) -> list[LicenceTask]:
    return [
        task.settle(Outcome.IN_PROGRESS, "accepted in an earlier run")
        for task in batch(*refs, submissions=1)
    ]


def test_licences_an_earlier_run_left_in_progress_are_done_once_shown_without_numbers() -> None:
    listing = Listing(done_at=2)

    settled = Verifier(cast(Listings, listing)).await_earlier(TAB, earlier(*NUMBERS))

    assert [task.outcome for task in settled] == [Outcome.DONE, Outcome.DONE]
    assert "the earlier « Valider » took effect" in (settled[0].reason or "")
    assert [read[3] for read in listing.reads] == [False, True]  # a search, then asked again


def test_licences_an_earlier_run_left_are_kept_in_progress_past_the_timeout() -> None:
    listing = Listing(done_at=None, timeout=0.2, stop=Pauses(sleeps=True))
    waiting = earlier("FPC367131")

    settled = Verifier(cast(Listings, listing)).await_earlier(TAB, waiting)

    assert settled == waiting  # as they were: in progress
