"""Browser sign-in (authorization code + PKCE, loopback redirect) at each independent server.

The server's own login and consent pages are driven over HTTP as a browser would
(``authorize_in_browser``); the redirect it answers with is then delivered to
tokenwarden's loopback listener, as the browser would follow it.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.cli import LoginProcess, login_env
from tests.browser.lsp import open_in, start_desktop_client
from tests.browser.pages import deliver
from tests.interop.conftest import configure, profile_of
from tests.interop.drive import run_cli, stored_refresh_token
from tests.interop.servers import IndependentServer
from tests.lsp.conftest import VSCODE
from tests.lsp.harness import close_client

WAIT = 60.0


async def browse(server: IndependentServer, url: str, *, register: bool = True):
    """Log in and consent at ``server``, then land on tokenwarden's callback page."""
    redirect = await asyncio.to_thread(
        functools.partial(server.authorize_in_browser, url, register=register))
    query = parse_qs(urlsplit(redirect).query)
    assert "code" in query, f"{server.name} answered {query.get('error')} {query.get('error_description')}"
    if getattr(server, "metadata", {}).get("authorization_response_iss_parameter_supported"):
        assert "iss" in query, f"{server.name} promised iss (RFC 9207) and sent none"
    return await deliver(redirect)


def token_works(server: IndependentServer, home) -> None:
    # A renewal at once: the grant must hold every scope the profile asks for again
    # (offline_access needs prompt=consent at an OpenID provider).
    renewal = run_cli(home, "refresh")
    assert renewal.returncode == 0, renewal.stdout + renewal.stderr
    token = run_cli(home, "token", "--min-validity", "1")
    assert token.returncode == 0, token.stderr
    accepted = server.userinfo_accepts(token.stdout.strip())  # booleans: no token printed
    refresh = stored_refresh_token(home)
    active = refresh is not None and server.token_active(refresh, "refresh_token")
    assert accepted, "userinfo refused the access token of the browser sign-in"
    assert active, "the refresh token of the browser sign-in is not active at the server"


async def test_login_flow_browser_signs_in_at_the_server(independent_server, interop_home,
                                                         client_kind):
    configure(interop_home, profile_of(independent_server, client_kind))
    exchanges = independent_server.token_requests("authorization_code")
    login = await LoginProcess.start(login_env(interop_home), "--flow", "browser",
                                     "--no-browser")
    try:
        kind, url = await login.instructions()
        assert kind == "browser"
        page = await browse(independent_server, url)
        assert page.status_code == 200 and "You can close this tab" in page.text
        code, out, err = await login.finish()
    finally:
        await login.stop()
    assert code == 0, out + err
    assert "default: Signed in" in out
    assert independent_server.token_requests("authorization_code") == exchanges + 1
    token_works(independent_server, interop_home)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_fixed_redirect_port_signs_in_twice_with_the_uri_registered_beforehand(
        independent_server, interop_home):
    # A provider that matches redirect URIs exactly (Glewlwyd) has one registered when
    # the client is set up; redirect_port makes every browser sign-in use that one.
    # Two sign-ins in a row: the second binds the port while the first one's
    # connections may still be in TIME_WAIT.
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/callback"
    profile = profile_of(independent_server, "public")
    independent_server.register_redirect(profile["client_id"], redirect_uri)
    configure(interop_home, {**profile, "redirect_port": port})
    for attempt in (1, 2):
        login = await LoginProcess.start(login_env(interop_home), "--flow", "browser",
                                         "--no-browser", "--force")
        try:
            kind, url = await login.instructions()
            assert kind == "browser"
            assert parse_qs(urlsplit(url).query)["redirect_uri"] == [redirect_uri]
            page = await browse(independent_server, url, register=False)
            assert page.status_code == 200 and "You can close this tab" in page.text
            code, out, err = await login.finish()
        finally:
            await login.stop()
        assert code == 0, f"sign-in {attempt}: {out}{err}"
    token_works(independent_server, interop_home)


async def test_login_auto_on_a_desktop_signs_in_through_the_browser(independent_server,
                                                                    interop_home, tmp_path):
    configure(interop_home, {**profile_of(independent_server, "public"), "flow": "auto"})
    opened = tmp_path / "opened-url"
    login = await LoginProcess.start(login_env(interop_home, desktop=True, browser_log=opened))
    try:
        kind, url = await login.instructions()
        assert kind == "browser"
        await browse(independent_server, url)
        code, out, err = await login.finish()
    finally:
        await login.stop()
    assert code == 0, out + err
    token_works(independent_server, interop_home)


@pytest.fixture
async def clients():
    opened = []
    yield opened
    for client in opened:
        await close_client(client)


async def test_serve_signs_in_through_the_browser_the_editor_opens(independent_server,
                                                                   interop_home, clients):
    configure(interop_home, {**profile_of(independent_server, "public"), "flow": "auto"})
    client = await start_desktop_client(interop_home, VSCODE, {})
    clients.append(client)
    followed = open_in(client, lambda url: browse(independent_server, url))
    mark = len(client.statuses)
    started = await client.command("tokenwarden.login")
    assert started["flow"] == "browser"
    signed_in = await client.wait_for_state("signedIn", since=mark, timeout=WAIT)
    assert signed_in["account"]
    assert (await followed[0]).status_code == 200
    token_works(independent_server, interop_home)
