"""A batch's rules, as functions over plain data: no browser, no portal, no terminal.

What a row's outcome is called in every output, whether a row of an approved plan was
applied as approved, which rows make the plan a dry run writes, which service refs are
closest to an unknown one, how the rows are shared between workers, and how fast a run
goes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from myopenip_bot.batch.journal import STATES, JournalRow, Stage, State
from myopenip_bot.models import Outcome

__all__ = [
    "MIN_PART_ROWS",
    "OUTCOMES",
    "SUCCESSES",
    "WorkPart",
    "as_approved",
    "closest_refs",
    "outcome_of",
    "pace",
    "plan_rows",
    "split_work",
]

# Every outcome a row of a batch may have in an output (docs/json.md), in report order:
# the runner's (models.Outcome), and "pending" for a row no run settled yet.
OUTCOMES: tuple[State, ...] = (
    Outcome.DONE,
    Outcome.ALREADY_DONE,
    Outcome.WOULD_DO,
    Outcome.REFUSED,
    Outcome.NOT_CONFIRMED,
    Outcome.FAILED,
    Outcome.UNKNOWN,
    Outcome.IN_PROGRESS,
    Stage.PENDING,
)
# Outcomes that leave nothing for a person to do.
SUCCESSES = frozenset({Outcome.DONE, Outcome.ALREADY_DONE, Outcome.WOULD_DO})
# A service's rows are split between workers only in parts of at least this many rows:
# each part costs a worker the service's opening, its tabs' reading, a dialog and a
# verification of its own (about 2.7 s at 150 ms of latency, against 0.27 s a row).
MIN_PART_ROWS = 10
# A rate is shown once the run has worked this long: before, one row settled says little.
PACE_AFTER_SECONDS = 5.0


def outcome_of(state: str, *, would_do: bool = False, not_confirmed: bool = False) -> State:
    """A row's outcome in every output, from its journal state (one of OUTCOMES).

    A dry run's row the dialog listed is "would_do"; a row read but not settled
    ("planned") or never reached is "pending" — "not_confirmed" when a person said no; a
    row whose « Valider » answer was never read ("submitting") is "unknown": a rerun
    settles it by reading the portal.
    """
    if would_do:
        return Outcome.WOULD_DO
    if state in (Stage.PENDING, Stage.PLANNED):
        return Outcome.NOT_CONFIRMED if not_confirmed else Stage.PENDING
    if state == Stage.SUBMITTING:
        return Outcome.UNKNOWN
    return STATES[state]


def as_approved(row: JournalRow, outcome: str) -> bool | None:
    """Whether a row whose file gave its number (an approved plan) was done — or, in a dry
    run, would be — with exactly that number: None when the file gave none."""
    if row.number is None:
        return None
    return outcome in (Outcome.DONE, Outcome.WOULD_DO) and row.planned_number == row.number


def plan_rows(rows: Iterable[JournalRow], outcomes: Mapping[str, str]) -> list[JournalRow]:
    """The rows a dry run's plan holds: those it would do (each with the number read);
    rows refused, already done or not reached stay out (the report says why)."""
    return [
        row for row in rows if outcomes.get(row.licence) == Outcome.WOULD_DO and row.planned_number
    ]


def closest_refs(ref: str, listed: Sequence[str], count: int = 3) -> list[str]:
    """The refs of `listed` closest to `ref` (an unknown service), best first: the fewest
    characters to change (a typo), then the nearest number, then the most alike; none
    when `ref` itself is listed or nothing is alike."""
    wanted = ref.upper()
    if wanted in {item.upper() for item in listed}:
        return []
    alike = [
        (_edits(wanted, item.upper()), _number_gap(wanted, item), -ratio, item)
        for item in set(listed)
        if (ratio := difflib.SequenceMatcher(None, wanted, item.upper()).ratio()) >= 0.6
    ]
    return [item for *_, item in sorted(alike)[:count]]


def _number_gap(a: str, b: str) -> int:
    """How far apart the numbers that end two refs are (0 when one has none)."""
    ends = [re.search(r"[0-9]+$", text) for text in (a, b)]
    if ends[0] is None or ends[1] is None:
        return 0
    return abs(int(ends[0][0]) - int(ends[1][0]))


def _edits(a: str, b: str) -> int:
    """Characters to insert, delete or replace to make `a` into `b` (Levenshtein)."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1]


def pace(settled: int, left: int, seconds: float) -> tuple[float | None, float | None]:
    """(rows a minute, seconds left) of a run that settled `settled` rows in `seconds` of
    work and has `left` to go: the mean since it began, so that rows settled together
    (a dialog's, a refused service's) do not make a burst look like a rate. None until
    the run has settled a row and worked PACE_AFTER_SECONDS."""
    if settled <= 0 or seconds < PACE_AFTER_SECONDS:
        return None, None
    per_second = settled / seconds
    return per_second * 60, left / per_second


@dataclass(frozen=True)
class WorkPart:
    """What one worker takes at a time: rows of one service (`licences`, in the file's
    order), part `part` of the `parts` that service was split into (1 of 1: whole)."""

    service: str
    licences: tuple[str, ...]
    part: int = 1
    parts: int = 1


def split_work(
    by_service: Mapping[str, Sequence[str]], workers: int, min_rows: int = MIN_PART_ROWS
) -> list[WorkPart]:
    """The parts `workers` take from their queue, every licence of `by_service` (a
    service's licences left to do, in the file's order) in exactly one part.

    Services stay whole while there are at least as many as workers. Fewer services than
    workers: the service with the most rows a part is split once more, again and again,
    until there are as many parts as workers or no part of `min_rows` rows or more would
    be left; a split service's parts are runs of consecutive rows whose sizes differ by one
    at most. The biggest parts are taken first (the last worker to finish waits least),
    in the file's order among equals."""
    counts = {service: 1 for service, licences in by_service.items() if licences}
    while sum(counts.values()) < workers:
        splittable = [
            service
            for service, parts in counts.items()
            if len(by_service[service]) // (parts + 1) >= min_rows
        ]
        if not splittable:
            break
        widest = max(splittable, key=lambda service: len(by_service[service]) / counts[service])
        counts[widest] += 1
    out: list[WorkPart] = []
    for service, parts in counts.items():
        licences = tuple(by_service[service])
        size, extra = divmod(len(licences), parts)
        start = 0
        for index in range(parts):
            end = start + size + (1 if index < extra else 0)
            out.append(WorkPart(service, licences[start:end], index + 1, parts))
            start = end
    return sorted(out, key=lambda part: -len(part.licences))
