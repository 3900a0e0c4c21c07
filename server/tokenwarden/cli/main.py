"""The ``tokenwarden`` command: argument parsing, dispatch and error reporting.

Every command exits with a documented code and never prints a stack trace:
0 ok, 1 unexpected failure, 2 bad usage or configuration, 3 sign-in required,
4 temporarily unavailable, 130 interrupted. Heavy modules are imported per command
so that ``tokenwarden token`` with a fresh token stays fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from tokenwarden import __version__
from tokenwarden.errors import (
    ConfigError,
    SignInRequired,
    StoreError,
    TemporarilyUnavailable,
    TokenwardenError,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_SIGN_IN = 3
EXIT_UNAVAILABLE = 4
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace], int]


def _profile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", "-p", help="profile name (default: default_profile, "
                        "$TOKENWARDEN_PROFILE or 'default')")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from tokenwarden.execcmd import add_exec_arguments
    from tokenwarden.integrations.formats import FORMATS
    from tokenwarden.integrations.gitcredential import add_git_credential_arguments
    from tokenwarden.integrations.setup import add_setup_arguments
    from tokenwarden.proxy.command import add_proxy_arguments

    parser = argparse.ArgumentParser(
        prog="tokenwarden",
        description="Keeps OAuth sessions of developer tools alive.",
    )
    parser.add_argument("--version", action="version", version=f"tokenwarden {__version__}")
    parser.add_argument("--verbose", "-v", action="count", default=0,
                        help="log lifecycle events to stderr (twice: debug)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    token = commands.add_parser("token", help="print a valid access token (renews if needed)")
    _profile_option(token)
    token.add_argument("--min-validity", type=float, default=60.0, metavar="S",
                       help="the token must stay valid this many seconds (default 60)")
    token.add_argument("--json", action="store_true", help="print JSON with expiry and scopes")
    token.add_argument("--format", choices=FORMATS, default=None,
                       help="token (default), json, header-json (an MCP headersHelper) or "
                       "exec-credential (a kubectl exec plugin)")
    token.add_argument("--wait", action="store_true",
                       help="if sign-in is required, ask a running editor to prompt for it "
                       "and wait until it completes")
    token.add_argument("--timeout", type=float, default=300.0, metavar="S",
                       help="how long --wait waits (default 300)")

    login = commands.add_parser("login", help="sign in with a device code")
    _profile_option(login)
    login.add_argument("--no-browser", action="store_true", help="do not open a browser")
    login.add_argument("--force", action="store_true", help="sign in again even if signed in")

    logout = commands.add_parser("logout", help="sign out and revoke the refresh token")
    _profile_option(logout)
    logout.add_argument("--no-revoke", action="store_true",
                        help="only forget the tokens locally")

    status = commands.add_parser("status", help="show the session state")
    _profile_option(status)
    status.add_argument("--json", action="store_true", help="print the status object")

    refresh = commands.add_parser("refresh", help="renew the access token now")
    _profile_option(refresh)

    doctor = commands.add_parser("doctor", help="check config, provider, clock, store, editors")
    _profile_option(doctor)
    doctor.add_argument("--json", action="store_true", help="print findings as JSON")

    events = commands.add_parser("events", help="show the auth event log")
    _profile_option(events)
    events.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    events.add_argument("--json", action="store_true", help="print JSON lines")

    exec_ = commands.add_parser("exec", help="run a command with a fresh token in its "
                                "environment: tokenwarden exec -- CMD [ARGS...]")
    _profile_option(exec_)
    add_exec_arguments(exec_)

    proxy = commands.add_parser("proxy", help="loopback reverse proxy that adds the current "
                                "token and renews on 401")
    _profile_option(proxy)
    add_proxy_arguments(proxy)

    git_credential = commands.add_parser(
        "git-credential", help="git credential helper: tokenwarden git-credential get|store|erase")
    _profile_option(git_credential)
    add_git_credential_arguments(git_credential)

    setup = commands.add_parser("setup", help="configure claude-code, git or kubectl to use "
                                "tokenwarden")
    _profile_option(setup)
    add_setup_arguments(setup)

    serve = commands.add_parser("serve", help="run the language server on stdio")
    serve.add_argument("--stdio", action="store_true", help="accepted for editor configs")

    devserver = commands.add_parser(
        "devserver", help="run the development authorization server", add_help=False
    )
    devserver.add_argument("args", nargs=argparse.REMAINDER)

    demo = commands.add_parser("demo", help="sign in to a bundled dev server and watch renewals")
    demo.add_argument("--interactive", action="store_true",
                      help="approve the sign-in yourself in a browser")
    demo.add_argument("--renewals", type=int, default=3, help="renewals to show (default 3)")
    demo.add_argument("--lifetime", type=float, default=4.0,
                      help="access-token lifetime in seconds (default 4)")
    return parser


def _handlers() -> dict[str, Handler]:
    from tokenwarden.cli import commands
    from tokenwarden.cli.serve import serve

    return {
        "token": commands.token,
        "login": commands.login,
        "logout": commands.logout,
        "status": commands.status,
        "refresh": commands.refresh,
        "exec": commands.exec_,
        "proxy": commands.proxy,
        "git-credential": commands.git_credential,
        "setup": commands.setup,
        "serve": serve,
        "doctor": commands.doctor,
        "events": commands.events,
        "devserver": commands.devserver,
        "demo": commands.demo,
    }


def configure_logging(verbosity: int) -> None:
    """Log to stderr at a level chosen by -v or $TOKENWARDEN_LOG."""
    level_name = os.environ.get("TOKENWARDEN_LOG", "").upper()
    level = getattr(logging, level_name, None) if level_name else None
    if not isinstance(level, int):
        level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="tokenwarden: %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx2", "httpcore2", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["token"] and not any(a.startswith("-v") for a in args_list):
        from tokenwarden.cli.fastpath import try_fast_token

        fast = try_fast_token(args_list[1:])
        if fast is not None:
            return fast
    if args_list[:1] == ["git-credential"]:
        from tokenwarden.integrations.gitcredential import try_fast_get

        fast = try_fast_get(args_list[1:])
        if fast is not None:
            return fast
    if args_list[:1] == ["serve"] and set(args_list[1:]) <= {"--stdio"}:
        # Every editor window starts a server: skip building the whole CLI (~25 ms).
        from tokenwarden.cli.serve import serve

        configure_logging(0)
        return run(serve, argparse.Namespace(command="serve", verbose=0, stdio=True))
    if args_list[:1] == ["devserver"]:
        # The dev server parses its own options (argparse's REMAINDER drops "--port").
        from tokenwarden.devserver.cli import run_devserver

        return run_devserver(args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    configure_logging(args.verbose)
    return run(_handlers()[args.command], args)


def run(handler: Handler, args: argparse.Namespace) -> int:
    """Call a handler, turning every failure into one line on stderr and an exit code."""
    try:
        return handler(args)
    except SignInRequired as exc:
        return fail(exc, EXIT_SIGN_IN, hint=_sign_in_hint(exc.profile))
    except TemporarilyUnavailable as exc:
        return fail(exc, EXIT_UNAVAILABLE, hint=f"retry in {exc.retry_after:.0f} s")
    except (ConfigError, StoreError) as exc:
        return fail(exc, EXIT_USAGE)
    except TokenwardenError as exc:
        return fail(exc, EXIT_UNAVAILABLE if exc.retryable else EXIT_FAILURE)
    except KeyboardInterrupt:
        print("tokenwarden: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        logging.getLogger(__name__).debug("unexpected failure", exc_info=True)
        print(f"tokenwarden: unexpected {type(exc).__name__}: {exc} "
              "(run with -vv for details, and please report it)", file=sys.stderr)
        return EXIT_FAILURE


def _sign_in_hint(profile: str) -> str:
    flag = "" if profile == "default" else f" --profile {profile}"
    return f"run: tokenwarden login{flag}"


def fail(exc: TokenwardenError, code: int, hint: str | None = None) -> int:
    """Print one actionable line for ``exc``; return ``code``."""
    line = f"tokenwarden: {exc.message}"
    if hint:
        line += f" ({hint})"
    print(line, file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
