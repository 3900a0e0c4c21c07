"""Discovery documents and the behaviour every response shares."""

from __future__ import annotations

import pytest
from devserver_support import DEVICE_GRANT, OAuthClient

from tokenwarden.devserver import DevServer, DevServerConfig


@pytest.mark.parametrize(
    "path", ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]
)
def test_discovery_lists_every_endpoint_under_the_issuer(oauth: OAuthClient, path: str) -> None:
    issuer = oauth.server.issuer
    document = oauth.discover(path).json()
    assert document["issuer"] == issuer
    assert document["device_authorization_endpoint"] == f"{issuer}/device_authorization"
    assert document["token_endpoint"] == f"{issuer}/token"
    assert document["revocation_endpoint"] == f"{issuer}/revoke"
    assert document["userinfo_endpoint"] == f"{issuer}/userinfo"
    assert document["authorization_endpoint"] == f"{issuer}/authorize"
    assert document["grant_types_supported"] == [DEVICE_GRANT, "authorization_code",
                                                 "refresh_token"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["authorization_response_iss_parameter_supported"] is True
    assert "none" in document["token_endpoint_auth_methods_supported"]


def test_issuer_is_loopback_on_an_ephemeral_port(devserver: DevServer) -> None:
    assert devserver.issuer == f"http://127.0.0.1:{devserver.port}"
    assert devserver.port > 0


def test_every_response_carries_a_request_id(oauth: OAuthClient) -> None:
    responses = [
        oauth.discover(),
        oauth.http.get("/no-such-endpoint"),
        oauth.http.post("/.well-known/openid-configuration"),
        oauth.http.get("/_admin/stats"),
        oauth.http.get("/device"),
    ]
    ids = [response.headers.get("x-request-id") for response in responses]
    assert all(ids), ids
    assert len(set(ids)) == len(ids)


def test_a_well_formed_client_request_id_is_echoed(oauth: OAuthClient) -> None:
    response = oauth.http.get(
        "/.well-known/openid-configuration", headers={"x-request-id": "abc-1"}
    )
    assert response.headers["x-request-id"] == "abc-1"


def test_unknown_path_is_404_and_wrong_method_is_405(oauth: OAuthClient) -> None:
    assert oauth.http.get("/nope").status_code == 404
    response = oauth.http.get("/token")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_non_loopback_host_is_refused_without_allow_remote() -> None:
    with pytest.raises(ValueError, match="non-loopback"):
        DevServerConfig(host="0.0.0.0")


def test_server_stops_and_frees_its_port(start_server) -> None:
    server = start_server()
    issuer = server.issuer
    server.stop()
    assert not server.running
    with pytest.raises(RuntimeError):
        _ = server.issuer
    server.stop()  # idempotent
    assert issuer.startswith("http://127.0.0.1:")
