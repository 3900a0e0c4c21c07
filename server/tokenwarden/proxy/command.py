"""The ``tokenwarden proxy`` command: options, start-up lines, run until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from tokenwarden.errors import ConfigError
from tokenwarden.proxy.body import DEFAULT_MAX_REPLAY_BYTES
from tokenwarden.proxy.limits import ProxyLimits


def add_proxy_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``tokenwarden proxy``."""
    parser.add_argument("--upstream", required=True, metavar="URL",
                        help="base URL of the API to forward to")
    parser.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT",
                        help="loopback address to listen on (default 127.0.0.1:0, any free port)")
    parser.add_argument("--secret-file", metavar="FILE",
                        help="read the local secret clients must present from FILE (mode 0600; "
                        "'-' reads stdin); default: $TOKENWARDEN_PROXY_SECRET, else the "
                        "proxy-secret file in the runtime folder, created if missing")
    parser.add_argument("--print-secret", action="store_true",
                        help="print the secret itself at start (it is otherwise never shown)")
    # Accepted only to be refused with a message: argv is readable by every local user.
    parser.add_argument("--secret", help=argparse.SUPPRESS)
    parser.add_argument("--max-replay-bytes", type=int, default=DEFAULT_MAX_REPLAY_BYTES,
                        metavar="N", help="buffer request bodies up to N bytes so they can be "
                        "replayed after a 401 (default 1 MiB)")
    defaults = ProxyLimits()
    parser.add_argument("--max-connections", type=int, default=defaults.max_connections,
                        metavar="N", help="connections served at once; more wait to be "
                        f"accepted (default {defaults.max_connections})")
    parser.add_argument("--head-timeout", type=float, default=defaults.head_timeout,
                        metavar="S", help="seconds a client has to send a request head "
                        f"(default {defaults.head_timeout:g})")
    parser.add_argument("--upstream-timeout", type=float,
                        default=defaults.upstream_head_timeout, metavar="S",
                        help="seconds the upstream has to start its answer "
                        f"(default {defaults.upstream_head_timeout:g})")


def proxy_command(args: argparse.Namespace) -> int:
    """Run the proxy from parsed options until interrupted."""
    from tokenwarden.proxy.secret import refuse_secret_argument, resolve_secret

    if args.secret is not None:
        raise refuse_secret_argument()
    secret, secret_path = resolve_secret(args.secret_file)
    limits = ProxyLimits.checked(max_connections=args.max_connections,
                                 head_timeout=args.head_timeout,
                                 upstream_head_timeout=args.upstream_timeout)
    return run_proxy(args.upstream, listen=args.listen, secret=secret, secret_path=secret_path,
                     print_secret=args.print_secret, profile=args.profile,
                     max_replay_bytes=args.max_replay_bytes, limits=limits)


def run_proxy(upstream: str, *, secret: str, listen: str = "127.0.0.1:0",
              secret_path: Path | None = None, print_secret: bool = False,
              profile: str | None = None, max_replay_bytes: int = DEFAULT_MAX_REPLAY_BYTES,
              limits: ProxyLimits | None = None) -> int:
    """Serve until SIGINT or SIGTERM; the exit code."""
    from tokenwarden.proxy.server import check_upstream, parse_listen

    host, port = parse_listen(listen)
    upstream = check_upstream(upstream)
    where = f"secret file: {secret_path}" if secret_path else "secret: as given"
    shown = [where, *([f"secret: {secret}"] if print_secret else [])]
    return asyncio.run(_serve(upstream, host, port, secret, shown, profile, max_replay_bytes,
                              limits or ProxyLimits()))


async def _serve(upstream: str, host: str, port: int, secret: str, shown: list[str],
                 profile: str | None, max_replay_bytes: int, limits: ProxyLimits) -> int:
    from tokenwarden.cli.commands import open_manager
    from tokenwarden.proxy.server import serve_proxy
    from tokenwarden.status import SessionState

    async with open_manager(background=True) as manager:
        status = manager.status(profile)
        try:
            proxy = await serve_proxy(manager, upstream, host, port, secret, profile=profile,
                                      max_replay_bytes=max_replay_bytes, limits=limits)
        except OSError as exc:  # port taken, address not ours: one line, exit 2
            reason = (os.strerror(exc.errno) if exc.errno else str(exc)).lower()
            raise ConfigError(f"cannot listen on {host}:{port}: {reason}") from None
        try:
            print(f"tokenwarden proxy listening on {proxy.url} (upstream {upstream})")
            print("\n".join(shown))
            print("clients send it as 'Authorization: Bearer <secret>' or 'x-api-key: <secret>'",
                  flush=True)
            if status.state in (SessionState.SIGNED_OUT, SessionState.EXPIRED):
                print(f"tokenwarden: {status.profile}: {status.message}; requests get 401 "
                      "until you run tokenwarden login", file=sys.stderr, flush=True)
            await _until_stopped()
        finally:
            await proxy.close()
    return 0


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
