"""The ``/_admin`` API tests drive the server with: faults, approvals, revocation, stats.

It has no authentication: this is a development server that binds loopback only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .faults import Fault, FaultQueue
from .state import DevState, UserCodeError
from .stats import Stats
from .wire import HttpRequest, HttpResponse, error_response, json_response

ADMIN_PREFIX = "/_admin/"

#: HTTP status for each reason a user code cannot be decided.
USER_CODE_ERROR_STATUS = {"unknown": 404, "used": 409, "decided": 409, "expired": 410}

Handler = Callable[[HttpRequest], HttpResponse]


class AdminApi:
    """Routes ``/_admin/*`` requests."""

    def __init__(self, *, state: DevState, stats: Stats, faults: FaultQueue) -> None:
        self._state = state
        self._stats = stats
        self._faults = faults
        self._routes: dict[tuple[str, str], Handler] = {
            ("POST", "faults"): self._add_fault,
            ("GET", "faults"): lambda _: json_response(200, {"faults": faults.pending()}),
            ("DELETE", "faults"): lambda _: json_response(200, {"cleared": faults.clear()}),
            ("POST", "approve"): lambda request: self._decide(request, approve=True),
            ("POST", "deny"): lambda request: self._decide(request, approve=False),
            ("POST", "revoke_all"): self._revoke_all,
            ("POST", "expire_access_tokens"): self._expire_access_tokens,
            ("GET", "stats"): lambda _: json_response(200, stats.snapshot()),
            ("POST", "reset_stats"): self._reset_stats,
            ("GET", "events"): lambda _: json_response(200, {"events": stats.events()}),
        }

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one admin request."""
        name = request.path.removeprefix(ADMIN_PREFIX)
        handler = self._routes.get((request.method, name))
        if handler is not None:
            return handler(request)
        allowed = sorted(method for method, route in self._routes if route == name)
        if not allowed:
            return error_response(404, "not_found", f"no admin endpoint {request.path}")
        response = error_response(405, "method_not_allowed", "method not allowed")
        response.headers.append(("Allow", ", ".join(allowed)))
        return response

    def _add_fault(self, request: HttpRequest) -> HttpResponse:
        try:
            fault = Fault.from_json(_json_object(request))
        except ValueError as error:
            return error_response(400, "invalid_request", str(error))
        self._faults.add(fault)
        return json_response(201, {"queued": fault.to_json()})

    def _decide(self, request: HttpRequest, *, approve: bool) -> HttpResponse:
        try:
            user_code = _json_object(request).get("user_code")
        except ValueError as error:
            return error_response(400, "invalid_request", str(error))
        if not isinstance(user_code, str):
            return error_response(400, "invalid_request", "user_code (a string) is required")
        try:
            credential = self._state.decide(user_code, approve=approve)
        except UserCodeError as error:
            status = USER_CODE_ERROR_STATUS[error.reason]
            return error_response(status, error.reason, str(error))
        return json_response(
            200, {"user_code": credential.user_code, "decision": credential.decision.value}
        )

    def _revoke_all(self, _: HttpRequest) -> HttpResponse:
        return json_response(200, {"grants_revoked": self._state.revoke_all()})

    def _expire_access_tokens(self, _: HttpRequest) -> HttpResponse:
        return json_response(200, {"expired": self._state.expire_access_tokens()})

    def _reset_stats(self, _: HttpRequest) -> HttpResponse:
        self._stats.reset()
        return json_response(200, {"reset": True})


def _json_object(request: HttpRequest) -> dict[str, Any]:
    try:
        data = request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data
