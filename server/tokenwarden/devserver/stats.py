"""Counters and a bounded event log, so tests can assert on what the server saw.

Events name the endpoint, grant type and outcome of a request, never a token
value: the log is safe to print in a failing test.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any

from .faults import PASS_THROUGH_FAULTS
from .models import DEVICE_CODE_GRANT_TYPE

MAX_EVENTS = 1000

#: Token endpoint outcomes that have their own counter.
_TOKEN_OUTCOMES = frozenset(
    {
        "invalid_grant",
        "invalid_client",
        "slow_down",
        "authorization_pending",
        "access_denied",
        "expired_token",
    }
)
_SCALAR_COUNTERS = (
    "device_authorizations",
    "device_code_ok",
    "refresh_ok",
    "invalid_grant",
    "invalid_client",
    "reuse_detected",
    "grants_revoked",
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
    "revocations",
    "userinfo_ok",
    "userinfo_rejected",
)


@dataclass(frozen=True)
class Event:
    """One request as the server saw it."""

    time: str
    endpoint: str
    grant_type: str | None
    outcome: str
    request_id: str
    status: int | None
    fault: str | None
    #: Names of the url-encoded body's parameters in the order sent, repeats kept
    #: (never their values), so a test can check what a client put in its body.
    parameters: tuple[str, ...] = ()
    #: Scheme of the ``Authorization`` header (``Basic``, ``Bearer``), if one was sent.
    authorization: str | None = None


def short_grant_type(grant_type: str | None) -> str | None:
    """``device_code`` for the RFC 8628 URN, anything else unchanged."""
    return "device_code" if grant_type == DEVICE_CODE_GRANT_TYPE else grant_type


class Stats:
    """Thread-safe counters plus the most recent events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: Counter[str] = Counter()
        self._token_requests: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._events: deque[Event] = deque(maxlen=MAX_EVENTS)

    def incr(self, name: str, amount: int = 1) -> None:
        """Add to a named counter."""
        with self._lock:
            self._counters[name] += amount

    def record(self, event: Event) -> None:
        """Log one request and update the counters its outcome implies."""
        with self._lock:
            self._events.append(event)
            if event.endpoint == "token":
                self._token_requests[event.grant_type or "missing"] += 1
            if event.fault is not None:
                self._faults[event.fault] += 1
            for name in _counters_for(event):
                self._counters[name] += 1

    def snapshot(self) -> dict[str, Any]:
        """All counters as plain JSON-ready data."""
        with self._lock:
            data: dict[str, Any] = {name: self._counters[name] for name in _SCALAR_COUNTERS}
            data.update(self._counters)
            data["token_requests"] = dict(self._token_requests)
            data["faults_applied"] = dict(self._faults)
            return data

    def events(self) -> list[dict[str, Any]]:
        """The event log, oldest first."""
        with self._lock:
            return [asdict(event) for event in self._events]

    def reset(self) -> None:
        """Zero every counter and clear the event log."""
        with self._lock:
            self._counters.clear()
            self._token_requests.clear()
            self._faults.clear()
            self._events.clear()


def _counters_for(event: Event) -> list[str]:
    """Names of the counters one request bumps."""
    if event.fault is not None and event.fault not in PASS_THROUGH_FAULTS:
        return []  # an injected answer: the server logic never ran
    ok = event.outcome == "ok"
    if event.endpoint == "device_authorization":
        return ["device_authorizations"] if ok else []
    if event.endpoint == "revoke":
        return ["revocations"] if ok else []
    if event.endpoint == "userinfo":
        return ["userinfo_ok" if ok else "userinfo_rejected"]
    if event.endpoint != "token":
        return []
    if ok:
        return ["device_code_ok"] if event.grant_type == "device_code" else ["refresh_ok"]
    return [event.outcome] if event.outcome in _TOKEN_OUTCOMES else []
