"""The harness can complete an authorization code + PKCE sign-in (for the browser flow).

tokenwarden's browser sign-in is tested against these servers by its own suite; this
checks the server side it relies on: a loopback redirect on any port, PKCE S256, and a
refresh token in the answer.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2

from tests.interop.servers import SCOPES


def test_authorization_code_with_pkce_and_a_loopback_redirect(independent_server):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = "http://127.0.0.1:49152/callback"
    state = secrets.token_urlsafe(16)
    with httpx2.Client(timeout=15, trust_env=False) as http:
        metadata = http.get(
            f"{independent_server.issuer}/.well-known/openid-configuration").json()
        url = metadata["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": independent_server.public_client_id,
            "redirect_uri": redirect_uri, "scope": " ".join(SCOPES), "state": state,
            "code_challenge": challenge, "code_challenge_method": "S256",
            # OpenID Core makes nonce optional for the code flow; Glewlwyd requires it.
            "nonce": secrets.token_urlsafe(16), "prompt": "consent"})

        redirect = independent_server.authorize_in_browser(url)

        query = parse_qs(urlsplit(redirect).query)
        assert redirect.startswith(redirect_uri + "?")
        assert query["state"] == [state]
        assert "code" in query, (query.get("error"), query.get("error_description"))
        answer = http.post(metadata["token_endpoint"], data={
            "grant_type": "authorization_code", "code": query["code"][0],
            "redirect_uri": redirect_uri, "client_id": independent_server.public_client_id,
            "code_verifier": verifier})
    assert answer.status_code == 200, answer.json().get("error")
    body = answer.json()
    assert body["token_type"].lower() == "bearer"
    assert "refresh_token" in body
    accepted = independent_server.userinfo_accepts(body["access_token"])
    assert accepted, "userinfo refused the access token of the authorization code grant"
