"""``tokenwarden exec -- CMD``: run a command with a fresh access token in its environment.

For a short command the token goes straight into an environment variable. A
long-running command outlives short tokens, so ``--proxy-env NAME --upstream URL``
starts a loopback proxy for the command's lifetime instead: NAME holds the
proxy's URL and the token variable holds the proxy's local secret, which the
proxy swaps for a current token on every request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

DEFAULT_ENV = "TOKENWARDEN_ACCESS_TOKEN"
EXIT_USAGE = 2
EXIT_CANNOT_RUN = 126
EXIT_NOT_FOUND = 127


def add_exec_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``tokenwarden exec``."""
    parser.add_argument("--env", default=DEFAULT_ENV, metavar="NAME",
                        help=f"environment variable for the token (default {DEFAULT_ENV})")
    parser.add_argument("--proxy-env", metavar="NAME",
                        help="run a proxy for the command's lifetime and put its URL in NAME "
                        "(the token variable then holds the proxy's secret); needs --upstream")
    parser.add_argument("--upstream", metavar="URL", help="API base URL for --proxy-env")
    parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ...",
                        help="the command to run")


def exec_command(args: argparse.Namespace) -> int:
    """Run ``tokenwarden exec`` from parsed options."""
    return run_exec(list(args.argv), args.profile, args.env,
                    proxy_env=args.proxy_env, upstream=args.upstream)


def run_exec(argv: Sequence[str], profile: str | None = None, env_name: str = DEFAULT_ENV,
             *, proxy_env: str | None = None, upstream: str | None = None) -> int:
    """Run ``argv`` with a token (or a proxy) in its environment; its exit code."""
    argv = list(argv[1:] if argv[:1] == ["--"] else argv)
    if not argv:
        return _usage("exec needs a command: tokenwarden exec -- CMD [ARGS...]")
    if not env_name or "=" in env_name:
        return _usage(f"--env must name an environment variable, not {env_name!r}")
    if (proxy_env is None) != (upstream is None):
        return _usage("--proxy-env and --upstream go together")
    # SignInRequired and TemporarilyUnavailable reach cli.main.run, which turns them
    # into exit 3 / 4 and one line naming what to do, as for every command.
    if proxy_env is not None and upstream is not None:
        return asyncio.run(_run_with_proxy(argv, profile, env_name, proxy_env, upstream))
    token = asyncio.run(_fresh_token(profile))
    return _replace_process(argv, {**os.environ, env_name: token})


async def _fresh_token(profile: str | None) -> str:
    from tokenwarden.cli.commands import open_manager

    async with open_manager() as manager:
        return (await manager.get_token(profile)).access_token


def _replace_process(argv: list[str], env: dict[str, str]) -> int:
    """Become the command (POSIX), so signals and the exit code need no relaying."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        if os.name == "posix":
            os.execvpe(argv[0], argv, env)  # noqa: S606 - argv as given, no shell
        import subprocess

        return _exit_code(subprocess.call(argv, env=env))
    except FileNotFoundError:
        return _fail(f"command not found: {argv[0]}", EXIT_NOT_FOUND)
    except PermissionError:
        return _fail(f"command cannot be run: {argv[0]}", EXIT_CANNOT_RUN)


async def _run_with_proxy(argv: list[str], profile: str | None, env_name: str,
                          proxy_env: str, upstream: str) -> int:
    from tokenwarden.cli.commands import open_manager
    from tokenwarden.proxy import serve_proxy

    async with open_manager(background=True) as manager:
        await manager.get_token(profile)  # not signed in: fail now, not on the first request
        proxy = await serve_proxy(manager, upstream, profile=profile)
        env = {**os.environ, proxy_env: proxy.url, env_name: proxy.secret}
        try:
            return await _run_child(argv, env)
        finally:
            await proxy.close()


async def _run_child(argv: list[str], env: dict[str, str]) -> int:
    try:
        child = await asyncio.create_subprocess_exec(*argv, env=env)
    except FileNotFoundError:
        return _fail(f"command not found: {argv[0]}", EXIT_NOT_FOUND)
    except PermissionError:
        return _fail(f"command cannot be run: {argv[0]}", EXIT_CANNOT_RUN)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        # Ctrl-C reaches the child through the terminal; we keep serving until it exits.
        loop.add_signal_handler(signal.SIGINT, lambda: None)
        loop.add_signal_handler(signal.SIGTERM, child.terminate)
    return _exit_code(await child.wait())


def _exit_code(returncode: int) -> int:
    """A child killed by signal N exits 128+N, as shells report it."""
    return 128 - returncode if returncode < 0 else returncode


def _usage(message: str) -> int:
    return _fail(message, EXIT_USAGE)


def _fail(message: str, code: int, hint: str | None = None) -> int:
    print(f"tokenwarden: {message}" + (f" ({hint})" if hint else ""), file=sys.stderr)
    return code
