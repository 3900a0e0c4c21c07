"""Renewal storms from rejected tokens: one forced renewal per rejected token, back-off honoured.

An upstream that refuses every token (the API revoked the user's access, say)
used to cost one rotation per request; a provider asking for ``Retry-After`` was
ignored by forced renewals. These perform both attacks against the real dev server.
"""

from __future__ import annotations

import httpx2
import pytest

from tests.core import conftest as core
from tests.terminal.conftest import SECRET, Stack, with_secret
from tests.terminal.scripted_upstream import Exchange, ScriptedUpstream, answer
from tokenwarden.config import write_profile
from tokenwarden.errors import TemporarilyUnavailable
from tokenwarden.proxy import serve_proxy


def refreshes(stack: Stack) -> int:
    return stack.devserver.stats()["token_requests"].get("refresh_token", 0)


async def test_ten_rejections_through_the_proxy_make_one_refresh(
    stack: Stack, client: httpx2.AsyncClient
):
    upstream = await ScriptedUpstream(lambda index, line: Exchange(
        answer("401 Unauthorized", b'{"error":"invalid_token"}'))).start()
    proxy = await serve_proxy(stack.manager, upstream.base, secret=SECRET, watch=False)
    try:
        before = refreshes(stack)
        statuses = [(await client.get(proxy.url + "/v1/x", headers=with_secret())).status_code
                    for _ in range(10)]
    finally:
        await proxy.close()
        await upstream.stop()
    assert statuses == [401] * 10  # the upstream's own answer reaches the consumer
    assert refreshes(stack) - before == 1
    # One replay for the first request (with the renewed token), none after: no loop.
    assert len(upstream.requests) == 11


async def test_ten_reports_of_one_rejected_token_make_one_refresh(stack: Stack):
    rejected = (await stack.manager.get_token()).access_token
    before = refreshes(stack)
    answers = {(await stack.manager.token_rejected(None, rejected)).access_token
               for _ in range(10)}
    assert len(answers) == 1 and rejected not in answers
    assert refreshes(stack) - before == 1


async def test_the_renewed_token_rejected_again_is_answered_as_it_is(stack: Stack):
    first = (await stack.manager.get_token()).access_token
    renewed = (await stack.manager.token_rejected(None, first)).access_token
    before = refreshes(stack)
    again = [(await stack.manager.token_rejected(None, renewed)).access_token for _ in range(10)]
    assert again == [renewed] * 10
    assert refreshes(stack) == before


async def test_retry_after_is_honoured_for_forced_renewals(stack: Stack):
    stack.devserver.add_fault("token", "status", status=503, retry_after=30, count=10)
    rejected = (await stack.manager.get_token()).access_token
    before = refreshes(stack)
    waits = []
    for _ in range(10):
        with pytest.raises(TemporarilyUnavailable) as backing_off:
            await stack.manager.token_rejected(None, rejected)
        waits.append(backing_off.value.retry_after)
    assert refreshes(stack) - before == 1
    assert min(waits[1:]) > 20  # the server's 30 s, not a fresh attempt each time


async def test_a_configured_rejected_status_renews_and_replays(
    make_devserver, home, sample_api_for, client: httpx2.AsyncClient
):
    server = make_devserver(access_token_ttl=600.0)
    write_profile(home / "config.toml", "default", {
        "issuer": server.issuer, "client_id": "tokenwarden-tests",
        "scopes": ["openid", "offline_access"], "rejected_statuses": [401, 403],
    })
    manager = core.manager_for(home)
    await core.sign_in(manager, server)
    seen: list[str] = []

    def first_refused(index: int, line: str) -> Exchange:
        seen.append(line)
        return Exchange(answer("403 Forbidden", b"dead token") if len(seen) == 1 else answer())

    upstream = await ScriptedUpstream(first_refused).start()
    proxy = await serve_proxy(manager, upstream.base, secret=SECRET, watch=False)
    try:
        got = await client.get(proxy.url + "/a", headers=with_secret())
    finally:
        await proxy.close()
        await upstream.stop()
        await manager.close()
    assert (got.status_code, got.text) == (200, "ok")
    assert server.stats()["refresh_ok"] == 1 and len(upstream.requests) == 2
