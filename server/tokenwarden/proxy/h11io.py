r"""h11 on an asyncio transport: the one HTTP/1.1 parser of both sides of the proxy.

h11 (sans-IO, strict) parses and frames; ``H11Connection`` is the asyncio
``Protocol`` that feeds it what the socket delivers and writes what it produces.
On top of h11 it refuses what h11 tolerates but a proxy must not pass on: a bare
LF ending a line of a head (h11 reads it as a line break, so a status line
``200 OK\\nX: y`` would become a header), and, in requests, obsolete line folding.

Why a protocol and not asyncio's streams: the streams put a ``StreamReader``
between the socket and h11 and need a task reading the socket to notice that a
peer went away. Here the transport's callbacks say it directly (``on_gone``), and
a pooled connection that the upstream closes or speaks on while idle is marked
as it happens. Measured with ``bench/terminal_bench.py``: the stream version
spent about 0.3 ms more CPU per proxied request, most of the latency budget.

Bytes wait in ``_pending`` until h11 asks for more, so a slow consumer pauses the
socket (``READ_LIMIT``) instead of growing a buffer: a 200 MB body streams
through in a few pieces' worth of memory.
"""

from __future__ import annotations

import asyncio
import collections
import re
from collections.abc import Callable
from typing import Any

import h11

MAX_HEAD_BYTES = 64 * 1024
#: Received bytes held before the socket is paused until they are consumed.
READ_LIMIT = 256 * 1024

#: The end of a head as h11 finds it: an empty line, CRLF or bare LF (RFC 9112 2.2).
_HEAD_END = re.compile(rb"\n\r?\n")
_FOLDED = re.compile(rb"\n[ \t]")
#: The events that start a message, whose raw head ``_check_head`` looks at.
_HEADS = (h11.Request, h11.InformationalResponse, h11.Response)


class ProtocolError(Exception):
    """A peer sent something that is not HTTP/1.1 we can pass on safely."""


class H11Connection(asyncio.Protocol):
    """One HTTP/1.1 connection, ``role`` h11.CLIENT or h11.SERVER, on an asyncio transport."""

    def __init__(self, role: type[h11.CLIENT] | type[h11.SERVER], *,
                 allow_folding: bool) -> None:
        self.h11 = h11.Connection(role, max_incomplete_event_size=MAX_HEAD_BYTES)
        self.allow_folding = allow_folding
        self.transport: asyncio.Transport | None = None
        #: Called once when the peer closes its side or the connection is lost.
        self.on_gone: Callable[[], None] | None = None
        #: True once the peer closed its side (EOF) or the connection was lost.
        self.gone = False
        #: True while pooled: the peer speaking or closing then retires the connection.
        self.parked = False
        self.received_any = False
        self._pending: collections.deque[bytes] = collections.deque()
        self._pending_size = 0
        #: The peer closed its side, or the connection ended without an error.
        self._eof = False
        self._fed_eof = False
        #: How the connection ended, when it ended with an error.
        self._error: BaseException | None = None
        self._lost = False
        self._read_paused = False
        self._write_paused = False
        self._waiter: asyncio.Future[None] | None = None
        #: Loop time by which the head being read must be complete (``next_head``).
        self._deadline: float | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        #: Framed bytes waiting for ``flush``.
        self._out: list[bytes] = []
        #: Bytes of the head being read, as received: checked once h11 has parsed it.
        self._head = bytearray()

    # ------------------------------------------------------------ transport callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        """Hold the bytes until h11 asks; pause the socket past ``READ_LIMIT``."""
        if self.parked:  # the upstream spoke unasked: never read that as the next answer
            self._retire()
            return
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size > READ_LIMIT and not self._read_paused and self.transport:
            self._read_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        """The peer closed its side: h11 sees the end once it has read the rest."""
        self._eof = True
        self._peer_gone()
        if self.parked:
            self._retire()
        return True  # keep the transport: what to do with a half-closed peer is ours to say

    def connection_lost(self, exc: Exception | None) -> None:
        """Wake every waiter; a read after an error raises it."""
        self._lost = True
        if exc is None:
            self._eof = True
        else:
            self._error = exc
        self._peer_gone()
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionResetError("connection lost"))
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        """The send buffer is full: ``drain`` waits from now on."""
        self._write_paused = True

    def resume_writing(self) -> None:
        """The send buffer emptied: release a waiting ``drain``."""
        self._write_paused = False
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # ------------------------------------------------------------ reading

    async def next_event(self) -> Any:
        """The next h11 event, reading as needed; ``ProtocolError`` for bad input."""
        conn = self.h11
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise ProtocolError(str(exc)) from None
            if event is not h11.NEED_DATA:
                return event
            await self._feed()

    async def next_head(self, deadline: float | None = None) -> Any:
        """The next event, which should be a head; its raw bytes checked beyond h11.

        ``TimeoutError`` when the head is not whole by ``deadline`` (the loop's
        clock). A timer on the read itself, not ``asyncio.timeout``: that one costs
        3 % of the proxy's instructions per request, twice over.
        """
        buffered, closed = self.h11.trailing_data
        self._head = bytearray(buffered)
        self.received_any = bool(buffered)
        self._deadline = deadline
        try:
            if not (buffered or closed or self._pending or self._eof or self._error):
                await self._feed()  # h11 has nothing to parse: it would only say NEED_DATA
            event = await self.next_event()
        finally:
            self._deadline = None
        if isinstance(event, _HEADS):
            self._check_head()
        return event

    async def _feed(self) -> None:
        """Give h11 the next received piece, waiting for one; the end once the peer closed."""
        while not self._pending:
            if self._error is not None:
                if isinstance(self._error, ConnectionError):
                    raise self._error
                raise ConnectionResetError(str(self._error))
            if self._eof:
                if self._fed_eof:
                    raise ProtocolError("data after the end of the connection")
                self._fed_eof = True
                self.h11.receive_data(b"")
                return
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = None
            if self._deadline is not None:
                if loop.time() >= self._deadline:
                    self._waiter = None
                    raise TimeoutError
                timer = loop.call_at(self._deadline, _time_out, waiter)
            try:
                await waiter
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
        data = self._pending.popleft()
        self._pending_size -= len(data)
        if self._read_paused and self._pending_size <= READ_LIMIT // 2 and self.transport:
            self._read_paused = False
            self.transport.resume_reading()
        self.received_any = True
        if len(self._head) <= MAX_HEAD_BYTES:
            self._head += data
        self.h11.receive_data(data)

    def _check_head(self) -> None:
        raw = self._head
        end = _HEAD_END.search(raw)
        head = raw[:end.start() + 1] if end else raw
        if head.count(b"\n") != head.count(b"\r\n"):
            raise ProtocolError("a line of the head ends in a bare LF")
        if not self.allow_folding and _FOLDED.search(head):
            raise ProtocolError("folded header lines (obs-fold) are not accepted")

    @property
    def unread(self) -> bool:
        """Whether bytes arrived that h11 has not consumed (beyond the current message)."""
        return bool(self._pending) or bool(self.h11.trailing_data[0])

    @property
    def buffered_bytes(self) -> int:
        """Bytes received and not yet given to h11."""
        return self._pending_size

    # ------------------------------------------------------------ writing

    def write(self, event: Any) -> None:
        """Frame ``event`` and queue its bytes (sent by the next ``flush`` or ``drain``)."""
        data = self.h11.send(event)
        if data:
            self._out.append(data)

    def write_data(self, data: bytes) -> None:
        """Queue one piece of a body, framed (chunked or sized) as h11 decided."""
        pieces = self.h11.send_with_data_passthrough(h11.Data(data=data))
        if pieces:
            self._out.extend(pieces)

    def flush(self) -> None:
        """Send what is queued, in one write: a head and a small body leave in one packet."""
        out = self._out
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))
        out.clear()

    async def drain(self) -> None:
        """Send what is queued; wait until the peer takes it (at once unless the socket is full)."""
        self.flush()
        if self._lost:
            raise ConnectionResetError("connection lost")
        if not self._write_paused:
            return
        self._drain_waiter = asyncio.get_running_loop().create_future()
        await self._drain_waiter

    @property
    def write_paused(self) -> bool:
        """Whether the socket's send buffer is full (``drain`` would wait)."""
        return self._write_paused

    # ------------------------------------------------------------ state

    @property
    def reusable(self) -> bool:
        """Whether both sides finished the exchange cleanly and the connection may go on."""
        return self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE

    @property
    def closing(self) -> bool:
        """Whether the connection is closed or closing."""
        return self.transport is None or self.transport.is_closing() or self._lost

    def close(self) -> None:
        """Send what is queued and close, without waiting."""
        if self.transport is not None:
            self.flush()
            self.transport.close()

    async def wait_closed(self) -> None:
        """Wait until the transport has closed."""
        if self.transport is not None:
            await asyncio.shield(self._closed)

    def _peer_gone(self) -> None:
        if not self.gone:
            self.gone = True
            self._wake()
            callback, self.on_gone = self.on_gone, None
            if callback is not None:
                callback()

    def _retire(self) -> None:
        self.parked = False
        self.gone = True
        self.close()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def _time_out(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())
