"""The plan: which licence each task means, its tab and its number, before anything changes.

A task is found by ref or by number, with as few searches as the screen allows: first
in what each tab shows as it opens (Utilisateurs, then Groupements, the guide's order; a
row on screen is proof of where a licence is listed, and costs no search), then, for
those not shown, by searches, from the tab on screen. It must match exactly one row: the
portal's filters match substrings. A task
given by its user's name is found among every licence listed (the tabs have no user
filter): exactly one must have that « Utilisateur ». What a row means for a task is a
rule (rules.found), and so is a number no licence holds (rules.not_held); this module
only reads the listings, and asks `Evidence` (the ledger) what the bot did earlier with
the licences listed without a number and the numbers no licence holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import structlog

from myopenip_bot.dissociation.rules import (
    TAB_ORDER,
    common_prefix,
    found,
    not_held,
    same_user,
    user_gone,
    user_holder,
)
from myopenip_bot.errors import LicenceNotFoundError
from myopenip_bot.ledger.entries import Entry, user_key
from myopenip_bot.models import LicenceTask, Outcome, Tab, Target
from myopenip_bot.pages import LicenceRow, shows_working
from myopenip_bot.portal.listings import Listings

__all__ = ["Evidence", "Planner", "no_evidence"]

log = structlog.get_logger(__name__)

#: What the bot's ledger says it dissociated on the service being planned, for each of
#: the keys asked (numbers' ten digits, licence refs upper-cased): by key, the entry.
Evidence = Callable[[Sequence[str]], Mapping[str, Entry]]
# Where a task was looked for: its tab and row, nowhere (None), or its refusal.
_Looked = tuple[Tab, LicenceRow] | LicenceTask | None


def no_evidence(keys: Sequence[str]) -> Mapping[str, Entry]:
    """No ledger: nothing is known of earlier runs."""
    return {}


class Planner:
    """Finds each task's licence on the portal; returns the tasks, some of them settled."""

    def __init__(self, listings: Listings, evidence: Evidence = no_evidence) -> None:
        self.listings = listings
        self.evidence = evidence

    def plan(self, tasks: Sequence[LicenceTask]) -> list[LicenceTask]:
        """Every task without an outcome, looked up: by user's name (every licence of the
        service listed once, rules.user_holder), else by ref or number (`_plan_given`)."""
        by_user = [t for t in tasks if t.outcome is None and t.target.user is not None]
        if not by_user:
            return self._plan_given(tasks)
        listed = self._every_licence()
        service = self.listings.service_ref
        planned: dict[int, LicenceTask] = {}
        for task in by_user:
            assert task.target.user is not None
            holding, refused = user_holder(task.target.user, listed, service)
            if holding is None:
                assert refused is not None
                key = user_key(task.target.user)
                earlier = None
                if not any(same_user(row.user, task.target.user) for _, row in listed):
                    earlier = self.evidence([key]).get(key)  # none: freed by the bot?
                planned[task.index] = user_gone(task, service, refused, earlier)
            else:
                tab, row = holding
                ref = row.ref.upper()
                earlier = self.evidence([ref]).get(ref) if row.number is None else None
                planned[task.index] = self._found(task, tab, row, earlier)
        others = self._plan_given([t for t in tasks if t.index not in planned])
        planned |= {task.index: task for task in others}
        return [planned[task.index] for task in tasks]

    def _every_licence(self) -> list[tuple[Tab, LicenceRow]]:
        """Every licence of the service, both tabs (the listing has no user filter)."""
        listed: list[tuple[Tab, LicenceRow]] = []
        for tab in TAB_ORDER:
            rows = self.listings.step(
                f"listing every licence in {tab.value}",
                lambda tab=tab: self.listings.rows_matching(tab, ""),  # type: ignore[misc]
            )
            listed += [(tab, row) for row in rows]
        return listed

    def _plan_given(self, tasks: Sequence[LicenceTask]) -> list[LicenceTask]:
        """Every task without an outcome, looked up; several refs from one listing.

        Two or more licences given by ref are looked up in each tab's listing for the
        common prefix of their refs (one search, its pages), in the guide's tab order; a
        ref found in neither listing is refused. A licence given only by number, or a
        single ref, is searched on its own. Then, in one question to `evidence`, what
        the bot did earlier with those listed without a number and the numbers no
        licence holds (a wrong number is refused; one the bot dissociated, dated).
        """
        looked = self._look(tasks)
        earlier = self._earlier(tasks, looked)
        planned = []
        for task in tasks:
            where = looked.get(task.index)
            if task.outcome is not None:
                planned.append(task)
            elif isinstance(where, LicenceTask):
                planned.append(where)
            elif where is not None:
                tab, row = where
                planned.append(self._found(task, tab, row, earlier.get(row.ref.upper())))
            else:
                service = self.listings.service_ref
                planned.append(not_held(task, service, earlier.get(task.target.number or "")))
        return planned

    def _look(self, tasks: Sequence[LicenceTask]) -> dict[int, _Looked]:
        """Where each task without an outcome is listed, by its index: where the tabs show
        it as they open (no search), else by searches from the tab on screen."""
        left = [task for task in tasks if task.outcome is None]
        shown, order = self._on_screen(left)
        looked: dict[int, _Looked] = dict(shown)
        left = [task for task in left if task.index not in shown]
        by_ref = [t for t in left if t.target.licence_ref]
        if len(by_ref) < 2:
            looked |= {task.index: self._look_one(task, order) for task in left}
            return looked
        rows = self._list({(t.target.licence_ref or "").upper() for t in by_ref}, order)
        for task in left:
            ref = (task.target.licence_ref or "").upper()
            if not ref:
                looked[task.index] = self._look_one(task, order)
            elif ref in rows:
                looked[task.index] = rows[ref]
            else:
                looked[task.index] = self._no_licence(task, ref)
        return looked

    def _on_screen(
        self, tasks: Sequence[LicenceTask]
    ) -> tuple[dict[int, tuple[Tab, LicenceRow]], tuple[Tab, ...]]:
        """The tasks each tab shows as it is, in the guide's order, without a search (a
        tab is read only while some are not found): each task shown in exactly one row
        of a tab, by its index; and the order the rest are searched in: a tab that showed
        more pages first (what it did not show may be on them), the tab on screen first
        among equals (no click back to the other one before its own search). The order
        only saves time: every tab is searched until the licence is found."""
        wanted = [t for t in tasks if t.target.licence_ref or t.target.number]
        found: dict[int, tuple[Tab, LicenceRow]] = {}
        read: list[tuple[Tab, bool]] = []
        for tab in TAB_ORDER:
            left = [task for task in wanted if task.index not in found]
            if not left:
                break
            rows, more = self.listings.step(
                f"reading the licences shown in {tab.value}",
                lambda tab=tab: self.listings.rows_shown(tab),  # type: ignore[misc]
            )
            read.append((tab, more))
            for task in left:
                matches = [row for row in rows if _shows(row, task.target)]
                if len(matches) == 1:  # several: the search decides (and refuses)
                    found[task.index] = (tab, matches[0])
        latest_first = read[::-1]
        ordered = [tab for tab, more in latest_first if more]
        ordered += [tab for tab, more in latest_first if not more]
        ordered += [tab for tab in TAB_ORDER if tab not in ordered]
        return found, tuple(ordered)

    def _earlier(
        self, tasks: Sequence[LicenceTask], looked: dict[int, _Looked]
    ) -> Mapping[str, Entry]:
        """What the ledger says of the licences listed without a number (not sent by an
        earlier run) and of the numbers no licence holds."""
        keys = []
        for task in tasks:
            if task.index not in looked:
                continue
            where = looked[task.index]
            if where is None and task.target.number:
                keys.append(task.target.number)
            elif (
                isinstance(where, tuple)
                and where[1].number is None
                and not (task.submissions or task.target.accepted)
            ):
                keys.append(where[1].ref.upper())  # already done: by whom, when?
        return self.evidence(keys) if keys else {}

    def _list(
        self, refs: set[str], order: Sequence[Tab] = TAB_ORDER
    ) -> dict[str, tuple[Tab, LicenceRow]]:
        """Each of `refs` found in the listings of their common prefix, by ref, the tabs
        searched in `order`."""
        left = set(refs)
        rows: dict[str, tuple[Tab, LicenceRow]] = {}
        for tab in order:
            if not left:
                break
            prefix = common_prefix(left)
            listed = self.listings.step(
                f"listing the licences {prefix}… in {tab.value}",
                lambda tab=tab, prefix=prefix: self.listings.rows_matching(tab, prefix),  # type: ignore[misc]
            )
            for row in listed:
                ref = row.ref.upper()
                if ref in left:
                    rows[ref] = (tab, row)
                    left.discard(ref)
        return rows

    def _look_one(self, task: LicenceTask, order: Sequence[Tab] = TAB_ORDER) -> _Looked:
        try:
            found = self.listings.step(
                f"finding {task.target.label()}", lambda: self._find(task.target, order)
            )
        except LicenceNotFoundError as refusal:
            return task.settle(Outcome.REFUSED, str(refusal))
        if found is not None:
            return found
        if task.target.licence_ref:
            return self._no_licence(task, task.target.licence_ref)
        return None  # a number no licence of the service holds: rules.not_held

    def _no_licence(self, task: LicenceTask, ref: str) -> LicenceTask:
        return task.settle(
            Outcome.REFUSED,
            f"no licence {ref} in the service {self.listings.service_ref} "
            "(searched Utilisateurs and Groupements)",
        )

    def _found(
        self, task: LicenceTask, tab: Tab, row: LicenceRow, earlier: Entry | None
    ) -> LicenceTask:
        working = shows_working(row, self.listings.portal.selectors.hints)
        task = found(task, tab, row, working=working, dissociation=earlier)
        if task.outcome is None:
            log.info("licence_planned", licence=row.ref, number=row.number, tab=tab.value)
        return task

    def _find(
        self, target: Target, order: Sequence[Tab] = TAB_ORDER
    ) -> tuple[Tab, LicenceRow] | None:
        ref, number = target.licence_ref, target.number
        search_number = None if ref else number  # a ref is enough to find it
        service = self.listings.service_ref
        for tab in order:
            matches = self.listings.find_rows(tab, ref=ref, number=search_number)
            if len(matches) > 1:
                refs = ", ".join(row.ref for row in matches)
                raise LicenceNotFoundError(
                    f"{len(matches)} licences of {service} match "
                    f"{target.label()} in {tab.value} ({refs}): refused"
                )
            if matches:
                return tab, matches[0]
        return None


def _shows(row: LicenceRow, target: Target) -> bool:
    """Whether `row` is the licence `target` names: its ref (the number is then checked
    by rules.found), else the number it holds."""
    if target.licence_ref:
        return row.ref.upper() == target.licence_ref.upper()
    return target.number is not None and row.number == target.number
