"""The Limits part of `make bench`: how the bot holds against a large file, a file of bad
rows and .xlsx bombs (issue 14), how soon the smoke names a drift (issue 19), and how
fast the replica resets its data (every test's fixture does, issue 26).

    .venv/bin/python -m bench.limits [--only large|bombs|drift|reset] [--keep-work]

Every figure comes from cold `python -m myopenip …` processes (bench.harness.Bench.run:
their own temp folder, JSON-lines events on stderr) against a replica started here:

- a batch file of 200,000 rows (`SRV-10021;FPC{600000+n};non`, unknown to the replica),
  `batch FILE --yes --json --journal J`, the bot's default trace: from `batch_started`
  (the file read, checked and loaded in the journal) to the first `services_searched`;
  SIGTERM sent at that event, then the seconds to the exit (143); its stderr lines;
- 200,000 bad rows (`BAD{n}`), the same command: the bytes it writes, its time to exit;
- three .xlsx bombs (2 GiB of one part, one 512 MiB shared string, 5 million shared
  strings), `batch BOMB --dry-run --json`: refused as a bad file (exit 2), how fast, and
  the peak RSS (the tree sampled every 0.25 s, and the process's own high-water mark);
- each drift of issue 19 on the replica (`POST /_test/drift`: « Mes Services »,
  « Rechercher » (renamed, then hidden), « Utilisateurs », « Actions », « Dissocier vos
  numéros », « Valider »), `smoke --json` with its default
  settings (its trace on failure): exit 1, naming the key the test names, how fast; then
  a one-shot `dissociate … --yes --json` on the same drift: exit 1 naming the key, how
  fast (issue 16);
- the replica's `POST /_test/reset` (default data), RESETS times after one not measured,
  each beside its floor, a read of the test API (`GET /_test/back-end`): no process, a
  second or so in all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import statistics
import sys
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from bench.harness import PYTHON, Bench, Measured, Target, run_alone
from myopenip.exitcodes import ExitCode
from myopenip.replica import Replica, run_replica

ROWS = 200_000
FIRST_LICENCE = 600_000  # FPC600000…: refs the replica does not hold
MB = 1_000_000
MIB = 1 << 20
# The targets.
FIRST_SEARCH_S = 10.0  # from the end of validation to the first search, at most
STOP_S = 10.0  # from SIGTERM to the exit, under
STDERR_LINES = 5_000  # under: events and problems capped, not one per row
BAD_OUTPUT_KB = 100.0  # under: the issue saw 14.7 MB of problems (the first 50 are listed)
BOMB_S = 5.0
BOMB_MB = 300.0
DRIFT_S = 15.0  # the smoke: exit 1 naming the key (issue 19)
ONE_SHOT_DRIFT_S = 10.0  # a one-shot on a drifted portal: exit 1 naming the key (issue 16)
DRIFT_LICENCE = "FPC367128"  # a numbered licence of SRV-10021 in the seed
LARGE_TIMEOUT = 600.0
BOMB_TIMEOUT = 120.0
SMOKE_TIMEOUT = 300.0
# Every test's `replica` fixture resets the data first: the whole suite pays it hundreds
# of times. A figure here, not a test's assertion (a shared machine's load is not a bug).
RESETS = 10
RESET_MS = 250.0  # per reset, the median, at most
PARTS = ("large", "bombs", "drift", "reset")


# ------------------------------------------------------------------------ what is measured


@dataclass(frozen=True)
class Bomb:
    """An .xlsx file whose `part` inflates far beyond what a batch file needs."""

    name: str
    part: str
    what: str  # as the issue says it
    body: Callable[[], Iterator[bytes]]  # the part's bytes, chunk by chunk


def _repeat(chunk: bytes, count: int, head: bytes = b"", tail: bytes = b"") -> Iterator[bytes]:
    yield head
    for _ in range(count):
        yield chunk
    yield tail


_SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
BOMBS = (
    Bomb(
        "inflates",
        "xl/worksheets/sheet1.xml",
        "a sheet inflating to 2 GiB",
        lambda: _repeat(b" " * MIB, 2048),
    ),
    Bomb(
        "one-huge-shared-string",
        "xl/sharedStrings.xml",
        "one shared string of 512 MiB",
        lambda: _repeat(b"x" * MIB, 512, _SST + b"<si><t>", b"</t></si></sst>"),
    ),
    Bomb(
        "millions-of-shared-strings",
        "xl/sharedStrings.xml",
        "5 million shared strings",
        lambda: _repeat(b"<si><t>x</t></si>" * 5_000, 1_000, _SST, b"</sst>"),
    ),
)


@dataclass(frozen=True)
class Drift:
    """A rename on the replica (or, without `new`, a control hidden), and the selectors/
    key the smoke must name for it (as tests/commands/test_smoke.py names it)."""

    old: str
    new: str | None
    key: str

    @property
    def change(self) -> dict[str, Any]:
        """The test API's /_test/drift body."""
        return {"rename": {self.old: self.new}} if self.new else {"hide": [self.old]}

    @property
    def label(self) -> str:
        return f"« {self.old} » → « {self.new} »" if self.new else f"« {self.old} » hidden"


# Every drift of issue 19's table, in the walk's order.
DRIFTS = (
    Drift("Mes Services", "Mes Offres", "navigation.services_menu"),
    Drift("Rechercher", "Filtrer", "services.search"),
    Drift("Rechercher", None, "services.search"),
    Drift("Utilisateurs", "Usagers", "service.tabs.Utilisateurs"),
    Drift("Actions", "Opérations", "licences.actions"),
    Drift("Dissocier vos numéros", "Libérer vos numéros", "licences.dissociate"),
    Drift("Valider", "Confirmer", "dialog.submit"),
)


@dataclass
class LimitsResults:
    large: Measured | None = None
    bad: Measured | None = None
    bombs: list[tuple[Bomb, Measured]] = field(default_factory=list)
    bomb_bytes: dict[str, int] = field(default_factory=dict)  # name: size of the file
    drifts: list[tuple[Drift, Measured]] = field(default_factory=list)
    one_shots: list[tuple[Drift, Measured]] = field(default_factory=list)  # on each drift
    resets: list[float] = field(default_factory=list)  # seconds of each POST /_test/reset
    reset_floors: list[float] = field(default_factory=list)  # of a test API read beside each
    rows: int = ROWS


# ------------------------------------------------------------------------ files


def write_rows(path: Path, rows: int, licence: Callable[[int], str]) -> Path:
    lines = [f"SRV-10021;{licence(n)};non" for n in range(rows)]
    path.write_text("service;licence;keep_number\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def xlsx_with_part(path: Path, name: str, body: Iterator[bytes]) -> Path:
    """A zip holding the parts of a workbook and `name` made of `body` (the builder of
    tests/hostile/test_files.py, which pytest alone can import, with the part's bytes
    given whole)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["service", "licence", "keep_number"])
    template = path.with_suffix(".template.xlsx")
    book.save(template)
    with (
        zipfile.ZipFile(template) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info.filename))
        with target.open(name, "w", force_zip64=True) as part:
            for chunk in body:
                part.write(chunk)
    template.unlink()
    return path


# ------------------------------------------------------------------------ the runs


def batch(path: Path, *args: str) -> list[str]:
    return [PYTHON, "-m", "myopenip", "batch", str(path), *args]


def measure(
    bench: Bench, log: Callable[[str], None], parts: Sequence[str] = PARTS
) -> LimitsResults:
    """Every figure of the part, on a replica of its own (default data)."""
    res = LimitsResults()
    with run_replica() as replica:
        if "reset" in parts:  # first: a second or so, before the heavy parts load the machine
            _measure_resets(log, replica, res)
        if "large" in parts:
            _measure_large(bench, log, replica, res)
        if "bombs" in parts:
            _measure_bombs(bench, log, replica, res)
        if "drift" in parts:
            _measure_drifts(bench, log, replica, res)
    return res


def _measure_large(
    bench: Bench, log: Callable[[str], None], replica: Replica, res: LimitsResults
) -> None:
    log(f"limits: a batch file of {res.rows:,} rows, SIGTERM at its first search")
    large = write_rows(bench.work / "large.csv", res.rows, lambda n: f"FPC{FIRST_LICENCE + n}")
    replica.test_api("reset")
    before = replica.state()["audit"]
    res.large = run = bench.run(
        f"limits-large-{res.rows}",
        batch(large, "--yes", "--json", "--journal", "large.sqlite"),
        replica,
        timeout=LARGE_TIMEOUT,
        expect=ExitCode.INTERRUPTED + signal.SIGTERM,
        unset=("MYOPENIP_TRACE",),
        signal_at=("services_searched", signal.SIGTERM),
    )
    if run.signalled_at is None and run.problem is None:
        run.problem = "no services_searched event: SIGTERM never sent"
    elif run.ok and run.json_stdout().get("interrupted") != "SIGTERM":
        run.problem = f"its JSON says interrupted={run.json_stdout().get('interrupted')!r}"
    if replica.state()["audit"] != before and run.problem is None:
        run.problem = "the portal's audit changed: something was clicked"

    log(f"limits: a batch file of {res.rows:,} bad rows")
    bad = write_rows(bench.work / "bad.csv", res.rows, lambda n: f"BAD{n}")
    res.bad = bench.run(
        f"limits-bad-{res.rows}",
        batch(bad, "--yes", "--json", "--journal", "bad.sqlite"),
        replica,
        timeout=LARGE_TIMEOUT,
        expect=ExitCode.USAGE,
        unset=("MYOPENIP_TRACE",),
    )


def _measure_bombs(
    bench: Bench, log: Callable[[str], None], replica: Replica, res: LimitsResults
) -> None:
    for bomb in BOMBS:
        log(f"limits: .xlsx bomb, {bomb.what} (built first, not measured)")
        path = xlsx_with_part(bench.work / f"{bomb.name}.xlsx", bomb.part, bomb.body())
        res.bomb_bytes[bomb.name] = path.stat().st_size
        run = bench.run(
            f"limits-bomb-{bomb.name}",
            batch(path, "--dry-run", "--json"),
            replica,
            timeout=BOMB_TIMEOUT,
            expect=ExitCode.USAGE,
            sample_rss=True,
        )
        error = run.json_stdout().get("error") or {}
        if run.ok and error.get("type") != "BatchFileError":
            run.problem = f"refused, but not as a bad file: {error.get('type')!r}"
        if run.ok and any(e.get("event") == "browser_found" for e in run.events):
            run.problem = "a browser was looked for before the file was refused"
        res.bombs.append((bomb, run))
        path.unlink()  # a few MB each, but no need to keep them


def _measure_drifts(
    bench: Bench, log: Callable[[str], None], replica: Replica, res: LimitsResults
) -> None:
    for n, drift in enumerate(DRIFTS, 1):
        log(f"limits: smoke on a drift, {drift.label}")
        replica.test_api("reset")
        replica.test_api("drift", drift.change)
        run = bench.run(
            f"limits-drift-{n}-{drift.key}",
            [PYTHON, "-m", "myopenip", "smoke", "--json"],
            replica,
            timeout=SMOKE_TIMEOUT,
            expect=ExitCode.REFUSED,
            unset=("MYOPENIP_TRACE",),
        )
        named = failing_key(run)
        if run.ok and named != drift.key:
            run.problem = f"named {named!r}, not {drift.key!r}"
        res.drifts.append((drift, run))

        log(f"limits: a one-shot on the same drift, {drift.label}")
        before = replica.state()
        run = bench.run(
            f"limits-one-shot-drift-{n}-{drift.key}",
            [
                PYTHON, "-m", "myopenip", "dissociate", "--service", "SRV-10021",
                "--licence", DRIFT_LICENCE, "--release-number", "--yes", "--json",
            ],
            replica,
            timeout=SMOKE_TIMEOUT,
            expect=ExitCode.REFUSED,
            unset=("MYOPENIP_TRACE",),
        )  # fmt: skip
        error = run.json_stdout().get("error") or {}
        if run.ok and not str(error.get("message", "")).startswith(f"{drift.key}:"):
            run.problem = f"its error does not name {drift.key!r}: {error.get('message')!r}"
        if replica.state() != before and run.problem is None:
            run.problem = "the portal changed"
        res.one_shots.append((drift, run))
    replica.test_api("reset")


def _measure_resets(log: Callable[[str], None], replica: Replica, res: LimitsResults) -> None:
    log(f"limits: {RESETS} resets of the replica's data, each beside a test API read")
    replica.test_api("reset")  # not measured: the first one after the start warms up
    for _ in range(RESETS):
        started = time.perf_counter()
        replica.back_end()
        res.reset_floors.append(time.perf_counter() - started)
        started = time.perf_counter()
        replica.test_api("reset")
        res.resets.append(time.perf_counter() - started)


# ------------------------------------------------------------------------ figures


def event_at(run: Measured, name: str, **fields: Any) -> float | None:
    """Seconds from the run's spawn to the first `name` event (with these fields), from
    the event's own timestamp."""
    for event in run.events:
        if event.get("event") == name and all(event.get(k) == v for k, v in fields.items()):
            stamp = event.get("timestamp")
            if isinstance(stamp, str):
                at = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
                return at - run.started
    return None


def first_search(run: Measured) -> float | None:
    """Seconds from `batch_started` (the file read, checked, loaded) to the first search."""
    start, search = event_at(run, "batch_started"), event_at(run, "services_searched")
    return None if start is None or search is None else search - start


def stop_seconds(run: Measured) -> float | None:
    return None if run.signalled_at is None else run.seconds - run.signalled_at


def smoke_document(run: Measured) -> dict[str, Any]:
    """The run's smoke.json (in its run folder), else what --json printed."""
    printed = run.json_stdout()
    folder = printed.get("run_dir")
    if isinstance(folder, str):
        path = run.folder / folder / "smoke.json"
        if path.is_file():
            found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return found
    return printed


def failing_key(run: Measured) -> str | None:
    """The key of the smoke's first failed check (the ones it did not run are errors)."""
    for check in smoke_document(run).get("checks", []):
        if check.get("status") == "failed":
            return str(check.get("key"))
    return None


def peak_rss(run: Measured) -> int:
    return max(run.peak_rss, run.max_rss)


def _value(run: Measured | None, figure: Callable[[Measured], float | None]) -> float | None:
    return None if run is None else figure(run)


def _unmet(run: Measured | None) -> str:
    if run is None or run.ok:
        return ""
    return run.problem or f"exit {run.code}, not {run.expected}"


def _median_ms(seconds: Sequence[float]) -> float | None:
    return statistics.median(seconds) * 1000 if seconds else None


def targets(res: LimitsResults) -> list[Target]:
    """The part's rows of the report's targets (only those measured)."""
    out: list[Target] = []
    if res.resets:
        out.append(
            Target(
                "the replica's reset, before every test (issue 26)",
                f"ms of `POST /_test/reset` (default data, over HTTP), median of {len(res.resets)}",
                _median_ms(res.resets),
                RESET_MS,
                True,
                unit=" ms",
                digits=0,
                note=f"floor: a test API read, {_median_ms(res.reset_floors) or 0:.1f} ms",
            )
        )
    rows = f"{res.rows:,}"
    if res.large is not None:
        large = res.large
        out += [
            Target(
                f"{rows}-row file: validated to its first search (issue 14)",
                "seconds from `batch_started` (file read, checked, in the journal) to the "
                "first `services_searched`, event timestamps",
                _value(large, first_search),
                FIRST_SEARCH_S,
                True,
                unit=" s",
                digits=1,
            ),
            Target(
                f"{rows}-row file: SIGTERM to exit (issue 14)",
                "seconds from SIGTERM (sent at the first `services_searched`) to the "
                "process's exit, which must be 143",
                _value(large, stop_seconds),
                STOP_S,
                True,
                unit=" s",
                digits=1,
                strict=True,
                unmet=_unmet(large),
            ),
            Target(
                f"{rows}-row file: stderr (issue 14)",
                "lines on stderr, whole run (JSON events; not one per row)",
                float(len(large.stderr)),
                STDERR_LINES,
                True,
                unit=" lines",
                digits=0,
                strict=True,
            ),
        ]
    if res.bad is not None:
        out.append(
            Target(
                f"{rows} bad rows: problems capped (issue 14)",
                "kB written on stdout + stderr (`--json`; the issue saw 14.7 MB), exit 2",
                res.bad.output_bytes / 1000,
                BAD_OUTPUT_KB,
                True,
                unit=" kB",
                digits=1,
                strict=True,
                unmet=_unmet(res.bad),
            )
        )
    if res.bombs:
        unmet = "; ".join(f"{b.name}: {_unmet(r)}" for b, r in res.bombs if not r.ok)
        slow_bomb, slow = max(res.bombs, key=lambda pair: pair[1].seconds)
        big_bomb, big = max(res.bombs, key=lambda pair: peak_rss(pair[1]))
        out += [
            Target(
                f".xlsx bombs refused: time (issue 14, {len(res.bombs)} bombs)",
                "wall seconds of `batch BOMB --dry-run --json` to its refusal as a bad "
                "file (exit 2), the slowest bomb",
                slow.seconds,
                BOMB_S,
                True,
                unit=" s",
                digits=1,
                strict=True,
                note=slow_bomb.name,
                unmet=unmet,
            ),
            Target(
                f".xlsx bombs refused: memory (issue 14, {len(res.bombs)} bombs)",
                "peak RSS of the process tree (sampled, and its own high-water mark), the largest",
                peak_rss(big) / MB,
                BOMB_MB,
                True,
                unit=" MB",
                digits=0,
                strict=True,
                note=big_bomb.name,
                unmet=unmet,
            ),
        ]
    for drift, run in res.drifts:
        out.append(
            Target(
                f"smoke names {drift.label} (issue 19)",
                f"wall seconds of `smoke --json` to exit 1 naming `{drift.key}`",
                run.seconds,
                DRIFT_S,
                True,
                unit=" s",
                digits=1,
                strict=True,
                unmet=_unmet(run),
            )
        )
    for drift, run in res.one_shots:
        out.append(
            Target(
                f"one-shot fails on {drift.label} (issue 16)",
                f"wall seconds of `dissociate … --yes --json` to exit 1 naming `{drift.key}`",
                run.seconds,
                ONE_SHOT_DRIFT_S,
                True,
                unit=" s",
                digits=1,
                strict=True,
                unmet=_unmet(run),
            )
        )
    return out


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def _verdict(value: float | None, limit: float, run: Measured) -> str:
    if value is None:
        return "n/a"
    return "**PASS**" if run.ok and value < limit else "**MISS**"


def lines(res: LimitsResults) -> list[str]:
    """The report's section: every figure of the part."""
    out = [
        "## Limits: large files, .xlsx bombs, smoke drift, the replica's reset "
        "(issues 14, 19 and 26)",
        "",
        "Cold `python -m myopenip …` processes, each in a temp folder of its own, against "
        "a replica of the default data started for this part; `MYOPENIP_LOG_FORMAT=json`, "
        "the other settings the bot's defaults (a trace `retain-on-failure`; the smoke "
        "records none unless `MYOPENIP_TRACE` is set). This part runs first. Times "
        "between events come from the events' own timestamps.",
        "",
    ]
    rows = f"{res.rows:,}"
    large, bad = res.large, res.bad
    if res.resets:
        reset, floor = _median_ms(res.resets), _median_ms(res.reset_floors)
        each = ", ".join(f"{s * 1000:.0f}" for s in res.resets)
        out += [
            f"The replica's reset (`POST /_test/reset`, default data: every table written "
            f"again from the seed), which every test's `replica` fixture sends first: "
            f"{len(res.resets)} in a row after one not measured, each beside its floor, a "
            f"read of the test API (`GET /_test/back-end`). Median {reset or 0:.0f} ms "
            f"(each: {each} ms), floor {floor or 0:.1f} ms; wanted at most {RESET_MS:g} ms: "
            + ("**PASS**." if reset is not None and reset <= RESET_MS else "**MISS**."),
            "",
        ]
    if large is not None:
        start, search = event_at(large, "batch_started"), event_at(large, "services_searched")
        signalled = large.signalled_at
        first = first_search(large)
        stop = stop_seconds(large)
        payload = large.json_stdout()
        out += [
            f"A file of {rows} rows (`SRV-10021;FPC600000;non` …, refs the replica does not "
            "hold), `batch FILE --yes --json --journal J`; SIGTERM sent when its first "
            "`services_searched` event is read:",
            "",
            "| measurement | figure | wanted | verdict |",
            "|---|---|---|---|",
            f"| spawn → `batch_started` (file read, checked, loaded in the journal) | "
            f"{_s(start)} | | |",
            f"| `batch_started` → first `services_searched` | {_s(first)} | "
            f"≤ {FIRST_SEARCH_S:g} s | "
            + ("n/a" if first is None else "**PASS**" if first <= FIRST_SEARCH_S else "**MISS**")
            + " |",
            f"| spawn → first `services_searched` | {_s(search)} | | |",
            f"| SIGTERM sent (from spawn) | {_s(signalled)} | | |",
        ]
        if signalled is not None:
            for name, what in (
                ("stopped_at_safe_point", "the safe point reached"),
                ("session_finished", "the browser closed"),
                ("batch_finished", "the journal, report and results written"),
            ):
                at = event_at(large, name)
                shown = "n/a" if at is None else f"+{at - signalled:.1f} s"
                out.append(f"| SIGTERM → `{name}` ({what}) | {shown} | | |")
        out += [
            f"| SIGTERM → exit | {_s(stop)} (exit {large.code}) | < {STOP_S:g} s, exit 143 | "
            f"{_verdict(stop, STOP_S, large)} |",
            f"| stderr | {len(large.stderr):,} lines | < {STDERR_LINES:,} | "
            + ("**PASS**" if len(large.stderr) < STDERR_LINES else "**MISS**")
            + " |",
            f"| stdout (`--json`: {len(payload.get('results', [])):,} results) | "
            f"{len(large.stdout.encode()) / MB:,.1f} MB | | |",
            f"| left in `traces/` (summary.json, results.csv, report.html, the trace) | "
            f"{large.traces_bytes / MB:,.1f} MB | | |",
            f"| whole run | {_s(large.seconds)} | | |",
            "",
        ]
    if bad is not None:
        error = bad.json_stdout().get("error") or {}
        listed = len(error.get("problems") or [])
        out += [
            f"A file of {rows} bad rows (licence `BAD0` …), the same command: exit "
            f"{bad.code} in {bad.seconds:.1f} s, {bad.output_bytes / 1000:,.1f} kB on stdout "
            f"+ stderr ({len(bad.stderr):,} lines on stderr; the JSON lists {listed} "
            f"problems: « {error.get('message', '?')} »). Wanted: under "
            f"{BAD_OUTPUT_KB:g} kB (the issue saw 14.7 MB): "
            + (
                "**PASS**."
                if bad.ok and bad.output_bytes / 1000 < BAD_OUTPUT_KB
                else f"**MISS** ({_unmet(bad) or 'too large'})."
            ),
            "",
        ]
    if res.bombs:
        out += [
            "Three .xlsx bombs (a workbook whose one part is replaced, deflated at level 9), "
            "`batch BOMB --dry-run --json`: refused as a bad file (exit 2) before any "
            "browser, in under 5 s and 300 MB each. Peak RSS: the larger of the process "
            "tree's RSS sampled every 0.25 s and the process's own high-water mark (VmHWM, "
            "sampled; not wait4's, which counts the harness's pages a forked child holds "
            "until it execs).",
            "",
            "| bomb | file | exit | why (the first problem) | seconds | peak RSS | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for bomb, run in res.bombs:
            error = run.json_stdout().get("error") or {}
            why = (error.get("problems") or [error.get("message", run.problem or "?")])[0]
            why = str(why).replace("|", "\\|")
            ok = run.ok and run.seconds < BOMB_S and peak_rss(run) / MB < BOMB_MB
            out.append(
                f"| {bomb.what} (`{bomb.part}`) | {res.bomb_bytes.get(bomb.name, 0) / MB:,.1f} "
                f"MB | {run.code} | {why} | {run.seconds:.1f} | {peak_rss(run) / MB:,.0f} MB | "
                + ("**PASS**" if ok else f"**MISS** {_unmet(run)}".rstrip())
                + " |"
            )
        out.append("")
    if res.drifts:
        out += [
            "The smoke on a drifted replica (`POST /_test/drift`, one rename each, on a "
            "reset replica), `smoke --json`: exit 1 naming the key of selectors/ that "
            "tests/commands/test_smoke.py names, in under 15 s. *Named at*: the failed "
            "check's `smoke_check` event, from spawn.",
            "",
            "| rename | key wanted | exit | key named (smoke.json) | named at | wall | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for drift, run in res.drifts:
            named_at = None
            for event in run.events:
                if event.get("event") == "smoke_check" and event.get("status") == "failed":
                    named_at = event_at(run, "smoke_check", check=event.get("check"))
                    break
            out.append(
                f"| {drift.label} | `{drift.key}` | {run.code} | "
                f"`{failing_key(run)}` | {_s(named_at)} | {run.seconds:.1f} s | "
                f"{_verdict(run.seconds, DRIFT_S, run)} |"
            )
        out.append("")
    if res.one_shots:
        out += [
            "A one-shot on each drift (`dissociate --service SRV-10021 --licence "
            f"{DRIFT_LICENCE} --release-number --yes --json`, the replica reset and drifted "
            f"as above): exit 1, its error naming the key, in under {ONE_SHOT_DRIFT_S:g} s, "
            "nothing changed.",
            "",
            "| rename | key wanted | exit | error (its beginning) | wall | verdict |",
            "|---|---|---|---|---|---|",
        ]
        for drift, run in res.one_shots:
            error = run.json_stdout().get("error") or {}
            message = str(error.get("message", run.problem or "?"))[:90].replace("|", "\\|")
            out.append(
                f"| {drift.label} | `{drift.key}` | {run.code} | "
                f"{message} | {run.seconds:.1f} s | "
                f"{_verdict(run.seconds, ONE_SHOT_DRIFT_S, run)} |"
            )
        out.append("")
    return out


# ------------------------------------------------------------------------ alone


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", action="append", choices=PARTS, help="one part (repeatable; default: all)"
    )
    parser.add_argument("--keep-work", action="store_true", help="keep the temp folders")
    args = parser.parse_args(argv)

    def measured(bench: Bench, log: Callable[[str], None], work: Path) -> LimitsResults:
        return measure(bench, log, args.only or PARTS)

    return run_alone("limits", measured, targets, lines, keep_work=args.keep_work)


if __name__ == "__main__":
    sys.exit(main())
