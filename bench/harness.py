"""The harness of `make bench`: replicas, measured runs of a command (time, CPU, RSS of its
process tree, events), and the commands measured (the bot, the straight-line floor, the
HTTP floor)."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil

from myopenip.replica import Replica
from myopenip_bot.browser.launch import find_browser

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
# The 40-licence batch: numbered licences, by ref, from each of three active services.
BATCH_SERVICES = {"SRV-10021": 14, "SRV-10022": 13, "SRV-10023": 13}
SCALE_SERVICES = ("SRV-10022", "SRV-10023")  # the services --licences-per-service fills
WORKERS = (1, 2, 4)
LATENCY_MS = 100
RSS_FIRST_MARK = 100
# A row is settled once its journal state is one of these (batch_row events).
SETTLED = frozenset({"done", "already_done", "refused", "failed", "unknown"})
SINGLE_TIMEOUT = 300.0
SAMPLE_SECONDS = 0.25  # how often a run's process tree is read (its RSS, its CPU)
BATCH_TIMEOUT = 1800.0


# ------------------------------------------------------------------------ measuring


@dataclass(frozen=True)
class Licence:
    service: str
    ref: str
    tab: str  # "Utilisateurs" or "Groupements", as the tab is named


@dataclass
class Measured:
    """One cold process: its wall time, exit code, output, events and resources."""

    label: str
    argv: list[str]
    folder: Path
    expected: int = 0  # the exit code the run should end with (a refusal's, a signal's)
    seconds: float = 0.0
    code: int | None = None
    stdout: str = ""
    stderr: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    started: float = 0.0  # time.time() at spawn, to place the events' timestamps
    # user + system of the process and its descendants: the larger of ProcessTree's sum
    # and the kernel's count of the children it saw reaped (RUSAGE_CHILDREN)
    cpu_seconds: float = 0.0
    replica_cpu_seconds: float = 0.0
    machine_busy: float = 0.0  # share of all the machine's cores busy meanwhile (anyone)
    peak_rss: int = 0
    # The process's own high-water mark (VmHWM, sampled with the tree), in bytes. Not
    # wait4's ru_maxrss: a forked child counts the harness's pages until it execs.
    max_rss: int = 0
    signalled_at: float | None = None  # seconds from spawn to the signal sent, if one was
    rss_marks: dict[int, tuple[int, int]] = field(default_factory=dict)  # row: (peak, now)
    settled_at: list[float] = field(default_factory=list)  # seconds from spawn, per row
    problem: str | None = None
    traces_bytes: int = 0  # what the run left in its traces/ (reports, screenshots)
    report_html_bytes: int = 0  # the batch's report.html, if any

    @property
    def ok(self) -> bool:
        return self.code == self.expected and self.problem is None

    @property
    def output_bytes(self) -> int:
        """Bytes the run wrote on stdout and stderr (as read, in UTF-8)."""
        stderr = sum(len(line.encode()) + 1 for line in self.stderr)
        return len(self.stdout.encode()) + stderr

    def json_stdout(self) -> dict[str, Any]:
        """The JSON document --json printed: the whole stdout (the commands print one,
        over several lines), else its last line that is a JSON object."""
        try:
            whole = json.loads(self.stdout)
        except ValueError:
            whole = None
        if isinstance(whole, dict):
            return whole
        for line in reversed(self.stdout.strip().splitlines()):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
        return {}


@dataclass
class Target:
    """A row of the report's targets: a figure, the limit it is wanted within, a verdict."""

    name: str
    figure: str
    value: float | None
    limit: float
    at_most: bool  # True: value ≤ limit passes; False: value ≥ limit passes
    note: str = ""
    unit: str = "×"  # how the value and the limit are shown: a ratio, " s", " MB", …
    digits: int = 2
    strict: bool = False  # < or > rather than ≤ or ≥
    unmet: str = ""  # a condition besides the figure that failed (a MISS whatever the value)

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "n/a (a run failed)"
        if self.unmet:
            return "MISS"
        if self.strict:
            ok = self.value < self.limit if self.at_most else self.value > self.limit
        else:
            ok = self.value <= self.limit if self.at_most else self.value >= self.limit
        return "PASS" if ok else "MISS"

    @property
    def wanted(self) -> str:
        sign = ("<" if self.at_most else ">") if self.strict else ("≤" if self.at_most else "≥")
        return f"{sign} {self.limit:,g}{'' if self.unit == '×' else self.unit}"

    @property
    def measured(self) -> str:
        if self.value is None or self.value != self.value:
            shown = "n/a"
        else:
            shown = f"{self.value:,.{self.digits}f}{self.unit}"
        notes = [note for note in (self.unmet, self.note) if note]
        return shown + (f" ({'; '.join(notes)})" if notes else "")


def target_table(targets: Iterable[Target]) -> list[str]:
    """Targets as a markdown table."""
    lines = ["| target | figure | measured | wanted | verdict |", "|---|---|---|---|---|"]
    for target in targets:
        lines.append(
            f"| {target.name} | {target.figure} | {target.measured} | {target.wanted} | "
            f"**{target.verdict}** |"
        )
    return lines


def high_water(pid: int) -> int:
    """The process's peak RSS since its exec (VmHWM), in bytes; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return 0


class ProcessTree:
    """A run's process tree, read now and then (`read`): the RSS of all its processes at
    that moment, and the CPU of every process it ever held.

    The CPU is each process's user + system seconds at its last reading, kept once it is
    gone: not the kernel's count of reaped children alone (RUSAGE_CHILDREN), since
    Chromium's processes are not all waited for by the processes that started them and
    most of a run's CPU is theirs. What a process spent after its last reading (up to one
    SAMPLE_SECONDS) is missed, and so is a process that lived less than that or left the
    tree (adopted by another) while it ran: a floor.
    """

    def __init__(self, pid: int) -> None:
        try:  # once: psutil then tells the run's process from another given its pid later
            self._root: psutil.Process | None = psutil.Process(pid)
        except psutil.Error:
            self._root = None
        self._cpu: dict[tuple[int, float], float] = {}  # (pid, start time): CPU seconds
        self._lock = threading.Lock()

    def read(self) -> int:
        """Note each process's CPU now; return their RSS summed, in bytes (shared pages
        counted per process; 0 once the run is gone)."""
        if self._root is None:
            return 0
        try:
            procs = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for proc in procs:
            with contextlib.suppress(psutil.Error), proc.oneshot():
                times = proc.cpu_times()
                key = (proc.pid, proc.create_time())
                with self._lock:
                    self._cpu[key] = times.user + times.system
                total += proc.memory_info().rss
        return total

    def cpu_seconds(self) -> float:
        with self._lock:
            return sum(self._cpu.values())


def _busy_share(before: Any, after: Any) -> float:
    idle = (after.idle + getattr(after, "iowait", 0.0)) - (
        before.idle + getattr(before, "iowait", 0.0)
    )
    total = sum(after) - sum(before)
    return 0.0 if total <= 0 else max(0.0, min(1.0, 1.0 - idle / total))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _proc_cpu(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


class Bench:
    """Runs the measured commands, each in a folder of its own, one at a time."""

    def __init__(self, work: Path, log: Any) -> None:
        self.work = work
        self.log = log
        self.runs: list[Measured] = []
        self._count = 0

    def folder(self, label: str) -> Path:
        self._count += 1
        path = self.work / f"{self._count:03d}-{label}"
        path.mkdir(parents=True)
        return path

    def env(
        self, replica: Replica, extra: dict[str, str] | None = None, unset: Iterable[str] = ()
    ) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MYOPENIP_")}
        if "MYOPENIP_BROWSER_PATH" in os.environ:
            env["MYOPENIP_BROWSER_PATH"] = os.environ["MYOPENIP_BROWSER_PATH"]
        env.update(
            MYOPENIP_BASE_URL=replica.url,
            MYOPENIP_USERNAME=replica.username,
            MYOPENIP_PASSWORD=replica.password,
            MYOPENIP_LOG_FORMAT="json",
            MYOPENIP_TRACE="off",
            PYTHONUNBUFFERED="1",
            # The bench's records are its own: the user's ledger and accepted records
            # hold only real work (a replica's URL changes from run to run).
            MYOPENIP_LEDGER=str(self.work / "ledger.sqlite3"),
            MYOPENIP_ACCEPTED_FILE=str(self.work / "accepted.sqlite3"),
        )
        env.update(extra or {})
        for name in unset:  # left to the bot's default (e.g. MYOPENIP_TRACE)
            env.pop(name, None)
        return env

    def run(
        self,
        label: str,
        argv: Sequence[str],
        replica: Replica,
        *,
        env_extra: dict[str, str] | None = None,
        timeout: float = SINGLE_TIMEOUT,
        rss_marks: Iterable[int] = (),
        sample_rss: bool = False,
        record: bool = True,
        expect: int = 0,
        unset: Iterable[str] = (),
        signal_at: tuple[str, int] | None = None,
    ) -> Measured:
        """Run `argv` to its end (or `timeout`). `expect`: the exit code it should give;
        `unset`: MYOPENIP_* variables left to the bot's default; `signal_at`: (event,
        signal) sends the signal once, when the run logs that event."""
        folder = self.folder(label)
        run = Measured(label=label, argv=list(argv), folder=folder, expected=expect)
        marks = sorted(set(rss_marks))
        settled: set[tuple[str, str]] = set()
        peak = [0]
        lock = threading.Lock()
        done = threading.Event()
        cpu_before = _children_cpu()
        replica_before = _proc_cpu(replica.process.pid)
        machine_before = psutil.cpu_times()
        run.started = time.time()
        start = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            cwd=folder,
            env=self.env(replica, env_extra, unset),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )

        tree = ProcessTree(process.pid)

        def sample() -> int:
            now = tree.read()
            mark = high_water(process.pid)
            with lock:
                peak[0] = max(peak[0], now)
                run.max_rss = max(run.max_rss, mark)
            return now

        def read_stderr() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                at = time.perf_counter() - start
                run.stderr.append(line.rstrip("\n"))
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(event, dict):
                    continue
                run.events.append(event)
                if (
                    signal_at is not None
                    and run.signalled_at is None
                    and event.get("event") == signal_at[0]
                ):
                    process.send_signal(signal_at[1])
                    run.signalled_at = time.perf_counter() - start
                if event.get("event") == "batch_row" and event.get("state") in SETTLED:
                    key = (str(event.get("service")), str(event.get("licence")))
                    if key in settled:
                        continue
                    settled.add(key)
                    run.settled_at.append(at)
                    if sample_rss and len(settled) in marks:
                        now = sample()
                        with lock:
                            run.rss_marks[len(settled)] = (peak[0], now)

        def read_stdout() -> None:
            assert process.stdout is not None
            run.stdout = process.stdout.read()

        def sampler() -> None:  # the CPU always, the RSS when asked: one read of the tree
            while not done.wait(SAMPLE_SECONDS):
                if sample_rss:
                    sample()
                else:
                    tree.read()

        threads = [
            threading.Thread(target=read_stderr),
            threading.Thread(target=read_stdout),
            threading.Thread(target=sampler),
        ]
        for thread in threads:
            thread.start()
        run.code, _ = _reap(process, timeout)
        if run.code is None:
            run.problem = f"did not finish within {timeout:.0f} s (killed)"
            _kill_tree(process.pid)
            run.code, _ = _reap(process, None)
        run.seconds = time.perf_counter() - start
        done.set()
        for thread in threads:
            thread.join()
        run.cpu_seconds = max(_children_cpu() - cpu_before, tree.cpu_seconds())
        run.replica_cpu_seconds = _proc_cpu(replica.process.pid) - replica_before
        run.machine_busy = _busy_share(machine_before, psutil.cpu_times())
        run.peak_rss = peak[0]
        run.traces_bytes, run.report_html_bytes = _traces_size(folder / "traces")
        (folder / "stdout.txt").write_text(run.stdout, encoding="utf-8")
        (folder / "stderr.txt").write_text("\n".join(run.stderr) + "\n", encoding="utf-8")
        if run.code != expect and run.problem is None:
            tail = " | ".join(line for line in run.stderr[-3:] if line)[:400]
            run.problem = f"exit code {run.code}: {tail}"
        if record:
            self.runs.append(run)
        status = "ok" if run.ok else f"FAILED ({run.problem})"
        self.log(f"  {label}: {run.seconds:.1f} s, {status}")
        return run


def _reap(process: subprocess.Popen[str], timeout: float | None) -> tuple[int | None, int]:
    """Wait for the process as Popen.wait does (polling, up to `timeout`; None: for ever),
    but with wait4: (exit code, or None on timeout; ru_maxrss in bytes, which counts what
    a forked child shares with the harness until it execs: not the bot's own peak)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.0005
    while True:
        flags = os.WNOHANG if deadline is not None else 0
        pid, status, usage = os.wait4(process.pid, flags)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, usage.ru_maxrss * 1024  # KiB on Linux
        assert deadline is not None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, 0
        time.sleep(min(delay, remaining, 0.05))
        delay *= 2


def _traces_size(folder: Path) -> tuple[int, int]:
    """(bytes of every file under `folder`, bytes of the largest report.html there)."""
    total = report = 0
    if folder.is_dir():
        for path in folder.rglob("*"):
            with contextlib.suppress(OSError):
                if path.is_file():
                    size = path.stat().st_size
                    total += size
                    if path.name == "report.html":
                        report = max(report, size)
    return total, report


def crashed(run: Measured) -> bool:
    """A worker of the batch crashed (a bug of the bot, not of the portal)."""
    return any(e.get("event") == "worker_crashed" for e in run.events)


def event_counts(run: Measured) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for event in run.events:
        counts[str(event.get("event"))] += 1
    return dict(counts)


def _kill_tree(pid: int) -> None:
    """Kill a process this script started, and its descendants (by pid, never by name)."""
    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()


# ------------------------------------------------------------------------ the data


def numbered(state: dict[str, Any], service: str) -> list[Licence]:
    rows = [lic for lic in state["licences"] if lic["service_ref"] == service and lic.get("sda")]
    rows.sort(key=lambda lic: lic["ref"])
    return [Licence(service, lic["ref"], str(lic["tab"]).capitalize()) for lic in rows]


def pick(state: dict[str, Any], counts: dict[str, int]) -> list[Licence]:
    chosen: list[Licence] = []
    for service, count in counts.items():
        found = numbered(state, service)
        if len(found) < count:
            raise SystemExit(f"{service} has {len(found)} numbered licences, {count} needed")
        chosen += found[:count]
    return chosen


def write_batch(path: Path, licences: Sequence[Licence]) -> Path:
    lines = ["service;licence;keep_number"]
    lines += [f"{lic.service};{lic.ref};non" for lic in licences]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def still_numbered(replica: Replica, licences: Iterable[Licence]) -> list[str]:
    """The refs that still have a number (each run is checked: nothing is taken on trust)."""
    numbers = {lic["ref"]: lic.get("sda") for lic in replica.state()["licences"]}
    return [lic.ref for lic in licences if numbers.get(lic.ref)]


def check_done(replica: Replica, run: Measured, licences: Sequence[Licence]) -> None:
    left = still_numbered(replica, licences)
    if left and run.problem is None:
        run.problem = f"{len(left)} licence(s) still have their number: {', '.join(left[:5])}"


def reset(replica: Replica) -> None:
    replica.test_api("reset")


# ------------------------------------------------------------------------ commands


def bot_dissociate(lic: Licence) -> list[str]:
    command = [PYTHON, "-m", "myopenip", "dissociate", "--service", lic.service]
    return [*command, "--licence", lic.ref, "--release-number", "--yes"]


def straight_line(replica: Replica, lic: Licence) -> list[str]:
    command = [PYTHON, str(BENCH / "straight_line.py"), "--base-url", replica.url]
    command += ["--service", lic.service, "--licence", lic.ref, "--tab", lic.tab]
    launch = find_browser(os.environ.get("MYOPENIP_BROWSER_PATH"))  # once, by the harness
    if launch.executable_path:
        command += ["--executable-path", launch.executable_path]
    return command + [f"--browser-arg={arg}" for arg in launch.args]


def http_floor(replica: Replica, lic: Licence) -> list[str]:
    command = [PYTHON, str(BENCH / "http_floor.py"), "--base-url", replica.url]
    return [*command, "--service", lic.service, "--licence", lic.ref, "--tab", lic.tab]


def bot_batch(path: Path, workers: int) -> list[str]:
    command = [PYTHON, "-m", "myopenip", "batch", str(path), "--yes", "--json"]
    return [*command, "--workers", str(workers)]


R = TypeVar("R")


def run_alone(
    name: str,
    measure: Callable[[Bench, Callable[[str], None], Path], R],
    targets: Callable[[R], Iterable[Target]],
    lines: Callable[[R], list[str]],
    *,
    keep_work: bool = False,
) -> int:
    """A part of `make bench` run by itself (`python -m bench.<name>`): `measure(bench, log,
    work)` in a temp folder of its own (kept with `keep_work`), then its targets and its
    lines printed; 1 when a run failed (each named on stderr)."""
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", flush=True)

    work = Path(tempfile.mkdtemp(prefix=f"myopenip-bench-{name}-"))
    bench = Bench(work, log)
    try:
        res = measure(bench, log, work)
    finally:
        if keep_work:
            log(f"temp folders kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print("\n".join(target_table(targets(res))))
    print()
    print("\n".join(lines(res)))
    failures = [run for run in bench.runs if not run.ok]
    for run in failures:
        print(f"FAILED: {run.label}: {run.problem}", file=sys.stderr)
    return 1 if failures else 0
