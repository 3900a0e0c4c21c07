"""The shared token store: one JSON record per profile, safe across processes.

Files are written atomically (temp file in the same folder, fsync, ``os.replace``,
fsync of the folder), so a crash leaves either the old or the new record, never half
of one. Files are 0600 and the folder 0700; wider permissions are repaired and said
so. A per-profile lock file serialises "re-read → decide → refresh → write" across
every process of the user. Nothing here logs a token.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from tokenwarden.clock import parse_utc, utc_iso
from tokenwarden.errors import StoreError
from tokenwarden.policy import TokenTimes

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_TIME_FIELDS = ("expires_at", "obtained_at", "refresh_at", "refresh_token_expires_at",
                "next_attempt_at")


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
            data[key] = utc_iso(getattr(self, key))
        data["scopes"] = list(self.scopes)
        data["version"] = FORMAT_VERSION
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenRecord:
        """Parse a stored record; ValueError when it is not one."""
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise ValueError("not a version 1 tokenwarden record")
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in _TIME_FIELDS:
            values[key] = parse_utc(values.get(key))
        if values.get("obtained_at") is None:
            raise ValueError("obtained_at is missing")
        if not isinstance(values.get("profile"), str) or not isinstance(
            values.get("issuer"), str
        ):
            raise ValueError("profile or issuer is missing")
        for key in ("access_token", "refresh_token", "account", "ended"):
            if values.get(key) is not None and not isinstance(values[key], str):
                raise ValueError(f"{key} is not a string")
        values["scopes"] = tuple(str(s) for s in values.get("scopes") or ())
        values["generation"] = int(values.get("generation") or 0)
        values["failures"] = int(values.get("failures") or 0)
        values["rejected"] = bool(values.get("rejected"))
        values["forced"] = values.get("forced") is True
        error = values.get("last_error")
        values["last_error"] = LastError(**error) if isinstance(error, dict) else None
        return cls(**values)


class TokenStore:
    """Records on disk under one folder, with a lock file per profile."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, profile: str) -> Path:
        """The record file of a profile."""
        return self.folder / f"{profile}.json"

    def lock_path(self, profile: str) -> Path:
        """The lock file of a profile."""
        return self.folder / f"{profile}.lock"

    def ensure_folder(self) -> None:
        """Create the folder 0700, repairing wider permissions."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _tighten(self.folder, 0o700)

    def read(self, profile: str) -> TokenRecord | None:
        """The stored record, None when there is none; StoreError when unreadable."""
        path = self.path(profile)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror}") from None
        _tighten(path, 0o600)
        try:
            return TokenRecord.from_json(json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise StoreError(
                f"{path} is not a valid tokenwarden record ({exc}). It was left as it is; "
                f"run 'tokenwarden logout --profile {profile}' or delete the file, then sign in."
            ) from None

    def write(self, record: TokenRecord) -> None:
        """Replace a profile's record atomically (temp file, fsync, rename, fsync folder)."""
        self.ensure_folder()
        payload = json.dumps(record.to_json(), indent=1).encode()
        target = self.path(record.profile)
        fd, temp = tempfile.mkstemp(prefix=f".{record.profile}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        _fsync_folder(self.folder)

    def delete(self, profile: str) -> None:
        """Remove a profile's record (sign-out)."""
        with contextlib.suppress(FileNotFoundError):
            self.path(profile).unlink()
        _fsync_folder(self.folder)

    def quarantine(self, profile: str) -> Path | None:
        """Move an unreadable record aside so a new sign-in can proceed; returns where."""
        path = self.path(profile)
        if not path.exists():
            return None
        aside = path.with_name(f"{path.name}.unreadable")
        os.replace(path, aside)
        return aside

    def mtime_ns(self, profile: str) -> int | None:
        """Modification time of a record, for cheap change detection."""
        try:
            return self.path(profile).stat().st_mtime_ns
        except FileNotFoundError:
            return None

    @contextlib.contextmanager
    def locked(self, profile: str, timeout: float) -> Iterator[None]:
        """Hold the profile's cross-process lock (blocking; for synchronous callers)."""
        lock = self.file_lock(profile)
        lock.acquire(timeout=timeout)
        try:
            yield
        finally:
            lock.release()

    def file_lock(self, profile: str) -> Any:
        """A filelock.FileLock for the profile (imported lazily: start-up stays cheap)."""
        import filelock

        self.ensure_folder()
        return filelock.FileLock(str(self.lock_path(profile)), mode=0o600, thread_local=False)


def _tighten(path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & ~mode:
        os.chmod(path, mode)
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
