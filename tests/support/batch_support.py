"""Running `myopenip batch` as a scheduler does: a real process in its own folder, settings in
MYOPENIP_* variables, JSON-line events on stderr; files written the way people's tools
write them; the replica's state read to check that the portal is exactly what the file said.
(Imported by name: tests/support is on sys.path.)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import forked
from cli_support import Running, cli_env

from myopenip.replica import Replica

# Generous: two cores, busy, and Chromium per worker.
RUN_TIMEOUT = 600.0


class BatchCli:
    """Runs `python -m myopenip batch …` in `tmp_path` with MYOPENIP_* set for a replica."""

    def __init__(self, tmp_path: Path, replica: Replica | None, **settings: str | None) -> None:
        self.cwd = tmp_path
        self.traces = tmp_path / "traces"
        self.state_file = tmp_path / "private" / "session-state.json"
        timeout: dict[str, str | None] = {"timeout_ms": "15000"}
        self.env = cli_env(self.traces, self.state_file, replica, timeout | settings)

    @staticmethod
    def argv(*args: str | Path) -> list[str]:
        return [sys.executable, "-m", "myopenip", "batch", *(str(a) for a in args)]

    def __call__(
        self, *args: str | Path, timeout: float = RUN_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        return forked.run(self.argv(*args), cwd=self.cwd, env=self.env, timeout=timeout)

    def start(self, *args: str | Path) -> BatchRunning:
        """Start the command without waiting: watch its events, signal or kill it."""
        process = subprocess.Popen(
            self.argv(*args),
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return BatchRunning(process)


class BatchRunning(Running):
    """A batch under way; can also wait for the n-th time an event is logged."""

    def count(self, event: str) -> int:
        return sum(1 for parsed in self._events() if parsed.get("event") == event)

    def _events(self) -> list[dict[str, Any]]:
        found = []
        for line in list(self.lines):
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue  # a line cut by a kill
        return found

    def wait_for_nth(self, event: str, n: int, timeout: float = RUN_TIMEOUT) -> bool:
        """True once `event` was logged `n` times; False if the run ended first."""
        with self._changed:
            self._changed.wait_for(lambda: self.count(event) >= n or "" in self.lines, timeout)
            seen = self.count(event) >= n
        if not seen:
            assert "" in self.lines, f"no {n}th {event!r} within {timeout} s"
        return seen


def events(stderr: str) -> list[dict[str, Any]]:
    """The structlog events (JSON lines) a run wrote on stderr."""
    found = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except ValueError:
                continue  # a line cut by a SIGKILL
    return found


def named(stderr: str, event: str) -> list[dict[str, Any]]:
    return [e for e in events(stderr) if e.get("event") == event]


def clicked(stderr: str) -> list[str]:
    """The licences of every « Valider » click the run logged, in order."""
    return [ref for e in named(stderr, "valider_clicking") for ref in e["licences"]]


def exit_agrees(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON the run printed (--json), after checking its exit_code is the process's own."""
    try:
        payload: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        raise AssertionError(
            f"no JSON on stdout (exit {done.returncode}): {done.stdout!r}\n{done.stderr}"
        ) from None
    assert payload["exit_code"] == done.returncode, (payload["exit_code"], done.stderr[-3000:])
    return payload


def flat(text: str) -> str:
    """Text as one line of words: what rich wrapped at 80 columns reads whole."""
    return " ".join(text.split())


# -- files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A row of a batch file, and what it should do to the portal."""

    service: str
    licence: str
    keep: bool
    number: str  # the licence's number before the batch (ten digits)

    @property
    def keep_text(self) -> str:
        return "oui" if self.keep else "non"


def write_csv(
    path: Path,
    rows: Iterable[Sequence[str]],
    header: Sequence[str] = ("service", "licence", "keep_number"),
    delimiter: str = ";",
) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def write_rows(path: Path, rows: Iterable[Row], *, with_number: bool = False) -> Path:
    header = ("service", "licence", "keep_number") + (("number",) if with_number else ())
    lines = [
        (r.service, r.licence, r.keep_text) + ((r.number,) if with_number else ()) for r in rows
    ]
    return write_csv(path, lines, header)


def pick(
    state: dict[str, Any], service: str, count: int, *, tab: str = "utilisateurs", skip: int = 0
) -> list[tuple[str, str]]:
    """(ref, number) of `count` numbered licences of `service` in `tab`, by ref."""
    found = sorted(
        (lic["ref"], lic["sda"])
        for lic in state["licences"]
        if lic["service_ref"] == service and lic["tab"] == tab and lic["sda"]
    )
    assert len(found) >= skip + count, f"{service} has too few numbered licences in {tab}"
    return found[skip : skip + count]


def rows_for(
    state: dict[str, Any], plan: Sequence[tuple[str, int, str]], keeps: Iterable[bool]
) -> list[Row]:
    """Rows for (service, count, tab) groups, keep values taken in turn from `keeps`."""
    chosen = [
        (service, ref, number)
        for service, count, tab in plan
        for ref, number in pick(state, service, count, tab=tab)
    ]
    return [
        Row(service, ref, keep, number)
        for (service, ref, number), keep in zip(chosen, keeps, strict=False)
    ]


# -- the portal -------------------------------------------------------------------------


def number_states(state: dict[str, Any]) -> dict[str, str]:
    return {n["number"]: n["state"] for n in state["numbers"]}


def sdas(state: dict[str, Any]) -> dict[str, str | None]:
    return {lic["ref"]: lic["sda"] for lic in state["licences"]}


def assert_portal_is_the_file(
    before: dict[str, Any], after: dict[str, Any], rows: Sequence[Row]
) -> None:
    """Each row's licence dissociated exactly once with its keep value; nothing else changed."""
    audit = after["audit"][len(before["audit"]) :]
    assert sorted(e["licence_ref"] for e in audit) == sorted(r.licence for r in rows), audit
    by_licence = {e["licence_ref"]: e for e in audit}
    numbers = number_states(after)
    for row in rows:
        entry = by_licence[row.licence]
        assert (entry["number"], entry["keep"]) == (row.number, row.keep), entry
        assert sdas(after)[row.licence] is None, row
        assert numbers[row.number] == ("available" if row.keep else "quarantine"), row
    touched = {r.licence for r in rows}
    released = {r.number for r in rows}
    assert {ref: sda for ref, sda in sdas(after).items() if ref not in touched} == {
        ref: sda for ref, sda in sdas(before).items() if ref not in touched
    }
    assert {n: s for n, s in numbers.items() if n not in released} == {
        n: s for n, s in number_states(before).items() if n not in released
    }
    assert after["services"] == before["services"]


def read_report_csv(path: Path) -> list[list[str]]:
    """A report's CSV file (UTF-8 with a BOM, `;`), header first."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def assert_released_listed(report: Path, state: dict[str, Any], rows: Sequence[Row]) -> None:
    """numbers-to-terminate.csv lists exactly the numbers of the rows done with « Non »."""
    clients = {s["ref"]: s["client"] for s in state["services"]}
    header, *lines = read_report_csv(report / "numbers-to-terminate.csv")
    assert header == ["number", "service", "client", "licence"]
    assert sorted((n.replace(" ", ""), s, c, lic) for n, s, c, lic in lines) == sorted(
        (r.number, r.service, clients[r.service], r.licence) for r in rows if not r.keep
    )


def assert_summary_agrees(report: Path, code: int) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == code, summary
    return summary


# -- the journal ------------------------------------------------------------------------


def journal_rows(path: Path) -> list[dict[str, Any]]:
    """The journal's rows, read without taking its lock (after the runs ended)."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM rows ORDER BY line")]
    finally:
        conn.close()


KILLED_RUN = """
import json, os, sys
from pathlib import Path
from myopenip_bot.batch.file import read_batch_file
from myopenip_bot.batch.journal import Journal

journal_path, batch_path, states = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
rows = {row.licence: row for row in read_batch_file(batch_path)}
journal = Journal.open(journal_path)
journal.load(list(rows.values()))
journal.start_run(batch_path)
for licence, state in states.items():
    row = rows[licence]
    journal.planned(row.service, licence, row.number, "Utilisateurs")
    if state == "submitting":
        journal.submitting(row.service, [licence], None)
os._exit(0)  # no close, no checkpoint: what a SIGKILL leaves
"""


def journal_left_by_a_killed_run(journal: Path, batch: Path, states: dict[str, str]) -> None:
    """Write `journal` as a run killed at that point leaves it: each licence of `states`
    "planned" or "submitting" (« Valider » about to be clicked, or clicked)."""
    subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(journal), str(batch), json.dumps(states)],
        check=True,
        timeout=120,
    )


def file_state(path: Path) -> tuple[str, int] | None:
    """A file's digest and mtime, or None when it does not exist."""
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def assert_committed_once(replica: Replica, licences: Iterable[str]) -> None:
    """Each of `licences` reached the back end in exactly one « Valider » it accepted, and
    never again after it: a lost answer is settled by reading, never by a second click
    that the portal would see (the 503s answered before the portal never reach it)."""
    accepted: Counter[str] = Counter()
    after: list[str] = []
    for submission in replica.back_end()["submissions"]:
        for licence in submission["licences"]:
            if accepted[licence]:
                after.append(licence)
            if submission["status"] == 200:
                accepted[licence] += 1
    assert accepted == Counter(licences), accepted
    assert after == [], after
