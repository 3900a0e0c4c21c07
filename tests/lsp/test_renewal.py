"""Silent renewal: status notifications with a new expiresAt; getToken always valid enough."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from tests.lsp.harness import profile_options, sign_in

TTL = 3.0


def expiry(token: dict) -> datetime:
    return datetime.fromisoformat(token["expiresAt"].replace("Z", "+00:00"))


async def test_renewals_arrive_as_status_notifications(open_client, make_devserver):
    devserver = make_devserver(access_token_ttl=TTL)
    client = await open_client(profile_options(devserver))
    first = await sign_in(client, devserver)
    mark = len(client.statuses)

    renewed = await client.wait_for_status(
        lambda s: s["state"] == "signedIn" and s["expiresAt"] != first["expiresAt"],
        since=mark, timeout=10)
    await client.wait_for_status(
        lambda s: s["state"] == "signedIn" and s["expiresAt"] not in (
            first["expiresAt"], renewed["expiresAt"]),
        since=mark, timeout=10)

    states = [s["state"] for s in client.statuses[mark:]]
    assert "refreshing" in states
    assert renewed["expiresAt"] > first["expiresAt"]
    assert devserver.stats()["refresh_ok"] >= 2


async def test_get_token_is_always_valid_for_min_validity(open_client, make_devserver):
    devserver = make_devserver(access_token_ttl=TTL)
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)
    min_validity = 1.0
    tokens = set()

    deadline = time.monotonic() + 2 * TTL
    while time.monotonic() < deadline:
        token = await client.get_token(minValiditySeconds=min_validity)
        # expiresAt has whole seconds (truncated): allow one second of rounding.
        assert expiry(token) >= datetime.now(UTC) + timedelta(seconds=min_validity - 1.0)
        tokens.add(token["accessToken"])
        await asyncio.sleep(0.05)

    assert len(tokens) >= 2
    assert devserver.stats()["invalid_grant"] == 0


async def test_get_token_before_sign_in_is_sign_in_required(open_client, devserver):
    import pytest
    from pygls.exceptions import JsonRpcException

    client = await open_client(profile_options(devserver))

    with pytest.raises(JsonRpcException) as failure:
        await client.get_token()

    assert failure.value.code == -32001
    assert failure.value.data == {"profile": "default", "state": "signedOut"}


async def test_refresh_command_renews_now(open_client, devserver):
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)
    before = await client.get_token()

    status = await client.command("tokenwarden.refresh")
    after = await client.get_token()

    assert status["state"] == "signedIn"
    assert after["accessToken"] != before["accessToken"]
    assert devserver.stats()["refresh_ok"] == 1


async def test_logout_signs_out_and_revokes(open_client, devserver):
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)
    mark = len(client.statuses)

    status = await client.command("tokenwarden.logout")
    await client.wait_for_state("signedOut", since=mark)

    assert status["state"] == "signedOut"
    assert devserver.stats()["revocations"] == 1


async def test_network_failure_is_temporarily_unavailable(open_client, make_devserver):
    import pytest
    from pygls.exceptions import JsonRpcException

    devserver = make_devserver(access_token_ttl=TTL)
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)
    devserver.stop()  # the provider is gone: renewal fails, the token runs out

    with pytest.raises(JsonRpcException) as failure:
        for _ in range(200):
            await client.get_token(minValiditySeconds=TTL)
            await asyncio.sleep(0.05)

    assert failure.value.code == -32002
    assert failure.value.data["retryAfterSeconds"] >= 0
