"""What Glewlwyd 2.7.5 does differently, pinned at its wire (the rows of docs/providers.md).

Each test shows one quirk with plain HTTP requests, so that the interop table keeps
evidence; the scenarios (``test_*.py`` beside this file) show what tokenwarden does
about each. These run against their own Glewlwyd, started once for this module.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest

from tests.interop import glewlwyd
from tests.interop.conftest import configure, profile_of
from tests.interop.drive import cli_login, run_cli
from tests.interop.servers import ACCESS_TOKEN_TTL, SCOPES
from tokenwarden.jwt import unverified_claims

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[glewlwyd.GlewlwydServer]:
    """One Glewlwyd for this module."""
    started = glewlwyd.start(tmp_path_factory.mktemp("glewlwyd-quirks"),
                             access_token_ttl=ACCESS_TOKEN_TTL)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=15, trust_env=False) as client:
        yield client


def approved_device_code(server: glewlwyd.GlewlwydServer, http: httpx2.Client) -> str:
    """A device code of the public client that the user has already approved."""
    answer = http.post(server.metadata["device_authorization_endpoint"],
                       data={"client_id": server.public_client_id, "scope": " ".join(SCOPES)})
    assert answer.status_code == 200
    server.approve(answer.json()["user_code"])
    device_code: str = answer.json()["device_code"]
    return device_code


def signed_in(server: glewlwyd.GlewlwydServer, http: httpx2.Client) -> dict[str, Any]:
    """The public client's first token answer (a correct, single client_id)."""
    answer = http.post(server.metadata["token_endpoint"], data={
        "grant_type": DEVICE_GRANT, "device_code": approved_device_code(server, http),
        "client_id": server.public_client_id})
    assert answer.status_code == 200
    tokens: dict[str, Any] = answer.json()
    return tokens


def test_a_repeated_client_id_is_refused_as_unauthorized_client(server, http):
    body = urlencode([("grant_type", DEVICE_GRANT),
                      ("device_code", approved_device_code(server, http)),
                      ("client_id", server.public_client_id),
                      ("client_id", server.public_client_id)])

    answer = http.post(server.metadata["token_endpoint"], content=body, headers=FORM)

    assert (answer.status_code, answer.json()) == (403, {"error": "unauthorized_client"})


def test_a_refused_refresh_burns_the_refresh_token_first(server, http):
    refresh_token = signed_in(server, http)["refresh_token"]
    body = urlencode([("grant_type", "refresh_token"), ("refresh_token", refresh_token),
                      ("client_id", server.public_client_id),
                      ("client_id", server.public_client_id)])

    answer = http.post(server.metadata["token_endpoint"], content=body, headers=FORM)

    assert (answer.status_code, answer.content) == (400, b"")
    assert not server.token_active(refresh_token, "refresh_token"), \
        "Glewlwyd no longer rotates before it checks the client"


def test_a_reused_refresh_token_gets_an_empty_400_and_ends_the_chain(server, http):
    first = signed_in(server, http)["refresh_token"]
    rotate = {"grant_type": "refresh_token", "client_id": server.public_client_id}
    second = http.post(server.metadata["token_endpoint"],
                       data={**rotate, "refresh_token": first}).json()["refresh_token"]
    reuse_before = server.refresh_reuse_count()

    reused = http.post(server.metadata["token_endpoint"], data={**rotate, "refresh_token": first})

    assert (reused.status_code, reused.content) == (400, b"")
    assert server.refresh_reuse_count() == reuse_before + 1
    assert not server.token_active(second, "refresh_token"), "the chain survived a reuse"


def test_token_type_is_lower_case_bearer(server, http):
    assert signed_in(server, http)["token_type"] == "bearer"


def test_tokenwarden_hands_out_token_type_bearer(server, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    configure(home, profile_of(server, "public"))
    assert cli_login(home, server).returncode == 0

    issued = run_cli(home, "token", "--json")

    assert issued.returncode == 0, issued.stderr
    answer = json.loads(issued.stdout)
    token_type, scopes = answer["tokenType"], answer["scopes"]
    assert sorted(scopes) == sorted(SCOPES)
    assert token_type == "Bearer"


def test_a_public_client_may_not_revoke(server, http):
    refresh_token = signed_in(server, http)["refresh_token"]

    answer = http.post(server.metadata["revocation_endpoint"], data={
        "token": refresh_token, "token_type_hint": "refresh_token",
        "client_id": server.public_client_id})

    assert answer.status_code == 401
    assert server.token_active(refresh_token, "refresh_token")


def test_the_confidential_client_may_revoke_with_basic_auth(server, http):
    client = server.confidential_client
    credentials = (client.client_id, client.client_secret or "")
    device = http.post(server.metadata["device_authorization_endpoint"],
                       data={"scope": " ".join(SCOPES)}, auth=credentials).json()
    server.approve(device["user_code"])
    tokens = http.post(server.metadata["token_endpoint"], auth=credentials, data={
        "grant_type": DEVICE_GRANT, "device_code": device["device_code"]}).json()

    answer = http.post(server.metadata["revocation_endpoint"], auth=credentials, data={
        "token": tokens["refresh_token"], "token_type_hint": "refresh_token"})

    assert answer.status_code == 200
    assert not server.token_active(tokens["refresh_token"], "refresh_token")


def test_discovery_is_the_openid_document_alone(server, http):
    rfc8414 = [http.get(url).status_code for url in (
        f"{server.issuer}/.well-known/oauth-authorization-server",
        f"{server.base}/.well-known/oauth-authorization-server/api/{glewlwyd.PLUGIN}")]

    assert rfc8414 == [404, 404]
    assert {"device_authorization_endpoint", "revocation_endpoint",
            "introspection_endpoint"} <= set(server.metadata)
    assert "none" not in server.metadata["token_endpoint_auth_methods_supported"]


def authorization_url(server: glewlwyd.GlewlwydServer, redirect_uri: str,
                      **extra: str) -> str:
    _, challenge = glewlwyd.pkce_pair()
    return server.metadata["authorization_endpoint"] + "?" + urlencode({
        "response_type": "code", "client_id": server.public_client_id,
        "redirect_uri": redirect_uri, "scope": " ".join(SCOPES), "state": "s1",
        "code_challenge": challenge, "code_challenge_method": "S256", **extra})


def test_an_openid_code_request_without_nonce_is_refused(server):
    redirect = server.authorize_in_browser(
        authorization_url(server, "http://127.0.0.1:49153/callback"))

    assert "error=invalid_request" in redirect
    assert "nonce+required" in redirect


def test_redirect_uris_match_exactly_even_on_loopback(server, http):
    # The harness registers each URI it is handed; this port was never registered.
    answer = http.get(authorization_url(server, "http://127.0.0.1:49154/callback", nonce="n"))

    assert answer.status_code == 403


def test_access_tokens_are_short_jwts_whose_audience_is_the_scope_list(server, http):
    claims = unverified_claims(signed_in(server, http)["access_token"]) or {}

    lifetime, audience = claims["exp"] - claims["iat"], claims["aud"]
    assert lifetime == server.access_token_ttl
    assert audience == " ".join(SCOPES)


def test_access_tokens_outlive_a_rotation_and_the_end_of_their_grant(server, http):
    first = signed_in(server, http)
    rotated = http.post(server.metadata["token_endpoint"], data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
        "client_id": server.public_client_id}).json()
    old_after_rotation = server.userinfo_accepts(first["access_token"])

    assert server.revoke_grant() >= 1

    assert old_after_rotation, "Glewlwyd now revokes the previous access token on rotation"
    assert server.userinfo_accepts(rotated["access_token"]), \
        "Glewlwyd now ends the access tokens of a grant ended on the profile page"
