"""Refresh token grant: rotation, reuse detection, lifetimes."""

from __future__ import annotations

import threading

from devserver_support import OAuthClient


def test_every_refresh_rotates_the_refresh_token(oauth: OAuthClient) -> None:
    tokens = oauth.login()
    renewed = oauth.refresh(tokens["refresh_token"]).json()
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert renewed["access_token"] != tokens["access_token"]
    assert renewed["token_type"] == "Bearer"
    assert renewed["scope"] == tokens["scope"]
    assert oauth.refresh(renewed["refresh_token"]).status_code == 200


def test_a_rotated_refresh_token_revokes_the_whole_grant(oauth: OAuthClient) -> None:
    tokens = oauth.login()
    renewed = oauth.refresh(tokens["refresh_token"]).json()

    reuse = oauth.refresh(tokens["refresh_token"])

    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert "reuse" in reuse.json()["error_description"]
    # Every token of the family is dead, including the newest ones.
    assert oauth.refresh(renewed["refresh_token"]).json()["error"] == "invalid_grant"
    assert oauth.userinfo(renewed["access_token"]).status_code == 401
    assert oauth.userinfo(tokens["access_token"]).status_code == 401
    stats = oauth.server.stats()
    assert (stats["reuse_detected"], stats["grants_revoked"]) == (1, 1)


def test_reuse_leaves_other_grants_alone(oauth: OAuthClient) -> None:
    victim, bystander = oauth.login(), oauth.login()
    oauth.refresh(victim["refresh_token"])
    oauth.refresh(victim["refresh_token"])
    assert oauth.refresh(bystander["refresh_token"]).status_code == 200


def test_without_reuse_detection_a_rotated_token_is_merely_invalid(
    start_server, client_for
) -> None:
    oauth = client_for(start_server(reuse_detection=False))
    tokens = oauth.login()
    renewed = oauth.refresh(tokens["refresh_token"]).json()
    reuse = oauth.refresh(tokens["refresh_token"]).json()
    assert reuse == {
        "error": "invalid_grant",
        "error_description": "refresh token was already used",
    }
    assert oauth.refresh(renewed["refresh_token"]).status_code == 200
    assert oauth.server.stats()["reuse_detected"] == 0


def test_two_racing_refreshes_one_wins_and_the_grant_is_revoked(oauth: OAuthClient) -> None:
    tokens = oauth.login()
    barrier = threading.Barrier(2)
    results: list[int] = []

    def refresh() -> None:
        barrier.wait()
        results.append(oauth.refresh(tokens["refresh_token"]).status_code)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 400]
    assert oauth.server.stats()["reuse_detected"] == 1


def test_finite_refresh_lifetime_is_announced_and_enforced(start_server, client_for, clock) -> None:
    oauth = client_for(start_server(refresh_token_ttl=300, clock=clock))
    tokens = oauth.login()
    assert tokens["refresh_token_expires_in"] == 300
    clock.advance(300)
    expired = oauth.refresh(tokens["refresh_token"]).json()
    assert expired == {"error": "invalid_grant", "error_description": "refresh token expired"}


def test_sliding_refresh_lifetime_restarts_on_rotation(start_server, client_for, clock) -> None:
    oauth = client_for(start_server(refresh_token_ttl=300, clock=clock))
    tokens = oauth.login()
    clock.advance(200)
    renewed = oauth.refresh(tokens["refresh_token"]).json()
    assert renewed["refresh_token_expires_in"] == 300
    clock.advance(200)  # past the first token's expiry, not the second's
    assert oauth.refresh(renewed["refresh_token"]).status_code == 200


def test_absolute_refresh_lifetime_ends_the_session_on_time(
    start_server, client_for, clock
) -> None:
    oauth = client_for(
        start_server(refresh_token_ttl=300, absolute_refresh_expiry=True, clock=clock)
    )
    tokens = oauth.login()
    clock.advance(200)
    renewed = oauth.refresh(tokens["refresh_token"]).json()
    assert renewed["refresh_token_expires_in"] == 100
    clock.advance(100)
    assert oauth.refresh(renewed["refresh_token"]).json()["error"] == "invalid_grant"


def test_fractional_lifetimes_go_out_as_fractions(start_server, client_for) -> None:
    oauth = client_for(start_server(access_token_ttl=1.5, refresh_token_ttl=2.25))
    tokens = oauth.login()
    assert (tokens["expires_in"], tokens["refresh_token_expires_in"]) == (1.5, 2.25)


def test_refresh_with_a_narrower_scope_is_allowed_and_a_wider_one_is_not(
    oauth: OAuthClient,
) -> None:
    tokens = oauth.login()
    narrower = oauth.refresh(tokens["refresh_token"], scope="openid").json()
    assert narrower["scope"] == "openid"
    wider = oauth.refresh(narrower["refresh_token"], scope="openid admin")
    assert wider.json()["error"] == "invalid_scope"


def test_a_refresh_token_belongs_to_its_client(oauth: OAuthClient) -> None:
    tokens = oauth.login()
    oauth.client_id = "another-client"
    assert oauth.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_unknown_refresh_token_is_invalid_grant(oauth: OAuthClient) -> None:
    response = oauth.refresh("not-a-token")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
