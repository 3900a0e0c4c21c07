"""Fault injection: each kind, as the client on the other end of the wire experiences it."""

from __future__ import annotations

import json
import time

import httpx2
import pytest
from devserver_support import OAuthClient


def test_status_fault_answers_the_given_status_with_a_json_error(oauth: OAuthClient) -> None:
    tokens = oauth.login()
    oauth.server.add_fault("token", "status", status=503, retry_after=7)
    response = oauth.refresh(tokens["refresh_token"])
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"] == "temporarily_unavailable"
    # The request never reached the grant: the refresh token is still good.
    assert oauth.refresh(tokens["refresh_token"]).status_code == 200


def test_rate_limit_fault_is_429_with_retry_after(oauth: OAuthClient) -> None:
    oauth.server.add_fault("device_authorization", "rate_limit", retry_after=3)
    response = oauth.start_device()
    assert (response.status_code, response.headers["retry-after"]) == (429, "3")


def test_delay_fault_answers_normally_after_the_delay(oauth: OAuthClient) -> None:
    oauth.server.add_fault("device_authorization", "delay", delay=0.2)
    started = time.monotonic()
    response = oauth.start_device()
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 200


def test_drop_fault_closes_without_a_response_and_changes_nothing(oauth: OAuthClient) -> None:
    tokens = oauth.login()
    oauth.server.add_fault("token", "drop")
    with pytest.raises(httpx2.RemoteProtocolError):
        oauth.refresh(tokens["refresh_token"])
    assert oauth.refresh(tokens["refresh_token"]).status_code == 200


def test_reset_fault_resets_the_connection(oauth: OAuthClient) -> None:
    oauth.server.add_fault("userinfo", "reset")
    with pytest.raises(httpx2.ReadError, match="reset"):
        oauth.userinfo("anything")


def test_lost_answer_rotates_the_token_and_then_drops_the_reply(oauth: OAuthClient) -> None:
    tokens = oauth.login()
    oauth.server.add_fault("token", "lost_answer", grant_type="refresh_token")
    with pytest.raises(httpx2.RemoteProtocolError):
        oauth.refresh(tokens["refresh_token"])
    # The server did rotate: retrying with the old token is reuse.
    retry = oauth.refresh(tokens["refresh_token"])
    assert retry.json()["error"] == "invalid_grant"
    stats = oauth.server.stats()
    assert (stats["refresh_ok"], stats["reuse_detected"]) == (1, 1)


def test_html_fault_serves_an_html_error_page(oauth: OAuthClient) -> None:
    oauth.server.add_fault("token", "html")
    response = oauth.refresh("whatever")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in response.text


def test_truncated_json_fault_is_200_with_a_cut_body(oauth: OAuthClient) -> None:
    oauth.server.add_fault("token", "truncated_json")
    response = oauth.refresh("whatever")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_error_200_fault_is_an_error_body_with_status_200(oauth: OAuthClient) -> None:
    oauth.server.add_fault("token", "error_200")
    response = oauth.refresh("whatever")
    assert response.status_code == 200
    assert response.json()["error"] == "server_error"


def test_garbage_fault_is_200_with_text_that_is_not_json(oauth: OAuthClient) -> None:
    oauth.server.add_fault("userinfo", "garbage")
    response = oauth.userinfo("anything")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_a_fault_hits_count_requests_then_stops(oauth: OAuthClient) -> None:
    oauth.server.add_fault("device_authorization", "status", count=2, status=500)
    statuses = [oauth.start_device().status_code for _ in range(3)]
    assert statuses == [500, 500, 200]


def test_grant_type_filter_spares_other_grants(oauth: OAuthClient) -> None:
    oauth.server.add_fault("token", "status", status=500, grant_type="refresh_token")
    tokens = oauth.login()  # a device_code token request: untouched
    assert oauth.refresh(tokens["refresh_token"]).status_code == 500


def test_wildcard_matches_oauth_endpoints_but_not_discovery(oauth: OAuthClient) -> None:
    oauth.server.add_fault("*", "status", status=500)
    assert oauth.discover().status_code == 200
    assert oauth.userinfo("x").status_code == 500


def test_admin_endpoint_queues_lists_and_clears_faults(oauth: OAuthClient) -> None:
    queued = oauth.http.post(
        "/_admin/faults", json={"endpoint": "token", "kind": "rate_limit", "count": 3}
    )
    assert queued.status_code == 201
    listed = oauth.http.get("/_admin/faults").json()["faults"]
    assert listed == [{"endpoint": "token", "kind": "rate_limit", "count": 3, "remaining": 3}]
    assert oauth.http.delete("/_admin/faults").json() == {"cleared": 1}
    assert oauth.refresh("whatever").status_code == 400  # back to the real answer


@pytest.mark.parametrize(
    "body",
    [
        {"endpoint": "token", "kind": "explode"},
        {"endpoint": "nowhere", "kind": "status"},
        {"endpoint": "token", "kind": "status", "count": 0},
        {"endpoint": "token", "kind": "status", "retryAfter": 1},
        {"endpoint": "token", "kind": "delay", "delay": "long"},
    ],
)
def test_admin_endpoint_rejects_malformed_faults(
    oauth: OAuthClient, body: dict[str, object]
) -> None:
    response = oauth.http.post("/_admin/faults", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
