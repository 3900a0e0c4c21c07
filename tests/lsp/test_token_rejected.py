"""tokenRejected: the current token renews once; an old token gets the current one."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException

from tests.lsp.harness import profile_options, sign_in


async def test_rejecting_the_current_token_renews(open_client, devserver):
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)
    current = await client.get_token()

    renewed = await client.request("tokenwarden/tokenRejected",
                                   {"accessToken": current["accessToken"]})

    assert renewed["accessToken"] != current["accessToken"]
    assert set(renewed) == {"accessToken", "tokenType", "expiresAt", "scopes"}
    assert devserver.stats()["refresh_ok"] == 1


async def test_rejecting_an_old_token_returns_the_current_without_a_request(open_client,
                                                                           devserver):
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)
    old = await client.get_token()
    current = await client.request("tokenwarden/tokenRejected",
                                   {"accessToken": old["accessToken"]})
    devserver.reset_stats()

    answer = await client.request("tokenwarden/tokenRejected", {"accessToken": old["accessToken"]})

    assert answer["accessToken"] == current["accessToken"]
    assert devserver.stats()["refresh_ok"] == 0
    assert devserver.stats()["token_requests"] == {}


async def test_a_rejected_token_is_never_handed_out_again(open_client, devserver):
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)
    rejected = await client.get_token()

    await client.request("tokenwarden/tokenRejected", {"accessToken": rejected["accessToken"]})
    tokens = {(await client.get_token())["accessToken"] for _ in range(5)}

    assert rejected["accessToken"] not in tokens


async def test_rejected_without_a_token_is_invalid_params(open_client, devserver):
    client = await open_client(profile_options(devserver))

    with pytest.raises(JsonRpcException) as failure:
        await client.request("tokenwarden/tokenRejected", {"profile": "default"})

    assert failure.value.code == -32602


async def test_ten_rejections_over_lsp_make_one_refresh(open_client, devserver):
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)
    token = (await client.get_token())["accessToken"]
    answers = []
    for _ in range(10):  # a client that reports every token it is handed, as a storm would
        token = (await client.request("tokenwarden/tokenRejected", {"accessToken": token}))[
            "accessToken"]
        answers.append(token)

    assert len(set(answers)) == 1  # the renewed token, rejected again, is answered as it is
    assert devserver.stats()["token_requests"].get("refresh_token") == 1


async def test_rejections_over_lsp_honour_the_servers_retry_after(open_client, devserver):
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)
    token = (await client.get_token())["accessToken"]
    devserver.add_fault("token", "status", status=503, retry_after=30, count=10)
    failures = 0
    for _ in range(10):
        with pytest.raises(JsonRpcException):
            await client.request("tokenwarden/tokenRejected", {"accessToken": token})
        failures += 1

    assert failures == 10
    assert devserver.stats()["token_requests"].get("refresh_token") == 1
