"""What each subcommand does; every one goes through the session manager."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import webbrowser
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from tokenwarden.config import load_config
from tokenwarden.errors import SignInRequired, StoreError
from tokenwarden.paths import locations
from tokenwarden.secretstore import placement_for
from tokenwarden.session import IssuedToken, SessionManager
from tokenwarden.status import TERMINAL, LoginInfo, SessionState, Status, humanize, login_command
from tokenwarden.store import TokenStore
from tokenwarden.untrusted import browsable_uri

T = TypeVar("T")


@contextlib.asynccontextmanager
async def open_manager(*, background: bool = False) -> AsyncIterator[SessionManager]:
    """A session manager over the user's config and store, closed afterwards."""
    where = locations()
    config = load_config(where)
    store = TokenStore(where.store_dir, placement_for(config, notice=_notice))
    manager = SessionManager(config, store, background=background, wording=TERMINAL)
    try:
        yield manager
    finally:
        await manager.close()


def _notice(line: str) -> None:
    """A one-line notice; on a terminal it first clears a progress line being updated."""
    prefix = "\r\x1b[2K" if sys.stderr.isatty() else ""
    print(prefix + line, file=sys.stderr, flush=True)


def _run(work: Callable[[SessionManager], Awaitable[T]]) -> T:
    async def body() -> T:
        async with open_manager() as manager:
            return await work(manager)

    return asyncio.run(body())


def token(args: argparse.Namespace) -> int:
    """Print a valid access token."""
    try:
        issued = _run(lambda m: m.get_token(args.profile, args.min_validity))
    except SignInRequired as exc:
        if not args.wait:
            raise
        issued = _wait_for_editor_sign_in(exc.profile, args.min_validity, args.timeout)
    from tokenwarden.clock import SystemClock
    from tokenwarden.integrations.formats import render

    fmt = args.format or ("json" if args.json else "token")
    sys.stdout.write(render(fmt, access_token=issued.access_token, token_type=issued.token_type,
                            expires_at=issued.expires_at, scopes=issued.scopes,
                            now=SystemClock().now()))
    return 0


def _wait_for_editor_sign_in(profile: str, min_validity: float, timeout: float) -> IssuedToken:
    """Hand the sign-in to a running editor, then wait for the token to appear in the store."""
    from tokenwarden.handoff import request_sign_in

    if not request_sign_in(locations().runtime_dir, profile):
        raise SignInRequired(
            f"sign-in required for profile '{profile}' and no editor running tokenwarden "
            "answered", profile=profile, state="signedOut",
        )
    print(f"tokenwarden: sign-in requested in your editor (profile '{profile}'); waiting "
          f"up to {timeout:.0f} s", file=sys.stderr, flush=True)

    async def wait() -> IssuedToken:
        deadline = time.monotonic() + timeout
        async with open_manager() as manager:
            while True:
                with contextlib.suppress(SignInRequired):
                    return await manager.get_token(profile, min_validity)
                if time.monotonic() >= deadline:
                    raise SignInRequired(f"no sign-in completed within {timeout:.0f} s",
                                         profile=profile, state="signedOut")
                await asyncio.sleep(0.5)

    return asyncio.run(wait())


def status(args: argparse.Namespace) -> int:
    """Show the session state (no network)."""
    async def work(manager: SessionManager) -> Status:
        return manager.status(args.profile)

    result = _run(work)
    if args.json:
        print(json.dumps(result.to_wire(), indent=2))
    else:
        print(f"{result.profile}: {result.message}")
    return 0


def refresh(args: argparse.Namespace) -> int:
    """Renew now: one line, on stdout when it worked, on stderr with the reason when not."""
    result = _run(lambda m: m.refresh(args.profile))
    if result.state is SessionState.SIGNED_IN:
        print(f"{result.profile}: {result.message}")
        return 0
    reason = result.last_error.message if result.last_error else result.message
    left = None if result.expires_at is None else (
        result.expires_at - datetime.now(UTC)).total_seconds()
    kept = (f"the current token stays valid {humanize(left)}" if left and left > 0
            else "no valid token")
    print(f"tokenwarden: {result.profile}: renewal failed: {reason}; {kept}", file=sys.stderr)
    return 4


def logout(args: argparse.Namespace) -> int:
    """Sign out."""
    result = _run(lambda m: m.logout(args.profile, revoke=not args.no_revoke))
    print(f"{result.profile}: {result.message}")
    return 0


def store(args: argparse.Namespace) -> int:
    """``store migrate --to keyring|file``: move a signed-in profile's tokens, under its lock."""
    from tokenwarden.secretstore import SecretPlacement

    where = locations()
    config = load_config(where)
    name = config.profile(args.profile).name
    target = TokenStore(where.store_dir, SecretPlacement({name: args.to}, notice=_notice))
    with target.locked(name, timeout=60.0):
        record = target.read(name)
        if record is None:
            print(f"tokenwarden: {name}: not signed in, nothing to move (run: "
                  f"{login_command(name)})", file=sys.stderr)
            return 3
        if record.kept_in == args.to:
            print(f"{name}: the tokens are already in the {_store_words(args.to)}")
            return 0
        target.write(record)
    print(f"{name}: the tokens moved to the {_store_words(args.to)}; no new sign-in needed")
    setting = config.store_of(name)
    if setting != "auto" and setting != args.to:
        print(f"tokenwarden: {name}: config.toml says store = \"{setting}\": set it to "
              f"\"{args.to}\" or \"auto\", or the next renewal moves them back",
              file=sys.stderr)
    return 0


def _store_words(place: str) -> str:
    return "OS keyring" if place == "keyring" else "0600 store file"


def login(args: argparse.Namespace) -> int:
    """Sign in (browser or device code), showing progress until it completes."""
    import os

    from tokenwarden.cli.waiting import WaitingLine, wait_showing_progress
    from tokenwarden.flowchoice import desktop_session

    shown: list[LoginInfo] = []

    def on_event(event: object) -> None:
        # Instructions come from the status, so a fallback to the other flow shows too.
        if isinstance(event, Status) and event.login is not None and (
                not shown or shown[-1] != event.login):
            shown.append(event.login)
            _show_sign_in(event.login, open_browser=not args.no_browser)

    async def work(manager: SessionManager) -> int:
        manager.subscribe(on_event)
        browser_possible = not args.no_browser and desktop_session(os.environ, sys.platform)
        started = await manager.start_login(args.profile, force=args.force, flow=args.flow,
                                            browser_possible=browser_possible)
        if isinstance(started, Status) and started.login is not None:
            print(f"{started.profile}: a sign-in is already in progress (in another window or "
                  "terminal); waiting for it to finish", flush=True)
            _show_sign_in(started.login, open_browser=False)
        elif isinstance(started, Status):
            print(f"{started.profile}: {started.message} (use --force to sign in again)")
            return 0
        login = shown[-1] if shown else started.login if isinstance(started, Status) else None
        waiter = asyncio.ensure_future(manager.wait_login(args.profile))
        left = (login.expires_at - manager.clock.now()).total_seconds() if login else 0.0
        line = WaitingLine(left)
        result = await wait_showing_progress(waiter, line)
        if result.state is SessionState.SIGNED_IN and result.last_error is None:
            print(f"{result.profile}: {result.message}")
            return 0
        if result.last_error is not None and result.last_error.code == StoreError.code:
            raise StoreError(result.last_error.message)  # approved, but not kept: exit 2
        print(f"tokenwarden: {_login_failure(result)}", file=sys.stderr)
        return 3

    return _run(work)


def _show_sign_in(login: LoginInfo, *, open_browser: bool) -> None:
    """The instructions of a sign-in in progress; the browser opened when allowed."""
    if login.note:
        print(f"tokenwarden: {login.note}", file=sys.stderr, flush=True)
    if login.authorization_uri is not None:
        url = login.authorization_uri
        print(f"To sign in, open this address in your browser (it redirects back to "
              f"tokenwarden on this machine):\n  {url}", flush=True)
    else:
        from tokenwarden.cli.waiting import instructions

        url = login.verification_uri_complete or login.verification_uri or ""
        for line in instructions(login):
            print(line, flush=True)
    if open_browser and url and browsable_uri(url) is not None:
        with contextlib.suppress(Exception):
            webbrowser.open(url)


def _login_failure(result: Status) -> str:
    """One line: why the sign-in ended without tokens, and what the user still has."""
    reason = result.last_error.message if result.last_error else "the sign-in did not complete"
    if result.state is SessionState.SIGNED_IN:
        return (f"{result.profile}: {reason}; the previous session was kept "
                f"({result.message})")
    return f"{result.profile}: {reason} (run: {login_command(result.profile)})"


def doctor(args: argparse.Namespace) -> int:
    """Check everything a session depends on."""
    from tokenwarden.doctor import diagnose, exit_code

    findings = asyncio.run(diagnose(args.profile))
    if args.json:
        print(json.dumps([f.to_json() for f in findings], indent=2))
    else:
        marks = {"ok": "✓", "warn": "!", "fail": "✗"}
        for finding in findings:
            print(f"{marks.get(finding.level, '?')} {finding.check}: {finding.detail}")
            if finding.fix:
                print(f"    fix: {finding.fix}")
    return exit_code(findings)


def events(args: argparse.Namespace) -> int:
    """Show (and follow) the auth event log."""
    from tokenwarden.events import follow_events, format_event, read_events

    folder = locations().log_dir
    shown = read_events(folder, args.profile)
    for event in shown:
        print(json.dumps(event) if args.json else format_event(event), flush=True)
    if args.follow:
        for event in follow_events(folder, args.profile):
            print(json.dumps(event) if args.json else format_event(event), flush=True)
    return 0


def exec_(args: argparse.Namespace) -> int:
    """Run a command with a fresh token (or a proxy) in its environment."""
    from tokenwarden.execcmd import exec_command

    return exec_command(args)


def proxy(args: argparse.Namespace) -> int:
    """Run the loopback proxy until interrupted."""
    from tokenwarden.proxy.command import proxy_command

    return proxy_command(args)


def git_credential(args: argparse.Namespace) -> int:
    """Answer one request of git's credential-helper protocol."""
    from tokenwarden.integrations.gitcredential import git_credential_command

    return git_credential_command(args)


def setup(args: argparse.Namespace) -> int:
    """Write (or print, or undo) the settings that make a tool use tokenwarden."""
    from tokenwarden.integrations.setup import setup_command

    return setup_command(args)


def devserver(args: argparse.Namespace) -> int:
    """Run the bundled development authorization server."""
    from tokenwarden.devserver.cli import run_devserver

    return run_devserver(list(args.args))


def demo(args: argparse.Namespace) -> int:
    """Sign in to a bundled dev server and watch silent renewals."""
    from tokenwarden.demo import run_demo

    return run_demo(interactive=args.interactive, renewals=args.renewals,
                    lifetime=args.lifetime)
