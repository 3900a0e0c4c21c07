"""Browser sign-in (authorization code + PKCE, loopback redirect) against the dev server."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

from tests.browser.pages import deliver, devserver_authorize, sign_in_in_browser
from tests.core.conftest import configure, manager_for
from tokenwarden.browserflow import BrowserAuthorization
from tokenwarden.status import SessionState


async def start_browser(manager, **kwargs) -> BrowserAuthorization:
    started = await manager.start_login(flow="browser", **kwargs)
    assert isinstance(started, BrowserAuthorization), started
    return started


async def test_browser_sign_in_ends_signed_in_with_the_account(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await start_browser(manager)
    query = parse_qs(urlsplit(started.authorization_uri).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")
    page = await sign_in_in_browser(started.authorization_uri)
    assert page.status_code == 200 and "You can close this tab" in page.text
    status = await asyncio.wait_for(manager.wait_login(), 15)
    assert status.state is SessionState.SIGNED_IN, status.message
    assert status.account == "alice@example.test"
    assert status.refreshable
    await manager.close()
