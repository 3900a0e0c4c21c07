"""Client authentication on the wire: each parameter once, the secret in one place only.

The request bodies are captured at the real dev server (its event log records the
names of the parameters each request carried, in order, and the Authorization scheme),
not by mocking the HTTP client.
"""

from collections import Counter

import pytest

from tests.core.conftest import manager_for, sign_in
from tokenwarden.config import write_profile
from tokenwarden.status import SessionState

CLIENT = "tokenwarden-tests"
SECRET = "s3cret-for-tests"
OAUTH_ENDPOINTS = ("device_authorization", "token", "revoke")


def configure_client(home, server, **keys) -> None:
    write_profile(home / "config.toml", "default", {
        "issuer": server.issuer, "client_id": CLIENT,
        "scopes": ["openid", "offline_access"], **keys,
    })


async def sign_in_refresh_and_out(home, server) -> list[dict]:
    """The full life of a session: device sign-in, one refresh, logout with revocation."""
    manager = manager_for(home)
    await sign_in(manager, server)
    status = await manager.refresh()
    assert status.state is SessionState.SIGNED_IN, status.message
    status = await manager.logout()
    assert status.state is SessionState.SIGNED_OUT
    await manager.close()
    events = [e for e in server.events() if e["endpoint"] in OAUTH_ENDPOINTS]
    assert {e["endpoint"] for e in events} == set(OAUTH_ENDPOINTS)
    assert all(e["status"] == 200 for e in events), events
    assert server.stats()["refresh_ok"] == 1 and server.stats()["revocations"] == 1
    return events


def assert_each_parameter_once(events: list[dict]) -> None:
    for event in events:
        repeated = [name for name, n in Counter(event["parameters"]).items() if n > 1]
        assert repeated == [], f"{event['endpoint']} repeated {repeated}"


async def test_a_public_client_sends_its_client_id_once_in_every_body(make_devserver, home):
    server = make_devserver()
    configure_client(home, server)
    events = await sign_in_refresh_and_out(home, server)
    assert_each_parameter_once(events)
    for event in events:
        assert "client_id" in event["parameters"], event
        assert "client_secret" not in event["parameters"]
        assert event["authorization"] is None


async def test_client_secret_post_puts_id_and_secret_in_the_body_only(make_devserver, home):
    server = make_devserver(clients={CLIENT: SECRET})
    configure_client(home, server, client_secret=SECRET,
                     token_endpoint_auth_method="client_secret_post")
    events = await sign_in_refresh_and_out(home, server)
    assert_each_parameter_once(events)
    for event in events:
        assert {"client_id", "client_secret"} <= set(event["parameters"]), event
        assert event["authorization"] is None


async def test_client_secret_basic_puts_the_credentials_in_the_header_only(
    make_devserver, home
):
    server = make_devserver(clients={CLIENT: SECRET})
    configure_client(home, server, client_secret=SECRET,
                     token_endpoint_auth_method="client_secret_basic")
    events = await sign_in_refresh_and_out(home, server)
    assert_each_parameter_once(events)
    for event in events:
        assert "client_id" not in event["parameters"], event
        assert "client_secret" not in event["parameters"]
        assert event["authorization"] == "Basic"


async def test_a_secret_without_a_method_uses_basic_when_discovery_lists_it(
    make_devserver, home
):
    server = make_devserver(clients={CLIENT: SECRET})
    configure_client(home, server, client_secret=SECRET)
    events = await sign_in_refresh_and_out(home, server)
    assert {e["authorization"] for e in events} == {"Basic"}


@pytest.mark.parametrize(("metadata", "expected"), [
    ({}, "client_secret_basic"),
    ({"token_endpoint_auth_methods_supported": ["client_secret_post"]}, "client_secret_post"),
    ({"token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"]},
     "client_secret_basic"),
    ({"token_endpoint_auth_methods_supported": ["private_key_jwt"]}, "client_secret_basic"),
])
def test_the_default_method_for_a_secret_follows_the_discovery_document(metadata, expected):
    from tokenwarden.config import parse_profile
    from tokenwarden.oauth import client_auth_method

    profile = parse_profile("p", {"issuer": "https://idp.example", "client_id": "c",
                                  "client_secret": "x"})
    assert client_auth_method(profile, metadata) == expected
    public = parse_profile("p", {"issuer": "https://idp.example", "client_id": "c"})
    assert client_auth_method(public, metadata) == "none"
