"""The direct upstream transport: HTTP/1.1 on h11 over an asyncio transport, with a keep-alive pool.

Why not httpx2 here: a general client spends about 2 ms of Python per request on
machinery a reverse proxy does not need (cookie jars, redirects, URL models,
header normalisation). h11 (in the client role) frames the request and parses
the answer; this module adds the pool, deadlines and reuse rules:

- a connection goes back to the pool only when its answer was read whole, both
  sides of h11 are ``DONE`` and not one byte beyond the answer arrived: unread
  bytes (the tail of a bad answer, or a smuggled second one) end the connection;
- while idle, any byte or close from the upstream retires the connection at once
  (``H11Connection.parked``), so the next request never reads what it sent unasked;
- idle connections are closed after ``KEEPALIVE_EXPIRY_SECONDS``;
- a reused connection that closes before a byte of answer is retried once on a
  new one for idempotent methods (RFC 9110 9.2.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

from tokenwarden.proxy.h11io import H11Connection, ProtocolError
from tokenwarden.proxy.headers import HeaderList, Headers
from tokenwarden.proxy.upstream import Content, UpstreamError, UpstreamResponse

CONNECT_TIMEOUT_SECONDS = 15.0
#: Per write, not per request: an upload may take long, but must keep moving.
WRITE_TIMEOUT_SECONDS = 60.0
#: Idle connections older than this are closed, not reused: a peer or a NAT that
#: dropped one silently (laptop sleep) would otherwise swallow the next request.
KEEPALIVE_EXPIRY_SECONDS = 5.0
MAX_IDLE_CONNECTIONS = 50
#: Safe to send again when a reused connection died before answering (RFC 9110 9.2.2).
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


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


class UpstreamTimeout(UpstreamError):
    """The upstream did not start its answer within the deadline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


class _Connection:
    """One open connection and its h11 state; ``idle_since`` while pooled."""

    def __init__(self, stream: H11Connection) -> None:
        self.stream = stream
        self.idle_since = 0.0

    def park(self) -> None:
        """Pool it: from now on any byte or close from the upstream retires it."""
        self.idle_since = time.monotonic()
        self.stream.parked = True

    def unpark(self, now: float) -> bool:
        """Take it from the pool; whether it can carry another request."""
        stream = self.stream
        if not stream.parked or stream.closing:
            return False  # the upstream spoke or closed while idle
        stream.parked = False
        return now - self.idle_since < KEEPALIVE_EXPIRY_SECONDS

    def close(self) -> None:
        """Close without waiting."""
        self.stream.parked = False
        self.stream.close()


class DirectUpstream:
    """A keep-alive pool of HTTP/1.1 connections to one origin."""

    def __init__(self, base_url: str, ssl_context: ssl.SSLContext | None = None,
                 *, head_timeout: float = 300.0) -> None:
        self.origin = Origin.parse(base_url)
        self._host_header = self.origin.host_header.encode("idna")
        #: The base path as bytes once h11 accepted it and the Host value, else None.
        self._checked_base = _sendable(self.origin.base_path, self._host_header)
        self.head_timeout = head_timeout
        self._ssl_context = ssl_context
        self._idle: list[_Connection] = []
        self._closed = False

    async def send(self, method: str, target: str, headers: Headers, content: Content,
                   length: int | None = None) -> UpstreamResponse:
        """Send a request and read the answer's head; the body streams from the result."""
        request = self._request(method, target, headers, content, length)
        # A streamed body cannot be sent twice, so it never risks a stale connection.
        streamed = not (content is None or isinstance(content, bytes))
        reused = None if streamed else self._take_idle()
        if reused is not None:
            try:
                return await self._exchange(reused, request, content)
            except _NoAnswer as exc:
                if method not in _IDEMPOTENT:  # it may have acted on it: not sending twice
                    raise UpstreamError(str(exc)) from None
            except _StaleConnection:
                pass  # the peer closed it while idle: once more on a new connection
        try:
            return await self._exchange(await self._connect(), request, content)
        except _StaleConnection as exc:
            raise UpstreamError(str(exc)) from None

    async def aclose(self) -> None:
        """Close the idle connections; open responses close their own."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _request(self, method: str, target: str, headers: Headers, content: Content,
                 length: int | None) -> h11.Request:
        fields = [(b"Host", self._host_header), *headers]
        if content is None or isinstance(content, bytes):
            if content or method in _WITH_BODY:
                fields.append((b"Content-Length", b"%d" % len(content or b"")))
        elif length is None:
            fields.append((b"Transfer-Encoding", b"chunked"))
        else:
            fields.append((b"Content-Length", b"%d" % length))
        if self._checked_base is not None:
            # Every part was validated once already: the method, target and forwarded
            # fields by h11 when it parsed the client's request, the base path and Host
            # when this upstream was made, the Authorization value by the store (visible
            # ASCII only). h11's ``_parsed`` skips its per-field regexes, 4 % of the
            # proxy's instructions per request (bench/proxy_cost.py, 1.26 -> 1.22 M).
            return h11.Request(method=method.encode("ascii"),
                               target=self._checked_base + target.encode("ascii"),
                               headers=fields, _parsed=True)
        try:
            return h11.Request(method=method, target=self.origin.base_path + target,
                               headers=fields)
        except h11.LocalProtocolError as exc:
            raise UpstreamError(f"the request cannot be sent as HTTP/1.1: {exc}") from None

    def _take_idle(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.unpark(now):
                return connection
            connection.close()
        return None

    def _release(self, connection: _Connection) -> None:
        if self._closed or len(self._idle) >= MAX_IDLE_CONNECTIONS:
            connection.close()
            return
        connection.park()
        self._idle.append(connection)

    async def _connect(self) -> _Connection:
        origin = self.origin
        context = self._ssl_context
        if origin.scheme == "https" and context is None:
            context = self._ssl_context = _default_ssl_context()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                _, stream = await asyncio.get_running_loop().create_connection(
                    lambda: H11Connection(h11.CLIENT, allow_folding=True),
                    origin.host, origin.port, ssl=context,
                    server_hostname=origin.host if context else None,
                )
        except TimeoutError:
            raise UpstreamError(f"connecting to {origin.host}:{origin.port} timed out") from None
        except OSError as exc:
            raise UpstreamError(f"cannot connect to {origin.host}:{origin.port}: "
                                f"{_describe(exc)}") from None
        return _Connection(stream)

    async def _exchange(self, connection: _Connection, request: h11.Request,
                        content: Content) -> UpstreamResponse:
        try:
            await _write_request(connection, request, content)
            deadline = asyncio.get_running_loop().time() + self.head_timeout
            try:
                return await _read_response(connection, deadline, self._release)
            except TimeoutError:
                raise UpstreamTimeout(self.head_timeout) from None
        except BaseException:
            connection.close()
            raise


async def _write_request(connection: _Connection, request: h11.Request,
                         content: Content) -> None:
    stream = connection.stream
    try:
        stream.write(request)
        if content is None or isinstance(content, bytes):
            if content:
                stream.write_data(content)
            stream.write(h11.EndOfMessage())
            await _drain(stream)
            return
        async for piece in content:
            if piece:
                stream.write_data(piece)
                await _drain(stream)
        stream.write(h11.EndOfMessage())
        await _drain(stream)
    except h11.LocalProtocolError as exc:  # a streamed body longer or shorter than declared
        raise UpstreamError(f"the request body did not match its length: {exc}") from None
    except ConnectionError as exc:
        raise _StaleConnection(f"upstream closed the connection ({type(exc).__name__})") \
            from None


async def _drain(stream: H11Connection) -> None:
    """Wait until the upstream takes the bytes: a long upload is fine, a stalled one is not."""
    if not stream.write_paused:
        await stream.drain()  # at once; raises if the connection is gone
        return
    try:
        async with asyncio.timeout(WRITE_TIMEOUT_SECONDS):
            await stream.drain()
    except TimeoutError:
        raise UpstreamError("the upstream stopped taking the request body") from None


def _sendable(base_path: str, host: bytes) -> bytes | None:
    """``base_path`` as bytes if h11 takes it as a target prefix and ``host`` as Host."""
    try:
        path = base_path.encode("ascii")
        h11.Request(method=b"GET", target=path + b"/", headers=[(b"Host", host)])
    except (UnicodeEncodeError, h11.LocalProtocolError):
        return None  # then each request is validated, and refused with the reason
    return path


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


async def _read_response(connection: _Connection, deadline: float,
                         release: Callable[[_Connection], None]) -> _Response:
    """Read the head of the final (non-1xx) answer by ``deadline`` (loop time)."""
    stream = connection.stream
    while True:
        try:
            event = await stream.next_head(deadline)
        except ProtocolError as exc:
            if not stream.received_any:
                raise _NoAnswer("upstream closed the connection without answering") from None
            raise UpstreamError(f"upstream answered with something that is not HTTP/1.1 "
                                f"it can pass on ({exc})") from None
        except ConnectionError as exc:
            raise _NoAnswer(f"upstream closed the connection ({type(exc).__name__})") from None
        if isinstance(event, h11.Response):
            return _Response(connection, release, event)
        if isinstance(event, h11.ConnectionClosed):
            raise _NoAnswer("upstream closed the connection without answering")
        # An interim answer (100 Continue, 103 Early Hints): the final one follows.


class _Response:
    """An answer read from one pooled connection."""

    def __init__(self, connection: _Connection, release: Callable[[_Connection], None],
                 event: h11.Response) -> None:
        self.status = event.status_code
        self.reason = event.reason
        self.headers = HeaderList(event.headers.raw_items())
        self.parsed_headers: object | None = event.headers
        self._release = release
        self._connection: _Connection | None = connection
        # Both framings at once may be an attempt at response splitting: h11 reads the
        # chunked body (RFC 9112 6.3), but the connection is not trusted again.
        self._reusable = not (self.header(b"transfer-encoding") is not None
                              and self.header(b"content-length") is not None)

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower case), or None."""
        return self.headers.get(name)

    async def read_piece(self) -> bytes | None:
        """The next piece of the body, de-chunked; None at its end (back to the pool then)."""
        connection = self._connection
        if connection is None:
            return None
        stream = connection.stream
        try:
            event = await stream.next_event()
        except ProtocolError as exc:
            raise UpstreamError(f"upstream sent a malformed body: {exc}") from None
        except ConnectionError as exc:
            raise UpstreamError(f"upstream connection broke ({type(exc).__name__})") from None
        if type(event) is h11.Data:
            return bytes(event.data)
        if type(event) is not h11.EndOfMessage:
            raise UpstreamError("upstream sent a malformed body: connection closed inside it")
        self._connection = None
        if self._reusable and stream.reusable:
            stream.h11.start_next_cycle()
            if not stream.unread:
                self._release(connection)
                return None
        connection.close()
        return None

    async def aclose(self) -> None:
        """Close the connection unless the body was read whole and it was handed back."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
            with contextlib.suppress(Exception):
                await connection.stream.wait_closed()
