"""``tokenwarden git-credential get|store|erase``: git's credential-helper protocol.

git writes ``key=value`` lines (``protocol``, ``host``, ``path``, ``username``,
``password``) and a blank line to the helper's stdin. For ``get`` we answer with
the token as the password (most forges take an OAuth token as the password of
HTTPS Basic auth) or print nothing, so git goes on to its other helpers or asks
the user. ``erase`` is git's report that the server refused the credential: we
treat it as a rejected token and renew once, so the next git command works;
``store`` is a no-op because the token lives in tokenwarden's store.

The helper only answers for the URL it was configured for (``--url``, written by
``tokenwarden setup git``): a globally configured helper must never hand the
profile's token to another host.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections.abc import Mapping
from typing import TextIO
from urllib.parse import urlsplit

from tokenwarden.errors import TokenwardenError

DEFAULT_USERNAME = "oauth2"
ACTIONS = ("get", "store", "erase")
#: A push of a large repository can take minutes; the token must outlive it.
DEFAULT_MIN_VALIDITY = 300.0


def add_git_credential_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``tokenwarden git-credential``."""
    parser.add_argument("--url", metavar="URL",
                        help="answer only for this URL prefix (https://host[/path]); "
                        "without it, for any https URL git asks about")
    parser.add_argument("--username", default=DEFAULT_USERNAME,
                        help=f"user name to give git when the URL has none "
                        f"(default {DEFAULT_USERNAME})")
    parser.add_argument("--min-validity", type=float, default=DEFAULT_MIN_VALIDITY,
                        metavar="S", help="the token must stay valid this many seconds "
                        f"(default {DEFAULT_MIN_VALIDITY:.0f})")
    parser.add_argument("action", choices=ACTIONS, help="what git asks (get, store, erase)")


def read_request(stream: TextIO) -> dict[str, str]:
    """Git's ``key=value`` lines up to a blank line or the end of input."""
    request: dict[str, str] = {}
    for line in stream:
        line = line.rstrip("\r\n")
        if not line:
            break
        key, sep, value = line.partition("=")
        if sep and not key.endswith("[]"):
            request[key] = value
    return request


def request_url(request: Mapping[str, str]) -> str:
    """The URL git asks about: ``protocol://host/path`` (path only with useHttpPath)."""
    url = f"{request.get('protocol', '')}://{request.get('host', '')}"
    path = request.get("path", "").lstrip("/")
    return f"{url}/{path}" if path else url


def configured_for(request: Mapping[str, str], url: str | None) -> bool:
    """True when ``request`` is for ``url`` (scheme, host and port equal, path a prefix)."""
    protocol = request.get("protocol")
    if not request.get("host"):
        return False
    if url is None:
        return protocol == "https"
    want = urlsplit(url)
    if protocol != want.scheme or request.get("host", "").lower() != want.netloc.lower():
        return False
    prefix = want.path.strip("/")
    if not prefix:
        return True
    # Without credential.useHttpPath git sends no path: then we cannot tell which
    # repository of the host this is, and answer nothing (setup git turns it on).
    path = request.get("path", "").strip("/")
    return path == prefix or path.startswith(prefix + "/")


def try_fast_get(argv: list[str]) -> int | None:
    """Answer ``get`` from a fresh stored token without the HTTP stack, or None.

    git runs the helper for every command, so a fresh token is answered the way
    ``tokenwarden token`` answers it (the same fast path and the same freshness
    rules, by calling it); anything else returns None and the full command runs.
    """
    parsed = _parse_fast(argv)
    if parsed is None:
        return None
    profile, url, username, min_validity = parsed
    request = read_request(sys.stdin)
    if not configured_for(request, url):
        return 0
    from tokenwarden.cli.fastpath import try_fast_token

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        fast = try_fast_token([*(["--profile", profile] if profile else []),
                               "--min-validity", repr(min_validity)])
    if fast != 0:
        # The full path reads the request again: hand it over through stdin.
        sys.stdin = io.StringIO("".join(f"{k}={v}\n" for k, v in request.items()) + "\n")
        return None
    sys.stdout.write(f"username={request.get('username') or username}\n"
                     f"password={printed.getvalue().strip()}\n")
    return 0


def _parse_fast(argv: list[str]) -> tuple[str | None, str | None, str, float] | None:
    """``[--profile P] [--url U] [--username N] [--min-validity S] get``, else None."""
    values: dict[str, str] = {}
    names = {"--profile": "profile", "-p": "profile", "--url": "url",
             "--username": "username", "--min-validity": "min_validity"}
    items = iter(argv)
    for item in items:
        if item == "get":
            if next(items, None) is not None:
                return None
            try:
                min_validity = float(values.get("min_validity", DEFAULT_MIN_VALIDITY))
            except ValueError:
                return None
            return (values.get("profile"), values.get("url"),
                    values.get("username", DEFAULT_USERNAME), min_validity)
        key, sep, inline = item.partition("=")
        if key not in names:
            return None
        value = inline if sep else next(items, None)
        if value is None:
            return None
        values[names[key]] = value
    return None


def git_credential_command(args: argparse.Namespace) -> int:
    """Run one helper action from parsed options; git ignores our exit code on ``get``."""
    import asyncio  # here, not above: the fast path of get must not pay for it

    request = read_request(sys.stdin)
    if args.action == "store" or not configured_for(request, args.url):
        return 0
    if args.action == "erase":
        return asyncio.run(_erase(args.profile, request))
    return asyncio.run(_get(args.profile, request, args.username, args.min_validity))


async def _get(profile: str | None, request: Mapping[str, str], username: str,
               min_validity: float) -> int:
    from tokenwarden.cli.commands import open_manager

    try:
        async with open_manager() as manager:
            issued = await manager.get_token(profile, min_validity)
    except TokenwardenError as exc:
        # Nothing on stdout: git falls back to its other helpers or its prompt.
        print(f"tokenwarden: no token for {request_url(request)}: {exc.message}"
              f"{_hint(exc)}", file=sys.stderr)
        return 0
    sys.stdout.write(f"username={request.get('username') or username}\n"
                     f"password={issued.access_token}\n")
    return 0


async def _erase(profile: str | None, request: Mapping[str, str]) -> int:
    """The server refused ``password``: renew once if it is our current token."""
    from tokenwarden.cli.commands import open_manager

    password = request.get("password")
    if not password:
        return 0
    try:
        if _stored_token(profile) != password:
            return 0  # another helper's credential, or renewed since
        async with open_manager() as manager:
            await manager.token_rejected(profile, password)
    except TokenwardenError as exc:
        print(f"tokenwarden: could not renew the token git reported as refused: "
              f"{exc.message}{_hint(exc)}", file=sys.stderr)
    return 0


def _stored_token(profile: str | None) -> str | None:
    """The profile's current access token as stored (no lock, no network)."""
    from tokenwarden.config import load_config
    from tokenwarden.paths import locations
    from tokenwarden.store import TokenStore

    where = locations()
    record = TokenStore(where.store_dir).read(load_config(where).profile(profile).name)
    return None if record is None else record.access_token


def _hint(exc: TokenwardenError) -> str:
    from tokenwarden.errors import SignInRequired

    if isinstance(exc, SignInRequired):
        flag = "" if exc.profile == "default" else f" --profile {exc.profile}"
        return f" (run: tokenwarden login{flag})"
    return ""
