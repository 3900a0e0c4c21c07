"""A stored grant stays bound to its provider settings when an editor overrides them
(issue 13 item 2, through `initializationOptions.profiles` of a real `tokenwarden serve`)."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException

from tests.core.conftest import configure
from tests.lsp.harness import profile_options, sign_in


async def test_an_editor_override_of_the_token_endpoint_never_gets_the_grant(
        open_client, devserver, make_devserver, home):
    """Same issuer, other token and revocation endpoints: the grant goes to neither."""
    configure(home, devserver)
    first = await open_client(profile_options(devserver))
    await sign_in(first, devserver)
    before = (home / "store" / "default.json").read_bytes()
    attacker = make_devserver()
    options = profile_options(devserver)
    options["profiles"]["default"]["token_endpoint"] = attacker.url("/token")
    options["profiles"]["default"]["revocation_endpoint"] = attacker.url("/revoke")
    client = await open_client(options)

    with pytest.raises(JsonRpcException) as failure:
        await client.get_token(minValiditySeconds=7200)  # beyond the token: forces a renewal
    refreshed = await client.command("tokenwarden.status", {})
    await client.command("tokenwarden.logout", {})

    assert failure.value.code == -32001
    assert failure.value.data == {"profile": "default", "state": "expired"}
    assert refreshed["lastError"]["code"] == "provider_settings_changed"
    assert attacker.stats()["token_requests"] == {} and attacker.stats()["revocations"] == 0
    assert (home / "store" / "default.json").read_bytes() == before
    assert (await first.get_token())["accessToken"]  # the real session lives on
