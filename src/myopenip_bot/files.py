"""Files the bot writes: private, whole, and never through a link someone planted.

A report folder, a journal or a run folder may sit where other people can write. A link
planted there in place of `report.html` or `j.sqlite.lock` must not make the bot write
over the file it points to: every file is written under a new name that did not exist
(O_EXCL, O_NOFOLLOW), then renamed into place (a rename replaces a link, never its
target), and a path that is a link is refused with a line naming it.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from myopenip_bot.errors import SettingsError

__all__ = ["UnsafePathError", "refuse_link", "safe_name", "write_private"]

PRIVATE_FILE = 0o600
# Characters of a name the bot makes from data (a service ref, a client's name): letters,
# digits, "_", "." and "-"; anything else (a "/", a "\\", a NUL, a space…) becomes "-".
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# Names Windows reserves, whatever the extension (a run folder copied there must open).
_RESERVED = re.compile(r"(?i)^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)")
NAME_MAX = 80
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


class UnsafePathError(SettingsError):
    """A path the bot would write is a symbolic link (or a folder on the way is)."""


def refuse_link(path: Path, what: str) -> None:
    """Raise UnsafePathError when `path` is a symbolic link: nothing is written through it."""
    if path.is_symlink():
        raise UnsafePathError(
            f"{what} {path} is a symbolic link (to {os.readlink(path)}): refused, nothing "
            "was written; give a real path"
        )


def safe_name(text: str, default: str = "x") -> str:
    """`text` as one part of a file or folder name: no separator, no "..", no leading dot
    or dash, no reserved device name, at most NAME_MAX characters; `default` when nothing
    is left. Any ref or name from a file or the portal goes through it before a path."""
    name = _UNSAFE.sub("-", text)
    name = re.sub(r"\.{2,}", ".", name).strip(".-")[:NAME_MAX].strip(".-")
    if _RESERVED.match(name):
        name = "_" + name
    return name or default


def write_private(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` (mode 600), whole or not at all, never through a link."""
    refuse_link(path, "the file")
    if path.parent.is_symlink():
        refuse_link(path.parent, "the folder")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, _NEW, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
