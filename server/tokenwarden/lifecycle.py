"""How a profile's stored record reads and evolves: pure functions of (record, now).

The session manager decides *when* to act; these functions say what a record means
at a given moment (its session state, when the session ends) and what record a
token answer produces (rotation keeps the old refresh token when the provider sends
none, expiry counts from local time), and whether a stored grant still belongs to
the profile's provider settings (``binding_mismatch``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tokenwarden.clock import to_millisecond
from tokenwarden.config import Profile
from tokenwarden.policy import seconds_left
from tokenwarden.status import SessionState
from tokenwarden.store import TokenRecord

if TYPE_CHECKING:
    from tokenwarden.oauth import Endpoints, TokenResponse


def _same_url(a: str | None, b: str | None) -> bool:
    return (a or "").rstrip("/") == (b or "").rstrip("/")


def binding_mismatch(record: TokenRecord, profile: Profile,
                     endpoints: Endpoints | None = None) -> str | None:
    """The provider setting that differs from the one the grant was obtained with, or None.

    Without ``endpoints`` only what the profile states explicitly is compared, which
    costs nothing (the ``token`` fast path); with the resolved endpoints (discovery
    done, before anything is sent) the discovered ones are compared too. A record
    written before grant binding existed has no endpoints: only its issuer and
    client are compared, and the binding is filled at its next write.
    """
    if not _same_url(record.issuer, profile.issuer):
        return "issuer"
    if record.client_id and record.client_id != profile.client_id:
        return "client_id"
    if record.token_endpoint is None:
        return None
    token_endpoint = endpoints.token_endpoint if endpoints else profile.token_endpoint
    if token_endpoint and not _same_url(token_endpoint, record.token_endpoint):
        return "token_endpoint"
    revocation = endpoints.revocation_endpoint if endpoints else profile.revocation_endpoint
    if (endpoints is not None or revocation) and not _same_url(
        revocation, record.revocation_endpoint
    ):
        return "revocation_endpoint"
    return None


def settings_changed_message(profile: str) -> str:
    """What a profile whose stored grant no longer matches its settings reports."""
    return f"the provider settings of profile {profile} changed since sign-in: sign in again"


def bound(record: TokenRecord, profile: Profile, endpoints: Endpoints) -> TokenRecord:
    """``record`` with its binding filled where it has none (records from before binding)."""
    if record.token_endpoint is not None and record.client_id:
        return record
    return replace(
        record, client_id=record.client_id or profile.client_id,
        token_endpoint=record.token_endpoint or endpoints.token_endpoint,
        revocation_endpoint=record.revocation_endpoint if record.token_endpoint
        else endpoints.revocation_endpoint,
    )


def expired(record: TokenRecord, now: datetime) -> bool:
    """The access token's expiry has passed (a token without expiry never expires)."""
    left = seconds_left(record.times, now)
    return left is not None and left <= 0


def refresh_token_expired(record: TokenRecord, now: datetime) -> bool:
    """The refresh token's own absolute lifetime has passed."""
    return record.refresh_token_expires_at is not None and record.refresh_token_expires_at <= now


def is_refreshable(record: TokenRecord, now: datetime) -> bool:
    """A refresh token is there and still alive."""
    return bool(record.refresh_token) and not refresh_token_expired(record, now)


def session_state(record: TokenRecord | None, *, signing_in: bool, refreshing: bool,
                  now: datetime) -> SessionState:
    """The state surfaces show for a record and this process's activity."""
    if signing_in:
        return SessionState.SIGNING_IN
    if record is None or (not record.access_token and not record.refresh_token):
        return SessionState.SIGNED_OUT
    if refreshing:
        return SessionState.REFRESHING
    usable = record.usable_token is not None and not expired(record, now)
    if not usable and not is_refreshable(record, now):
        return SessionState.EXPIRED
    if record.failures > 0:
        return SessionState.DEGRADED
    return SessionState.SIGNED_IN


def session_end(record: TokenRecord, now: datetime) -> datetime | None:
    """When the session ends unless someone signs in: None while it renews silently."""
    if is_refreshable(record, now):
        if record.failures == 0 or record.expires_at is None:
            return record.refresh_token_expires_at
        if record.refresh_token_expires_at is not None:
            return min(record.expires_at, record.refresh_token_expires_at)
        return record.expires_at
    return record.expires_at if record.access_token else None


def expiry_of(response: TokenResponse, now: datetime) -> datetime | None:
    """Expiry from ``expires_in`` against local time; a JWT ``exp`` as fallback."""
    if response.expires_in is not None:
        return now + timedelta(seconds=response.expires_in)
    from tokenwarden.jwt import unverified_claims

    claims = unverified_claims(response.access_token) or {}
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        if isinstance(iat, int | float) and not isinstance(iat, bool) and exp > iat:
            return now + timedelta(seconds=exp - iat)  # lifetime, immune to clock skew
        return datetime.fromtimestamp(exp, tz=now.tzinfo)
    return None


def record_from_response(
    previous: TokenRecord | None, response: TokenResponse, now: datetime,
    *, account: str | None = None, profile: Profile | None = None,
    endpoints: Endpoints | None = None,
) -> TokenRecord:
    """The record after a token answer: a new generation, or a first record at sign-in.

    With ``endpoints`` (those the answer came from) a first record is bound to them,
    and a record from before grant binding gets its binding.
    """
    refresh_expires = (
        now + timedelta(seconds=response.refresh_token_expires_in)
        if response.refresh_token_expires_in else
        (previous.refresh_token_expires_at if previous else None)
    )
    scopes = tuple(response.scope.split()) if response.scope else (
        previous.scopes if previous else (profile.scopes if profile else ())
    )
    values: dict[str, Any] = {
        "access_token": response.access_token,
        "token_type": response.token_type,
        # RFC 6749 §6: an answer without a refresh token keeps the old one.
        "refresh_token": response.refresh_token
        or (previous.refresh_token if previous else None),
        # To the millisecond, as the store keeps them: the record this process holds
        # is the one every other process reads.
        "expires_at": to_millisecond(expiry_of(response, now)),
        "obtained_at": to_millisecond(now),
        "refresh_at": to_millisecond(now + timedelta(seconds=response.refresh_in))
        if response.refresh_in else None,
        "refresh_token_expires_at": to_millisecond(refresh_expires),
        "scopes": scopes,
        "rejected": False,
        "forced": False,
        "failures": 0,
        "next_attempt_at": None,
        "last_error": None,
        "ended": None,
    }
    if previous is not None:
        if account:
            values["account"] = account
        renewed = previous.next_generation(**values)
        return bound(renewed, profile, endpoints) if profile and endpoints else renewed
    if profile is None:
        raise ValueError("a first record needs its profile")
    first = TokenRecord(profile=profile.name, issuer=profile.issuer,
                        client_id=profile.client_id, account=account, generation=1, **values)
    return bound(first, profile, endpoints) if endpoints else first
