"""The plan: which licence each task means, its tab and its number, before anything changes.

A task is found by ref or by number in Utilisateurs, then Groupements (the guide's
order), and must match exactly one row: the portal's filters match substrings. A task
given by its user's name is found among every licence listed (the tabs have no user
filter): exactly one must have that « Utilisateur ». What a
row means for a task is a rule (rules.found); this module only reads the listings.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from myopenip_bot.dissociation.rules import TAB_ORDER, common_prefix, found, user_holder
from myopenip_bot.errors import LicenceNotFoundError
from myopenip_bot.models import LicenceTask, Outcome, Tab, Target, format_number
from myopenip_bot.pages import LicenceRow, shows_working
from myopenip_bot.portal.listings import Listings

__all__ = ["Planner"]

log = structlog.get_logger(__name__)


class Planner:
    """Finds each task's licence on the portal; returns the tasks, some of them settled."""

    def __init__(self, listings: Listings) -> None:
        self.listings = listings

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
                planned[task.index] = task.settle(Outcome.REFUSED, refused)
            else:
                planned[task.index] = self._found(task, *holding)
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
        single ref, is searched on its own.
        """
        by_ref = [t for t in tasks if t.outcome is None and t.target.licence_ref]
        if len(by_ref) < 2:
            return [self._plan_one(task) if task.outcome is None else task for task in tasks]
        rows = self._list({(t.target.licence_ref or "").upper() for t in by_ref})
        planned = []
        for task in tasks:
            ref = (task.target.licence_ref or "").upper()
            if task.outcome is not None:
                planned.append(task)
            elif not ref:
                planned.append(self._plan_one(task))
            elif ref in rows:
                planned.append(self._found(task, *rows[ref]))
            else:
                planned.append(
                    task.settle(
                        Outcome.REFUSED,
                        f"no licence {ref} in the service {self.listings.service_ref} "
                        "(searched Utilisateurs and Groupements)",
                    )
                )
        return planned

    def _list(self, refs: set[str]) -> dict[str, tuple[Tab, LicenceRow]]:
        """Each of `refs` found in the listings of their common prefix, by ref."""
        left = set(refs)
        rows: dict[str, tuple[Tab, LicenceRow]] = {}
        for tab in TAB_ORDER:
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

    def _plan_one(self, task: LicenceTask) -> LicenceTask:
        try:
            found = self.listings.step(
                f"finding {task.target.label()}", lambda: self._find(task.target)
            )
        except LicenceNotFoundError as refusal:
            return task.settle(Outcome.REFUSED, str(refusal))
        if found is not None:
            return self._found(task, *found)
        service = self.listings.service_ref
        if task.target.licence_ref:
            return task.settle(
                Outcome.REFUSED,
                f"no licence {task.target.licence_ref} in the service {service} "
                "(searched Utilisateurs and Groupements)",
            )
        # A number no licence of the service holds: dissociated already (a rerun), or never
        # this service's. Nothing to do either way, as for a licence without its number.
        number = format_number(task.target.number or "")
        return task.settle(
            Outcome.ALREADY_DONE,
            f"no licence of {service} holds {number} (searched Utilisateurs and Groupements):"
            " nothing to do",
        )

    def _found(self, task: LicenceTask, tab: Tab, row: LicenceRow) -> LicenceTask:
        working = shows_working(row, self.listings.portal.selectors.hints)
        task = found(task, tab, row, working=working)
        if task.outcome is None:
            log.info("licence_planned", licence=row.ref, number=row.number, tab=tab.value)
        return task

    def _find(self, target: Target) -> tuple[Tab, LicenceRow] | None:
        ref, number = target.licence_ref, target.number
        search_number = None if ref else number  # a ref is enough to find it
        service = self.listings.service_ref
        for tab in TAB_ORDER:
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
