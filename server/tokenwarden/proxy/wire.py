"""HTTP/1.1 on asyncio streams: the client side of the proxy (read requests, write responses).

Only what a reverse proxy for terminal tools needs: request heads with size limits,
``Content-Length`` and chunked request bodies, ``Expect: 100-continue``, and
responses with a known length, chunked, or delimited by closing the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 128
READ_CHUNK = 64 * 1024

#: Headers that describe one connection, never forwarded (RFC 9110 section 7.6.1).
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
    "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
})

Headers = list[tuple[str, str]]


class ProtocolError(Exception):
    """A peer sent something that is not HTTP/1.x we can handle."""


class BadRequest(ProtocolError):
    """The client sent a request head we cannot serve."""


@dataclass(frozen=True)
class RequestHead:
    """The request line and headers of one client request."""

    method: str
    target: str
    version: str
    headers: Headers

    def get(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    @property
    def keep_alive(self) -> bool:
        """Whether the client wants the connection kept open after this exchange."""
        tokens = connection_tokens(self.headers)
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens

    @property
    def chunked(self) -> bool:
        """Whether the body comes with chunked transfer coding."""
        return "chunked" in (self.get("transfer-encoding") or "").lower()

    @property
    def content_length(self) -> int | None:
        """The declared body length, or None when absent."""
        value = self.get("content-length")
        if value is None:
            return None
        if not value.strip().isdigit():
            raise BadRequest("invalid Content-Length")
        return int(value)


def connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    """The lower-cased options listed in every ``Connection`` header."""
    return {
        item.strip().lower()
        for name, value in headers if name.lower() == "connection"
        for item in value.split(",") if item.strip()
    }


def end_to_end(headers: Iterable[tuple[str, str]], drop: Iterable[str] = ()) -> Headers:
    """``headers`` without hop-by-hop ones, those named in ``Connection``, and ``drop``."""
    pairs = list(headers)
    skip = HOP_BY_HOP | connection_tokens(pairs) | {name.lower() for name in drop}
    return [(k, v) for k, v in pairs if k.lower() not in skip]


async def read_request_head(reader: asyncio.StreamReader) -> RequestHead | None:
    """The next request head, or None when the client closed the connection cleanly."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BadRequest("connection closed inside a request head") from None
    except asyncio.LimitOverrunError:
        raise BadRequest("request head too large") from None
    lines = raw.decode("latin-1").split("\r\n")
    while lines and not lines[0]:
        lines.pop(0)  # tolerate stray CRLF between requests (RFC 9112 section 2.2)
    parts = lines[0].split(" ") if lines else []
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest("malformed request line")
    if any(_stray(line) for line in lines):
        raise BadRequest("stray CR, LF or NUL in the request head")
    headers: Headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest("malformed header line")
        headers.append((name, value.strip()))
    if len(headers) > MAX_HEADERS:
        raise BadRequest("too many headers")
    head = RequestHead(parts[0], parts[1], parts[2], headers)
    _check_framing(head)
    return head


def _stray(line: str) -> bool:
    """Whether a head line holds a character that could split it into two on the way on."""
    return "\r" in line or "\n" in line or "\0" in line


def _check_framing(head: RequestHead) -> None:
    """Refuse ambiguous body framing, the raw material of request smuggling."""
    lengths = {v.strip() for k, v in head.headers if k.lower() == "content-length"}
    codings = [v for k, v in head.headers if k.lower() == "transfer-encoding"]
    if len(lengths) > 1:
        raise BadRequest("conflicting Content-Length headers")
    if codings and lengths:
        raise BadRequest("both Transfer-Encoding and Content-Length")
    if codings and ",".join(codings).replace(" ", "").lower() != "chunked":
        raise BadRequest("only the chunked transfer coding is supported")
    if lengths and not lengths.pop().isdigit():
        raise BadRequest("invalid Content-Length")


async def iter_body(reader: asyncio.StreamReader, head: RequestHead) -> AsyncIterator[bytes]:
    """The request body as it arrives, de-chunked."""
    if head.chunked:
        async for chunk in iter_chunked(reader):
            yield chunk
        return
    async for chunk in iter_sized(reader, head.content_length or 0):
        yield chunk


async def iter_sized(reader: asyncio.StreamReader, length: int) -> AsyncIterator[bytes]:
    """Exactly ``length`` bytes, in pieces of at most ``READ_CHUNK`` as they arrive."""
    while length > 0:
        piece = await reader.read(min(length, READ_CHUNK))
        if not piece:
            raise ProtocolError("connection closed before the end of the body")
        length -= len(piece)
        yield piece


async def iter_chunked(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """A chunked body, de-chunked, in pieces of at most ``READ_CHUNK`` as they arrive."""
    while True:
        size_line = await _read_line(reader)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ProtocolError("malformed chunk size") from None
        if size == 0:
            while await _read_line(reader):  # trailers: read and drop
                pass
            return
        async for piece in iter_sized(reader, size):
            yield piece
        if await _read_line(reader):
            raise ProtocolError("chunk not followed by CRLF")


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        return (await reader.readuntil(b"\r\n"))[:-2]
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        raise ProtocolError("malformed chunked body") from None


def response_head(status: int, reason: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """The bytes of a status line and headers."""
    lines = [f"HTTP/1.1 {status} {reason or 'Unknown'}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk_frame(data: bytes) -> bytes:
    """One chunk of a chunked response body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
