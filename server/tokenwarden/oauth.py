"""The OAuth wire: discovery, device authorization, token, refresh, revocation, userinfo.

authlib's ``AsyncOAuth2Client`` (over httpx2) does the OAuth work: token requests,
client authentication and response parsing. This module adds what authlib leaves to
the caller: classifying every failure into the error tree of ``errors.py`` (with the
HTTP status, ``Retry-After`` and request id of the answer), and refusing answers that
are not usable OAuth responses instead of crashing on them. This is the only module
that imports the HTTP client; it is imported lazily, so processes that find a fresh
token in the store never pay for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx2

from tokenwarden import __version__
from tokenwarden.authlib_client import AsyncOAuth2Client
from tokenwarden.authlib_client import OAuthError as AuthlibOAuthError
from tokenwarden.config import ENDPOINT_KEYS, Profile, check_url
from tokenwarden.errors import (
    RETRYABLE_OAUTH_ERRORS,
    ConfigError,
    ErrorDetails,
    MalformedResponse,
    OAuthError,
    ServerError,
    TerminalOAuthError,
    TransportError,
)
from tokenwarden.reach import unreachable
from tokenwarden.redaction import silence_secret_loggers
from tokenwarden.untrusted import (
    browsable_uri,
    is_bearer_token,
    is_refresh_token,
    printable,
)

log = logging.getLogger(__name__)
silence_secret_loggers()

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_AGENT = f"tokenwarden/{__version__}"
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-ms-request-id", "x-amzn-requestid")
#: Provider-specific error codes that mean a standard one; the original code is kept
#: in the description. GitHub: ``bad_refresh_token``; Entra: ``authorization_declined``.
OAUTH_ERROR_ALIASES = {
    "bad_refresh_token": "invalid_grant",
    "authorization_declined": "access_denied",
}
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_last_response: contextvars.ContextVar[httpx2.Response | None] = contextvars.ContextVar(
    "tokenwarden_last_response", default=None
)


@dataclass(frozen=True)
class Endpoints:
    """Where a provider's endpoints are."""

    issuer: str
    token_endpoint: str
    authorization_endpoint: str | None = None
    device_authorization_endpoint: str | None = None
    revocation_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    #: How the client authenticates at the token, device and revocation endpoints.
    client_auth_method: str = "none"
    #: RFC 9207: the provider promises ``iss`` in every authorization response.
    iss_in_authorization_response: bool = False


@dataclass(frozen=True)
class DeviceAuthorization:
    """An RFC 8628 device authorization response (the device code is never printed)."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: float
    interval: float
    message: str | None = None


@dataclass(frozen=True)
class AuthorizationRequest:
    """One authorization code request (RFC 6749 §4.1, PKCE per RFC 7636): fresh per attempt."""

    authorization_uri: str
    redirect_uri: str
    state: str = field(repr=False)
    code_verifier: str = field(repr=False)
    #: OpenID Connect nonce (sent when the scopes include ``openid``).
    nonce: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TokenResponse:
    """A successful token endpoint answer (secrets hidden from repr)."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in: float | None
    refresh_token: str | None = field(default=None, repr=False)
    scope: str | None = None
    refresh_in: float | None = None
    refresh_token_expires_in: float | None = None
    id_token: str | None = field(default=None, repr=False)
    request_id: str | None = None


def client_auth_method(profile: Profile, metadata: Mapping[str, Any]) -> str:
    """How the client authenticates: the profile's choice, else one the provider lists.

    A public client (no secret) sends its ``client_id`` in the body (``none``). With a
    secret, ``client_secret_basic`` is preferred whenever the provider lists it, or lists
    nothing (RFC 8414 §2 makes it the default; RFC 6749 §2.3.1 requires servers to support
    it and calls the body form NOT RECOMMENDED); ``client_secret_post`` only when the
    provider lists it and not basic.
    """
    if profile.token_endpoint_auth_method:
        return profile.token_endpoint_auth_method
    if not profile.client_secret:
        return "none"
    listed = metadata.get("token_endpoint_auth_methods_supported")
    if isinstance(listed, list) and listed and "client_secret_basic" not in listed \
            and "client_secret_post" in listed:
        return "client_secret_post"
    return "client_secret_basic"


def discovery_urls(issuer: str) -> list[str]:
    """Where the metadata documents of ``issuer`` are, OpenID first.

    OpenID Connect Discovery appends its well-known path to the issuer; RFC 8414 §3.1
    inserts its own between host and path (``https://h/.well-known/oauth-authorization-
    server/tenant``). Many servers also serve the appended RFC 8414 form, so an issuer
    with a path gets all three.
    """
    base = issuer.rstrip("/")
    urls = [base + "/.well-known/openid-configuration",
            base + "/.well-known/oauth-authorization-server"]
    parts = urlsplit(base)
    if parts.path not in ("", "/"):
        urls.append(urlunsplit((parts.scheme, parts.netloc,
                                "/.well-known/oauth-authorization-server" + parts.path, "", "")))
    return urls


def checked_document(profile: Profile, document: Mapping[str, Any], url: str) -> dict[str, Any]:
    """The document, if its ``issuer`` is the configured one; ConfigError otherwise."""
    issuer = document.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise ConfigError(
            f"the discovery document at {url} has no issuer, so it cannot be checked and is "
            "not used (RFC 8414 §3.3); set the endpoints in the profile, or fix the issuer URL",
            profile=profile.name, key="issuer",
        )
    if issuer.rstrip("/") != profile.issuer.rstrip("/"):
        raise ConfigError(
            f"the provider's discovery document at {url} names issuer '{printable(issuer, 200)}', "
            "which does not match the configured issuer; fix the issuer URL (RFC 8414 §3.3)",
            profile=profile.name, key="issuer",
        )
    return dict(document)


def endpoints_from_metadata(profile: Profile, metadata: Mapping[str, Any]) -> Endpoints:
    """Merge discovery metadata (already issuer-checked) with the profile's overrides."""
    values: dict[str, str | None] = {}
    for key in ENDPOINT_KEYS:
        chosen = getattr(profile, key) or metadata.get(key)
        values[key] = (
            check_url(chosen, key=key, profile=profile.name, file="discovery document")
            if chosen else None
        )
    token_endpoint = values.pop("token_endpoint")
    if not token_endpoint:
        raise ConfigError(
            "no token endpoint: discovery did not provide one; set token_endpoint",
            profile=profile.name, key="token_endpoint",
        )
    return Endpoints(
        issuer=profile.issuer, token_endpoint=token_endpoint,
        client_auth_method=client_auth_method(profile, metadata),
        iss_in_authorization_response=(
            metadata.get("authorization_response_iss_parameter_supported") is True
        ),
        **values,
    )


def explicit_endpoints(profile: Profile) -> Endpoints | None:
    """Endpoints from the profile alone, when it names enough of them to skip discovery."""
    if profile.token_endpoint and (
        profile.device_authorization_endpoint or profile.authorization_endpoint
    ):
        return endpoints_from_metadata(profile, {})
    return None


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse ``Retry-After`` (seconds or an HTTP date) into seconds."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def request_id_of(response: httpx2.Response | None) -> str | None:
    """The provider's request id header, when it sent one."""
    if response is None:
        return None
    for header in REQUEST_ID_HEADERS:
        if header in response.headers:
            return response.headers[header][:128]
    return None


def details_of(response: httpx2.Response | None, error: str | None = None,
               description: str | None = None) -> ErrorDetails:
    """Structured facts about a failed answer (the provider's fields may be any JSON)."""
    # Both are the server's words, shown to the user: no control characters.
    error = None if error is None else printable(str(error), 100)
    description = None if description is None else printable(str(description), 300)
    if response is None:
        return ErrorDetails(error=error, description=description)
    return ErrorDetails(
        error=error,
        description=(description or "")[:300] or None,
        status=response.status_code,
        retry_after=retry_after_seconds(response.headers.get("retry-after")),
        request_id=request_id_of(response),
    )


def classify_oauth_error(error: str, description: str | None,
                         response: httpx2.Response | None) -> OAuthError:
    """Turn an OAuth ``error`` answer into a retryable or terminal error."""
    if error in OAUTH_ERROR_ALIASES:
        description = f"{error}: {description}" if description else error
        error = OAUTH_ERROR_ALIASES[error]
    details = details_of(response, error, description)
    error = details.error or "error"
    text = f"{error}: {details.description}" if details.description else error
    status = details.status or 400
    if error in RETRYABLE_OAUTH_ERRORS or status >= 500 or status == 429:
        return ServerError(f"the provider is temporarily failing ({text})", details)
    return TerminalOAuthError(f"the provider refused the request ({text})", details)


def classify_http_status(response: httpx2.Response) -> OAuthError:
    """An error for an answer that is not a JSON OAuth response."""
    status = response.status_code
    kind = printable(response.headers.get("content-type", "unknown").split(";")[0], 60)
    details = details_of(response, None, f"HTTP {status} with {kind} body")
    if status >= 500 or status == 429:
        return ServerError(f"the provider answered HTTP {status}", details)
    return MalformedResponse(
        f"the provider answered HTTP {status} with a {kind} body instead of an OAuth "
        "response", details,
    )


@contextlib.asynccontextmanager
async def classified(what: str) -> AsyncIterator[None]:
    """Translate anything that goes wrong in one request into the error tree."""
    _last_response.set(None)
    try:
        yield
    except OAuthError:
        raise
    except httpx2.HTTPStatusError as exc:
        raise classify_http_status(exc.response) from None
    except httpx2.TransportError as exc:  # timeouts too: the URL and the cause, named
        raise TransportError(unreachable(
            _request_url(exc), exc, timed_out=isinstance(exc, httpx2.TimeoutException),
            connecting=isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout),
        )) from None
    except AuthlibOAuthError as exc:
        raise classify_oauth_error(
            str(exc.error), exc.description, _last_response.get()
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        # TypeError too: authlib's token wrapper calls int() on whatever expires_in holds.
        response = _last_response.get()
        details = details_of(response, None, type(exc).__name__)
        raise MalformedResponse(f"{what}: the answer is not a usable OAuth response",
                                details) from None


def _request_url(exc: httpx2.TransportError) -> str:
    try:
        url = exc.request.url
    except RuntimeError:  # raised outside a request
        return "the provider"
    return str(url.copy_with(query=None, fragment=None))  # a query may carry a secret


def _record_response(response: httpx2.Response) -> httpx2.Response:
    _last_response.set(response)
    return response


def _is_form_encoded(response: httpx2.Response) -> bool:
    return response.headers.get("content-type", "").startswith(FORM_CONTENT_TYPE)


def _form_fields(response: httpx2.Response) -> dict[str, Any]:
    return dict(parse_qsl(response.text, keep_blank_values=True))


def _form_encoded_as_json(response: httpx2.Response) -> httpx2.Response:
    """GitHub answers form-encoded unless asked for JSON: hand authlib the same answer as JSON."""
    if not _is_form_encoded(response):
        return response
    headers = [(k, v) for k, v in response.headers.items()
               if k.lower() not in ("content-type", "content-length", "content-encoding")]
    return httpx2.Response(response.status_code, headers=headers, json=_form_fields(response),
                           request=response.request)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def parse_token_response(data: Mapping[str, Any], request_id: str | None) -> TokenResponse:
    """Validate a token endpoint JSON answer; MalformedResponse when fields are missing."""
    access = data.get("access_token")
    if not isinstance(access, str) or not access:
        raise MalformedResponse("the token answer has no access_token",
                                ErrorDetails(request_id=request_id))
    refresh = data.get("refresh_token")
    # Checked before anything is stored: a CR/LF in a token would split the request
    # of every consumer it is put in a header for (RFC 6750 §2.1, RFC 6749 A.17).
    if not is_bearer_token(access):
        raise TerminalOAuthError(
            "the provider's access_token has characters a bearer token may not have "
            "(RFC 6750 §2.1 b64token); it was not stored",
            ErrorDetails(error="invalid_token_response", request_id=request_id))
    if isinstance(refresh, str) and refresh and not is_refresh_token(refresh):
        raise TerminalOAuthError(
            "the provider's refresh_token has characters a refresh token may not have "
            "(RFC 6749 A.17); it was not stored",
            ErrorDetails(error="invalid_token_response", request_id=request_id))
    token_type = data.get("token_type")
    return TokenResponse(
        access_token=access,
        token_type=normal_token_type(token_type),
        expires_in=_number(data.get("expires_in")),
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        scope=data.get("scope") if isinstance(data.get("scope"), str) else None,
        refresh_in=_number(data.get("refresh_in")),
        refresh_token_expires_in=_refresh_token_lifetime(data),
        id_token=data.get("id_token") if isinstance(data.get("id_token"), str) else None,
        request_id=request_id,
    )


def normal_token_type(value: object) -> str:
    """``Bearer`` for any spelling of it (RFC 6750 §4 is case-insensitive), or when absent."""
    if not isinstance(value, str) or not value.strip() or value.strip().lower() == "bearer":
        return "Bearer"
    return printable(value, 40)


def _refresh_token_lifetime(data: Mapping[str, Any]) -> float | None:
    """``refresh_token_expires_in`` (GitHub Apps), or Keycloak's ``refresh_expires_in``."""
    value = _number(data.get("refresh_token_expires_in"))
    if value is None:
        # Keycloak sends 0 for offline tokens, which have no idle expiry.
        value = _number(data.get("refresh_expires_in"))
    return value if value is not None and value > 0 else None


def parse_device_authorization(data: object, request_id: str | None) -> DeviceAuthorization:
    """Validate an RFC 8628 §3.2 answer (``verification_url`` accepted, as Google sends)."""
    if not isinstance(data, Mapping):
        raise MalformedResponse("the device authorization answer is not a JSON object",
                                ErrorDetails(request_id=request_id))
    uri = data.get("verification_uri") or data.get("verification_url")
    device_code, user_code = data.get("device_code"), data.get("user_code")
    expires_in = _number(data.get("expires_in"))
    if not (isinstance(device_code, str) and isinstance(user_code, str)
            and isinstance(uri, str) and expires_in):
        raise MalformedResponse(
            "the device authorization answer lacks device_code, user_code, "
            "verification_uri or expires_in", ErrorDetails(request_id=request_id),
        )
    complete = data.get("verification_uri_complete") or data.get("verification_url_complete")
    interval = _number(data.get("interval"))
    message = data.get("message")
    # The user is sent to these and shown the rest: only web pages, no control characters.
    if browsable_uri(uri) is None:
        raise TerminalOAuthError(
            f"the provider's verification_uri '{printable(uri, 200)}' is not an https:// "
            "page (or http:// on this machine); refusing to show or open it",
            ErrorDetails(error="invalid_verification_uri", request_id=request_id))
    shown_code = printable(user_code, 64)
    if not shown_code:
        raise MalformedResponse("the device authorization answer has an empty user_code",
                                ErrorDetails(request_id=request_id))
    return DeviceAuthorization(
        device_code=device_code,
        user_code=shown_code,
        verification_uri=uri,
        verification_uri_complete=browsable_uri(complete) if isinstance(complete, str) else None,
        expires_in=expires_in,
        interval=5.0 if interval is None else max(0.0, interval),
        message=printable(message) if isinstance(message, str) else None,
    )


class OAuthClient:
    """One profile's conversation with its provider."""

    def __init__(self, profile: Profile, *, timeout: float,
                 transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self.profile = profile
        # authlib adds the client's credentials to every request it is handed an
        # ``auth`` for (``_client_auth``): callers never put client_id or client_secret
        # in a body themselves, so each goes out exactly once (RFC 6749 §3.1).
        self._client = AsyncOAuth2Client(
            client_id=profile.client_id,
            client_secret=profile.client_secret,
            scope=profile.scope or None,
            code_challenge_method="S256",
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
            trust_env=False,
        )
        for hook in ("access_token_response", "refresh_token_response"):
            self._client.register_compliance_hook(hook, _record_response)
            self._client.register_compliance_hook(hook, _form_encoded_as_json)
        self._endpoints: Endpoints | None = explicit_endpoints(profile)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    def _client_auth(self, endpoints: Endpoints) -> Any:
        """The httpx auth (authlib's) that adds the client's credentials the chosen way."""
        return self._client.client_auth(endpoints.client_auth_method)

    async def endpoints(self) -> Endpoints:
        """Endpoints from the profile, or from discovery (fetched once per client)."""
        if self._endpoints is None:
            self._endpoints = endpoints_from_metadata(self.profile, await self.discover())
        return self._endpoints

    async def discover(self) -> dict[str, Any]:
        """The provider's metadata: every discovery document it serves, merged.

        A server may list some endpoints (revocation, device authorization) only in
        its RFC 8414 document, so all are read; the OpenID one wins where both list
        a key. A document whose ``issuer`` is missing or differs is not used
        (RFC 8414 §3.3, OpenID Connect Discovery §4.3).
        """
        urls = discovery_urls(self.profile.issuer)
        answers = await asyncio.gather(*(self._fetch_document(url) for url in urls))
        usable: list[dict[str, Any]] = []
        refused: ConfigError | None = None
        failed: OAuthError | None = None
        for url, answer in zip(urls, answers, strict=True):
            if isinstance(answer, OAuthError):
                # An unreachable host says more than a 404 from another well-known path.
                if failed is None or (isinstance(answer, TransportError)
                                      and not isinstance(failed, TransportError)):
                    failed = answer
                continue
            try:
                usable.append(checked_document(self.profile, answer, url))
            except ConfigError as exc:
                log.warning("%s", exc.message)
                refused = refused or exc
        if not usable:
            raise refused or failed or MalformedResponse("discovery: no document")
        merged: dict[str, Any] = {}
        for document in reversed(usable):  # the first URL (OpenID) is applied last
            merged.update(document)
        return merged

    async def _fetch_document(self, url: str) -> dict[str, Any] | OAuthError:
        try:
            async with classified("discovery"):
                response = await self._client.request("GET", url, withhold_token=True)
                _record_response(response)
                response.raise_for_status()
                data = response.json()
                if not isinstance(data, dict):
                    raise ValueError("not an object")
                return data
        except OAuthError as exc:
            return exc

    async def server_date(self) -> datetime | None:
        """The provider's clock, from the ``Date`` header of its discovery document."""
        url = self.profile.issuer.rstrip("/") + "/.well-known/openid-configuration"
        async with classified("clock check"):
            response = await self._client.request("GET", url, withhold_token=True)
        try:
            moment = email.utils.parsedate_to_datetime(response.headers.get("date", ""))
        except (TypeError, ValueError):
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    async def device_authorize(self) -> DeviceAuthorization:
        """Start an RFC 8628 device authorization."""
        endpoints = await self.endpoints()
        if not endpoints.device_authorization_endpoint:
            raise ConfigError(
                "the provider has no device_authorization_endpoint; set it in the profile",
                profile=self.profile.name, key="device_authorization_endpoint",
            )
        form = dict(self.profile.extra)
        if self.profile.scope:
            form["scope"] = self.profile.scope
        if self.profile.audience:
            form["audience"] = self.profile.audience
        async with classified("device authorization"):
            response = await self._client.request(
                "POST", endpoints.device_authorization_endpoint, data=form,
                # The form may be empty until the client auth adds client_id: say its
                # type anyway, or the server sees a body of no known kind.
                headers={"Content-Type": FORM_CONTENT_TYPE},
                withhold_token=True, auth=self._client_auth(endpoints),
            )
            _record_response(response)
            data = _json_object(response)
            if "error" in data:
                raise classify_oauth_error(str(data["error"]),
                                           _str_or_none(data.get("error_description")),
                                           response)
            if response.status_code >= 400:
                raise classify_http_status(response)
            return parse_device_authorization(data, request_id_of(response))

    async def authorization_request(self, redirect_uri: str) -> AuthorizationRequest:
        """A fresh ``state`` and PKCE verifier, and the URL to open in the browser."""
        from authlib.common.security import generate_token

        endpoints = await self.endpoints()
        if not endpoints.authorization_endpoint:
            raise ConfigError(
                "the provider has no authorization_endpoint; set it in the profile, or "
                'sign in with flow = "device"',
                profile=self.profile.name, key="authorization_endpoint",
            )
        verifier = generate_token(64)  # RFC 7636 §4.1: 43-128 unreserved characters
        extra = dict(self.profile.extra)
        if self.profile.audience:
            extra.setdefault("audience", self.profile.audience)
        if "offline_access" in self.profile.scopes:
            # OpenID Connect Core §11: offline_access needs prompt=consent, or the
            # provider may leave it out of the grant, and every renewal that asks for the
            # profile's scopes then fails with invalid_scope. extra.prompt overrides.
            extra.setdefault("prompt", "consent")
        # OpenID Connect Core §3.1.2.1: optional with the code flow, but some providers
        # (Glewlwyd) require it; the ID token's nonce is compared with it.
        nonce = generate_token(32) if "openid" in self.profile.scopes else None
        if nonce is not None:
            extra["nonce"] = nonce
        uri, state = self._client.create_authorization_url(
            endpoints.authorization_endpoint, code_verifier=verifier,
            redirect_uri=redirect_uri, **extra,
        )
        return AuthorizationRequest(authorization_uri=uri, redirect_uri=redirect_uri,
                                    state=state, code_verifier=verifier, nonce=nonce)

    async def exchange_code(self, code: str, request: AuthorizationRequest) -> TokenResponse:
        """Exchange an authorization code once, with the verifier of its request."""
        endpoints = await self.endpoints()
        async with classified("sign-in"):
            data = await self._client.fetch_token(
                endpoints.token_endpoint, grant_type="authorization_code", code=code,
                code_verifier=request.code_verifier, redirect_uri=request.redirect_uri,
                auth=self._client_auth(endpoints),
            )
            return parse_token_response(data, request_id_of(_last_response.get()))

    async def poll_device(self, device_code: str) -> TokenResponse:
        """One device-code token request (raises ``TerminalOAuthError`` while pending)."""
        endpoints = await self.endpoints()
        extra = dict(self.profile.extra)
        if self.profile.audience:
            extra.setdefault("audience", self.profile.audience)
        async with classified("sign-in"):
            data = await self._client.fetch_token(
                endpoints.token_endpoint, grant_type=DEVICE_CODE_GRANT,
                device_code=device_code, auth=self._client_auth(endpoints), **extra,
            )
            return parse_token_response(data, request_id_of(_last_response.get()))

    async def refresh(self, refresh_token: str) -> TokenResponse:
        """Exchange a refresh token (rotation: the answer may carry a new one)."""
        endpoints = await self.endpoints()
        async with classified("renewal"):
            data = await self._client.refresh_token(
                endpoints.token_endpoint, refresh_token=refresh_token,
                auth=self._client_auth(endpoints),
            )
            # authlib copies the old refresh token into an answer that carried none, which
            # is what RFC 6749 §6 asks of the client: keep using the old one.
            return parse_token_response(data, request_id_of(_last_response.get()))

    async def revoke(self, token: str, hint: str) -> bool:
        """Revoke a token at the provider (RFC 7009); False when it has no endpoint for it."""
        endpoints = await self.endpoints()
        if not endpoints.revocation_endpoint:
            return False
        async with classified("revocation"):
            response = await self._client.revoke_token(
                endpoints.revocation_endpoint, token=token, token_type_hint=hint,
                auth=self._client_auth(endpoints),
            )
            _record_response(response)
            if response.status_code >= 400:
                raise classify_http_status(response)
            return True

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        """The signed-in account's claims (used only to label the account)."""
        endpoints = await self.endpoints()
        if not endpoints.userinfo_endpoint:
            return {}
        async with classified("userinfo"):
            response = await self._client.request(
                "GET", endpoints.userinfo_endpoint, withhold_token=True,
                headers={"Authorization": f"Bearer {access_token}"},
            )
            _record_response(response)
            response.raise_for_status()
            return _json_object(response)


def _json_object(response: httpx2.Response) -> dict[str, Any]:
    if _is_form_encoded(response):
        return _form_fields(response)
    try:
        data = response.json()
    except (ValueError, json.JSONDecodeError):
        if response.status_code >= 400:
            raise classify_http_status(response) from None
        raise
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def account_label(claims: Mapping[str, Any]) -> str | None:
    """A human label for an account from userinfo or id_token claims."""
    for key in ("email", "preferred_username", "upn", "login", "name", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and printable(value):
            return printable(value, 200)
    return None
