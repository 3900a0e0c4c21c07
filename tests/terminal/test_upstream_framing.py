"""The proxy's own HTTP/1.1 upstream client against answers scripted byte by byte.

Keep-alive reuse, connections the upstream drops, every way an answer's body can
be framed (RFC 9112 section 6.3), and answers that are not HTTP at all.
"""

from __future__ import annotations

import asyncio
import hashlib

import httpx2
import pytest

from tests.terminal.conftest import SECRET, Stack, with_secret
from tests.terminal.scripted_upstream import Exchange, ScriptedUpstream, answer
from tokenwarden.proxy import ProxyServer, serve_proxy


@pytest.fixture
async def scripted(stack: Stack):
    started: list[tuple[ScriptedUpstream, ProxyServer]] = []

    async def start(script, base_path: str = "") -> tuple[ScriptedUpstream, ProxyServer]:
        upstream = await ScriptedUpstream(script).start()
        proxy = await serve_proxy(stack.manager, upstream.base + base_path, secret=SECRET,
                                  watch=False)
        started.append((upstream, proxy))
        return upstream, proxy

    yield start
    for upstream, proxy in started:
        await proxy.close()
        await upstream.stop()


async def test_sequential_requests_share_one_upstream_connection(
    scripted, client: httpx2.AsyncClient
):
    upstream, proxy = await scripted(lambda index, line: Exchange(answer()))
    for _ in range(5):
        got = await client.get(proxy.url + "/a", headers=with_secret())
        assert got.status_code == 200 and got.text == "ok"
    assert upstream.connections == 1 and len(upstream.requests) == 5


async def test_connection_the_upstream_closed_while_idle_is_replaced(
    scripted, client: httpx2.AsyncClient
):
    upstream, proxy = await scripted(lambda index, line: Exchange(answer(), close=True))
    first = await client.post(proxy.url + "/a", content=b"1", headers=with_secret())
    await asyncio.sleep(0.1)  # the upstream's close reaches the idle connection
    second = await client.post(proxy.url + "/a", content=b"2", headers=with_secret())
    assert (first.status_code, second.status_code) == (200, 200)
    assert upstream.connections == 2 and len(upstream.requests) == 2


def drop_second_request(index: int, line: str) -> Exchange:
    """Answer the first request on a connection; close on the second without a word."""
    return Exchange(answer(), close=False) if index == 0 else Exchange(None, close=True)


async def test_get_is_sent_again_when_a_reused_connection_closes_unanswered(
    scripted, client: httpx2.AsyncClient
):
    upstream, proxy = await scripted(drop_second_request)
    await client.get(proxy.url + "/a", headers=with_secret())
    got = await client.get(proxy.url + "/b", headers=with_secret())
    assert got.status_code == 200
    assert upstream.requests == ["GET /a HTTP/1.1", "GET /b HTTP/1.1", "GET /b HTTP/1.1"]


async def test_post_is_not_sent_twice_when_a_reused_connection_closes_unanswered(
    scripted, client: httpx2.AsyncClient
):
    upstream, proxy = await scripted(drop_second_request)
    await client.get(proxy.url + "/a", headers=with_secret())
    got = await client.post(proxy.url + "/pay", content=b"once", headers=with_secret())
    assert got.status_code == 502
    assert got.json()["error"] == "tokenwarden_upstream_unreachable"
    assert "closed the connection" in got.json()["message"]
    assert upstream.requests.count("POST /pay HTTP/1.1") == 1


async def test_body_delimited_by_close_is_passed_through(scripted, client: httpx2.AsyncClient):
    body = b"no length given, " * 500
    _, proxy = await scripted(lambda index, line: Exchange(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body, close=True))
    got = await client.get(proxy.url + "/a", headers=with_secret())
    assert got.status_code == 200 and got.content == body
    assert got.headers["transfer-encoding"] == "chunked"  # re-framed for keep-alive


async def test_interim_answers_are_skipped_and_folded_headers_unfolded(
    scripted, client: httpx2.AsyncClient
):
    _, proxy = await scripted(lambda index, line: Exchange(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
        + answer("201 Created", b"made", "X-Folded: one", "  two")))
    got = await client.post(proxy.url + "/a", content=b"x", headers=with_secret())
    assert (got.status_code, got.text) == (201, "made")
    assert got.headers["x-folded"] == "one two"


async def test_transfer_coding_overrides_a_stray_length_and_the_connection_is_not_reused(
    scripted, client: httpx2.AsyncClient
):
    upstream, proxy = await scripted(lambda index, line: Exchange(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n"))
    answers = [await client.get(proxy.url + "/a", headers=with_secret()) for _ in range(2)]
    assert [a.text for a in answers] == ["hello", "hello"]
    assert "content-length" not in answers[0].headers
    assert upstream.connections == 2


async def test_bodyless_answers_do_not_wait_for_a_body(scripted, client: httpx2.AsyncClient):
    answers = [answer("200 OK", b"", "Content-Length: 999").replace(b"Content-Length: 0\r\n", b""),
               b"HTTP/1.1 204 No Content\r\n\r\n", b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n",
               answer()]
    upstream, proxy = await scripted(lambda index, line: Exchange(answers[index]))
    head = await client.head(proxy.url + "/a", headers=with_secret())
    assert head.headers["content-length"] == "999"
    codes = [(await client.get(proxy.url + "/b", headers=with_secret())).status_code
             for _ in range(3)]
    assert codes == [204, 304, 200]
    assert upstream.connections == 1


@pytest.mark.parametrize("raw", [
    b"SPDY/3 200 OK\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    answer("200 OK", b"ok", "Content-Length: 5"),
    b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Split: a\nInjected: b\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
    b"HTTP/1.1 200 OK\nInjected: 1\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: \xc2\xb2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n",
], ids=["not-http", "bad-status", "two-lengths", "bad-length", "stray-lf", "upgrade",
        "lf-in-status-line", "superscript-length", "signed-length", "hex-prefixed-chunk",
        "space-in-header-name"])
async def test_answer_that_is_not_http_we_can_read_gives_502(
    scripted, client: httpx2.AsyncClient, raw: bytes
):
    _, proxy = await scripted(lambda index, line: Exchange(raw, close=True))
    try:
        got = await client.get(proxy.url + "/a", headers=with_secret())
    except httpx2.RemoteProtocolError:
        return  # the head had gone out before the body proved bad: the connection ends
    assert got.status_code == 502
    assert got.json()["error"] == "tokenwarden_upstream_unreachable"
    assert "X-Split" not in got.text and "injected" not in got.headers


async def test_body_cut_short_ends_the_client_connection_instead_of_hanging(
    scripted, client: httpx2.AsyncClient
):
    _, proxy = await scripted(lambda index, line: Exchange(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b", close=True))
    with pytest.raises(httpx2.HTTPError):
        await asyncio.wait_for(client.get(proxy.url + "/a", headers=with_secret()), 10)


async def test_streamed_upload_keeps_its_content_length(stack: Stack, client: httpx2.AsyncClient):
    big = b"y" * (200 * 1024)  # above the stack proxy's 64 KiB replay limit: streamed
    got = await client.post(stack.proxy_url("/echo"), content=big, headers=with_secret())
    headers = dict(got.json()["headers"])
    assert headers["content-length"] == str(len(big))
    assert "transfer-encoding" not in headers
    assert got.json()["body_sha256"] == hashlib.sha256(big).hexdigest()


async def test_upstream_base_path_prefixes_every_request(scripted, client: httpx2.AsyncClient):
    upstream, proxy = await scripted(lambda index, line: Exchange(answer()), "/api/v2/")
    await client.get(proxy.url + "/models?limit=1", headers=with_secret())
    assert upstream.requests == ["GET /api/v2/models?limit=1 HTTP/1.1"]


async def test_a_base_path_h11_refuses_gives_502_and_nothing_reaches_the_upstream(
    scripted, client: httpx2.AsyncClient
):
    # The base path is checked once, when the upstream is made; a bad one keeps every
    # request on h11's validating path instead of writing a broken request line.
    upstream, proxy = await scripted(lambda index, line: Exchange(answer()), "/a b")
    got = await client.get(proxy.url + "/models", headers=with_secret())
    assert got.status_code == 502
    assert "cannot be sent as HTTP/1.1" in got.text
    assert upstream.requests == []


async def test_bytes_after_an_answer_are_never_read_as_the_next_answer(
    scripted, client: httpx2.AsyncClient
):
    sent: list[str] = []

    def smuggle_once(index: int, line: str) -> Exchange:
        sent.append(line)
        if len(sent) == 1:  # an answer, and a second one nobody asked for
            return Exchange(answer(body=b"ok") + answer(body=b"smuggled"))
        return Exchange(answer(body=b"fresh"))

    upstream, proxy = await scripted(smuggle_once)
    texts = [(await client.get(proxy.url + f"/{n}", headers=with_secret())).text
             for n in range(2)]
    assert texts == ["ok", "fresh"]
    assert upstream.connections == 2  # the connection with unread bytes was not reused


async def test_bytes_the_upstream_sends_while_idle_retire_the_connection(
    scripted, client: httpx2.AsyncClient
):
    sent: list[str] = []

    def late_tail(index: int, line: str) -> Exchange:
        sent.append(line)
        return Exchange(answer(body=b"ok" if len(sent) == 1 else b"fresh"))

    upstream, proxy = await scripted(late_tail)
    first = await client.get(proxy.url + "/1", headers=with_secret())
    assert upstream.writers, "the scripted upstream keeps its connections"
    upstream.writers[0].write(answer(body=b"smuggled"))  # unasked, while the proxy idles
    await asyncio.sleep(0.2)
    second = await client.get(proxy.url + "/2", headers=with_secret())
    assert (first.text, second.text) == ("ok", "fresh")
    assert upstream.connections == 2


@pytest.mark.parametrize("target", ["/../admin", "/v2/../../admin", "/%2e%2e/admin",
                                    "/x/..%2f..%2fadmin"])
async def test_a_path_that_climbs_out_of_the_base_path_is_refused(scripted, target: str):
    upstream, proxy = await scripted(lambda index, line: Exchange(answer()), "/api/v2/")
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nx-api-key: {SECRET}\r\n\r\n"
                     .encode())
        await writer.drain()
        got = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    assert got.startswith(b"HTTP/1.1 400 ")
    assert upstream.requests == []
