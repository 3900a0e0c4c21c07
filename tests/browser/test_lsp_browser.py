"""``tokenwarden.login`` over LSP signs in through the browser the client opens."""

from __future__ import annotations

import pytest

from tests.browser.lsp import open_in, start_desktop_client
from tests.browser.pages import sign_in_in_browser
from tests.lsp.conftest import PLAIN, VSCODE
from tests.lsp.harness import close_client, profile_options


@pytest.fixture
def devserver(make_devserver):
    return make_devserver()


@pytest.fixture
async def clients():
    opened = []
    yield opened
    for client in opened:
        await close_client(client)


async def test_login_in_an_editor_that_opens_urls_signs_in_through_the_browser(
        devserver, home, clients):
    client = await start_desktop_client(home, VSCODE, profile_options(devserver, flow="auto"))
    clients.append(client)
    followed = open_in(client, sign_in_in_browser)
    mark = len(client.statuses)
    started = await client.command("tokenwarden.login")
    assert set(started) == {"profile", "flow", "authorizationUri", "expiresIn"}
    assert started["flow"] == "browser"
    waiting = await client.wait_for_state("signingIn", since=mark)
    assert waiting["login"]["flow"] == "browser"
    assert waiting["login"]["authorizationUri"] == started["authorizationUri"]
    assert waiting["login"]["userCode"] is None
    assert waiting["message"] == "Signing in: waiting for the browser…"
    signed_in = await client.wait_for_state("signedIn", since=mark)
    assert signed_in["account"] == "alice@example.test"
    assert [d.uri for d in client.shown_documents] == [started["authorizationUri"]]
    assert client.shown_documents[0].external is True
    page = await followed[0]
    assert page.status_code == 200
    begins = [v for v in client.progress_values() if v.kind == "begin"]
    assert begins and begins[0].message == "Waiting for the browser…"


async def test_login_in_an_editor_that_cannot_open_urls_uses_a_device_code(
        devserver, home, clients):
    client = await start_desktop_client(home, PLAIN, profile_options(devserver, flow="auto"))
    clients.append(client)
    started = await client.command("tokenwarden.login")
    assert started["flow"] == "device" and started["userCode"]


async def test_login_in_an_ssh_session_uses_a_device_code(devserver, home, clients):
    client = await start_desktop_client(home, VSCODE, profile_options(devserver, flow="auto"),
                                        ssh=True)
    clients.append(client)
    started = await client.command("tokenwarden.login")
    assert started["flow"] == "device"


async def test_login_in_an_editor_on_a_console_without_a_display_uses_a_device_code(
        devserver, home, clients):
    client = await start_desktop_client(home, VSCODE, profile_options(devserver, flow="auto"),
                                        display=False)
    clients.append(client)
    started = await client.command("tokenwarden.login")
    assert started["flow"] == "device"


async def test_login_flow_browser_in_a_plain_client_shows_the_url_to_open(
        devserver, home, clients):
    client = await start_desktop_client(home, PLAIN, profile_options(devserver, flow="auto"))
    clients.append(client)
    mark = len(client.statuses)
    started = await client.command("tokenwarden.login", {"flow": "browser"})
    assert started["flow"] == "browser"
    shown = await client.wait_until(
        lambda: [m for m in client.messages if started["authorizationUri"] in m.message] or None)
    assert "open" in shown[0].message
    await sign_in_in_browser(started["authorizationUri"])
    await client.wait_for_state("signedIn", since=mark)


async def test_login_rejects_an_unknown_flow(devserver, home, clients):
    from pygls.exceptions import JsonRpcException

    client = await start_desktop_client(home, VSCODE, profile_options(devserver))
    clients.append(client)
    with pytest.raises(JsonRpcException, match="flow must be one of auto, browser, device"):
        await client.command("tokenwarden.login", {"flow": "web"})
