"""Run folders under `traces/`, and the redaction that keeps secrets out of Playwright traces."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REDACTED = "[redacted]"
_SECRET_HEADERS = {"cookie", "set-cookie", "authorization", "proxy-authorization"}
# Below this length a password is too likely to occur in ordinary page text ("demo") to be
# replaced blindly; tracing is paused while it is typed, which is the real protection.
MIN_REDACTABLE_LENGTH = 8


def new_run_dir(root: Path, label: str) -> Path:
    """Create `root/<UTC timestamp>-<label>[-n]/` and return it."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "run"
    base = root / f"{stamp}-{safe}"
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")


def redactable(secrets: Iterable[str]) -> list[str]:
    return sorted({s for s in secrets if len(s) >= MIN_REDACTABLE_LENGTH}, key=len, reverse=True)


def _scrub_headers(node: Any) -> Any:
    """Blank the value of every {"name": <secret header>, "value": ...} pair in a JSON tree."""
    if isinstance(node, dict):
        name = node.get("name")
        if isinstance(name, str) and name.lower() in _SECRET_HEADERS and "value" in node:
            node = {**node, "value": REDACTED}
        return {key: _scrub_headers(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_scrub_headers(item) for item in node]
    return node


def _scrub_json_lines(data: bytes) -> bytes:
    lines = []
    for line in data.split(b"\n"):
        if line.strip():
            with contextlib.suppress(ValueError):
                line = json.dumps(_scrub_headers(json.loads(line)), ensure_ascii=False).encode()
        lines.append(line)
    return b"\n".join(lines)


def redact_trace(path: Path, secrets: Iterable[str]) -> None:
    """Rewrite a trace zip without secret header values nor any occurrence of `secrets`."""
    values = [s.encode() for s in redactable(secrets)]
    tmp = path.with_suffix(".redacting")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith((".trace", ".network")):
                data = _scrub_json_lines(data)
            for value in values:
                data = data.replace(value, REDACTED.encode())
            dst.writestr(info, data)
    tmp.replace(path)


def find_secrets(path: Path, secrets: Iterable[str]) -> list[str]:
    """Names of the files (zip members included) under `path` that contain any secret."""
    values = [s.encode() for s in redactable(secrets)]
    if not values:
        return []
    hits: list[str] = []
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        blobs: list[tuple[str, bytes]]
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as zf:
                blobs = [(f"{file}!{n}", zf.read(n)) for n in zf.namelist()]
        else:
            blobs = [(str(file), file.read_bytes())]
        hits += [name for name, blob in blobs if any(v in blob for v in values)]
    return hits


def remove_traces(run_dir: Path) -> None:
    for trace in run_dir.glob("trace*.zip"):
        trace.unlink()


def remove_if_empty(run_dir: Path) -> None:
    if run_dir.is_dir() and not any(run_dir.iterdir()):
        shutil.rmtree(run_dir)
