"""Read a table as a person's screen reader does: its ARIA rows, cells and controls, at once.

Playwright's ARIA snapshot of a table is taken in one go inside the page, so a table
that the portal re-renders or reorders while it is read is never seen half old, half
new. It names each node by role and accessible name, whatever the markup: `<table>`,
or divs with role=table/grid, row, cell/gridcell, columnheader, rowheader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["AriaRow", "aria_names", "aria_rows"]

# "row", 'cell "FPC367128 Licence SVI"', 'checkbox "Sélectionner FPC367128" [checked]'
_NODE = re.compile(r'^(?P<role>[a-z]+)(?:\s+"(?P<name>(?:[^"\\]|\\.)*)")?(?P<rest>.*)$', re.S)
_CELLS = frozenset({"cell", "gridcell", "rowheader", "columnheader"})


@dataclass
class AriaRow:
    """One row: its cells' names in order, and every named control inside it."""

    name: str
    cells: list[str] = field(default_factory=list)
    header: bool = False  # made of column headers only
    controls: list[tuple[str, str]] = field(default_factory=list)  # (role, name)


def aria_rows(snapshot: str) -> list[AriaRow]:
    """The rows of a table's ARIA snapshot (`locator.aria_snapshot()`), in order."""
    tree = yaml.safe_load(snapshot) or []
    rows: list[AriaRow] = []
    _walk(tree, rows)
    return rows


def _walk(nodes: Any, rows: list[AriaRow]) -> None:
    for node in nodes if isinstance(nodes, list) else []:
        role, name, children = _node(node)
        if role == "row":
            rows.append(_row(name, children))
        else:
            _walk(children, rows)


def _row(name: str, children: Any) -> AriaRow:
    row = AriaRow(name=name)
    roles: list[str] = []
    for node in children if isinstance(children, list) else []:
        role, cell_name, content = _node(node)
        if role in _CELLS:
            roles.append(role)
            # A cell named by its content, or (`- cell: text`) holding only that text.
            row.cells.append(
                cell_name or (" ".join(content.split()) if isinstance(content, str) else "")
            )
        _controls(node, row.controls)
    row.header = bool(roles) and all(role == "columnheader" for role in roles)
    return row


def _controls(node: Any, into: list[tuple[str, str]]) -> None:
    role, name, children = _node(node)
    if role and name and role not in _CELLS and role != "text":
        into.append((role, name))
    for child in children if isinstance(children, list) else []:
        _controls(child, into)


def _node(node: Any) -> tuple[str, str, Any]:
    """(role, accessible name, children) of one snapshot entry."""
    if isinstance(node, dict) and len(node) == 1:
        ((key, children),) = node.items()
    elif isinstance(node, str):
        key, children = node, None
    else:
        return "", "", None
    match = _NODE.match(str(key).strip())
    if match is None:
        return "", "", children
    name = re.sub(r"\\(.)", r"\1", match["name"] or "")  # \" and \\ escapes
    if match["role"] == "text" and isinstance(children, str):
        return "text", children, None
    return match["role"], " ".join(name.split()), children


def aria_names(snapshot: str) -> list[tuple[str, str]]:
    """Every named node of an ARIA snapshot, as (role, accessible name), in order."""
    found: list[tuple[str, str]] = []

    def walk(nodes: Any) -> None:
        for node in nodes if isinstance(nodes, list) else []:
            role, name, children = _node(node)
            if role and name and role != "text":
                found.append((role, name))
            walk(children)

    walk(yaml.safe_load(snapshot) or [])
    return found
