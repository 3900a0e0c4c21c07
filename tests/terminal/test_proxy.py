"""The proxy over real HTTP on 127.0.0.1: token swap, 401 renewal, streaming, the secret."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re

import httpx2
import pytest

from tests.core import conftest as core
from tests.terminal.conftest import SECRET, Stack, event_arrivals, with_secret
from tokenwarden.errors import ConfigError
from tokenwarden.proxy import parse_listen, serve_proxy
from tokenwarden.proxy.server import check_upstream


async def test_forwards_the_request_with_the_real_token_instead_of_the_secret(
    stack: Stack, client: httpx2.AsyncClient
):
    answer = await client.post(
        stack.proxy_url("/echo?x=1&y=%20z"), content=b"hello",
        headers={"x-api-key": SECRET, "X-Custom": "kept", "Connection": "X-Drop",
                 "X-Drop": "gone"},
    )
    assert answer.status_code == 200
    seen = answer.json()
    headers = dict(seen["headers"])
    assert (seen["method"], seen["path"], seen["query"]) == ("POST", "/echo", "x=1&y=%20z")
    assert seen["body_sha256"] == hashlib.sha256(b"hello").hexdigest()
    assert headers["x-custom"] == "kept"
    assert "x-api-key" not in headers and "x-drop" not in headers
    current = (await stack.manager.get_token()).access_token
    assert headers["authorization"] == f"Bearer {current}"
    assert answer.headers.get_list("set-cookie") == ["a=1", "b=2"]


async def test_chunked_request_body_is_forwarded(stack: Stack, client: httpx2.AsyncClient):
    async def parts():
        for piece in (b"ab", b"cd", b"ef"):
            yield piece

    answer = await client.put(stack.proxy_url("/upload"), content=parts(),
                              headers=with_secret())
    assert answer.status_code == 200
    assert answer.json()["body_sha256"] == hashlib.sha256(b"abcdef").hexdigest()


async def test_token_expired_in_flight_is_renewed_and_the_request_replayed_once(
    stack: Stack, client: httpx2.AsyncClient
):
    before = stack.devserver.stats()["refresh_ok"]
    stack.devserver.expire_access_tokens()
    answer = await client.post(stack.proxy_url("/echo"), content=b"payload",
                               headers=with_secret())
    assert answer.status_code == 200
    assert answer.json()["body_sha256"] == hashlib.sha256(b"payload").hexdigest()
    assert stack.api.unauthorized == 1
    assert stack.api.hits["/echo"] == 2
    assert stack.devserver.stats()["refresh_ok"] == before + 1


async def test_logs_never_contain_the_secret_or_a_token(
    stack: Stack, client: httpx2.AsyncClient, caplog
):
    caplog.set_level(logging.DEBUG)
    old = (await stack.manager.get_token()).access_token
    stack.devserver.expire_access_tokens()
    answer = await client.get(stack.proxy_url("/echo?q=1"), headers=with_secret())
    new = (await stack.manager.get_token()).access_token
    assert answer.status_code == 200 and new != old
    assert "renewing" in caplog.text
    for secret in (SECRET, old, new):
        assert secret not in caplog.text


async def test_concurrent_rejections_share_one_renewal(stack: Stack, client: httpx2.AsyncClient):
    before = stack.devserver.stats()["refresh_ok"]
    stack.devserver.expire_access_tokens()
    answers = await asyncio.gather(*(
        client.get(stack.proxy_url("/echo"), headers=with_secret()) for _ in range(8)
    ))
    assert [a.status_code for a in answers] == [200] * 8
    assert stack.devserver.stats()["refresh_ok"] == before + 1


async def test_body_above_the_replay_limit_streams_and_is_not_replayed(
    stack: Stack, client: httpx2.AsyncClient
):
    big = b"x" * (200 * 1024)  # the stack's proxy replays up to 64 KiB
    answer = await client.post(stack.proxy_url("/upload"), content=big, headers=with_secret())
    assert answer.json()["body_sha256"] == hashlib.sha256(big).hexdigest()
    stack.devserver.expire_access_tokens()
    rejected = await client.post(stack.proxy_url("/upload"), content=big,
                                 headers=with_secret())
    assert rejected.status_code == 401
    assert stack.api.hits["/upload"] == 2
    again = await client.post(stack.proxy_url("/upload"), content=big, headers=with_secret())
    assert again.status_code == 200  # the 401 was reported: the token is already new


async def test_event_stream_arrives_incrementally(stack: Stack, client: httpx2.AsyncClient):
    received = await event_arrivals(client, stack.proxy_url("/events?n=120&delay=0.01"))
    sent = stack.api.event_sent_at
    assert len(received) == len(sent) == 120
    # The first event is in hand before the upstream has even sent the tenth.
    assert received[0] < sent[9]
    assert sent[-1] - received[0] > 1.0


async def test_revoked_grant_gives_one_clear_401_and_no_retry_loop(
    stack: Stack, client: httpx2.AsyncClient
):
    stack.devserver.revoke_all()
    stack.devserver.expire_access_tokens()
    answer = await client.get(stack.proxy_url("/echo"), headers=with_secret())
    assert answer.status_code == 401
    body = answer.json()
    assert body["error"] == "tokenwarden_sign_in_required"
    assert "tokenwarden login" in body["message"]
    assert stack.api.hits["/echo"] == 1
    again = await client.get(stack.proxy_url("/echo"), headers=with_secret())
    assert again.json()["error"] == "tokenwarden_sign_in_required"
    assert stack.api.hits["/echo"] == 1  # no usable token: the upstream is not bothered
    assert stack.devserver.stats()["invalid_grant"] <= 1


async def test_signing_in_again_is_picked_up_without_a_restart(
    stack: Stack, client: httpx2.AsyncClient
):
    stack.devserver.revoke_all()
    stack.devserver.expire_access_tokens()
    refused = await client.get(stack.proxy_url("/echo"), headers=with_secret())
    assert refused.json()["error"] == "tokenwarden_sign_in_required"
    other_process = core.manager_for(stack.home)  # as `tokenwarden login` would
    try:
        await core.sign_in(other_process, stack.devserver)
    finally:
        await other_process.close()
    answer = await client.get(stack.proxy_url("/echo"), headers=with_secret())
    assert answer.status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"x-api-key": "wrong"}, {"Authorization": SECRET}])
async def test_request_without_the_secret_gets_the_proxy_401(
    stack: Stack, client: httpx2.AsyncClient, headers: dict[str, str]
):
    answer = await client.get(stack.proxy_url("/echo"), headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "tokenwarden_proxy_secret_required"
    assert "x-api-key" in answer.json()["message"]
    assert sum(stack.api.hits.values()) == 0


async def test_upstream_statuses_pass_through(stack: Stack, client: httpx2.AsyncClient):
    teapot = await client.get(stack.proxy_url("/teapot"), headers=with_secret())
    assert (teapot.status_code, teapot.text) == (418, "short and stout")
    assert teapot.headers["x-teapot"] == "yes"
    head = await client.head(stack.proxy_url("/echo"), headers=with_secret())
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 0
    after = await client.get(stack.proxy_url("/ping"), headers={"x-api-key": SECRET})
    assert after.text == "pong"  # the connection survived the HEAD


@pytest.mark.parametrize("listen", ["0.0.0.0:8080", "192.168.1.10:0", "[::]:0", "example.com:1"])
def test_non_loopback_listen_address_is_refused(listen: str):
    with pytest.raises(ConfigError, match="only binds loopback"):
        parse_listen(listen)


@pytest.mark.parametrize("listen", ["127.0.0.1:0", "localhost:8080", "[::1]:9", "8080"])
def test_loopback_listen_addresses_are_accepted(listen: str):
    host, _ = parse_listen(listen)
    assert host in ("127.0.0.1", "localhost", "::1")


@pytest.mark.parametrize(("upstream", "why"), [
    ("ftp://example.test", "http:// or https://"),
    ("https://api.example.test/v1?key=1", "query or fragment"),
    ("https://me:hunter2@api.example.test", "user:password@"),
    ("http://127.0.0.1:99999", "invalid port"),
    ("http://127.0.0.1:http", "invalid port"),
])
def test_upstream_url_that_cannot_work_is_refused_with_the_reason(upstream: str, why: str):
    with pytest.raises(ConfigError, match=re.escape(why)) as refused:
        check_upstream(upstream)
    assert "hunter2" not in str(refused.value)


async def test_serve_proxy_refuses_a_non_loopback_host(stack: Stack):
    with pytest.raises(ConfigError, match="only binds loopback"):
        await serve_proxy(stack.manager, stack.api.base, "0.0.0.0", 0, SECRET)
