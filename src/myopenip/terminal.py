"""The terminal: data shown as data, and the one question the bot ever asks.

The portal's texts and the files' contents reach the screen inside rich tables and
messages, where `[bold red]…[/]` would be styling and `[link=…]` a link. Everything that
is not the bot's own wording goes through `plain` (a rich Text, never parsed as markup)
or `safe` (escaped, to sit inside the bot's own markup); both make every character
visible (`\\x1b`, `U+202E`) and shorten long texts (files keep them whole).
"""

from __future__ import annotations

import os
import re
import select
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import rich._wrap
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from myopenip_bot.i18n import _, ngettext
from myopenip_bot.interrupts import PromptInterrupted, StopSignal
from myopenip_bot.text import shorten

__all__ = [
    "NO",
    "SCREEN_TEXT",
    "YES",
    "Steps",
    "ask_to_valider",
    "drift_hint",
    "numbers_whole",
    "plain",
    "prompt",
    "safe",
    "say_error",
]


def drift_hint() -> str:
    """After a DriftError: the portal differs from selectors/, and the smoke says how."""
    return _(
        "The portal does not show what selectors/ says (the key above). Run `myopenip smoke` "
        "to check every screen read-only; with --propose it suggests the fix."
    )


# French typography keeps « Valider » and « : » together with non-breaking spaces; rich
# wraps at any Unicode blank, those too ("« ⏎ Valider »" in a table cell). Its word
# pattern, told that a non-breaking space is part of a word (rich 13 to 15: _wrap.re_word).
if isinstance(getattr(rich._wrap, "re_word", None), re.Pattern):
    rich._wrap.re_word = re.compile(r"[^\S\u00a0\u202f]*[\S\u00a0\u202f]+[^\S\u00a0\u202f]*")

# A number as the bot writes it ("02 31 45 67 89"): in a table cell, one word.
_NUMBER = re.compile(r"(?<!\d)(?<!\d )\d\d(?: \d\d){4}(?! ?\d)")


def numbers_whole(text: str) -> str:
    """`text` with each ten-digit number's blanks non-breaking: a table cell wraps around
    the number, never inside it (rich's word pattern above keeps them together)."""
    return _NUMBER.sub(lambda match: match.group(0).replace(" ", "\u00a0"), text)


# How much of one text the screen shows (files keep every text whole).
SCREEN_TEXT = 300

# Every answer is understood in both languages; the prompt names those of the person's.
YES = frozenset({"o", "oui", "y", "yes"})
NO = frozenset({"", "n", "non", "no"})


def prompt() -> str:
    """The answers the question takes, in the person's language."""
    return _("[o/oui/y/yes = yes, n/non/no = no; Enter = no] ")


def say_error(console: Console, lines: list[str]) -> None:
    """An error as wording.error_lines words it: on a terminal, its first line in red, then
    what changed and what to do next, each wrapped at words; elsewhere (a job's log) all
    on one line, whole, as jobs grep it."""
    if not lines:
        return
    if console.is_terminal:
        console.print(plain(lines[0], width=4_000, style="red"), soft_wrap=False)
        for line in lines[1:]:
            console.print(plain(line, width=4_000), highlight=False, soft_wrap=False)
    else:
        console.print(plain(" ".join(lines), width=4_000), highlight=False, soft_wrap=True)


def plain(value: object, width: int = SCREEN_TEXT, style: str = "") -> Text:
    """`value` as a rich Text: shown as it is written, never as markup."""
    return Text(shorten(str(value), width, newlines=True), style=style)


def safe(value: object, width: int = SCREEN_TEXT) -> str:
    """`value` escaped, to embed in the bot's own markup (`f"[red]{safe(x)}[/red]"`)."""
    return escape(shorten(str(value), width, newlines=True))


class Steps:
    """On a terminal, the step the bot is at, one line with a spinner ("logging in",
    "finding the service SRV-10021", …); elsewhere nothing (jobs read the events).
    Stopped while a person is asked, and gone once the run ends."""

    def __init__(self, console: Console) -> None:
        self._status = console.status(_("Starting…")) if console.is_terminal else None
        self._running = False

    def __enter__(self) -> Steps:
        if self._status is not None:
            self._status.start()
            self._running = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None and self._running:
            self._status.stop()
            self._running = False

    def show(self, step: str) -> None:
        """The step that begins, e.g. the portal layer's "finding the service SRV-10021"."""
        if self._status is not None:
            from myopenip_bot.wording import step_text

            step = step_text(step)
            self._status.update(plain(step[:1].upper() + step[1:] + "…", width=120))

    @contextmanager
    def paused(self, next_step: str) -> Iterator[None]:
        """No spinner while a person reads and answers; `next_step` once they have."""
        running = self._running
        self.__exit__()
        try:
            yield
        finally:
            if running:
                self.__enter__()
                self.show(next_step)


def ask_to_valider(
    console: Console, stop: StopSignal, count: int, warnings: tuple[str, ...]
) -> bool:
    """Show the portal's warnings whole, then ask once whether to click « Valider ».

    Enter, n/non/no, Ctrl-D, Ctrl-C (or any signal) mean no; o/oui/y/yes mean yes.
    """
    paragraphs = [plain(text, width=4_000) for text in warnings]
    if paragraphs:
        warning = Text("\n\n").join(paragraphs)
    else:
        warning = Text(_("(the dialog shows no warning)"))
    console.print(Panel(warning, title=_("The portal's warning"), expand=False))
    question = ngettext(
        "Click « Valider » for this number? This cannot be undone.",
        "Click « Valider » for these %(count)d numbers? This cannot be undone.",
        count,
    ) % {"count": count}
    console.print(question, highlight=False)
    answer = _ask(console, stop, prompt())
    while answer is not None and answer not in YES | NO:
        answer = _ask(console, stop, _("Please answer: %(prompt)s") % {"prompt": prompt()})
    return answer in YES


def _ask(console: Console, stop: StopSignal, question: str) -> str | None:
    """The answer, lower-cased; None when the person hung up (Ctrl-D, Ctrl-C, a signal)."""
    try:
        with stop.prompting():
            # Written straight to the stream, not through rich's buffer: a signal that
            # lands while rich is still writing it would leave the prompt in that buffer,
            # shown a second time by the next print.
            console.file.write(question)
            console.file.flush()
            return _read_line().strip().lower()
    except (EOFError, KeyboardInterrupt, PromptInterrupted):
        console.print()
        return None


def _read_line() -> str:
    """One line typed on the terminal, or PromptInterrupted as soon as a signal arrives.

    input() waits in read(2), which only a signal delivered to this very thread cuts
    short. The kernel may hand a Ctrl-C to any thread of the process (Playwright's child
    watcher is one): the handler then waits for the main thread, which waits for a line,
    and the prompt hangs for ever. So the prompt waits on the terminal and on the
    signals' wake-up pipe at once (main thread, terminal only; else input()).
    """
    stdin = sys.stdin
    if (
        threading.current_thread() is not threading.main_thread()
        or stdin is None
        or not stdin.isatty()
    ):
        return input()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    previous = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    try:
        while True:
            ready, _, _ = select.select([stdin, wake_read], [], [])
            if wake_read in ready:
                # The handler runs at the next instruction and raises; in case it did not
                # (another handler took the signal), the answer is no all the same.
                received = os.read(wake_read, 16)
                raise PromptInterrupted(received[-1] if received else signal.SIGINT)
            if stdin in ready:
                line = stdin.readline()
                if not line:
                    raise EOFError
                return line
    finally:
        signal.set_wakeup_fd(previous, warn_on_full_buffer=False)
        os.close(wake_read)
        os.close(wake_write)
