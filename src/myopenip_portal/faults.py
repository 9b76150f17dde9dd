"""Fault injection: latency, technical errors and responses lost after a commit.

All three draw from random streams seeded by `--seed` (one stream each, so turning one
knob does not shift another's draws), and `POST /_test/reset` re-seeds them.
`/_test/` and `/static/` are never delayed nor failed: the test API must stay reliable,
and in real life the portal's assets come from a CDN, not from the application.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from myopenip_portal.config import PortalConfig
from myopenip_portal.drift import Drift
from myopenip_portal.markup import Markup

EXEMPT_PREFIXES = ("/_test/", "/static/")


class ResponseDropped(Exception):
    """Raised after a committed dissociation to make the server drop the connection."""


@dataclass
class Faults:
    """The fault knobs and their random streams."""

    config: PortalConfig
    latency_rng: random.Random = field(init=False)
    error_rng: random.Random = field(init=False)
    drop_rng: random.Random = field(init=False)
    delay_rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.reseed(self.config.seed)

    def reseed(self, seed: int) -> None:
        self.latency_rng = random.Random(f"latency-{seed}")
        self.error_rng = random.Random(f"error-{seed}")
        self.drop_rng = random.Random(f"drop-{seed}")
        self.delay_rng = random.Random(f"delay-{seed}")

    def latency_seconds(self) -> float:
        """Around --latency-ms: uniform between half and one and a half times it."""
        base = self.config.latency_ms
        return 0.0 if base <= 0 else self.latency_rng.uniform(base / 2, base * 1.5) / 1000

    def should_fail(self) -> bool:
        rate = self.config.error_rate
        return rate > 0 and self.error_rng.random() < rate

    def should_drop(self) -> bool:
        rate = self.config.drop_after_commit_rate
        return rate > 0 and self.drop_rng.random() < rate

    def jittered(self, millis: float) -> float:
        """A built-in delay (dialog, search), in seconds, jittered like the latency."""
        return 0.0 if millis <= 0 else self.delay_rng.uniform(millis / 2, millis * 1.5) / 1000


class FaultMiddleware:
    """Delays requests and answers some of them 503 before the application sees them."""

    def __init__(
        self, app: ASGIApp, faults: Faults, markup: Markup, drift: Drift | None = None
    ) -> None:
        self.app = app
        self.faults = faults
        self.markup = markup
        self.drift = drift or Drift()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        delay = self.faults.latency_seconds()
        if delay:
            await asyncio.sleep(delay)
        if self.faults.should_fail():
            await _technical_error(scope, send, self.markup, self.drift)
            return
        await self.app(scope, receive, send)


async def _technical_error(scope: Scope, send: Send, markup: Markup, drift: Drift) -> None:
    """A 503 like a real portal's overloaded back end: JSON for the API, a page otherwise
    (their texts follow the drift, see drift.py)."""
    if markup.is_api(scope["path"]):
        body = json.dumps(
            drift.json_message({"error": "technical_error", "message": markup.unavailable_message}),
            ensure_ascii=False,
        ).encode()
        content_type = b"application/json"
    else:
        body = drift.page(markup.unavailable_page).encode()
        content_type = b"text/html; charset=utf-8"
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
        (b"cache-control", b"no-store"),
    ]
    start: Message = {"type": "http.response.start", "status": 503, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
