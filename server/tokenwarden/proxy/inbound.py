"""The proxy's client side on h11: read requests, write answers (h11 in the server role)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import unquote

import h11

from tokenwarden.proxy.h11io import MAX_HEAD_BYTES, H11Stream, ProtocolError
from tokenwarden.proxy.headers import Headers, decoded, header
from tokenwarden.proxy.replies import Reply


class BadRequest(ProtocolError):
    """The client sent a request the proxy will not serve."""


@dataclass(frozen=True)
class RequestHead:
    """The request line and headers of one client request (as h11 parsed them)."""

    method: str
    target: str
    version: str
    headers: Headers

    def get(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        return header(self.headers, name)

    @property
    def chunked(self) -> bool:
        """Whether the body comes with chunked transfer coding."""
        return self.get("transfer-encoding") is not None  # h11 allows only "chunked"

    @property
    def content_length(self) -> int | None:
        """The declared body length (validated by h11), or None when absent."""
        value = self.get("content-length")
        return None if value is None else int(value)

    @classmethod
    def of(cls, event: h11.Request) -> RequestHead:
        """The head of an h11 request, refusing framing h11 lets through but a proxy must not."""
        head = cls(event.method.decode("ascii"), event.target.decode("ascii"),
                   f"HTTP/{event.http_version.decode('ascii')}",
                   decoded(event.headers.raw_items()))
        if head.chunked and head.get("content-length") is not None:
            raise BadRequest("both Transfer-Encoding and Content-Length")
        return head


def check_target(target: str) -> None:
    """Origin-form only, and no dot segments that could climb out of the upstream's base path."""
    if not target.startswith("/"):
        raise BadRequest("the proxy expects origin-form request targets ('/path?query')")
    path = unquote(target.partition("?")[0])
    if any(part in (".", "..") for part in path.replace("\\", "/").split("/")):
        raise BadRequest("the path must not contain '.' or '..' segments")


class ClientSide:
    """One client connection: requests in, answers out, framing by h11."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stream = H11Stream(h11.SERVER, reader, writer, allow_folding=False)

    async def next_request(self) -> RequestHead | None:
        """The next request's head, or None when the client closed between requests."""
        stream = self.stream
        if stream.reusable:
            stream.h11.start_next_cycle()
        try:
            event = await stream.next_head()
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

    @property
    def body_done(self) -> bool:
        """Whether the whole request body has been read."""
        return self.stream.h11.their_state is not h11.SEND_BODY

    def send_continue_if_expected(self) -> None:
        """Answer ``Expect: 100-continue`` before reading the body."""
        if self.stream.h11.they_are_waiting_for_100_continue:
            self.stream.write(h11.InformationalResponse(status_code=100, headers=[]))

    def queue_head(self, status: int, reason: str, headers: Headers) -> None:
        """Queue an answer's head (h11 adds chunked framing or a close where needed)."""
        self.stream.write(h11.Response(status_code=status, headers=headers,
                                       reason=reason.encode("latin-1")))

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
        self.queue_head(reply.status, reply.reason, reply.headers(keep_alive=keep_alive))
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

    async def wait_gone(self) -> None:
        """Return when the client closes its side while an answer is pending.

        Bytes that arrive meanwhile (a pipelined next request) go to h11's buffer,
        up to a head's worth. A half-close counts as gone, as in nginx's default
        (``proxy_ignore_client_abort off``): no client of a terminal tool half-closes
        and then waits, and an abandoned request must not hold an upstream open.
        """
        stream = self.stream
        while len(stream.h11.trailing_data[0]) <= MAX_HEAD_BYTES:
            data = await stream.reader.read(MAX_HEAD_BYTES)
            if not data:
                return
            stream.h11.receive_data(data)
        await asyncio.Event().wait()  # enough buffered: stop reading, never "gone"
