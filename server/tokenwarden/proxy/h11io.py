r"""h11 on asyncio streams: the one HTTP/1.1 parser of both sides of the proxy.

h11 (sans-IO, strict) parses and frames; this module feeds it the bytes an
asyncio ``StreamReader`` delivers and writes what it produces. On top of h11 it
refuses what h11 tolerates but a proxy must not pass on: a bare LF ending a line
of a head (h11 reads it as a line break, so a status line ``200 OK\\nX: y`` would
become a header), and, in requests, obsolete line folding.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import h11

MAX_HEAD_BYTES = 64 * 1024
READ_CHUNK = 64 * 1024

#: The end of a head as h11 finds it: an empty line, CRLF or bare LF (RFC 9112 2.2).
_HEAD_END = re.compile(rb"\n\r?\n")
_FOLDED = re.compile(rb"\n[ \t]")


class ProtocolError(Exception):
    """A peer sent something that is not HTTP/1.1 we can pass on safely."""


class H11Stream:
    """One HTTP/1.1 connection, ``role`` h11.CLIENT or h11.SERVER, on a stream pair."""

    def __init__(self, role: type[h11.CLIENT] | type[h11.SERVER],
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 *, allow_folding: bool) -> None:
        self.h11 = h11.Connection(role, max_incomplete_event_size=MAX_HEAD_BYTES)
        self.reader = reader
        self.writer = writer
        self.allow_folding = allow_folding
        #: Bytes of the head being read, as received: checked once h11 has parsed it.
        self._head = bytearray()
        self.received_any = False

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
            await self._receive()

    async def next_head(self) -> Any:
        """The next event, which should be a head; its raw bytes checked beyond h11."""
        self._head = bytearray(self.h11.trailing_data[0])
        self.received_any = bool(self._head)
        event = await self.next_event()
        if isinstance(event, h11.Request | h11.InformationalResponse | h11.Response):
            self._check_head()
        return event

    async def _receive(self) -> None:
        data = await self.reader.read(READ_CHUNK)
        if data:
            self.received_any = True
            if len(self._head) <= MAX_HEAD_BYTES:
                self._head += data
        try:
            self.h11.receive_data(data)
        except RuntimeError:  # data after the peer's EOF: it is gone either way
            raise ProtocolError("data after the end of the connection") from None

    def _check_head(self) -> None:
        raw = bytes(self._head)
        end = _HEAD_END.search(raw)
        head = raw[:end.start() + 1] if end else raw
        if head.count(b"\n") != head.count(b"\r\n"):
            raise ProtocolError("a line of the head ends in a bare LF")
        if not self.allow_folding and _FOLDED.search(head):
            raise ProtocolError("folded header lines (obs-fold) are not accepted")

    def write(self, event: Any) -> None:
        """Frame ``event`` and queue its bytes."""
        data = self.h11.send(event)
        if data:
            self.writer.write(data)

    def write_data(self, data: bytes) -> None:
        """Queue one piece of a body, framed (chunked or sized) as h11 decided."""
        pieces = self.h11.send_with_data_passthrough(h11.Data(data=data))
        if pieces:
            self.writer.writelines(pieces)

    async def drain(self) -> None:
        """Wait until the peer takes the queued bytes."""
        await self.writer.drain()

    @property
    def reusable(self) -> bool:
        """Whether both sides finished the exchange cleanly and the connection may go on."""
        return self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE
