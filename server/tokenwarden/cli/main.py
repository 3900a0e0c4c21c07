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
from typing import Any

from tokenwarden import __version__
from tokenwarden.cli.helpformat import HelpFirstParser
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

#: Commands that keep running: their stderr is a log, so warnings stay on it.
LONG_RUNNING = frozenset({"serve", "proxy", "devserver"})

#: A logging level above CRITICAL: nothing reaches stderr.
SILENT = logging.CRITICAL + 10

Handler = Callable[[argparse.Namespace], int]


def _profile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", "-p", help="profile name (default: default_profile, "
                        "$TOKENWARDEN_PROFILE or 'default')")


def _command(
    commands: argparse._SubParsersAction[HelpFirstParser], name: str, summary: str,
    description: str | None = None, **kwargs: Any,
) -> HelpFirstParser:
    """A subcommand: ``summary`` in the command list, then first in its own ``--help``."""
    return commands.add_parser(name, help=summary, summary=summary[0].upper() + summary[1:] + ".",
                               description=description, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from tokenwarden.execcmd import add_exec_arguments
    from tokenwarden.integrations.formats import FORMATS
    from tokenwarden.integrations.gitcredential import add_git_credential_arguments
    from tokenwarden.integrations.setup import add_setup_arguments
    from tokenwarden.proxy.command import add_proxy_arguments

    parser = HelpFirstParser(
        prog="tokenwarden",
        summary="Keeps OAuth sessions of developer tools alive.",
        description="Run tokenwarden COMMAND --help for what a command does and its options.",
    )
    parser.add_argument("--version", action="version", version=f"tokenwarden {__version__}")
    parser.add_argument("--verbose", "-v", action="count", default=0,
                        help="log lifecycle events to stderr (twice: debug)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    token = _command(commands, "token", "print a valid access token (renews if needed)",
                     "Exit 3 when a sign-in is needed, 4 when renewal is failing for now.")
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

    login = _command(commands, "login", "sign in with a device code",
                     "Prints the page and the code to enter, waits for your approval and "
                     "exits 0 once signed in, 3 when the sign-in was denied, expired or "
                     "refused.")
    _profile_option(login)
    login.add_argument("--no-browser", action="store_true", help="do not open a browser")
    login.add_argument("--flow", choices=("auto", "browser", "device"),
                       help="browser sign-in or device code (default: the profile's flow, "
                       "'auto': the browser on a desktop, a device code over SSH)")
    login.add_argument("--force", action="store_true", help="sign in again even if signed in")

    logout = _command(commands, "logout", "sign out and revoke the refresh token")
    _profile_option(logout)
    logout.add_argument("--no-revoke", action="store_true",
                        help="only forget the tokens locally")

    status = _command(commands, "status", "show the session state",
                      "Reads the store only; never talks to the provider.")
    _profile_option(status)
    status.add_argument("--json", action="store_true", help="print the status object")

    refresh = _command(commands, "refresh", "renew the access token now",
                       "One line: the new state on stdout, or why renewal failed on stderr "
                       "(exit 4; 3 when the provider ended the session).")
    _profile_option(refresh)

    doctor = _command(commands, "doctor", "check config, provider, clock, store, editors",
                      "Each finding comes with a fix; exit 1 when any check fails.")
    _profile_option(doctor)
    doctor.add_argument("--json", action="store_true", help="print findings as JSON")

    events = _command(commands, "events", "show the auth event log",
                      "Sign-ins, renewals, rejections and sign-outs, with request ids and "
                      "never a secret.")
    _profile_option(events)
    events.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    events.add_argument("--json", action="store_true", help="print JSON lines")

    exec_ = _command(commands, "exec", "run a command with a fresh token in its environment",
                     "Usage: tokenwarden exec -- CMD [ARGS...]")
    _profile_option(exec_)
    add_exec_arguments(exec_)

    proxy = _command(commands, "proxy", "run a loopback reverse proxy that adds the current "
                     "token and renews on 401")
    _profile_option(proxy)
    add_proxy_arguments(proxy)

    git_credential = _command(
        commands, "git-credential", "answer git's credential-helper requests with the token",
        "git runs it: tokenwarden setup git --url URL configures it; see "
        "docs/integrations.md.")
    _profile_option(git_credential)
    add_git_credential_arguments(git_credential)

    setup = _command(commands, "setup", "configure claude-code, git or kubectl to use "
                     "tokenwarden", "Changes only the entry it owns; --print shows the change, "
                     "--undo removes it. See docs/integrations.md.")
    _profile_option(setup)
    add_setup_arguments(setup)

    store = _command(commands, "store", "move a signed-in profile's tokens between stores",
                     "tokenwarden store migrate --to keyring|file: the keyring (Secret "
                     "Service, Keychain, Credential Manager) or the 0600 store file; no new "
                     "sign-in. See docs/store.md.")
    store_actions = store.add_subparsers(dest="action", metavar="ACTION", required=True)
    migrate = store_actions.add_parser("migrate", help="move the tokens to another store")
    _profile_option(migrate)
    migrate.add_argument("--to", required=True, choices=("keyring", "file"),
                         help="where the access and refresh token go")

    serve = _command(commands, "serve", "run the language server on stdio",
                     "Editors start this; see docs/editors.md.")
    serve.add_argument("--stdio", action="store_true", help="accepted for editor configs")

    devserver = _command(commands, "devserver",
                         "run the development OAuth authorization server on 127.0.0.1",
                         "Options: tokenwarden devserver --help.", add_help=False)
    devserver.add_argument("args", nargs=argparse.REMAINDER,
                           help="options of the dev server (see tokenwarden devserver --help)")

    demo = _command(commands, "demo", "sign in to a bundled dev server and watch renewals",
                    "Everything lives in a temporary folder; your own config and tokens are "
                    "never touched.")
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
        "store": commands.store,
        "doctor": commands.doctor,
        "events": commands.events,
        "devserver": commands.devserver,
        "demo": commands.demo,
    }


def configure_logging(verbosity: int, *, warnings_by_default: bool = False) -> None:
    """Log to stderr at a level chosen by -v or $TOKENWARDEN_LOG.

    A command prints its outcome in one line of its own and the event log keeps
    the history, so without -v nothing is logged to stderr at all (``serve``, whose
    stderr is the editor's log, keeps warnings).
    """
    level_name = os.environ.get("TOKENWARDEN_LOG", "").upper()
    level = getattr(logging, level_name, None) if level_name else None
    if not isinstance(level, int):
        quiet = logging.WARNING if warnings_by_default else SILENT
        level = {0: quiet, 1: logging.INFO}.get(verbosity, logging.DEBUG)
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

        configure_logging(0, warnings_by_default=True)
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
    configure_logging(args.verbose, warnings_by_default=args.command in LONG_RUNNING)
    return run(_handlers()[args.command], args)


def run(handler: Handler, args: argparse.Namespace) -> int:
    """Call a handler, turning every failure into one line on stderr and an exit code."""
    try:
        return handler(args)
    except SignInRequired as exc:
        return fail(exc, EXIT_SIGN_IN, hint=_sign_in_hint(exc))
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


def _sign_in_hint(exc: SignInRequired) -> str | None:
    if "tokenwarden login" in exc.message:
        return None  # the message names the command already
    from tokenwarden.status import login_command

    return f"run: {login_command(exc.profile)}"


def fail(exc: TokenwardenError, code: int, hint: str | None = None) -> int:
    """Print one actionable line for ``exc``; return ``code``."""
    line = f"tokenwarden: {exc.message}"
    if hint:
        line += f" ({hint})"
    print(line, file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
