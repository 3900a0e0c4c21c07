"""A sign-in in progress, shared with every process on the same store.

While a process waits for the user, it leaves ``<profile>.signin`` in the store
folder (0600, written atomically): what the user is asked to do (the user code and
URL, or the browser URL) and which process waits. Every other window shows the
profile as ``signingIn`` with the same instructions, and its ``tokenwarden.login``
joins that sign-in instead of starting a second one. The file never holds the
device code or the PKCE verifier: only what a status already shows. A marker whose
process is gone, or whose sign-in has expired, is ignored (and removed).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from tokenwarden.clock import utc_iso
from tokenwarden.status import LoginInfo
from tokenwarden.store import FileStamp, file_stamp

log = logging.getLogger(__name__)

SUFFIX = ".signin"


@dataclass(frozen=True)
class SharedSignIn:
    """A sign-in another process (or this one) is waiting on."""

    login: LoginInfo
    pid: int


def marker_path(folder: Path, profile: str) -> Path:
    """Where a profile's sign-in marker lives."""
    return folder / f"{profile}{SUFFIX}"


def share(folder: Path, profile: str, login: LoginInfo) -> None:
    """Announce this process's sign-in of ``profile`` (best effort: never fails a sign-in)."""
    payload = {
        "pid": os.getpid(),
        "flow": login.flow,
        "userCode": login.user_code,
        "verificationUri": login.verification_uri,
        "verificationUriComplete": login.verification_uri_complete,
        "authorizationUri": login.authorization_uri,
        "expiresAt": utc_iso(login.expires_at),
        "expiresIn": login.expires_in,
        "interval": login.interval,
    }
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{profile}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)
        os.replace(temp, marker_path(folder, profile))
    except OSError as exc:
        log.warning("other windows will not see the sign-in of profile %s (%s)", profile,
                    exc.strerror or exc)


def unshare(folder: Path, profile: str) -> None:
    """Remove this process's marker of ``profile`` (someone else's is left alone)."""
    found = _read(marker_path(folder, profile))
    if found is not None and found.get("pid") != os.getpid():
        return
    with contextlib.suppress(OSError):
        marker_path(folder, profile).unlink()


def stamp(folder: Path, profile: str) -> FileStamp | None:
    """The marker's stamp (one ``stat``), for cheap change detection."""
    return file_stamp(os.path.join(folder, profile + SUFFIX))


def read_shared(folder: Path, profile: str, now: datetime) -> SharedSignIn | None:
    """Another live process's sign-in of ``profile``, or None."""
    path = marker_path(folder, profile)
    raw = _read(path)
    if raw is None:
        return None
    try:
        shared = _parse(raw)
    except (KeyError, TypeError, ValueError):
        log.info("ignoring an unreadable sign-in marker %s", path)
        return None
    if shared.pid == os.getpid():
        return None  # this process's own: its session already knows
    if shared.login.expires_at <= now or not _alive(shared.pid):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return shared


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _parse(raw: dict[str, Any]) -> SharedSignIn:
    def text(key: str) -> str | None:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise TypeError(key)
        return value

    expires = datetime.fromisoformat(str(raw["expiresAt"]).replace("Z", "+00:00"))
    flow = text("flow")
    login = LoginInfo(
        user_code=text("userCode"), verification_uri=text("verificationUri"),
        verification_uri_complete=text("verificationUriComplete"),
        expires_at=expires, expires_in=float(raw["expiresIn"]),
        interval=float(raw["interval"]), flow=flow if flow in ("device", "browser") else "device",
        authorization_uri=text("authorizationUri"),
    )
    pid = raw["pid"]
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        raise TypeError("pid")
    return SharedSignIn(login=replace(login, elsewhere=True), pid=pid)


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would end the process there; rely on the expiry
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True
