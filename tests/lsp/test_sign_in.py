"""Sign-in from the login command to signedIn: progress, browser, plain-client message."""

from __future__ import annotations

from lsprotocol import types

from tests.lsp.conftest import PLAIN
from tests.lsp.harness import profile_options, sign_in


async def test_login_returns_the_code_and_ends_signed_in(open_client, devserver):
    client = await open_client(profile_options(devserver))
    mark = len(client.statuses)

    started = await client.command("tokenwarden.login")
    signing_in = await client.wait_for_state("signingIn", since=mark)
    devserver.approve(started["userCode"])
    signed_in = await client.wait_for_state("signedIn", since=mark)

    assert set(started) == {"profile", "flow", "userCode", "verificationUri",
                            "verificationUriComplete", "expiresIn", "interval"}
    assert started["flow"] == "device"
    assert started["profile"] == "default"
    assert signing_in["login"]["userCode"] == started["userCode"]
    assert signed_in["account"] == "alice@example.test"
    assert signed_in["expiresAt"] is not None and signed_in["login"] is None


async def test_sign_in_shows_progress_with_code_and_url(open_client, devserver):
    client = await open_client(profile_options(devserver))

    started = await client.command("tokenwarden.login")
    await client.wait_until(lambda: [v for v in client.progress_values() if v.kind == "report"]
                            or None)
    devserver.approve(started["userCode"])
    await client.wait_until(lambda: [v for v in client.progress_values() if v.kind == "end"]
                            or None)

    (values,) = client.progress_reports.values()
    kinds = [value.kind for value in values]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
    begin = values[0]
    assert started["userCode"] in begin.message
    assert started["verificationUri"] in begin.message
    assert begin.cancellable is True
    assert "Signed in" in values[-1].message


async def test_sign_in_opens_the_browser_externally(open_client, devserver):
    client = await open_client(profile_options(devserver))

    started = await client.command("tokenwarden.login")
    shown = await client.wait_until(lambda: client.shown_documents or None)

    assert shown[0].uri == started["verificationUriComplete"]
    assert shown[0].external is True


async def test_open_browser_false_in_the_command_keeps_the_browser_closed(open_client, devserver):
    client = await open_client(profile_options(devserver))

    started = await client.command("tokenwarden.login", {"openBrowser": False})
    await client.wait_until(lambda: [v for v in client.progress_values() if v.kind == "report"]
                            or None)
    devserver.approve(started["userCode"])
    await client.wait_for_state("signedIn")

    assert client.shown_documents == []


async def test_open_browser_option_false_keeps_the_browser_closed(open_client, devserver):
    client = await open_client(profile_options(devserver, openBrowser=False))

    await sign_in(client, devserver)

    assert client.shown_documents == []


async def test_client_without_progress_gets_the_code_as_a_message(open_client, devserver):
    client = await open_client(profile_options(devserver), capabilities=PLAIN)

    started = await client.command("tokenwarden.login")
    shown = await client.wait_until(
        lambda: [m for m in client.messages if started["userCode"] in m.message] or None)
    devserver.approve(started["userCode"])
    await client.wait_for_state("signedIn")
    await client.wait_until(lambda: [m for m in client.messages if "Signed in" in m.message]
                            or None)

    assert started["verificationUri"] in shown[0].message
    assert shown[0].type == types.MessageType.Info
    assert client.progress_reports == {}
    assert client.shown_documents == []  # no showDocument capability: never asked


async def test_login_when_signed_in_returns_the_status(open_client, devserver):
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)

    again = await client.command("tokenwarden.login")

    assert again["state"] == "signedIn"
    assert devserver.stats()["device_authorizations"] == 1


async def test_login_with_force_starts_a_new_flow(open_client, devserver):
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)

    again = await client.command("tokenwarden.login", {"force": True})

    assert "userCode" in again
    assert devserver.stats()["device_authorizations"] == 2


async def test_interactive_get_token_signs_in_and_answers_with_a_token(open_client, devserver):
    import asyncio

    client = await open_client(profile_options(devserver))

    pending = asyncio.ensure_future(client.get_token(interactive=True))
    signing_in = await client.wait_for_state("signingIn")
    # The same sign-in UI as the login command: the browser opens (approving before
    # it does would end the sign-in first, and a finished sign-in opens no browser).
    opened = await client.wait_until(lambda: client.shown_documents or None)
    devserver.approve(signing_in["login"]["userCode"])
    token = await asyncio.wait_for(pending, 15)

    assert token["accessToken"]
    assert token["tokenType"] == "Bearer"
    assert opened


async def test_interactive_get_token_joins_the_sign_in_in_progress(open_client, devserver):
    import asyncio

    client = await open_client(profile_options(devserver))
    started = await client.command("tokenwarden.login")

    pending = asyncio.ensure_future(client.get_token(interactive=True))
    await client.command("tokenwarden.status")  # answered after getToken has begun waiting
    devserver.approve(started["userCode"])
    token = await asyncio.wait_for(pending, 15)

    assert token["accessToken"]
    assert devserver.stats()["device_authorizations"] == 1
