"""Which tests `make test` runs and which it leaves to `make test-rest` (tests/conftest.py).

Many tests run once per cell of a matrix: each markup of the replica, each set of
quirks, each ledger back end, each language and terminal width, each drift of a list.
The cells of one test drive the same code through the same steps; a behaviour broken in
one is nearly always broken in the others. `make test` (the quick tier) runs every test
on one of its cells, and that cell turns from one test to the next (`quick_cells`): each
markup carries half of the end-to-end tests, each quirk set a third of the quirk tests,
each ledger back end half of the ledger's; a list of cases of a single test (each drift
of the smoke's list) runs one case. The other cells, and the soak tests (`soak` marker:
a behaviour that other tests check once, here again and again at random moments or error
rates), and the twins (`twin` marker, naming the quick tests that check the same
behaviour, mostly a command run whose in-process twin reads the same portal) are the
rest tier. CI runs both tiers one after the other (`.ci/run`): nothing lands that a cell
fails.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

Cell = Mapping[str, Hashable]


def quick_cells(tests: Sequence[Sequence[Cell]]) -> list[int]:
    """For each test of one matrix, the index of the one cell the quick tier runs.

    `tests` are the cells of successive tests whose cells have the same dimensions (a
    fixture or parameter name mapped to its value), in the order pytest collected them. The
    i-th test takes the cell (values[0][i % n0], values[1][i % n1], …), each dimension's
    values in the order first met; so consecutive tests go round every value of every
    dimension at once: markups classic, aria, classic…; markup and quirk sets (classic,
    first), (aria, second), (classic, third), (aria, first)… A test without that cell takes
    the next one round that it has.
    """
    values: dict[str, list[Hashable]] = {}
    for cells in tests:
        for cell in cells:
            for dim, value in cell.items():
                known = values.setdefault(dim, [])
                if value not in known:
                    known.append(value)
    rounds = 1
    for known in values.values():
        rounds *= len(known)
    chosen: list[int] = []
    for index, cells in enumerate(tests):
        for step in range(rounds):
            wanted = {dim: known[(index + step) % len(known)] for dim, known in values.items()}
            found = [at for at, cell in enumerate(cells) if dict(cell) == wanted]
            if found:
                chosen.append(found[0])
                break
        else:
            chosen.append(index % len(cells))
    return chosen
