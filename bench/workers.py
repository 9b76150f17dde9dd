"""The workers part of `make bench`: batches against a remote-like portal, at
WORKERS_LATENCY_MS of latency, with 1, 2 and 4 workers (issue 32).

    .venv/bin/python -m bench.workers [--repeats 1] [--before REV] [--keep-work]

On a replica started here with `--latency-ms 150 --bulk-services 8 --licences-per-service
40` (8 active MetaCentrex services of 40 numbered licences each), reset before each run:

- the 8-service file: the first SPREAD_ROWS numbered licences of each of the 8 services
  (48 rows), `batch --workers 1`, `2`, `4`;
- the one-service file: the first ONE_SERVICE_ROWS numbered licences of SRV-10403 (the
  first service added whole; 40 rows), `batch --workers 1`, `2` (its rows shared).

With `--before REV` (alone), each run is followed by the same run with the bot of REV (its
`src/` exported from git, first on PYTHONPATH: bench.speed.export), for a before/after
under the same load. With `--repeats 2` the order is reversed the second time (a drift of
the machine's load over the minutes favours no worker count). Each run is a cold process
(bench.harness.Bench.run), checked on the test API (every licence lost its number). The
ratios are medians of one worker's seconds ÷ medians of N workers'; each run is profiled
from its events (`timeline`: the login, the parts' spans, how many ran at once) and its CPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import speed
from bench.harness import (
    ROOT,
    Bench,
    Licence,
    Measured,
    Target,
    bot_batch,
    check_done,
    crashed,
    numbered,
    reset,
    run_alone,
    write_batch,
)
from myopenip.replica import Replica, run_replica
from myopenip_portal.seed import EXISTING_BULK

WORKERS_LATENCY_MS = 150
BULK_SERVICES = 8
PER_SERVICE = 40
SPREAD_ROWS = 6  # rows of each of the 8 services: 48 rows
ONE_SERVICE_ROWS = 40
SPREAD_WORKERS = (1, 2, 4)
ONE_SERVICE_WORKERS = (1, 2)
# The issue's targets: N workers' speed-up over one.
SPREAD_TARGETS = {2: 1.8, 4: 3.0}
ONE_SERVICE_TARGETS = {2: 1.6}
TIMEOUT = 900.0
REPEATS = 3  # in `make bench` (medians of 3): about 1.7 min a repeat


@dataclass
class WorkersResults:
    """The batches of the workers part, by file and worker count, in order."""

    spread: dict[int, list[Measured]] = field(default_factory=dict)
    one_service: dict[int, list[Measured]] = field(default_factory=dict)
    spread_rows: int = 0
    one_service_rows: int = 0
    one_service_ref: str = ""
    before: str | None = None  # the revision of `before_spread` and `before_one_service`
    before_spread: dict[int, list[Measured]] = field(default_factory=dict)
    before_one_service: dict[int, list[Measured]] = field(default_factory=dict)

    @staticmethod
    def median(runs: list[Measured]) -> float | None:
        good = [run.seconds for run in runs if run.ok]
        return statistics.median(good) if good else None

    def ratio(self, by_workers: dict[int, list[Measured]], workers: int) -> float | None:
        one = self.median(by_workers.get(1, []))
        many = self.median(by_workers.get(workers, []))
        if one is None or many is None or many == 0:
            return None
        return one / many


def bulk_services(state: dict[str, Any]) -> list[str]:
    """The services the replica topped up (seed.EXISTING_BULK, then those it added), by ref."""
    existing = [ref for ref, _ in EXISTING_BULK]
    counts = Counter(lic["service_ref"] for lic in state["licences"] if lic.get("sda"))
    added = sorted(ref for ref, count in counts.items() if count >= PER_SERVICE)
    return existing + [ref for ref in added if ref not in existing]


def _batch(
    bench: Bench,
    replica: Replica,
    label: str,
    path: Path,
    workers: int,
    rows: list[Licence],
    env: dict[str, str] | None = None,
) -> Measured:
    """A batch on a reset replica, checked (a worker that crashed, a bot bug, makes it a
    failed run)."""
    reset(replica)
    run = bench.run(label, bot_batch(path, workers), replica, timeout=TIMEOUT, env_extra=env)
    check_done(replica, run, rows)
    if crashed(run) and run.problem is None:
        run.problem = "a worker crashed"
    return run


def measure(
    bench: Bench,
    log: Callable[[str], None],
    repeats: int = REPEATS,
    *,
    before: tuple[str, Path] | None = None,
) -> WorkersResults:
    """The runs described in the module docstring, on a replica of their own; `before`:
    (a revision, its exported `src/`) measured too."""
    res = WorkersResults(before=before[0] if before else None)
    old = {"PYTHONPATH": str(before[1])} if before else None
    log(
        f"workers: --latency-ms {WORKERS_LATENCY_MS}, {BULK_SERVICES} services of "
        f"{PER_SERVICE} licences"
    )
    with run_replica(
        "--latency-ms",
        str(WORKERS_LATENCY_MS),
        "--bulk-services",
        str(BULK_SERVICES),
        "--licences-per-service",
        str(PER_SERVICE),
    ) as replica:
        state = replica.state()
        services = bulk_services(state)[:BULK_SERVICES]
        if len(services) < BULK_SERVICES:
            raise SystemExit(f"{len(services)} bulk services, {BULK_SERVICES} needed")
        spread = [lic for svc in services for lic in numbered(state, svc)[:SPREAD_ROWS]]
        # the first service added whole (SRV-10022's seed rows have some without a number)
        alone = next(svc for svc in services[len(EXISTING_BULK) :])
        one = numbered(state, alone)[:ONE_SERVICE_ROWS]
        res.spread_rows, res.one_service_rows, res.one_service_ref = (
            len(spread),
            len(one),
            alone,
        )
        spread_file = write_batch(bench.work / f"batch-spread-{len(spread)}.csv", spread)
        one_file = write_batch(bench.work / f"batch-one-service-{len(one)}.csv", one)
        for repeat in range(repeats):
            step = 1 if repeat % 2 == 0 else -1  # w1, w2, w4, then w4, w2, w1
            for workers in SPREAD_WORKERS[::step]:
                log(f"`batch` of {len(spread)} rows over {len(services)} services, -w {workers}")
                label = f"spread-w{workers}-{repeat + 1}"
                run = _batch(bench, replica, label, spread_file, workers, spread)
                res.spread.setdefault(workers, []).append(run)
                if old is not None:
                    run = _batch(
                        bench, replica, f"before-{label}", spread_file, workers, spread, old
                    )
                    res.before_spread.setdefault(workers, []).append(run)
            for workers in ONE_SERVICE_WORKERS[::step]:
                log(f"`batch` of {len(one)} rows of {alone}, -w {workers}")
                label = f"one-service-w{workers}-{repeat + 1}"
                run = _batch(bench, replica, label, one_file, workers, one)
                res.one_service.setdefault(workers, []).append(run)
                if old is not None:
                    run = _batch(bench, replica, f"before-{label}", one_file, workers, one, old)
                    res.before_one_service.setdefault(workers, []).append(run)
    return res


def targets(res: WorkersResults) -> list[Target]:
    out = []
    alone = _median_run(res.spread.get(1, []))
    for workers, wanted in SPREAD_TARGETS.items():
        best = ceiling(alone, workers) if alone is not None else None
        out.append(
            Target(
                f"{res.spread_rows} rows over {BULK_SERVICES} services at {WORKERS_LATENCY_MS} "
                f"ms, --workers {workers}",
                f"speed-up: --workers 1 ÷ --workers {workers}, cold processes, medians",
                res.ratio(res.spread, workers),
                wanted,
                False,
                note="" if best is None else f"ceiling from its parts' lengths {best:.2f}×",
            )
        )
    for workers, wanted in ONE_SERVICE_TARGETS.items():
        out.append(
            Target(
                f"{res.one_service_rows} rows of one service at {WORKERS_LATENCY_MS} ms, "
                f"--workers {workers}",
                f"speed-up: --workers 1 ÷ --workers {workers}, cold processes, medians",
                res.ratio(res.one_service, workers),
                wanted,
                False,
            )
        )
    return out


@dataclass(frozen=True)
class Timeline:
    """Where one batch's time went, from its events (seconds from the spawn)."""

    logged_in: float  # worker 1's login done: the other workers start their work then
    first_start: float  # the first part (a service, or a share of one) begun
    last_end: float  # the last part finished
    parts: int
    busy: float  # the parts' durations summed (run_started to run_finished)

    @property
    def mean_part(self) -> float:
        return self.busy / self.parts if self.parts else float("nan")

    @property
    def overlap(self) -> float:
        """Parts under way at once, on average, from the first start to the last end."""
        span = self.last_end - self.first_start
        return self.busy / span if span > 0 else float("nan")


def timeline(run: Measured) -> Timeline:
    """The run's Timeline: each `run_finished` ends the earliest part of its service begun."""
    from bench.run import _event_time  # the one parser of event times

    nan = float("nan")
    logged = first = last = nan
    begun: dict[str, list[float]] = {}
    parts, busy = 0, 0.0
    for event in run.events:
        at = _event_time(event)
        if at is None:
            continue
        since = at - run.started
        name, service = event.get("event"), str(event.get("service"))
        if name == "logged_in" and logged != logged:
            logged = since
        elif name == "run_started":
            first = since if first != first else first
            begun.setdefault(service, []).append(since)
        elif name == "run_finished" and begun.get(service):
            parts += 1
            busy += since - begun[service].pop(0)
            last = since
    return Timeline(logged, first, last, parts, busy)


def parts_alone(run: Measured) -> list[tuple[str, float]]:
    """Each part of `run`, a --workers 1 run (its parts one after the other), in order:
    its service and its length, from its `run_started` to the next part's (what the
    worker does between two parts counted with the part it leads to), the last one's to
    its `run_finished`."""
    from bench.run import _event_time

    starts: list[tuple[str, float]] = []
    last_end = float("nan")
    for event in run.events:
        at = _event_time(event)
        if at is None:
            continue
        if event.get("event") == "run_started":
            starts.append((str(event.get("service")), at))
        elif event.get("event") == "run_finished":
            last_end = at
    ends = [at for _, at in starts[1:]] + [last_end]
    return [(service, end - begun) for (service, begun), end in zip(starts, ends, strict=True)]


def ceiling(alone: Measured, workers: int) -> float | None:
    """The best speed-up `workers` could give over `alone` (a --workers 1 run of the same
    file, cut into the same parts: at least as many services as workers), if each part
    took as long as it took alone: each worker takes the next part from the queue when
    free, in the order they began (what the bot's queue does), and the start (before the
    first part) and the end (after the last) are paid once, as alone. Contention for the
    cores is what it leaves out. None without the events to tell."""
    parts = [seconds for _, seconds in parts_alone(alone)]
    t = timeline(alone)
    if not parts or t.first_start != t.first_start or t.last_end != t.last_end:
        return None
    loads = [0.0] * min(workers, len(parts))
    for seconds in parts:
        loads[loads.index(min(loads))] += seconds
    fixed = t.first_start + (alone.seconds - t.last_end)
    return alone.seconds / (fixed + max(loads))


def _median_run(runs: list[Measured]) -> Measured | None:
    """The run of median time among those that went well."""
    ok = sorted((run for run in runs if run.ok), key=lambda run: run.seconds)
    return ok[len(ok) // 2] if ok else None


def _fmt(value: float | None, unit: str = " s", digits: int = 2) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}{unit}"


def _parts_line(alone: Measured | None) -> list[str]:
    """The parts of the median --workers 1 run, in words (what the ceiling is made of)."""
    parts = parts_alone(alone) if alone is not None else []
    if alone is None or not parts:
        return []
    t = timeline(alone)
    each = ", ".join(f"{service} {seconds:.1f} s" for service, seconds in parts)
    return [
        f"Its parts ({alone.label}), in order: {each}; before the first, "
        f"{t.first_start:.1f} s; after the last, {alone.seconds - t.last_end:.1f} s.",
        "",
    ]


def lines(res: WorkersResults) -> list[str]:
    """The part's section of docs/benchmarks.md."""
    out = [
        f"## Workers at {WORKERS_LATENCY_MS} ms: one service each, and one service shared",
        "",
        f"A replica with `--latency-ms {WORKERS_LATENCY_MS} --bulk-services {BULK_SERVICES} "
        f"--licences-per-service {PER_SERVICE}`, reset before each run: {res.spread_rows} "
        f"rows ({SPREAD_ROWS} of each of {BULK_SERVICES} services), and {res.one_service_rows} "
        f"rows of {res.one_service_ref} alone (`python -m bench.workers` runs this part alone).",
        "",
        "| file | workers | runs | median | speed-up | every run (s) |",
        "|---|---|---|---|---|---|",
    ]
    kinds = [("8 services", res.spread), ("one service", res.one_service)]
    if res.before is not None:
        kinds += [
            (f"8 services, bot of {res.before}", res.before_spread),
            (f"one service, bot of {res.before}", res.before_one_service),
        ]
    for name, by_workers in kinds:
        for workers, runs in sorted(by_workers.items()):
            bad = sum(1 for run in runs if not run.ok)
            count = f"{len(runs)}" + (f" ({bad} failed)" if bad else "")
            each = ", ".join(f"{run.seconds:.1f}" for run in runs)
            ratio = "—" if workers == 1 else _fmt(res.ratio(by_workers, workers), "×")
            out.append(
                f"| {name} | {workers} | {count} | {_fmt(res.median(runs))} | {ratio} | {each} |"
            )
    out += [
        "",
        "Each run's time, from its events (seconds from the spawn): worker 1's login done "
        "(the other workers wait for it), the first part begun, the last part finished; the "
        "parts (a service, or a share of one), their mean duration, how many were under way "
        "at once on average; the bot's CPU seconds (its process tree, each process read "
        "while it lived) and how busy the machine's cores were meanwhile (anyone's work).",
        "",
        "The ceiling from the parts' lengths, beside a target, is what that many workers "
        "could reach if each part took as long as in the median --workers 1 run: each worker "
        "takes the next part when free, in that run's order, and the start (before the first "
        "part) and the end (after the last) are paid once. It leaves out the workers' "
        "contention for the cores.",
        "",
        *_parts_line(_median_run(res.spread.get(1, []))),
        "| run | s | login | first part | last part | parts | mean part | at once | CPU s "
        "| machine busy |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, by_workers in kinds:
        for runs in by_workers.values():
            for run in runs:
                t = timeline(run)
                out.append(
                    f"| {run.label} | {run.seconds:.1f} | {_fmt(t.logged_in)} | "
                    f"{_fmt(t.first_start)} | {_fmt(t.last_end)} | {t.parts} | "
                    f"{_fmt(t.mean_part)} | {_fmt(t.overlap, '', 2)} | "
                    f"{run.cpu_seconds:.1f} | {run.machine_busy:.0%} |"
                )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"default {REPEATS}")
    parser.add_argument(
        "--before", default=None, help="also measure the bot of this git revision (e.g. main)"
    )
    parser.add_argument("--keep-work", action="store_true", help="keep the temp folders")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    def measured(bench: Bench, log: Callable[[str], None], work: Path) -> WorkersResults:
        before = None
        if args.before:
            before = (args.before, speed.export(args.before, ROOT, work / "before"))
        return measure(bench, log, args.repeats, before=before)

    return run_alone("workers", measured, targets, lines, keep_work=args.keep_work)


if __name__ == "__main__":
    sys.exit(main())
