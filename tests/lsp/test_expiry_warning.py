"""Before a session that cannot be renewed ends: a Warning with "Sign in" / "Later"."""

from __future__ import annotations

from lsprotocol import types

from tests.lsp.harness import choose, profile_options, sign_in

TTL = 3.0


async def revoked_session(open_client, make_devserver, answer, warn_before=60):
    """Signed in, then the provider revokes the grant: renewal becomes impossible."""
    devserver = make_devserver(access_token_ttl=TTL)
    client = await open_client(profile_options(devserver, warnBeforeExpirySeconds=warn_before))
    client.answer_message_request = answer
    await sign_in(client, devserver)
    mark = len(client.statuses)
    devserver.revoke_all()
    return client, devserver, mark


async def test_revoked_grant_brings_a_warning_with_sign_in_and_later(open_client,
                                                                     make_devserver):
    client, _, mark = await revoked_session(open_client, make_devserver, choose("Later"))

    asked = await client.wait_until(lambda: client.message_requests or None)
    expired = await client.wait_for_state("expired", since=mark)

    request = asked[0]
    assert request.type == types.MessageType.Warning
    assert [action.title for action in request.actions] == ["Sign in", "Later"]
    assert "'default'" in request.message
    assert expired["lastError"]["code"] == "invalid_grant"


async def test_answering_sign_in_starts_the_flow(open_client, make_devserver):
    client, devserver, mark = await revoked_session(open_client, make_devserver,
                                                    choose("Sign in"))
    await client.wait_until(lambda: client.message_requests or None)

    signing_in = await client.wait_for_state("signingIn", since=mark)
    await client.wait_until(lambda: client.progress_reports or None)
    mark = len(client.statuses)
    devserver.approve(signing_in["login"]["userCode"])
    signed_in = await client.wait_for_state("signedIn", since=mark)

    assert signed_in["refreshable"] is True
    assert devserver.stats()["device_authorizations"] == 2


async def test_answering_later_starts_nothing(open_client, make_devserver):
    client, devserver, _ = await revoked_session(open_client, make_devserver,
                                                    choose("Later"))

    await client.wait_until(lambda: client.message_requests or None)
    status = await client.command("tokenwarden.status")

    assert status["state"] == "expired"
    assert devserver.stats()["device_authorizations"] == 1


async def test_warning_before_the_refresh_token_itself_expires(open_client, make_devserver):
    devserver = make_devserver(access_token_ttl=60, refresh_token_ttl=30,
                               absolute_refresh_expiry=True)
    client = await open_client(profile_options(devserver, warnBeforeExpirySeconds=60))
    client.answer_message_request = choose("Later")

    await sign_in(client, devserver)
    asked = await client.wait_until(lambda: client.message_requests or None)
    status = await client.command("tokenwarden.status")

    assert status["state"] == "signedIn"
    assert "ends in" in asked[0].message
    assert "cannot be renewed automatically" in asked[0].message


async def test_when_the_session_has_ended_the_same_request_comes(open_client, make_devserver):
    client, _, mark = await revoked_session(open_client, make_devserver, choose("Later"),
                                            warn_before=0)

    await client.wait_for_state("expired", since=mark)
    asked = await client.wait_until(lambda: client.message_requests or None, timeout=10)

    assert "has expired" in asked[0].message
    assert [action.title for action in asked[0].actions] == ["Sign in", "Later"]
