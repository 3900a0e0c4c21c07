"""tokenwarden.logout over real LSP: a revocation the provider refused is in the result."""

from __future__ import annotations

from tests.lsp.harness import profile_options, sign_in


async def test_logout_result_and_status_carry_a_refused_revocation(open_client, devserver):
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)
    devserver.add_fault("revoke", "status", status=401, error="invalid_client")
    mark = len(client.statuses)

    result = await client.command("tokenwarden.logout")
    # The store watcher may push a plain signedOut first (the record is deleted
    # before the provider is asked); the refusal follows at once.
    pushed = await client.wait_for_status(
        lambda s: s["state"] == "signedOut" and s["lastError"] is not None, since=mark)

    for status in (result, pushed):
        assert status["lastError"]["code"] == "revocation_refused"
        assert status["message"] == (
            "Signed out · the provider refused to revoke (HTTP 401): "
            "the refresh token stays valid there until it expires")


async def test_logout_that_revoked_has_no_error(open_client, devserver):
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)

    result = await client.command("tokenwarden.logout")

    assert result["state"] == "signedOut" and result["lastError"] is None
    assert devserver.stats()["revocations"] == 1
