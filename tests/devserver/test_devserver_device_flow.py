"""RFC 8628 device authorization grant, as a client polling the dev server sees it."""

from __future__ import annotations

import re

import httpx2
import pytest
from devserver_support import OAuthClient

from tokenwarden.devserver import UserCodeError

USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


def test_device_authorization_returns_codes_and_verification_uris(oauth: OAuthClient) -> None:
    body = oauth.start_device(scope="openid").json()
    issuer = oauth.server.issuer
    assert USER_CODE.match(body["user_code"])
    assert len(body["device_code"]) >= 32
    assert body["verification_uri"] == f"{issuer}/device"
    assert body["verification_uri_complete"] == f"{issuer}/device?user_code={body['user_code']}"
    assert body["expires_in"] == 600
    assert body["interval"] == 0


def test_polling_before_approval_is_authorization_pending(oauth: OAuthClient) -> None:
    device = oauth.start_device().json()
    response = oauth.poll(device["device_code"])
    assert response.status_code == 400
    assert response.json()["error"] == "authorization_pending"


def test_approved_code_yields_bearer_tokens(oauth: OAuthClient) -> None:
    device = oauth.start_device(scope="openid offline_access").json()
    oauth.server.approve(device["user_code"])
    body = oauth.poll(device["device_code"]).json()
    assert body["token_type"] == "Bearer"
    assert len(body["access_token"]) >= 43  # 32 random bytes, urlsafe base64
    assert body["expires_in"] == 3600
    assert body["refresh_token"]
    assert body["scope"] == "openid offline_access"
    assert "refresh_token_expires_in" not in body  # refresh tokens never expire by default


def test_a_device_code_is_exchanged_only_once(oauth: OAuthClient) -> None:
    device = oauth.start_device().json()
    oauth.server.approve(device["user_code"])
    assert oauth.poll(device["device_code"]).status_code == 200
    again = oauth.poll(device["device_code"])
    assert again.json()["error"] == "invalid_grant"


def test_polling_faster_than_the_interval_is_slow_down_plus_5_seconds(
    start_server, client_for, clock
) -> None:
    oauth = client_for(start_server(interval=5, clock=clock))
    device = oauth.start_device().json()
    assert device["interval"] == 5
    assert oauth.poll(device["device_code"]).json()["error"] == "authorization_pending"
    clock.advance(2)
    first = oauth.poll(device["device_code"]).json()
    assert first == {"error": "slow_down", "error_description": "polling too fast: wait 10 s"}
    # Waiting out the *original* interval is no longer enough: it grew by 5 s.
    clock.advance(6)
    assert oauth.poll(device["device_code"]).json()["error"] == "slow_down"
    # Honouring the raised interval (now 15 s) brings back authorization_pending.
    clock.advance(15)
    assert oauth.poll(device["device_code"]).json()["error"] == "authorization_pending"
    assert oauth.server.stats()["slow_down"] == 2


def test_polling_at_the_interval_is_never_slow_down(start_server, client_for, clock) -> None:
    oauth = client_for(start_server(interval=5, clock=clock))
    device = oauth.start_device().json()
    for _ in range(3):
        assert oauth.poll(device["device_code"]).json()["error"] == "authorization_pending"
        clock.advance(5)


def test_denied_code_is_access_denied(oauth: OAuthClient) -> None:
    device = oauth.start_device().json()
    oauth.server.deny(device["user_code"])
    assert oauth.poll(device["device_code"]).json()["error"] == "access_denied"


def test_expired_code_is_expired_token(start_server, client_for, clock) -> None:
    oauth = client_for(start_server(device_code_ttl=60, clock=clock))
    device = oauth.start_device().json()
    assert device["expires_in"] == 60
    clock.advance(60)
    assert oauth.poll(device["device_code"]).json()["error"] == "expired_token"
    with pytest.raises(UserCodeError, match="expired"):
        oauth.server.approve(device["user_code"])


def test_auto_approve_grants_on_first_poll(start_server, client_for) -> None:
    oauth = client_for(start_server(auto_approve=True))
    device = oauth.start_device().json()
    assert oauth.poll(device["device_code"]).status_code == 200


def test_device_page_shows_a_prefilled_form(oauth: OAuthClient) -> None:
    response = oauth.http.get("/device", params={"user_code": "WDJB-MJHT"})
    assert response.headers["content-type"].startswith("text/html")
    assert 'value="WDJB-MJHT"' in response.text
    assert 'value="approve"' in response.text and 'value="deny"' in response.text


@pytest.mark.parametrize(("action", "outcome"), [("approve", 200), ("deny", "access_denied")])
def test_device_page_form_decides_the_code(
    oauth: OAuthClient, action: str, outcome: int | str
) -> None:
    device = oauth.start_device().json()
    typed = device["user_code"].replace("-", "").lower()  # users type loosely
    page = oauth.http.post("/device", data={"user_code": typed, "action": action})
    assert page.status_code == 200
    poll = oauth.poll(device["device_code"])
    if outcome == 200:
        assert poll.status_code == 200
    else:
        assert poll.json()["error"] == outcome


def test_device_page_rejects_an_unknown_code(oauth: OAuthClient) -> None:
    page = oauth.http.post("/device", data={"user_code": "BBBB-BBBB", "action": "approve"})
    assert page.status_code == 404
    assert "No such user code" in page.text


def test_admin_api_approves_and_reports_unknown_codes(oauth: OAuthClient) -> None:
    device = oauth.start_device().json()
    approved = oauth.http.post("/_admin/approve", json={"user_code": device["user_code"]})
    assert approved.json() == {"user_code": device["user_code"], "decision": "approved"}
    assert (
        oauth.http.post("/_admin/deny", json={"user_code": device["user_code"]}).status_code == 409
    )
    assert oauth.http.post("/_admin/approve", json={"user_code": "BBBB-BBBB"}).status_code == 404


def test_confidential_client_must_authenticate(start_server, client_for) -> None:
    oauth = client_for(start_server(clients={"ci-bot": "s3cret"}))
    oauth.client_id = "ci-bot"
    assert oauth.start_device().json()["error"] == "invalid_client"
    with_secret = oauth.http.post(
        "/device_authorization",
        data={"client_id": "ci-bot"},
        auth=httpx2.BasicAuth("ci-bot", "s3cret"),
    )
    device = with_secret.json()
    oauth.server.approve(device["user_code"])
    unauthenticated = oauth.poll(device["device_code"])
    assert unauthenticated.json()["error"] == "invalid_client"
    authenticated = oauth.poll(device["device_code"], client_secret="s3cret")
    assert authenticated.status_code == 200


def test_a_code_issued_to_one_client_cannot_be_redeemed_by_another(oauth: OAuthClient) -> None:
    device = oauth.start_device().json()
    oauth.server.approve(device["user_code"])
    oauth.client_id = "someone-else"
    assert oauth.poll(device["device_code"]).json()["error"] == "unauthorized_client"
