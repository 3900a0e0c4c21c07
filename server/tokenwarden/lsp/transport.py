"""stdio for the language server: private pipes, message framing, fast exit.

The editor's pipes are moved to private descriptors at start, and fd 0/1 are
pointed at /dev/null and stderr: a stray ``print`` or a child process can then
never corrupt the protocol stream or keep the editor's pipe open after we leave.
Messages are read on the event loop (no thread) when stdin is a pipe or socket,
with a one-thread reader as the fallback for anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import sys
from collections.abc import AsyncIterator, Awaitable
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, NoReturn, Protocol

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class FrameSource(Protocol):
    """Where framed messages come from."""

    def readline(self) -> Awaitable[bytes]:
        """One header line; b"" at end of input."""
        ...

    def readexactly(self, n: int) -> Awaitable[bytes]:
        """``n`` bytes, or fewer at end of input."""
        ...


def private_stdio() -> tuple[BinaryIO, BinaryIO]:
    """(input, output) on private descriptors; fd 0 becomes /dev/null, fd 1 stderr."""
    try:
        in_fd, out_fd = os.dup(sys.stdin.fileno()), os.dup(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return sys.stdin.buffer, sys.stdout.buffer
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        os.dup2(sys.stderr.fileno(), 1)
    return os.fdopen(in_fd, "rb", buffering=0), os.fdopen(out_fd, "wb")


class _StreamSource:
    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def readline(self) -> bytes:
        return await self._reader.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self._reader.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            return exc.partial


class _ThreadSource:
    """Blocking reads in one worker thread (stdin is a regular file, say)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = os.fdopen(os.dup(stream.fileno()), "rb") if _has_fd(stream) else stream
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokenwarden-stdin")

    def readline(self) -> Awaitable[bytes]:
        return asyncio.get_running_loop().run_in_executor(self._pool, self._stream.readline)

    def readexactly(self, n: int) -> Awaitable[bytes]:
        return asyncio.get_running_loop().run_in_executor(self._pool, self._stream.read, n)


def _has_fd(stream: BinaryIO) -> bool:
    try:
        stream.fileno()
    except (OSError, ValueError, AttributeError):
        return False
    return True


def _pollable(stream: BinaryIO) -> bool:
    """Whether epoll can watch ``stream``: a pipe, a socket or a terminal.

    ``/dev/null`` and regular files pass asyncio's own check but then fail to
    register (EPERM) in a callback, where nothing can catch it, and the server
    would wait forever for input that already ended.
    """
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)


async def open_source(stream: BinaryIO) -> FrameSource:
    """Read ``stream`` on the event loop if it is a pipe, else in a thread."""
    if not _pollable(stream):
        log.debug("stdin is not a pipe; reading it in a thread")
        return _ThreadSource(stream)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_MESSAGE_BYTES, loop=loop)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stream)
    except (ValueError, OSError, NotImplementedError) as exc:
        log.debug("stdin is not a pipe (%s); reading it in a thread", exc)
        return _ThreadSource(stream)
    return _StreamSource(reader)


async def frames(source: FrameSource) -> AsyncIterator[bytes]:
    """Bodies of ``Content-Length``-framed messages until end of input."""
    while True:
        length: int | None = None
        while True:
            line = await source.readline()
            if not line:
                return
            if not line.strip():
                if length is not None:
                    break
                continue
            name, _, value = line.decode("ascii", "replace").partition(":")
            if name.strip().lower() == "content-length":
                length = _length(value)
        body = await source.readexactly(length)
        if len(body) < length:
            return
        yield body


def _length(value: str) -> int | None:
    try:
        length = int(value.strip())
    except ValueError:
        log.warning("ignoring a message with a malformed Content-Length")
        return None
    if not 0 <= length <= MAX_MESSAGE_BYTES:
        log.warning("ignoring a message of %d bytes", length)
        return None
    return length


def leave(code: int) -> NoReturn:
    """Flush what is buffered and end the process now (LSP ``exit``)."""
    logging.shutdown()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(code)
