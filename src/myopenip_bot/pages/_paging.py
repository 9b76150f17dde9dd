"""The one paging loop: a listing's rows page by page, « Suivant » after « Suivant »; and
the one rule that says whether a listing shows signs of more pages than were turned."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from playwright.sync_api import Locator, Page

from myopenip_bot.pages._base import MAX_PAGES

R = TypeVar("R")

# The words of a listing's page indicator ("Page 1 sur 2 · 28 licences", "1–20 / 28"): a
# page out of pages, and what a count counts. Read loosely, only as evidence that a
# listing has more pages than « Suivant » led to. (Not in selectors/: every entry there
# is a smoke check of its own, and these are never looked for, only read when there.)
PAGE_OF = ("sur", "/", "of")
COUNTED = ("licences", "services", "résultats", "results")


def paged(
    first: list[R], next_page: Callable[[], bool], rows: Callable[[], list[R]]
) -> Iterator[list[R]]:
    """`first` (the rows of the page on screen), then the `rows` of each next page, as
    long as `next_page` turns to one (False: there is none), MAX_PAGES turns at most.

    Lazy: a page is turned only when its rows are asked for, so a reader that found what
    it looked for stops the turning by no longer asking.
    """
    yield first
    for _ in range(MAX_PAGES):
        if not next_page():
            return
        yield rows()


def more_pages(
    indicator: str,
    *,
    rows: int,
    seen: int,
    page_size: int | None,
    of_words: Sequence[str] = PAGE_OF,
    count_words: Sequence[str] = COUNTED,
) -> str | None:
    """Why a listing whose « Suivant » was not found has more pages than were turned, or
    None when it shows no sign of more.

    `indicator`: the text around the results table (its pager, its count), read loosely:
    "Page 1 sur 2", "1 / 2", "1–20 / 28" (a range short of its total), "28 licences" (a
    count larger than the `seen` rows of every page read so far); `rows`: the rows of the
    page on screen; `page_size`: the largest page seen followed by another one (None:
    unknown) — a page of that many rows fills a page. An indicator read that says this is
    the last page is believed over a full page (a listing may hold exactly one page).
    """
    text = " ".join(indicator.split())
    of = "|".join(re.escape(word) for word in sorted(of_words, key=len, reverse=True))
    said_last = False
    if of:
        # A range of rows out of a total: "1–20 / 28", "21-28 sur 28".
        ranges = re.compile(rf"(?<![\d/])(\d+)\s*[–—-]\s*(\d+)\s*(?:{of})\s*(\d+)(?![\d/])", re.I)
        for match in ranges.finditer(text):
            if int(match[2]) < int(match[3]):
                return f"the page indicator reads « {match[0]} »"
            said_last = True
        text = ranges.sub(" ", text)
        # A page out of pages: "Page 1 sur 2", "1 of 2", "page 1 / 2"; a bare "1 / 2" is
        # not one (the other markup writes its ticked rows so: "0 / 1").
        words = "|".join(re.escape(w) for w in of_words if w.isalpha())
        signs = "|".join(re.escape(w) for w in of_words if not w.isalpha())
        forms = [rf"(?<![\d/])(\d+)\s*(?:{words})\s*(\d+)(?![\d/])"] if words else []
        forms += [rf"\bpage\s*(\d+)\s*(?:{signs})\s*(\d+)(?![\d/])"] if signs else []
        pages = re.compile("|".join(f"(?:{form})" for form in forms) or "(?!)", re.I)
        for match in pages.finditer(text):
            page, last = (int(n) for n in match.groups() if n is not None)
            if page < last:
                return f"the page indicator reads « {match[0]} »"
            said_last = True
    counted = "|".join(re.escape(word) for word in sorted(count_words, key=len, reverse=True))
    if counted:
        counts = re.compile(rf"(?<![\d/])(\d+)\s+(?:{counted})\b", re.I)
        for match in counts.finditer(text):
            if int(match[1]) > seen:
                return f"it counts « {match[0]} », {seen} rows shown"
            said_last = True
    if not said_last and page_size and rows == page_size:
        return f"its {rows} rows fill a page (the largest page seen had {page_size})"
    return None


def text_beside(scope: Page | Locator, table: Locator) -> str:
    """What `scope` reads around its results `table` (a pager, a count), read at once."""
    whole = scope.inner_text() if isinstance(scope, Locator) else scope.locator("body").inner_text()
    for shown in table.filter(visible=True).all_inner_texts():
        whole = whole.replace(shown, " ")
    return whole
