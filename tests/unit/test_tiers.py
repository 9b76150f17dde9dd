"""The quick tier's choice of cells (tests/support/tiers.py): plain data, no pytest run."""

from __future__ import annotations

from tiers import quick_cells

MARKUPS = [{"markup": "classic"}, {"markup": "aria"}]


def grid(markups: list[str], quirks: list[str]) -> list[dict[str, str]]:
    return [{"markup": m, "quirky": q} for m in markups for q in quirks]


def test_successive_tests_of_one_dimension_take_its_values_in_turn() -> None:
    chosen = quick_cells([MARKUPS] * 5)
    assert [MARKUPS[i]["markup"] for i in chosen] == ["classic", "aria"] * 2 + ["classic"]


def test_two_dimensions_go_round_both_at_once() -> None:
    cells = grid(["classic", "aria"], ["first", "second", "third"])
    chosen = [cells[i] for i in quick_cells([cells] * 3)]
    assert chosen == [
        {"markup": "classic", "quirky": "first"},
        {"markup": "aria", "quirky": "second"},
        {"markup": "classic", "quirky": "third"},
    ]


def test_a_test_without_the_cell_of_its_turn_takes_the_next_one_it_has() -> None:
    only_classic = [{"markup": "classic"}]
    # the second test's turn is aria; it has none: classic
    assert quick_cells([MARKUPS, only_classic, MARKUPS]) == [0, 0, 0]


def test_every_value_of_every_dimension_is_run_once_the_tests_are_enough() -> None:
    cells = grid(["classic", "aria"], ["first", "second", "third"])
    chosen = [cells[i] for i in quick_cells([cells] * 3)]
    assert {c["markup"] for c in chosen} == {"classic", "aria"}
    assert {c["quirky"] for c in chosen} == {"first", "second", "third"}
