"""What a stored record means at a moment, and what a token answer makes of it."""

import base64
import json
from datetime import UTC, datetime, timedelta

from tokenwarden.config import parse_profile
from tokenwarden.lifecycle import expiry_of, record_from_response, session_end, session_state
from tokenwarden.oauth import TokenResponse
from tokenwarden.status import SessionState
from tokenwarden.store import TokenRecord

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PROFILE = parse_profile("p", {"issuer": "https://a.example", "client_id": "c",
                              "scopes": ["openid"]})


def record(**changes) -> TokenRecord:
    values = dict(profile="p", issuer="https://a.example", access_token="at", refresh_token="rt",
                  obtained_at=NOW, expires_at=NOW + timedelta(hours=1))
    values.update(changes)
    return TokenRecord(**values)


def state(rec, **flags):
    return session_state(rec, signing_in=flags.get("signing_in", False),
                         refreshing=flags.get("refreshing", False), now=NOW + timedelta(
                             seconds=flags.get("later", 0)))


def test_no_record_is_signed_out():
    assert state(None) is SessionState.SIGNED_OUT


def test_valid_token_is_signed_in():
    assert state(record()) is SessionState.SIGNED_IN


def test_expired_token_with_refresh_token_is_still_signed_in():
    assert state(record(), later=7200) is SessionState.SIGNED_IN


def test_expired_token_without_refresh_token_is_expired():
    assert state(record(refresh_token=None), later=7200) is SessionState.EXPIRED


def test_rejected_token_without_refresh_token_is_expired_at_once():
    assert state(record(refresh_token=None, rejected=True)) is SessionState.EXPIRED


def test_failures_make_the_session_degraded():
    assert state(record(failures=2)) is SessionState.DEGRADED


def test_renewable_session_has_no_end_unless_the_refresh_token_has_one():
    assert session_end(record(), NOW) is None
    limit = NOW + timedelta(days=3)
    assert session_end(record(refresh_token_expires_at=limit), NOW) == limit


def test_session_without_refresh_token_ends_with_the_access_token():
    assert session_end(record(refresh_token=None), NOW) == NOW + timedelta(hours=1)


def test_answer_without_refresh_token_keeps_the_old_one():
    answer = TokenResponse(access_token="at2", token_type="Bearer", expires_in=60)
    new = record_from_response(record(generation=4), answer, NOW)
    assert new.refresh_token == "rt" and new.generation == 5
    assert new.expires_at == NOW + timedelta(seconds=60)


def test_rotated_refresh_token_replaces_the_old_one():
    answer = TokenResponse(access_token="at2", token_type="Bearer", expires_in=60,
                           refresh_token="rt2", refresh_token_expires_in=3600)
    new = record_from_response(record(failures=3), answer, NOW)
    assert new.refresh_token == "rt2" and new.failures == 0
    assert new.refresh_token_expires_at == NOW + timedelta(hours=1)


def test_first_record_at_sign_in_starts_at_generation_one():
    answer = TokenResponse(access_token="at", token_type="Bearer", expires_in=60)
    first = record_from_response(None, answer, NOW, account="alice", profile=PROFILE)
    assert first.generation == 1 and first.account == "alice" and first.scopes == ("openid",)


def jwt(claims: dict) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"e30.{body}.sig"


def test_jwt_lifetime_is_the_fallback_for_a_missing_expires_in():
    answer = TokenResponse(access_token=jwt({"iat": 1000, "exp": 1600}), token_type="Bearer",
                           expires_in=None)
    assert expiry_of(answer, NOW) == NOW + timedelta(seconds=600)


def test_opaque_token_without_expires_in_has_no_expiry():
    answer = TokenResponse(access_token="opaque", token_type="Bearer", expires_in=None)
    assert expiry_of(answer, NOW) is None


def test_a_grant_is_compared_with_the_settings_it_was_obtained_with():
    from tokenwarden.lifecycle import binding_mismatch
    from tokenwarden.oauth import Endpoints

    bound = record(client_id="c", token_endpoint="https://a.example/token",
                   revocation_endpoint="https://a.example/revoke")
    moved = parse_profile("p", {"issuer": "https://a.example", "client_id": "c",
                                "token_endpoint": "https://evil.example/token"})
    discovered = Endpoints("https://a.example", "https://a.example/token",
                           revocation_endpoint="https://a.example/revoke")
    assert binding_mismatch(bound, PROFILE) is None
    assert binding_mismatch(bound, PROFILE, discovered) is None
    assert binding_mismatch(bound, moved) == "token_endpoint"
    assert binding_mismatch(bound, parse_profile("p", {"issuer": "https://a.example",
                                                       "client_id": "other"})) == "client_id"
    assert binding_mismatch(bound, PROFILE, Endpoints("https://a.example",
                                                      "https://a.example/token")) == (
        "revocation_endpoint")  # a provider that lost its revocation endpoint is another one
    legacy = record()  # written before binding: issuer compared, endpoints unknown
    assert binding_mismatch(legacy, moved) is None
    assert binding_mismatch(legacy, parse_profile("p", {"issuer": "https://b.example",
                                                        "client_id": "c"})) == "issuer"
