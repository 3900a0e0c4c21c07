"""The ``tokenwarden proxy`` command: options, start-up lines, run until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

from tokenwarden.errors import ConfigError
from tokenwarden.proxy.body import DEFAULT_MAX_REPLAY_BYTES


def add_proxy_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``tokenwarden proxy``."""
    parser.add_argument("--upstream", required=True, metavar="URL",
                        help="base URL of the API to forward to")
    parser.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT",
                        help="loopback address to listen on (default 127.0.0.1:0, any free port)")
    parser.add_argument("--secret", metavar="S",
                        help="local secret clients must present (default: generated and printed)")
    parser.add_argument("--max-replay-bytes", type=int, default=DEFAULT_MAX_REPLAY_BYTES,
                        metavar="N", help="buffer request bodies up to N bytes so they can be "
                        "replayed after a 401 (default 1 MiB)")


def proxy_command(args: argparse.Namespace) -> int:
    """Run the proxy from parsed options until interrupted."""
    return run_proxy(args.upstream, listen=args.listen, secret=args.secret,
                     profile=args.profile, max_replay_bytes=args.max_replay_bytes)


def run_proxy(upstream: str, *, listen: str = "127.0.0.1:0", secret: str | None = None,
              profile: str | None = None,
              max_replay_bytes: int = DEFAULT_MAX_REPLAY_BYTES) -> int:
    """Serve until SIGINT or SIGTERM; the exit code."""
    from tokenwarden.proxy.server import check_upstream, parse_listen

    host, port = parse_listen(listen)
    upstream = check_upstream(upstream)
    return asyncio.run(_serve(upstream, host, port, secret, profile, max_replay_bytes))


async def _serve(upstream: str, host: str, port: int, secret: str | None,
                 profile: str | None, max_replay_bytes: int) -> int:
    from tokenwarden.cli.commands import open_manager
    from tokenwarden.proxy.server import serve_proxy
    from tokenwarden.status import SessionState

    async with open_manager(background=True) as manager:
        status = manager.status(profile)
        try:
            proxy = await serve_proxy(manager, upstream, host, port, secret, profile=profile,
                                      max_replay_bytes=max_replay_bytes)
        except OSError as exc:  # port taken, address not ours: one line, exit 2
            reason = (os.strerror(exc.errno) if exc.errno else str(exc)).lower()
            raise ConfigError(f"cannot listen on {host}:{port}: {reason}") from None
        try:
            print(f"tokenwarden proxy listening on {proxy.url} (upstream {upstream})")
            if secret:
                print("secret: the value given with --secret")
            else:
                print(f"secret: {proxy.secret}")
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
