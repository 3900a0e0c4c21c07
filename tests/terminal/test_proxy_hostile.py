"""Hostile bytes on both sides of the proxy: mangled requests from the client, mangled
answers from the upstream. Each ends in an HTTP answer or a closed connection, never a
hang or a crash, and the proxy serves the next request as if nothing had happened.

The cases are generated from valid messages by seeded random mutations (bounded,
reproducible): 400 requests and 400 answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter

import httpx2

from tests.terminal.conftest import SECRET, Stack, with_secret
from tests.terminal.scripted_upstream import Exchange, ScriptedUpstream
from tokenwarden.proxy import serve_proxy

CASES = 400
REQUESTS = [
    f"GET /echo?a=1 HTTP/1.1\r\nHost: x\r\nx-api-key: {SECRET}\r\n\r\n".encode(),
    (f"POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SECRET}\r\n"
     "Content-Length: 5\r\n\r\nhello").encode(),
    (f"PUT /upload HTTP/1.1\r\nHost: x\r\nx-api-key: {SECRET}\r\nTransfer-Encoding: chunked\r\n\r\n"
     "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nTrailer: t\r\n\r\n").encode(),
    f"GET /events?n=3&delay=0 HTTP/1.0\r\nx-api-key: {SECRET}\r\n\r\n".encode(),
]
ANSWERS = [
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;e=1\r\nabc\r\n0\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno",
    b"HTTP/1.0 200 OK\r\nX-A: b\r\n  folded\r\n\r\nuntil the connection closes",
    b"HTTP/1.1 204 No Content\r\nETag: \"x\"\r\n\r\n",
]
NASTY = [b"\r", b"\n", b"\r\n", b"\0", b" ", b":", b"\t", b"0", b"ffffffff", b"-1", b";",
         b"\xff", b"Content-Length: 3\r\n", b"Transfer-Encoding: chunked\r\n", b"\r\n\r\n"]


def mutate(message: bytes, rng: random.Random) -> bytes:
    data = bytearray(message)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data) + 1)
        match rng.randrange(5):
            case 0:  # cut short
                del data[at:]
            case 1:  # insert something with meaning in HTTP
                data[at:at] = rng.choice(NASTY)
            case 2 if data:  # flip a byte
                data[min(at, len(data) - 1)] = rng.randrange(256)
            case 3:  # repeat a stretch
                data[at:at] = data[at:at + rng.randint(1, 40)]
            case _:  # drop a stretch
                del data[at:at + rng.randint(1, 20)]
    return bytes(data)


async def exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` and read what comes back until the proxy closes.

    Our side ends once an answer's head is in (or after a short wait, for a request
    cut short): the proxy takes the end of a client's side as the client leaving,
    so ending it at once would cancel the very request under test.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        received = b""
        with contextlib.suppress(TimeoutError):
            while b"\r\n\r\n" not in received:
                piece = await asyncio.wait_for(reader.read(65536), 0.3)
                if not piece:
                    return received
                received += piece
        writer.write_eof()
        return received + await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


def status_of(answer: bytes) -> str:
    """The status code of a complete answer head, or "closed" for no answer at all."""
    if answer == b"":
        return "closed"
    assert answer.startswith(b"HTTP/1.1 ") and b"\r\n\r\n" in answer, answer[:200]
    return answer[9:12].decode()


async def test_mangled_client_requests_get_an_answer_or_a_close_and_never_a_crash(
    stack: Stack, client: httpx2.AsyncClient, caplog
):
    caplog.set_level(logging.WARNING)
    assert stack.proxy is not None
    rng = random.Random(20261127)
    seen: Counter[str] = Counter()
    for _ in range(CASES):
        seen[status_of(await exchange(stack.proxy.port, mutate(rng.choice(REQUESTS), rng)))] += 1
    # Both kinds happened: requests the proxy refused, and ones it still served.
    print("client side:", dict(seen))
    assert seen["400"] > 0 and seen["200"] > 0, seen
    after = await client.get(stack.proxy_url("/echo"), headers=with_secret())
    assert after.status_code == 200
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_mangled_upstream_answers_end_in_an_answer_or_a_close_and_never_a_crash(
    stack: Stack, client: httpx2.AsyncClient, caplog
):
    caplog.set_level(logging.WARNING)
    rng = random.Random(1127)
    answers: list[bytes] = []
    upstream = await ScriptedUpstream(
        lambda index, line: Exchange(answers[-1], close=True)).start()
    proxy = await serve_proxy(stack.manager, upstream.base, secret=SECRET, watch=False)
    try:
        seen: Counter[str] = Counter()
        for _ in range(CASES):
            answers.append(mutate(rng.choice(ANSWERS), rng))
            seen[status_of(await exchange(proxy.port, REQUESTS[0]))] += 1
        answers.append(ANSWERS[0])
        after = await client.get(proxy.url + "/a", headers=with_secret())
    finally:
        await proxy.close()
        await upstream.stop()
    print("upstream side:", dict(seen))
    assert seen["502"] > 0 and seen["200"] > 0, seen
    assert (after.status_code, after.text) == (200, "hello")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
