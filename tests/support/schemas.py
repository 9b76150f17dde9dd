"""The JSON Schemas of the commands' outputs (src/myopenip/schemas), for the tests to
validate what each command prints (imported by name: tests/support is on sys.path)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def schema(command: str) -> dict[str, Any]:
    """The schema of `myopenip <command> --json`."""
    text = (resources.files("myopenip") / "schemas" / f"{command}.schema.json").read_text(
        encoding="utf-8"
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded
