"""Fault injection: latency, technical errors and responses lost after a commit; the next
dissociation submissions answered 503 before they reach the application; and the built-in
delays of a search and of the dialog's preview.

All draw from random streams seeded by `--seed` (one stream each, so turning one knob
does not shift another's draws), and `POST /_test/reset` re-seeds them. Every knob starts
at its command-line value and may be turned at run time (`/_test/faults`), so that tests
reuse one replica process; `POST /_test/reset` restores the start-up values.
`/_test/` and `/static/` are never delayed nor failed: the test API must stay reliable,
and in real life the portal's assets come from a CDN, not from the application.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from myopenip_portal.config import PortalConfig
from myopenip_portal.drift import Drift
from myopenip_portal.markup import Markup

EXEMPT_PREFIXES = ("/_test/", "/static/")


# What each knob's value may be: a fraction, a duration (ms) or a lifetime (s).
RATE, DURATION, LIFETIME = "rate", "duration", "lifetime"


def out_of_range(kind: str, value: float) -> str | None:
    """Why `value` cannot be a knob of this kind, or None: the command line's flags and
    `/_test/faults` refuse the same values with the same words."""
    if not math.isfinite(value):
        return f"must be a finite number, got {value}"
    if kind == RATE and not 0.0 <= value <= 1.0:
        return f"must be between 0 and 1, got {value:g}"
    if kind == DURATION and value < 0:
        return f"must be zero or more, got {value:g}"
    if kind == LIFETIME and value <= 0:
        return "must be more than zero"
    return None


class ResponseDropped(Exception):
    """Raised after a committed dissociation to make the server drop the connection."""


@dataclass
class FaultSettings:
    """The knobs in force, named like PortalConfig's fields (and `/_test/faults`' keys),
    each with the kind of value it takes."""

    # every request waits around this long
    latency_ms: float = field(metadata={"kind": DURATION})
    # the fraction of requests answered 503
    error_rate: float = field(metadata={"kind": RATE})
    # the fraction of committed dissociations whose answer is lost
    drop_after_commit_rate: float = field(metadata={"kind": RATE})
    # seconds a session lives after its login
    session_ttl: float = field(metadata={"kind": LIFETIME})
    # the dialog's preview takes around this long
    dialog_delay_ms: float = field(metadata={"kind": DURATION})
    # a licence search takes around this long
    search_delay_ms: float = field(metadata={"kind": DURATION})

    @classmethod
    def of(cls, config: PortalConfig) -> FaultSettings:
        """The start-up values, from the command line."""
        return cls(**{name: getattr(config, name) for name in KNOBS})


# Each knob's name and kind of value.
KNOBS: dict[str, str] = {knob.name: knob.metadata["kind"] for knob in fields(FaultSettings)}


@dataclass
class Faults:
    """The fault knobs in force and their random streams."""

    config: PortalConfig
    settings: FaultSettings = field(init=False)
    latency_rng: random.Random = field(init=False)
    error_rng: random.Random = field(init=False)
    drop_rng: random.Random = field(init=False)
    delay_rng: random.Random = field(init=False)

    # The next « Valider » POSTs answered 503 before the application sees them
    # (POST /_test/fail-submissions): a click whose answer is lost, and nothing done.
    failing_submissions: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.restore()
        self.reseed(self.config.seed)

    def restore(self) -> None:
        """Back to the command line's values (no submission set to fail)."""
        self.settings = FaultSettings.of(self.config)
        self.failing_submissions = 0

    def take_failing_submission(self) -> bool:
        """Whether this dissociation submission is to be answered 503 (one of them used)."""
        if self.failing_submissions <= 0:
            return False
        self.failing_submissions -= 1
        return True

    def update(self, values: Mapping[str, float]) -> None:
        """Turn these knobs (names of KNOBS, values checked by `out_of_range`)."""
        for name, value in values.items():
            if name not in KNOBS or out_of_range(KNOBS[name], value):
                raise ValueError(f"bad fault setting {name}={value!r}")
        for name, value in values.items():
            setattr(self.settings, name, float(value))

    def reseed(self, seed: int) -> None:
        self.latency_rng = random.Random(f"latency-{seed}")
        self.error_rng = random.Random(f"error-{seed}")
        self.drop_rng = random.Random(f"drop-{seed}")
        self.delay_rng = random.Random(f"delay-{seed}")

    def latency_seconds(self) -> float:
        """Around latency_ms: uniform between half and one and a half times it."""
        base = self.settings.latency_ms
        return 0.0 if base <= 0 else self.latency_rng.uniform(base / 2, base * 1.5) / 1000

    def should_fail(self) -> bool:
        rate = self.settings.error_rate
        return rate > 0 and self.error_rng.random() < rate

    def should_drop(self) -> bool:
        rate = self.settings.drop_after_commit_rate
        return rate > 0 and self.drop_rng.random() < rate

    def search_delay(self) -> float:
        """How long this licence search takes, in seconds (jittered like the latency)."""
        return self._jittered(self.settings.search_delay_ms)

    def dialog_delay(self) -> float:
        """How long this preview of the dialog takes, in seconds (jittered likewise)."""
        return self._jittered(self.settings.dialog_delay_ms)

    def _jittered(self, millis: float) -> float:
        return 0.0 if millis <= 0 else self.delay_rng.uniform(millis / 2, millis * 1.5) / 1000


class FaultMiddleware:
    """Delays requests and answers some of them 503 before the application sees them:
    at `error_rate`, and every dissociation submission while `failing_submissions` lasts."""

    def __init__(
        self, app: ASGIApp, faults: Faults, markup: Markup, drift: Drift | None = None
    ) -> None:
        self.app = app
        self.faults = faults
        self.markup = markup
        self.drift = drift or Drift()
        before, _, after = markup.api_dissociate.partition("{ref}")
        self.submission_path = re.compile(f"{re.escape(before)}[^/]+{re.escape(after)}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        delay = self.faults.latency_seconds()
        if delay:
            await asyncio.sleep(delay)
        if (
            scope["method"] == "POST"
            and self.submission_path.fullmatch(scope["path"])
            and self.faults.take_failing_submission()
        ) or self.faults.should_fail():
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
