"""How a profile's stored record reads and evolves: pure functions of (record, now).

The session manager decides *when* to act; these functions say what a record means
at a given moment (its session state, when the session ends) and what record a
token answer produces (rotation keeps the old refresh token when the provider sends
none, expiry counts from local time).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tokenwarden.config import Profile
from tokenwarden.policy import seconds_left
from tokenwarden.status import SessionState
from tokenwarden.store import TokenRecord

if TYPE_CHECKING:
    from tokenwarden.oauth import TokenResponse


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
) -> TokenRecord:
    """The record after a token answer: a new generation, or a first record at sign-in."""
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
        "expires_at": expiry_of(response, now),
        "obtained_at": now,
        "refresh_at": now + timedelta(seconds=response.refresh_in)
        if response.refresh_in else None,
        "refresh_token_expires_at": refresh_expires,
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
        return previous.next_generation(**values)
    if profile is None:
        raise ValueError("a first record needs its profile")
    return TokenRecord(profile=profile.name, issuer=profile.issuer,
                       client_id=profile.client_id, account=account, generation=1, **values)
