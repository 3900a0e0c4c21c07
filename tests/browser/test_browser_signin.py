"""Browser sign-in (authorization code + PKCE, loopback redirect) against the dev server.

The test plays the user's browser over real HTTP: it opens the authorization URL,
answers the consent page, and follows the redirect to tokenwarden's listener, or
tampers with it first, as an attacker or a confused browser would.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx2
import pytest

from tests.browser.pages import deliver, devserver_authorize, sign_in_in_browser
from tests.core.conftest import configure, manager_for
from tokenwarden.browserflow import BrowserAuthorization, BrowserSignIn
from tokenwarden.errors import LoginFailed
from tokenwarden.loopback import RedirectListener
from tokenwarden.oauth import DeviceAuthorization, OAuthClient
from tokenwarden.status import SessionState


async def start_browser(manager, **kwargs) -> BrowserAuthorization:
    started = await manager.start_login(flow="browser", **kwargs)
    assert isinstance(started, BrowserAuthorization), started
    return started


def with_query(url: str, **changes: str | None) -> str:
    """``url`` with query parameters replaced (or removed, for None)."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def state_of(authorization_uri: str) -> str:
    return parse_qs(urlsplit(authorization_uri).query)["state"][0]


def code_exchanges(server) -> int:
    return server.stats()["token_requests"].get("authorization_code", 0)


async def wait_signed_in(manager) -> None:
    status = await asyncio.wait_for(manager.wait_login(), 15)
    assert status.state is SessionState.SIGNED_IN, status.message


async def test_browser_sign_in_ends_signed_in_with_the_account(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await start_browser(manager)
    query = parse_qs(urlsplit(started.authorization_uri).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")
    assert query["redirect_uri"][0].endswith("/callback")
    assert query["nonce"][0] and query["prompt"] == ["consent"]  # openid, offline_access
    assert manager.status().login.flow == "browser"
    page = await sign_in_in_browser(started.authorization_uri)
    assert page.status_code == 200 and "You can close this tab" in page.text
    await wait_signed_in(manager)
    status = manager.status()
    assert status.account == "alice@example.test"
    assert status.refreshable
    assert code_exchanges(server) == 1
    await manager.close()


async def test_each_attempt_has_its_own_state_verifier_and_port(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    first = await start_browser(manager)
    assert await manager.cancel_login()
    second = await start_browser(manager)
    one, two = (parse_qs(urlsplit(s.authorization_uri).query) for s in (first, second))
    assert one["state"] != two["state"]
    assert one["code_challenge"] != two["code_challenge"]
    assert first.redirect_uri != second.redirect_uri
    with pytest.raises(httpx2.ConnectError):  # the first attempt's listener is gone
        await deliver(first.redirect_uri)
    await manager.close()


async def test_a_redirect_with_another_state_is_ignored_and_the_sign_in_goes_on(
        make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await start_browser(manager)
    redirect = await devserver_authorize(started.authorization_uri)
    forged = await deliver(with_query(redirect, state="not-this-attempt"))
    assert forged.status_code == 400
    assert "does not belong to the sign-in in progress" in forged.text
    assert manager.status().state is SessionState.SIGNING_IN
    assert code_exchanges(server) == 0
    page = await deliver(redirect)
    assert page.status_code == 200
    await wait_signed_in(manager)
    await manager.close()


async def test_a_replayed_redirect_reaches_no_one_and_the_code_is_exchanged_once(
        make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await start_browser(manager)
    redirect = await devserver_authorize(started.authorization_uri)
    assert (await deliver(redirect)).status_code == 200
    await wait_signed_in(manager)
    with pytest.raises(httpx2.ConnectError):
        await deliver(redirect)
    assert code_exchanges(server) == 1
    await manager.close()


async def test_a_redirect_without_the_promised_iss_stops_the_sign_in(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await start_browser(manager)
    redirect = await devserver_authorize(started.authorization_uri)
    page = await deliver(with_query(redirect, iss=None))
    assert page.status_code == 400 and "RFC 9207" in page.text
    status = await asyncio.wait_for(manager.wait_login(), 15)
    assert status.state is SessionState.SIGNED_OUT
    assert status.last_error.code == "iss_missing"
    assert code_exchanges(server) == 0
    await manager.close()


async def test_a_redirect_from_another_issuer_stops_the_sign_in(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await start_browser(manager)
    redirect = await devserver_authorize(started.authorization_uri)
    page = await deliver(with_query(redirect, iss="https://attacker.example"))
    assert page.status_code == 400 and "attacker.example" in page.text
    status = await asyncio.wait_for(manager.wait_login(), 15)
    assert status.last_error.code == "iss_mismatch"
    assert "attacker.example" in status.last_error.message
    assert code_exchanges(server) == 0
    await manager.close()


async def test_denied_consent_ends_signed_out_with_the_reason(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await start_browser(manager)
    page = await sign_in_in_browser(started.authorization_uri, action="deny")
    assert page.status_code == 400 and "denied" in page.text
    status = await asyncio.wait_for(manager.wait_login(), 15)
    assert status.state is SessionState.SIGNED_OUT
    assert status.last_error.code == "access_denied"
    assert "denied" in status.last_error.message
    await manager.close()


async def test_invalid_request_from_the_provider_is_shown_as_the_reason(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await start_browser(manager)
    redirect = with_query(started.redirect_uri, state=state_of(started.authorization_uri),
                          iss=server.issuer, error="invalid_request",
                          error_description="code_challenge\x1b[31m is required")
    page = await deliver(redirect)
    assert page.status_code == 400
    status = await asyncio.wait_for(manager.wait_login(), 15)
    assert status.last_error.code == "invalid_request"
    assert "rejected the sign-in request (code_challenge[31m is required)" in (
        status.last_error.message)
    await manager.close()


async def test_a_redirect_that_never_comes_times_out(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home, browser_timeout_seconds=0.5)
    started = await start_browser(manager)
    status = await asyncio.wait_for(manager.wait_login(), 15)
    assert status.state is SessionState.SIGNED_OUT
    assert status.last_error.code == "timeout"
    assert "start the sign-in again" in status.last_error.message
    with pytest.raises(httpx2.ConnectError):
        await deliver(started.redirect_uri)
    await manager.close()


async def test_cancelling_closes_the_listener(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await start_browser(manager)
    assert await manager.cancel_login()
    assert manager.status().last_error.code == "cancelled"
    with pytest.raises(httpx2.ConnectError):
        await deliver(started.redirect_uri)
    await manager.close()


async def test_a_fixed_port_is_bound_again_while_its_last_connections_wait_out_time_wait():
    # redirect_port: each sign-in binds the same port. The listener closes a browser's
    # connection first (after the page, or at the end of the sign-in), which leaves that
    # connection in TIME_WAIT on the port for a minute; the next sign-in must bind anyway.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    first = await RedirectListener.open(port=port)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n")
    await reader.read()  # the listener answered and closed first
    await first.close()
    writer.close()
    again = await RedirectListener.open(port=port)
    assert again.redirect_uri == f"http://127.0.0.1:{port}/callback"
    await again.close()


async def test_a_taken_port_is_a_clear_error(make_devserver, home):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        with pytest.raises(LoginFailed) as caught:
            await RedirectListener.open(port=port)
        assert caught.value.code == "redirect_port_unavailable"
        assert f"127.0.0.1:{port}" in caught.value.message
        assert "another program holds the port" in caught.value.message
        server = make_devserver()
        configure(home, server)
        client = OAuthClient(manager_for(home).config.profile(), timeout=5)
        with pytest.raises(LoginFailed):
            await BrowserSignIn.begin(client, port=port)
        await client.aclose()
    finally:
        holder.close()


async def test_the_listener_answers_only_its_callback_path(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await start_browser(manager)
    base = started.redirect_uri.removesuffix("/callback")
    async with httpx2.AsyncClient(trust_env=False, timeout=10) as http:
        assert (await http.get(f"{base}/favicon.ico")).status_code == 404
        assert (await http.post(started.redirect_uri)).status_code == 405
    assert manager.status().state is SessionState.SIGNING_IN
    await manager.close()


async def test_nothing_of_the_redirect_query_is_logged_but_the_error_code(
        make_devserver, home, caplog):
    caplog.set_level(logging.DEBUG, logger="tokenwarden")
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await start_browser(manager)
    redirect = await devserver_authorize(started.authorization_uri)
    await deliver(with_query(redirect, state="stale-state-value"))
    await deliver(redirect)
    await wait_signed_in(manager)
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    text = caplog.text
    assert code not in text
    assert state_of(started.authorization_uri) not in text
    assert "stale-state-value" not in text
    assert "state_mismatch" in text
    await manager.close()


async def test_auto_falls_back_to_the_browser_once_when_the_device_grant_is_refused(
        make_devserver, home, caplog):
    server = make_devserver()
    configure(home, server)
    server.add_fault("device_authorization", "status", status=400, error="unauthorized_client")
    manager = manager_for(home)
    started = await manager.start_login(browser_possible=False)
    assert isinstance(started, BrowserAuthorization)
    assert "signing in with the browser flow instead" in caplog.text
    await sign_in_in_browser(started.authorization_uri)
    await wait_signed_in(manager)
    await manager.close()


async def test_a_device_flow_asked_for_by_name_does_not_fall_back(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    server.add_fault("device_authorization", "status", status=400, error="unauthorized_client")
    manager = manager_for(home)
    with pytest.raises(Exception, match="unauthorized_client"):
        await manager.start_login(flow="device")
    await manager.close()


async def test_auto_signs_in_through_the_browser_when_the_device_grant_is_off(
        make_devserver, home):
    server = make_devserver(device_grant=False)
    configure(home, server)
    manager = manager_for(home)
    started = await manager.start_login(browser_possible=False)
    assert isinstance(started, BrowserAuthorization)
    await sign_in_in_browser(started.authorization_uri)
    await wait_signed_in(manager)
    await manager.close()


async def test_auto_picks_the_device_code_where_no_browser_can_be_opened(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await manager.start_login(browser_possible=False)
    assert isinstance(started, DeviceAuthorization)
    assert manager.status().login.flow == "device"
    await manager.close()


async def test_auto_picks_the_browser_where_one_can_be_opened(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await manager.start_login(browser_possible=True)
    assert isinstance(started, BrowserAuthorization)
    await manager.close()


async def hostile(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if data.endswith(b"\r\n\r\n") or len(data) > 70000:
            return await asyncio.wait_for(reader.read(), 15)
        writer.write_eof()
        return await asyncio.wait_for(reader.read(), 15)
    finally:
        writer.close()


async def test_hostile_bytes_at_the_listener_do_not_disturb_the_sign_in(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await start_browser(manager)
    port = urlsplit(started.redirect_uri).port
    assert (await hostile(port, b"\x16\x03\x01\x00\xa5garbage\r\n\r\n")).startswith(
        b"HTTP/1.1 400")
    assert await hostile(port, b"GET /callback?code=x HTTP/1.1\r\nHost: a") == b""
    assert (await hostile(port, b"GET /callback HTTP/1.1\r\nX: " + b"a" * 80000)).startswith(
        b"HTTP/1.1 431")
    assert (await hostile(port, b"GET /callback?state=%ZZ\x00 HTTP/1.1\r\n\r\n")).startswith(
        b"HTTP/1.1 400")
    assert manager.status().state is SessionState.SIGNING_IN
    assert (await sign_in_in_browser(started.authorization_uri)).status_code == 200
    await wait_signed_in(manager)
    await manager.close()


async def test_auto_falls_back_to_a_device_code_once_when_the_browser_flow_is_refused(
        make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await manager.start_login(browser_possible=True)
    assert isinstance(started, BrowserAuthorization)
    refused = with_query(started.redirect_uri, state=state_of(started.authorization_uri),
                         iss=server.issuer, error="unauthorized_client")
    assert (await deliver(refused)).status_code == 400
    async with asyncio.timeout(15):
        while (login := manager.status().login) is None or login.flow != "device":
            await asyncio.sleep(0.05)
    server.approve(login.user_code)
    await wait_signed_in(manager)
    await manager.close()
