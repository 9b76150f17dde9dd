"""Run folders under `traces/`, and the redaction that keeps secrets out of Playwright traces."""

from __future__ import annotations

import contextlib
import html
import json
import os
import shutil
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import structlog
from playwright.sync_api import Page

from myopenip_bot.browser.workdir import make_private_dirs
from myopenip_bot.failures import best_effort
from myopenip_bot.files import safe_name

log = structlog.get_logger(__name__)

REDACTED = "[redacted]"
# A screenshot shows at most this many pixels each way: a page stretched by a hostile
# 10,000-character name would otherwise make one taking longer than any timeout.
SCREENSHOT_MAX_PX = 4_096
_SECRET_HEADERS = {"cookie", "set-cookie", "authorization", "proxy-authorization"}


def new_run_dir(root: Path, label: str) -> Path:
    """Create `root/<UTC timestamp>-<label>[-n]/`, readable by its owner only, and return it."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    safe = safe_name(label, "run")
    make_private_dirs(root)
    base = root / f"{stamp}-{safe}"
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir(mode=0o700)
            os.chmod(candidate, 0o700)
            return candidate
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")


def variants(secrets: Iterable[str]) -> list[str]:
    """Each secret as it may be written down: plain, URL-encoded, JSON- and HTML-escaped.

    Longest first, so that a secret is replaced whole before any part of it. Secrets of
    every length count: a short password is still a password.
    """
    found: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        found |= {
            secret,
            quote(secret, safe=""),
            quote_plus(secret),
            json.dumps(secret)[1:-1],
            json.dumps(secret, ensure_ascii=False)[1:-1],
            html.escape(secret),
        }
    return sorted(found, key=len, reverse=True)


def _scrub(node: Any, values: list[str]) -> Any:
    """Blank secret header values, and replace secrets in every string, of a JSON tree."""
    if isinstance(node, dict):
        name = node.get("name")
        if isinstance(name, str) and name.lower() in _SECRET_HEADERS and "value" in node:
            node = {**node, "value": REDACTED}
        return {key: _scrub(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_scrub(item, values) for item in node]
    if isinstance(node, str):
        for value in values:
            node = node.replace(value, REDACTED)
    return node


def _scrub_json_lines(data: bytes, values: list[str]) -> bytes:
    """Redact a JSON-lines member; a line that is not JSON is redacted as plain bytes."""
    lines = []
    for line in data.split(b"\n"):
        if line.strip():
            try:
                line = json.dumps(_scrub(json.loads(line), values), ensure_ascii=False).encode()
            except ValueError:
                line = _scrub_bytes(line, values)
        lines.append(line)
    return b"\n".join(lines)


def _scrub_bytes(data: bytes, values: list[str]) -> bytes:
    for value in values:
        data = data.replace(value.encode(), REDACTED.encode())
    return data


def redact_trace(source: Path, target: Path, secrets: Iterable[str]) -> None:
    """Write `source` (a Playwright trace zip) to `target` without any secret.

    Cookie and authorization headers are blanked; every variant of every secret is
    replaced inside JSON strings (so the trace stays readable) and in the other files.
    `target` appears whole or not at all.
    """
    values = variants(secrets)
    tmp = target.with_name(target.name + ".redacting")
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith((".trace", ".network", ".stacks")):
                data = _scrub_json_lines(data, values)
            else:
                data = _scrub_bytes(data, values)
            dst.writestr(info, data)
    tmp.replace(target)


def find_secrets(path: Path, secrets: Iterable[str]) -> list[str]:
    """Names of the files (zip members included) under `path` that contain any secret."""
    values = [v.encode() for v in variants(secrets)]
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


def screenshot(page: Page, path: Path) -> Path | None:
    """A full-page screenshot (up to SCREENSHOT_MAX_PX each way) at `path`; None, with a
    warning, when the page cannot be taken (evidence is kept where it can be, never at
    the cost of the run)."""
    try:
        return best_effort(
            lambda: _screenshot(page, path), None, event="screenshot_not_taken", path=str(path)
        )
    except OSError as error:  # the file, not the page: a full disk, a read-only folder
        log.warning("screenshot_not_taken", path=str(path), why=error.strerror or str(error))
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)  # what a full disk left of it
        return None


def _screenshot(page: Page, path: Path) -> Path:
    width, height = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    viewport = page.viewport_size
    if viewport and width <= viewport["width"] and height <= viewport["height"]:
        # The whole page is on screen: the same picture without a full-page capture,
        # which lays the page out again (about half the time).
        page.screenshot(path=path)
    else:
        clip = {
            "x": 0,
            "y": 0,
            "width": max(1, min(int(width), SCREENSHOT_MAX_PX)),
            "height": max(1, min(int(height), SCREENSHOT_MAX_PX)),
        }
        page.screenshot(path=path, full_page=True, clip=clip)  # type: ignore[arg-type]
    log.info("screenshot_taken", path=str(path))
    return path


def remove_traces(run_dir: Path) -> None:
    for trace in run_dir.glob("trace*.zip"):
        trace.unlink()


def remove_if_empty(run_dir: Path) -> None:
    if run_dir.is_dir() and not any(run_dir.iterdir()):
        shutil.rmtree(run_dir)
