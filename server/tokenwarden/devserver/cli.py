"""Command line of the dev server: ``run_devserver(argv)`` backs ``tokenwarden devserver``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from tokenwarden.cli.helpformat import HelpFirstParser
from tokenwarden.config import is_loopback

from .config import DEFAULT_HOST, DEFAULT_USER, DevServerConfig, parse_client_spec
from .server import DevServer

log = logging.getLogger("tokenwarden.devserver")

LISTENING_LINE = "tokenwarden devserver listening on {issuer}"


def build_parser() -> argparse.ArgumentParser:
    """The ``devserver`` argument parser."""
    parser = HelpFirstParser(
        prog="tokenwarden devserver",
        summary="Run the development OAuth authorization server on 127.0.0.1.",
        description="Device grant, rotating refresh tokens, revocation, fault injection, "
        "provider quirks. Prints one line, 'tokenwarden devserver listening on ISSUER'. "
        "Not for production use.",
    )
    add = parser.add_argument
    add("--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)")
    add("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    add("--allow-remote", action="store_true", help="allow binding a non-loopback --host")
    add("--access-token-ttl", type=float, default=3600.0, metavar="SECONDS",
        help="lifetime of access tokens (default %(default)s)")
    add(
        "--refresh-token-ttl",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="0 (default): refresh tokens never expire",
    )
    add(
        "--absolute-refresh-expiry",
        action="store_true",
        help="rotated refresh tokens keep the grant's first expiry (session ends on time)",
    )
    add("--device-code-ttl", type=float, default=600.0, metavar="SECONDS",
        help="how long a device code can be approved (default %(default)s)")
    add(
        "--interval",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="device grant polling interval (default %(default)s)",
    )
    add("--user", default=DEFAULT_USER, help="who approves device codes (default %(default)s)")
    add("--auto-approve", action="store_true",
        help="approve device codes on their first poll and browser sign-ins at once")
    add("--no-device-grant", action="store_true",
        help="turn the device grant off (refused with unauthorized_client), as some "
        "organisations do: clients must sign in through the browser")
    add(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="register a confidential client (repeatable); other client ids are public",
    )
    add(
        "--no-reuse-detection",
        action="store_true",
        help="a rotated refresh token is merely invalid instead of revoking its grant",
    )
    add(
        "--revoke-on-rotate",
        action="store_true",
        help="a refresh also revokes the previous access token (some providers do)",
    )
    add(
        "--split-discovery",
        action="store_true",
        help="list the device authorization and revocation endpoints only in the RFC 8414 "
        "document, not in the OpenID one",
    )
    add(
        "--quirks",
        default=None,
        metavar="PROVIDER",
        help="answer on the wire like PROVIDER: github, github-oauth-app, google, entra, "
        "auth0, okta or keycloak (default: standard OAuth)",
    )
    add("--quiet", action="store_true", help="no per-request log lines on stderr")
    return parser


def config_from_args(args: argparse.Namespace) -> DevServerConfig:
    """Turn parsed arguments into a config (``ValueError`` when they do not fit)."""
    return DevServerConfig(
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        access_token_ttl=args.access_token_ttl,
        refresh_token_ttl=args.refresh_token_ttl,
        absolute_refresh_expiry=args.absolute_refresh_expiry,
        device_code_ttl=args.device_code_ttl,
        interval=args.interval,
        user=args.user,
        auto_approve=args.auto_approve,
        clients=dict(parse_client_spec(spec) for spec in args.client),
        reuse_detection=not args.no_reuse_detection,
        quirks=args.quirks,
        split_discovery=args.split_discovery,
        revoke_on_rotate=args.revoke_on_rotate,
        device_grant=not args.no_device_grant,
    )


def run_devserver(argv: list[str]) -> int:
    """Run the dev server until SIGINT or SIGTERM; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error already printed
        return exit_.code if isinstance(exit_.code, int) else 2
    if not args.allow_remote and not is_loopback(args.host):
        print(f"tokenwarden devserver: refusing to bind non-loopback host {args.host!r}: "
              "plain HTTP on the network; add --allow-remote to do it on purpose",
              file=sys.stderr)
        return 2
    try:
        config = config_from_args(args)
    except ValueError as error:
        print(f"tokenwarden devserver: {error}", file=sys.stderr)
        return 2
    server = DevServer(config)
    with _stderr_logging(quiet=args.quiet):
        try:
            server.start()
        except OSError as error:
            print(f"tokenwarden devserver: cannot listen: {error}", file=sys.stderr)
            return 1
        try:
            _announce(server)
            _wait_for_stop_signal()
        finally:
            server.stop()
            log.info("stopped")
    return 0


def _announce(server: DevServer) -> None:
    # Exactly one line on stdout, flushed at once: harnesses parse the port from it.
    print(LISTENING_LINE.format(issuer=server.issuer), flush=True)
    config = server.config
    log.info(
        "user=%s access_token_ttl=%gs refresh_token_ttl=%s interval=%gs auto_approve=%s "
        "reuse_detection=%s confidential_clients=%s quirks=%s",
        config.user,
        config.access_token_ttl,
        f"{config.refresh_token_ttl:g}s" if config.refresh_token_ttl else "never",
        config.interval,
        config.auto_approve,
        config.reuse_detection,
        ",".join(sorted(config.clients)) or "-",  # ids only, never secrets
        config.quirks or "none",
    )
    log.info("development server: the /_admin API is unauthenticated; do not expose it")


def _wait_for_stop_signal() -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Signal handlers can only be set on the main thread, which is where a CLI runs.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _stderr_logging(*, quiet: bool) -> Iterator[None]:
    """Send the dev server's log to stderr for the duration of a CLI run."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    previous_level, previous_propagate = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous_level)
        log.propagate = previous_propagate
