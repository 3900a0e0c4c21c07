"""The auth event log: one JSON line per sign-in, renewal, rejection, fault and sign-out.

Every process of the user appends to the same file (``auth-events.jsonl`` in the
user log folder, 0600), so a bug report can be matched across editor windows, CLI
runs and the provider's own logs: each line carries a correlation id (also shown as
``lastError.correlationId`` in the status) and the provider's request id when it
sent one. Lines never hold a token, a refresh token or a device code. The file is
rotated by size; lines are small enough that O_APPEND keeps them whole.

The log is never written into a folder another user owns or can write, and the file
is opened with ``O_NOFOLLOW``: a symlink planted in its place (pointing at the
user's ``.bashrc``, say) makes the append fail instead of writing through it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tokenwarden.errors import StoreError
from tokenwarden.paths import unsafe_folder

log = logging.getLogger(__name__)

FILE_NAME = "auth-events.jsonl"
MAX_BYTES = 1024 * 1024
BACKUPS = 2


class AuthEventLog:
    """Appends auth events as JSON lines, rotating the file by size."""

    def __init__(self, folder: Path, *, process: str | None = None,
                 max_bytes: int = MAX_BYTES) -> None:
        self.path = folder / FILE_NAME
        self.process = process or _process_name()
        self.max_bytes = max_bytes
        self._refused: str | None = None

    def record(self, event: str, *, profile: str, outcome: str,
               correlation_id: str | None = None, request_id: str | None = None,
               detail: str | None = None) -> None:
        """Append one event; failures to log never disturb the caller."""
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "pid": os.getpid(),
            "process": self.process,
            "profile": profile,
            "event": event,
            "outcome": outcome,
        }
        if correlation_id:
            line["correlationId"] = correlation_id
        if request_id:
            line["requestId"] = request_id
        if detail:
            line["detail"] = detail[:300]
        with contextlib.suppress(OSError):
            self._append(json.dumps(line, separators=(",", ":")) + "\n")

    def _append(self, text: str) -> None:
        problem = unsafe_folder(self.path.parent, strict_owner=True)
        if problem is not None:
            if problem != self._refused:  # say it once per process, not once per event
                log.warning("not writing the auth event log: %s", problem)
                self._refused = problem
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            if self.path.lstat().st_size + len(text) > self.max_bytes:
                self._rotate()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.path, flags, 0o600)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)

    def _rotate(self) -> None:
        for index in range(BACKUPS, 0, -1):
            older = self.path.with_name(f"{FILE_NAME}.{index}")
            newer = self.path if index == 1 else self.path.with_name(f"{FILE_NAME}.{index - 1}")
            with contextlib.suppress(FileNotFoundError):
                os.replace(newer, older)


def read_events(folder: Path, profile: str | None = None) -> Iterator[dict[str, Any]]:
    """Events of the current file, oldest first (skipping unreadable lines)."""
    path = folder / FILE_NAME
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read the auth event log {path}: {exc.strerror}") from None
    for line in lines:
        event = _parse(line)
        if event is not None and (profile is None or event.get("profile") == profile):
            yield event


def follow_events(folder: Path, profile: str | None = None,
                  poll: float = 0.5) -> Iterator[dict[str, Any]]:
    """New events as they are appended (like ``tail -f``), across rotations."""
    path = folder / FILE_NAME
    position = path.stat().st_size if path.exists() else 0
    while True:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size < position:
            position = 0  # rotated
        if size > position:
            try:
                with path.open(encoding="utf-8", errors="replace") as handle:
                    handle.seek(position)
                    chunk = handle.read()
                    position = handle.tell()
            except OSError as exc:
                raise StoreError(f"cannot read the auth event log {path}: "
                                 f"{exc.strerror}") from None
            for line in chunk.splitlines():
                event = _parse(line)
                if event is not None and (profile is None or event.get("profile") == profile):
                    yield event
        time.sleep(poll)


def format_event(event: dict[str, Any]) -> str:
    """One human line for an event."""
    ids = " ".join(f"{k}={event[k]}" for k in ("correlationId", "requestId") if k in event)
    detail = f" — {event['detail']}" if event.get("detail") else ""
    return (f"{event.get('time')} {event.get('process')}[{event.get('pid')}] "
            f"{event.get('profile')}: {event.get('event')} {event.get('outcome')}"
            f"{detail} {ids}").rstrip()


def _parse(line: str) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _process_name() -> str:
    argv = sys.argv[1:2]
    return f"tokenwarden-{argv[0]}" if argv else "tokenwarden"
