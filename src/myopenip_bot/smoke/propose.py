"""Proposals: a copy of the selectors in use in which each drifted entry takes what the
screen shows instead, proven by a read-only rerun of the whole smoke before anyone uses it.

    changes_for(checks, selectors)  each failed check that names a control of the file and
                                    a candidate: one Change per entry (pure)
    render(text, changes)           the selectors file's text with those entries replaced
                                    in place, its comments and layout kept (pure)
    propose(...)                    write it, rerun the smoke against it (read-only), and
                                    again while a rerun meets a further drift (a fix can
                                    open the next screen); the last rerun is the verdict

The bot never applies a proposal: a person reviews its diff and copies the file. Entries
of controls that change the portal (« Valider », « Dissocier vos numéros », the choices
« Conserver le numéro ») are marked for a second look: nothing irreversible ever runs on
a guess, and a read-only rerun cannot prove what a click on them would do.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import BaseModel, ValidationError

from myopenip_bot.config.selectors import Control, Selectors, default_selectors_path, load_selectors
from myopenip_bot.config.settings import Settings
from myopenip_bot.errors import UsageError
from myopenip_bot.files import write_private
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.smoke.checks import CheckResult, Status
from myopenip_bot.smoke.run import SmokeResult, run_smoke
from myopenip_bot.text import visible

__all__ = [
    "MAX_RERUNS",
    "SECOND_LOOK",
    "Change",
    "Proposal",
    "changes_for",
    "check_target",
    "flow",
    "propose",
    "proposed_control",
    "render",
    "written",
]

# The entries whose controls change the portal: a proposal for them needs a person's eyes.
SECOND_LOOK = frozenset(
    {"dialog.submit", "licences.dissociate", "dialog.keep_select", "dialog.any_keep_select"}
)
# Reruns at most: each one fixes at least one more entry, or the proposal stops there.
MAX_RERUNS = 8


@dataclass(frozen=True)
class Change:
    """One entry of the selectors file, as it was and as proposed."""

    key: str  # "services.search", "service.tabs.Utilisateurs", "licences.filters"
    index: int | None  # the item of a list entry (licences.filters[0]), else None
    was: Control
    now: Control
    check: str  # the check whose failure proposed it
    #: a text entry of the file (a column header: `was` and `now` its role and name)
    text: bool = False

    @property
    def entry(self) -> str:
        return self.key if self.index is None else f"{self.key}[{self.index}]"

    @property
    def second_look(self) -> bool:
        return self.key in SECOND_LOOK


class RunSmoke(Protocol):
    def __call__(
        self,
        settings: Settings,
        selectors: Selectors,
        *,
        service: str | None = ...,
        licence: str | None = ...,
        stop: StopSignal | None = ...,
        label: str = ...,
    ) -> SmokeResult: ...


@dataclass
class Proposal:
    """A proposal and its proof: the file written, its changes, and every rerun."""

    source: Path  # the selectors in use
    path: Path  # the proposal
    changes: list[Change] = field(default_factory=list)
    reruns: list[SmokeResult] = field(default_factory=list)

    @property
    def verdict(self) -> SmokeResult | None:
        """The last rerun, against the proposal as written (None: nothing to propose)."""
        return self.reruns[-1] if self.reruns else None

    @property
    def passes(self) -> bool:
        return self.verdict is not None and self.verdict.passed

    def diff(self) -> str:
        """The changed entries, each as it was (-) and as proposed (+)."""
        lines = []
        for change in self.changes:
            look = "   (second look: it changes the portal)" if change.second_look else ""
            lines += [
                f"  {change.entry}{look}",
                f"-   {visible(written(change, change.was))}",
                f"+   {visible(written(change, change.now))}",
            ]
        return "\n".join(lines)


# -- what to propose (pure) ----------------------------------------------------------------


def changes_for(checks: Sequence[CheckResult], selectors: Selectors) -> list[Change]:
    """One change per entry of the file whose control a failed check did not find and
    whose screen showed a candidate: the best candidate of the first such check."""
    changes: dict[tuple[str, int | None], Change] = {}
    for check in checks:
        if check.status is not Status.FAILED or check.control is None or not check.candidates:
            continue
        key = check.entry or selectors.key_of(check.control)
        value = _value_at(selectors, key)
        if value is None:
            continue  # not an entry of the file (a text the walk looked for)
        if isinstance(value, str):  # a text entry (a column header), named by the check
            now = proposed_control(check.control, check.candidates[0], {})
            if now is not None and now != check.control and (key, None) not in changes:
                changes[key, None] = Change(key, None, check.control, now, check.id, text=True)
            continue
        index = None
        if isinstance(value, tuple):
            index = next((i for i, item in enumerate(value) if item is check.control), None)
            if index is None:
                continue
        now = proposed_control(check.control, check.candidates[0], check.values)
        if now is None or now == check.control or (key, index) in changes:
            continue
        changes[key, index] = Change(key, index, check.control, now, check.id)
    return list(changes.values())


def _value_at(selectors: Selectors, key: str) -> Any:
    """The value of a dotted key of the file ("service.tabs.Utilisateurs"): a control, a
    list of them, or a text ("texts.licence_columns.number"); else None."""
    node: Any = selectors
    for part in key.split("."):
        if isinstance(node, BaseModel) and part in type(node).model_fields:
            node = getattr(node, part)
        elif isinstance(node, dict):
            node = next((v for k, v in node.items() if str(getattr(k, "value", k)) == part), None)
        else:
            return None
    return node if isinstance(node, Control | tuple | str) else None


def proposed_control(
    was: Control, candidate: tuple[str, str], values: dict[str, str]
) -> Control | None:
    """`was` found by the candidate's name instead: the same kind (role, label or text)
    and `exact`; the values that filled its placeholders ("FPC367128", "02 31 45 67 89")
    put back as placeholders; for a partial match, only the words that stand where the
    old name's stood (not the data after them). None when no valid control comes of it."""
    # A candidate has the role looked for (any field, for a label), or it is the same
    # control under another role (pages._closest): the role proposed is the candidate's.
    role, name = candidate
    text = _template(" ".join(name.split()), values)
    if not was.exact:
        old = (was.name or was.label or was.text or "").format(**values)
        text = _trim(_template(old, values), text)
    if not text:
        return None
    try:
        if was.role is not None:
            return Control(role=role or was.role, name=text, exact=was.exact)  # type: ignore[arg-type]
        if was.label is not None:
            return Control(label=text, exact=was.exact)
        return Control(text=text, exact=was.exact)
    except ValidationError:
        return None


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _template(name: str, values: dict[str, str]) -> str:
    """The name with literal braces escaped and each placeholder's value put back."""
    text = _escape(name)
    for placeholder, value in values.items():
        if value:
            text = text.replace(_escape(value), "{" + placeholder + "}")
    return text


def _is_data(word: str) -> bool:
    return "{" in word.replace("{{", "") or any(c.isdigit() for c in word)


def _trim(old: str, new: str) -> str:
    """The words of `new` that stand where `old`'s stood: up to the last word they share
    (and as many more as `old` had after it), else up to the first word of data."""
    old_words, new_words = old.split(), new.split()
    matcher = difflib.SequenceMatcher(
        None, [w.casefold() for w in old_words], [w.casefold() for w in new_words], autojunk=False
    )
    blocks = [block for block in matcher.get_matching_blocks() if block.size]
    if blocks:
        last = blocks[-1]
        end = last.b + last.size + (len(old_words) - last.a - last.size)
    else:
        end = next((i for i, w in enumerate(new_words) if _is_data(w)), len(new_words))
        end = end or len(old_words)
    return " ".join(new_words[: min(end, len(new_words))])


# -- writing it (pure) ---------------------------------------------------------------------


def _yaml_string(value: str) -> str:
    """A YAML double-quoted scalar: readable accents, every unprintable character escaped."""
    out = []
    for char in json.dumps(value, ensure_ascii=False)[1:-1]:
        if char.isprintable() or char == " ":
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def flow(control: Control) -> str:
    """A control as the file writes it: `{role: button, name: "Valider"}`."""
    parts = [f"role: {control.role}"] if control.role is not None else []
    for key in ("name", "label", "text"):
        value = getattr(control, key)
        if value is not None:
            parts.append(f"{key}: {_yaml_string(value)}")
    if not control.exact:
        parts.append("exact: false")
    return "{" + ", ".join(parts) + "}"


def written(change: Change, control: Control) -> str:
    """`control` as the file writes the entry of `change`: a flow mapping, or for a text
    entry its text (`"Numéro SDA"`)."""
    if change.text:
        return _yaml_string(control.name or control.label or control.text or "")
    return flow(control)


_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w .-]*?|\"[^\"]*\"|'[^']*'):(?P<rest>.*)$")
# A one-line scalar entry: `  number: "SDA"  # a comment`.
_SCALAR = re.compile(
    r"""^(?P<head>[^:]*:\s*)(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^#]*?)(?P<tail>\s*(?:#.*)?)$"""
)
_ITEM = re.compile(r"^(?P<indent> *)- (?P<rest>.*)$")


def _line_of(
    lines: Sequence[str], path: Sequence[str], index: int | None, *, scalar: bool = False
) -> int | None:
    """The line holding the entry at `path` (its `index`-th item for a list), written as a
    one-line flow mapping (`scalar`: as a one-line scalar); None when the file is laid out
    otherwise."""
    stack: list[tuple[int, str]] = []
    for number, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _KEY.match(line)
        if match is None:
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match["key"].strip("\"'")))
        if [key for _, key in stack] != list(path):
            continue
        if scalar:
            rest = match["rest"].strip()
            return number if rest and rest[0] not in "{[|>&*!" else None
        if index is None:
            return number if match["rest"].strip().startswith("{") else None
        items = -1
        for later in range(number + 1, len(lines)):
            text = lines[later]
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            item = _ITEM.match(text)
            if item is None or len(item["indent"]) < indent:
                return None
            items += 1
            if items == index:
                return later if item["rest"].strip().startswith("{") else None
        return None
    return None


def _flow_end(text: str, start: int) -> int:
    """The index just after the flow mapping that opens at `start` (quotes honoured)."""
    depth, quote, at = 0, "", start
    while at < len(text):
        char = text[at]
        if quote:
            if char == "\\" and quote == '"':
                at += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return at + 1
        at += 1
    return -1


def _note(change: Change) -> list[str]:
    was = visible(written(change, change.was))
    notes = [f"proposed by `myopenip smoke --propose`; was {was}"]
    if change.second_look:
        notes.append(
            "SECOND LOOK: this control changes the portal. Check on the portal that it is "
            "the one the user guide means before using this file."
        )
    return notes


def render(text: str, changes: Sequence[Change], source: str = "the selectors file") -> str:
    """`text` (a selectors file) with each change's entry replaced in place, a comment
    above it saying what it was; the rest of the file as it is. A file laid out otherwise
    than one flow mapping per line is written anew (its comments lost, and said so)."""
    lines = text.split("\n")
    edits: dict[int, tuple[str, Change]] = {}
    for change in changes:
        number = _line_of(lines, _path(change.key), change.index, scalar=change.text)
        if number is None:
            return _dumped(text, changes, source)
        line = lines[number]
        if change.text:
            scalar = _SCALAR.match(line)
            if scalar is None:
                return _dumped(text, changes, source)
            new = scalar["head"] + written(change, change.now) + scalar["tail"]
            edits[number] = (new, change)
            continue
        start = line.index("{") if change.index is not None else line.index("{", line.index(":"))
        end = _flow_end(line, start)
        if end < 0:
            return _dumped(text, changes, source)
        edits[number] = (line[:start] + flow(change.now) + line[end:], change)
    out: list[str] = []
    for number, line in enumerate(lines):
        if number in edits:
            new, change = edits[number]
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# {note}" for note in _note(change)]
            out.append(new)
        else:
            out.append(line)
    return "\n".join(out)


def _path(key: str) -> list[str]:
    return key.split(".", 2) if key.startswith("service.tabs.") else key.split(".")


def _dumped(text: str, changes: Sequence[Change], source: str) -> str:
    raw = yaml.safe_load(text)
    for change in changes:
        *parents, last = _path(change.key)
        node = raw
        for part in parents:
            node = node[part]
        value: Any = change.now.model_dump(exclude_defaults=True)
        if change.text:
            value = change.now.name or change.now.label or change.now.text
        if change.index is None:
            node[last] = value
        else:
            node[last][change.index] = value
    header = [
        f"# Proposed by `myopenip smoke --propose` from {source}, written anew: the",
        "# comments of that file could not be kept. Changed entries:",
        *(f"#   {change.entry}: {line}" for change in changes for line in _note(change)),
    ]
    body = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=100)
    return "\n".join(header) + "\n" + body


# -- proving it ----------------------------------------------------------------------------


def check_target(target: Path, source: Path) -> None:
    """Refuse to write a proposal over the selectors in use or anywhere beside them (nor
    beside the packaged ones): a person copies it there after review. UsageError."""
    where = target.expanduser().resolve()
    packaged = default_selectors_path()
    forbidden = {
        source.expanduser().resolve().parent,
        packaged.parent.resolve(),
        packaged.resolve().parent,
    }
    if where.parent in forbidden or where.is_dir():
        raise UsageError(
            f"--propose {target}: write the proposal elsewhere than {where.parent}: the bot "
            "never writes selectors/ itself (a person reviews the proposal, then copies it)"
        )


def propose(
    settings: Settings,
    selectors: Selectors,
    source: Path,
    first: SmokeResult,
    target: Path,
    *,
    service: str | None = None,
    licence: str | None = None,
    stop: StopSignal | None = None,
    run: RunSmoke = run_smoke,
    on_rerun: Callable[[int, list[Change]], None] | None = None,
    on_result: Callable[[SmokeResult], object] | None = None,
) -> Proposal:
    """Propose a fix for the drift `first` met, and prove it: write `target` (a copy of
    `source`, the selectors in use, with each failed entry's best candidate), rerun the
    whole smoke against it, read-only, and again while a rerun meets a drift it can fix.

    Nothing is written when nothing can be proposed. `on_rerun(n, changes)` is told
    before each rerun, `on_result(result)` after it (the command keeps each rerun's
    smoke.json and junit.xml in its run folder, as the first run's). The proposal is
    never applied: `source` is never written.
    """
    check_target(target, source)
    text = source.read_text(encoding="utf-8")
    proposal = Proposal(source=source.resolve(), path=target)
    changes: dict[tuple[str, int | None], Change] = {}
    result, current = first, selectors
    for rerun in range(1, MAX_RERUNS + 1):
        fresh = False
        for change in changes_for(result.checks, current):
            entry = (change.key, change.index)
            if entry in changes:
                if changes[entry].now == change.now:
                    continue
                change = replace(change, was=changes[entry].was)
            changes[entry] = change
            fresh = True
        if not fresh:
            break
        proposal.changes = list(changes.values())
        write_private(target, render(text, proposal.changes, str(source)))
        current = load_selectors(target)
        if on_rerun is not None:
            on_rerun(rerun, proposal.changes)
        result = run(
            settings,
            current,
            service=service,
            licence=licence,
            stop=stop,
            label="smoke-proposal",
        )
        proposal.reruns.append(result)
        if on_result is not None:
            on_result(result)
        if result.passed or result.error is not None or result.interrupted is not None:
            break
    return proposal
