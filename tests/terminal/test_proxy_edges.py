"""The proxy when things go wrong: no session, failing renewal, dead upstream, bad framing."""

from __future__ import annotations

import asyncio

import httpx2

from tests.core import conftest as core
from tests.terminal.conftest import SECRET, Stack, with_secret
from tokenwarden.proxy import serve_proxy


async def test_without_a_session_the_client_gets_the_sign_in_401_and_upstream_is_untouched(
    make_devserver, home, sample_api_for, client: httpx2.AsyncClient
):
    server = make_devserver()
    core.configure(home, server)
    api = sample_api_for(server)
    manager = core.manager_for(home, background=True)
    proxy = await serve_proxy(manager, api.base, secret=SECRET)
    try:
        answer = await client.get(proxy.url + "/echo", headers=with_secret())
    finally:
        await proxy.close()
        await manager.close()
    assert answer.status_code == 401
    assert answer.json()["error"] == "tokenwarden_sign_in_required"
    assert sum(api.hits.values()) == 0


async def test_failing_renewal_gives_503_with_retry_after(stack: Stack, client: httpx2.AsyncClient):
    stack.devserver.add_fault("token", "status", status=503, count=10)
    stack.devserver.expire_access_tokens()
    answer = await client.get(stack.proxy_url("/echo"), headers=with_secret())
    assert answer.status_code == 503
    assert answer.json()["error"] == "tokenwarden_temporarily_unavailable"
    assert int(answer.headers["retry-after"]) >= 1
    assert stack.api.hits["/echo"] == 1


async def test_unreachable_upstream_gives_502(stack: Stack, client: httpx2.AsyncClient):
    proxy = await serve_proxy(stack.manager, "http://127.0.0.1:9", secret=SECRET, watch=False)
    try:
        answer = await client.get(proxy.url + "/echo", headers=with_secret())
    finally:
        await proxy.close()
    assert answer.status_code == 502
    assert answer.json()["error"] == "tokenwarden_upstream_unreachable"


async def _raw_exchange(stack: Stack, request: bytes) -> bytes:
    assert stack.proxy is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.proxy.port)
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


async def test_ambiguous_body_framing_is_refused(stack: Stack):
    answer = await _raw_exchange(stack, (
        f"POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SECRET}\r\n"
        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ).encode())
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert sum(stack.api.hits.values()) == 0


async def test_http10_client_gets_a_close_delimited_stream(stack: Stack):
    answer = await _raw_exchange(stack, (
        f"GET /events?n=3&delay=0 HTTP/1.0\r\nx-api-key: {SECRET}\r\n\r\n"
    ).encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"transfer-encoding" not in head.lower()
    assert body.count(b"data: ") == 3


async def test_closing_with_open_connections_is_quiet(stack: Stack, caplog):
    assert stack.proxy is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.proxy.port)
    writer.write(f"GET /events?n=500&delay=0.01 HTTP/1.1\r\nHost: x\r\nx-api-key: {SECRET}\r\n\r\n".encode())
    await writer.drain()
    assert (await reader.readline()).startswith(b"HTTP/1.1 200")
    idle = await asyncio.open_connection("127.0.0.1", stack.proxy.port)
    await stack.proxy.close()
    await asyncio.sleep(0.05)
    assert await asyncio.wait_for(idle[0].read(), 5) == b""
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert errors == []
    writer.close()
    idle[1].close()
