"""What ``tokenwarden token --format F`` prints; light imports, the fast path uses it too.

- ``token``: the access token and a newline (``apiKeyHelper``, scripts).
- ``json``: token, type, expiry and scopes.
- ``header-json``: ``{"Authorization": "Bearer …"}``, the stdout an MCP
  ``headersHelper`` must give.
- ``exec-credential``: a ``client.authentication.k8s.io/v1`` ``ExecCredential`` for
  kubectl's exec credential plugins.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from tokenwarden.clock import utc_iso

FORMATS = ("token", "json", "header-json", "exec-credential")
EXEC_CREDENTIAL_API = "client.authentication.k8s.io/v1"
#: kubectl asks again this long before the token expires, at most (see ``ask_again_at``).
MAX_EXPIRY_MARGIN = timedelta(seconds=60)


def render(fmt: str, *, access_token: str, token_type: str, expires_at: datetime | None,
           scopes: Sequence[str], now: datetime) -> str:
    """The text to print for ``fmt``, newline-terminated."""
    if fmt == "json":
        body: object = {
            "accessToken": access_token,
            "tokenType": token_type,
            "expiresAt": utc_iso(expires_at),
            "scopes": list(scopes),
        }
    elif fmt == "header-json":
        body = {"Authorization": f"Bearer {access_token}"}
    elif fmt == "exec-credential":
        status: dict[str, str] = {"token": access_token}
        ask_again = ask_again_at(expires_at, now)
        if ask_again is not None:
            status["expirationTimestamp"] = ask_again
        body = {"apiVersion": EXEC_CREDENTIAL_API, "kind": "ExecCredential", "spec": {},
                "status": status}
    else:
        return access_token + "\n"
    return json.dumps(body) + "\n"


def ask_again_at(expires_at: datetime | None, now: datetime) -> str | None:
    """The ``expirationTimestamp`` to give kubectl: a little before the real expiry.

    kubectl keeps using a credential until this moment and does not retry a request
    that got 401, so it must ask again before the token dies in flight: a quarter of
    the time left, at most a minute. The timestamp has whole seconds, rounded down.
    """
    if expires_at is None:
        return None
    margin = min(MAX_EXPIRY_MARGIN, max(timedelta(0), expires_at - now) / 4)
    return utc_iso(expires_at - margin)
