"""workspace/didChangeConfiguration: the tokenwarden section is applied live."""

from __future__ import annotations

from lsprotocol import types

from tests.lsp.harness import choose, profile_options, sign_in


def push(client, settings):
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=settings))


async def test_new_warning_threshold_applies_at_once(open_client, make_devserver):
    devserver = make_devserver(refresh_token_ttl=30, absolute_refresh_expiry=True)
    client = await open_client(profile_options(devserver, warnBeforeExpirySeconds=0))
    client.answer_message_request = choose("Later")
    await sign_in(client, devserver)
    assert client.message_requests == []

    push(client, {"tokenwarden": {"warnBeforeExpirySeconds": 60}})
    asked = await client.wait_until(lambda: client.message_requests or None, timeout=5)

    assert "ends in" in asked[0].message


async def test_open_browser_setting_applies_to_the_next_sign_in(open_client, devserver):
    client = await open_client(profile_options(devserver))

    push(client, {"tokenwarden": {"openBrowser": False}})
    await sign_in(client, devserver)

    assert client.shown_documents == []


async def test_switching_the_default_profile(open_client, devserver, make_devserver):
    other = make_devserver()
    options = profile_options(devserver)
    client = await open_client(options)
    mark = len(client.statuses)

    push(client, {"tokenwarden": {"profile": "work", "profiles": {
        **options["profiles"],
        "work": {"issuer": other.issuer, "client_id": "tokenwarden-tests"},
    }}})
    status = await client.wait_for_status(lambda s: s["profile"] == "work", since=mark)

    assert status["issuer"] == other.issuer
    assert (await client.command("tokenwarden.status"))["profile"] == "work"


async def test_bad_setting_is_named_and_ignored(open_client, devserver):
    client = await open_client(profile_options(devserver))

    push(client, {"tokenwarden": {"openBrowser": "sometimes"}})
    shown = await client.wait_until(lambda: client.messages or None)

    assert "openBrowser" in shown[0].message
    assert (await client.command("tokenwarden.status"))["state"] == "signedOut"


async def test_settings_are_pulled_when_not_pushed(open_client, devserver):
    client = await open_client(profile_options(devserver))
    client.set_configuration({"openBrowser": "sometimes"}, section="tokenwarden")

    push(client, None)
    shown = await client.wait_until(lambda: client.messages or None)

    assert "openBrowser" in shown[0].message
