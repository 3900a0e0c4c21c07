"""A hostile provider's tokens, URIs and strings: refused or cleaned before use (issue 13.7, 13.8)."""

import asyncio
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.core.conftest import manager_for
from tests.core.hostile_provider import GOOD_TOKENS, HostileProvider
from tokenwarden.config import write_profile
from tokenwarden.errors import OAuthError, SignInRequired
from tokenwarden.oauth import DeviceAuthorization
from tokenwarden.status import SessionState

SPLITTING = "abc\r\nX-Injected: 1"


@pytest.fixture
def hostile(home) -> Iterator[HostileProvider]:
    provider = HostileProvider()
    write_profile(home / "config.toml", "default",
                  {"issuer": provider.issuer, "client_id": "c", "scopes": ["openid"]})
    yield provider
    provider.stop()


async def signed_in(manager) -> None:
    started = await manager.start_login()
    assert isinstance(started, DeviceAuthorization)
    status = await asyncio.wait_for(manager.wait_login(), 20)
    assert status.state is SessionState.SIGNED_IN, status.message


@pytest.mark.parametrize("tokens", [
    {**GOOD_TOKENS, "access_token": SPLITTING},
    {**GOOD_TOKENS, "access_token": "abc def"},
    {**GOOD_TOKENS, "refresh_token": "r\nX: y"},
], ids=["crlf_access", "space_access", "lf_refresh"])
async def test_a_header_splitting_token_at_sign_in_is_refused_and_not_stored(
    hostile, home, tokens
):
    hostile.answers["/token"] = tokens
    manager = manager_for(home)
    await manager.start_login()

    status = await asyncio.wait_for(manager.wait_login(), 20)

    assert status.state is SessionState.SIGNED_OUT
    assert status.last_error is not None and "not stored" in status.last_error.message
    assert status.last_error.code == "invalid_token_response"
    assert manager.store.read("default") is None
    assert hostile.posts.count("/token") == 1  # classified as final: no polling on
    await manager.close()


async def test_a_header_splitting_token_at_renewal_leaves_the_store_as_it_was(hostile, home):
    manager = manager_for(home)
    await signed_in(manager)
    before = manager.store.read("default")
    hostile.answers["/token"] = {**GOOD_TOKENS, "access_token": SPLITTING}

    status = await manager.refresh()

    after = manager.store.read("default")
    assert status.state is SessionState.DEGRADED
    assert after.access_token == before.access_token == "good-access"
    assert after.refresh_token == "good-refresh"
    assert (await manager.get_token()).access_token == "good-access"
    await manager.close()


@pytest.mark.parametrize("uri", ["file:///etc/passwd", "command:workbench.action.terminal.new",
                                 "http://evil.example/device"])
async def test_a_verification_uri_that_is_not_a_web_page_is_refused(hostile, home, uri):
    hostile.answers["/device_authorization"]["verification_uri"] = uri
    manager = manager_for(home)

    with pytest.raises(OAuthError, match="refusing to show or open it") as caught:
        await manager.start_login()

    assert caught.value.details.error == "invalid_verification_uri"
    await manager.close()


async def test_a_bad_complete_uri_is_dropped_and_the_plain_one_kept(hostile, home):
    hostile.answers["/device_authorization"]["verification_uri_complete"] = "command:evil"
    manager = manager_for(home)

    started = await manager.start_login()

    assert started.verification_uri_complete is None
    assert started.verification_uri == f"{hostile.issuer}/device"
    await manager.cancel_login()
    await manager.close()


async def test_escape_sequences_from_the_server_never_reach_the_terminal(hostile, home):
    hostile.answers["/device_authorization"].update(
        user_code="\x1b]0;owned\x07WDJB-\x1b[2JMJHT", message="\x1b[31mhi")
    hostile.answers["/token"] = {"_status": 400, "error": "access_denied\x1b[2J",
                                 "error_description": "no\x1b]8;;file:///x\x07 way"}

    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "tokenwarden", "login", "--no-browser"],
        capture_output=True, text=True, timeout=60)

    shown = done.stdout + done.stderr
    assert "\x1b" not in shown and "\x07" not in shown
    assert "WDJB-" in shown


async def test_error_descriptions_are_cleaned_in_the_status(hostile, home):
    manager = manager_for(home)
    await signed_in(manager)
    hostile.answers["/token"] = {"_status": 400, "error": "invalid_client",
                                 "error_description": "down\x1b[2J\r\nfor now"}

    with pytest.raises(SignInRequired):
        await manager.refresh()

    status = manager.status()
    assert status.last_error is not None and "\x1b" not in status.message
    assert "\x1b" not in status.last_error.message and "\n" not in status.last_error.message
    assert "down[2J for now" in status.last_error.message
    await manager.close()


@pytest.mark.parametrize("spelling", ["bearer", "BEARER", "Bearer", None])
async def test_token_type_is_normalised_to_bearer(hostile, home, spelling):
    tokens = {**GOOD_TOKENS, "token_type": spelling}
    hostile.answers["/token"] = {k: v for k, v in tokens.items() if v is not None}
    manager = manager_for(home)
    await signed_in(manager)

    assert (await manager.get_token()).token_type == "Bearer"
    assert manager.store.read("default").token_type == "Bearer"
    await manager.close()
