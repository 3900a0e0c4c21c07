"""The proxy's own answers: JSON bodies that tell the person at the terminal what to do."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    """A complete response the proxy makes up itself (never contains a token)."""

    status: int
    reason: str
    error: str
    message: str
    retry_after: float | None = None
    www_authenticate: bool = False

    @property
    def body(self) -> bytes:
        """The JSON body."""
        return json.dumps({"error": self.error, "message": self.message}).encode()

    def headers(self, *, keep_alive: bool) -> list[tuple[str, str]]:
        """The answer's headers (the body's length included)."""
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(self.body))),
            ("Cache-Control", "no-store"),
            ("Connection", "keep-alive" if keep_alive else "close"),
        ]
        if self.www_authenticate:
            headers.append(("WWW-Authenticate", 'Bearer realm="tokenwarden-proxy"'))
        if self.retry_after is not None:
            headers.append(("Retry-After", str(max(1, round(self.retry_after)))))
        return headers


def _login_command(profile: str | None) -> str:
    return "tokenwarden login" + (f" --profile {profile}" if profile not in (None, "default")
                                  else "")


def secret_required() -> Reply:
    """The client did not present the proxy's per-run secret."""
    return Reply(
        401, "Unauthorized", "tokenwarden_proxy_secret_required",
        "this tokenwarden proxy needs its local secret: send it as 'Authorization: Bearer "
        "<secret>' or 'x-api-key: <secret>' (it is in the secret file 'tokenwarden proxy' "
        "names at start, or the value given with --secret-file or $TOKENWARDEN_PROXY_SECRET)",
        www_authenticate=True,
    )


def sign_in_required(profile: str | None, detail: str) -> Reply:
    """No usable session: a person must sign in again."""
    return Reply(
        401, "Unauthorized", "tokenwarden_sign_in_required",
        f"{detail}; run {_login_command(profile)} and retry (the proxy keeps running)",
    )


def unavailable(detail: str, retry_after: float) -> Reply:
    """Renewal is failing for now; the client may retry later."""
    return Reply(
        503, "Service Unavailable", "tokenwarden_temporarily_unavailable",
        f"no valid token right now: {detail}; retry shortly", retry_after=retry_after,
    )


def failed(detail: str) -> Reply:
    """The token cannot be had for a non-transient reason (store or configuration)."""
    return Reply(500, "Internal Server Error", "tokenwarden_error",
                 f"{detail}; see 'tokenwarden doctor'")


def bad_gateway(detail: str) -> Reply:
    """The upstream could not be reached or broke off its answer before the head."""
    return Reply(502, "Bad Gateway", "tokenwarden_upstream_unreachable",
                 f"the upstream did not answer: {detail}")


def gateway_timeout(seconds: float) -> Reply:
    """The upstream did not start its answer in time."""
    return Reply(504, "Gateway Timeout", "tokenwarden_upstream_timeout",
                 f"the upstream did not start its answer within {seconds:g} s "
                 "(tokenwarden proxy --upstream-timeout)")


def bad_request(detail: str) -> Reply:
    """The client's request could not be parsed."""
    return Reply(400, "Bad Request", "tokenwarden_bad_request", detail)
