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
