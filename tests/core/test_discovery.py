"""Discovery: every document the issuer serves, merged; a document without issuer refused."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.core.conftest import configure, manager_for, sign_in
from tokenwarden.config import parse_profile
from tokenwarden.errors import ConfigError
from tokenwarden.oauth import OAuthClient, discovery_urls


class StaticDocuments:
    """A real loopback HTTP server answering GET path -> JSON from a dict; 404 otherwise."""

    def __init__(self) -> None:
        self.documents: dict[str, dict] = {}
        self.requested: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requested.append(self.path)
                document = owner.documents.get(self.path)
                body = json.dumps(document or {"error": "not_found"}).encode()
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def documents() -> Iterator[StaticDocuments]:
    server = StaticDocuments()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


async def discover(issuer: str) -> dict:
    client = OAuthClient(parse_profile("p", {"issuer": issuer, "client_id": "c"}), timeout=5)
    try:
        return await client.discover()
    finally:
        await client.aclose()


def test_an_issuer_with_a_path_gets_the_rfc_8414_inserted_form_too():
    assert discovery_urls("https://idp.example/api/oidc") == [
        "https://idp.example/api/oidc/.well-known/openid-configuration",
        "https://idp.example/api/oidc/.well-known/oauth-authorization-server",
        "https://idp.example/.well-known/oauth-authorization-server/api/oidc",
    ]
    assert discovery_urls("https://idp.example/") == [
        "https://idp.example/.well-known/openid-configuration",
        "https://idp.example/.well-known/oauth-authorization-server",
    ]


async def test_endpoints_listed_only_in_the_rfc_8414_document_are_used(documents):
    issuer = f"{documents.origin}/api/oidc"
    documents.documents["/api/oidc/.well-known/openid-configuration"] = {
        "issuer": issuer, "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo"}
    documents.documents["/.well-known/oauth-authorization-server/api/oidc"] = {
        "issuer": issuer, "token_endpoint": f"{issuer}/other-token",
        "revocation_endpoint": f"{issuer}/revoke",
        "device_authorization_endpoint": f"{issuer}/device"}

    merged = await discover(issuer)

    assert merged["token_endpoint"] == f"{issuer}/token"  # OpenID wins where both list it
    assert merged["revocation_endpoint"] == f"{issuer}/revoke"
    assert merged["device_authorization_endpoint"] == f"{issuer}/device"
    assert len(documents.requested) == 3


async def test_a_document_without_issuer_is_refused(documents):
    issuer = documents.origin
    documents.documents["/.well-known/openid-configuration"] = {
        "token_endpoint": f"{issuer}/token"}

    with pytest.raises(ConfigError, match="has no issuer") as caught:
        await discover(issuer)
    assert "/.well-known/openid-configuration" in caught.value.message


async def test_a_document_without_issuer_is_not_merged_into_a_good_one(documents):
    issuer = documents.origin
    documents.documents["/.well-known/openid-configuration"] = {
        "issuer": issuer, "token_endpoint": f"{issuer}/token"}
    documents.documents["/.well-known/oauth-authorization-server"] = {
        "token_endpoint": "http://127.0.0.1:1/evil", "revocation_endpoint": "http://127.0.0.1:1/x"}

    merged = await discover(issuer)

    assert merged["token_endpoint"] == f"{issuer}/token"
    assert "revocation_endpoint" not in merged


async def test_a_document_naming_another_issuer_is_refused(documents):
    documents.documents["/.well-known/oauth-authorization-server"] = {
        "issuer": "https://elsewhere.example", "token_endpoint": "https://elsewhere.example/t"}

    with pytest.raises(ConfigError, match="does not match the configured issuer"):
        await discover(documents.origin)


async def test_logout_revokes_when_only_the_rfc_8414_document_names_the_endpoint(
    make_devserver, home
):
    server = make_devserver(split_discovery=True)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)  # device endpoint: RFC 8414 document only

    status = await manager.logout()

    assert status.last_error is None
    assert server.stats()["revocations"] == 1
    await manager.close()
