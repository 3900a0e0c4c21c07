"""The --revoke-on-rotate and --split-discovery switches."""

from __future__ import annotations

from devserver_support import OAuthClient


def test_without_the_switch_the_previous_access_token_lives_on(oauth: OAuthClient) -> None:
    tokens = oauth.login()
    assert oauth.refresh(tokens["refresh_token"]).status_code == 200
    assert oauth.userinfo(tokens["access_token"]).status_code == 200


def test_revoke_on_rotate_kills_the_previous_access_token(start_server, client_for) -> None:
    oauth = client_for(start_server(revoke_on_rotate=True))
    tokens = oauth.login()
    renewed = oauth.refresh(tokens["refresh_token"]).json()

    assert oauth.userinfo(tokens["access_token"]).status_code == 401
    assert oauth.userinfo(renewed["access_token"]).status_code == 200


def test_split_discovery_lists_two_endpoints_in_the_rfc_8414_document_only(
    start_server, client_for
) -> None:
    oauth = client_for(start_server(split_discovery=True))
    openid = oauth.discover().json()
    rfc8414 = oauth.discover("/.well-known/oauth-authorization-server").json()

    for key in ("device_authorization_endpoint", "revocation_endpoint"):
        assert key not in openid and key in rfc8414
    assert openid["issuer"] == rfc8414["issuer"]
