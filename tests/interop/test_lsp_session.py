"""Through ``tokenwarden serve``: sign in, then silent rotations every token of which works."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException
from pytest_lsp import client_capabilities

from tests.interop.conftest import profile_of
from tests.interop.servers import IndependentServer
from tests.lsp.harness import TokenwardenClient, close_client, start_client

ROTATIONS = 3
WAIT = 30.0

OpenClient = Callable[[dict[str, Any]], Awaitable[TokenwardenClient]]


@pytest.fixture
async def open_client(interop_home: Path) -> AsyncIterator[OpenClient]:
    """A `tokenwarden serve` subprocess for one profile (shut down at teardown)."""
    clients: list[TokenwardenClient] = []

    async def open_one(profile: dict[str, Any]) -> TokenwardenClient:
        options = {"profiles": {"default": profile}, "openBrowser": False}
        client = await start_client(str(interop_home), options=options,
                                    capabilities=client_capabilities("visual-studio-code"))
        clients.append(client)
        await client.wait_until(lambda: client.statuses or None, timeout=WAIT)
        return client

    yield open_one
    for client in clients:
        await close_client(client)


async def sign_in(client: TokenwardenClient, server: IndependentServer) -> dict[str, Any]:
    """``tokenwarden.login``, approved at the server; the signedIn status."""
    mark = len(client.statuses)
    started = await client.command("tokenwarden.login")
    await asyncio.to_thread(server.approve, started["userCode"])
    return await client.wait_for_state("signedIn", since=mark, timeout=WAIT)


async def test_serve_signs_in_then_rotates_silently_and_every_token_works(independent_server, open_client,
                                                            client_kind):
    client = await open_client(profile_of(independent_server, client_kind))
    signed_in = await sign_in(client, independent_server)
    assert signed_in["expiresAt"] is not None
    reuse_before = independent_server.refresh_reuse_count()
    refreshes_before = independent_server.token_requests("refresh_token")

    tokens: list[str] = []
    accepted: list[bool] = []
    expiries: set[str] = set()
    for _ in range(10 * ROTATIONS):  # one status per renewal; bounded all the same
        if len(tokens) > ROTATIONS:
            break
        status = await client.wait_for_status(
            lambda s: s["state"] == "signedIn" and s["expiresAt"] not in expiries,
            timeout=WAIT)
        expiries.add(status["expiresAt"])
        issued = await client.get_token(minValiditySeconds=2)
        if issued["accessToken"] in tokens:
            continue
        tokens.append(issued["accessToken"])
        # Checked when handed out: these tokens live a few seconds.
        accepted.append(await asyncio.to_thread(independent_server.userinfo_accepts,
                                                issued["accessToken"]))

    rotations = independent_server.token_requests("refresh_token") - refreshes_before
    reuse = independent_server.refresh_reuse_count() - reuse_before
    independent_server.note("rotations in rotation scenarios", rotations)
    independent_server.note("refresh-token reuse in rotation scenarios", reuse)
    assert len(tokens) == ROTATIONS + 1
    assert accepted == [True] * len(tokens)
    assert rotations >= ROTATIONS
    assert reuse == 0
    assert not [s["state"] for s in client.statuses if s["state"] in ("expired", "error")]


async def test_serve_ends_in_expired_when_the_server_ends_the_grant(independent_server,
                                                                    open_client):
    client = await open_client(profile_of(independent_server, "public"))
    await sign_in(client, independent_server)
    mark = len(client.statuses)
    refreshes_before = independent_server.token_requests("refresh_token")

    assert independent_server.revoke_grant() >= 1
    expired = await client.wait_for_state("expired", since=mark, timeout=WAIT)
    # Long enough for several renewal attempts, were there a loop.
    await asyncio.sleep(3 * independent_server.access_token_ttl)

    assert independent_server.token_requests("refresh_token") - refreshes_before == 1
    assert expired["message"]
    with pytest.raises(JsonRpcException) as refused:
        await client.get_token(minValiditySeconds=1)
    assert refused.value.code == -32001
