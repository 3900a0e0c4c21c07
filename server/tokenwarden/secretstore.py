"""Where a record's secret parts live: the store file, or the operating system's keyring.

The token store (``store.py``) keeps one JSON record per profile. With ``store =
"keyring"`` (or ``"auto"`` when a keyring is usable) the access and refresh token leave
that record for the keyring and the record keeps only metadata plus ``keyring_ref``, the
name of the keyring entry that holds its tokens. A ``keyring_ref`` starts with the record's
generation and ends with a random part, so every write of new tokens makes a new entry:

1. the new entry is written to the keyring (a crash here leaves an unused entry);
2. the record naming it replaces the old one atomically (the commit point);
3. the entry the old record named is deleted (a crash here leaves an unused entry).

A reader therefore always finds the tokens of the last acknowledged record, and the
per-profile file lock still guards "re-read → decide → refresh → write". Unused entries
left by a crash are swept at the next write of the profile.

Every keyring call has a timeout and is retried: gnome-keyring answers a read that races
another process's write with an error now and then, and can stop answering under load.
Reads go to the Secret Service directly through ``secretstorage`` on Linux (about 55 ms in
a fresh process, against 190 ms through ``keyring``, which the ``tokenwarden token`` fast
path feels); writes and other platforms go through ``keyring``. Nothing here logs a token.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tokenwarden.errors import StoreError

if TYPE_CHECKING:
    from tokenwarden.config import Config
    from tokenwarden.store import TokenRecord

log = logging.getLogger(__name__)

#: The keyring service name of every entry; the user name is ``PROFILE/REF``.
SERVICE = "tokenwarden"
#: Seconds one keyring call may take before it counts as failed.
CALL_TIMEOUT = 5.0
#: Pauses between the attempts of one keyring call.
RETRY_PAUSES = (0.1, 0.4)
#: Marker file (in the store folder) saying the fallback notice was given.
NOTICE_MARKER = ".keyring-fallback-noticed"

T = TypeVar("T")


class KeyringUnavailable(StoreError):
    """No keyring can be used right now; the message says why and what to do."""


class MissingEntry(StoreError):
    """The record names a keyring entry the keyring does not have."""


def _attempts(what: str, call: Callable[[], T]) -> T:
    """``call`` with a timeout per attempt and retries; StoreError naming ``what``."""
    reason = "no answer"
    for attempt in range(len(RETRY_PAUSES) + 1):
        if attempt:
            time.sleep(RETRY_PAUSES[attempt - 1])
        outcome: list[Any] = []

        def run(outcome: list[Any] = outcome) -> None:
            try:
                outcome.append((True, call()))
            except Exception as exc:  # any backend error is retried, then said
                outcome.append((False, exc))

        worker = threading.Thread(target=run, name="keyring-call", daemon=True)
        worker.start()
        worker.join(CALL_TIMEOUT)
        if not outcome:
            reason = f"no answer within {CALL_TIMEOUT:g} s"
            continue
        ok, value = outcome[0]
        if ok:
            return value  # type: ignore[no-any-return]
        if isinstance(value, KeyringUnavailable):
            raise value
        reason = _describe(value)
    raise StoreError(f"the keyring failed {what} after {len(RETRY_PAUSES) + 1} attempts "
                     f"({reason})")


def _describe(exc: BaseException) -> str:
    """An exception's type and first line, never a value we passed in."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Keyring:
    """The OS keyring: entries ``SERVICE`` / ``PROFILE/REF`` holding a JSON pair of tokens."""

    def unusable(self) -> str | None:
        """Why no keyring can be used now (one line with what to do), or None when it can."""
        if sys.platform.startswith("linux") and not _session_bus():
            return ("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set, as over SSH "
                    "or in a container): start one with a Secret Service such as "
                    "gnome-keyring, or use store = \"file\"")
        missing = _missing_keyring_libraries()
        if missing is not None:
            return missing
        try:
            return _attempts("to answer", self._probe)
        except StoreError as exc:
            return f"{exc}: check the keyring daemon, or use store = \"file\""

    def _probe(self) -> str | None:
        from keyring.backends import fail

        backend = _backend()
        if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
            return ("no keyring backend is available: install and start a Secret Service "
                    "(gnome-keyring, KeePassXC), or use store = \"file\"")
        if _is_secret_service(backend):
            import secretstorage

            connection = secretstorage.dbus_init()
            try:
                collection = secretstorage.get_default_collection(connection)
                if collection.is_locked():
                    return ("the keyring is locked: unlock it (log in to the desktop, or "
                            "'gnome-keyring-daemon --unlock'), or use store = \"file\"")
            finally:
                connection.close()
        return None

    def _reachable(self) -> None:
        """KeyringUnavailable at once where no call could succeed (Linux without a bus)."""
        if sys.platform.startswith("linux") and not _session_bus():
            problem = self.unusable()
            raise KeyringUnavailable(f"the tokens are in the keyring, but {problem}")

    def put(self, username: str, value: str) -> None:
        """Write one entry (retried; the same value again is harmless)."""
        self._reachable()
        _attempts("to save the tokens", lambda: _backend().set_password(SERVICE, username, value))

    def get(self, username: str) -> str | None:
        """One entry, None when there is none."""
        self._reachable()
        if sys.platform.startswith("linux") and _session_bus():
            return _attempts("to read the tokens", lambda: _secret_service_get(username))
        def read() -> str | None:
            value = _backend().get_password(SERVICE, username)
            return value if isinstance(value, str) else None

        return _attempts("to read the tokens", read)

    def delete(self, username: str) -> None:
        """Remove one entry; one that is already gone is fine."""
        from keyring.errors import PasswordDeleteError

        def remove() -> None:
            with contextlib.suppress(PasswordDeleteError):
                _backend().delete_password(SERVICE, username)

        _attempts("to delete old tokens", remove)

    def names(self, profile: str) -> list[str]:
        """The user names of this profile's entries (Secret Service only; else [])."""
        if not (sys.platform.startswith("linux") and _session_bus()):
            return []
        return _attempts("to list entries", lambda: _secret_service_names(profile))


def _backend() -> Any:
    """The Secret Service on Linux with a session bus; else what ``keyring`` picks.

    Named outright on Linux: ``keyring``'s own choice probes the daemon once, and a busy
    gnome-keyring then leaves a process with no backend at all instead of a call to retry.
    """
    if sys.platform.startswith("linux") and _session_bus():
        from keyring.backends import SecretService

        return SecretService.Keyring()  # type: ignore[no-untyped-call]
    import keyring

    return keyring.get_keyring()


def _missing_keyring_libraries() -> str | None:
    """Why the keyring libraries cannot load here, e.g. in the VS Code extension's bundle.

    The bundled server is pure Python and leaves out ``cryptography``, which
    ``secretstorage`` (the Secret Service client) needs; there the file store is used.
    """
    try:
        import keyring  # noqa: F401
        if sys.platform.startswith("linux"):
            import secretstorage  # noqa: F401
    except ImportError as exc:
        return (f"the keyring libraries are not installed with this tokenwarden "
                f"({exc.name or 'a module'} is missing, as in the VS Code extension's "
                "bundled server): install tokenwarden with pip for the keyring, or use "
                "store = \"file\"")
    return None


def _session_bus() -> bool:
    """Whether this process has a D-Bus session bus (what secretstorage connects to)."""
    return bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS"))


def _is_secret_service(backend: Any) -> bool:
    return type(backend).__module__.endswith("SecretService")


def _secret_service_get(username: str) -> str | None:
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        for item in secretstorage.search_items(connection, {"service": SERVICE,
                                                            "username": username}):
            if item.is_locked():
                item.unlock()
            return bytes(item.get_secret()).decode()
        return None
    finally:
        connection.close()


def _secret_service_names(profile: str) -> list[str]:
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        found = []
        for item in secretstorage.search_items(connection, {"service": SERVICE}):
            name = item.get_attributes().get("username", "")
            if name.startswith(f"{profile}/"):
                found.append(name)
        return found
    finally:
        connection.close()


_keyring = Keyring()


def keyring_backend() -> Keyring:
    """The process's keyring (replaceable in unit tests)."""
    return _keyring


def entry_name(profile: str, ref: str) -> str:
    """The keyring user name of a profile's entry."""
    return f"{profile}/{ref}"


def fill(record: TokenRecord, source: Path) -> TokenRecord:
    """A record whose tokens are in the keyring, with its tokens put back in."""
    from tokenwarden.store import is_token_text  # store imports this module

    assert record.keyring_ref is not None  # checked when the record was parsed
    backend = keyring_backend()
    raw = backend.get(entry_name(record.profile, record.keyring_ref))
    name = f"{SERVICE}/{entry_name(record.profile, record.keyring_ref)}"
    if raw is None:
        raise MissingEntry(
            f"{source} names keyring entry '{name}', which the keyring does not have "
            f"(removed by hand, or another keyring). Run "
            f"'tokenwarden login --profile {record.profile} --force' to sign in again."
        )
    try:
        pair = json.loads(raw)
        access, refresh = pair.get("access_token"), pair.get("refresh_token")
        if pair.get("ref") != record.keyring_ref or not all(
            value is None or (isinstance(value, str) and is_token_text(value))
            for value in (access, refresh)
        ):
            raise ValueError
    except (ValueError, AttributeError):
        raise StoreError(
            f"keyring entry '{name}' named by {source} is not a tokenwarden entry. "
            f"Run 'tokenwarden login --profile "
            f"{record.profile} --force' to sign in again."
        ) from None
    _known[record.keyring_ref] = (access, refresh)
    return replace(record, access_token=access, refresh_token=refresh)


#: Tokens of the entries this process has read or written, so that a write which keeps
#: the tokens (a failure count, a rejection) reuses the entry instead of writing another.
_known: dict[str, tuple[str | None, str | None]] = {}


class SecretPlacement:
    """Decides, per profile and write, whether the tokens go to the keyring or the file.

    ``modes`` maps a profile to ``store`` (``default`` when absent). ``keep`` (the
    default of a store made without a config) leaves a record where it is and puts a
    new one in the file. ``auto`` keeps an
    existing record where it is (a file-store session keeps working from the file until
    ``tokenwarden store migrate``) and puts a new one in the keyring when one is usable,
    in the file otherwise, telling ``notice`` once per store folder.
    """

    def __init__(self, modes: Mapping[str, str], *, default: str = "auto",
                 notice: Callable[[str], None] | None = None) -> None:
        self.modes = dict(modes)
        self.default = default
        self.notice = notice or log.warning
        self._unusable: str | bool | None = False  # False: not probed yet

    def unusable(self) -> str | None:
        """Why the keyring cannot be used (probed once per placement), or None."""
        if self._unusable is False:
            self._unusable = keyring_backend().unusable()
        assert self._unusable is not True
        return self._unusable

    @property
    def brief(self) -> str:
        """Why the keyring is unusable, without the advice (for the fallback notice)."""
        return (self.unusable() or "").split(":", 1)[0]

    def where(self, profile: str, current: str | None, folder: Path, *,
              announce: bool = True) -> str:
        """``keyring`` or ``file`` for a write; ``current`` is where the record is now.

        ``announce=False`` (the check before a sign-in) leaves the fallback notice to the
        write that falls back.
        """
        mode = self.modes.get(profile, self.default)
        if mode == "file" or (mode == "keep" and current != "keyring"):
            return "file"
        if mode == "keyring" or current == "keyring":
            problem = self.unusable()
            if problem is not None:
                raise KeyringUnavailable(
                    f"profile '{profile}' keeps its tokens in the keyring, but {problem}")
            return "keyring"
        if current == "file":
            return "file"
        problem = self.unusable()
        if problem is None:
            return "keyring"
        marker = folder / NOTICE_MARKER
        if announce and not marker.exists():
            self.notice(f"tokenwarden: {profile}: no keyring usable, {self.brief}; the "
                        f"tokens are kept in the 0600 store file (see docs/store.md)")
            with contextlib.suppress(OSError):
                marker.touch(mode=0o600)
        return "file"

    def stash(self, record: TokenRecord, current: tuple[str, str | None] | None,
              folder: Path) -> tuple[TokenRecord, str | None]:
        """Step 1: the record to write and the entry to delete after it is written.

        ``current`` is (store, keyring_ref) of the record on disk now, None when there is
        none.
        """
        place = self.where(record.profile, current[0] if current else None, folder)
        old_ref = current[1] if current else None
        if place == "file":
            return replace(record, kept_in="file", keyring_ref=None), old_ref
        tokens = (record.access_token, record.refresh_token)
        backend = keyring_backend()
        if old_ref is not None and _same_generation(old_ref, record.generation):
            known = _known.get(old_ref)
            if known is None:
                raw = backend.get(entry_name(record.profile, old_ref))
                if raw is not None:
                    pair = json.loads(raw)
                    known = (pair.get("access_token"), pair.get("refresh_token"))
            if known == tokens:
                return _metadata(record, old_ref), None
        ref = f"{record.generation}-{secrets.token_hex(6)}"
        backend.put(entry_name(record.profile, ref), json.dumps(
            {"ref": ref, "access_token": tokens[0], "refresh_token": tokens[1]}))
        _known[ref] = tokens
        return _metadata(record, ref), old_ref

    def sweep(self, profile: str, keep: str | None, old: str | None) -> None:
        """Step 3: delete the entry the old record named, and any left by a crash."""
        backend = keyring_backend()
        names = set(backend.names(profile))
        if old is not None:
            names.add(entry_name(profile, old))
        names.discard(entry_name(profile, keep) if keep else "")
        for name in sorted(names):
            backend.delete(name)
            _known.pop(name.split("/", 1)[1], None)


def _same_generation(ref: str, generation: int) -> bool:
    return ref.split("-", 1)[0] == str(generation)


def _metadata(record: TokenRecord, ref: str) -> TokenRecord:
    return replace(record, access_token=None, refresh_token=None, kept_in="keyring",
                   keyring_ref=ref)


def placement_for(config: Config, *,
                  notice: Callable[[str], None] | None = None) -> SecretPlacement:
    """The placement a config asks for: each profile's ``store``, else the global one."""
    return SecretPlacement({name: p.store for name, p in config.profiles.items()
                            if p.store is not None}, default=config.store, notice=notice)
