"""The renewal decisions, as pure functions of (token times, now, policy)."""

from datetime import UTC, datetime, timedelta

from tokenwarden.policy import (
    RenewalPolicy,
    TokenState,
    TokenTimes,
    backoff_delay,
    effective_min_validity,
    fresh_until,
    next_wake,
    renew_at,
    satisfies,
    token_state,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = RenewalPolicy()


def times(lifetime: float, refresh_in: float | None = None) -> TokenTimes:
    return TokenTimes(
        obtained_at=T0,
        expires_at=T0 + timedelta(seconds=lifetime),
        refresh_at=None if refresh_in is None else T0 + timedelta(seconds=refresh_in),
    )


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_long_token_is_fresh_until_the_advisory_window():
    assert token_state(times(8 * 3600), at(8 * 3600 - 16 * 60), POLICY, 0.0) is TokenState.FRESH


def test_long_token_is_stale_inside_fifteen_minutes():
    assert token_state(times(8 * 3600), at(8 * 3600 - 14 * 60), POLICY, 0.0) is TokenState.STALE


def test_long_token_must_renew_inside_ten_minutes():
    assert token_state(times(8 * 3600), at(8 * 3600 - 9 * 60), POLICY, 0.0) is TokenState.EXPIRING


def test_token_past_expiry_is_expired():
    assert token_state(times(60), at(61), POLICY, 0.0) is TokenState.EXPIRED


def test_two_second_token_windows_scale_with_its_lifetime():
    short = times(2)
    assert token_state(short, at(0.5), POLICY, 0.0) is TokenState.FRESH
    assert token_state(short, at(1.2), POLICY, 0.0) is TokenState.STALE
    assert token_state(short, at(1.6), POLICY, 0.0) is TokenState.EXPIRING


def test_jitter_opens_the_advisory_window_earlier_for_some_processes():
    early = renew_at(times(8 * 3600), POLICY, jitter=0.99)
    late = renew_at(times(8 * 3600), POLICY, jitter=0.0)
    assert early is not None and late is not None
    assert early < late
    assert (late - early) <= timedelta(minutes=1.5)


def test_server_refresh_in_moves_renewal_earlier():
    assert renew_at(times(3600, refresh_in=600), POLICY, 0.0) == at(600)


def test_token_without_expiry_stays_fresh_until_a_401():
    no_expiry = TokenTimes(obtained_at=T0, expires_at=None)
    assert token_state(no_expiry, at(10**7), POLICY, 0.0) is TokenState.FRESH
    assert satisfies(no_expiry, at(10**7), 3600)


def test_min_validity_is_capped_at_half_of_a_short_lifetime():
    assert effective_min_validity(60, 2) == 1
    assert effective_min_validity(60, 3600) == 60


def test_satisfies_checks_remaining_validity():
    assert satisfies(times(3600), at(3000), 60)
    assert not satisfies(times(3600), at(3560), 60)


def test_backoff_grows_and_is_capped_at_sixty_seconds():
    delays = [backoff_delay(n, 8 * 3600, POLICY, rand=1.0) for n in range(1, 12)]
    assert delays == sorted(delays)
    assert delays[-1] == 60.0


def test_backoff_is_jittered():
    low = backoff_delay(5, 3600, POLICY, rand=0.0)
    high = backoff_delay(5, 3600, POLICY, rand=1.0)
    assert low == high / 2


def test_backoff_is_short_for_tokens_that_live_seconds():
    assert backoff_delay(10, 2, POLICY, rand=1.0) <= 0.5


def test_backoff_honours_retry_after_above_the_cap():
    assert backoff_delay(1, 3600, POLICY, rand=0.0, retry_after=120) == 120


def test_next_wake_is_capped_so_sleep_is_noticed():
    assert next_wake(T0, [at(28202)], POLICY) == POLICY.max_sleep_seconds


def test_next_wake_picks_the_earliest_moment():
    assert next_wake(T0, [at(30), None, at(10)], POLICY) == 10


def test_eight_hour_clock_jump_makes_the_token_expired():
    assert token_state(times(3600), at(8 * 3600), POLICY, 0.5) is TokenState.EXPIRED


def test_fresh_until_is_where_fresh_and_satisfied_end():
    """Before ``fresh_until`` every moment is FRESH and satisfies; at it, one of them ends."""
    cases = [(lifetime, refresh_in, wanted, jitter)
             for lifetime in (4, 10, 60, 300, 3600, 8 * 3600)
             for refresh_in in (None, 2, 1800)
             for wanted in (0, 30, 60, 600)
             for jitter in (0.0, 0.5, 0.99)]
    for lifetime, refresh_in, wanted, jitter in cases:
        token = times(lifetime, refresh_in)
        until = fresh_until(token, POLICY, jitter, wanted)
        assert until is not None

        def ok(moment: datetime, token: TokenTimes = token, jitter: float = jitter,
               wanted: float = wanted) -> bool:
            return (token_state(token, moment, POLICY, jitter) is TokenState.FRESH
                    and satisfies(token, moment, wanted))

        span = (until - T0).total_seconds()
        for fraction in (0.0, 0.25, 0.5, 0.9, 0.999):
            assert ok(at(span * fraction)), (lifetime, refresh_in, wanted, jitter, fraction)
        assert not ok(until + timedelta(microseconds=1)), (lifetime, refresh_in, wanted, jitter)


def test_a_token_without_expiry_is_fresh_until_its_refresh_time_or_forever():
    forever = TokenTimes(obtained_at=T0, expires_at=None)
    assert fresh_until(forever, POLICY, 0.0, 60) is None
    hinted = TokenTimes(obtained_at=T0, expires_at=None, refresh_at=at(100))
    assert fresh_until(hinted, POLICY, 0.0, 60) == at(100)
