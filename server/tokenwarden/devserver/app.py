"""Routing: which endpoint a request is for, and its answer. No sockets here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import (
    MissingAuthorizationError,
    OAuth2Error,
    UnsupportedTokenTypeError,
)

from .admin import ADMIN_PREFIX, USER_CODE_ERROR_STATUS, AdminApi
from .authorization import DevAuthorizationServer
from .config import DevServerConfig
from .endpoints import userinfo_protector
from .faults import FaultQueue
from .models import DEVICE_CODE_GRANT_TYPE
from .pages import consent_page, device_page, error_page, result_page
from .shaping import ResponseShaper, shaper_for
from .state import DevState, UserCodeError
from .stats import Event, Stats, short_grant_type
from .strict import strict_refusal
from .wire import HttpRequest, HttpResponse, JsonAnswer, error_response, html_response

log = logging.getLogger("tokenwarden.devserver")

Handler = Callable[[HttpRequest], HttpResponse]
#: What ``split_discovery`` leaves out of the OpenID document.
SPLIT_DISCOVERY_KEYS = ("device_authorization_endpoint", "revocation_endpoint")


@dataclass(frozen=True)
class Route:
    """An endpoint name (as faults and events know it) and its handlers by method."""

    endpoint: str
    methods: dict[str, Handler]


class DevApp:
    """The dev server's request handling, independent of the transport."""

    def __init__(
        self,
        *,
        config: DevServerConfig,
        state: DevState,
        stats: Stats,
        faults: FaultQueue,
        issuer: str,
        shaper: ResponseShaper | None = None,
    ) -> None:
        self.config = config
        self.state = state
        self.stats = stats
        self.faults = faults
        self.issuer = issuer
        self.shaper = shaper or shaper_for(config, state)
        self.oauth = DevAuthorizationServer(config=config, state=state, issuer=issuer)
        self._userinfo = userinfo_protector(state)
        self._admin = AdminApi(state=state, stats=stats, faults=faults)
        discovery = Route("discovery", {"GET": self._discovery})
        self._routes = {
            "/.well-known/openid-configuration": discovery,
            "/.well-known/oauth-authorization-server": discovery,
            "/device_authorization": Route(
                "device_authorization", {"POST": self._device_authorization}
            ),
            "/token": Route("token", {"POST": self._token}),
            "/revoke": Route("revoke", {"POST": self._revoke}),
            "/userinfo": Route(
                "userinfo", {"GET": self._userinfo_claims, "POST": self._userinfo_claims}
            ),
            "/device": Route("device", {"GET": self._device_page, "POST": self._device_decision}),
            "/authorize": Route("authorize", {"GET": self._authorize_page,
                                              "POST": self._authorize_decision}),
        }

    def endpoint_of(self, request: HttpRequest) -> str:
        """Endpoint name of a request: ``token``, ``userinfo``, ..., ``admin`` or ``unknown``."""
        if request.path.startswith(ADMIN_PREFIX):
            return "admin"
        route = self._routes.get(request.path)
        return route.endpoint if route else "unknown"

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer a request; unexpected errors become a logged 500, never a traceback."""
        try:
            return self._dispatch(request)
        except Exception:
            log.exception("unexpected error in %s %s", request.method, request.path)
            return error_response(500, "server_error", "unexpected server error")

    def record(
        self,
        request: HttpRequest,
        *,
        endpoint: str,
        grant_type: str | None,
        status: int | None,
        outcome: str,
        fault: str | None,
    ) -> None:
        """Add a finished request to the event log (admin calls are not OAuth traffic)."""
        if endpoint == "admin":
            return
        now = datetime.fromtimestamp(self.state.clock(), UTC)
        self.stats.record(
            Event(
                time=now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                endpoint=endpoint,
                grant_type=short_grant_type(grant_type),
                outcome=outcome,
                request_id=request.request_id,
                status=status,
                fault=fault,
                parameters=request.parameter_names,
                authorization=request.authorization_scheme,
            )
        )

    def _dispatch(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(ADMIN_PREFIX):
            return self._admin.handle(request)
        route = self._routes.get(request.path)
        if route is None:
            return error_response(404, "not_found", "no such endpoint")
        handler = route.methods.get(request.method)
        if handler is None:
            response = error_response(405, "method_not_allowed", "method not allowed")
            response.headers.append(("Allow", ", ".join(sorted(route.methods))))
            return response
        return handler(request)

    def _shaped(self, endpoint: str, request: HttpRequest, answer: JsonAnswer) -> HttpResponse:
        return self.shaper.shape(endpoint, request, answer).to_response()

    # -- OAuth endpoints -----------------------------------------------------

    def _discovery(self, request: HttpRequest) -> HttpResponse:
        document = self.metadata()
        if self.config.split_discovery and request.path.endswith("/openid-configuration"):
            for key in SPLIT_DISCOVERY_KEYS:
                document.pop(key)
        return self._shaped("discovery", request, JsonAnswer(200, document))

    def metadata(self) -> dict[str, Any]:
        """RFC 8414 / OpenID discovery document."""
        auth_methods = ["none", "client_secret_basic", "client_secret_post"]
        device = self.config.device_grant
        metadata: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "device_authorization_endpoint": f"{self.issuer}/device_authorization",
            "token_endpoint": f"{self.issuer}/token",
            "revocation_endpoint": f"{self.issuer}/revoke",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "grant_types_supported": [DEVICE_CODE_GRANT_TYPE] * device
            + ["authorization_code", "refresh_token"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "claims_supported": ["sub", "email", "name"],
        }
        if not device:
            del metadata["device_authorization_endpoint"]
        return metadata

    def _device_authorization(self, request: HttpRequest) -> HttpResponse:
        if not self.config.device_grant:
            return self._shaped("device_authorization", request, _device_grant_off())
        with self.state.lock:
            answer = strict_refusal(request) or self.oauth.endpoint_answer(
                "device_authorization", request
            )
        return self._shaped("device_authorization", request, answer)

    def _token(self, request: HttpRequest) -> HttpResponse:
        # One token request at a time: rotation must be atomic, so that of two
        # racing refreshes with the same token exactly one wins.
        if not self.config.device_grant and request.form.get("grant_type") == (
                DEVICE_CODE_GRANT_TYPE):
            return self._shaped("token", request, _device_grant_off())
        with self.state.lock:
            answer = strict_refusal(request) or self.oauth.token_answer(request)
        return self._shaped("token", request, answer)

    def _revoke(self, request: HttpRequest) -> HttpResponse:
        with self.state.lock:
            answer = strict_refusal(request) or self.oauth.endpoint_answer("revocation", request)
        return self._shaped("revoke", request, answer)

    def _userinfo_claims(self, request: HttpRequest) -> HttpResponse:
        try:
            with self.state.lock:
                token = self._userinfo.validate_request(None, request)
                answer = JsonAnswer(200, token.get_user().claims())
        except (MissingAuthorizationError, UnsupportedTokenTypeError):
            answer = _bearer_required()
        except OAuth2Error as error:
            answer = JsonAnswer(*error())
        return self._shaped("userinfo", request, answer)

    # -- the user's side of the device flow ---------------------------------

    def _device_page(self, request: HttpRequest) -> HttpResponse:
        page = device_page(request.query.get("user_code", ""), self.state.user.email)
        return html_response(200, page)

    def _device_decision(self, request: HttpRequest) -> HttpResponse:
        form = request.form
        user_code = form.get("user_code", "")
        action = form.get("action")
        if action not in ("approve", "deny"):
            page = device_page(user_code, self.state.user.email, "Choose Approve or Deny.")
            return html_response(400, page, outcome="invalid_request")
        try:
            self.state.decide(user_code, approve=action == "approve")
        except UserCodeError as error:
            page = device_page(user_code, self.state.user.email, str(error).capitalize() + ".")
            return html_response(USER_CODE_ERROR_STATUS[error.reason], page, outcome=error.reason)
        outcome = "approved" if action == "approve" else "denied"
        return html_response(200, result_page(action == "approve"), outcome=outcome)


    # -- the user's side of the authorization code flow ---------------------

    def _authorize_page(self, request: HttpRequest) -> HttpResponse:
        with self.state.lock:
            problem = self.oauth.consent_check(request)
            if problem is None and self.config.auto_approve:
                return self._redirect(self.oauth.authorize_answer(request, approve=True))
        if problem is not None:
            return self._redirect(problem)
        page = consent_page(request.query, self.state.user.email)
        return html_response(200, page)

    def _authorize_decision(self, request: HttpRequest) -> HttpResponse:
        action = request.form.get("action")
        if action not in ("approve", "deny"):
            page = consent_page(request.form, self.state.user.email, "Choose Approve or Deny.")
            return html_response(400, page, outcome="invalid_request")
        with self.state.lock:
            answer = self.oauth.authorize_answer(request, approve=action == "approve")
        return self._redirect(answer)

    def _redirect(self, answer: JsonAnswer) -> HttpResponse:
        """Authlib's answer as a browser sees it: a redirect carrying ``iss``, or a page."""
        location = next((v for k, v in answer.headers if k.lower() == "location"), None)
        if location is None:
            # No trustworthy redirect URI (unknown client, bad redirect_uri): tell the
            # user on the page, never redirect (RFC 6749 §4.1.2.1).
            detail = str(answer.payload.get("error_description") or answer.outcome)
            return html_response(answer.status, error_page(answer.status, detail),
                                 outcome=answer.outcome)
        # RFC 9207: every authorization response names the issuer (mix-up defence).
        location = add_params_to_uri(location, [("iss", self.issuer)])
        outcome = "approved" if "code=" in location else "redirect_error"
        return HttpResponse(302, b"", [("Location", location), ("Cache-Control", "no-store")],
                            outcome)


def _device_grant_off() -> JsonAnswer:
    return JsonAnswer(400, {"error": "unauthorized_client",
                            "error_description": "the device grant is turned off at this "
                            "server (--no-device-grant)"})


def _bearer_required() -> JsonAnswer:
    # RFC 6750 3.1: a request without credentials gets a bare challenge, no error code.
    answer = JsonAnswer(
        401,
        {"error": "missing_authorization", "error_description": "a Bearer token is required"},
    )
    answer.headers.append(("WWW-Authenticate", "Bearer"))
    return answer
