"""The evidence that a listing has more pages than « Suivant » led to, on plain data."""

from __future__ import annotations

import pytest

from myopenip_bot.pages import more_pages


def more(
    indicator: str, *, rows: int = 20, seen: int = 20, page_size: int | None = None
) -> str | None:
    return more_pages(
        indicator,
        rows=rows,
        seen=seen,
        page_size=page_size,
    )


@pytest.mark.parametrize(
    "indicator",
    [
        "Précédent Page 1 sur 2 · 28 licences",  # the classic markup, « Suivant » hidden
        "Page 1 sur 2 · 28 licences Page suivante",  # « Suivant » renamed
        "page 1 SUR 3",  # matched loosely: case, spacing
        "page 1 / 2",
        "1–20 / 28",  # the other markup's range short of its total
        "1-20 sur 28",
        "28 licences",  # a count larger than the rows shown
        "45 services · page 1 sur 3",
    ],
)
def test_an_indicator_or_a_count_saying_more_is_evidence_of_more_pages(indicator: str) -> None:
    why = more(indicator)
    assert why is not None
    assert "«" in why  # it quotes what the listing says


@pytest.mark.parametrize(
    "indicator",
    [
        "Page 2 sur 2 · 28 licences",  # the last page, 28 rows read in all
        "21–28 / 28",
        "Page 1 sur 1 · 20 licences",  # one full page, said to be the only one
        "20 licences",
        "",  # no indicator, no known page size
        "Numéro(s) dissocié(s) : 2 Client 12/03/2024",  # a date or a status is no indicator
        "0 / 1",  # the other markup's count of ticked rows: a bare "1 / 2" is no page
    ],
)
def test_a_listing_showing_no_sign_of_more_has_one_page(indicator: str) -> None:
    assert more(indicator, rows=8, seen=28) is None
    assert more(indicator, rows=20, seen=28) is None


def test_a_page_as_full_as_the_largest_seen_is_evidence_when_nothing_says_otherwise() -> None:
    assert more("", rows=20, seen=40, page_size=20) == (
        "its 20 rows fill a page (the largest page seen had 20)"
    )
    assert more("", rows=8, seen=28, page_size=20) is None  # a short page: the last
    assert more("", rows=25, seen=25, page_size=20) is None  # another listing's page size
    assert more("Page 2 sur 2", rows=20, seen=40, page_size=20) is None  # said the last


def test_a_count_is_compared_with_every_row_read_so_far() -> None:
    assert more("28 licences", rows=8, seen=28) is None
    assert more("28 licences", rows=8, seen=27) == "it counts « 28 licences », 27 rows shown"
