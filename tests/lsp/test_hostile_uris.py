"""window/showDocument only ever gets a web page, whatever the provider sends (issue 13.7)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.core.hostile_provider import HostileProvider


@pytest.fixture
def hostile() -> Iterator[HostileProvider]:
    provider = HostileProvider()
    yield provider
    provider.stop()


def options(provider: HostileProvider) -> dict:
    return {"profiles": {"default": {"issuer": provider.issuer, "client_id": "c"}}}


async def test_a_command_uri_is_never_shown_the_plain_page_is(open_client, hostile):
    hostile.answers["/device_authorization"].update(
        verification_uri_complete="command:workbench.action.terminal.new",
        user_code="\x1b[2JWDJB-MJHT")
    hostile.answers["/token"] = {"_status": 400, "error": "authorization_pending"}
    client = await open_client(options(hostile))

    started = await client.command("tokenwarden.login")
    shown = await client.wait_until(lambda: client.shown_documents or None)

    assert [document.uri for document in shown] == [f"{hostile.issuer}/device"]
    assert started["verificationUriComplete"] is None
    assert started["userCode"] == "[2JWDJB-MJHT"
    await client.command("tokenwarden.cancelLogin")


async def test_a_file_uri_fails_the_sign_in_and_opens_nothing(open_client, hostile):
    hostile.answers["/device_authorization"]["verification_uri"] = "file:///etc/passwd"
    client = await open_client(options(hostile))

    with pytest.raises(Exception, match="refusing to show or open it"):
        await client.command("tokenwarden.login")

    assert client.shown_documents == []
