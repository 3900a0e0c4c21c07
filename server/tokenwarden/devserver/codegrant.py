"""The authorization code grant with PKCE required (RFC 6749 §4.1, RFC 7636, RFC 8252).

authlib runs the protocol (request validation, the S256 check, error redirects); this
module keeps the issued codes in memory, single use and short-lived, and accepts the
loopback redirect URIs of native apps on any port (RFC 8252 §7.3).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.models import AuthorizationCodeMixin

from .grants import CLIENT_AUTH_METHODS
from .models import EpochClock, User

if TYPE_CHECKING:
    from authlib.oauth2.rfc6749 import OAuth2Request

    from .authorization import DevAuthorizationServer
    from .models import Client

#: RFC 6749 §4.1.2 recommends at most 10 minutes; a minute is plenty for a redirect.
CODE_TTL_SECONDS = 60.0
LOOPBACK_REDIRECT_HOSTS = ("127.0.0.1", "[::1]", "localhost")


def is_loopback_redirect(uri: str) -> bool:
    """``http://127.0.0.1:ANY/…`` or ``http://[::1]:ANY/…`` (RFC 8252 §7.3)."""
    parts = urlsplit(uri)
    host = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    return parts.scheme == "http" and host in LOOPBACK_REDIRECT_HOSTS and not parts.fragment


@dataclass(eq=False)
class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    """One issued code, bound to its client, redirect URI, user and PKCE challenge."""

    code: str = field(repr=False)
    client_id: str
    redirect_uri: str
    scope: str
    user: User
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    clock: EpochClock = field(repr=False)

    def get_redirect_uri(self) -> str:
        """The redirect URI of the authorization request."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """The granted scope."""
        return self.scope

    def is_expired(self) -> bool:
        """Past its short lifetime."""
        return self.clock() >= self.expires_at


class AuthorizationCodes:
    """Issued codes, each usable once."""

    def __init__(self, clock: EpochClock) -> None:
        self._clock = clock
        self._codes: dict[str, AuthorizationCode] = {}
        self._lock = threading.Lock()
        self.exchanged = 0

    def add(self, code: str, request: OAuth2Request, client_id: str) -> None:
        """Remember a freshly issued code."""
        payload = request.payload
        with self._lock:
            self._codes[code] = AuthorizationCode(
                code=code, client_id=client_id, redirect_uri=payload.redirect_uri,
                scope=request.scope or "", user=request.user,
                code_challenge=payload.data.get("code_challenge"),
                code_challenge_method=payload.data.get("code_challenge_method"),
                expires_at=self._clock() + CODE_TTL_SECONDS, clock=self._clock,
            )

    def find(self, code: str, client_id: str) -> AuthorizationCode | None:
        """The live code issued to ``client_id``, or None."""
        with self._lock:
            found = self._codes.get(code)
        if found is None or found.client_id != client_id or found.is_expired():
            return None
        return found

    def use(self, code: AuthorizationCode) -> None:
        """A code is spent once tokens were issued for it."""
        with self._lock:
            self._codes.pop(code.code, None)
            self.exchanged += 1


class DevAuthorizationCodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    """Authorization code grant over the dev server's in-memory codes."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    @property
    def dev(self) -> DevAuthorizationServer:
        """The authorization server, typed."""
        return cast("DevAuthorizationServer", self.server)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        """Keep the code with what it is bound to."""
        client = cast("Client", request.client)
        self.dev.codes.add(code, request, client.get_client_id())

    def query_authorization_code(self, code: str, client: Client) -> Any:
        """A live, unused code of this client (None makes it invalid_grant)."""
        return self.dev.codes.find(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Used once: gone."""
        self.dev.codes.use(authorization_code)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User:
        """The user who approved."""
        return authorization_code.user
