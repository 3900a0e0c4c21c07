"""The dev server is strict like oidc-provider: RFC 6749 §3.1 and §2.3 refusals."""

from __future__ import annotations

import base64

import httpx2
import pytest
from devserver_support import CLIENT_ID, DEVICE_GRANT, OAuthClient

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SECRET = "strict-secret"


def basic(client_id: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {**FORM, "Authorization": f"Basic {token}"}


def refused(response: httpx2.Response, words: str) -> bool:
    body = response.json()
    return (response.status_code == 400 and body["error"] == "invalid_request"
            and words in body["error_description"])


def test_the_device_poll_tokenwarden_sent_before_is_refused(oauth: OAuthClient) -> None:
    device = oauth.start_device().json()
    oauth.server.approve(device["user_code"])
    # Byte for byte the body of tokenwarden <= 0.x: authlib's client_id and ours.
    body = (f"grant_type={DEVICE_GRANT}&device_code={device['device_code']}"
            f"&client_id={CLIENT_ID}&client_id={CLIENT_ID}")
    response = oauth.http.post("/token", content=body, headers=FORM)
    assert refused(response, "'client_id' parameter must not be provided twice")
    # Nothing was consumed: the same code still works with a proper body.
    assert oauth.poll(device["device_code"]).status_code == 200


def test_the_refresh_tokenwarden_sent_before_is_refused_and_burns_nothing(
    oauth: OAuthClient,
) -> None:
    tokens = oauth.login()
    body = (f"grant_type=refresh_token&refresh_token={tokens['refresh_token']}"
            f"&client_id={CLIENT_ID}&client_id={CLIENT_ID}")
    assert refused(oauth.http.post("/token", content=body, headers=FORM), "twice")
    assert oauth.refresh(tokens["refresh_token"]).status_code == 200
    assert oauth.server.stats()["reuse_detected"] == 0


@pytest.mark.parametrize("path", ["/device_authorization", "/revoke"])
def test_a_repeated_parameter_is_refused_at_every_endpoint(oauth: OAuthClient, path) -> None:
    body = f"client_id={CLIENT_ID}&token=abc&scope=openid&scope=email"
    assert refused(oauth.http.post(path, content=body, headers=FORM), "'scope' parameter")


def test_a_parameter_in_both_the_query_and_the_body_is_refused(oauth: OAuthClient) -> None:
    response = oauth.http.post(f"/device_authorization?client_id={CLIENT_ID}",
                               data={"client_id": CLIENT_ID})
    assert refused(response, "twice")


@pytest.fixture
def confidential(start_server, client_for) -> OAuthClient:
    return client_for(start_server(clients={CLIENT_ID: SECRET}))


def test_credentials_by_basic_and_in_the_body_at_once_are_refused(
    confidential: OAuthClient,
) -> None:
    response = confidential.http.post(
        "/device_authorization", headers=basic(CLIENT_ID, SECRET),
        content=f"client_id={CLIENT_ID}&client_secret={SECRET}",
    )
    assert refused(response, "more than one method")


def test_a_body_client_id_other_than_the_basic_one_is_refused(
    confidential: OAuthClient,
) -> None:
    response = confidential.http.post(
        "/device_authorization", headers=basic(CLIENT_ID, SECRET), content="client_id=other",
    )
    assert refused(response, "differs from the client authenticated")


@pytest.mark.parametrize("body", ["", f"client_id={CLIENT_ID}"])
def test_basic_alone_or_with_the_same_client_id_is_accepted(
    confidential: OAuthClient, body: str
) -> None:
    response = confidential.http.post(
        "/device_authorization", headers=basic(CLIENT_ID, SECRET), content=body,
    )
    assert response.status_code == 200, response.text
    assert "device_code" in response.json()
