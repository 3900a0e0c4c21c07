"""Editor hand-off: a terminal tool asks a running editor to prompt the user to sign in.

Each language server listens on a Unix socket ``editor-<pid>.sock`` in the user's
runtime folder (0700; the socket itself 0600). A client (``tokenwarden token --wait``)
connects, sends one JSON line ``{"profile": NAME}`` and reads one JSON line back.
The server accepts only peers of the same user (``SO_PEERCRED``), so another local
user cannot make your editor show prompts; a peer of the same user can only start a
sign-in that is needed (the editor ignores the request while the session is valid).
Nothing secret crosses the socket: the token is read from the shared store once the
sign-in completes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

from tokenwarden.paths import unsafe_folder

log = logging.getLogger(__name__)

SOCKET_PREFIX = "editor-"
MAX_REQUEST_BYTES = 4096
Handler = Callable[[str], Awaitable[bool]]


def socket_path(runtime_dir: Path, pid: int | None = None) -> Path:
    """Where the server of process ``pid`` listens."""
    return runtime_dir / f"{SOCKET_PREFIX}{pid or os.getpid()}.sock"


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket (Linux), else None."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


class HandoffListener:
    """The server side: accepts sign-in requests from terminal tools of the same user."""

    def __init__(self, runtime_dir: Path, handler: Handler) -> None:
        self.path = socket_path(runtime_dir)
        self._handler = handler
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Listen on the socket (folder 0700, socket 0600).

        The umask is never changed: it is process-wide, and an ``await`` lets other
        tasks run (and create folders and logs) while it would be in force. The socket
        is bound inside a folder only this user can enter, then made 0600.
        """
        folder = self.path.parent
        problem = unsafe_folder(folder, strict_owner=True)
        if problem is not None:
            raise OSError(f"refusing the hand-off folder: {problem}")
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        os.chmod(self.path, 0o600)

    async def close(self) -> None:
        """Stop listening and remove the socket file."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            sock = writer.get_extra_info("socket")
            uid = peer_uid(sock) if sock is not None else None
            if uid is not None and uid != os.getuid():
                await _reply(writer, {"accepted": False, "error": "different user"})
                return
            line = await asyncio.wait_for(reader.readline(), timeout=5)
            request = json.loads(line[:MAX_REQUEST_BYTES] or b"{}")
            profile = request.get("profile") if isinstance(request, dict) else None
            if not isinstance(profile, str) or not profile:
                await _reply(writer, {"accepted": False, "error": "profile missing"})
                return
            accepted = await self._handler(profile)
            await _reply(writer, {"accepted": accepted})
        except (TimeoutError, ValueError, OSError) as exc:
            log.info("hand-off request ignored (%s)", type(exc).__name__)
        finally:
            writer.close()


async def _reply(writer: asyncio.StreamWriter, message: dict[str, object]) -> None:
    writer.write(json.dumps(message).encode() + b"\n")
    await writer.drain()


def request_sign_in(runtime_dir: Path, profile: str, timeout: float = 5.0) -> bool:
    """Ask running editors to prompt for sign-in; True when one accepted."""
    if unsafe_folder(runtime_dir, strict_owner=True) is not None:
        return False  # a socket there could be anyone's
    try:
        candidates = sorted(runtime_dir.glob(f"{SOCKET_PREFIX}*.sock"),
                            key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return False
    return any(_ask(path, profile, timeout) for path in candidates)


def _ask(path: Path, profile: str, timeout: float) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps({"profile": profile}).encode() + b"\n")
            answer = sock.makefile("rb").readline(MAX_REQUEST_BYTES)
    except ConnectionRefusedError:
        with contextlib.suppress(OSError):
            path.unlink()  # a server that died without cleaning up
        return False
    except OSError:
        return False
    try:
        return bool(json.loads(answer).get("accepted"))
    except (ValueError, AttributeError):
        return False
