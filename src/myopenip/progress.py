"""A batch's progress on a terminal: a bar of the rows settled, their pace and the time
left, with the warnings and errors printed above it; nothing where stderr is not a
terminal (jobs read the JSON-lines events instead).

The pace is a mean over the run's working time (rules.pace), never a burst: from the
start, less the time spent at the question (`pause`, `resume`).
"""

from __future__ import annotations

import io
import sys
import time
from typing import TextIO, cast

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.text import Text

from myopenip.terminal import safe
from myopenip_bot.batch import rules
from myopenip_bot.batch.results import WorkSplit
from myopenip_bot.batch.run import BatchProgress
from myopenip_bot.config.logs import configure_logging
from myopenip_bot.config.settings import LogFormat, Settings
from myopenip_bot.i18n import _, format_int, format_rate, ngettext

__all__ = ["RowsBar"]


class RowsBar(BatchProgress):
    """On a terminal, a progress bar on stderr, the warnings and errors printed above it
    (jobs read the JSON-lines events instead); its pace counts the run's working time,
    from its start, less the time spent at the question."""

    def __init__(self, err: Console, settings: Settings) -> None:
        self.err = err
        self.settings = settings
        self.started_at: float | None = None
        self.paused_at: float | None = None
        self.paused = 0.0
        self.bar = None
        if err.is_terminal:
            columns = (TextColumn("[bold]" + _("batch")), BarColumn(), MofNCompleteColumn())
            pace = (_PaceColumn(self, left=False), _PaceColumn(self, left=True))
            self.bar = Progress(*columns, *pace, console=err)
        self.task: TaskID | None = None

    def started(self, rows: int) -> None:
        if self.bar is not None and self.settings.log_format is not LogFormat.JSON:
            # Warnings and errors print above the bar, never on its line (rich's proxy of
            # stderr while it shows); every event still goes to events.jsonl.
            log_format, level = self.settings.log_format, self.settings.log_level
            configure_logging(log_format, level, stream=cast(TextIO, _StderrNow()))
        if self.bar is not None:
            self.task = self.bar.add_task("rows", total=rows)
        self.started_at = time.monotonic()
        if self.bar is not None:
            self.bar.start()

    def advanced(self, rows: int) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task, rows)

    def ended(self) -> None:
        if self.bar is not None:
            self.bar.stop()

    def split(self, split: WorkSplit) -> None:
        """How the rows are shared between the workers, in a line for a person (jobs read
        the `work_split` event)."""
        shown = self.settings.log_format
        if shown is LogFormat.JSON or (shown is LogFormat.AUTO and not self.err.is_terminal):
            return
        for service, sizes in split.split.items():
            shares = " + ".join(format_int(size) for size in sizes)
            self.err.print(
                _(
                    "%(service)s: its %(rows)s rows are shared by %(workers)s workers "
                    "(%(shares)s), each in its own browser."
                )
                % {
                    "service": safe(service),
                    "rows": format_int(sum(sizes)),
                    "workers": format_int(len(sizes)),
                    "shares": shares,
                },
                soft_wrap=True,
                highlight=False,
            )
        if split.workers < split.asked:
            self.err.print(
                ngettext(
                    "--workers %(asked)s: %(workers)s worker starts, as many as there are "
                    "parts of the work (a service is shared only in parts of %(least)s rows "
                    "or more).",
                    "--workers %(asked)s: %(workers)s workers start, as many as there are "
                    "parts of the work (a service is shared only in parts of %(least)s rows "
                    "or more).",
                    split.workers,
                )
                % {
                    "asked": split.asked,
                    "workers": split.workers,
                    "least": rules.MIN_PART_ROWS,
                },
                soft_wrap=True,
                highlight=False,
            )

    def pause(self) -> None:
        self.paused_at = time.monotonic()
        if self.bar is not None:
            self.bar.stop()

    def resume(self) -> None:
        if self.bar is not None:
            self.bar.start()
        if self.paused_at is not None:
            self.paused += time.monotonic() - self.paused_at
            self.paused_at = None

    def seconds(self) -> float:
        if self.started_at is None:
            return 0.0
        now = self.paused_at if self.paused_at is not None else time.monotonic()
        return now - self.started_at - self.paused


class _PaceColumn(ProgressColumn):
    """Rows settled per minute of work (rules.pace: a mean, never a burst), or the time
    left at that rate."""

    def __init__(self, bar: RowsBar, *, left: bool) -> None:
        super().__init__()
        self.pace, self.left = bar, left

    def render(self, task: Task) -> Text:
        rate, left = rules.pace(int(task.completed), int(task.remaining or 0), self.pace.seconds())
        if not self.left:
            shown = _("%(rate)s rows/min") % {"rate": format_rate(rate)} if rate else ""
            return Text(shown, style="progress.data.speed")
        if left is None:
            return Text(_("%(time)s left") % {"time": "-:--:--"}, style="progress.remaining")
        minutes, seconds = divmod(int(left + 0.5), 60)
        hours, minutes = divmod(minutes, 60)
        time_left = f"{hours}:{minutes:02d}:{seconds:02d}"
        return Text(_("%(time)s left") % {"time": time_left}, style="progress.remaining")


class _StderrNow(io.TextIOBase):
    """stderr as it is when written to: while the progress bar shows, rich's proxy of it,
    which prints each whole line above the bar."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        stream = sys.__stderr__
        return bool(stream is not None and stream.isatty())
