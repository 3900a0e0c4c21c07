"""An upstream on 127.0.0.1 that answers with exactly the bytes a test scripts.

For the framing the sample API never produces: close-delimited bodies, interim
1xx answers, folded headers, truncated or malformed answers, connections closed
while idle or without an answer. Each connection and request is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self


@dataclass
class Exchange:
    """What to do with one request: send ``answer`` (None: say nothing), then maybe close."""

    answer: bytes | None
    close: bool = False


class LoopbackServer:
    """An asyncio server on 127.0.0.1, on a port of its own; subclasses define ``_serve``."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._scheme = "http"

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"{self._scheme}://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def start(self, tls: ssl.SSLContext | None = None) -> Self:
        self._scheme = "https" if tls else "http"
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=tls)
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class ScriptedUpstream(LoopbackServer):
    """``script(index_on_connection, request_line)`` decides each answer."""

    def __init__(self, script: Callable[[int, str], Exchange]) -> None:
        super().__init__()
        self.script = script
        self.connections = 0
        self.requests: list[str] = []
        #: The writer of every connection, so a test can send bytes nobody asked for.
        self.writers: list[asyncio.StreamWriter] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            for index in range(100):
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                    return
                await _skip_body(reader, head)
                line = head.split(b"\r\n", 1)[0].decode()
                self.requests.append(line)
                exchange = self.script(index, line)
                if exchange.answer is not None:
                    writer.write(exchange.answer)
                    await writer.drain()
                if exchange.close:
                    return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def _skip_body(reader: asyncio.StreamReader, head: bytes) -> None:
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":", 1)[1]))


def answer(status: str = "200 OK", body: bytes = b"ok", *headers: str) -> bytes:
    """A complete answer with a ``Content-Length``."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
