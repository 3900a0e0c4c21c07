"""The proxy's HTTP/1.1 framing as plain functions over an in-memory stream."""

from __future__ import annotations

import asyncio

import pytest

from tokenwarden.proxy.body import read_body
from tokenwarden.proxy.wire import BadRequest, end_to_end, iter_body, read_request_head


def stream_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_chunked_body_is_decoded_and_trailers_dropped():
    reader = stream_of(b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n")
    head = await read_request_head(reader)
    assert head is not None and head.chunked
    assert b"".join([chunk async for chunk in iter_body(reader, head)]) == b"abcde"


async def test_small_body_is_buffered_for_replay_and_a_large_one_streams():
    small = stream_of(b"PUT / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd")
    head = await read_request_head(small)
    assert head is not None
    body = await read_body(small, head, max_replay_bytes=4)
    assert body.replayable and body.buffered == b"abcd"
    large = stream_of(b"PUT / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde")
    head = await read_request_head(large)
    assert head is not None
    body = await read_body(large, head, max_replay_bytes=4)
    assert not body.replayable and not body.consumed
    assert b"".join([chunk async for chunk in body.stream()]) == b"abcde"
    assert body.consumed


@pytest.mark.parametrize("headers", [
    "Content-Length: 3\r\nTransfer-Encoding: chunked",
    "Content-Length: 3\r\nContent-Length: 4",
    "Transfer-Encoding: gzip, chunked",
    "Content-Length: -1",
    " Folded: header",
    "X-Split: a\nInjected: b",
    "X-Split: a\rb",
    "X-Nul: a\0b",
])
async def test_ambiguous_or_unsupported_framing_is_refused(headers: str):
    with pytest.raises(BadRequest):
        await read_request_head(stream_of(f"POST / HTTP/1.1\r\n{headers}\r\n\r\n".encode()))


async def test_clean_close_between_requests_is_not_an_error():
    assert await read_request_head(stream_of(b"")) is None


def test_hop_by_hop_headers_and_those_named_in_connection_are_dropped():
    headers = [("Connection", "keep-alive, X-Private"), ("X-Private", "1"),
               ("Keep-Alive", "timeout=5"), ("Transfer-Encoding", "chunked"),
               ("Upgrade", "h2c"), ("Content-Type", "text/plain"), ("Host", "h")]
    assert end_to_end(headers, drop=("host",)) == [("Content-Type", "text/plain")]
