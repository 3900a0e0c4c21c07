"""``--quirks PROVIDER``: the dev server answering the way a real provider does on the wire.

Each shaper bends the standard answers through the ``ResponseShaper.shape`` hook,
so tests can run every preset end to end over real HTTP. What each one reproduces,
from the provider's documentation (links in docs/providers.md):

- ``github``: GitHub App user tokens (8 h access tokens, rotating refresh tokens).
  Answers are form-encoded unless the request accepts JSON; token-endpoint errors
  come with HTTP 200; a refused refresh token is ``bad_refresh_token``;
  ``slow_down`` carries the new ``interval``; no discovery document and no
  RFC 7009 revocation endpoint; ``/user`` instead of OpenID userinfo claims.
- ``github-oauth-app``: the same, for OAuth apps, whose tokens carry no
  ``expires_in`` and come without a refresh token.
- ``google``: ``verification_url`` instead of ``verification_uri``; a client
  secret is required; ``authorization_pending`` is HTTP 428 and ``slow_down`` /
  ``access_denied`` HTTP 403; refresh tokens do not rotate (a refresh answer has
  no ``refresh_token`` and the old one keeps working). Keeping the old token
  alive is behaviour, not wire shape; it lives here rather than in ``grants.py``
  so that the standard grants stay free of provider switches.
- ``entra``: a ``message`` to show the user; ``authorization_declined`` instead of
  ``access_denied``; ``error_codes``, ``trace_id`` and ``correlation_id`` on
  errors; ``ext_expires_in``; a discovery document with the multi-tenant
  ``{tenantid}`` placeholder issuer; no revocation endpoint.
- ``auth0``: ``audience`` is required (standing in for a tenant without a default
  audience, where Auth0 would issue an opaque token); ``authorization_pending``,
  ``expired_token``, ``access_denied`` and ``invalid_grant`` are HTTP 403,
  ``slow_down`` HTTP 429; rotation with reuse detection (the server's default).
- ``okta``: Okta's error descriptions; otherwise standard.
- ``keycloak``: ``refresh_expires_in`` (0 for no expiry) instead of
  ``refresh_token_expires_in``, plus ``not-before-policy`` and ``session_state``.
"""

from __future__ import annotations

import re
import uuid
from base64 import b64decode
from binascii import Error as BinasciiError
from datetime import UTC, datetime
from urllib.parse import urlencode

from .shaping import ResponseShaper
from .state import DevState
from .wire import HttpRequest, HttpResponse, JsonAnswer

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
_WAIT_SECONDS = re.compile(r"wait (\d+(?:\.\d+)?) s")


class FormAnswer(JsonAnswer):
    """An answer encoded as ``application/x-www-form-urlencoded`` (GitHub without JSON)."""

    def to_response(self) -> HttpResponse:
        """Encode the payload as a form body."""
        fields = {k: _form_value(v) for k, v in self.payload.items() if v is not None}
        headers = [(n, v) for n, v in self.headers if n.lower() != "content-type"]
        headers.append(("Content-Type", FORM_CONTENT_TYPE))
        return HttpResponse(self.status, urlencode(fields).encode(), headers, self.outcome)


def _form_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class QuirksShaper(ResponseShaper):
    """Base of the provider shapers: dispatches by endpoint, success or error."""

    name = "quirks"

    def __init__(self, state: DevState) -> None:
        self.state = state

    def shape(self, endpoint: str, request: HttpRequest, answer: JsonAnswer) -> JsonAnswer:
        """Route the answer to ``token_success``, ``token_error``, ``device_success``, ..."""
        ok = answer.outcome == "ok"
        if endpoint == "token":
            grant = request.form.get("grant_type", "")
            if ok:
                return self.token_success(request, answer, grant)
            return self.token_error(request, answer, grant)
        if endpoint == "device_authorization":
            refused = self.refuse_device_request(request)
            if refused is not None:
                return refused
            return self.device_success(request, answer) if ok else answer
        if endpoint == "discovery":
            return self.discovery(answer)
        if endpoint == "revoke":
            return self.revoke(answer)
        if endpoint == "userinfo" and ok:
            return self.userinfo(answer)
        return answer

    def token_success(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """A successful token answer."""
        return answer

    def token_error(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """A token-endpoint error."""
        return answer

    def refuse_device_request(self, request: HttpRequest) -> JsonAnswer | None:
        """An error answer for a device request this provider would refuse, else None."""
        return None

    def device_success(self, request: HttpRequest, answer: JsonAnswer) -> JsonAnswer:
        """A successful device authorization answer."""
        return answer

    def discovery(self, answer: JsonAnswer) -> JsonAnswer:
        """The discovery document."""
        return answer

    def revoke(self, answer: JsonAnswer) -> JsonAnswer:
        """A revocation answer."""
        return answer

    def userinfo(self, answer: JsonAnswer) -> JsonAnswer:
        """A successful userinfo answer."""
        return answer


def _not_found() -> JsonAnswer:
    return JsonAnswer(404, {"error": "not_found", "error_description": "no such endpoint"})


def _drop(answer: JsonAnswer, *keys: str) -> JsonAnswer:
    for key in keys:
        answer.payload.pop(key, None)
    return answer


class GitHubShaper(QuirksShaper):
    """GitHub App user tokens: see the module docstring."""

    name = "github"
    ERROR_URI = (
        "https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/"
        "generating-a-user-access-token-for-a-github-app#error-codes-for-the-device-flow"
    )

    def shape(self, endpoint: str, request: HttpRequest, answer: JsonAnswer) -> JsonAnswer:
        """Shape as GitHub does, then encode as a form unless the client accepts JSON."""
        shaped = super().shape(endpoint, request, answer)
        if endpoint in ("token", "device_authorization") and not _accepts_json(request):
            return FormAnswer(shaped.status, shaped.payload, shaped.headers)
        return shaped

    def token_success(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """``token_type=bearer``, an empty ``scope`` (GitHub Apps use permissions)."""
        answer.payload["token_type"] = "bearer"  # noqa: S105 (a type name)
        answer.payload.setdefault("scope", "")
        return answer

    def token_error(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """Errors with HTTP 200 and an ``error_uri``; ``bad_refresh_token``; ``interval``."""
        payload = dict(answer.payload)
        if grant == "refresh_token" and payload.get("error") == "invalid_grant":
            payload = {"error": "bad_refresh_token",
                       "error_description": "The refresh token passed is incorrect or expired."}
        if payload.get("error") == "slow_down":
            wait = _WAIT_SECONDS.search(str(payload.get("error_description", "")))
            if wait:
                payload["interval"] = int(float(wait.group(1)))
        payload["error_uri"] = self.ERROR_URI
        return JsonAnswer(200, payload, answer.headers)

    def discovery(self, answer: JsonAnswer) -> JsonAnswer:
        """github.com has no OAuth discovery document."""
        return _not_found()

    def revoke(self, answer: JsonAnswer) -> JsonAnswer:
        """No RFC 7009 endpoint (the grant API needs the client secret)."""
        return _not_found()

    def userinfo(self, answer: JsonAnswer) -> JsonAnswer:
        """``GET /user``: a login, and an email only when the user made it public."""
        claims = answer.payload
        return JsonAnswer(200, {"login": claims.get("sub"), "id": 1, "type": "User",
                                "name": claims.get("name"), "email": None}, answer.headers)


class GitHubOAuthAppShaper(GitHubShaper):
    """GitHub OAuth apps: tokens without expiry and without refresh tokens."""

    name = "github-oauth-app"

    def token_success(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """No ``expires_in``, no refresh token; scopes comma-separated as GitHub sends them."""
        answer = super().token_success(request, answer, grant)
        answer.payload["scope"] = ",".join(str(answer.payload.get("scope", "")).split())
        return _drop(answer, "expires_in", "refresh_token", "refresh_token_expires_in")


class GoogleShaper(QuirksShaper):
    """Google's limited-input device flow: see the module docstring."""

    name = "google"
    ERROR_STATUS = {"authorization_pending": 428, "slow_down": 403, "access_denied": 403}

    def refuse_device_request(self, request: HttpRequest) -> JsonAnswer | None:
        """The device endpoint wants the client secret too."""
        return None if _has_client_secret(request) else _secret_missing()

    def device_success(self, request: HttpRequest, answer: JsonAnswer) -> JsonAnswer:
        """``verification_url``, and no ``verification_uri_complete``."""
        answer.payload["verification_url"] = answer.payload.pop("verification_uri", None)
        return _drop(answer, "verification_uri_complete")

    def token_success(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """A refresh neither returns nor retires a refresh token."""
        if not _has_client_secret(request):
            return _secret_missing()
        if grant == "refresh_token":
            presented = request.form.get("refresh_token", "")
            with self.state.lock:
                issued = self.state.by_refresh_token(presented)
                if issued is not None:
                    issued.refresh_rotated = False
            _drop(answer, "refresh_token")
        return answer

    def token_error(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """Google's status codes for the device-flow errors."""
        if not _has_client_secret(request):
            return _secret_missing()
        status = self.ERROR_STATUS.get(str(answer.payload.get("error")), answer.status)
        return JsonAnswer(status, answer.payload, answer.headers)


def _secret_missing() -> JsonAnswer:
    return JsonAnswer(400, {"error": "invalid_request",
                            "error_description": "client_secret is missing."})


class EntraShaper(QuirksShaper):
    """Microsoft Entra ID (v2.0 endpoints): see the module docstring."""

    name = "entra"
    ERRORS = {"access_denied": "authorization_declined"}
    ERROR_CODES = {"authorization_pending": 70016, "authorization_declined": 70000,
                   "expired_token": 70020, "invalid_grant": 70000, "slow_down": 70016}

    def device_success(self, request: HttpRequest, answer: JsonAnswer) -> JsonAnswer:
        """Add the ``message`` to show, drop ``verification_uri_complete``."""
        payload = answer.payload
        payload["message"] = (
            f"To sign in, use a web browser to open the page {payload.get('verification_uri')} "
            f"and enter the code {payload.get('user_code')} to authenticate."
        )
        return _drop(answer, "verification_uri_complete")

    def token_success(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """``ext_expires_in``; no refresh-token lifetime (Entra does not say)."""
        answer.payload["ext_expires_in"] = answer.payload.get("expires_in")
        return _drop(answer, "refresh_token_expires_in")

    def token_error(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """Entra's error names and diagnostic fields, always HTTP 400."""
        error = str(answer.payload.get("error"))
        error = self.ERRORS.get(error, error)
        payload = {
            "error": error,
            "error_description": f"AADSTS{self.ERROR_CODES.get(error, 50000)}: "
            f"{answer.payload.get('error_description', '')}",
            "error_codes": [self.ERROR_CODES.get(error, 50000)],
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }
        return JsonAnswer(400, payload, answer.headers)

    def discovery(self, answer: JsonAnswer) -> JsonAnswer:
        """The multi-tenant document names a placeholder issuer."""
        answer.payload["issuer"] = "https://login.microsoftonline.com/{tenantid}/v2.0"
        return _drop(answer, "revocation_endpoint")

    def revoke(self, answer: JsonAnswer) -> JsonAnswer:
        """Entra has no revocation endpoint."""
        return _not_found()


class Auth0Shaper(QuirksShaper):
    """Auth0: see the module docstring."""

    name = "auth0"
    ERROR_STATUS = {"authorization_pending": 403, "expired_token": 403, "access_denied": 403,
                    "invalid_grant": 403, "slow_down": 429}

    def refuse_device_request(self, request: HttpRequest) -> JsonAnswer | None:
        """Without ``audience`` the tokens would not be for any API."""
        if request.form.get("audience"):
            return None
        return JsonAnswer(400, {
            "error": "invalid_request",
            "error_description": "audience is required: this stands for a tenant without a "
            "Default Audience, where the token would only be good for /userinfo",
        })

    def token_success(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """Auth0 does not report refresh-token lifetimes."""
        return _drop(answer, "refresh_token_expires_in")

    def token_error(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """Auth0's status codes; its wording for a refused refresh token."""
        payload = dict(answer.payload)
        if grant == "refresh_token" and payload.get("error") == "invalid_grant":
            payload["error_description"] = "Unknown or invalid refresh token."
        status = self.ERROR_STATUS.get(str(payload.get("error")), answer.status)
        return JsonAnswer(status, payload, answer.headers)


class OktaShaper(QuirksShaper):
    """Okta: standard wire, Okta's wording."""

    name = "okta"

    def token_success(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """Okta does not report refresh-token lifetimes."""
        return _drop(answer, "refresh_token_expires_in")

    def token_error(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """Okta's description for a refused refresh token."""
        if grant == "refresh_token" and answer.payload.get("error") == "invalid_grant":
            answer.payload["error_description"] = "The refresh token is invalid or expired."
        return answer


class KeycloakShaper(QuirksShaper):
    """Keycloak: see the module docstring."""

    name = "keycloak"

    def token_success(self, request: HttpRequest, answer: JsonAnswer, grant: str) -> JsonAnswer:
        """``refresh_expires_in`` (0: no idle expiry), ``not-before-policy``, ``session_state``."""
        payload = answer.payload
        if "refresh_token" in payload:
            payload["refresh_expires_in"] = payload.pop("refresh_token_expires_in", 0)
        payload["not-before-policy"] = 0
        payload["session_state"] = str(uuid.uuid5(uuid.NAMESPACE_URL, self.state.user.sub))
        return answer


QUIRKS: dict[str, type[QuirksShaper]] = {
    shaper.name: shaper
    for shaper in (GitHubShaper, GitHubOAuthAppShaper, GoogleShaper, EntraShaper, Auth0Shaper,
                   OktaShaper, KeycloakShaper)
}
QUIRK_NAMES = tuple(QUIRKS)


def quirks_shaper(name: str, state: DevState) -> ResponseShaper:
    """The shaper of provider ``name`` (``ValueError`` for an unknown one)."""
    if name not in QUIRKS:
        raise ValueError(f"unknown quirks mode {name!r} (known: {', '.join(QUIRK_NAMES)})")
    return QUIRKS[name](state)


def _accepts_json(request: HttpRequest) -> bool:
    return "json" in request.headers.get("accept", "").lower()


def _has_client_secret(request: HttpRequest) -> bool:
    if request.form.get("client_secret"):
        return True
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = b64decode(value, validate=True).decode("utf-8", "replace")
    except (BinasciiError, ValueError):
        return False
    return bool(decoded.partition(":")[2])

