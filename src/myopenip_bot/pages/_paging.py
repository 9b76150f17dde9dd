"""The one paging loop: a listing's rows page by page, « Suivant » after « Suivant »."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from myopenip_bot.pages._base import MAX_PAGES

R = TypeVar("R")


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
