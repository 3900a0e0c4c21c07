"""Fault injection: queued misbehaviours applied to the next matching requests.

A fault either *replaces* the answer (the request never reaches the OAuth logic),
*delays* it, or breaks the *connection*; ``lost_answer`` is the one kind that
lets the server do all its work (rotate a refresh token, say) and then loses
the reply. The socket-level kinds are carried out by the HTTP layer; this module
decides which fault applies and builds the canned answers.
"""

from __future__ import annotations

import enum
import json
import math
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from .models import DEVICE_CODE_GRANT_TYPE
from .pages import error_page
from .wire import JSON_HEADERS, HttpResponse

_T = TypeVar("_T")

#: Endpoints a fault can name; ``*`` matches every one but discovery.
FAULT_ENDPOINTS = ("token", "device_authorization", "revoke", "userinfo", "discovery")
WILDCARD = "*"
_WILDCARD_ENDPOINTS = frozenset({"token", "device_authorization", "revoke", "userinfo"})


class FaultKind(enum.StrEnum):
    """What goes wrong."""

    STATUS = "status"
    RATE_LIMIT = "rate_limit"
    DELAY = "delay"
    DROP = "drop"
    RESET = "reset"
    LOST_ANSWER = "lost_answer"
    HTML = "html"
    TRUNCATED_JSON = "truncated_json"
    ERROR_200 = "error_200"
    GARBAGE = "garbage"
    EMPTY = "empty"


#: Kinds after which the request is still processed normally.
PASS_THROUGH_FAULTS = frozenset({FaultKind.DELAY.value, FaultKind.LOST_ANSWER.value})
#: Kinds the HTTP layer carries out on the socket.
CONNECTION_FAULTS = frozenset({FaultKind.DROP, FaultKind.RESET, FaultKind.LOST_ANSWER})

_DEFAULT_STATUS = {
    FaultKind.STATUS: 500,
    FaultKind.RATE_LIMIT: 429,
    FaultKind.HTML: 502,
    FaultKind.EMPTY: 400,
}
_FIELDS = frozenset(
    {
        "endpoint",
        "kind",
        "count",
        "status",
        "retry_after",
        "delay",
        "grant_type",
        "error",
        "error_description",
    }
)


@dataclass(frozen=True)
class Fault:
    """One queued fault; ``count`` is how many matching requests it hits."""

    endpoint: str
    kind: FaultKind
    count: int = 1
    status: int | None = None
    retry_after: float | None = None
    delay: float | None = None
    grant_type: str | None = None
    error: str | None = None
    error_description: str | None = None

    def __post_init__(self) -> None:
        if self.endpoint != WILDCARD and self.endpoint not in FAULT_ENDPOINTS:
            raise ValueError(f"unknown endpoint {self.endpoint!r}")
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")
        for name in ("retry_after", "delay"):
            value = getattr(self, name)
            if value is not None and (value < 0 or not math.isfinite(value)):
                raise ValueError(f"{name} must be a non-negative number")
        if self.grant_type == "device_code":
            object.__setattr__(self, "grant_type", DEVICE_CODE_GRANT_TYPE)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Build from the admin API's JSON, rejecting unknown or mistyped fields."""
        unknown = set(data) - _FIELDS
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        try:
            kind = FaultKind(data.get("kind", ""))
        except ValueError:
            kinds = ", ".join(k.value for k in FaultKind)
            raise ValueError(f"kind must be one of: {kinds}") from None
        count = _typed(data, "count", int)
        return cls(
            endpoint=_typed(data, "endpoint", str) or WILDCARD,
            kind=kind,
            count=1 if count is None else count,
            status=_typed(data, "status", int),
            retry_after=_number(data, "retry_after"),
            delay=_number(data, "delay"),
            grant_type=_typed(data, "grant_type", str),
            error=_typed(data, "error", str),
            error_description=_typed(data, "error_description", str),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form, as the admin API lists it."""
        return {key: value for key, value in asdict(self).items() if value is not None}

    def matches(self, endpoint: str, grant_type: str | None) -> bool:
        """Whether this fault applies to a request to ``endpoint``."""
        if self.endpoint == WILDCARD:
            if endpoint not in _WILDCARD_ENDPOINTS:
                return False
        elif self.endpoint != endpoint:
            return False
        return self.grant_type is None or (endpoint == "token" and grant_type == self.grant_type)

    @property
    def delay_seconds(self) -> float:
        """How long a ``delay`` fault waits (one second unless given)."""
        return 1.0 if self.delay is None else self.delay

    def canned_response(self) -> HttpResponse | None:
        """The answer that replaces the real one, or None for delay and connection kinds."""
        builder = _CANNED.get(self.kind)
        if builder is None:
            return None
        response = builder(self)
        response.outcome = f"fault:{self.kind.value}"
        return response


class FaultQueue:
    """Faults waiting for requests, applied first-queued-first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[tuple[Fault, int]] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault for the next ``fault.count`` matching requests."""
        with self._lock:
            self._queue.append((fault, fault.count))

    def take(self, endpoint: str, grant_type: str | None) -> Fault | None:
        """The fault for this request, if any, using up one of its hits."""
        with self._lock:
            for index, (fault, remaining) in enumerate(self._queue):
                if fault.matches(endpoint, grant_type):
                    if remaining > 1:
                        self._queue[index] = (fault, remaining - 1)
                    else:
                        del self._queue[index]
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        """Queued faults with their remaining hits."""
        with self._lock:
            return [{**fault.to_json(), "remaining": left} for fault, left in self._queue]

    def clear(self) -> int:
        """Drop every queued fault; returns how many were dropped."""
        with self._lock:
            dropped = len(self._queue)
            self._queue.clear()
            return dropped


def _typed(data: Mapping[str, Any], key: str, kind: type[_T]) -> _T | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{key} must be a {kind.__name__}")
    return value


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number")
    return float(value)


def _status_of(fault: Fault) -> int:
    return fault.status or _DEFAULT_STATUS.get(fault.kind, 200)


def _retry_after_header(seconds: float) -> tuple[str, str]:
    # Retry-After takes whole seconds (RFC 9110 10.2.3): round up, never early.
    return ("Retry-After", str(math.ceil(seconds)))


def _json(status: int, payload: dict[str, Any]) -> HttpResponse:
    return HttpResponse(status, json.dumps(payload).encode(), list(JSON_HEADERS))


def _status_answer(fault: Fault) -> HttpResponse:
    status = _status_of(fault)
    default_error = "temporarily_unavailable" if status == 503 else "server_error"
    response = _json(
        status,
        {
            "error": fault.error or default_error,
            "error_description": fault.error_description or f"injected fault: HTTP {status}",
        },
    )
    if fault.retry_after is not None:
        response.headers.append(_retry_after_header(fault.retry_after))
    return response


def _rate_limit_answer(fault: Fault) -> HttpResponse:
    response = _json(
        _status_of(fault),
        {
            "error": fault.error or "rate_limited",
            "error_description": fault.error_description or "injected fault: too many requests",
        },
    )
    retry_after = 1.0 if fault.retry_after is None else fault.retry_after
    response.headers.append(_retry_after_header(retry_after))
    return response


def _html_answer(fault: Fault) -> HttpResponse:
    status = _status_of(fault)
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
    return HttpResponse(status, error_page(status).encode(), headers)


def _truncated_json_answer(fault: Fault) -> HttpResponse:
    # A token-shaped document cut in half; Content-Length matches what is sent,
    # so the HTTP exchange is complete and only the JSON is broken.
    whole = json.dumps(
        {
            "access_token": "injected-truncated-response",
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": "injected-truncated-response",
        }
    ).encode()
    return HttpResponse(_status_of(fault), whole[: len(whole) // 2], list(JSON_HEADERS))


def _error_200_answer(fault: Fault) -> HttpResponse:
    return _json(
        _status_of(fault),
        {
            "error": fault.error or "server_error",
            "error_description": fault.error_description or "injected fault: error in a 200",
        },
    )


def _garbage_answer(fault: Fault) -> HttpResponse:
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")]
    return HttpResponse(_status_of(fault), b"<<injected garbage: not JSON>>\n", headers)


def _empty_answer(fault: Fault) -> HttpResponse:
    # Glewlwyd answers every refused refresh like this: a status, no body, no type.
    return HttpResponse(_status_of(fault), b"", [("Cache-Control", "no-store")])


_CANNED = {
    FaultKind.STATUS: _status_answer,
    FaultKind.RATE_LIMIT: _rate_limit_answer,
    FaultKind.HTML: _html_answer,
    FaultKind.TRUNCATED_JSON: _truncated_json_answer,
    FaultKind.ERROR_200: _error_200_answer,
    FaultKind.GARBAGE: _garbage_answer,
    FaultKind.EMPTY: _empty_answer,
}
