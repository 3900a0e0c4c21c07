"""What the interop scenarios need from an independent authorization server.

Each server we test against (node ``oidc-provider`` in ``oidc_provider.py``, Debian
``glewlwyd`` in ``glewlwyd.py``) is started on 127.0.0.1 by a factory with the
signature of ``StartServer`` and answers the ``IndependentServer`` protocol. The
scenarios speak to tokenwarden exactly as a user would (``tokenwarden login``,
``token``, ``logout``, ``serve``) and use this protocol only for what a user does
outside tokenwarden (approving a code on the provider's own pages) and for checking
the result at the server itself (userinfo, introspection, the server's own record of
refresh-token reuse and of token requests).

Checks at the server never print a token: failures name the server and the check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

AuthMethod = Literal["none", "client_secret_post", "client_secret_basic"]

#: The scopes every interop profile asks for.
SCOPES = ("openid", "offline_access", "profile", "email")
#: Every server is started with access tokens that live this long (≤ 6 s).
ACCESS_TOKEN_TTL = 4


@dataclass(frozen=True)
class ClientCredentials:
    """A client registered at the server (the secret is hidden from repr)."""

    client_id: str
    method: AuthMethod
    client_secret: str | None = field(default=None, repr=False)


class IndependentServer(Protocol):
    """One running independent authorization server, as the scenarios see it."""

    #: Short name used as the pytest parameter: ``"oidc-provider"``, ``"glewlwyd"``.
    name: str
    #: The server's own version string (the package's), for the interop table.
    version: str
    #: The issuer exactly as discovery names it (Glewlwyd's has a path).
    issuer: str
    #: Lifetime of every access token the server issues, in seconds.
    access_token_ttl: int
    #: A public client (``token_endpoint_auth_method = none``) with the device grant.
    public_client_id: str
    #: A confidential client with the device grant.
    confidential_client: ClientCredentials
    #: Whether the public client may revoke its tokens. RFC 7009 §2.1 lets a server
    #: demand client authentication there; Glewlwyd does, and answers 401.
    public_client_can_revoke: bool
    #: The directory holding the server's config, database and logs.
    workdir: Path

    def approve(self, user_code: str) -> None:
        """Approve a device code as the user would: verification page, login, consent.

        Scripted over HTTP against the provider's own pages (no browser); raises
        ``AssertionError`` naming the page when the provider does not accept it.
        """

    def authorize_in_browser(self, url: str, *, register: bool = True) -> str:
        """Follow an authorization URL through login and consent; the final redirect URL.

        The redirect (to ``http://127.0.0.1:PORT/callback?code=…``) is returned, not
        followed, so the caller delivers it to the loopback listener it is testing.
        ``register``: where the server matches redirect URIs exactly, register the
        one ``url`` names first (False: only what ``register_redirect`` registered).
        """

    def register_redirect(self, client_id: str, redirect_uri: str) -> None:
        """Register a redirect URI for a client, as its administrator would.

        Nothing to do where any port of a loopback redirect matches (RFC 8252 §7.3).
        """

    def userinfo_accepts(self, access_token: str) -> bool:
        """True when the server's userinfo endpoint answers 200 to this access token."""

    def token_active(self, token: str, hint: Literal["refresh_token", "access_token"]) -> bool:
        """Whether the server still honours ``token`` (introspection; never spends it)."""

    def revoke_grant(self) -> int:
        """End every grant of the test user at the server (as an admin would); how many."""

    def refresh_reuse_count(self) -> int:
        """How many times the server saw an already-used refresh token presented again."""

    def token_requests(self, grant_type: str | None = None) -> int:
        """How many requests reached the token endpoint (for ``grant_type`` only, if given)."""

    def stop(self) -> None:
        """Stop the server and everything it started."""


class StartServer(Protocol):
    """A factory: start a server whose files live under ``workdir``."""

    def __call__(self, workdir: Path, *, access_token_ttl: int) -> IndependentServer: ...


def public_profile(server: IndependentServer) -> dict[str, Any]:
    """The tokenwarden profile for the server's public client."""
    return {"issuer": server.issuer, "client_id": server.public_client_id,
            "scopes": list(SCOPES)}


def confidential_profile(server: IndependentServer) -> dict[str, Any]:
    """The tokenwarden profile for the server's confidential client."""
    client = server.confidential_client
    return {"issuer": server.issuer, "client_id": client.client_id,
            "client_secret": client.client_secret, "scopes": list(SCOPES),
            "token_endpoint_auth_method": client.method}
