"""The plan: which licence each request means, its tab and its number, before anything changes.

A target is found by ref or by number in Utilisateurs, then Groupements (the guide's
order), and must match exactly one row: the portal's filters match substrings. Duplicates,
unknown licences and number mismatches are refused; a licence without a number is
already done and never touched. The rules that need no browser are plain functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import structlog

from myopenip_bot.driver import PortalDriver
from myopenip_bot.errors import BusinessError, LicenceNotFoundError, NumberMismatchError
from myopenip_bot.models import (
    LicenceResult,
    Outcome,
    PlannedLicence,
    Tab,
    Target,
    format_number,
)
from myopenip_bot.pages import LicenceRow

__all__ = [
    "TAB_ORDER",
    "Item",
    "Planner",
    "common_prefix",
    "refuse_repeated_targets",
    "refuse_same_licence",
    "skip_all_when_any_refused",
]

log = structlog.get_logger(__name__)

# Tabs in the order the guide searches them.
TAB_ORDER = (Tab.UTILISATEURS, Tab.GROUPEMENTS)
# "Valider" clicks for one licence, over all runs, each after a fresh read showing it
# still has its number.
MAX_SUBMISSIONS = 2


@dataclass(eq=False)
class Item:
    """One requested licence as it moves through the run (compared by identity)."""

    index: int
    target: Target
    keep: bool  # « Conserver le numéro » = Oui when true
    ref: str | None = None
    number: str | None = None  # the number it had when planned (ten digits)
    tab: Tab | None = None
    outcome: Outcome | None = None
    reason: str | None = None
    submissions: int = 0  # "Valider" clicks with it in the dialog, earlier runs included
    listener: Callable[[LicenceResult], None] | None = None  # told each outcome at once

    def settle(self, outcome: Outcome, reason: str | None = None) -> None:
        self.outcome, self.reason = outcome, reason
        log.info(
            "licence_outcome",
            target=self.target.label(),
            licence=self.ref,
            outcome=outcome.value,
            reason=reason,
        )
        if self.listener is not None:
            self.listener(self.as_result())

    def planned(self) -> PlannedLicence:
        assert self.ref is not None
        assert self.number is not None
        assert self.tab is not None
        return PlannedLicence(self.ref, self.number, self.tab, self.keep)

    def as_result(self) -> LicenceResult:
        assert self.outcome is not None
        return LicenceResult(
            target=self.target,
            outcome=self.outcome,
            licence_ref=self.ref,
            number=self.number,
            tab=self.tab,
            reason=self.reason,
            submissions=self.submissions,
        )


class Planner:
    """Finds each target on the portal and settles the ones that cannot go on."""

    def __init__(self, driver: PortalDriver) -> None:
        self.driver = driver

    def plan_all(self, items: list[Item]) -> None:
        """Plan every item without an outcome; several refs are found from one listing.

        Two or more licences given by ref are looked up in each tab's listing for the
        common prefix of their refs (one search, its pages), in the guide's tab order; a
        ref found in neither listing is refused. A licence given only by number, or a
        single ref, is searched on its own.
        """
        by_ref = [i for i in items if i.outcome is None and i.target.licence_ref]
        if len(by_ref) < 2:
            for item in items:
                if item.outcome is None:
                    self.plan(item)
            return
        refs = {(i.target.licence_ref or "").upper() for i in by_ref}
        left = set(refs)
        found: dict[str, tuple[Tab, LicenceRow]] = {}
        for tab in TAB_ORDER:
            if not left:
                break
            prefix = common_prefix(left)
            rows = self.driver.step(
                f"listing the licences {prefix}… in {tab.value}",
                lambda tab=tab, prefix=prefix: self.driver.rows_matching(tab, prefix),  # type: ignore[misc]
            )
            for row in rows:
                ref = row.ref.upper()
                if ref in left:
                    found[ref] = (tab, row)
                    left.discard(ref)
        service = self.driver.service_ref
        for item in items:
            if item.outcome is not None:
                continue
            ref = (item.target.licence_ref or "").upper()
            if not ref:
                self.plan(item)
            elif ref in found:
                self._settle_found(item, *found[ref])
            else:
                item.settle(
                    Outcome.REFUSED,
                    f"no licence {ref} in the service {service} "
                    "(searched Utilisateurs and Groupements)",
                )

    def plan(self, item: Item) -> None:
        """Find the item's licence; refuse it, or mark it already done, or leave it planned."""
        target = item.target
        try:
            tab, row = self.driver.step(
                f"finding {target.label()}", lambda: self._find_licence(target)
            )
        except BusinessError as refusal:
            item.settle(Outcome.REFUSED, str(refusal))
            return
        self._settle_found(item, tab, row)

    def _settle_found(self, item: Item, tab: Tab, row: LicenceRow) -> None:
        target = item.target
        item.ref, item.tab, item.number = row.ref, tab, row.number
        if row.number is None and item.submissions:
            # « Valider » was clicked for it by an earlier run whose answer was not read:
            # the portal settles it.
            item.settle(
                Outcome.DONE,
                f"{row.ref} has no number any more: the earlier « Valider » took effect",
            )
        elif row.number is None:
            item.settle(Outcome.ALREADY_DONE, f"{row.ref} has no number: nothing to do")
        elif item.submissions >= MAX_SUBMISSIONS:
            item.settle(
                Outcome.FAILED,
                f"« Valider » was clicked {item.submissions} times for {row.ref} and the portal "
                f"still shows {format_number(row.number)}: left for a person to check",
            )
        elif target.number is not None and target.number != row.number:
            mismatch = NumberMismatchError(
                f"{row.ref}'s number is {format_number(row.number)}, "
                f"not {format_number(target.number)}: refused"
            )
            item.settle(Outcome.REFUSED, str(mismatch))
        else:
            log.info("licence_planned", licence=row.ref, number=row.number, tab=tab.value)

    def _find_licence(self, target: Target) -> tuple[Tab, LicenceRow]:
        ref, number = target.licence_ref, target.number
        search_number = None if ref else number  # a ref is enough to find it
        service = self.driver.service_ref
        for tab in TAB_ORDER:
            matches = self.driver.find_rows(tab, ref=ref, number=search_number)
            if len(matches) > 1:
                refs = ", ".join(row.ref for row in matches)
                raise LicenceNotFoundError(
                    f"{len(matches)} licences of {service} match "
                    f"{target.label()} in {tab.value} ({refs}): refused"
                )
            if matches:
                return tab, matches[0]
        if ref:
            what = f"licence {ref}"
        else:  # after a dissociation a number belongs to no licence: say so
            what = f"licence with the number {format_number(number or '')} (already dissociated?)"
        raise LicenceNotFoundError(
            f"no {what} in the service {service} (searched Utilisateurs and Groupements)"
        )


def refuse_repeated_targets(items: list[Item]) -> None:
    """The same ref, or the same number, asked twice: refuse every such entry up front."""
    for key in ("licence_ref", "number"):
        seen: dict[str, list[Item]] = {}
        for item in items:
            value = getattr(item.target, key)
            if value:
                seen.setdefault(value.upper(), []).append(item)
        for value, group in seen.items():
            if len(group) > 1:
                for item in group:
                    if item.outcome is None:
                        item.settle(
                            Outcome.REFUSED,
                            f"{value} is given {len(group)} times: refused as a duplicate",
                        )


def refuse_same_licence(items: list[Item]) -> None:
    """Two entries that turned out to be one licence (a ref and its number): refuse both."""
    by_ref: dict[str, list[Item]] = {}
    for item in items:
        if item.ref is not None and item.outcome in (None, Outcome.ALREADY_DONE):
            by_ref.setdefault(item.ref, []).append(item)
    for ref, group in by_ref.items():
        if len(group) > 1:
            given = " and ".join(item.target.label() for item in group)
            for item in group:
                item.settle(Outcome.REFUSED, f"{given} are the same licence {ref}: duplicate")


def skip_all_when_any_refused(items: list[Item]) -> str | None:
    """All or nothing: when a target was refused, skip every planned one; say why.

    Returns the run-level message naming each refusal, or None when none was refused.
    """
    refused = [item for item in items if item.outcome is Outcome.REFUSED]
    if not refused:
        return None
    names = ", ".join(item.target.label() for item in refused)
    message = (
        f"{len(refused)} of {len(items)} licence(s) refused when planning ({names}): "
        "nothing was done (--skip-refused acts on the others)"
    )
    for item in items:
        if item.outcome is None:
            item.settle(Outcome.SKIPPED, f"not attempted: {message}")
    return message


def common_prefix(texts: Iterable[str]) -> str:
    """The longest text every one of `texts` starts with: a filter that shows them all."""
    given = list(texts)
    first, last = min(given, default=""), max(given, default="")
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]
