"""The wire contract of protocol v1 (docs/protocol.md), written once.

Every custom method, command, error code and payload of the server lives here:
parsers turn a client's JSON into typed requests (``ProtocolError`` with
``INVALID_PARAMS`` when it does not fit) and builders turn core objects into the
JSON a client reads. Pure Python: no pygls, so it is testable on its own, and
``vscode-client/src/common/protocol.ts`` mirrors it on the other side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tokenwarden.clock import utc_iso
from tokenwarden.errors import (
    ConfigError,
    SignInRequired,
    TemporarilyUnavailable,
    TokenwardenError,
)

if TYPE_CHECKING:
    from datetime import datetime

    from tokenwarden.browserflow import BrowserAuthorization
    from tokenwarden.oauth import DeviceAuthorization
    from tokenwarden.session import IssuedToken
    from tokenwarden.status import LoginInfo, Status

PROTOCOL_VERSION = 1
SETTINGS_SECTION = "tokenwarden"

# Requests and notifications.
GET_TOKEN = "tokenwarden/getToken"  # noqa: S105 - a method name, not a secret
TOKEN_REJECTED = "tokenwarden/tokenRejected"  # noqa: S105 - a method name
DID_CHANGE_STATUS = "tokenwarden/didChangeStatus"

# Commands (workspace/executeCommand, one optional object argument).
LOGIN = "tokenwarden.login"
CANCEL_LOGIN = "tokenwarden.cancelLogin"
LOGOUT = "tokenwarden.logout"
REFRESH = "tokenwarden.refresh"
STATUS = "tokenwarden.status"
COMMANDS = (LOGIN, CANCEL_LOGIN, LOGOUT, REFRESH, STATUS)

# JSON-RPC error codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SIGN_IN_REQUIRED = -32001
TEMPORARILY_UNAVAILABLE = -32002
REQUEST_FAILED = -32803
"""LSP's RequestFailed: well-formed, but the provider refused (e.g. invalid_client)."""

# Actions of the window/showMessageRequest before a session ends.
SIGN_IN_ACTION = "Sign in"
LATER_ACTION = "Later"

#: ``flow`` of tokenwarden.login (as the profile key of the same name).
LOGIN_FLOWS = ("auto", "browser", "device")

DEFAULT_MIN_VALIDITY_SECONDS = 60.0
DEFAULT_RETRY_AFTER_SECONDS = 5.0


def experimental_capabilities() -> dict[str, Any]:
    """``ServerCapabilities.experimental``: how a client recognises protocol v1."""
    return {"tokenwarden": {"protocolVersion": PROTOCOL_VERSION}}


class ProtocolError(Exception):
    """A JSON-RPC error to answer with: code, message and optional data."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def invalid_params(message: str) -> ProtocolError:
    """The -32602 error for a payload that does not fit the contract."""
    return ProtocolError(INVALID_PARAMS, message)


def error_for(exc: TokenwardenError) -> ProtocolError:
    """The JSON-RPC error a core error becomes on the wire."""
    if isinstance(exc, SignInRequired):
        return ProtocolError(SIGN_IN_REQUIRED, exc.message,
                             {"profile": exc.profile, "state": exc.state})
    if isinstance(exc, TemporarilyUnavailable):
        return temporarily_unavailable(exc.message, exc.retry_after)
    if isinstance(exc, ConfigError):
        return invalid_params(exc.message)
    if exc.retryable:
        retry_after = getattr(exc, "retry_after", None)
        return temporarily_unavailable(exc.message, retry_after)
    return ProtocolError(REQUEST_FAILED, exc.message, {"code": exc.code})


def temporarily_unavailable(message: str, retry_after: float | None) -> ProtocolError:
    """-32002 with ``retryAfterSeconds`` (at least 0, rounded to milliseconds)."""
    seconds = DEFAULT_RETRY_AFTER_SECONDS if retry_after is None else max(0.0, retry_after)
    return ProtocolError(TEMPORARILY_UNAVAILABLE, message,
                         {"retryAfterSeconds": round(seconds, 3)})


# ------------------------------------------------------------------ requests


@dataclass(frozen=True)
class ProfileRequest:
    """``{profile?}``: status, refresh and cancelLogin."""

    profile: str | None = None


@dataclass(frozen=True)
class LoginRequest:
    """``tokenwarden.login {profile?, openBrowser?, force?, flow?}``."""

    profile: str | None = None
    open_browser: bool | None = None
    force: bool = False
    flow: str | None = None


@dataclass(frozen=True)
class LogoutRequest:
    """``tokenwarden.logout {profile?, revoke?=true}``."""

    profile: str | None = None
    revoke: bool = True


@dataclass(frozen=True)
class GetTokenRequest:
    """``tokenwarden/getToken {profile?, minValiditySeconds?=60, interactive?=false}``."""

    profile: str | None = None
    min_validity_seconds: float = DEFAULT_MIN_VALIDITY_SECONDS
    interactive: bool = False


@dataclass(frozen=True)
class TokenRejectedRequest:
    """``tokenwarden/tokenRejected {profile?, accessToken}``."""

    access_token: str
    profile: str | None = None

    def __repr__(self) -> str:  # the token never reaches a log line
        return f"TokenRejectedRequest(profile={self.profile!r}, access_token=<redacted>)"


def command_argument(arguments: Sequence[Any] | None) -> Mapping[str, Any]:
    """The one optional object argument of a command (``[]``, ``[null]`` or ``[{…}]``)."""
    if not arguments:
        return {}
    if len(arguments) > 1:
        raise invalid_params(f"expected at most one argument, got {len(arguments)}")
    return _object(arguments[0])


def parse_profile_request(raw: Any) -> ProfileRequest:
    """``{profile?}``."""
    params = _object(raw)
    return ProfileRequest(profile=_profile(params))


def parse_login(raw: Any) -> LoginRequest:
    """``{profile?, openBrowser?, force?, flow?}``."""
    params = _object(raw)
    flow = params.get("flow")
    if flow is not None and flow not in LOGIN_FLOWS:
        raise invalid_params(f"flow must be one of {', '.join(LOGIN_FLOWS)}, not "
                             f"{flow!r}" if isinstance(flow, str) else
                             f"flow must be a string, not {_json_type(flow)}")
    return LoginRequest(
        profile=_profile(params),
        open_browser=_bool(params, "openBrowser", None),
        force=bool(_bool(params, "force", False)),
        flow=flow,
    )


def parse_logout(raw: Any) -> LogoutRequest:
    """``{profile?, revoke?}``."""
    params = _object(raw)
    return LogoutRequest(profile=_profile(params), revoke=bool(_bool(params, "revoke", True)))


def parse_get_token(raw: Any) -> GetTokenRequest:
    """``{profile?, minValiditySeconds?, interactive?}``."""
    params = _object(raw)
    return GetTokenRequest(
        profile=_profile(params),
        min_validity_seconds=_seconds(params, "minValiditySeconds",
                                      DEFAULT_MIN_VALIDITY_SECONDS),
        interactive=bool(_bool(params, "interactive", False)),
    )


def parse_token_rejected(raw: Any) -> TokenRejectedRequest:
    """``{profile?, accessToken}``."""
    params = _object(raw)
    token = params.get("accessToken")
    if not isinstance(token, str) or not token:
        raise invalid_params("accessToken must be the non-empty access token that was rejected")
    return TokenRejectedRequest(access_token=token, profile=_profile(params))


def _object(raw: Any) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise invalid_params(f"params must be an object, not {_json_type(raw)}")
    return raw


def _profile(params: Mapping[str, Any]) -> str | None:
    value = params.get("profile")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise invalid_params("profile must be a non-empty string")
    return value


def _bool(params: Mapping[str, Any], key: str, default: bool | None) -> bool | None:
    value = params.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid_params(f"{key} must be true or false, not {_json_type(value)}")
    return value


def _seconds(params: Mapping[str, Any], key: str, default: float) -> float:
    value = params.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_params(f"{key} must be a number of seconds, not {_json_type(value)}")
    try:
        seconds = float(value)
    except OverflowError:
        raise invalid_params(f"{key} is too large") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise invalid_params(f"{key} must be a finite number ≥ 0")
    return seconds


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    return "an object" if isinstance(value, Mapping) else type(value).__name__


# ------------------------------------------------------------------ results


def token_result(issued: IssuedToken) -> dict[str, Any]:
    """``{accessToken, tokenType, expiresAt, scopes}`` of getToken and tokenRejected."""
    return {
        "accessToken": issued.access_token,
        "tokenType": issued.token_type,
        "expiresAt": utc_iso(issued.expires_at),
        "scopes": list(issued.scopes),
    }


def login_started(profile: str,
                  authorization: DeviceAuthorization | BrowserAuthorization) -> dict[str, Any]:
    """The result of ``tokenwarden.login`` when a sign-in began (never the device code)."""
    from tokenwarden.browserflow import BrowserAuthorization

    if isinstance(authorization, BrowserAuthorization):
        return {
            "profile": profile,
            "flow": "browser",
            "authorizationUri": authorization.authorization_uri,
            "expiresIn": authorization.expires_in,
        }
    return {
        "profile": profile,
        "flow": "device",
        "userCode": authorization.user_code,
        "verificationUri": authorization.verification_uri,
        "verificationUriComplete": authorization.verification_uri_complete,
        "expiresIn": authorization.expires_in,
        "interval": authorization.interval,
    }


def login_joined(profile: str, login: LoginInfo, now: datetime) -> dict[str, Any]:
    """The result of ``tokenwarden.login`` that joined a sign-in already in progress."""
    left = max(0.0, round((login.expires_at - now).total_seconds(), 3))
    if login.authorization_uri is not None:
        return {"profile": profile, "flow": "browser", "authorizationUri": login.authorization_uri,
                "expiresIn": left, "joined": True}
    return {
        "profile": profile,
        "flow": "device",
        "userCode": login.user_code,
        "verificationUri": login.verification_uri,
        "verificationUriComplete": login.verification_uri_complete,
        "expiresIn": left,
        "interval": login.interval,
        "joined": True,
    }


def cancel_result(cancelled: bool) -> dict[str, Any]:
    """The result of ``tokenwarden.cancelLogin``."""
    return {"cancelled": cancelled}


def status_payload(status: Status) -> dict[str, Any]:
    """The status object of every status-bearing reply and of didChangeStatus."""
    return status.to_wire()
