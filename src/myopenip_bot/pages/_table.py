"""Read a table as a person sees it: its rows (by ARIA role), their cells' texts, at once.

Rows are found by Playwright's role engine (`<tr>` or any element with role=row, whatever
the markup), and read in one call inside the page: a table that the portal re-renders or
reorders meanwhile is never seen half old, half new. Each cell is what a person reads
(its rendered text), whole and whatever characters it holds: no parser stands between
the page and the bot, so no character can break a read, and no length is cut.

`aria_names` reads the role/name pairs of an ARIA snapshot (Playwright's own rendering,
parsed line by line without a YAML parser), for messages that name what a screen shows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from playwright.sync_api import Locator

from myopenip_bot.text import visible

__all__ = ["RawRow", "aria_names", "read_rows"]

# For each row element: its cells (explicit ARIA cell roles, else <td>/<th>, not those of
# a nested row), each cell's label or rendered text, and its role; the row's controls are
# not read (the bot locates them by role and name when it acts).
_READ_ROWS = """
(rows) => {
  const CELL_ROLES = new Set(["cell", "gridcell", "rowheader", "columnheader"]);
  const roleOf = (el) => {
    const explicit = (el.getAttribute("role") || "").trim().split(/\\s+/)[0];
    if (explicit) return explicit;
    const tag = el.tagName.toLowerCase();
    if (tag === "td") return "cell";
    if (tag === "th") return el.closest("thead") || el.getAttribute("scope") === "col"
      ? "columnheader" : (el.getAttribute("scope") === "row" ? "rowheader" : "columnheader");
    if (tag === "tr") return "row";
    return "";
  };
  return rows.map((row) => {
    const cells = [];
    const walk = (node) => {
      for (const child of node.children) {
        const role = roleOf(child);
        if (role === "row") continue;
        if (CELL_ROLES.has(role)) {
          const label = (child.getAttribute("aria-label") || "").trim();
          cells.push({ text: label || child.innerText || child.textContent || "", role });
        } else {
          walk(child);
        }
      }
    };
    walk(row);
    return cells;
  });
}
"""


@dataclass
class RawRow:
    """One row: its cells' texts in order, and whether it holds column headers only."""

    cells: list[str] = field(default_factory=list)
    header: bool = False


def read_rows(table: Locator) -> list[RawRow]:
    """The rows of `table`, in document order, as shown now (read at once, no waiting)."""
    found: list[list[dict[str, str]]] = table.get_by_role("row").evaluate_all(_READ_ROWS)
    rows: list[RawRow] = []
    for cells in found:
        roles = [cell["role"] for cell in cells]
        rows.append(
            RawRow(
                cells=[str(cell["text"]) for cell in cells],
                header=bool(roles) and all(role == "columnheader" for role in roles),
            )
        )
    return rows


# One line of an ARIA snapshot: `- role "name" [attrs]`, `- role "name": text`, the key
# single-quoted when YAML needs it ('row "a: b"'), the name in JSON's escapes.
_LINE = re.compile(r"^\s*- (?P<quote>'?)(?P<role>[a-z]+)(?P<rest>.*)$")


def aria_names(snapshot: str) -> list[tuple[str, str]]:
    """Every named node of an ARIA snapshot, as (role, accessible name), in order.

    Read line by line: a name may hold any character (U+FFFF, control characters,
    quotes) without stopping the read; a line that is not a node is skipped.
    """
    found: list[tuple[str, str]] = []
    for line in snapshot.split("\n"):
        match = _LINE.match(line)
        if match is None or match["role"] == "text":
            continue
        rest = match["rest"]
        if match["quote"]:
            rest = rest.replace("''", "'")
        if not rest.startswith(' "'):
            continue
        try:
            name, _ = json.JSONDecoder().raw_decode(rest, 1)
        except ValueError:
            continue
        if isinstance(name, str) and name.strip():
            found.append((match["role"], visible(" ".join(name.split()))))
    return found
