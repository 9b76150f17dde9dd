"""`myopenip portal` (and `python -m myopenip_portal`): serve the replica until stopped."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sqlite3
import sys
from collections.abc import Callable, Sequence

import uvicorn

from myopenip_portal import seed
from myopenip_portal.app import create_app
from myopenip_portal.config import PortalConfig
from myopenip_portal.faults import DURATION, LIFETIME, RATE, ResponseDropped, out_of_range
from myopenip_portal.markup import CLASSIC, NAMES
from myopenip_portal.quirks import KNOWN, Quirks, UnknownQuirk
from myopenip_portal.testapi import test_routes


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _knob(kind: str) -> Callable[[str], float]:
    """An argparse type for a fault knob of this kind (checked like `/_test/faults`)."""

    def parse(text: str) -> float:
        value = _float(text)
        problem = out_of_range(kind, value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    return parse


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {text}")
    return value


def _whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type for a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {text}")
        return value

    return parse


def _quirks(text: str) -> tuple[str, ...]:
    """`--quirks a,b,…`: the quirks named, checked (a usage error names an unknown one)."""
    try:
        return tuple(Quirks.parse(text.split(",")).names())
    except UnknownQuirk as error:
        raise argparse.ArgumentTypeError(str(error)) from None


DESCRIPTION = "Serve the local MyOpenIP replica (a faithful, stateful copy of the portal)."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="myopenip portal", description=DESCRIPTION, allow_abbrev=False
    )
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `myopenip portal` (also used by the `myopenip` command tree)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=_port, default=8765, help="0 picks a free port")
    parser.add_argument("--db", default=None, help="SQLite file (default: in memory)")
    parser.add_argument("--seed", type=int, default=1, help="demo data and fault draws")
    parser.add_argument("--user", default="demo", help="the demo login")
    parser.add_argument("--password", default="demo", help="the demo password")
    parser.add_argument("--test-api", action="store_true", help="serve /_test/ (tests only)")
    parser.add_argument(
        "--latency-ms", type=_knob(DURATION), default=0.0, help="delay each request (jittered)"
    )
    parser.add_argument(
        "--error-rate", type=_knob(RATE), default=0.0, help="fraction of requests answered 503"
    )
    parser.add_argument(
        "--session-ttl", type=_knob(LIFETIME), default=1800.0, help="seconds a session lives"
    )
    parser.add_argument(
        "--drop-after-commit-rate",
        type=_knob(RATE),
        default=0.0,
        help="fraction of dissociations committed whose response is never delivered",
    )
    parser.add_argument(
        "--no-delays",
        action="store_true",
        help="no built-in delay of a search (150 ms) or of the dialog's preview (450 ms)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument(
        "--markup",
        choices=NAMES,
        default=CLASSIC,
        help="the front end: classic (default) or aria (other URLs and markup, same roles)",
    )
    parser.add_argument(
        "--quirks",
        type=_quirks,
        default=(),
        metavar="Q,Q…",
        help=f"behave like other real portals: {', '.join(KNOWN)} (default: none)",
    )
    parser.add_argument(
        "--licences-per-service",
        type=_whole(0, seed.BULK_MAX),
        default=0,
        metavar="N",
        help="top up the --bulk-services services to N numbered licences each (default 0: none)",
    )
    parser.add_argument(
        "--bulk-services",
        type=_whole(1, seed.BULK_SERVICES_MAX),
        default=2,
        metavar="K",
        help="with --licences-per-service: how many active MetaCentrex services of different "
        "clients to top up (default 2: SRV-10022 and SRV-10023; more are added)",
    )


def config_from(argv: Sequence[str]) -> PortalConfig:
    parser = build_parser()
    return config_of(parser.parse_args(list(argv)), parser)


def config_of(args: argparse.Namespace, parser: argparse.ArgumentParser) -> PortalConfig:
    if not args.user:
        parser.error("--user must not be empty")
    bulk = seed.bulk_problem(args.bulk_services, args.licences_per_service)
    if bulk:
        parser.error(f"--bulk-services / --licences-per-service: {bulk}")
    return PortalConfig(
        host=args.host,
        port=args.port,
        db=args.db,
        seed=args.seed,
        user=args.user,
        password=args.password,
        test_api=args.test_api,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        session_ttl=args.session_ttl,
        drop_after_commit_rate=args.drop_after_commit_rate,
        access_log=args.access_log,
        markup=args.markup,
        licences_per_service=args.licences_per_service,
        bulk_services=args.bulk_services,
        quirks=args.quirks,
        **({"dialog_delay_ms": 0.0, "search_delay_ms": 0.0} if args.no_delays else {}),
    )


class _HideDroppedResponses(logging.Filter):
    """A dropped response is a wanted fault, not a crash: keep its traceback out of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ResponseDropped))


def main(argv: Sequence[str]) -> int:
    """`python -m myopenip_portal ARGS`."""
    parser = build_parser()
    return run(parser.parse_args(list(argv)), parser)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Serve until stopped, once the arguments are parsed; returns the exit code."""
    config = config_of(args, parser)
    try:
        sock = _bind(config.host, config.port)
    except OSError as error:
        print(
            f"myopenip portal: cannot listen on {config.host}:{config.port}: {error}",
            file=sys.stderr,
        )
        return 1
    try:
        app = create_app(config)
    except sqlite3.Error as error:
        sock.close()
        print(f"myopenip portal: cannot open the database {config.db}: {error}", file=sys.stderr)
        return 1
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="info" if config.access_log else "warning",
            access_log=config.access_log,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
    )
    logging.getLogger("uvicorn.error").addFilter(_HideDroppedResponses())
    # uvicorn handles SIGINT/SIGTERM while serving, then re-raises the signal once it has
    # shut down; these handlers turn that re-raise into a normal exit with status 0.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stopped)
    try:
        asyncio.run(_serve(server, sock, config))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


def _stopped(signum: int, frame: object) -> None:
    """The server has already stopped when this runs: nothing left to do."""


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


async def _serve(server: uvicorn.Server, sock: socket.socket, config: PortalConfig) -> None:
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task  # it failed to start: let its exception through
            return
        await asyncio.sleep(0.02)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"MyOpenIP replica listening on http://{shown}:{port}", flush=True)
    print(f"Identifiant : {config.user}  Mot de passe : {config.password}", flush=True)
    if config.test_api:
        routes = ", ".join("/_test" + route.path for route in test_routes())
        print(f"Test API: {routes} (docs/replica.md)", flush=True)
    await task
