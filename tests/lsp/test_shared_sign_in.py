"""A sign-in in progress is seen, and joined, by every window that shares the profile."""

from __future__ import annotations

import asyncio

from tests.lsp.harness import profile_options


async def test_a_sign_in_started_in_one_window_shows_as_signing_in_in_the_other(
        open_client, devserver):
    first = await open_client(profile_options(devserver))
    second = await open_client(profile_options(devserver))
    mark = len(second.statuses)
    started = await first.command("tokenwarden.login")
    seen = await second.wait_for_state("signingIn", since=mark)
    assert seen["login"]["userCode"] == started["userCode"]
    assert seen["login"]["flow"] == "device"
    assert seen["message"].startswith(f"Signing in: enter code {started['userCode']}")
    devserver.approve(started["userCode"])
    await first.wait_for_state("signedIn", since=mark)
    await second.wait_for_state("signedIn", since=mark)


async def test_login_in_a_second_window_joins_the_running_sign_in(open_client, devserver):
    first = await open_client(profile_options(devserver))
    second = await open_client(profile_options(devserver))
    started = await first.command("tokenwarden.login")
    await second.wait_for_state("signingIn")
    mark = len(second.statuses)
    joined = await second.command("tokenwarden.login", {"force": True})
    assert joined["joined"] is True
    assert joined["flow"] == "device"
    assert joined["userCode"] == started["userCode"]
    assert devserver.stats()["device_authorizations"] == 1
    devserver.approve(started["userCode"])
    await second.wait_for_state("signedIn", since=mark)
    # The window that joined opened no second browser tab.
    assert second.shown_documents == []


async def test_an_interactive_get_token_in_a_second_window_waits_for_the_first(
        open_client, devserver):
    first = await open_client(profile_options(devserver))
    second = await open_client(profile_options(devserver))
    started = await first.command("tokenwarden.login")
    await second.wait_for_state("signingIn")
    pending = asyncio.ensure_future(second.get_token(interactive=True))
    await asyncio.sleep(0)  # the request is out before the approval
    devserver.approve(started["userCode"])
    token = await asyncio.wait_for(pending, 20)
    assert token["accessToken"]
    assert devserver.stats()["device_authorizations"] == 1


async def test_a_cancelled_sign_in_leaves_every_window_signed_out(open_client, devserver):
    first = await open_client(profile_options(devserver))
    second = await open_client(profile_options(devserver))
    await first.command("tokenwarden.login")
    await second.wait_for_state("signingIn")
    mark = len(second.statuses)
    assert (await first.command("tokenwarden.cancelLogin"))["cancelled"] is True
    back = await second.wait_for_state("signedOut", since=mark)
    assert back["login"] is None


async def test_a_browser_sign_in_is_joined_with_its_url(open_client, devserver):
    first = await open_client(profile_options(devserver, openBrowser=False))
    second = await open_client(profile_options(devserver))
    started = await first.command("tokenwarden.login", {"flow": "browser"})
    seen = await second.wait_for_state("signingIn")
    assert seen["login"]["authorizationUri"] == started["authorizationUri"]
    joined = await second.command("tokenwarden.login")
    assert joined == {"profile": "default", "flow": "browser", "joined": True,
                      "authorizationUri": started["authorizationUri"],
                      "expiresIn": joined["expiresIn"]}
    assert second.shown_documents == []
