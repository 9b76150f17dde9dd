"""The one-shot part of `make bench`: one licence by `myopenip dissociate` against the
straight-line script of the guide's steps, on the guide's own Groupements licences, at
ONE_SHOT_LATENCY_MS of latency (issue 32).

    .venv/bin/python -m bench.one_shot [--rounds 5] [--before REV] [--keep-work]

On a replica started here with `--latency-ms 150`, for each round (the licences are
SRV-10021's numbered Groupements licences, in turn), in this order so that every kind
sees the same load of the machine:

- the replica reset, the straight-line script (bench/straight_line.py: a fresh login, no
  checks) on licence i;
- the replica reset, `dissociate --service SRV-10021 --licence <i> --release-number
  --yes` with a fresh login (no saved session): it saves its session;
- no reset (a reset logs everybody out), `dissociate` on licence i + 1 given that saved
  session (`MYOPENIP_STATE_FILE`).

With `--before REV` (alone), each round also runs the two `dissociate` runs with the
bot of REV (its `src/` exported from git, first on PYTHONPATH: bench.speed.export), on
a reset replica, for a before/after in the same run.

Each is a cold process (bench.harness.Bench.run); each run is checked on the test API
(the licence lost its number). Medians; the ratios are the bot's ÷ the script's. The
bot's own events say what it asked of the portal (`licences_searched`: searches,
`results_page_turned`, `tab_opened`) and where its time went (the gap before each event).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from collections import defaultdict
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
    bot_dissociate,
    check_done,
    numbered,
    reset,
    run_alone,
    straight_line,
)
from myopenip.replica import run_replica

ONE_SHOT_LATENCY_MS = 150
SERVICE = "SRV-10021"
TAB = "Groupements"  # the guide's own licences (FPC367128 « Licence full conferencing »)
ROUNDS = 5
RATIO = 1.3  # the target: the bot within 1.3× of the script, fresh login both sides
# What the bot asked of the portal, from its events.
ASKED = {
    "licences_searched": "searches",
    "results_page_turned": "pages turned",
    "tab_opened": "tabs opened",
    "listing_read": "tabs read as shown",
}


@dataclass
class OneShotResults:
    """The runs of the one-shot part, by kind, in order."""

    licences: list[str] = field(default_factory=list)
    straight: list[Measured] = field(default_factory=list)
    fresh: list[Measured] = field(default_factory=list)
    saved: list[Measured] = field(default_factory=list)
    before: str | None = None  # the revision of `before_fresh` and `before_saved`
    before_fresh: list[Measured] = field(default_factory=list)
    before_saved: list[Measured] = field(default_factory=list)

    def median(self, runs: list[Measured]) -> float | None:
        good = [run.seconds for run in runs if run.ok]
        return statistics.median(good) if good else None

    def ratio(self, runs: list[Measured]) -> float | None:
        bot, floor = self.median(runs), self.median(self.straight)
        if bot is None or floor is None or floor == 0:
            return None
        return bot / floor


def measure(
    bench: Bench,
    log: Callable[[str], None],
    rounds: int = ROUNDS,
    *,
    before: tuple[str, Path] | None = None,
) -> OneShotResults:
    """The rounds described in the module docstring, on a replica of their own; `before`:
    (a revision, its exported `src/`) measured too."""
    res = OneShotResults(before=before[0] if before else None)
    log(f"one-shot vs straight-line: --latency-ms {ONE_SHOT_LATENCY_MS}, {rounds} rounds")
    with run_replica("--latency-ms", str(ONE_SHOT_LATENCY_MS)) as replica:
        licences = [lic for lic in numbered(replica.state(), SERVICE) if lic.tab == TAB]
        if len(licences) < 2:
            raise SystemExit(f"{SERVICE} has {len(licences)} numbered {TAB} licences, 2 needed")
        res.licences = [lic.ref for lic in licences]
        reset(replica)
        bench.run(
            "warm-up-straight-line", straight_line(replica, licences[-1]), replica, record=False
        )
        for index in range(rounds):
            lic: Licence = licences[index % len(licences)]
            after: Licence = licences[(index + 1) % len(licences)]
            reset(replica)
            run = bench.run(f"straight-{lic.ref}", straight_line(replica, lic), replica)
            check_done(replica, run, [lic])
            res.straight.append(run)
            reset(replica)
            run = bench.run(f"fresh-{lic.ref}", bot_dissociate(lic), replica)
            check_done(replica, run, [lic])
            _logged_in(run, fresh=True)
            res.fresh.append(run)
            state = run.folder / ".myopenip" / "session-state.json"
            if not state.is_file():
                continue  # nothing saved: no saved-session run this round
            extra = {"MYOPENIP_STATE_FILE": str(state)}
            run = bench.run(f"saved-{after.ref}", bot_dissociate(after), replica, env_extra=extra)
            check_done(replica, run, [after])
            _logged_in(run, fresh=False)
            res.saved.append(run)
            if before is None:
                continue
            path = {"PYTHONPATH": str(before[1])}
            reset(replica)
            run = bench.run(f"before-fresh-{lic.ref}", bot_dissociate(lic), replica, env_extra=path)
            check_done(replica, run, [lic])
            _logged_in(run, fresh=True)
            res.before_fresh.append(run)
            state = run.folder / ".myopenip" / "session-state.json"
            if state.is_file():
                extra = path | {"MYOPENIP_STATE_FILE": str(state)}
                run = bench.run(
                    f"before-saved-{after.ref}", bot_dissociate(after), replica, env_extra=extra
                )
                check_done(replica, run, [after])
                _logged_in(run, fresh=False)
                res.before_saved.append(run)
    return res


def _logged_in(run: Measured, fresh: bool) -> None:
    """A fresh run must log in, a saved one must not: otherwise it is not what its figure
    says (reported as a problem of the run)."""
    logged = any(event.get("event") == "logged_in" for event in run.events)
    if run.problem is None and logged != fresh:
        run.problem = "logged in with a saved session" if logged else "no login on a fresh run"


def targets(res: OneShotResults) -> list[Target]:
    return [
        Target(
            f"one {TAB} licence at {ONE_SHOT_LATENCY_MS} ms, fresh login, vs the straight-line "
            "script",
            "`dissociate` (fresh login) ÷ straight-line (fresh login), cold processes, medians",
            res.ratio(res.fresh),
            RATIO,
            True,
        ),
        Target(
            f"one {TAB} licence at {ONE_SHOT_LATENCY_MS} ms, saved session, vs the "
            "straight-line script",
            "`dissociate` (saved session) ÷ straight-line (fresh login), cold processes, medians",
            res.ratio(res.saved),
            RATIO,
            True,
        ),
    ]


def _event_time(event: dict[str, Any]) -> float | None:
    stamp = event.get("timestamp")
    if not isinstance(stamp, str):
        return None
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def gaps(run: Measured) -> list[tuple[str, float]]:
    """Each event of the run in order, with the seconds since the one before (the first:
    since the spawn), then the exit."""
    out: list[tuple[str, float]] = []
    last = run.started
    for event in run.events:
        at = _event_time(event)
        if at is None:
            continue
        out.append((str(event.get("event")), max(0.0, at - last)))
        last = at
    out.append(("(exit)", max(0.0, run.started + run.seconds - last)))
    return out


def asked(run: Measured) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for event in run.events:
        name = ASKED.get(str(event.get("event")))
        if name is not None:
            counts[name] += 1
    return {name: counts.get(name, 0) for name in ASKED.values()}


def _middle(runs: list[Measured]) -> Measured | None:
    good = [run for run in runs if run.ok]
    if not good:
        return None
    middle = statistics.median(run.seconds for run in good)
    return min(good, key=lambda run: abs(run.seconds - middle))


def _fmt(value: float | None, unit: str = " s", digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def lines(res: OneShotResults) -> list[str]:
    """The part's section of docs/benchmarks.md."""
    out = [
        f"## One licence at {ONE_SHOT_LATENCY_MS} ms: `dissociate` vs the straight-line script",
        "",
        f"A replica with `--latency-ms {ONE_SHOT_LATENCY_MS}`; the guide's own {TAB} licences "
        f"of {SERVICE} ({', '.join(res.licences)}), in turn. Each round: a reset, the "
        "straight-line script (fresh login); a reset, `dissociate` with a fresh login; then "
        "`dissociate` on the next licence with the session the one before saved (`python -m "
        "bench.one_shot` runs this part alone).",
        "",
        "| kind | runs | median | ratio to the script | every run (s) |",
        "|---|---|---|---|---|",
    ]
    kinds = [
        ("straight-line script (fresh login)", res.straight),
        ("`dissociate`, fresh login", res.fresh),
        ("`dissociate`, saved session", res.saved),
    ]
    if res.before is not None:
        kinds += [
            (f"`dissociate` of {res.before}, fresh login", res.before_fresh),
            (f"`dissociate` of {res.before}, saved session", res.before_saved),
        ]
    for name, runs in kinds:
        bad = sum(1 for run in runs if not run.ok)
        count = f"{len(runs)}" + (f" ({bad} failed)" if bad else "")
        each = ", ".join(f"{run.seconds:.2f}" for run in runs)
        shown = "—" if runs is res.straight else _fmt(res.ratio(runs), "×")
        out.append(f"| {name} | {count} | {_fmt(res.median(runs))} | {shown} | {each} |")
    out.append("")
    profiled = [("fresh login", res.fresh), ("saved session", res.saved)]
    if res.before is not None:
        profiled += [(f"fresh login, bot of {res.before}", res.before_fresh)]
    for name, runs in profiled:
        run = _middle(runs)
        if run is None:
            continue
        counts = ", ".join(f"{count} {what}" for what, count in asked(run).items())
        out += [
            f"The median `dissociate` run with a {name} ({run.label}, {run.seconds:.2f} s) "
            f"asked the portal for: {counts}. Seconds before each of its events:",
            "",
            "| event | seconds before it |",
            "|---|---|",
            *(f"| {event} | {seconds:.3f} |" for event, seconds in gaps(run)),
            "",
        ]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"default {ROUNDS}")
    parser.add_argument(
        "--before", default=None, help="also measure the bot of this git revision (e.g. main)"
    )
    parser.add_argument("--keep-work", action="store_true", help="keep the temp folders")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    def measured(bench: Bench, log: Callable[[str], None], work: Path) -> OneShotResults:
        before = None
        if args.before:
            before = (args.before, speed.export(args.before, ROOT, work / "before"))
        return measure(bench, log, args.rounds, before=before)

    return run_alone("one-shot", measured, targets, lines, keep_work=args.keep_work)


if __name__ == "__main__":
    sys.exit(main())
