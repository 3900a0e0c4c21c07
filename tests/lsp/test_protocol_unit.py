"""The wire contract's parsers and builders, without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenwarden.errors import (
    ConfigError,
    LoginFailed,
    SignInRequired,
    TemporarilyUnavailable,
    TransportError,
)
from tokenwarden.lsp import protocol
from tokenwarden.session import IssuedToken


def test_get_token_defaults():
    request = protocol.parse_get_token(None)

    assert request == protocol.GetTokenRequest(profile=None, min_validity_seconds=60.0,
                                               interactive=False)


def test_get_token_fields():
    request = protocol.parse_get_token({"profile": "work", "minValiditySeconds": 5,
                                        "interactive": True, "future": "ignored"})

    assert request == protocol.GetTokenRequest("work", 5.0, True)


@pytest.mark.parametrize("params", [
    [], "x", 3, {"profile": ""}, {"profile": 3}, {"minValiditySeconds": -1},
    {"minValiditySeconds": "60"}, {"minValiditySeconds": True},
    {"minValiditySeconds": float("inf")}, {"minValiditySeconds": 10**400},
    {"interactive": "yes"},
])
def test_get_token_rejects_what_does_not_fit(params):
    with pytest.raises(protocol.ProtocolError) as failure:
        protocol.parse_get_token(params)

    assert failure.value.code == protocol.INVALID_PARAMS


def test_token_rejected_needs_the_token_and_never_shows_it():
    request = protocol.parse_token_rejected({"accessToken": "secret-token"})

    assert request.access_token == "secret-token"
    assert "secret-token" not in repr(request)
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_token_rejected({"profile": "default"})


def test_command_argument_is_one_optional_object():
    assert protocol.command_argument(None) == {}
    assert protocol.command_argument([]) == {}
    assert protocol.command_argument([None]) == {}
    assert protocol.command_argument([{"profile": "a"}]) == {"profile": "a"}
    with pytest.raises(protocol.ProtocolError):
        protocol.command_argument([{}, {}])
    with pytest.raises(protocol.ProtocolError):
        protocol.command_argument(["default"])


def test_login_and_logout_defaults():
    assert protocol.parse_login({}) == protocol.LoginRequest(None, None, False)
    assert protocol.parse_login({"openBrowser": False, "force": True}) == (
        protocol.LoginRequest(None, False, True))
    assert protocol.parse_logout({}) == protocol.LogoutRequest(None, True)
    assert protocol.parse_logout({"revoke": False}).revoke is False


def test_errors_on_the_wire():
    sign_in = protocol.error_for(SignInRequired("x", profile="p", state="expired"))
    later = protocol.error_for(TemporarilyUnavailable("x", retry_after=2.5))
    config = protocol.error_for(ConfigError("no such profile", profile="nope"))
    network = protocol.error_for(TransportError("down"))
    refused = protocol.error_for(LoginFailed("denied", reason="access_denied"))

    assert (sign_in.code, sign_in.data) == (-32001, {"profile": "p", "state": "expired"})
    assert (later.code, later.data) == (-32002, {"retryAfterSeconds": 2.5})
    assert config.code == -32602
    assert network.code == -32002 and network.data["retryAfterSeconds"] > 0
    assert (refused.code, refused.data) == (-32803, {"code": "access_denied"})


def test_token_result_shape():
    issued = IssuedToken("tok", "Bearer", datetime(2026, 1, 1, 7, tzinfo=UTC), ("openid",))

    assert protocol.token_result(issued) == {
        "accessToken": "tok", "tokenType": "Bearer", "expiresAt": "2026-01-01T07:00:00Z",
        "scopes": ["openid"],
    }


def test_experimental_capability():
    assert protocol.experimental_capabilities() == {"tokenwarden": {"protocolVersion": 1}}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)
request_values = json_values | st.fixed_dictionaries({}, optional={
    key: json_values for key in ("profile", "minValiditySeconds", "interactive", "accessToken",
                                 "openBrowser", "force", "revoke")
})
PARSERS = [protocol.parse_get_token, protocol.parse_token_rejected, protocol.parse_login,
           protocol.parse_logout, protocol.parse_profile_request]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PARSERS), request_values)
def test_parsers_accept_or_raise_invalid_params(parse, raw):
    try:
        parse(raw)
    except protocol.ProtocolError as error:
        assert error.code == protocol.INVALID_PARAMS


@settings(max_examples=200, deadline=None)
@given(st.lists(request_values, max_size=3))
def test_command_argument_accepts_or_raises_invalid_params(arguments):
    try:
        protocol.command_argument(arguments)
    except protocol.ProtocolError as error:
        assert error.code == protocol.INVALID_PARAMS
