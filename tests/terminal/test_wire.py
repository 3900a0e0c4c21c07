"""The proxy's client side (h11 in the server role) over an in-memory stream."""

from __future__ import annotations

import h11
import pytest

from tokenwarden.proxy.body import read_body
from tokenwarden.proxy.h11io import H11Connection
from tokenwarden.proxy.headers import HeaderList
from tokenwarden.proxy.inbound import BadRequest, ClientSide, check_target


def client_of(data: bytes) -> ClientSide:
    """A client connection that received ``data`` and then closed (no transport to write)."""
    stream = H11Connection(h11.SERVER, allow_folding=False)
    stream.data_received(data)
    stream.eof_received()
    return ClientSide(stream)


async def test_chunked_body_is_decoded_and_trailers_dropped():
    client = client_of(b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n")
    head = await client.next_request()
    assert head is not None and head.chunked
    assert b"".join([chunk async for chunk in client.body()]) == b"abcde"


async def test_small_body_is_buffered_for_replay_and_a_large_one_streams():
    small = client_of(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd")
    head = await small.next_request()
    assert head is not None
    body = await read_body(small, head, max_replay_bytes=4)
    assert body.replayable and body.buffered == b"abcd"
    large = client_of(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde")
    head = await large.next_request()
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
    "Content-Length: \u00b2",
    "Content-Length: +3",
    " Folded: header",
    "X-Split: a\nInjected: b",
    "X-Split: a\rb",
    "X-Nul: a\0b",
    "Bad Name: y",
    "Bad@Name: y",
    "Bad\tName: y",
])
async def test_ambiguous_or_malformed_heads_are_refused(headers: str):
    client = client_of(f"POST / HTTP/1.1\r\nHost: x\r\n{headers}\r\n\r\n".encode())
    with pytest.raises(BadRequest):
        await client.next_request()


@pytest.mark.parametrize("line", ["GET /a\tb HTTP/1.1", "GET /a\x01b HTTP/1.1",
                                  "G\tT /a HTTP/1.1", "GE\x7fT /a HTTP/1.1",
                                  "GET /a HTTP/1.1\nX: y"])
async def test_control_characters_in_the_request_line_are_refused(line: str):
    client = client_of(f"{line}\r\nHost: x\r\n\r\n".encode())
    with pytest.raises(BadRequest):
        await client.next_request()


@pytest.mark.parametrize("size", [b"0x3", b"-1", b"+3", b"1_0", b" 3", b"3 3"])
async def test_chunk_sizes_that_are_not_plain_hex_are_refused(size: bytes):
    client = client_of(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       + size + b"\r\nabc\r\n0\r\n\r\n")
    assert await client.next_request() is not None
    with pytest.raises(Exception, match="chunk"):
        [chunk async for chunk in client.body()]


@pytest.mark.parametrize("target", ["/../admin", "/v1/../../admin", "/%2e%2e/admin",
                                    "/a/%2E./b", "/a/.%2e", "/./x", "/a/..%2fb/..%2f..",
                                    "/a\\..\\b", "http://other.example/x", "other:443", "*"])
def test_targets_that_could_leave_the_upstream_base_path_are_refused(target: str):
    with pytest.raises(BadRequest):
        check_target(target)


@pytest.mark.parametrize("target", ["/", "/v1/messages?beta=true", "/a..b/c.d", "/a/...",
                                    "/q?x=/../y"])
def test_ordinary_targets_pass(target: str):
    check_target(target)


async def test_clean_close_between_requests_is_not_an_error():
    assert await client_of(b"").next_request() is None


def test_hop_by_hop_headers_and_those_named_in_connection_are_dropped():
    headers = [(b"Connection", b"keep-alive, X-Private"), (b"X-Private", b"1"),
               (b"Keep-Alive", b"timeout=5"), (b"Transfer-Encoding", b"chunked"),
               (b"Upgrade", b"h2c"), (b"Content-Type", b"text/plain"), (b"Host", b"h")]
    assert HeaderList(headers).end_to_end(frozenset({b"host"})) == [(b"Content-Type",
                                                                     b"text/plain")]
