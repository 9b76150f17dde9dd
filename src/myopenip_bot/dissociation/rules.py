"""The dissociation's rules, as functions over plain data: no browser, no portal.

Each takes licence tasks (models.LicenceTask) and what the portal showed, and returns new
tasks: which request is refused before anything is clicked, what a listed row means for
a task, whether a dialog is the plan, and what the portal's answer to « Valider » and a
fresh read mean for each licence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from myopenip_bot.config.selectors import Texts
from myopenip_bot.ledger.entries import Entry, local_minute
from myopenip_bot.lookup.rules import name_likeness
from myopenip_bot.models import LicenceTask, Outcome, Tab, format_number, name_key
from myopenip_bot.pages import AnswerKind, LicenceRow, SubmitAnswer

__all__ = [
    "RESUBMISSIONS_PER_RUN",
    "STILL_WORKING",
    "TAB_ORDER",
    "AfterValider",
    "DialogShows",
    "all_or_nothing",
    "before_again",
    "clicks_this_run",
    "common_prefix",
    "completion",
    "dissociated",
    "earlier_shown",
    "found",
    "no_longer_accepted",
    "not_held",
    "read_back_problems",
    "refuse_repeated",
    "refuse_same_licence",
    "same_user",
    "settle_after_valider",
    "settle_unread",
    "still_in_progress",
    "stopped",
    "user_holder",
    "with_earlier",
]

# Tabs in the order the guide searches them.
TAB_ORDER = (Tab.UTILISATEURS, Tab.GROUPEMENTS)
# « Valider » clicks sent again for one licence within one run after its answer was lost
# (a 5xx before the portal acted, a timeout, a cut connection), each after a backoff and a
# fresh read showing it still has its number. Beyond them it is unknown, never failed: a
# rerun reads it and may send it again (no cap across runs: a lost answer is technical).
# A run is one Runner.run: a batch's service tried again after a technical failure is a
# new one (at most the retry policy's attempts a night).
RESUBMISSIONS_PER_RUN = 3
# What an accepted dissociation the portal does not show yet asks of a person.
STILL_WORKING = "the portal is still at work; do not redo it there, run again later to confirm"


def refuse_repeated(tasks: Sequence[LicenceTask]) -> list[LicenceTask]:
    """The same ref, or the same number, asked twice: every such entry is refused."""
    result = list(tasks)
    for key in ("licence_ref", "number", "user"):
        seen: dict[str, list[int]] = {}
        for position, task in enumerate(result):
            value = getattr(task.target, key)
            if value:
                shown = _user_words(value) if key == "user" else value.upper()
                seen.setdefault(shown, []).append(position)
        for value, positions in seen.items():
            if len(positions) > 1:
                for position in positions:
                    if result[position].outcome is None:
                        result[position] = result[position].settle(
                            Outcome.REFUSED,
                            f"{value} is given {len(positions)} times: refused as a duplicate",
                        )
    return result


def _user_words(name: str) -> str:
    return " ".join(sorted(name_key(name).split()))


def same_user(listed: str, given: str) -> bool:
    """Whether the listing's « Utilisateur » `listed` is the user `given`: the whole name,
    without case nor accents, its words in any order ("André Lina" is "Lina André");
    never a part of it ("Lina" is not "Lina André")."""
    words = _user_words(given)
    return bool(words) and _user_words(listed) == words


# How alike a user's name must read to be proposed, and how many are.
_USER_LIKENESS = 0.6
_USERS_PROPOSED = 3


def closest_users(given: str, users: Iterable[str]) -> list[str]:
    """The users of the listing whose name reads most like `given` (a first name alone,
    a typo, words swapped: « Anna » proposes « Anna Moreau » and « Anna Garcia »)."""
    words = set(name_key(given).split())
    scored = []
    for user in dict.fromkeys(u for u in users if u.strip()):
        likeness = name_likeness(given, user)
        if words and words <= set(name_key(user).split()):
            likeness = max(likeness, 0.9)  # every word given is one of its words
        if likeness >= _USER_LIKENESS:
            scored.append((-likeness, user))
    return [user for _, user in sorted(scored)[:_USERS_PROPOSED]]


def user_holder(
    given: str, listed: Iterable[tuple[Tab, LicenceRow]], service: str
) -> tuple[tuple[Tab, LicenceRow] | None, str | None]:
    """The one licence of `service` whose user is `given`, among every one listed (both
    tabs): (it, None), or (None, why it is refused: none, or several, each named with its
    number, user and site, for a person to choose by --licence)."""
    holding = [(tab, row) for tab, row in listed if same_user(row.user, given)]
    if len(holding) == 1:
        return holding[0], None
    if not holding:
        close = closest_users(given, (row.user for _, row in listed))
        hint = f"; did you mean {' or '.join(f'« {name} »' for name in close)}?" if close else ""
        return None, (
            f"no licence of {service} has the user « {given} » (searched Utilisateurs and "
            f"Groupements; the whole name, as « Utilisateur » shows it){hint}"
        )
    candidates = "; ".join(
        " · ".join(
            part
            for part in (
                row.ref,
                format_number(row.number) if row.number else "no number",
                row.user,
                row.site,
            )
            if part
        )
        for _, row in holding
    )
    return None, (
        f"{len(holding)} licences of {service} have the user « {given} » ({candidates}): "
        "refused; give the one meant by --licence"
    )


def found(
    task: LicenceTask,
    tab: Tab,
    row: LicenceRow,
    *,
    working: bool = False,
    dissociation: Entry | None = None,
) -> LicenceTask:
    """What the row the portal lists for `task` means: planned, already done (no number;
    `dissociation`, the ledger's record of the bot dissociating it, dates it), done by an
    earlier run's « Valider », in progress (an earlier « Valider » accepted, or the row
    shows the portal working on it: `working`), or refused (the number given is not the
    licence's). A licence whose earlier « Valider » answers were lost and that still
    shows its number is planned again: how many times it was clicked never fails it (a
    lost answer is technical; only the portal's refusal is final)."""
    task = replace(
        task,
        licence_ref=row.ref,
        tab=tab,
        number=row.number,
        type=row.type,
        user=row.user,
        site=row.site,
    )
    earlier = task.target.accepted
    if row.number is None and (task.submissions or earlier):
        if earlier is not None:
            task = replace(task, number=earlier)  # the number the earlier run took off
        return task.settle(
            Outcome.DONE, f"{row.ref} has no number any more: the earlier « Valider » took effect"
        )
    if row.number is None and dissociation is not None:
        gone = format_number(dissociation.number) if dissociation.number else "its number"
        return task.settle(
            Outcome.ALREADY_DONE,
            f"{row.ref} has no number: {gone} {dissociated(dissociation)}; nothing to do",
        )
    if row.number is None:
        return task.settle(Outcome.ALREADY_DONE, f"{row.ref} has no number: nothing to do")
    if earlier is not None and earlier == row.number:
        return task.settle(
            Outcome.IN_PROGRESS,
            f"accepted in an earlier run, still listed with {format_number(row.number)}: "
            f"{STILL_WORKING}",
        )
    if task.target.number is not None and task.target.number != row.number:
        return task.settle(
            Outcome.REFUSED,
            f"{row.ref}'s number is {format_number(row.number)}, "
            f"not {format_number(task.target.number)}: refused",
        )
    if working:
        return task.settle(
            Outcome.IN_PROGRESS,
            f"« {row.state} »: a dissociation is under way, nothing was sent; {STILL_WORKING}",
        )
    return task


def not_held(task: LicenceTask, service: str, dissociation: Entry | None = None) -> LicenceTask:
    """A task given by number that no licence of `service` lists (either tab): already
    done when the bot has evidence that it dissociated it there — `dissociation`, the ledger's
    record of it (dated), or the bot's record of the portal accepting it (`accepted`) —
    else refused: a wrong number is never read as done (it may be another service's or
    another client's, still assigned and billed)."""
    number = format_number(task.target.number or "")
    if dissociation is not None:
        if dissociation.licence:  # the licence it was taken from, for the tables
            task = replace(task, licence_ref=dissociation.licence)
        return task.settle(
            Outcome.ALREADY_DONE,
            f"no licence of {service} holds {number} any more: "
            f"{dissociated(dissociation, licence=True)}; nothing to do",
        )
    if task.target.accepted is not None:
        return task.settle(
            Outcome.ALREADY_DONE,
            f"no licence of {service} holds {number} any more: the portal accepted its "
            "dissociation in an earlier run (the bot's records); nothing to do",
        )
    return task.settle(
        Outcome.REFUSED,
        f"no licence of {service} holds {number}: check the number (it may be another "
        "service's or another client's)",
    )


def user_gone(
    task: LicenceTask, service: str, refused: str, dissociation: Entry | None
) -> LicenceTask:
    """A task given by its user's name that no licence of `service` has: already done when
    the ledger records the bot freeing that user's licence there (`dissociation`, dated:
    the portal blanks « Utilisateur » with the number), else refused (`refused` says why)."""
    if dissociation is None:
        return task.settle(Outcome.REFUSED, refused)
    user = task.target.user or ""
    if dissociation.licence:
        task = replace(task, licence_ref=dissociation.licence)
    return task.settle(
        Outcome.ALREADY_DONE,
        f"no licence of {service} has the user « {user} » any more: "
        f"{dissociated(dissociation, licence=True)}; nothing to do",
    )


def dissociated(entry: Entry, *, licence: bool = False) -> str:
    """ "dissociated on 2026-12-07 14:02 by agent1 (ticket INC-1001)": what the ledger's
    entry says of an earlier dissociation (local time; `licence`: from which licence)."""
    verb = "dissociated" if entry.outcome == Outcome.DONE.value else "accepted for dissociation"
    where = f" from {entry.licence}" if licence and entry.licence else ""
    who = entry.os_user if entry.os_user not in ("", "?") else entry.portal_user
    by = f" by {who}" if who else ""
    ticket = f" (ticket {entry.ticket})" if entry.ticket else ""
    return f"{verb}{where} on {local_minute(entry.at)}{by}{ticket}"


def clicks_this_run(task: LicenceTask) -> int:
    """« Valider » clicks with `task` in the dialog by this run (earlier runs' not counted)."""
    return task.submissions - task.target.submitted


def before_again(task: LicenceTask, row: LicenceRow, *, working: bool = False) -> LicenceTask:
    """A licence about to be submitted once more (an earlier « Valider » for it was clicked
    and its answer lost), as the listing shows it right before: done when its number is
    gone (that « Valider » took effect after all), in progress when the row shows the
    portal at work on it (never sent again); else as it was, to be submitted."""
    if not task.submissions:
        return task
    if row.number is None:
        return task.settle(
            Outcome.DONE,
            f"{row.ref} has no number any more: the earlier « Valider » took effect",
        )
    if working:
        return task.settle(
            Outcome.IN_PROGRESS,
            f"« {row.state} »: the portal is at work on it after a « Valider » whose answer "
            f"was lost; nothing was sent again; {STILL_WORKING}",
        )
    return task


def with_earlier(tasks: Sequence[LicenceTask], earlier: Mapping[str, str]) -> list[LicenceTask]:
    """Each task told the number an earlier run's « Valider » for its licence was accepted
    with, from the bot's records (`earlier`: licence ref -> ten digits); a task given only
    by number is matched by that number. A task told already (a batch's journal) keeps it."""
    by_number = {number: ref for ref, number in earlier.items()}
    told = []
    for task in tasks:
        target = task.target
        number = None
        if target.licence_ref is not None:
            number = earlier.get(target.licence_ref.upper())
        elif target.number is not None and target.number in by_number:
            number = target.number
        if number is None or target.accepted is not None or task.outcome is not None:
            told.append(task)
        else:
            told.append(replace(task, target=replace(target, accepted=number)))
    return told


def no_longer_accepted(tasks: Sequence[LicenceTask], earlier: Mapping[str, object]) -> list[str]:
    """The licences the records held that the plan found otherwise than in progress
    (done, without a number, with another one): their records are over."""
    return [
        task.licence_ref
        for task in tasks
        if task.licence_ref is not None
        and task.licence_ref in earlier
        and task.outcome is not Outcome.IN_PROGRESS
    ]


def refuse_same_licence(tasks: Sequence[LicenceTask]) -> list[LicenceTask]:
    """Two entries that turned out to be one licence (a ref and its number): both refused."""
    result = list(tasks)
    by_ref: dict[str, list[int]] = {}
    for position, task in enumerate(result):
        if task.licence_ref is not None and task.outcome in (None, Outcome.ALREADY_DONE):
            by_ref.setdefault(task.licence_ref, []).append(position)
    for ref, positions in by_ref.items():
        if len(positions) > 1:
            given = " and ".join(result[p].target.label() for p in positions)
            for position in positions:
                result[position] = result[position].settle(
                    Outcome.REFUSED, f"{given} are the same licence {ref}: duplicate"
                )
    return result


def all_or_nothing(tasks: Sequence[LicenceTask]) -> tuple[list[LicenceTask], str | None]:
    """A person's request is done whole or not at all: when one was refused, every planned
    one is skipped; returns the tasks and the run-level message naming each refusal."""
    refused = [task for task in tasks if task.outcome is Outcome.REFUSED]
    if not refused:
        return list(tasks), None
    names = ", ".join(task.target.label() for task in refused)
    others = any(task.outcome is None for task in tasks)
    message = (
        f"{len(refused)} of {len(tasks)} licence(s) refused when planning ({names}): "
        "nothing was done" + (" (--skip-refused acts on the others)" if others else "")
    )
    skipped = [
        task.settle(Outcome.SKIPPED, f"not attempted: {message}") if task.outcome is None else task
        for task in tasks
    ]
    return skipped, message


@dataclass(frozen=True)
class DialogShows:
    """What the dissociation dialog lists, as read from the screen."""

    pairs: tuple[tuple[str, str], ...]  # (licence ref, ten digits) under « Numéros à dissocier »
    without_number: tuple[str, ...]  # refs listed under « Licences sans numéro »
    keep_selects: int  # « Conserver le numéro … » choices
    kept: dict[str, str]  # number -> the option its choice shows ("Oui" / "Non"), if read


def read_back_problems(
    batch: Sequence[LicenceTask], shows: DialogShows, texts: Texts, *, check_keep: bool
) -> list[str]:
    """Why the dialog is not exactly the plan for `batch` (empty: it is)."""
    expected = {(task.licence_ref or "", task.number or "") for task in batch}
    problems: list[str] = []
    if set(shows.pairs) != expected or len(shows.pairs) != len(expected):
        problems.append(f"it lists {pairs_text(shows.pairs)}")
    if shows.without_number:
        listed = ", ".join(shows.without_number)
        problems.append(f"it lists {listed} under {texts.without_number!r}")
    if not problems and shows.keep_selects != len(expected):
        problems.append(f"it has {shows.keep_selects} 'Conserver le numéro' choices")
    if not problems and check_keep:
        for task in batch:
            wanted = texts.keep_yes if task.keep else texts.keep_no
            shown = shows.kept.get(task.number or "", "")
            if shown != wanted:
                problems.append(
                    f"'Conserver le numéro {format_number(task.number or '')}' shows {shown!r}"
                )
    return problems


@dataclass(frozen=True)
class AfterValider:
    """Each licence of a dialog after « Valider » and a fresh read: settled, to submit
    once more (its answer was lost and nothing was done), or `waiting` for the portal to
    show what it accepted."""

    settled: tuple[LicenceTask, ...] = ()
    again: tuple[LicenceTask, ...] = ()
    waiting: tuple[LicenceTask, ...] = ()


def settle_after_valider(
    batch: Sequence[LicenceTask],
    answer: SubmitAnswer,
    now: dict[str, LicenceRow],
    *,
    working: frozenset[str] = frozenset(),
) -> AfterValider:
    """Each licence's outcome from the portal's answer and a fresh read of it (`now`, by
    ref; `working`, the refs whose row shows the portal working on them).

    The status message means *accepted*: a licence it covers that the portal still lists
    with its number is waiting, as is one whose row shows the portal at work whatever the
    answer (a lost answer that reached it, or a refusal of a second request). A refusal
    is final. A lost answer (5xx, timeout, cut connection) is technical: with the number
    still shown, the licence is submitted once more, up to RESUBMISSIONS_PER_RUN times in
    a run; beyond, it is unknown (a rerun reads it and may send it again), never failed.
    """
    settled: list[LicenceTask] = []
    again: list[LicenceTask] = []
    waiting: list[LicenceTask] = []
    for task in batch:
        row = now.get(task.licence_ref or "")
        if row is not None and row.number is None:
            settled.append(task.settle(Outcome.DONE, _done_reason(answer)))
        elif row is None:
            why = answer.problem or answer.status
            settled.append(task.settle(Outcome.FAILED, f"not found when verifying ({why})"))
        elif answer.kind is AnswerKind.CONFIRMED or task.licence_ref in working:
            waiting.append(task)
        elif answer.kind is AnswerKind.REFUSED and task.submissions > 1:
            # A « Valider » after one whose answer was lost, refused, the row not at work:
            # a refusal is final (never sent again); the lost one may yet take effect.
            settled.append(
                task.settle(
                    Outcome.REFUSED,
                    f"{refused_reason(answer)}; it was sent again after a « Valider » whose "
                    "answer was lost, which may yet take effect: check it in the portal",
                )
            )
        elif answer.kind is AnswerKind.REFUSED:
            settled.append(task.settle(Outcome.REFUSED, refused_reason(answer)))
        elif row.number != task.number:
            settled.append(
                task.settle(
                    Outcome.FAILED,
                    f"its number changed after « Valider » (now {format_number(row.number or '')}"
                    f", was {format_number(task.number or '')}; {answer.problem or 'no answer'})",
                )
            )
        elif clicks_this_run(task) <= RESUBMISSIONS_PER_RUN:
            # The answer was lost and the fresh read shows that nothing was done (an
            # expired session, a 5xx before the portal acted): submit once more.
            again.append(task)
        else:
            clicks = clicks_this_run(task)
            settled.append(
                task.settle(
                    Outcome.UNKNOWN,
                    f"the answer to « Valider » was lost {clicks} times in this run (the last:"
                    f" {answer.problem or 'no answer'}) and the portal still shows "
                    f"{format_number(row.number or '')}: nothing was done yet; rerun to "
                    "settle (it reads the portal first, and submits only if the number is "
                    "still there)",
                )
            )
    return AfterValider(tuple(settled), tuple(again), tuple(waiting))


def completion(
    waiting: Sequence[LicenceTask], answer: SubmitAnswer, now: dict[str, LicenceRow]
) -> tuple[list[LicenceTask], list[LicenceTask]]:
    """A new read of licences waiting for the portal to show a dissociation it accepted:
    (those now shown without their number: done, those still waiting)."""
    done: list[LicenceTask] = []
    left: list[LicenceTask] = []
    for task in waiting:
        row = now.get(task.licence_ref or "")
        if row is not None and row.number is None:
            done.append(task.settle(Outcome.DONE, _done_reason(answer)))
        else:
            left.append(task)
    return done, left


def earlier_shown(
    waiting: Sequence[LicenceTask], now: dict[str, LicenceRow]
) -> tuple[list[LicenceTask], list[LicenceTask]]:
    """A new read of licences in progress since an earlier run: (those now shown without
    their number: done by that earlier « Valider », those still listed)."""
    done: list[LicenceTask] = []
    left: list[LicenceTask] = []
    for task in waiting:
        row = now.get(task.licence_ref or "")
        if row is not None and row.number is None:
            reason = (
                f"{task.licence_ref} has no number any more: the earlier « Valider » took effect"
            )
            done.append(task.settle(Outcome.DONE, reason))
        else:
            left.append(task)
    return done, left


def still_in_progress(task: LicenceTask, answer: SubmitAnswer, seconds: float) -> LicenceTask:
    """A licence the portal accepted and still lists with its number after `seconds`."""
    said = (
        f"accepted (« {answer.status} »)"
        if answer.status
        else ("accepted" if answer.confirmed else "shown under way")
    )
    return task.settle(
        Outcome.IN_PROGRESS, f"{said}, still listed after {seconds:g} s: {STILL_WORKING}"
    )


def settle_unread(
    batch: Sequence[LicenceTask], answer: SubmitAnswer, why: str
) -> list[LicenceTask]:
    """A batch whose verification will not run (the run is stopping): `why` says so."""
    settled = []
    for task in batch:
        if answer.kind is AnswerKind.CONFIRMED:
            said = f" (« {answer.status} »)" if answer.status else ""
            reason = f"accepted{said}, not read back: {why}; {STILL_WORKING}"
            settled.append(task.settle(Outcome.IN_PROGRESS, reason))
        elif answer.kind is AnswerKind.REFUSED:
            settled.append(task.settle(Outcome.REFUSED, refused_reason(answer)))
        else:
            settled.append(
                task.settle(
                    Outcome.UNKNOWN,
                    f"Valider was clicked and its answer was lost ({answer.problem}); {why}: "
                    "rerun to settle",
                )
            )
    return settled


def stopped(task: LicenceTask, error: str) -> LicenceTask:
    """A task the run stopped before settling: in progress once the portal accepted it,
    unknown once « Valider » was clicked for it (a rerun reads the portal), else not
    attempted."""
    if task.outcome is not None:
        return task
    if task.accepted or task.target.accepted is not None:
        return task.settle(
            Outcome.IN_PROGRESS,
            f"accepted by the portal, not shown done yet when the run stopped ({error}); do "
            "not redo it in the portal, run again later to confirm",
        )
    if task.submissions:
        return task.settle(
            Outcome.UNKNOWN,
            f"Valider was clicked but the outcome was not read ({error}): rerun to settle",
        )
    return task.settle(Outcome.SKIPPED, f"not attempted: {error}")


def refused_reason(answer: SubmitAnswer) -> str:
    return f"the portal refused it: « {answer.problem} »"


def common_prefix(texts: Iterable[str]) -> str:
    """The longest text every one of `texts` starts with: a filter that shows them all."""
    given = list(texts)
    first, last = min(given, default=""), max(given, default="")
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def pairs_text(pairs: Iterable[tuple[str, str]]) -> str:
    """ "[FPC367128 02 31 45 67 89, …]" for messages."""
    return "[" + ", ".join(f"{ref} {format_number(number)}" for ref, number in sorted(pairs)) + "]"


def _done_reason(answer: SubmitAnswer) -> str | None:
    if answer.kind is AnswerKind.CONFIRMED:
        return None
    if answer.kind is AnswerKind.REFUSED:
        return f"the portal answered « {answer.problem} », yet the number is gone"
    return f"verified after: {answer.problem}"
