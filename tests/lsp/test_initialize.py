"""initialize: the capabilities of protocol v1, the first status, bad options."""

from __future__ import annotations

from lsprotocol import types

from tests.lsp.harness import profile_options
from tokenwarden.lsp import protocol


async def test_capabilities_list_the_commands_and_protocol_version(open_client, devserver):
    client = await open_client(profile_options(devserver))

    capabilities = client.initialize_result.capabilities
    assert capabilities.execute_command_provider is not None
    assert list(capabilities.execute_command_provider.commands) == list(protocol.COMMANDS)
    assert capabilities.experimental == {"tokenwarden": {"protocolVersion": 1}}
    assert capabilities.text_document_sync is None
    assert client.initialize_result.server_info.name == "tokenwarden"


async def test_first_status_is_sent_after_initialized(open_client, devserver):
    client = await open_client(profile_options(devserver))

    status = await client.wait_for_state("signedOut")

    assert status["profile"] == "default"
    assert status["issuer"] == devserver.issuer
    assert set(status) == {"profile", "state", "account", "issuer", "expiresAt", "refreshable",
                           "sessionEndsAt", "message", "lastError", "login"}
    assert status["message"]


async def test_bad_option_is_named_once_and_defaults_apply(open_client, devserver):
    options = profile_options(devserver, warnBeforeExpirySeconds="soon", openBrowser=True)

    client = await open_client(options)
    shown = await client.wait_until(lambda: client.messages or None)
    await client.wait_until(lambda: [m for m in client.log_messages
                                     if "warnBeforeExpirySeconds" in m.message] or None)

    assert len(shown) == 1
    assert shown[0].type == types.MessageType.Warning
    assert "warnBeforeExpirySeconds" in shown[0].message
    assert (await client.command("tokenwarden.status"))["state"] == "signedOut"


async def test_bad_profile_is_reported_and_others_keep_working(open_client, devserver):
    options = profile_options(devserver)
    options["profiles"]["broken"] = {"issuer": "http://example.com", "client_id": "x"}

    client = await open_client(options)
    shown = await client.wait_until(lambda: client.messages or None)

    assert "profiles.broken.issuer" in shown[0].message
    assert (await client.command("tokenwarden.status"))["profile"] == "default"


async def test_missing_default_profile_is_reported(open_client):
    client = await open_client(None, first_status=False)

    shown = await client.wait_until(lambda: client.messages or None)

    assert "'default'" in shown[0].message or "default" in shown[0].message
    assert "not configured" in shown[0].message
