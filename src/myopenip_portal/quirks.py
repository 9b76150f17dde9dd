"""Quirks: independent behaviours of other real portals, which tests combine at will.

The spec leaves open how results load, whether a table exists before the first search,
whether « Suivant » is removed or only disabled, page sizes and page indicators. Each
quirk switches one of these in both markups (`--quirks a,b`, `POST /_test/quirks`),
keeping every role, accessible name and text of the spec, so that a bot is shown to rely
on none of them. They take effect on the next page load; see docs/replica.md.
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
PAGE_SIZES = range(1, 101)
# Each switch's name and Quirks field; page-size=N is the one quirk with a value.
SWITCHES = {
    CLIENT_PAGING: "client_paging",
    CLIENT_FILTERING: "client_filtering",
    SEARCH_FIRST: "search_first",
    DISABLED_NEXT: "disabled_next",
    REPLACE_TABLE: "replace_table",
    NO_PAGE_INDICATOR: "no_page_indicator",
}
KNOWN = (*SWITCHES, f"{PAGE_SIZE}=N (N from {PAGE_SIZES[0]} to {PAGE_SIZES[-1]})")


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

    @classmethod
    def parse(cls, names: Iterable[str]) -> Quirks:
        """The quirks named (blank names ignored); UnknownQuirk names the first bad one
        and lists the known ones."""
        switches: dict[str, bool] = {}
        page_size: int | None = None
        for raw in names:
            name = raw.strip()
            if not name:
                continue
            if name in SWITCHES:
                switches[SWITCHES[name]] = True
            elif name.startswith(PAGE_SIZE + "="):
                page_size = _page_size(name)
            else:
                raise UnknownQuirk(f"unknown quirk {name!r}; known quirks: {', '.join(KNOWN)}")
        return cls(page_size=page_size, **switches)

    def names(self) -> list[str]:
        """The quirks in force, as `parse` reads them."""
        names = [name for name, attribute in SWITCHES.items() if getattr(self, attribute)]
        if self.page_size is not None:
            names.append(f"{PAGE_SIZE}={self.page_size}")
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
        }


def _page_size(name: str) -> int:
    text = name.partition("=")[2]
    if not (text.isascii() and text.isdigit()) or int(text) not in PAGE_SIZES:
        raise UnknownQuirk(
            f"{PAGE_SIZE}=N takes N from {PAGE_SIZES[0]} to {PAGE_SIZES[-1]}, got {name!r}"
        )
    return int(text)
