"""A local HTTP receiver for Apprise's `json://` notifications: a tiny http.server in a
thread on a free port, recording each POSTed JSON document. (Imported by name.)
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    """What the receiver was sent: one entry per POST, its path and JSON body."""

    port: int
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)

    def url(self, path: str = "hook", credentials: str = "") -> str:
        """The Apprise URL of this receiver (`credentials` as "user:token")."""
        at = f"{credentials}@" if credentials else ""
        return f"json://{at}127.0.0.1:{self.port}/{path}"


@contextmanager
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    got = Receiver(server.server_address[1])
    server.got = got  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def down_url(path: str = "hook") -> str:
    """A json:// URL nothing listens on: a port just freed (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"json://127.0.0.1:{port}/{path}"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        got: Receiver = self.server.got  # type: ignore[attr-defined]
        got.raw.append(data)
        got.paths.append(self.path)
        got.posts.append(json.loads(data))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet
