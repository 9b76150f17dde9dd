"""Fixtures shared by every test: the browser to launch, the replica server, the ledger.

Lifetimes follow cost: one replica server and one browser per session; a fresh data set
(`POST /_test/reset`) and a fresh browser context per test. Tests that need a replica
with other flags (faults, a short session TTL) start their own with `replica_factory`.
The ledger's tests take `ledger_url`: a SQLite file, then a fresh database of the worker's
throw-away PostgreSQL server (`postgres_server`, started by the first test that needs it).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import browser_server
import pytest
from postgres import Postgres
from tiers import quick_cells

from myopenip.replica import Replica, run_replica
from myopenip_bot.browser.launch import BrowserLaunch, find_browser

# The tests read English, whatever the machine's locale (a French one would make every
# command speak French): the tests of the language set MYOPENIP_LANG or LANG themselves.
os.environ["MYOPENIP_LANG"] = "en"


# The fixtures whose parameters are cells of a matrix wherever a test takes them (tiers.py);
# a test's own parameters are cells when it says so: `@pytest.mark.cells("lang", "columns")`,
# or `@pytest.mark.cells` for all of them (a parametrize of cases, one value each).
MATRIX_FIXTURES = ("markup", "site", "served", "quirky", "ledger_url")
TIERS = ("quick", "rest", "all")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--tier",
        choices=TIERS,
        default="quick",
        help="quick (make test): every test on one cell of its matrix, but the soak tests and "
        "the twins; rest (make test-rest): the other cells, the soak tests and the twins; all: "
        "both (tests/support/tiers.py)",
    )


def _cell_names(item: pytest.Item) -> tuple[str, ...]:
    """The parameters of `item` that are cells of a matrix: MATRIX_FIXTURES, and those its
    `cells` marker names (all of its own parameters when it names none)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    marker = item.get_closest_marker("cells")
    named = MATRIX_FIXTURES
    if marker:
        named += tuple(marker.args) or tuple(p for p in params if p != "browser_name")
    return tuple(name for name in params if name in named)


def _quick_tier(items: list[pytest.Item]) -> set[pytest.Item]:
    """The items `make test` runs: each test on the cell tiers.quick_cells picks (soak tests
    and twins count in the turns, so marking one moves no other test's cell), then neither
    soak tests nor twins.

    A twin names the tests that check its behaviour in the quick tier; a name that is not
    one of them (renamed, moved, left to the rest tier itself) is an error at collection.
    """
    tests: dict[tuple[str, ...], list[pytest.Item]] = {}
    for item in items:
        names = _cell_names(item)
        indices = getattr(getattr(item, "callspec", None), "indices", {})
        others = tuple(f"{name}={indices[name]}" for name in sorted(indices) if name not in names)
        tests.setdefault((str(item.path), item.name.split("[")[0], *others), []).append(item)
    chosen: set[pytest.Item] = set()
    matrices: dict[tuple[str, ...], list[list[pytest.Item]]] = {}
    for group in tests.values():
        names = _cell_names(group[0])
        if names:
            matrices.setdefault(names, []).append(group)
        else:
            chosen.update(group)
    for matrix in matrices.values():
        cells = [
            [{name: item.callspec.indices[name] for name in _cell_names(item)} for item in group]
            for group in matrix
        ]
        for group, index in zip(matrix, quick_cells(cells), strict=True):
            chosen.add(group[index])
    quick = {
        item
        for item in chosen
        if not item.get_closest_marker("soak") and not item.get_closest_marker("twin")
    }
    _check_twins(items, quick)
    return quick


def _check_twins(items: list[pytest.Item], quick: set[pytest.Item]) -> None:
    """Each twin's named tests are in the quick tier (those of the files collected)."""
    collected = {item.nodeid.split("::")[0] for item in items}
    in_quick = {item.nodeid.split("[")[0] for item in quick}
    wrong = [
        f"{item.nodeid} names {name}"
        for item in items
        if (marker := item.get_closest_marker("twin")) is not None
        for name in marker.args
        if name.split("::")[0] in collected and name not in in_quick
    ]
    if wrong:
        raise pytest.UsageError(
            "a twin must name tests of the quick tier (tests/support/tiers.py): " + "; ".join(wrong)
        )


def _keep_tier(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tier's tests (--tier; tests/support/tiers.py). A test named on the command
    line with its parameters (`path::test[aria-chromium]`) runs whatever its tier."""
    tier = config.getoption("tier")
    if tier == "all":
        return
    quick = _quick_tier(items)
    named = [arg for arg in config.args if "[" in arg]
    kept, left = [], []
    for item in items:
        wanted = (item in quick) == (tier == "quick")
        explicit = any(item.nodeid.endswith(arg) or arg.endswith(item.nodeid) for arg in named)
        (kept if wanted or explicit else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


class _Tiers:
    """Keeps the tier's tests before `-k` and `-m` select among them: a test's cell is the
    same whatever `-k` keeps, and a twin's named tests are seen where `-k` drops them."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        _keep_tier(config, items)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_Tiers(), "myopenip-tiers")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if config.getoption("tier") == "quick" and not hasattr(config, "workerinput"):
        terminalreporter.write_line(
            "Quick tier: the other cells of each matrix, the soak tests and the twins run "
            "with `make test-rest` (pytest --tier rest; --tier all runs both)."
        )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests marked `longest(seconds)` first, the longest of them first, dealt in turn
    to the head of each xdist worker's share.

    Under `--dist worksteal` (make test) each worker first gets a contiguous share of the
    list (worker i the i-th, sizes as xdist computes them) and a worker that runs out
    steals from the end of another's queue: a long test left at the end of a share
    lengthens the tail of the whole run with the other workers idle. Run first, the
    longest tests overlap with everything else. Only the marked tests move, after pytest's
    own reordering (trylast): the others keep their grouping (modules, and the e2e tests
    by markup, whose session replicas are reused in turn); no test marked `longest` takes
    a session fixture with more than one parameter, so none is set up twice.
    """
    seconds = {
        item: float(marker.args[0])
        for item in items
        if (marker := item.get_closest_marker("longest")) is not None
    }
    if not seconds:
        return
    longest = sorted(seconds, key=lambda item: -seconds[item])
    rest = [item for item in items if item not in seconds]
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for index, item in enumerate(longest):
        heads[index % workers].append(item)
    ordered: list[pytest.Item] = []
    remaining = len(items)
    for index, head in enumerate(heads):
        share = remaining // (workers - index)  # as xdist's WorkStealingScheduling
        remaining -= share
        taken = max(0, share - len(head))
        ordered += head + rest[:taken]
        rest = rest[taken:]
    items[:] = ordered + rest


@pytest.fixture(autouse=True)
def own_state_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test its own user state and data folders (XDG_STATE_HOME, XDG_DATA_HOME): the
    bot's records of what the portal accepted and its ledger live there by default, and
    the session's replica keeps its address from one test to the next while its data is
    reset."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="session", autouse=True)
def browser_server_stopped() -> Iterator[None]:
    """The worker's browser server, started by the first command run that connects to it
    (tests/support/browser_server.py), stopped with its Chromium when the session ends."""
    yield
    browser_server.stop()


@pytest.fixture(scope="session")
def browser_launch(pytestconfig: pytest.Config) -> BrowserLaunch:
    """The Chromium the bot itself would pick (MYOPENIP_BROWSER_PATH, Playwright's, system:
    its headless shell unless --headed)."""
    headless = not pytestconfig.getoption("headed", False)
    return find_browser(os.environ.get("MYOPENIP_BROWSER_PATH"), headless=headless)


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], browser_launch: BrowserLaunch
) -> dict[str, Any]:
    """Make pytest-playwright's `browser`/`page` fixtures launch the same Chromium."""
    return {**browser_type_launch_args, **browser_launch.as_kwargs()}


@pytest.fixture(scope="session")
def replica_server() -> Iterator[Replica]:
    """One replica for the whole session, with its test API on and without the built-in
    delays (a test about a loading state turns them on: `replica.faults(...)`)."""
    with run_replica(delays=False) as replica:
        yield replica


@pytest.fixture
def replica(replica_server: Replica) -> Replica:
    """The session's replica, its data reset to the default seed before the test."""
    replica_server.test_api("reset")
    return replica_server


@pytest.fixture
def replica_factory() -> Iterator[Callable[..., Replica]]:
    """Start extra replicas with their own flags, e.g. `replica_factory("--error-rate", "1")`."""
    with ExitStack() as stack:

        def start(*args: str, **kwargs: Any) -> Replica:
            return stack.enter_context(run_replica(*args, **kwargs))

        yield start


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    """A throw-away PostgreSQL server of this worker (tests/support/postgres.py), started
    the first time a test asks for it (one per xdist worker; about 0.9 s), killed with its
    folder at the end of the session. `postgres_server.database(name)` creates an empty
    database and returns its DSN; no PostgreSQL installed is an error, never a skip."""
    with Postgres() as server:
        yield server


_ledger_databases = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the ledger of this test lives, on each back end in turn: every ledger test
    takes `ledger_url` (what MYOPENIP_LEDGER would say) and so runs on both.

    `sqlite`: the path of a file not created yet, `str(tmp_path / "ledger.sqlite3")`.
    `postgresql`: the DSN of a new empty database of its own on this worker's
    `postgres_server` (started then), `postgresql://postgres@/NAME?host=FOLDER&port=PORT`.
    """
    if request.param == "sqlite":
        return str(tmp_path / "ledger.sqlite3")
    server: Postgres = request.getfixturevalue("postgres_server")
    test = re.sub(r"[^a-z0-9_]+", "_", request.node.name.lower())
    return server.database(f"t{next(_ledger_databases)}_{test}"[:63])
