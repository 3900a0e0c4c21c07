"""An upstream behind the HTTP proxy named in the environment (``HTTP_PROXY``), over real HTTP.

A small forward proxy on 127.0.0.1 stands in for a corporate one; tokenwarden's
proxy must go through it, and still renew on a 401 and stream events.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import httpx2
import pytest

from tests.terminal.conftest import SECRET, Stack, event_arrivals, with_secret
from tests.terminal.scripted_upstream import LoopbackServer
from tokenwarden.proxy import ProxyServer, serve_proxy


class ForwardProxy(LoopbackServer):
    """Reads a request in absolute form, connects to its host, then pipes bytes both ways."""

    def __init__(self) -> None:
        super().__init__()
        self.request_lines: list[str] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode()
            self.request_lines.append(line)
            target = urlsplit(line.split(" ")[1])
            up_reader, up_writer = await asyncio.open_connection(target.hostname, target.port)
            up_writer.write(head)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    sink.close()


@pytest.fixture
async def via_proxy(stack: Stack, monkeypatch):
    forward = await ForwardProxy().start()
    monkeypatch.setenv("HTTP_PROXY", forward.base)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxy = await serve_proxy(stack.manager, stack.api.base, secret=SECRET, watch=False)
    yield forward, proxy
    await proxy.close()
    await forward.stop()


def api_requests(forward: ForwardProxy, stack: Stack, path: str) -> list[str]:
    return [line for line in forward.request_lines if stack.api.url(path) in line]


async def test_requests_go_through_the_proxy_the_environment_names(
    stack: Stack, via_proxy: tuple[ForwardProxy, ProxyServer], client: httpx2.AsyncClient
):
    forward, proxy = via_proxy
    got = await client.post(proxy.url + "/echo", content=b"hi", headers=with_secret())
    assert got.status_code == 200
    current = (await stack.manager.get_token()).access_token
    assert dict(got.json()["headers"])["authorization"] == f"Bearer {current}"
    assert api_requests(forward, stack, "/echo") == [f"POST {stack.api.url('/echo')} HTTP/1.1"]


async def test_expired_token_is_renewed_and_replayed_through_the_proxy(
    stack: Stack, via_proxy: tuple[ForwardProxy, ProxyServer], client: httpx2.AsyncClient
):
    _, proxy = via_proxy
    stack.devserver.expire_access_tokens()
    got = await client.get(proxy.url + "/echo", headers=with_secret())
    assert got.status_code == 200
    assert stack.api.unauthorized == 1 and stack.api.hits["/echo"] == 2


async def test_events_stream_incrementally_through_the_proxy(
    stack: Stack, via_proxy: tuple[ForwardProxy, ProxyServer], client: httpx2.AsyncClient
):
    forward, proxy = via_proxy
    received = await event_arrivals(client, proxy.url + "/events?n=100&delay=0.01")
    sent = stack.api.event_sent_at
    assert len(received) == len(sent) == 100
    assert received[0] < sent[9]
    assert api_requests(forward, stack, "/events")


async def test_no_proxy_sends_the_upstream_direct(
    stack: Stack, client: httpx2.AsyncClient, monkeypatch
):
    forward = await ForwardProxy().start()
    monkeypatch.setenv("HTTP_PROXY", forward.base)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    proxy = await serve_proxy(stack.manager, stack.api.base, secret=SECRET, watch=False)
    try:
        got = await client.get(proxy.url + "/echo", headers=with_secret())
    finally:
        await proxy.close()
        await forward.stop()
    assert got.status_code == 200
    assert forward.request_lines == []
