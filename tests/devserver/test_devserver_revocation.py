"""RFC 7009 revocation, userinfo, and server-side revocation and expiry."""

from __future__ import annotations

import time

import pytest
from devserver_support import OAuthClient


def test_access_tokens_expire_in_real_time_too(start_server, client_for) -> None:
    oauth = client_for(start_server(access_token_ttl=0.3))
    tokens = oauth.login()
    assert oauth.userinfo(tokens["access_token"]).status_code == 200
    time.sleep(0.35)
    assert oauth.userinfo(tokens["access_token"]).status_code == 401


def test_userinfo_returns_the_approving_user(oauth: OAuthClient) -> None:
    tokens = oauth.login()
    response = oauth.userinfo(tokens["access_token"])
    assert response.json() == {"sub": "alice", "email": "alice@example.test", "name": "Alice"}


def test_userinfo_reflects_the_configured_user(start_server, client_for) -> None:
    oauth = client_for(start_server(user="bob@corp.test"))
    assert oauth.userinfo(oauth.login()["access_token"]).json()["email"] == "bob@corp.test"


def test_unknown_access_token_is_401_with_www_authenticate(oauth: OAuthClient) -> None:
    response = oauth.userinfo("not-a-token")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="unknown access token"'
    )
    assert response.json()["error"] == "invalid_token"


@pytest.mark.parametrize("authorization", [None, "Basic dXNlcjpwYXNz"])
def test_userinfo_without_a_bearer_token_is_a_bare_challenge(
    oauth: OAuthClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = oauth.http.get("/userinfo", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_expired_access_token_is_401(start_server, client_for, clock) -> None:
    oauth = client_for(start_server(access_token_ttl=60, clock=clock))
    tokens = oauth.login()
    assert tokens["expires_in"] == 60
    clock.advance(60)
    response = oauth.userinfo(tokens["access_token"])
    assert response.status_code == 401
    assert 'error_description="access token expired"' in response.headers["www-authenticate"]


def test_revoking_a_refresh_token_revokes_its_grant(oauth: OAuthClient) -> None:
    tokens = oauth.login()
    assert oauth.revoke(tokens["refresh_token"], hint="refresh_token").status_code == 200
    assert oauth.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    rejected = oauth.userinfo(tokens["access_token"])
    assert 'error_description="access token revoked"' in rejected.headers["www-authenticate"]


def test_revoking_an_access_token_keeps_the_refresh_token(oauth: OAuthClient) -> None:
    tokens = oauth.login()
    assert oauth.revoke(tokens["access_token"]).status_code == 200
    assert oauth.userinfo(tokens["access_token"]).status_code == 401
    assert oauth.refresh(tokens["refresh_token"]).status_code == 200


def test_revoking_an_unknown_token_is_200(oauth: OAuthClient) -> None:
    response = oauth.revoke("never-issued")
    assert response.status_code == 200
    assert oauth.server.stats()["revocations"] == 1


def test_admin_revoke_all_simulates_server_side_revocation(oauth: OAuthClient) -> None:
    first, second = oauth.login(), oauth.login()
    assert oauth.http.post("/_admin/revoke_all").json() == {"grants_revoked": 2}
    for tokens in (first, second):
        assert oauth.userinfo(tokens["access_token"]).status_code == 401
        assert oauth.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_admin_expire_access_tokens_keeps_refresh_working(oauth: OAuthClient) -> None:
    tokens = oauth.login()
    assert oauth.http.post("/_admin/expire_access_tokens").json() == {"expired": 1}
    rejected = oauth.userinfo(tokens["access_token"])
    assert 'error_description="access token expired"' in rejected.headers["www-authenticate"]
    renewed = oauth.refresh(tokens["refresh_token"]).json()
    assert oauth.userinfo(renewed["access_token"]).status_code == 200
