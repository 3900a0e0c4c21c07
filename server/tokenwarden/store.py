"""The shared token store: one JSON record per profile, safe across processes.

Files are written atomically (temp file in the same folder, fsync, ``os.replace``,
fsync of the folder), so a crash leaves either the old or the new record, never half
of one. Files are 0600 and the folder 0700; wider permissions are repaired and said
so. A folder another user owns or can write (or one inside such a folder) is refused
before anything is read from it or written to it (``paths.unsafe_folder``). A
per-profile lock file serialises "re-read → decide → refresh → write" across every
process of the user. Nothing here logs a token.

A record is parsed strictly: any value of the wrong type or out of range makes the
whole record a ``StoreError`` and the file is left as it is; a record of a newer
format is a ``NewerStoreFormat`` (upgrade, never delete). Every ``OSError`` of the
store becomes a ``StoreError`` naming the file or folder.

With ``kept_in = "keyring"`` a record's access and refresh token live in the OS
keyring, in the entry ``keyring_ref`` names; ``secretstore.py`` decides where each write
goes and keeps the two stores consistent across a crash (entry first, record second, old
entry last).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import MISSING, asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from tokenwarden.clock import parse_utc, utc_iso_ms
from tokenwarden.errors import NewerStoreFormat, StoreError
from tokenwarden.paths import unsafe_folder
from tokenwarden.policy import TokenTimes

if TYPE_CHECKING:
    from tokenwarden.secretstore import SecretPlacement

log = logging.getLogger(__name__)

#: The newest record format this tokenwarden reads. A record whose tokens are in the
#: file is written as format 1 (what every earlier tokenwarden reads); one whose tokens
#: are in the keyring as format 2, so an earlier tokenwarden reports "written by a newer
#: tokenwarden" and leaves it alone instead of taking it for a session without tokens.
FORMAT_VERSION = 2
_TIME_FIELDS = ("expires_at", "obtained_at", "refresh_at", "refresh_token_expires_at",
                "next_attempt_at")
#: Counters beyond this are not ours (a hand-edited or hostile file): 2**53 stays exact in JSON.
_MAX_COUNTER = 2**53
#: Years outside this range cannot come from a real sign-in, and near datetime's limits
#: adding a renewal window would overflow.
_YEARS = range(1970, 9000)


@dataclass(frozen=True)
class LastError:
    """The most recent renewal failure, as users and bug reports see it."""

    code: str
    message: str
    at: str
    correlation_id: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class TokenRecord:
    """Everything stored for one profile."""

    profile: str
    issuer: str
    access_token: str | None
    obtained_at: datetime
    client_id: str = ""
    # The grant's binding (docs/security.md): where it was obtained. None in a
    # record written before binding existed; filled at its next write.
    token_endpoint: str | None = None
    revocation_endpoint: str | None = None
    refresh_token: str | None = None
    token_type: str = "Bearer"  # noqa: S105 - a token type, not a secret
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    refresh_at: datetime | None = None
    refresh_token_expires_at: datetime | None = None
    account: str | None = None
    generation: int = 0
    rejected: bool = False
    failures: int = 0
    next_attempt_at: datetime | None = None
    last_error: LastError | None = None
    ended: str | None = field(default=None)
    #: This access token came from a renewal a consumer's rejection forced: if it is
    #: rejected too, renewing again would not help (and would start a storm).
    forced: bool = False
    #: Where the tokens are: "file" (in this record) or "keyring" (the entry ``keyring_ref``).
    kept_in: str = "file"
    keyring_ref: str | None = None

    @property
    def times(self) -> TokenTimes:
        """The access token's moments, for the policy functions."""
        return TokenTimes(self.obtained_at, self.expires_at, self.refresh_at)

    @property
    def usable_token(self) -> str | None:
        """The access token unless a consumer reported it rejected."""
        return None if self.rejected else self.access_token

    def next_generation(self, **changes: Any) -> TokenRecord:
        """A copy with ``changes`` and the generation counter moved on."""
        return replace(self, generation=self.generation + 1, **changes)

    def to_json(self) -> dict[str, Any]:
        """The record as stored on disk."""
        data = asdict(self)
        for key in _TIME_FIELDS:
            data[key] = utc_iso_ms(getattr(self, key))
        data["scopes"] = list(self.scopes)
        data["version"] = 2 if self.kept_in == "keyring" else 1
        return data

    @classmethod
    def from_json(cls, data: object) -> TokenRecord:
        """Parse a stored record; ValueError naming the first bad key when it is not one.

        Each field is parsed by its declared type (``_PARSERS``), so a field added
        later is checked as strictly; a key that is absent (or null) takes the
        field's default, a field without a default must be there.
        """
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        version = data.get("version")
        if not _is_int(version) or version < 1:
            raise ValueError("key 'version' is not a format number")
        if version > FORMAT_VERSION:
            raise _NewerFormat(version)
        values: dict[str, Any] = {}
        for name, spec in cls.__dataclass_fields__.items():
            has_default = spec.default is not MISSING or spec.default_factory is not MISSING
            if data.get(name) is None and has_default:
                continue
            if name not in data:
                raise ValueError(f"key '{name}' is missing")
            values[name] = _PARSERS[str(spec.type)](data[name], name)
        for key in ("profile", "issuer"):
            if not values[key]:
                raise ValueError(f"key '{key}' is empty")
        for key in ("access_token", "refresh_token"):
            token = values.get(key)
            if token is not None and not is_token_text(token):
                raise ValueError(f"key '{key}' holds characters a token cannot have")
        place, ref = values.get("kept_in", "file"), values.get("keyring_ref")
        if place not in ("file", "keyring"):
            raise ValueError("key 'kept_in' is neither \"file\" nor \"keyring\"")
        if place == "keyring" and (ref is None or not _KEYRING_REF.fullmatch(ref)):
            raise ValueError("key 'keyring_ref' does not name a keyring entry")
        if place == "keyring" and (values.get("access_token") or values.get("refresh_token")):
            raise ValueError("a keyring record holds tokens in the file too")
        return cls(**values)


class _NewerFormat(ValueError):
    def __init__(self, version: int) -> None:
        super().__init__(f"format {version}")
        self.version = version


_PRINTABLE = re.compile(r"[\x21-\x7e]+")


def is_token_text(value: str) -> bool:
    """Whether ``value`` is visible ASCII only, as every stored token must be.

    So a token read back from the store can go into an HTTP header, argv or the
    environment as it is: no space, control character or line break can split them.
    """
    return _PRINTABLE.fullmatch(value) is not None
_KEYRING_REF = re.compile(r"[0-9]{1,16}-[0-9a-f]{12}")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"key '{key}' is not a string")
    return value


def _optional_text(value: object, key: str) -> str | None:
    return None if value is None else _text(value, key)


def _flag(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"key '{key}' is not true or false")
    return value


def _counter(value: object, key: str) -> int:
    if not _is_int(value) or not 0 <= value <= _MAX_COUNTER:
        raise ValueError(f"key '{key}' is not a whole number from 0 to 2**53")
    return value


def _time(value: object, key: str) -> datetime:
    moment = parse_utc(value) if isinstance(value, str) else None
    if moment is None or moment.year not in _YEARS:
        raise ValueError(f"key '{key}' is not an RFC 3339 UTC time between 1970 and 9000")
    return moment


def _optional_time(value: object, key: str) -> datetime | None:
    return None if value is None else _time(value, key)


def _scopes(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ValueError(f"key '{key}' is not a list of strings")
    return tuple(value)


def _last_error(value: object, key: str) -> LastError | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= set(LastError.__dataclass_fields__):
        raise ValueError(f"key '{key}' is not an error record")
    for name in ("code", "message", "at"):
        if not isinstance(value.get(name), str):
            raise ValueError(f"key '{key}' has no '{name}' string")
    for name in ("correlation_id", "request_id"):
        if value.get(name) is not None and not isinstance(value[name], str):
            raise ValueError(f"key '{key}' has a bad '{name}'")
    return LastError(**value)


#: How each declared field type of ``TokenRecord`` is read from JSON.
_PARSERS: dict[str, Callable[[object, str], Any]] = {
    "str": _text,
    "str | None": _optional_text,
    "bool": _flag,
    "int": _counter,
    "datetime": _time,
    "datetime | None": _optional_time,
    "tuple[str, ...]": _scopes,
    "LastError | None": _last_error,
}


#: What tells a rewritten file from the one read before: modification time, size and
#: inode. A write by rename gets a new inode even within one tick of a coarse clock.
FileStamp = tuple[int, int, int]
#: A stamp no file has: "never read yet".
UNREAD: FileStamp = (-1, -1, -1)


def stamp_of(info: os.stat_result) -> FileStamp:
    """The stamp of a file whose ``stat`` is ``info``."""
    return info.st_mtime_ns, info.st_size, info.st_ino


def file_stamp(path: str) -> FileStamp | None:
    """``path``'s stamp, or None when there is no such file."""
    try:
        return stamp_of(os.stat(path))
    except OSError:
        return None


class TokenStore:
    """Records on disk under one folder, with a lock file per profile."""

    def __init__(self, folder: Path, placement: SecretPlacement | None = None) -> None:
        self.folder = folder
        self._folder_text = os.fspath(folder)  # the token fast path stats from text
        #: Where writes put the tokens; without one a record stays where it is and a new
        #: one goes to the file.
        self.placement = placement

    def path(self, profile: str) -> Path:
        """The record file of a profile."""
        return self.folder / f"{profile}.json"

    def lock_path(self, profile: str) -> Path:
        """The lock file of a profile."""
        return self.folder / f"{profile}.lock"

    def check_safe(self) -> None:
        """StoreError when the folder (or one it is in) is another user's or writable by others."""
        problem = unsafe_folder(self.folder, strict_owner=True)
        if problem is not None:
            raise StoreError(f"refusing to use the token store: {problem}")

    def ensure_folder(self) -> None:
        """Create the folder 0700, repairing wider permissions."""
        self.check_safe()
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the token store folder {self.folder}: "
                             f"{_reason(exc)}") from None
        if not self.folder.is_dir():
            raise StoreError(f"the token store {self.folder} is not a folder")
        self.check_safe()  # it may have been there already, made by someone else
        _tighten(self.folder, 0o700)

    def check_writable(self, profile: str) -> None:
        """Before a sign-in: StoreError unless a new record of ``profile`` could be saved.

        Checked before a device code is shown, so that a user never approves a sign-in
        whose tokens then cannot be kept. A record of a newer format is refused too: the
        sign-in would replace a session a newer tokenwarden can still use.
        """
        self.ensure_folder()
        try:
            fd, probe = tempfile.mkstemp(prefix=".write-check.", suffix=".tmp",
                                         dir=self.folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise StoreError(f"cannot write to the token store folder {self.folder}: "
                             f"{_reason(exc)}") from None
        if self.placement is not None:  # store = "keyring" without a usable keyring: say so now
            placed = self.placed(profile)
            self.placement.where(profile, placed[0] if placed else None, self.folder,
                                 announce=False)
        try:
            self.read(profile)
        except NewerStoreFormat:
            raise
        except StoreError:
            pass  # an unreadable record is moved aside by the sign-in that replaces it

    def read(self, profile: str) -> TokenRecord | None:
        """The stored record, None when there is none; StoreError when unreadable."""
        self.check_safe()
        path = self.path(profile)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {_reason(exc)}") from None
        _tighten(path, 0o600)
        record = self._parse(path, profile, raw)
        if record is None or record.kept_in != "keyring":
            return record
        from tokenwarden.secretstore import MissingEntry, fill

        for _ in range(3):  # a writer may have moved on and deleted the entry we were sent to
            try:
                return fill(record, path)
            except MissingEntry:
                again = _read_or_empty(path)
                newer = self._parse(path, profile, again) if again else None
                if newer is None or newer.keyring_ref == record.keyring_ref:
                    raise
                if newer.kept_in != "keyring":
                    return newer
                record = newer
        return fill(record, path)

    def _parse(self, path: Path, profile: str, raw: bytes) -> TokenRecord:
        try:
            return TokenRecord.from_json(json.loads(raw))
        except _NewerFormat as exc:
            raise NewerStoreFormat(
                f"{path} was written by a newer tokenwarden (format {exc.version}; this one "
                f"reads {FORMAT_VERSION}): upgrade tokenwarden to use it. It was left as it is."
            ) from None
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            raise StoreError(
                f"{path} is not a valid tokenwarden record ({exc}). It was left as it is; "
                f"run 'tokenwarden logout --profile {profile}' or delete the file, then sign in."
            ) from None

    def write(self, record: TokenRecord) -> None:
        """Replace a profile's record atomically (temp file, fsync, rename, fsync folder).

        Tokens bound for the keyring are written there first and the entry the previous
        record named is deleted only once the new record is in place.
        """
        self.ensure_folder()
        from tokenwarden.secretstore import SecretPlacement

        placement = self.placement or SecretPlacement({}, default="keep")
        current = self.placed(record.profile)
        record, old_ref = placement.stash(record, current, self.folder)
        self._replace(record)
        if record.kept_in == "keyring" or old_ref is not None:
            placement.sweep(record.profile, record.keyring_ref, old_ref)

    def placed(self, profile: str) -> tuple[str, str | None] | None:
        """(kept_in, keyring_ref) of the record on disk; None when none is readable."""
        try:
            data = json.loads(self.path(profile).read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        ref = data.get("keyring_ref")
        place = "keyring" if data.get("kept_in") == "keyring" else "file"
        return place, ref if isinstance(ref, str) and _KEYRING_REF.fullmatch(ref) else None

    def _replace(self, record: TokenRecord) -> None:
        payload = json.dumps(record.to_json(), indent=1).encode()
        target = self.path(record.profile)
        try:
            fd, temp = tempfile.mkstemp(prefix=f".{record.profile}.", suffix=".tmp",
                                        dir=self.folder)
        except OSError as exc:
            raise StoreError(f"cannot write {target}: {_reason(exc)}") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            if isinstance(exc, OSError):
                raise StoreError(f"cannot write {target}: {_reason(exc)}") from None
            raise
        _fsync_folder(self.folder)

    def delete(self, profile: str) -> None:
        """Remove a profile's record (sign-out), and its keyring entries after it."""
        self.check_safe()
        path = self.path(profile)
        current = self.placed(profile)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"cannot remove {path}: {_reason(exc)}") from None
        _fsync_folder(self.folder)
        if current is not None and current[0] == "keyring":
            from tokenwarden.secretstore import SecretPlacement

            (self.placement or SecretPlacement({})).sweep(profile, None, current[1])

    def quarantine(self, profile: str) -> Path | None:
        """Move an unreadable record aside so a new sign-in can proceed; returns where."""
        path = self.path(profile)
        if not path.exists():
            return None
        aside = path.with_name(f"{path.name}.unreadable")
        try:
            os.replace(path, aside)
        except OSError as exc:
            raise StoreError(f"cannot move {path} aside: {_reason(exc)}") from None
        return aside

    def stamp(self, profile: str) -> FileStamp | None:
        """The record file's stamp (one ``stat``), for cheap change detection."""
        return file_stamp(os.path.join(self._folder_text, profile + ".json"))

    @contextlib.contextmanager
    def locked(self, profile: str, timeout: float) -> Iterator[None]:
        """Hold the profile's cross-process lock (blocking; for synchronous callers)."""
        lock = self.file_lock(profile)
        try:
            lock.acquire(timeout=timeout)
        except OSError as exc:
            raise self.lock_error(profile, exc) from None
        try:
            yield
        finally:
            lock.release()

    def file_lock(self, profile: str) -> Any:
        """A filelock.FileLock for the profile (imported lazily: start-up stays cheap)."""
        import filelock

        self.ensure_folder()
        return filelock.FileLock(str(self.lock_path(profile)), mode=0o600, thread_local=False)

    def lock_error(self, profile: str, exc: OSError) -> StoreError:
        """What to say when the lock file cannot be created or opened."""
        return StoreError(f"cannot take the lock {self.lock_path(profile)}: {_reason(exc)}")


def _read_or_empty(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _reason(exc: OSError) -> str:
    """The OS's words for an error, in lower case, without the path (we name it ourselves)."""
    text = exc.strerror or type(exc).__name__
    return text[:1].lower() + text[1:]


def _tighten(path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot check the permissions of {path}: {_reason(exc)}") from None
    if current & ~mode:
        try:
            os.chmod(path, mode)
        except OSError as exc:
            raise StoreError(f"{path} is open to other users (mode {current:o}) and cannot be "
                             f"repaired: {_reason(exc)}; chmod {mode:o} it") from None
        log.warning("repaired permissions of %s: %o -> %o", path, current, mode)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
