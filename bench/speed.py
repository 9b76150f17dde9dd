"""The speed work, before and after: the bot of the commit before each change and of the
commit that made it, measured in the same `make bench` run, on the same replica.

Each revision's `src/` is exported from git (`git archive`) into the run's temp folder and
put first on PYTHONPATH of the measured process: its bot, its selectors, its command line;
the replica stays this checkout's. A revision that git cannot give (a shallow clone, no
git) is reported as not measured, with why.
"""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.harness import Bench, Licence, Measured
    from myopenip.replica import Replica


@dataclass(frozen=True)
class Change:
    """One speed change: the commit that made it, and what it is measured by."""

    rev: str
    what: str
    measure: str  # "one-shot" or "batch" (40 licences, --workers 1) or "scale"


# In the order they were made; each is measured against the commit before it.
CHANGES = (
    Change(
        "3ca6622",
        "plan the licences given by ref from one listing per tab (the common prefix of "
        "their refs), not one search each",
        "batch",
    ),
    Change(
        "66c528b",
        "act from the plan's listing when it is still on screen (one search less per dialog)",
        "one-shot",
    ),
    Change(
        "eb7b7e0",
        "verify from the results the portal refreshes after « Valider » (all the dialog's "
        "licences at once) instead of a new search",
        "one-shot",
    ),
    Change(
        "e31c079",
        "a new tab every 4 visits to a service (the renderer's memory), and each dialog "
        "searches for the first 20 licences left rather than all (pages turned)",
        "scale",
    ),
    Change(
        "da4ff8e",
        "a worker goes on to its next service from the menu on screen (no reload of the "
        "portal's home), and to a service's other tab on the same page once « Valider » "
        "is confirmed (no second search of the service)",
        "batch",
    ),
)


@dataclass
class Figures:
    """What one revision did: seconds, and what it asked of the portal."""

    seconds: float | None = None
    searches: float | None = None  # "licences_searched" events per run
    pages_turned: float | None = None
    peak_rss: int | None = None
    problem: str | None = None


@dataclass
class SpeedResults:
    figures: dict[tuple[str, str], Figures] = field(default_factory=dict)  # (commit, kind)
    unavailable: dict[str, str] = field(default_factory=dict)  # rev: why
    commits: dict[str, str] = field(default_factory=dict)  # rev: its full commit id
    scale_rows: int = 0

    def get(self, rev: str, kind: str) -> Figures | None:
        commit = self.commits.get(rev)
        return None if commit is None else self.figures.get((commit, kind))


def export(rev: str, root: Path, dest: Path) -> Path:
    """`src/` (and `selectors/`, which its packaged copy links to) of `rev` under `dest`;
    raises RuntimeError naming why git could not."""
    archive = _git(root, "archive", "--format=tar", rev, "src", "selectors")
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "src"


def revisions() -> list[str]:
    """Every revision measured: each change and the commit before it (once each)."""
    revs: list[str] = []
    for change in CHANGES:
        for rev in (f"{change.rev}^", change.rev):
            if rev not in revs:
                revs.append(rev)
    return revs


def _count(run: Measured, event: str) -> int:
    return sum(1 for e in run.events if e.get("event") == event)


def measure_small(
    bench: Bench,
    replica: Replica,
    licences: Sequence[Licence],
    batch_file: Path,
    *,
    root: Path,
    reset: Callable[[Replica], None],
    check_done: Callable[[Replica, Measured, Sequence[Licence]], None],
    one_shot: Callable[[Licence], list[str]],
    batch: Callable[[Path, int], list[str]],
    results: SpeedResults,
) -> None:
    """Per revision: three chained one-shots (the 2nd and 3rd with the saved session) and
    one 40-licence batch with --workers 1, each on a reset replica."""
    for rev in revisions():
        kinds = {change.measure for change in CHANGES if rev in (change.rev, f"{change.rev}^")}
        kinds &= {"one-shot", "batch"}
        src = _source(rev, root, bench.work, results) if kinds else None
        if src is None:
            continue
        commit = results.commits[rev]
        kinds = {kind for kind in kinds if (commit, kind) not in results.figures}
        env = {"PYTHONPATH": str(src)}
        unknown = _unknown(src)
        tag = rev.replace("^", "-before")
        if "one-shot" in kinds:  # (a commit measured under another name is not again)
            reset(replica)
            state: Path | None = None
            saved: list[Measured] = []
            for lic in licences[:3]:
                extra = dict(env)
                if state is not None:
                    extra["MYOPENIP_STATE_FILE"] = str(state)
                label = f"speed-{tag}-one-shot-{lic.ref}"
                run = bench.run(label, one_shot(lic), replica, env_extra=extra, unset=unknown)
                check_done(replica, run, [lic])
                if state is not None:
                    saved.append(run)
                state = state or run.folder / ".myopenip" / "session-state.json"
            results.figures[(commit, "one-shot")] = _figures(saved)
        if "batch" in kinds:
            reset(replica)
            run = bench.run(
                f"speed-{tag}-batch-40",
                batch(batch_file, 1),
                replica,
                env_extra=env,
                timeout=1800,
                unset=unknown,
            )
            check_done(replica, run, licences)
            results.figures[(commit, "batch")] = _figures([run])


def measure_scale(
    bench: Bench,
    replica: Replica,
    rows: Sequence[Licence],
    scale_file: Path,
    after: Measured,
    *,
    root: Path,
    reset: Callable[[Replica], None],
    check_done: Callable[[Replica, Measured, Sequence[Licence]], None],
    batch: Callable[[Path, int], list[str]],
    results: SpeedResults,
) -> None:
    """The "scale" changes: the scale batch (`rows`, --workers 2) by the commit before
    each, against `after`, this checkout's run of the same batch (its bot is the change's
    or later). Pages turned only grow with a service's licences past a few hundred, so
    the comparison needs the whole scale batch."""
    results.scale_rows = len(rows)
    for change in CHANGES:
        if change.measure != "scale":
            continue
        rev = f"{change.rev}^"
        src = _source(rev, root, bench.work, results)
        if src is None:
            continue
        reset(replica)
        run = bench.run(
            f"speed-{change.rev}-before-scale-{len(rows)}",
            batch(scale_file, 2),
            replica,
            env_extra={"PYTHONPATH": str(src)},
            timeout=1800,
            sample_rss=True,
            unset=_unknown(src),
        )
        check_done(replica, run, rows)
        results.figures[(results.commits[rev], "scale")] = _figures([run])
        try:
            commit = _git(root, "rev-parse", "--verify", f"{change.rev}^{{commit}}")
        except RuntimeError as error:
            results.unavailable[change.rev] = str(error)
            continue
        results.commits[change.rev] = commit.decode().strip()
        results.figures[(results.commits[change.rev], "scale")] = _figures([after])


def _unknown(src: Path) -> list[str]:
    """The bench's own settings (harness.Bench.env) that the bot of `src` does not know:
    left unset for it, since a bot refuses a MYOPENIP_* setting it does not know (the
    ledger and the accepted records came after the speed work's commits)."""
    bot = src / "myopenip_bot"
    settings = "".join(  # config/settings.py, or settings.py in the older layout
        path.read_text(encoding="utf-8")
        for path in (bot / "config" / "settings.py", bot / "settings.py")
        if path.is_file()
    )
    return [
        f"MYOPENIP_{name.upper()}"
        for name in ("ledger", "accepted_file")
        if not re.search(rf"^    {name}:", settings, re.M)
    ]


def _source(rev: str, root: Path, work: Path, results: SpeedResults) -> Path | None:
    """`src/` of `rev` (exported once per commit), its commit id noted; None: see why."""
    if rev in results.unavailable:
        return None
    try:
        commit = _git(root, "rev-parse", "--verify", f"{rev}^{{commit}}").decode().strip()
        results.commits[rev] = commit
        dest = work / "revisions" / commit
        if (dest / "src").is_dir():
            return dest / "src"
        return export(rev, root, dest)
    except RuntimeError as error:
        results.unavailable[rev] = str(error)
        return None


def _git(root: Path, *args: str) -> bytes:
    """The output of a git command in `root`; RuntimeError with git's first line if it fails."""
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], check=True, capture_output=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        stderr = getattr(error, "stderr", b"") or b""
        why = stderr.decode(errors="replace").strip().splitlines()
        raise RuntimeError(why[0] if why else str(error)) from None


def _figures(runs: Sequence[Measured]) -> Figures:
    bad = [run for run in runs if not run.ok]
    if not runs or bad:
        why = bad[0].problem or f"exit code {bad[0].code}" if bad else "no run"
        return Figures(problem=why)
    n = len(runs)
    seconds = sorted(run.seconds for run in runs)
    return Figures(
        seconds=seconds[n // 2] if n % 2 else (seconds[n // 2 - 1] + seconds[n // 2]) / 2,
        searches=sum(_count(run, "licences_searched") for run in runs) / n,
        pages_turned=sum(_count(run, "results_page_turned") for run in runs) / n,
        peak_rss=max(run.peak_rss for run in runs) or None,
    )


def lines(results: SpeedResults) -> list[str]:
    """The report's section: one row per change, before and after."""
    out = [
        "## Speed work: before and after",
        "",
        "Each change measured in this run against the commit before it (the bot of that "
        "commit, exported from git; the same replica): *one-shot*, the median of two "
        "`dissociate` runs with a saved session; *batch*, the 40-licence file with "
        f"`--workers 1`; *scale*, the {results.scale_rows:,}-row batch with `--workers 2` "
        "on replica C, by the commit before the change against this checkout's run above "
        "(peak RSS of the bot's process tree). Searches and pages turned are "
        "the bot's own events (`licences_searched`, `results_page_turned`) per run.",
        "",
        "| change (commit) | measured by | seconds before → after | searches | pages "
        "turned | peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for change in CHANGES:
        before = results.get(f"{change.rev}^", change.measure)
        after = results.get(change.rev, change.measure)
        why = results.unavailable.get(f"{change.rev}^") or results.unavailable.get(change.rev)
        label = f"{change.what} (`{change.rev}`)"
        if why or before is None or after is None:
            out.append(f"| {label} | {change.measure} | not measured: {why or 'no run'} | | | |")
            continue
        out.append(
            f"| {label} | {change.measure} | {_pair(before.seconds, after.seconds, '{:.1f} s')}"
            f"{_problems(before, after)} | {_pair(before.searches, after.searches, '{:.0f}')} "
            f"| {_pair(before.pages_turned, after.pages_turned, '{:.0f}')} "
            f"| {_pair(_mib(before.peak_rss), _mib(after.peak_rss), '{:,.0f} MiB')} |"
        )
    return [*out, ""]


def _mib(value: int | None) -> float | None:
    return None if value is None else value / 2**20


def _pair(before: float | None, after: float | None, fmt: str) -> str:
    if before is None and after is None:
        return "—"
    text = f"{_show(before, fmt)} → {_show(after, fmt)}"
    if before and after is not None:
        text += f" ({after / before:.2f}×)"
    return text


def _show(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)


def _problems(*figures: Figures) -> str:
    problems = [f.problem for f in figures if f.problem]
    return f" (failed: {'; '.join(problems)})" if problems else ""
