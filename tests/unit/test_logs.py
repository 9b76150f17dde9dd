"""Log events never carry a secret: secret-named keys and known secret values are masked."""

from __future__ import annotations

import io
import json

import structlog

from myopenip_bot.config.logs import configure_logging, scrubber
from myopenip_bot.config.settings import LogFormat


def test_json_log_lines_mask_passwords_and_cookies() -> None:
    stream = io.StringIO()
    configure_logging(LogFormat.JSON, "info", stream=stream)
    scrubber.add("Sup3r-Secret-Value")
    # Not the replica's "demo": a session run earlier in this process registered its
    # password, "demo", as a secret to mask.
    structlog.get_logger("t").info(
        "login", username="agent-7", password="x", note="typed Sup3r-Secret-Value", cookie="abc"
    )
    event = json.loads(stream.getvalue())
    assert event["username"] == "agent-7"
    assert event["password"] == "[redacted]"
    assert event["cookie"] == "[redacted]"
    assert "Sup3r-Secret-Value" not in stream.getvalue()


def test_debug_events_are_filtered_at_info_level() -> None:
    stream = io.StringIO()
    configure_logging(LogFormat.JSON, "info", stream=stream)
    structlog.get_logger("t").debug("noise")
    assert stream.getvalue() == ""
