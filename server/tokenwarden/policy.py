"""Pure renewal decisions: functions of (token times, now, policy) and nothing else.

Vocabulary after google-auth and botocore: a token is FRESH (nothing to do), STALE
(inside the advisory window: renew in the background, keep serving it), EXPIRING
(inside the mandatory window: renew before answering) or EXPIRED. Windows scale down
for short-lived tokens so a 2-second token is renewed at about half its life, and
each process shifts its advisory start by its own random jitter so that windows of
many processes do not open in the same instant.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class TokenState(enum.Enum):
    """How urgently a token needs renewing."""

    FRESH = "fresh"
    STALE = "stale"
    EXPIRING = "expiring"
    EXPIRED = "expired"


@dataclass(frozen=True)
class RenewalPolicy:
    """Timing of renewals; all durations in seconds."""

    advisory_seconds: float = 15 * 60
    mandatory_seconds: float = 10 * 60
    advisory_fraction: float = 0.5
    mandatory_fraction: float = 0.25
    jitter_fraction: float = 0.1
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 60.0
    backoff_cap_fraction: float = 0.25
    max_sleep_seconds: float = 60.0
    http_timeout_seconds: float = 15.0
    default_min_validity: float = 60.0
    lock_timeout_seconds: float = 30.0


@dataclass(frozen=True)
class TokenTimes:
    """The moments that matter for one access token (wall clock, UTC)."""

    obtained_at: datetime
    expires_at: datetime | None
    refresh_at: datetime | None = None

    @property
    def lifetime(self) -> float | None:
        """Seconds between receipt and expiry, or None when the token does not say."""
        if self.expires_at is None:
            return None
        return max(0.0, (self.expires_at - self.obtained_at).total_seconds())


def advisory_window(times: TokenTimes, policy: RenewalPolicy, jitter: float) -> float:
    """Seconds before expiry at which background renewal starts (jitter in [0, 1))."""
    lifetime = times.lifetime or 0.0
    window = min(policy.advisory_seconds, lifetime * policy.advisory_fraction)
    return window * (1.0 + policy.jitter_fraction * jitter)


def mandatory_window(times: TokenTimes, policy: RenewalPolicy) -> float:
    """Seconds before expiry from which a token is renewed before it is handed out."""
    lifetime = times.lifetime or 0.0
    return min(policy.mandatory_seconds, lifetime * policy.mandatory_fraction)


def renew_at(times: TokenTimes, policy: RenewalPolicy, jitter: float) -> datetime | None:
    """When background renewal should start; the server's ``refresh_in`` wins when earlier."""
    if times.expires_at is None:
        return times.refresh_at
    start = times.expires_at - timedelta(seconds=advisory_window(times, policy, jitter))
    if times.refresh_at is not None and times.refresh_at < start:
        return times.refresh_at
    return start


def token_state(
    times: TokenTimes, now: datetime, policy: RenewalPolicy, jitter: float
) -> TokenState:
    """Classify a token at ``now``; a token without expiry stays FRESH until a 401."""
    if times.expires_at is None:
        if times.refresh_at is not None and now >= times.refresh_at:
            return TokenState.STALE
        return TokenState.FRESH
    if now >= times.expires_at:
        return TokenState.EXPIRED
    left = (times.expires_at - now).total_seconds()
    if left <= mandatory_window(times, policy):
        return TokenState.EXPIRING
    start = renew_at(times, policy, jitter)
    if start is not None and now >= start:
        return TokenState.STALE
    return TokenState.FRESH


def fresh_until(times: TokenTimes, policy: RenewalPolicy, jitter: float,
                min_validity: float) -> datetime | None:
    """Before this moment the token is FRESH and ``satisfies`` ``min_validity``; None: always.

    One computation per token lets a consumer asking again and again skip the
    classification: until then the answer cannot change.
    """
    if times.expires_at is None:
        return times.refresh_at
    expires = times.expires_at
    moments = [
        expires - timedelta(seconds=mandatory_window(times, policy)),
        expires - timedelta(seconds=effective_min_validity(min_validity, times.lifetime)),
    ]
    start = renew_at(times, policy, jitter)
    if start is not None:
        moments.append(start)
    return min(moments)


def effective_min_validity(requested: float, lifetime: float | None) -> float:
    """``minValiditySeconds``, capped at half the lifetime for tokens shorter than twice it."""
    requested = max(0.0, requested)
    if lifetime is not None and lifetime < 2 * requested:
        return lifetime / 2
    return requested


def seconds_left(times: TokenTimes, now: datetime) -> float | None:
    """Seconds until expiry (negative once expired), or None when unknown."""
    if times.expires_at is None:
        return None
    return (times.expires_at - now).total_seconds()


def satisfies(times: TokenTimes, now: datetime, min_validity: float) -> bool:
    """True when the token stays valid for at least ``min_validity`` seconds."""
    left = seconds_left(times, now)
    return left is None or left >= effective_min_validity(min_validity, times.lifetime)


def backoff_delay(
    failures: int, lifetime: float | None, policy: RenewalPolicy, rand: float,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait after ``failures`` failed renewals: exponential, jittered, capped.

    The cap is ``backoff_cap_seconds``, shorter for tokens that live only seconds, and
    ``Retry-After`` from the server is honoured even above the cap.
    """
    cap = policy.backoff_cap_seconds
    base = policy.backoff_base_seconds
    if lifetime:
        cap = min(cap, max(0.05, lifetime * policy.backoff_cap_fraction))
        base = min(base, cap / 4)
    ceiling = min(cap, base * (2.0 ** max(0, failures - 1)))
    delay = ceiling * (0.5 + 0.5 * rand)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def next_wake(
    now: datetime, moments: list[datetime | None], policy: RenewalPolicy
) -> float:
    """Seconds to sleep until the earliest moment, never more than ``max_sleep_seconds``.

    The cap is what notices a laptop sleep: after waking, the next check compares
    wall-clock times again instead of trusting a timer armed hours earlier.
    """
    waits = [(m - now).total_seconds() for m in moments if m is not None]
    soonest = min(waits, default=policy.max_sleep_seconds)
    return max(0.0, min(soonest, policy.max_sleep_seconds))


def warn_at(session_end: datetime | None, warn_before: float) -> datetime | None:
    """When to warn that a session ends and cannot be renewed silently."""
    if session_end is None:
        return None
    return session_end - timedelta(seconds=warn_before)
