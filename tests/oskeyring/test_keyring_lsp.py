"""The language server with store = "keyring": sign-in, renewal and sign-out over real LSP."""

from __future__ import annotations

import json

import pytest
from pygls.exceptions import JsonRpcException

from tests.lsp.conftest import devserver, home, open_client
from tests.lsp.harness import profile_options
from tests.oskeyring.conftest import keyring_entries

__all__ = ["devserver", "home", "open_client"]


def _keyring_options(server):
    options = profile_options(server)
    options["profiles"]["default"]["store"] = "keyring"
    return options


async def test_editor_signs_in_renews_and_signs_out_with_the_keyring(secret_service, open_client,
                                                                      devserver, home):
    client = await open_client(_keyring_options(devserver))
    mark = len(client.statuses)
    started = await client.command("tokenwarden.login")
    devserver.approve(started["userCode"])
    await client.wait_for_state("signedIn", since=mark)

    record = json.loads((home / "store" / "default.json").read_text())
    assert record["kept_in"] == "keyring" and record["access_token"] is None
    assert keyring_entries() == [f"default/{record['keyring_ref']}"]

    first = await client.get_token()
    await client.command("tokenwarden.refresh")
    second = await client.get_token()
    assert second["accessToken"] != first["accessToken"]
    after = json.loads((home / "store" / "default.json").read_text())
    assert keyring_entries() == [f"default/{after['keyring_ref']}"]

    mark = len(client.statuses)
    await client.command("tokenwarden.logout")
    await client.wait_for_state("signedOut", since=mark)
    assert keyring_entries() == []


async def test_editor_login_without_a_keyring_is_refused_before_a_code(open_client, devserver,
                                                                      home):
    client = await open_client(_keyring_options(devserver))  # no DBUS_SESSION_BUS_ADDRESS
    with pytest.raises(JsonRpcException) as failure:
        await client.command("tokenwarden.login")
    assert failure.value.code == -32803
    assert failure.value.data == {"code": "store_error"}
    assert "no D-Bus session bus" in failure.value.message
    assert devserver.stats()["token_requests"] == {}
    assert not (home / "store" / "default.json").exists()
