"""Sign-in that does not succeed ends cleanly: denied, code expired, cancelled."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.lsp.conftest import PLAIN
from tests.lsp.harness import profile_options


def ended(client):
    return [v for v in client.progress_values() if v.kind == "end"] or None


async def test_denied_sign_in_ends_signed_out_with_the_reason(open_client, devserver):
    client = await open_client(profile_options(devserver))
    mark = len(client.statuses)

    started = await client.command("tokenwarden.login")
    await client.wait_for_state("signingIn", since=mark)
    devserver.deny(started["userCode"])
    status = await client.wait_for_state("signedOut", since=mark)
    end = await client.wait_until(lambda: ended(client))

    assert status["lastError"]["code"] == "access_denied"
    assert status["login"] is None
    assert "denied" in end[0].message


async def test_expired_code_ends_signed_out(open_client, make_devserver):
    devserver = make_devserver(device_code_ttl=1)
    client = await open_client(profile_options(devserver))
    mark = len(client.statuses)

    await client.command("tokenwarden.login")
    status = await client.wait_for_state("signedOut", since=mark)
    await client.wait_until(lambda: ended(client))

    assert status["lastError"]["code"] == "expired_token"


async def test_cancel_login_stops_the_flow(open_client, devserver):
    client = await open_client(profile_options(devserver))
    mark = len(client.statuses)
    await client.command("tokenwarden.login")
    await client.wait_for_state("signingIn", since=mark)

    result = await client.command("tokenwarden.cancelLogin")
    status = await client.wait_for_state("signedOut", since=mark)
    again = await client.command("tokenwarden.cancelLogin")

    assert result == {"cancelled": True}
    assert again == {"cancelled": False}
    assert status["lastError"]["code"] == "cancelled"
    await client.wait_until(lambda: ended(client))


async def test_cancelling_the_progress_cancels_the_sign_in(open_client, devserver):
    client = await open_client(profile_options(devserver))
    mark = len(client.statuses)
    await client.command("tokenwarden.login")
    await client.wait_until(lambda: client.progress_reports or None)
    (token,) = client.progress_reports

    client.protocol.notify(types.WINDOW_WORK_DONE_PROGRESS_CANCEL,
                           types.WorkDoneProgressCancelParams(token=token))
    status = await client.wait_for_state("signedOut", since=mark)

    assert status["lastError"]["code"] == "cancelled"


async def test_plain_client_is_told_the_sign_in_failed(open_client, devserver):
    client = await open_client(profile_options(devserver), capabilities=PLAIN)

    started = await client.command("tokenwarden.login")
    devserver.deny(started["userCode"])
    failed = await client.wait_until(
        lambda: [m for m in client.messages if "denied" in m.message] or None)

    assert failed[0].type == types.MessageType.Warning


async def test_interactive_get_token_fails_when_the_sign_in_is_denied(open_client, devserver):
    client = await open_client(profile_options(devserver))

    pending = asyncio.ensure_future(client.get_token(interactive=True))
    signing_in = await client.wait_for_state("signingIn")
    devserver.deny(signing_in["login"]["userCode"])

    with pytest.raises(JsonRpcException) as failure:
        await asyncio.wait_for(pending, 15)
    assert failure.value.code == -32001
    assert failure.value.data["profile"] == "default"
