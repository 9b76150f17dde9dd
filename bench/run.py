"""`make bench`: measure the bot against its floors, in one run, and write docs/benchmarks.md.

    .venv/bin/python bench/run.py [--scale-rows 1000] [--one-shots 8] [--out docs/benchmarks.md]

Every figure is measured in this one run, on replicas this script starts (run_replica,
with the test API) and resets (POST /_test/reset) between runs, and is reported as a
ratio of a floor measured in the same run:

- replica A (default data): the straight-line script (bench/straight_line.py), the HTTP
  floor (bench/http_floor.py), one-shot `myopenip dissociate` runs (fresh login, then with
  the saved session of the run before), and `myopenip batch` of 40 licences over
  SRV-10021/22/23 with --workers 1, 2 and 4;
- replica B (`--latency-ms 100`): the same batch with --workers 1, and the HTTP floor;
- the one-shot part (bench/one_shot.py, also runnable alone), last, on a replica of its
  own at 150 ms: `dissociate` of one of the guide's Groupements licences with a fresh
  login and with a saved session, against the straight-line script, interleaved;
- the workers part (bench/workers.py, also runnable alone), after it, on a replica of
  its own at 150 ms with 8 services of 40 licences: 48 rows over the 8 services with
  --workers 1, 2 and 4, and 40 rows of one service with --workers 1 and 2 (its rows
  shared between the two), the speed-ups against issue 32's targets;
- replica C (`--licences-per-service N`): a batch of --scale-rows rows with --workers 2,
  sampling the peak RSS of the bot's process tree (python, Playwright's driver, Chromium)
  at row 100 and at the last row (1,000 rows by default);
- the speed work (bench/speed.py): the bot of the commit before each speed change and of
  the commit that made it, on replicas A and C;
- the limits, measured first (bench/limits.py, also runnable alone): a 200,000-row file
  stopped by SIGTERM, 200,000 bad rows, three .xlsx bombs, the smoke and a one-shot on
  each drift of issue 19, the replica's reset.

Each measured command is a cold process in a temp folder of its own (its own traces/ and
.myopenip/), with MYOPENIP_LOG_FORMAT=json and MYOPENIP_TRACE=off; its JSON-lines events
on stderr give the profile of where the time goes. The table goes to stdout, the report
to docs/benchmarks.md and the plot to docs/benchmarks.png. Exit 1 if a measured command
failed or did not dissociate what it should have (the report says which); a target missed
is reported as MISS with its figure, never hidden, and is not a failure of the script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench import limits, one_shot, speed
from bench import workers as workers_part
from bench.harness import (
    BATCH_SERVICES,
    BATCH_TIMEOUT,
    LATENCY_MS,
    PYTHON,
    ROOT,
    RSS_FIRST_MARK,
    SCALE_SERVICES,
    WORKERS,
    Bench,
    Licence,
    Measured,
    Target,
    bot_batch,
    bot_dissociate,
    check_done,
    crashed,
    event_counts,
    http_floor,
    numbered,
    pick,
    reset,
    straight_line,
    target_table,
    write_batch,
)
from myopenip.replica import Replica, run_replica
from myopenip_bot.browser.launch import find_browser

# ------------------------------------------------------------------------ profiles

# Where a one-shot `dissociate` spends its time: each gap between two events goes to the
# phase in force, a phase starting at the first event of its name (in this order).
PHASES = (
    ("(spawn)", "start-up: Python, imports, settings"),
    ("browser_found", "launch Chromium, new context"),
    ("run_started", "open the portal, Mes Services > Paramétrage / Monitoring"),
    ("login_needed", "log in (fresh login only)"),
    ("session_state_saved", "open the portal, Mes Services > Paramétrage / Monitoring"),
    ("services_opened", "search the service, « Paramétrer > »"),
    ("service_opened", "plan: find the licence (the tabs as they show, then searches)"),
    ("licence_planned", "act: the licence's page opening, tick, Actions > dialog (preview)"),
    ("dissociation_opened", "read the dialog back, set « Conserver », options, screenshot"),
    ("valider_clicking", "« Valider » and its answer"),
    ("dissociation_submitted", "verify: the refreshed results (else a search), screenshot"),
    ("run_finished", "close: browser, trace, result.json"),
    ("session_finished", "exit"),
)


def _event_time(event: dict[str, Any]) -> float | None:
    stamp = event.get("timestamp")
    if not isinstance(stamp, str):
        return None
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def phases(run: Measured) -> dict[str, float]:
    """Seconds per phase of one `dissociate` run (PHASES), from its events' timestamps."""
    names = [name for name, _ in PHASES]
    out: dict[str, float] = defaultdict(float)
    current, last = 0, run.started
    for event in run.events:
        at = _event_time(event)
        if at is None:
            continue
        name = str(event.get("event"))
        if name in names[current + 1 :]:
            index = names.index(name, current + 1)
            out[PHASES[current][1]] += max(0.0, at - last)
            current, last = index, at
    out[PHASES[current][1]] += max(0.0, run.started + run.seconds - last)
    return dict(out)


def gaps_by_event(run: Measured) -> dict[str, float]:
    """Seconds spent before each kind of event (the gap from the previous event), summed."""
    out: dict[str, float] = defaultdict(float)
    last = run.started
    for event in run.events:
        at = _event_time(event)
        if at is None:
            continue
        out[str(event.get("event"))] += max(0.0, at - last)
        last = at
    out["(exit after the last event)"] += max(0.0, run.started + run.seconds - last)
    return dict(out)


def batch_span(run: Measured) -> tuple[float, float]:
    """(seconds before the first row settles, seconds from then to the last row)."""
    if not run.settled_at:
        return (run.seconds, 0.0)
    return (run.settled_at[0], run.settled_at[-1] - run.settled_at[0])


def workers_used(run: Measured) -> int:
    return len({e.get("run_dir") for e in run.events if e.get("event") == "session_started"})


# ------------------------------------------------------------------------ the report


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _ok(runs: Iterable[Measured]) -> list[Measured]:
    return [r for r in runs if r.ok]


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or a != a or b != b:
        return None
    return a / b


def _fmt(value: float | None, digits: int = 2, unit: str = "") -> str:
    if value is None or value != value:
        return "n/a"
    return f"{value:.{digits}f}{unit}"


def _mib(value: int | float) -> str:
    return f"{value / 2**20:,.0f} MiB"


@dataclass
class Results:
    """Everything measured, grouped for the report."""

    straight: list[Measured] = field(default_factory=list)
    http: list[Measured] = field(default_factory=list)
    fresh: list[Measured] = field(default_factory=list)
    saved: list[Measured] = field(default_factory=list)
    one_shots: list[Measured] = field(default_factory=list)  # the chained set, in order
    batches: dict[int, list[Measured]] = field(default_factory=dict)  # workers: runs
    latency_batch: Measured | None = None
    latency_http: list[Measured] = field(default_factory=list)
    scale: Measured | None = None
    scale_rows: int = 0
    retried: list[Measured] = field(default_factory=list)  # crashed attempts, run again
    service_rows: dict[str, int] = field(default_factory=dict)  # the batch's rows by service
    one_shot_count: int = 0
    batch_size: int = 0
    speed: speed.SpeedResults = field(default_factory=speed.SpeedResults)
    limits: limits.LimitsResults | None = None
    one_shot: one_shot.OneShotResults | None = None  # at 150 ms, the guide's Groupements
    workers: workers_part.WorkersResults | None = None  # at 150 ms: 8 services, and one shared

    # -- figures (None when the runs behind them failed)

    def straight_s(self) -> float | None:
        runs = _ok(self.straight)
        return median([r.seconds for r in runs]) if runs else None

    def straight_sum(self) -> float | None:
        if not self.straight or len(_ok(self.straight)) != len(self.straight):
            return None
        return sum(r.seconds for r in self.straight)

    def saved_s(self) -> float | None:
        runs = _ok(self.saved)
        return median([r.seconds for r in runs]) if runs else None

    def fresh_s(self) -> float | None:
        runs = _ok(self.fresh)
        return median([r.seconds for r in runs]) if runs else None

    def http_s(self, runs: list[Measured]) -> float | None:
        good = _ok(runs)
        values = [float(r.json_stdout().get("seconds", "nan")) for r in good]
        return median(values) if values else None

    def one_shots_sum(self) -> float | None:
        if not self.one_shots or len(_ok(self.one_shots)) != len(self.one_shots):
            return None
        return sum(r.seconds for r in self.one_shots)

    def batch_s(self, workers: int) -> float | None:
        """Mean wall time of the completed batch runs with this many workers (None: none
        completed; a run that failed has no meaningful time)."""
        runs = _ok(self.batches.get(workers, []))
        return statistics.mean(r.seconds for r in runs) if runs else None

    def batch_run(self, workers: int) -> Measured | None:
        """The run with this many workers closest to their mean (for profiles and CPU)."""
        runs = _ok(self.batches.get(workers, [])) or self.batches.get(workers, [])
        if not runs:
            return None
        mean = statistics.mean(r.seconds for r in runs)
        return min(runs, key=lambda r: abs(r.seconds - mean))

    def scale_factor(self) -> float:
        return self.batch_size / self.one_shot_count if self.one_shot_count else float("nan")


def ceiling(service_rows: dict[str, int], workers: int) -> float:
    """The best speed-up over one worker when each worker takes whole services from a queue
    (in the file's order), if time were proportional to rows and start-up free."""
    loads = [0] * max(1, min(workers, len(service_rows)))
    for rows in service_rows.values():
        loads[loads.index(min(loads))] += rows
    return sum(service_rows.values()) / max(loads) if service_rows else float("nan")


def targets(res: Results) -> list[Target]:
    factor = res.scale_factor()
    straight_sum = res.straight_sum()
    straight_40 = None if straight_sum is None else straight_sum * factor
    t1, t2, t4 = res.batch_s(1), res.batch_s(2), res.batch_s(4)
    lat = res.latency_batch
    lat_per = lat.seconds / res.batch_size if lat is not None and lat.ok else None
    rss = None
    if res.scale is not None and res.scale.ok:
        marks = res.scale.rss_marks
        first, last = marks.get(RSS_FIRST_MARK), marks.get(res.scale_rows)
        if first and last:
            rss = last[0] / first[0]
    w4_run = res.batch_run(4)
    w4_used = workers_used(w4_run) if w4_run is not None else 0
    return [
        Target(
            "one licence, saved session, vs the straight-line script",
            "`dissociate` (saved session) ÷ straight-line, cold processes, medians",
            _ratio(res.saved_s(), res.straight_s()),
            1.3,
            True,
        ),
        Target(
            f"{res.batch_size}-licence batch vs {res.batch_size} straight-line scripts",
            f"`batch --workers 1` ÷ ({res.batch_size} × straight-line"
            + (
                f", measured on {res.one_shot_count} licences × {factor:g})" if factor != 1 else ")"
            ),
            _ratio(t1, straight_40),
            0.2,
            True,
        ),
        Target(
            "2 workers vs 1 (throughput)",
            "time(--workers 1) ÷ time(--workers 2)",
            _ratio(t1, t2),
            1.8,
            False,
            note=f"ceiling {ceiling(res.service_rows, 2):.2f}× with whole services per worker",
        ),
        Target(
            "4 workers vs 1 (throughput)",
            "time(--workers 1) ÷ time(--workers 4)",
            _ratio(t1, t4),
            3.0,
            False,
            note=f"{w4_used} browsers ran, one service each; ceiling "
            f"{ceiling(res.service_rows, 4):.2f}× with whole services per worker",
        ),
        Target(
            f"at {LATENCY_MS} ms latency: batch s/licence vs the HTTP floor's",
            "(`batch --workers 1` wall ÷ licences) ÷ HTTP floor (one licence, with login)",
            _ratio(lat_per, res.http_s(res.latency_http)),
            2.0,
            True,
        ),
        Target(
            f"peak RSS at licence {res.scale_rows:,} vs at licence {RSS_FIRST_MARK}",
            f"peak tree RSS up to row {res.scale_rows:,} ÷ up to row {RSS_FIRST_MARK}"
            + ("" if res.scale_rows >= 1000 else " (the default run's smaller scale point)"),
            rss,
            1.10,
            True,
        ),
    ]


def table_lines(res: Results) -> list[str]:
    """The targets as a markdown table (also printed), the Limits part's last."""
    found = targets(res)
    if res.one_shot is not None:
        found += one_shot.targets(res.one_shot)
    if res.workers is not None:
        found += workers_part.targets(res.workers)
    if res.limits is not None:
        found += limits.targets(res.limits)
    return target_table(found)


def figures_lines(res: Results) -> list[str]:
    """Every measured figure, in seconds and per licence."""
    n = res.batch_size
    rows = ["| measurement | runs | seconds (median) | s / licence |", "|---|---|---|---|"]

    def add(name: str, runs: Sequence[Measured], seconds: float | None, per: float | None) -> None:
        bad = len(runs) - len(_ok(runs))
        count = f"{len(runs)}" + (f" ({bad} failed)" if bad else "")
        rows.append(f"| {name} | {count} | {_fmt(seconds, 1)} | {_fmt(per, 2)} |")

    add(
        "straight-line script, one licence (cold process)",
        res.straight,
        res.straight_s(),
        res.straight_s(),
    )
    add(
        "HTTP floor, one licence with login (in-process)",
        res.http,
        res.http_s(res.http),
        res.http_s(res.http),
    )
    http_cold = median([r.seconds for r in _ok(res.http)]) if _ok(res.http) else None
    add("HTTP floor, one licence (cold process)", res.http, http_cold, http_cold)
    add("`dissociate`, fresh login (cold process)", res.fresh, res.fresh_s(), res.fresh_s())
    add("`dissociate`, saved session (cold process)", res.saved, res.saved_s(), res.saved_s())
    total = res.one_shots_sum()
    factor = res.scale_factor()
    add(
        f"{res.one_shot_count} one-shot `dissociate` in a row (sum)",
        res.one_shots,
        total,
        None if total is None else total / res.one_shot_count,
    )
    if total is not None and factor != 1:
        rows.append(
            f"| {n} one-shot `dissociate` (sum × {factor:g}, extrapolated) | — | "
            f"{total * factor:.1f} | {total / res.one_shot_count:.2f} |"
        )
    straight = res.straight_sum()
    if straight is not None:
        rows.append(
            f"| {n} straight-line scripts ({len(res.straight)} measured, sum × {factor:g}) | — | "
            f"{straight * factor:.1f} | {straight / len(res.straight):.2f} |"
        )
    for workers, runs in sorted(res.batches.items()):
        mean = res.batch_s(workers)
        each = ", ".join(f"{r.seconds:.1f}" for r in _ok(runs)) or "none completed"
        shown = res.batch_run(workers) or runs[0]
        add(
            f"`batch` {n} licences, --workers {workers} ({workers_used(shown)} browsers; "
            f"completed runs: {each} s; mean)",
            runs,
            mean,
            None if mean is None else mean / n,
        )
    if res.latency_batch is not None:
        run = res.latency_batch
        add(
            f"`batch` {n} licences, --workers 1, {LATENCY_MS} ms latency",
            [run],
            run.seconds,
            run.seconds / n,
        )
    lat_http = res.http_s(res.latency_http)
    add(
        f"HTTP floor, one licence, {LATENCY_MS} ms latency (in-process)",
        res.latency_http,
        lat_http,
        lat_http,
    )
    if res.scale is not None:
        run = res.scale
        add(
            f"`batch` {res.scale_rows:,} licences, --workers 2",
            [run],
            run.seconds,
            run.seconds / res.scale_rows,
        )
    return rows


def _phase_table(runs: list[Measured]) -> list[str]:
    per_run = [phases(r) for r in runs]
    labels: list[str] = []
    for _, label in PHASES:
        if label not in labels:
            labels.append(label)
    total = median([r.seconds for r in runs])
    lines = ["| phase | seconds (median) | share |", "|---|---|---|"]
    for label in labels:
        values = [p.get(label, 0.0) for p in per_run]
        if not any(values):
            continue
        value = median(values)
        lines.append(f"| {label} | {value:.2f} | {value / total:.0%} |")
    lines.append(f"| **whole run** | **{total:.2f}** | |")
    return lines


def _gap_table(run: Measured, top: int = 10) -> list[str]:
    gaps = sorted(gaps_by_event(run).items(), key=lambda item: -item[1])[:top]
    counts = event_counts(run)
    lines = ["| time spent before the event | events | seconds | share |", "|---|---|---|---|"]
    lines += [
        f"| `{name}` | {counts.get(name, 1)} | {value:.1f} | {value / run.seconds:.0%} |"
        for name, value in gaps
    ]
    return lines


def cpu_lines(res: Results) -> list[str]:
    lines = [
        "| run | wall s | bot tree CPU s | bot cores | replica cores | machine busy |",
        "|---|---|---|---|---|---|",
    ]
    runs: list[tuple[str, Measured]] = []
    for workers in sorted(res.batches):
        for run in _ok(res.batches[workers]):
            runs.append((f"`batch` --workers {workers} ({workers_used(run)} browsers)", run))
    if res.saved:
        runs.insert(0, ("`dissociate`, saved session", res.saved[len(res.saved) // 2]))
    if res.straight:
        runs.insert(0, ("straight-line script", res.straight[len(res.straight) // 2]))
    if res.latency_batch is not None:
        runs.append((f"`batch` --workers 1, {LATENCY_MS} ms latency", res.latency_batch))
    if res.scale is not None:
        runs.append((f"`batch` {res.scale_rows:,} rows, --workers 2", res.scale))
    for name, run in runs:
        lines.append(
            f"| {name} | {run.seconds:.1f} | {run.cpu_seconds:.1f} | "
            f"{run.cpu_seconds / run.seconds:.2f} | {run.replica_cpu_seconds / run.seconds:.2f} | "
            f"{run.machine_busy:.0%} |"
        )
    return lines


def saturation_lines(res: Results) -> list[str]:
    """Where the cores saturate, in words, from the batch runs' CPU figures."""
    cores = os.cpu_count() or 1
    lines = []
    for workers in sorted(res.batches):
        runs = _ok(res.batches[workers])
        if not runs:
            continue
        bot = statistics.mean(r.cpu_seconds / r.seconds for r in runs)
        replica = statistics.mean(r.replica_cpu_seconds / r.seconds for r in runs)
        busy = statistics.mean(r.machine_busy for r in runs)
        used = workers_used(runs[0])
        verdict = (
            "**saturated**"
            if busy >= 0.9 or bot + replica >= 0.9 * cores
            else "not saturated by the bot"
        )
        lines.append(
            f"- --workers {workers} ({used} browsers): the bot used {bot:.2f} of {cores} cores, "
            f"the replica {replica:.2f}; the machine was {busy:.0%} busy (other work "
            f"included): {verdict}."
        )
    return lines


def plot(res: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    n = res.batch_size
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    series: dict[int, list[tuple[int, float]]] = defaultdict(list)
    saved = res.saved_s()
    if saved is not None:
        series[1].append((1, saved))
    for count in res.batches:
        mean = res.batch_s(count)
        if mean is not None:
            series[count].append((n, mean / n))
    if res.scale is not None and res.scale.ok:
        series[2].append((res.scale_rows, res.scale.seconds / res.scale_rows))
    for count in sorted(series):
        points = sorted(series[count])
        label = "bot, 1 worker (size 1: one-shot, saved session)" if count == 1 else ""
        left.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker="o",
            label=label or f"bot, --workers {count}",
        )
    if res.latency_batch is not None and res.latency_batch.ok:
        left.scatter(
            [n],
            [res.latency_batch.seconds / n],
            marker="s",
            color="black",
            zorder=5,
            label=f"bot, --workers 1, {LATENCY_MS} ms latency",
        )
    for value, style, label in (
        (res.straight_s(), "--", "straight-line script (per licence, cold)"),
        (res.http_s(res.http), ":", "HTTP floor (per licence, with login)"),
        (res.http_s(res.latency_http), "-.", f"HTTP floor, {LATENCY_MS} ms latency"),
    ):
        if value is not None:
            left.axhline(value, linestyle=style, color="grey", label=label)
    left.set_xscale("log")
    left.set_yscale("log")
    for axis in (left.xaxis, left.yaxis):
        axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    left.set_yticks([0.25, 0.5, 1, 2, 4, 8])
    left.set_xlabel("batch size (licences)")
    left.set_ylabel("seconds per licence (wall, cold process)")
    left.set_title("Seconds per licence against batch size and workers")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8, loc="lower left")

    t1 = res.batch_s(1)
    workers = [w for w in sorted(res.batches) if res.batch_s(w) is not None]
    if t1 is not None and workers:
        speedups = [t1 / (res.batch_s(w) or 1.0) for w in workers]
        right.plot(workers, speedups, marker="o", label=f"measured ({n} licences, 3 services)")
        right.plot(workers, workers, linestyle="--", color="grey", label="linear")
        right.plot(
            workers,
            [ceiling(res.service_rows, w) for w in workers],
            linestyle="-.",
            color="grey",
            label="ceiling: whole services per worker",
        )
        busy = [statistics.mean(r.machine_busy for r in _ok(res.batches[w])) for w in workers]
        for w, s, b in zip(workers, speedups, busy, strict=True):
            right.annotate(
                f"machine {b:.0%} busy",
                (w, s),
                textcoords="offset points",
                xytext=(5, -12),
                fontsize=8,
            )
        right.axhline(1.8, color="green", alpha=0.4, linestyle=":", label="target, 2 workers")
        right.axhline(3.0, color="red", alpha=0.4, linestyle=":", label="target, 4 workers")
    right.set_xlabel("--workers")
    right.set_ylabel("throughput ÷ throughput with 1 worker")
    right.set_title(f"Speed-up on {os.cpu_count()} cores")
    right.set_xticks(list(WORKERS))
    right.grid(True, alpha=0.3)
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def machine_lines(elapsed: float, load: tuple[list[float], list[float]]) -> list[str]:
    try:
        chromium = subprocess.run(
            [_chromium(), "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        chromium = "?"
    from importlib.metadata import version

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; `make bench` took "
        f"**{elapsed / 60:.1f} min** (everything below was measured in that one run).",
        f"- Machine: {os.cpu_count()} cores ({cpu}), "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, {platform.platform()}.",
        f"- Load average (1, 5, 15 min) at the start: {', '.join(f'{v:.1f}' for v in load[0])}; "
        f"at the end: {', '.join(f'{v:.1f}' for v in load[1])}. Anything above "
        f'{os.cpu_count()} means other work shared the cores (see "machine busy" below).',
        f"- Python {platform.python_version()}, Playwright {version('playwright')}, {chromium}.",
    ]


def _chromium() -> str:

    launch = find_browser(os.environ.get("MYOPENIP_BROWSER_PATH"))
    return launch.executable_path or "chromium"


def write_report(
    res: Results,
    out: Path,
    png: Path,
    elapsed: float,
    load: tuple[list[float], list[float]],
    failures: list[Measured],
) -> None:
    n = res.batch_size
    factor = res.scale_factor()
    rel_png = os.path.relpath(png, out.parent)
    saved_profile = _ok(res.saved)
    fresh_profile = _ok(res.fresh)
    batch1 = res.batch_run(1)
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); do not edit by hand. Every figure comes "
        "from one run on this machine, against replicas the run started itself, and is "
        "given as a ratio of a floor measured in the same run. A missed target is shown "
        "as **MISS** with its figure.",
        "",
        *machine_lines(elapsed, load),
        "",
        "## Targets",
        "",
        *table_lines(res),
        "",
        f"![seconds per licence against batch size and workers]({rel_png})",
        "",
    ]
    if failures:
        lines += ["**Runs that failed** (their figures are n/a):", ""]
        lines += [f"- {r.label}: {r.problem}" for r in failures]
        lines.append("")
    lines += speed.lines(res.speed)
    if res.retried:
        lines += [
            f"**{len(res.retried)} batch run(s) crashed and were run again** (a worker "
            "crashed: a bug of the bot, see `worker_crashed` in its events; the figures above "
            "come from the runs that completed):",
            "",
        ]
        lines += [f"- {r.label}: {_crash_reason(r)}" for r in res.retried]
        lines.append("")
    lines += [
        "## Every figure",
        "",
        *figures_lines(res),
        "",
        "How each is measured:",
        "",
        "- *Cold process*: the wall time of a new process, from its spawn to its exit, in a "
        "temp folder of its own (its own `traces/` and `.myopenip/`), with "
        "`MYOPENIP_LOG_FORMAT=json` and `MYOPENIP_TRACE=off`. The bot and the straight-line "
        "script both pay Python's start-up, Playwright's driver and Chromium's launch.",
        "- *Straight-line script* (`bench/straight_line.py`): the guide's steps, located by "
        "role and label, no checks, a fresh login each time (it keeps no session).",
        "- *HTTP floor* (`bench/http_floor.py`): the requests the browser sends (login form "
        "with its CSRF token, the pages, the licence searches, the preview, the dissociation "
        "with `X-CSRF-Token`), no static files; its own in-process time, login included "
        "(its cold process, Python's start-up included, is shown too).",
        f"- *One-shots*: `python -m myopenip dissociate --service … --licence … "
        f"--release-number --yes` for {res.one_shot_count} licences of the batch file (every "
        f"{n // max(res.one_shot_count, 1)}th) in a row after a reset: the first logs in and "
        "saves its session, each next one is given that state file (`MYOPENIP_STATE_FILE`) "
        "— they are the *saved session* figure (no reset between them: a reset logs "
        "everybody out). *Fresh login*: the first of them, plus two more runs, each on a "
        "reset replica with no state file.",
        "- The three single-licence kinds are **interleaved** (straight-line on the next "
        "licence of the file, HTTP floor on the one after, then the one-shot), so that they "
        "share the machine's load of the moment; medians are shown.",
        f"- *{n} one-shots* and *{n} straight-line scripts* are **extrapolated**: the sum of "
        f"the {res.one_shot_count} measured runs × {factor:g}, to keep `make bench` under 15 "
        "minutes.",
        f"- *Batches*: `python -m myopenip batch FILE --yes --json --workers N`, the file "
        f"holding {n} numbered licences (by ref, from `GET /_test/state`): "
        + ", ".join(f"{c} of {s}" for s, c in BATCH_SERVICES.items())
        + "; a reset before each run; afterwards every licence is checked through the test "
        "API to have lost its number. Run in the order --workers 1, 2, 4, then 4, 2, 1 "
        "(`--batch-repeats 2`), the mean of each is used.",
        f"- *Latency*: a second replica with `--latency-ms {LATENCY_MS}` (each request waits "
        f"{LATENCY_MS // 2}–{LATENCY_MS * 3 // 2} ms): the same batch with `--workers 1`, "
        "and the HTTP floor for one licence.",
        "",
        "## Where the bot's time goes",
        "",
    ]
    if saved_profile:
        lines += [
            f"One `dissociate` with a saved session (median over {len(saved_profile)} runs), "
            "from its JSON-lines events (each gap between two events goes to the phase in "
            "force):",
            "",
            *_phase_table(saved_profile),
            "",
        ]
    if fresh_profile:
        lines += [
            f"The same with a fresh login (median over {len(fresh_profile)} runs):",
            "",
            *_phase_table(fresh_profile),
            "",
        ]
    if batch1 is not None:
        first, rest = batch_span(batch1)
        lines += [
            f"The {n}-licence batch with `--workers 1` ({batch1.seconds:.1f} s): {first:.1f} s "
            f"until its first row settled, then {rest:.1f} s for the rest. Time spent before "
            "each kind of event, summed over the run (the ten largest; `events`: how many):",
            "",
            *_gap_table(batch1),
            "",
            f"Its `traces/` held {batch1.traces_bytes / 2**20:,.1f} MiB afterwards (report.html: "
            f"{batch1.report_html_bytes / 2**20:,.1f} MiB).",
            "",
        ]
    lines += [
        "## CPU: where the 2 cores saturate",
        "",
        "Bot tree CPU: user + system seconds of the measured process and every descendant "
        "(Playwright's driver, Chromium), each read while it lived (every 0.25 s: up to "
        "the last quarter second of each is missed, so a floor), or the kernel's count of "
        "the children it saw reaped when that is more. Cores: CPU seconds ÷ wall seconds. "
        "Machine busy: "
        "the share of all cores busy during the run, whoever used them.",
        "",
        *cpu_lines(res),
        "",
        *saturation_lines(res),
        "",
    ]
    scale = res.scale
    if scale is not None:
        lines += [f"## Scale: {res.scale_rows:,} licences, --workers 2", ""]
        if res.scale_rows < 1000:
            lines += [
                f"This run's scale point is {res.scale_rows} rows (`--scale-rows`); "
                "`make bench` runs 1,000.",
                "",
            ]
        first, rest = batch_span(scale)
        lines += [
            f"A third replica with `--licences-per-service {scale_per_service(res.scale_rows)}` "
            f"(SRV-10022 and SRV-10023 topped up with numbered licences), a batch of "
            f"{res.scale_rows:,} rows ({res.scale_rows // 2} per service), `--workers 2`: "
            f"{scale.seconds:.1f} s ({scale.seconds / res.scale_rows:.2f} s per licence; "
            f"{first:.1f} s until the first row settled). RSS of the bot's process tree (the "
            "python process, Playwright's drivers and every Chromium process; shared pages "
            "count once per process), sampled every 0.25 s and when a row settles "
            "(`batch_row` events):",
            "",
            "| settled rows | peak RSS so far | RSS then |",
            "|---|---|---|",
        ]
        for mark, (peak, now) in sorted(scale.rss_marks.items()):
            lines.append(f"| {mark:,} | {_mib(peak)} | {_mib(now)} |")
        lines += [f"| (whole run) | {_mib(scale.peak_rss)} | |", ""]
        counts = event_counts(scale)
        tail = scale.seconds - (scale.settled_at[-1] if scale.settled_at else scale.seconds)
        lines += [
            f"What the bot did for these rows: {counts.get('dissociation_opened', 0)} dialogs "
            f"(« Valider » clicked {counts.get('valider_clicking', 0)} times), "
            f"{counts.get('licences_searched', 0)} licence searches, "
            f"{counts.get('tab_opened', 0)} tabs opened, "
            f"{counts.get('results_page_turned', 0)} results pages turned (« Suivant »), "
            f"{counts.get('services_opened', 0)} visits to Paramétrage / Monitoring. "
            f"After the last row settled, {tail:.1f} s more until the process exited "
            f"(closing the browsers, writing the report). The run left "
            f"{scale.traces_bytes / 2**20:,.0f} MiB in its `traces/`, of which report.html is "
            f"{scale.report_html_bytes / 2**20:,.0f} MiB.",
            "",
        ]
        lines += ["Time spent before each kind of event (the ten largest):", ""]
        lines += [*_gap_table(scale), ""]
    if res.one_shot is not None:
        lines += one_shot.lines(res.one_shot)
    if res.workers is not None:
        lines += workers_part.lines(res.workers)
    if res.limits is not None:
        lines += limits.lines(res.limits)
    lines += [
        "## Reproduce",
        "",
        "```sh",
        "make bench          # this page and docs/benchmarks.png (about 20 min on 2 cores)",
        ".venv/bin/python bench/run.py --help   # smaller runs (--scale-rows, --one-shots)",
        ".venv/bin/python -m bench.limits       # the Limits part alone "
        "(--only large|bombs|drift|reset)",
        "```",
        "",
        "Each replica is started by the script on a free port (`run_replica`, with the test "
        "API) and reset between runs; the temp folders are removed at the end "
        "(`--keep-work` keeps them).",
        "",
    ]
    out.write_text("\n".join(lines), encoding="utf-8")


def _crash_reason(run: Measured) -> str:
    for event in run.events:
        if event.get("event") == "worker_crashed":
            trace = str(event.get("exception", "")).strip().splitlines()
            return f"worker {event.get('worker')}: {trace[-1] if trace else '?'}"
    return run.problem or "?"


def scale_per_service(rows: int) -> int:
    """--licences-per-service for a batch of `rows` over SCALE_SERVICES, with a margin."""
    return rows // len(SCALE_SERVICES) + 30


# ------------------------------------------------------------------------ the run


def measure(args: argparse.Namespace, bench: Bench, log: Any) -> Results:
    res = Results(one_shot_count=args.one_shots, scale_rows=args.scale_rows)
    log("replica A: default data")
    with run_replica() as replica:
        licences = pick(replica.state(), BATCH_SERVICES)
        res.batch_size = len(licences)
        res.service_rows = dict(BATCH_SERVICES)
        # Every 5th licence of the file for the one-shots (with 8 of them), and its two
        # neighbours for the straight-line script and the HTTP floor.
        step = len(licences) // args.one_shots
        if step < 3:
            raise SystemExit(f"--one-shots: at most {len(licences) // 3}")
        sample = [
            (licences[i], licences[i + 1], licences[i + 2])
            for i in range(0, step * args.one_shots, step)
        ]
        res.one_shot_count = len(sample)
        batch_file = write_batch(bench.work / "batch-40.csv", licences)
        spare = [lic for lic in numbered(replica.state(), "SRV-10021") if lic not in licences]

        log("warm-up (not measured): imports, one straight-line run")
        reset(replica)
        bench.run(
            "warm-up-imports",
            [
                PYTHON,
                "-c",
                "import myopenip.commands.dissociate, "
                "myopenip_bot.batch, myopenip_bot.browser.session, playwright.sync_api, httpx",
            ],
            replica,
            record=False,
        )
        bench.run("warm-up-straight-line", straight_line(replica, spare[-1]), replica, record=False)

        # Interleaved, so that each kind sees the same load on the machine: for each
        # sampled licence, the straight-line script on its neighbour in the batch file, the
        # HTTP floor on the next one, then the one-shot `dissociate` on the licence itself.
        # No reset inside the loop: a reset logs everybody out, and the one-shots chain
        # their saved session (the first logs in; each next one gets the state file).
        log(f"straight-line, HTTP floor and one-shot `dissociate`, × {len(sample)} each")
        reset(replica)
        state_file: Path | None = None
        for index, (lic, line_lic, http_lic) in enumerate(sample):
            run = bench.run(f"straight-{line_lic.ref}", straight_line(replica, line_lic), replica)
            check_done(replica, run, [line_lic])
            res.straight.append(run)
            run = bench.run(f"http-{http_lic.ref}", http_floor(replica, http_lic), replica)
            check_done(replica, run, [http_lic])
            res.http.append(run)
            extra = {} if state_file is None else {"MYOPENIP_STATE_FILE": str(state_file)}
            run = bench.run(f"one-shot-{lic.ref}", bot_dissociate(lic), replica, env_extra=extra)
            check_done(replica, run, [lic])
            res.one_shots.append(run)
            (res.fresh if index == 0 else res.saved).append(run)
            # The next run is given the state file this one used or wrote.
            state_file = state_file or run.folder / ".myopenip" / "session-state.json"
            if not state_file.is_file():
                state_file = None  # the next run logs in again: it is not a saved-session run
        reused = [r for r in res.saved if _reused_login(r)]
        res.fresh += [r for r in res.saved if not _reused_login(r)]
        res.saved = reused

        log("`dissociate` with a fresh login × 2 more")
        for lic, _, _ in sample[1:3]:
            reset(replica)
            run = bench.run(f"fresh-{lic.ref}", bot_dissociate(lic), replica)
            check_done(replica, run, [lic])
            res.fresh.append(run)

        # w1, w2, w4, then (with --batch-repeats 2) w4, w2, w1: a drift of the machine's
        # load over the minutes favours no worker count.
        order = list(WORKERS)
        for repeat in range(args.batch_repeats):
            for workers in order if repeat % 2 == 0 else order[::-1]:
                log(f"`batch` of {len(licences)}, --workers {workers}")
                run = batch_run(
                    bench, res, replica, f"batch-w{workers}-{repeat + 1}",
                    bot_batch(batch_file, workers), licences,
                )  # fmt: skip
                res.batches.setdefault(workers, []).append(run)

        log("speed work: the bot before and after each change (one-shots, a 40-licence batch)")
        speed.measure_small(
            bench, replica, licences, batch_file, root=ROOT, reset=reset,
            check_done=check_done, one_shot=bot_dissociate, batch=bot_batch,
            results=res.speed,
        )  # fmt: skip

    log(f"replica B: --latency-ms {LATENCY_MS}")
    with run_replica("--latency-ms", str(LATENCY_MS)) as replica:
        res.latency_batch = batch_run(
            bench, res, replica, "latency-batch-w1", bot_batch(batch_file, 1), licences
        )
        reset(replica)
        for lic, _, _ in sample[:3]:
            run = bench.run(f"latency-http-{lic.ref}", http_floor(replica, lic), replica)
            check_done(replica, run, [lic])
            res.latency_http.append(run)

    per_service = scale_per_service(args.scale_rows)
    log(f"replica C: --licences-per-service {per_service}")
    with run_replica("--licences-per-service", str(per_service)) as replica:
        half = args.scale_rows // len(SCALE_SERVICES)
        rows = pick(replica.state(), dict.fromkeys(SCALE_SERVICES, half))
        res.scale_rows = len(rows)
        scale_file = write_batch(bench.work / f"batch-{len(rows)}.csv", rows)
        log(f"`batch` of {len(rows)}, --workers 2, sampling RSS")
        res.scale = batch_run(
            bench, res, replica, f"scale-batch-{len(rows)}", bot_batch(scale_file, 2), rows,
            sample_rss=True, rss_marks=(RSS_FIRST_MARK, len(rows)),
        )  # fmt: skip
        log(f"speed work: the same {len(rows)} rows by the bot before the last change")
        speed.measure_scale(
            bench, replica, rows, scale_file, res.scale, root=ROOT, reset=reset,
            check_done=check_done, batch=bot_batch, results=res.speed,
        )  # fmt: skip
    return res


def batch_run(
    bench: Bench,
    res: Results,
    replica: Replica,
    label: str,
    argv: list[str],
    rows: Sequence[Licence],
    *,
    sample_rss: bool = False,
    rss_marks: Iterable[int] = (),
    attempts: int = 4,
) -> Measured:
    """A batch on a reset replica, checked; run again (at most `attempts` in all) only when
    a worker crashed, and every crashed attempt is kept for the report."""
    for attempt in range(1, attempts + 1):
        reset(replica)
        run = bench.run(
            label if attempt == 1 else f"{label}-attempt{attempt}",
            argv,
            replica,
            timeout=BATCH_TIMEOUT,
            sample_rss=sample_rss,
            rss_marks=rss_marks,
        )
        check_done(replica, run, rows)
        if crashed(run):
            run.problem = f"a worker crashed ({_crash_reason(run)})"
        if run.ok or not crashed(run) or attempt == attempts:
            return run
        res.retried.append(run)
    raise AssertionError("unreachable")


def _reused_login(run: Measured) -> bool:
    return any(
        e.get("event") == "session_started" and e.get("reused_login") is True for e in run.events
    ) and not any(e.get("event") == "logged_in" for e in run.events)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale-rows",
        type=int,
        default=1000,
        help="rows of the scale batch (default 1000)",
    )
    parser.add_argument(
        "--one-shots",
        type=int,
        default=8,
        help="licences measured one by one, extrapolated to the batch's 40",
    )
    parser.add_argument(
        "--batch-repeats",
        type=int,
        default=2,
        help="runs of each 40-licence batch (w1, w2, w4, then w4, w2, w1; default 2)",
    )
    parser.add_argument(
        "--one-shot-rounds",
        type=int,
        default=one_shot.ROUNDS,
        help=f"rounds of the one-shot part at {one_shot.ONE_SHOT_LATENCY_MS} ms "
        f"(bench/one_shot.py; 0: skip it; default {one_shot.ROUNDS})",
    )
    parser.add_argument(
        "--workers-repeats",
        type=int,
        default=workers_part.REPEATS,
        help=f"runs of each batch of the workers part at {workers_part.WORKERS_LATENCY_MS} ms "
        f"(bench/workers.py; 0: skip it; default {workers_part.REPEATS})",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "benchmarks.png")
    parser.add_argument("--keep-work", action="store_true", help="keep the temp folders")
    parser.add_argument(
        "--no-limits",
        action="store_true",
        help="skip the Limits part (large files, .xlsx bombs, smoke drift; about 3 min)",
    )
    args = parser.parse_args(argv)
    if args.scale_rows < RSS_FIRST_MARK or args.one_shots < 1:
        parser.error(f"--scale-rows must be at least {RSS_FIRST_MARK}, --one-shots at least 1")

    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", flush=True)

    load_start = list(os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="myopenip-bench-"))
    bench = Bench(work, log)
    try:
        # The limits first: their figures are seconds against a fixed target, not ratios
        # of a floor measured beside them, and after 15 minutes of load the same machine
        # read them 1-4 s slower than alone.
        limited = None if args.no_limits else limits.measure(bench, log)
        res = measure(args, bench, log)
        res.limits = limited
        if args.one_shot_rounds:
            res.one_shot = one_shot.measure(bench, log, args.one_shot_rounds)
        if args.workers_repeats:
            res.workers = workers_part.measure(bench, log, args.workers_repeats)
    finally:
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"temp folders kept in {work}")
    elapsed = time.perf_counter() - started
    load = (load_start, list(os.getloadavg()))
    retried = {id(r) for r in res.retried}
    failures = [r for r in bench.runs if not r.ok and id(r) not in retried]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot(res, args.png)
    write_report(res, args.out, args.png, elapsed, load, failures)
    print()
    print("\n".join(figures_lines(res)))
    print()
    print("\n".join(table_lines(res)))
    print(f"\nWrote {args.out} and {args.png} in {elapsed / 60:.1f} min.")
    for run in res.retried:
        print(f"CRASHED (run again): {run.label}: {_crash_reason(run)}", file=sys.stderr)
    for run in failures:
        print(f"FAILED: {run.label}: {run.problem}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
