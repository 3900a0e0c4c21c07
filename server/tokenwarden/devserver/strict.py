"""What a strict authorization server refuses before any grant runs (RFC 6749 §2.3, §3.1).

authlib's server reads a body into a dict, so a repeated parameter silently wins or
loses; servers like oidc-provider and Glewlwyd refuse it (or misread it as
``a,a``). The dev server refuses the same requests, so tokenwarden's own tests
catch a client that sends a parameter twice or its credentials two ways.
"""

from __future__ import annotations

from collections import Counter

from authlib.oauth2.rfc6749.util import extract_basic_authorization

from .wire import HttpRequest, JsonAnswer

#: Body fields that carry client credentials (RFC 6749 §2.3.1, RFC 7523 §2.2).
BODY_CREDENTIALS = ("client_secret", "client_assertion")


def strict_refusal(request: HttpRequest) -> JsonAnswer | None:
    """An ``invalid_request`` answer for a request a strict server refuses, else None."""
    names = [name for name, _ in request.form_items] + list(request.query)
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        return _invalid_request(
            f"'{repeated[0][:64]}' parameter must not be provided twice (RFC 6749 §3.1)"
        )
    basic_id, _secret = extract_basic_authorization(request.headers)
    if not basic_id:
        return None
    form = request.form
    if any(form.get(name) for name in BODY_CREDENTIALS):
        return _invalid_request(
            "client credentials presented by more than one method (HTTP Basic and the body)"
            " (RFC 6749 §2.3)"
        )
    body_id = form.get("client_id")
    if body_id is not None and body_id != basic_id:
        return _invalid_request(
            "the client_id in the body differs from the client authenticated by HTTP Basic"
        )
    return None


def _invalid_request(description: str) -> JsonAnswer:
    return JsonAnswer(400, {"error": "invalid_request", "error_description": description})
