"""authlib's generic AuthorizationServer bound to the stdlib HTTP layer and in-memory state."""

from __future__ import annotations

import secrets
from typing import Any, cast

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge

from .codegrant import AuthorizationCodes, DevAuthorizationCodeGrant
from .config import DevServerConfig
from .endpoints import DevDeviceAuthorizationEndpoint, DevRevocationEndpoint
from .grants import DevDeviceCodeGrant, DevRefreshTokenGrant
from .models import DEFAULT_SCOPE, Client, IssuedToken
from .state import DevState
from .wire import HttpRequest, JsonAnswer, wire_number


class DevOAuth2Request(OAuth2Request):  # type: ignore[misc]
    """An HttpRequest as authlib sees it: query and form fields as one payload."""

    def __init__(self, request: HttpRequest, uri: str) -> None:
        super().__init__(request.method, uri, headers=request.headers)
        self._form = request.form
        self._args = dict(request.query)
        self.payload = BasicOAuth2Payload({**self._args, **self._form})

    @property
    def form(self) -> dict[str, str]:
        """The url-encoded body."""
        return self._form

    @property
    def args(self) -> dict[str, str]:
        """The query string."""
        return self._args


def _new_access_token(**_: Any) -> str:
    # Opaque, 32 random bytes: clients must not read meaning into tokens.
    return secrets.token_urlsafe(32)


def _new_refresh_token(**_: Any) -> str:
    return secrets.token_urlsafe(48)


class DevAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Device code + refresh token grants, device authorization and revocation endpoints."""

    def __init__(self, *, config: DevServerConfig, state: DevState, issuer: str) -> None:
        super().__init__()
        self.config = config
        self.state = state
        self.issuer = issuer
        generator = BearerTokenGenerator(
            _new_access_token, _new_refresh_token, self._access_token_expires_in
        )
        self.register_token_generator("default", generator)
        self.register_grant(DevDeviceCodeGrant)
        self.register_grant(DevRefreshTokenGrant)
        # PKCE is required of every client, public or not (RFC 9700 §2.1.1).
        self.register_grant(DevAuthorizationCodeGrant, [CodeChallenge(required=True)])
        self.codes = AuthorizationCodes(state.clock)
        self.register_endpoint(
            DevDeviceAuthorizationEndpoint(
                self,
                verification_uri=f"{issuer}/device",
                ttl=config.device_code_ttl,
                interval=config.interval,
            )
        )
        self.register_endpoint(DevRevocationEndpoint(self))

    # -- typed entry points for the app -------------------------------------

    def token_answer(self, request: HttpRequest) -> JsonAnswer:
        """Run the token endpoint."""
        return self._guarded(lambda: self.create_token_response(request))

    def endpoint_answer(self, name: str, request: HttpRequest) -> JsonAnswer:
        """Run a registered endpoint (``device_authorization``, ``revocation``)."""
        return self._guarded(lambda: self.create_endpoint_response(name, request))

    def consent_check(self, request: HttpRequest) -> JsonAnswer | None:
        """None when an authorization request may be shown to the user, else the error."""
        try:
            self.get_consent_grant(request=self.create_oauth2_request(request),
                                   end_user=self.state.user)
        except OAuth2Error as error:
            return self.handle_response(*error())
        return None

    def authorize_answer(self, request: HttpRequest, *, approve: bool) -> JsonAnswer:
        """The redirect (302 with ``Location``) after the user approved or denied."""
        def run() -> Any:
            oauth_request = self.create_oauth2_request(request)
            grant = self.get_consent_grant(request=oauth_request, end_user=self.state.user)
            return self.create_authorization_response(
                oauth_request, grant_user=self.state.user if approve else None, grant=grant)

        return self._guarded(run)

    def _guarded(self, run: Any) -> JsonAnswer:
        try:
            return cast(JsonAnswer, run())
        except OAuth2Error as error:  # raised before authlib's own handling starts
            return self.handle_response(*error())

    # -- what authlib asks a framework integration for ----------------------

    def query_client(self, client_id: str) -> Client:
        """Registered clients by id; any other id is a public client."""
        return self.state.client(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Store a token response, opening a grant for a device approval."""
        now = self.state.clock()
        with self.state.lock:
            parent: IssuedToken | None = request.refresh_token
            if parent is None:
                if request.credential is not None:  # a device code; not for a code grant
                    request.credential.consumed = True
                family = self.state.start_family(
                    request.client.get_client_id(), request.user, token.get("scope", DEFAULT_SCOPE)
                )
            else:
                family = parent.family
            expires_at = self._refresh_expires_at(parent, now)
            self.state.record_token(
                token,
                family,
                access_ttl=self.config.access_token_ttl,
                refresh_expires_at=expires_at,
            )
        if expires_at is not None and "refresh_token" in token:
            # authlib returns this same dict as the response body.
            token["refresh_token_expires_in"] = wire_number(max(0.0, expires_at - now))

    def create_oauth2_request(self, request: HttpRequest | DevOAuth2Request) -> DevOAuth2Request:
        """Wrap the HTTP request for authlib."""
        if isinstance(request, DevOAuth2Request):
            return request
        return DevOAuth2Request(request, f"{self.issuer}{request.path}")

    def create_json_request(self, request: HttpRequest) -> None:
        """No endpoint here takes JSON."""
        raise NotImplementedError("the dev server has no JSON request endpoints")

    def handle_response(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]]
    ) -> JsonAnswer:
        """Turn authlib's (status, body, headers) into an unencoded answer."""
        return JsonAnswer(status, dict(body), list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Receive authlib's signals: nothing subscribes here."""

    # -- policy --------------------------------------------------------------

    def _access_token_expires_in(self, client: Client, grant_type: str) -> int | float:
        return wire_number(self.config.access_token_ttl)

    def _refresh_expires_at(self, parent: IssuedToken | None, now: float) -> float | None:
        if self.config.refresh_token_ttl == 0:
            return None
        if self.config.absolute_refresh_expiry and parent is not None:
            return parent.refresh_expires_at
        return now + self.config.refresh_token_ttl
