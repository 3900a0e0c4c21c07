"""``tokenwarden token`` when the stored token is fresh: no network, no HTTP stack imported.

Credential-helper hooks run this on every request of a terminal tool, so it reads
the store without taking the lock (writes are atomic renames, a reader sees the old
or the new record) and prints. Anything unusual (renewal due, unknown arguments, no
record) returns None and the full command takes over.
"""

from __future__ import annotations

import sys

from tokenwarden.clock import SystemClock
from tokenwarden.config import load_config
from tokenwarden.errors import TokenwardenError
from tokenwarden.integrations.formats import FORMATS, render
from tokenwarden.lifecycle import binding_mismatch
from tokenwarden.paths import locations
from tokenwarden.policy import TokenState, satisfies, token_state
from tokenwarden.store import TokenStore


def _parse(argv: list[str]) -> tuple[str | None, float, str] | None:
    profile: str | None = None
    min_validity = 60.0
    fmt: str | None = None
    as_json = False
    items = iter(argv)
    for item in items:
        if item in ("--profile", "-p"):
            profile = next(items, None)
            if profile is None:
                return None
        elif item.startswith("--profile="):
            profile = item.split("=", 1)[1]
        elif item == "--min-validity":
            value = next(items, None)
            try:
                min_validity = float(value or "")
            except ValueError:
                return None
        elif item == "--json":
            as_json = True
        elif item == "--format" or item.startswith("--format="):
            fmt = item.split("=", 1)[1] if "=" in item else next(items, None)
            if fmt not in FORMATS:
                return None  # the full parser names the valid choices
        elif item == "--wait":
            pass  # nothing to wait for when the stored token is fresh
        elif item == "--timeout":
            next(items, None)
        else:
            return None
    return profile, min_validity, fmt or ("json" if as_json else "token")


def try_fast_token(argv: list[str]) -> int | None:
    """Print a fresh stored token and return 0, or None to take the full path."""
    parsed = _parse(argv)
    if parsed is None:
        return None
    name, min_validity, fmt = parsed
    try:
        where = locations()
        config = load_config(where)
        profile = config.profile(name)
        record = TokenStore(where.store_dir).read(profile.name)
    except TokenwardenError:
        return None
    if record is None or record.usable_token is None:
        return None
    if binding_mismatch(record, profile) is not None:
        return None  # the full path says why: its grant belongs to other settings
    now = SystemClock().now()
    policy = config.renewal_policy()
    if token_state(record.times, now, policy, 0.0) is not TokenState.FRESH:
        return None
    if not satisfies(record.times, now, min_validity):
        return None
    sys.stdout.write(render(fmt, access_token=record.usable_token, token_type=record.token_type,
                            expires_at=record.expires_at, scopes=record.scopes, now=now))
    return 0
