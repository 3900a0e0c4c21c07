"""Browser sign-in: authorization code + PKCE (S256) with a loopback redirect.

RFC 8252 (native apps) and RFC 9700 (security BCP) as they apply here: each attempt
gets its own listener on an ephemeral loopback port, its own ``state`` and PKCE
verifier; a redirect whose ``state`` is not this attempt's is answered and ignored
(it cannot end the sign-in, so nothing else on the machine can cut it short); ``iss``
is compared with the issuer when the provider sends it and required when its metadata
promises it (RFC 9207, the mix-up defence); the code is exchanged once, and the
listener closes before the exchange ends, so a replayed redirect reaches nobody.
The browser's tab stays open on its request until the outcome is known, then shows
whether the user can close it or what failed. Only the OAuth ``error`` code of a
redirect is ever logged: its query holds the authorization code.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tokenwarden.errors import LoginFailed, OAuthError
from tokenwarden.loopback import Callback, Page, RedirectListener
from tokenwarden.status import humanize
from tokenwarden.untrusted import printable

if TYPE_CHECKING:
    from tokenwarden.oauth import AuthorizationRequest, Endpoints, OAuthClient, TokenResponse

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 300.0
#: Redirect errors that mean "this client may not use this flow" (auto falls back).
FLOW_REFUSED_ERRORS = frozenset({"unauthorized_client", "unsupported_response_type",
                                 "unsupported_grant_type"})
REASONS = {
    "access_denied": "the sign-in was denied at the provider",
    "invalid_request": "the provider rejected the sign-in request",
    "unauthorized_client": "this client may not sign in through the browser at this provider",
    "unsupported_response_type": "the provider does not offer browser sign-in to this client",
    "invalid_scope": "the provider refused the requested scopes",
    "server_error": "the provider failed while signing in",
    "temporarily_unavailable": "the provider is temporarily unavailable",
}


@dataclass(frozen=True)
class BrowserAuthorization:
    """A browser sign-in waiting for its redirect: the URL the user opens."""

    authorization_uri: str
    redirect_uri: str
    expires_in: float


@dataclass(frozen=True)
class Verdict:
    """What one redirect means for the attempt it reached."""

    code: str | None = field(default=None, repr=False)
    error: str | None = None
    message: str = ""
    #: Not this attempt's redirect (wrong state): answer it and keep waiting.
    stale: bool = False


def judge_redirect(params: Mapping[str, str], *, state: str, issuer: str,
                   iss_required: bool) -> Verdict:
    """Check a redirect's ``state``, ``iss``, ``error`` and ``code`` (pure)."""
    if not hmac.compare_digest(params.get("state", "").encode(), state.encode()):
        return Verdict(stale=True, error="state_mismatch",
                       message="this redirect does not belong to the sign-in in progress")
    iss = params.get("iss")
    if iss is not None and iss.rstrip("/") != issuer.rstrip("/"):
        return Verdict(error="iss_mismatch", message=(
            f"the answer came from issuer '{printable(iss, 100)}', not from the configured "
            f"'{issuer}' (RFC 9207): sign-in stopped"))
    if iss is None and iss_required:
        return Verdict(error="iss_missing", message=(
            "the provider promises an 'iss' in its answer and this one had none (RFC 9207): "
            "sign-in stopped"))
    error = params.get("error")
    if error:
        code = printable(error, 60)
        reason = REASONS.get(code, f"the provider answered {code}")
        description = printable(params.get("error_description", ""), 200)
        return Verdict(error=code, message=f"{reason}" + (f" ({description})" if description
                                                          else ""))
    found = params.get("code")
    if not found:
        return Verdict(error="invalid_request",
                       message="the provider's answer carries neither a code nor an error")
    return Verdict(code=found)


def nonce_matches(response: TokenResponse, request: AuthorizationRequest) -> bool:
    """False when the ID token names another nonce than the request sent (OIDC §3.1.3.7)."""
    from tokenwarden.jwt import unverified_claims

    if request.nonce is None or response.id_token is None:
        return True
    claims = unverified_claims(response.id_token) or {}
    return claims.get("nonce") in (None, request.nonce)


def success_page(profile: str) -> Page:
    """Shown once the tokens are stored."""
    return Page(200, "Signed in", f"tokenwarden signed in profile '{profile}'. You can close "
                "this tab and go back to your editor or terminal.")


def failure_page(message: str) -> Page:
    """Shown when the sign-in ended without tokens."""
    return Page(400, "Sign-in failed", f"{message}. You can close this tab and start the "
                "sign-in again from your editor or terminal.")


class BrowserSignIn:
    """One attempt: the listener is open and the URL built; ``complete`` does the rest."""

    def __init__(self, client: OAuthClient, endpoints: Endpoints, listener: RedirectListener,
                 request: AuthorizationRequest, timeout: float) -> None:
        self._client = client
        self._endpoints = endpoints
        self._listener = listener
        self._request = request
        self.timeout = timeout
        self.authorization = BrowserAuthorization(
            authorization_uri=request.authorization_uri,
            redirect_uri=request.redirect_uri,
            expires_in=timeout,
        )

    @classmethod
    async def begin(cls, client: OAuthClient, *, wait_seconds: float = DEFAULT_TIMEOUT_SECONDS,
                    host: str | None = None, port: int = 0) -> BrowserSignIn:
        """Open the listener and build the authorization URL (nothing is sent yet)."""
        endpoints = await client.endpoints()
        listener = await RedirectListener.open(host, port)
        try:
            request = await client.authorization_request(listener.redirect_uri)
        except BaseException:
            await listener.close()
            raise
        return cls(client, endpoints, listener, request, wait_seconds)

    async def complete(self) -> TokenResponse:
        """Wait for the redirect, exchange its code once; LoginFailed when that fails."""
        profile = self._client.profile.name
        try:
            code, callback = await self._receive_code()
            # The listener closes before the exchange: a replayed redirect finds no one.
            await self._listener.close(keep_taken=True)
            try:
                response = await self._client.exchange_code(code, self._request)
            except OAuthError as exc:
                reason = exc.details.error or exc.code
                callback.answer(failure_page(f"the provider refused the code ({reason})"))
                raise LoginFailed(f"sign-in failed: {exc.message}", reason=reason) from None
            if not nonce_matches(response, self._request):
                callback.answer(failure_page("the ID token was not issued for this sign-in"))
                raise LoginFailed("sign-in failed: the ID token's nonce is not the one this "
                                  "sign-in sent", reason="nonce_mismatch")
            callback.answer(success_page(profile))
            return response
        finally:
            await self._listener.close()

    def abort(self) -> None:
        """Stop listening at once (the wait for the redirect never started)."""
        self._listener.abort()

    async def _receive_code(self) -> tuple[str, Callback]:
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    callback = await self._listener.next_callback()
                    verdict = judge_redirect(
                        callback.params, state=self._request.state,
                        issuer=self._endpoints.issuer,
                        iss_required=self._endpoints.iss_in_authorization_response,
                    )
                    if verdict.code is not None:
                        return verdict.code, callback
                    log.info("sign-in redirect of profile %s: %s%s", self._client.profile.name,
                             verdict.error, " (ignored)" if verdict.stale else "")
                    callback.answer(failure_page(verdict.message[:1].upper() + verdict.message[1:]))
                    if not verdict.stale:
                        raise LoginFailed(f"sign-in failed: {verdict.message}",
                                          reason=verdict.error or "invalid_request")
        except TimeoutError:
            raise LoginFailed(
                f"no answer came back from the browser within {humanize(self.timeout)}; "
                "start the sign-in again", reason="timeout") from None
