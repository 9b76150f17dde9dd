"""What a screen shows instead of a control the selectors name: for messages that say what
drifted (a page object's DriftError, a smoke check's failure) and for the smoke's proposals.

The screen is read from its ARIA snapshot, whose nesting gives every control a region: the
nearest landmark (banner, navigation, main, search, form, region, complementary,
contentinfo), dialog, tab panel or menu that holds it. The candidates for a control that is
gone are the controls of its role (a form field, for a label) ranked by how near their
region is to where the control should be — the region of its neighbours still on screen
(`near`: the other controls of its section of selectors/) — then by how close their name
is, then in document order. So « Filtrer » in the search form comes before « Mes
Services » in the navigation bar, however much closer that name is to « Rechercher ».
Neighbours found on screen are never candidates: they are other controls, known. (Other
sections' controls may be: two screens may name two controls alike, « Rechercher ».)

A control that is there but hidden, or visible but disabled, is said to be so: that is not
a rename, and no candidate is offered.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from playwright.sync_api import Locator, Page

from myopenip_bot.config.selectors import Control, locate
from myopenip_bot.failures import best_effort
from myopenip_bot.text import visible

__all__ = [
    "REGIONS",
    "Absence",
    "Node",
    "absent",
    "candidates",
    "explain",
    "named",
    "parse_snapshot",
    "rank",
]

# The roles of the fields a label names.
_FIELDS = frozenset({"textbox", "combobox", "searchbox", "spinbutton", "checkbox", "listbox"})
# The roles that make a region: the landmarks, dialogs, tab panels and menus.
# The roles of the controls a person operates: one of them under another of these roles
# is the same control rebuilt (a button become a link), a candidate before any other.
_RECAST = frozenset(
    {
        "button", "link", "menuitem", "menuitemcheckbox", "menuitemradio", "tab", "switch",
        "checkbox", "radio", "option", "combobox", "textbox", "searchbox",
    }
)  # fmt: skip
REGIONS = frozenset(
    {
        "banner",
        "complementary",
        "contentinfo",
        "form",
        "main",
        "navigation",
        "region",
        "search",
        "dialog",
        "alertdialog",
        "tabpanel",
        "menu",
        "menubar",
    }
)
# How many candidates a message names.
SHOWN = 3


@dataclass(frozen=True)
class Node:
    """One node of an ARIA snapshot: its role, accessible name, inline text, and parent."""

    role: str
    name: str  # the accessible name, as the portal gives it ("" when none)
    text: str  # the text after the colon: `- paragraph: Pensez à …` ("" when none)
    depth: int
    parent: int | None  # the index of the parent node in the list, None at the top
    attributes: frozenset[str] = field(default_factory=frozenset)  # "disabled", "level=1"…

    @property
    def label(self) -> str:
        """What a person reads as this node's name: its accessible name, else its text."""
        return self.name or self.text


@dataclass(frozen=True)
class Absence:
    """Why a control cannot be used where it was looked for."""

    message: str  # 'no button named "Rechercher" …; found button "Filtrer"', or hidden…
    candidates: tuple[tuple[str, str], ...] = ()  # (role, name), the best first
    hidden: bool = False  # present, but not shown
    disabled: bool = False  # shown, but disabled


def named(control: Control, **values: str) -> str:
    """'button named "Valider"', 'field labelled "SDA"', 'text "…"'."""
    if control.role is not None:
        if control.name is None:
            return control.role
        return f'{control.role} named "{control.name.format(**values)}"'
    if control.label is not None:
        return f'field labelled "{control.label.format(**values)}"'
    return f'text "{(control.text or "").format(**values)}"'


# -- reading a snapshot --------------------------------------------------------------------

_LINE = re.compile(r"^(?P<indent> *)- (?P<body>.*)$")
_ROLE = re.compile(r"(?P<role>[a-z]+)(?P<rest>.*)$", re.S)
_ATTRIBUTE = re.compile(r"^ ?\[(?P<attribute>[^\]]*)\]")


def parse_snapshot(snapshot: str) -> list[Node]:
    """Every node of an ARIA snapshot (Playwright's rendering), in document order, with its
    parent: read line by line without a YAML parser, so that a name may hold any character
    (quotes, colons, control characters) without stopping the read. Property lines
    (`- /url: …`) and lines that are not nodes are skipped."""
    nodes: list[Node] = []
    stack: list[tuple[int, int]] = []  # (depth, index) of the open ancestors
    for line in snapshot.split("\n"):
        match = _LINE.match(line)
        if match is None:
            continue
        depth = len(match["indent"]) // 2
        node = _node(match["body"], depth)
        if node is None:
            continue
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else None
        nodes.append(Node(node.role, node.name, node.text, depth, parent, node.attributes))
        stack.append((depth, len(nodes) - 1))
    return nodes


def _node(body: str, depth: int) -> Node | None:
    """One line's node: `role "name" [attrs]: text`, the key single-quoted when YAML needs
    it (`'row "a: b"':`); None for a property line."""
    if body.startswith("'"):
        end = _closing_quote(body)
        if end < 0:
            return None
        key, after = body[1:end].replace("''", "'"), body[end + 1 :]
    else:
        key, after = body, ""
    match = _ROLE.match(key)
    if match is None:
        return None
    role, rest = match["role"], match["rest"]
    name = ""
    if rest.startswith(' "'):
        try:
            decoded, end = json.JSONDecoder().raw_decode(rest, 1)
        except ValueError:
            return None
        name, rest = (decoded if isinstance(decoded, str) else ""), rest[end:]
    attributes: set[str] = set()
    while (found := _ATTRIBUTE.match(rest)) is not None:
        attributes.add(found["attribute"].strip())
        rest = rest[found.end() :]
    rest += after
    if rest and not rest.startswith(":"):
        return None  # not a node: a role followed by something else
    text = rest[1:].strip() if rest.startswith(":") else ""
    if text.startswith('"') and text.endswith('"'):
        with contextlib.suppress(ValueError):
            text = str(json.loads(text))
    return Node(
        role, " ".join(name.split()), " ".join(text.split()), depth, None, frozenset(attributes)
    )


def _closing_quote(body: str) -> int:
    """The index of the quote that closes a YAML single-quoted key (`''` is a quote)."""
    at = 1
    while (at := body.find("'", at)) >= 0:
        if body[at + 1 : at + 2] == "'":
            at += 2
            continue
        return at
    return -1


# -- ranking -------------------------------------------------------------------------------


def _wanted(control: Control, values: dict[str, str]) -> str:
    return (control.name or control.label or control.text or "").format(**values)


def _roles(control: Control) -> frozenset[str] | None:
    """The roles a candidate for `control` may have; None: any role (a text)."""
    if control.role is not None:
        return frozenset({str(control.role)})
    if control.label is not None:
        return _FIELDS
    return None


def _same(found: str, wanted: str, exact: bool) -> bool:
    found, wanted = " ".join(found.split()), " ".join(wanted.split())
    return found == wanted if exact else wanted.casefold() in found.casefold()


def matches(node: Node, control: Control, values: dict[str, str] | None = None) -> bool:
    """Whether `node` is what `control` finds (as Playwright's role, label and text
    locators would, near enough for ranking)."""
    values = values or {}
    roles = _roles(control)
    if roles is not None and node.role not in roles:
        return False
    if control.role is not None and control.name is None:
        return True
    try:
        wanted = _wanted(control, values)
    except (KeyError, IndexError):
        return False  # a placeholder without its value: cannot tell
    if control.text is not None:
        return any(_same(t, wanted, control.exact) for t in (node.name, node.text) if t)
    return bool(node.name) and _same(node.name, wanted, control.exact)


def _recast(label: str, wanted: str, exact: bool) -> bool:
    """Whether a control named `label` bears the name looked for (`wanted`, casefolded)."""
    label = " ".join(label.split()).casefold()
    wanted = " ".join(wanted.split())
    return label == wanted if exact else bool(wanted) and wanted in label


def _ancestors(nodes: Sequence[Node], index: int) -> Iterable[int]:
    at: int | None = index
    while at is not None:
        yield at
        at = nodes[at].parent


def _regions(nodes: Sequence[Node], index: int) -> list[int | None]:
    """The regions holding node `index`, innermost first, then None (the whole snapshot)."""
    chain: list[int | None] = [i for i in _ancestors(nodes, index) if nodes[i].role in REGIONS]
    return [*chain, None]


def _inside(nodes: Sequence[Node], index: int, region: int | None) -> bool:
    return region is None or region in _ancestors(nodes, index)


def rank(
    nodes: Sequence[Node],
    control: Control,
    *,
    near: Sequence[Control] = (),
    values: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """The nodes that could be `control` renamed, best first, as (role, name): the same
    role (any form field for a label, any text for a text); those in the region of the
    neighbours `near` first (then in the regions around it, outwards), then the closest
    names, then in document order. The neighbours themselves, and whatever `control` still
    finds, are not candidates."""
    values = values or {}
    roles = _roles(control)
    try:
        wanted = _wanted(control, values).casefold()
    except (KeyError, IndexError):
        wanted = ""
    known = {i for i, node in enumerate(nodes) if any(matches(node, c, values) for c in near)}
    chains = [_regions(nodes, i) for i in sorted(known)]
    parents = {node.parent for node in nodes}
    # The same name under another role: the control itself, rebuilt as another kind of
    # control (a button become a link), before any other name.
    recast = {
        i
        for i, node in enumerate(nodes)
        if control.role is not None
        and control.name is not None
        and node.role != control.role
        and node.role in _RECAST
        and _recast(node.label, wanted, control.exact)
    }
    found: list[int] = [
        i
        for i, node in enumerate(nodes)
        if node.label
        # A text is read in a leaf (a paragraph, a heading, a cell), not in what holds it.
        and (node.role in roles if roles is not None else i not in parents)
        and i not in known
        and not matches(node, control, values)
    ]
    found += sorted(recast - set(found) - known)

    def distance(index: int) -> int:
        """How many regions out from a neighbour's one must be crossed to reach it."""
        return min(
            (
                next(d for d, region in enumerate(chain) if _inside(nodes, index, region))
                for chain in chains
            ),
            default=0,
        )

    def closeness(index: int) -> float:
        label = nodes[index].label.casefold()
        if not control.exact:  # a name found by how it begins: compare as much of it
            label = label[: len(wanted) + 10]
        return difflib.SequenceMatcher(None, wanted, label).ratio()

    ordered = sorted(found, key=lambda i: (i not in recast, distance(i), -closeness(i), i))
    return list(dict.fromkeys((nodes[i].role, nodes[i].label) for i in ordered))


# -- on a page -----------------------------------------------------------------------------


def _snapshot(scope: Page | Locator, timeout_ms: float) -> list[Node]:
    root = scope.locator(":root") if isinstance(scope, Page) else scope
    return best_effort(lambda: parse_snapshot(root.aria_snapshot(timeout=timeout_ms)), [])


def candidates(
    scope: Page | Locator,
    control: Control,
    timeout_ms: float,
    *,
    near: Sequence[Control] = (),
    values: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """The controls `scope` shows that could be `control` renamed, best first (see
    `rank`); (role, name) each, the name as the portal gives it."""
    return rank(_snapshot(scope, timeout_ms), control, near=near, values=values)


def explain(
    scope: Page | Locator,
    control: Control,
    where: str,
    timeout_ms: float,
    *,
    near: Sequence[Control] = (),
    values: dict[str, str] | None = None,
) -> Absence:
    """Why `control` cannot be used in `scope`: present but hidden, present but disabled,
    or not there, and then what shows instead (the candidates, best first). `values`
    fill its placeholders; `near` are its neighbours (see `rank`)."""
    values = values or {}
    located = locate(scope, control, **values)

    def read() -> tuple[int, bool]:
        present = _anywhere(scope, control, **values).count()
        shown = located.filter(visible=True)
        disabled = (
            present > 0
            and shown.count() > 0
            and all(shown.nth(i).is_disabled(timeout=timeout_ms) for i in range(shown.count()))
        )
        return present, disabled

    present, disabled = best_effort(read, (0, False))
    what = named(control, **values)
    if disabled:
        return Absence(f"{what} present but disabled {where}", disabled=True)
    if present:
        return Absence(f"{what} present but hidden {where}", hidden=True)
    found = tuple(candidates(scope, control, timeout_ms, near=near, values=values))
    instead = ", ".join(f'{role} "{visible(name)}"' for role, name in found[:SHOWN])
    return Absence(f"no {what} {where}" + (f"; found {instead}" if instead else ""), found)


def _anywhere(scope: Page | Locator, control: Control, **values: str) -> Locator:
    """What `control` finds, hidden elements too (role locators leave them out)."""
    if control.role is not None and control.name is not None:
        return scope.get_by_role(
            control.role,
            name=control.name.format(**values),
            exact=control.exact,
            include_hidden=True,
        )
    if control.role is not None:
        return scope.get_by_role(control.role, include_hidden=True)
    return locate(scope, control, **values)


def absent(
    scope: Page | Locator, control: Control, where: str, timeout_ms: float, **values: str
) -> str:
    """Why `control` cannot be used in `scope`, in one line (see `explain`)."""
    return explain(scope, control, where, timeout_ms, values=values).message
