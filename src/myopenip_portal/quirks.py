"""Quirks: independent behaviours of other real portals, which tests combine at will.

The spec leaves open how results load, whether a table exists before the first search,
whether « Suivant » is removed or only disabled, page sizes and page indicators, the
HTTP method of a read, the shape of a service ref, and how long the back end takes
after « Valider ». Each quirk switches one of these in both markups (`--quirks a,b`,
`POST /_test/quirks`), keeping every role, accessible name and text of the spec, so that
a bot is shown to rely on none of them. They take effect on the next page load (the
service refs and the back end's delay at once); see docs/replica.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CLIENT_PAGING = "client-paging"
CLIENT_FILTERING = "client-filtering"
SEARCH_FIRST = "search-first"
DISABLED_NEXT = "disabled-next"
PAGE_SIZE = "page-size"
REPLACE_TABLE = "replace-table"
NO_PAGE_INDICATOR = "no-page-indicator"
POST_READS = "post-reads"
MC_REFS = "mc-refs"
RENDER_TWICE = "render-twice"
STATUS_STAYS = "status-stays"
LATE_COMPLETION = "late-completion"
PAGE_SIZES = range(1, 101)
# late-completion alone: the back end takes 3 to 6 s (each dissociation draws its own).
LATE_COMPLETION_DEFAULT = (3.0, 6.0)
LATE_COMPLETION_MAX_S = 3_600.0
# Each switch's name and Quirks field; page-size=N is the one quirk with a value.
SWITCHES = {
    CLIENT_PAGING: "client_paging",
    CLIENT_FILTERING: "client_filtering",
    SEARCH_FIRST: "search_first",
    DISABLED_NEXT: "disabled_next",
    REPLACE_TABLE: "replace_table",
    NO_PAGE_INDICATOR: "no_page_indicator",
    POST_READS: "post_reads",
    MC_REFS: "mc_refs",
    RENDER_TWICE: "render_twice",
    STATUS_STAYS: "status_stays",
}
KNOWN = (
    *SWITCHES,
    f"{PAGE_SIZE}=N (N from {PAGE_SIZES[0]} to {PAGE_SIZES[-1]})",
    f"{LATE_COMPLETION}[=S or =MIN-MAX seconds] (3-6 s when none is given)",
)


class UnknownQuirk(ValueError):
    """A quirk name the replica does not know, or a page size out of range."""


@dataclass(frozen=True)
class Quirks:
    """The quirks in force (none by default: the markups' own behaviour)."""

    client_paging: bool = False  # one request brings every row; pages turn in the page
    client_filtering: bool = False  # « Rechercher » filters the rows already in the page
    search_first: bool = False  # no results table before the first « Rechercher »
    disabled_next: bool = False  # « Suivant » / « Précédent » disabled, never removed
    page_size: int | None = None  # rows a page; None: the markup's own
    replace_table: bool = False  # every render replaces the results table element
    no_page_indicator: bool = False  # no "Page 1 sur 2" (or the markup's equivalent)
    post_reads: bool = False  # searches, page turns and tab changes are POST requests
    mc_refs: bool = False  # service refs read "MC-004217" (the replica's own: "SRV-10021")
    render_twice: bool = False  # results first shown as they were, then the new ones
    status_stays: bool = False  # the last « Valider »'s status stays as the other tab opens
    # (min, max) seconds the back end takes after « Valider »: the number stays listed,
    # « État » reads « Dissociation en cours », and a second request is refused meanwhile
    late_completion: tuple[float, float] | None = None

    @classmethod
    def parse(cls, names: Iterable[str]) -> Quirks:
        """The quirks named (blank names ignored); UnknownQuirk names the first bad one
        and lists the known ones."""
        switches: dict[str, bool] = {}
        page_size: int | None = None
        late: tuple[float, float] | None = None
        for raw in names:
            name = raw.strip()
            if not name:
                continue
            if name in SWITCHES:
                switches[SWITCHES[name]] = True
            elif name.startswith(PAGE_SIZE + "="):
                page_size = _page_size(name)
            elif name == LATE_COMPLETION or name.startswith(LATE_COMPLETION + "="):
                late = _late_completion(name)
            else:
                raise UnknownQuirk(f"unknown quirk {name!r}; known quirks: {', '.join(KNOWN)}")
        return cls(page_size=page_size, late_completion=late, **switches)

    def names(self) -> list[str]:
        """The quirks in force, as `parse` reads them."""
        names = [name for name, attribute in SWITCHES.items() if getattr(self, attribute)]
        if self.page_size is not None:
            names.append(f"{PAGE_SIZE}={self.page_size}")
        if self.late_completion is not None:
            low, high = self.late_completion
            names.append(f"{LATE_COMPLETION}={low:g}" + (f"-{high:g}" if high != low else ""))
        return names

    def rows_a_page(self, markup_default: int) -> int:
        return markup_default if self.page_size is None else self.page_size

    def for_script(self, markup_default: int) -> dict[str, Any]:
        """What a page's script needs to know of them (the page size in force included)."""
        return {
            "clientPaging": self.client_paging,
            "clientFiltering": self.client_filtering,
            "searchFirst": self.search_first,
            "disabledNext": self.disabled_next,
            "pageSize": self.rows_a_page(markup_default),
            "replaceTable": self.replace_table,
            "noPageIndicator": self.no_page_indicator,
            "postReads": self.post_reads,
            "renderTwice": self.render_twice,
            "statusStays": self.status_stays,
        }


def _page_size(name: str) -> int:
    text = name.partition("=")[2]
    if not (text.isascii() and text.isdigit()) or int(text) not in PAGE_SIZES:
        raise UnknownQuirk(
            f"{PAGE_SIZE}=N takes N from {PAGE_SIZES[0]} to {PAGE_SIZES[-1]}, got {name!r}"
        )
    return int(text)


def _late_completion(name: str) -> tuple[float, float]:
    """`late-completion`, `late-completion=S` or `late-completion=MIN-MAX` (seconds)."""
    text = name.partition("=")[2]
    if not text:
        return LATE_COMPLETION_DEFAULT
    low_text, dash, high_text = text.partition("-")
    try:
        low = float(low_text)
        high = float(high_text) if dash else low
    except ValueError:
        low = high = -1.0
    if not (0 < low <= high <= LATE_COMPLETION_MAX_S):
        raise UnknownQuirk(
            f"{LATE_COMPLETION}=S or =MIN-MAX takes seconds from more than 0 to "
            f"{LATE_COMPLETION_MAX_S:g} (MIN not above MAX), got {name!r}"
        )
    return low, high
