"""A lean HTTP/1.1 client on asyncio streams, with a keep-alive pool: the direct transport.

Why not httpx2 here: a general client spends about 2 ms of Python per request on
machinery a reverse proxy does not need (cookie jars, redirects, URL models, header
normalisation), which was most of the latency the proxy added. This client writes a
request the proxy has already vetted and reads the answer's framing (RFC 9112
section 6.3), handing the body on as it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tokenwarden.proxy.upstream import Content, UpstreamError, UpstreamResponse
from tokenwarden.proxy.wire import (
    LAST_CHUNK,
    READ_CHUNK,
    Headers,
    ProtocolError,
    chunk_frame,
    iter_chunked,
    iter_sized,
)

CONNECT_TIMEOUT_SECONDS = 15.0
#: Per write, not per request: an upload may take long, but must keep moving.
WRITE_TIMEOUT_SECONDS = 60.0
#: Idle connections older than this are closed, not reused: a peer or a NAT that
#: dropped one silently (laptop sleep) would otherwise swallow the next request.
KEEPALIVE_EXPIRY_SECONDS = 5.0
MAX_IDLE_CONNECTIONS = 50
MAX_RESPONSE_HEAD_BYTES = 128 * 1024
_NO_BODY_STATUSES = frozenset({204, 304})
#: Safe to send again when a reused connection died before answering (RFC 9110 9.2.2).
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
#: Framing is the client's job here, never the caller's.
_FRAMING = frozenset({"host", "content-length", "transfer-encoding", "connection"})


@dataclass(frozen=True)
class Origin:
    """Where requests go: scheme, host, port, the ``Host`` header and a base path."""

    scheme: str
    host: str
    port: int
    host_header: str
    base_path: str

    @classmethod
    def parse(cls, base_url: str) -> Origin:
        """Split an ``http(s)://host[:port][/path]`` URL (checked by the caller)."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        default = 443 if parts.scheme == "https" else 80
        return cls(parts.scheme, parts.hostname, parts.port or default,
                   parts.netloc.rpartition("@")[2], parts.path.rstrip("/"))


class _Connection:
    """One open connection; ``idle_since`` is set while it waits in the pool."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def usable(self, now: float) -> bool:
        """Whether it can carry another request: still open, not idle too long."""
        return (not self.reader.at_eof() and not self.writer.is_closing()
                and now - self.idle_since < KEEPALIVE_EXPIRY_SECONDS)

    def close(self) -> None:
        """Close without waiting."""
        self.writer.close()


class HTTP11Upstream:
    """A keep-alive pool of HTTP/1.1 connections to one origin."""

    def __init__(self, base_url: str, ssl_context: ssl.SSLContext | None = None) -> None:
        self.origin = Origin.parse(base_url)
        self._ssl_context = ssl_context
        self._idle: list[_Connection] = []
        self._closed = False

    async def send(self, method: str, target: str, headers: Headers, content: Content,
                   length: int | None = None) -> UpstreamResponse:
        """Send a request and read the answer's head; the body streams from the result."""
        head = self._request_head(method, target, headers, content, length)
        # A streamed body cannot be sent twice, so it never risks a stale connection.
        streamed = not (content is None or isinstance(content, bytes))
        reused = None if streamed else self._take_idle()
        if reused is not None:
            try:
                return await self._exchange(reused, method, head, content, length)
            except _NoAnswer as exc:
                if method not in _IDEMPOTENT:  # it may have acted on it: not sending twice
                    raise UpstreamError(str(exc)) from None
            except _StaleConnection:
                pass  # the peer closed it while idle: once more on a new connection
        try:
            return await self._exchange(await self._connect(), method, head, content, length)
        except _StaleConnection as exc:
            raise UpstreamError(str(exc)) from None

    async def aclose(self) -> None:
        """Close the idle connections; open responses close their own."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _request_head(self, method: str, target: str, headers: Headers, content: Content,
                      length: int | None) -> bytes:
        lines = [f"{method} {self.origin.base_path}{target} HTTP/1.1",
                 f"Host: {self.origin.host_header}"]
        lines.extend(f"{k}: {v}" for k, v in headers if k.lower() not in _FRAMING)
        if content is None or isinstance(content, bytes):
            if content or method in ("POST", "PUT", "PATCH"):
                lines.append(f"Content-Length: {len(content or b'')}")
        else:
            lines.append("Transfer-Encoding: chunked" if length is None
                         else f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _take_idle(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.usable(now):
                return connection
            connection.close()
        return None

    def _release(self, connection: _Connection) -> None:
        if self._closed or len(self._idle) >= MAX_IDLE_CONNECTIONS:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        self._idle.append(connection)

    async def _connect(self) -> _Connection:
        origin = self.origin
        context = self._ssl_context
        if origin.scheme == "https" and context is None:
            context = self._ssl_context = _default_ssl_context()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                reader, writer = await asyncio.open_connection(
                    origin.host, origin.port, ssl=context, limit=MAX_RESPONSE_HEAD_BYTES,
                    server_hostname=origin.host if context else None,
                )
        except TimeoutError:
            raise UpstreamError(f"connecting to {origin.host}:{origin.port} timed out") from None
        except OSError as exc:
            raise UpstreamError(f"cannot connect to {origin.host}:{origin.port}: "
                                f"{_describe(exc)}") from None
        return _Connection(reader, writer)

    async def _exchange(self, connection: _Connection, method: str, head: bytes,
                        content: Content, length: int | None) -> UpstreamResponse:
        try:
            await self._write_request(connection, head, content, chunked=length is None)
            return await _read_response(connection, method, self._release)
        except BaseException:
            connection.close()
            raise

    async def _write_request(self, connection: _Connection, head: bytes, content: Content,
                             *, chunked: bool) -> None:
        writer = connection.writer
        try:
            if content is None or isinstance(content, bytes):
                writer.write(head + (content or b""))
                await _drain(writer)
                return
            writer.write(head)
            async for piece in content:
                if piece:
                    writer.write(chunk_frame(piece) if chunked else piece)
                    await _drain(writer)
            if chunked:
                writer.write(LAST_CHUNK)
                await _drain(writer)
        except ConnectionError as exc:
            raise _StaleConnection(f"upstream closed the connection ({type(exc).__name__})") \
                from None


async def _drain(writer: asyncio.StreamWriter) -> None:
    """Wait until the upstream takes the bytes: a long upload is fine, a stalled one is not."""
    try:
        async with asyncio.timeout(WRITE_TIMEOUT_SECONDS):
            await writer.drain()
    except TimeoutError:
        raise UpstreamError("the upstream stopped taking the request body") from None


class _StaleConnection(UpstreamError):
    """Sending failed on a connection the peer had closed: safe to try a fresh one."""


class _NoAnswer(_StaleConnection):
    """The request went out and the connection closed without a byte of answer."""


def _describe(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLError):  # e.g. CERTIFICATE_VERIFY_FAILED
        return f"TLS failed ({exc.reason or type(exc).__name__})"
    return exc.strerror or type(exc).__name__


def _default_ssl_context() -> ssl.SSLContext:
    """The same trust as the OAuth calls: httpx2's (system store, ``SSL_CERT_FILE``)."""
    import httpx2  # only for an https upstream, and only once
    return httpx2.create_ssl_context()


async def _read_response(connection: _Connection, method: str,
                         release: Callable[[_Connection], None]) -> _Response:
    """Read the head of the final (non-1xx) answer and work out how its body is framed."""
    while True:
        version, status, reason, headers = await _read_head(connection.reader)
        if status >= 200:
            break
        if status == 101:
            raise UpstreamError("upstream switched protocols, which the proxy does not relay")
    response = _Response(connection, release, status, reason, headers)
    response.framing(version, method)
    return response


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, int, str, Headers]:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise _NoAnswer("upstream closed the connection without answering") from None
        raise UpstreamError("upstream closed the connection inside its answer's head") from None
    except asyncio.LimitOverrunError:
        raise UpstreamError("upstream's answer head is too large") from None
    except ConnectionError as exc:
        raise _NoAnswer(f"upstream closed the connection ({type(exc).__name__})") from None
    lines = raw[:-4].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise UpstreamError("upstream answered with something that is not HTTP/1.x")
    return version, int(code), reason, _parse_headers(lines[1:])


def _parse_headers(lines: list[str]) -> Headers:
    headers: Headers = []
    for line in lines:
        if "\n" in line or "\r" in line or "\0" in line:
            raise UpstreamError("upstream sent a malformed header line")
        if line[:1] in (" ", "\t") and headers:  # obs-fold: one space instead (RFC 9112 5.2)
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise UpstreamError("upstream sent a malformed header line")
        headers.append((name, value.strip()))
    return headers


class _Response:
    """An answer read from one pooled connection."""

    def __init__(self, connection: _Connection, release: Callable[[_Connection], None],
                 status: int, reason: str, headers: Headers) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self._release = release
        self._connection: _Connection | None = connection
        self._length: int | None = 0
        self._chunked = False
        self._reusable = False

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def framing(self, version: str, method: str) -> None:
        """How the body ends (RFC 9112 section 6.3), and whether the connection lives on."""
        codings = [v for k, v in self.headers if k.lower() == "transfer-encoding"]
        lengths = {v.strip() for k, v in self.headers if k.lower() == "content-length"}
        options = {item.strip().lower() for k, v in self.headers if k.lower() == "connection"
                   for item in v.split(",")}
        persistent = ("keep-alive" in options if version == "HTTP/1.0"
                      else "close" not in options)
        if method == "HEAD" or self.status in _NO_BODY_STATUSES:
            self._length = 0
        elif codings:
            self._chunked = ",".join(codings).replace(" ", "").lower().endswith("chunked")
            self._length = None
            # Both framings at once may be an attempt at response splitting: no reuse.
            persistent = persistent and self._chunked and not lengths
        elif lengths:
            value = lengths.pop()
            if lengths or not value.isdigit():
                raise UpstreamError("upstream sent an invalid Content-Length")
            self._length = int(value)
        else:
            self._length = None  # delimited by closing the connection
            persistent = False
        self._reusable = persistent

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body as it arrives, de-chunked; the connection returns to the pool at its end."""
        connection = self._connection
        if connection is None:
            return
        reader = connection.reader
        try:
            if self._chunked:
                async for piece in iter_chunked(reader):
                    yield piece
            elif self._length is None:
                while piece := await reader.read(READ_CHUNK):
                    yield piece
            else:
                async for piece in iter_sized(reader, self._length):
                    yield piece
        except ProtocolError as exc:
            raise UpstreamError(f"upstream sent a malformed body: {exc}") from None
        except ConnectionError as exc:
            raise UpstreamError(f"upstream connection broke ({type(exc).__name__})") from None
        self._connection = None
        if self._reusable:
            self._release(connection)
        else:
            connection.close()

    async def aclose(self) -> None:
        """Close the connection unless the body was read whole and it was handed back."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
            with contextlib.suppress(Exception):
                await connection.writer.wait_closed()
