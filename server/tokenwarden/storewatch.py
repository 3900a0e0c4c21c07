"""Notice when another process changes the token store, without polling when idle.

Every editor window runs its own server over one store, and the CLI writes to it
too. A ``StoreWatcher`` calls back with a profile name whenever that profile's
record file was written, replaced or removed, so each window can re-read it and
tell its editor. On Linux it asks the kernel (inotify through ctypes, on the
event loop: no thread, no wake-up while nothing changes); elsewhere it compares a
stat of the folder's records once a second.

The store writes atomically (temp file, then rename), so a finished write shows
up as ``IN_MOVED_TO``; ``IN_CLOSE_WRITE`` covers writers that rewrite in place and
``IN_DELETE`` / ``IN_MOVED_FROM`` a sign-out or a record moved aside. Temp files
(``.name.tmp``) and lock files are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import struct
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from tokenwarden.store import FileStamp, stamp_of

log = logging.getLogger(__name__)

RECORD_SUFFIX = ".json"
SIGN_IN_SUFFIX = ".signin"  # sharedlogin.SUFFIX: a sign-in in progress in another process
POLL_SECONDS = 1.0

IN_MODIFY_EVENTS = 0x0000_0008 | 0x0000_0040 | 0x0000_0080 | 0x0000_0200
"""IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE."""
IN_Q_OVERFLOW = 0x0000_4000
IN_IGNORED = 0x0000_8000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = 0o2000000
_EVENT_HEADER = struct.Struct("iIII")
_READ_SIZE = 64 * 1024

#: What tells a changed record or marker apart: the store's own stamp.
Signature = FileStamp
ChangeCallback = Callable[[str], None]


def profile_of(filename: str) -> str | None:
    """The profile a record or sign-in marker belongs to; None for temp and lock files."""
    if filename.startswith("."):
        return None
    for suffix in (RECORD_SUFFIX, SIGN_IN_SUFFIX):
        if filename.endswith(suffix):
            return filename[: -len(suffix)] or None
    return None


class StoreWatcher:
    """Calls ``on_change(profile)`` on the event loop when a record file changes."""

    def __init__(
        self, folder: Path, on_change: ChangeCallback, *, poll_seconds: float = POLL_SECONDS,
        use_inotify: bool = True,
    ) -> None:
        self.folder = folder
        self.on_change = on_change
        self.poll_seconds = poll_seconds
        self._use_inotify = use_inotify
        self._inotify: _Inotify | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def backend(self) -> str:
        """``inotify``, ``poll`` or ``stopped``."""
        if self._inotify is not None:
            return "inotify"
        return "poll" if self._poll_task is not None else "stopped"

    def start(self) -> None:
        """Begin watching (creates the folder 0700 if needed); call on the running loop."""
        self._loop = asyncio.get_running_loop()
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._use_inotify and sys.platform.startswith("linux"):
            try:
                self._inotify = _Inotify(self.folder, self._loop, self._deliver, self._lost)
                return
            except OSError as exc:
                log.info("inotify unavailable (%s); checking the store every %.0f s",
                         exc, self.poll_seconds)
        self._start_polling()

    def close(self) -> None:
        """Stop watching; safe to call twice."""
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None
        if self._poll_task is not None:
            self._poll_task.cancel()
            self._poll_task = None

    def _deliver(self, names: Iterable[str]) -> None:
        for name in sorted(set(names)):
            try:
                self.on_change(name)
            except Exception:  # one bad listener must not stop the watcher
                log.exception("store change listener failed for profile %s", name)

    def _lost(self) -> None:
        """The kernel dropped the watch (folder removed) or overflowed: rescan, re-arm."""
        self._deliver(_record_names(self.folder))
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None
        self.start()

    def _start_polling(self) -> None:
        assert self._loop is not None
        self._poll_task = self._loop.create_task(self._poll(_signatures(self.folder)))

    async def _poll(self, seen: dict[str, Signature]) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            now = _signatures(self.folder)
            changed = [profile_of(name) for name in seen.keys() | now.keys()
                       if seen.get(name) != now.get(name)]
            seen = now
            if changed:
                self._deliver(name for name in changed if name is not None)


class _Inotify:
    """One inotify descriptor watching one folder, read by the event loop."""

    def __init__(
        self, folder: Path, loop: asyncio.AbstractEventLoop,
        deliver: Callable[[Iterable[str]], None], lost: Callable[[], None],
    ) -> None:
        libc = _libc()
        fd = int(libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC))
        if fd < 0:
            raise _errno_error("inotify_init1")
        watch = int(libc.inotify_add_watch(fd, os.fsencode(folder), IN_MODIFY_EVENTS))
        if watch < 0:
            error = _errno_error("inotify_add_watch")
            os.close(fd)
            raise error
        self.fd = fd
        self._loop = loop
        self._deliver = deliver
        self._lost = lost
        loop.add_reader(fd, self._readable)

    def close(self) -> None:
        if self.fd < 0:
            return
        with contextlib.suppress(Exception):
            self._loop.remove_reader(self.fd)
        os.close(self.fd)
        self.fd = -1

    def _readable(self) -> None:
        names: list[str] = []
        lost = False
        while True:
            try:
                data = os.read(self.fd, _READ_SIZE)
            except BlockingIOError:
                break
            except OSError:
                lost = True
                break
            if not data:
                break
            for mask, name in _parse_events(data):
                if mask & (IN_Q_OVERFLOW | IN_IGNORED):
                    lost = True
                elif (profile := profile_of(name)) is not None:
                    names.append(profile)
        if names:
            self._deliver(names)
        if lost:
            self._lost()


def _parse_events(data: bytes) -> Iterable[tuple[int, str]]:
    """(mask, file name) of each ``struct inotify_event`` in a read buffer."""
    offset = 0
    while offset + _EVENT_HEADER.size <= len(data):
        _wd, mask, _cookie, length = _EVENT_HEADER.unpack_from(data, offset)
        offset += _EVENT_HEADER.size
        raw = data[offset : offset + length].split(b"\0", 1)[0]
        offset += length
        yield mask, os.fsdecode(raw)


def _libc() -> ctypes.CDLL:
    # The running interpreter already links libc: no find_library (it spawns ldconfig).
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "inotify_init1"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if not hasattr(libc, "inotify_init1"):
        raise OSError("libc has no inotify")
    libc.inotify_init1.argtypes = [ctypes.c_int]
    libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    return libc


def _errno_error(call: str) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"{call}: {os.strerror(code)}")


def _record_names(folder: Path) -> list[str]:
    return [name for name in map(profile_of, _signatures(folder)) if name is not None]


def _signatures(folder: Path) -> dict[str, Signature]:
    """File name → (mtime_ns, size, inode) of every record and sign-in marker in the folder."""
    found: dict[str, Signature] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        profile = profile_of(entry.name)
        if profile is None:
            continue
        with contextlib.suppress(OSError):
            found[entry.name] = stamp_of(entry.stat())
    return found
