"""The proxy's client side on h11: read requests, write answers (h11 in the server role)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import h11

from tokenwarden.proxy.h11io import H11Connection, ProtocolError
from tokenwarden.proxy.headers import HeaderList, Headers
from tokenwarden.proxy.replies import Reply


class BadRequest(ProtocolError):
    """The client sent a request the proxy will not serve."""


@dataclass(slots=True)
class RequestHead:
    """The request line and headers of one client request (as h11 parsed them).

    Read-only by convention; not ``frozen``, which makes each one 4 times dearer to build.
    """

    method: str
    target: str
    version: str
    headers: HeaderList
    #: Whether the body comes with chunked transfer coding (h11 allows no other).
    chunked: bool
    #: The declared body length (validated by h11), or None when absent.
    content_length: int | None

    def get(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower case), or None."""
        return self.headers.get(name)

    @classmethod
    def of(cls, event: h11.Request) -> RequestHead:
        """The head of an h11 request, refusing framing h11 lets through but a proxy must not."""
        headers = HeaderList(event.headers.raw_items())
        chunked = headers.get(b"transfer-encoding") is not None
        length = headers.get(b"content-length")
        if chunked and length is not None:
            raise BadRequest("both Transfer-Encoding and Content-Length")
        return cls(event.method.decode("ascii"), event.target.decode("ascii"),
                   f"HTTP/{event.http_version.decode('ascii')}", headers, chunked,
                   None if length is None else int(length))


def check_target(target: str) -> None:
    """Origin-form only, and no dot segments that could climb out of the upstream's base path."""
    if not target.startswith("/"):
        raise BadRequest("the proxy expects origin-form request targets ('/path?query')")
    path = target.partition("?")[0]
    if "." not in path and "%" not in path and "\\" not in path:
        return  # nothing that could make a dot segment: most API paths
    path = unquote(path)
    if any(part in (".", "..") for part in path.replace("\\", "/").split("/")):
        raise BadRequest("the path must not contain '.' or '..' segments")


class ClientSide:
    """One client connection: requests in, answers out, framing by h11."""

    def __init__(self, stream: H11Connection) -> None:
        self.stream = stream

    async def next_request(self, deadline: float | None = None) -> RequestHead | None:
        """The next request's head, or None when the client closed between requests.

        ``TimeoutError`` when the head is not whole by ``deadline`` (loop time).
        """
        stream = self.stream
        if stream.reusable:
            stream.h11.start_next_cycle()
        try:
            event = await stream.next_head(deadline)
        except ProtocolError as exc:
            raise BadRequest(str(exc)) from None
        if isinstance(event, h11.ConnectionClosed):
            return None
        if not isinstance(event, h11.Request):
            raise BadRequest("expected a request")
        return RequestHead.of(event)

    async def body(self) -> AsyncIterator[bytes]:
        """The request body as it arrives, de-chunked."""
        while True:
            event = await self.stream.next_event()
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                raise ProtocolError("connection closed before the end of the body")

    async def end_of_body(self) -> None:
        """Read the end of a request without a body."""
        if type(await self.stream.next_event()) is not h11.EndOfMessage:
            raise ProtocolError("expected the end of the request")

    @property
    def body_done(self) -> bool:
        """Whether the whole request body has been read."""
        return self.stream.h11.their_state is not h11.SEND_BODY

    def send_continue_if_expected(self) -> None:
        """Answer ``Expect: 100-continue`` before reading the body."""
        if self.stream.h11.they_are_waiting_for_100_continue:
            self.stream.write(h11.InformationalResponse(status_code=100, headers=[]))
            self.stream.flush()

    def queue_head(self, status: int, reason: bytes, headers: Headers | Any) -> None:
        """Queue an answer's head (h11 adds chunked framing or a close where needed).

        ``headers`` may be the header object h11 made when it parsed them, which it
        sends on without validating them a second time.
        """
        self.stream.write(h11.Response(status_code=status, headers=headers, reason=reason))

    async def send_data(self, data: bytes) -> None:
        """Send one piece of the answer's body, and wait until the client takes it."""
        self.stream.write_data(data)
        await self.stream.drain()

    async def send_end(self) -> None:
        """End the answer."""
        self.stream.write(h11.EndOfMessage())
        await self.stream.drain()

    async def send_reply(self, reply: Reply, *, keep_alive: bool) -> None:
        """Send one of the proxy's own answers."""
        self.queue_head(reply.status, reply.reason.encode("ascii"),
                        reply.headers(keep_alive=keep_alive))
        self.stream.write_data(reply.body)
        await self.send_end()

    async def send_error(self, reply: Reply) -> None:
        """After a bad request: answer if the exchange still allows one, then close."""
        if self.stream.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        with contextlib.suppress(h11.LocalProtocolError, ConnectionError):
            await self.send_reply(reply, keep_alive=False)

    @property
    def reusable(self) -> bool:
        """Whether another request may follow on this connection."""
        return self.stream.reusable

    def watch_gone(self, callback: Callable[[], None] | None) -> bool:
        """Call ``callback`` when the client closes its side; False when it already has.

        A half-close counts as gone, as in nginx's default (``proxy_ignore_client_abort
        off``): no client of a terminal tool half-closes and then waits, and an abandoned
        request must not hold an upstream open. Bytes that arrive meanwhile (a pipelined
        next request) wait unread; past a limit the socket is paused, and a client whose
        close then goes unseen is still answered. ``None`` stops watching.
        """
        stream = self.stream
        if callback is not None and stream.gone:
            return False
        stream.on_gone = callback
        return True
