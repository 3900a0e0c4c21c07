"""Which sign-in flow ``auto`` picks, and how a redirect is judged (pure logic)."""

from __future__ import annotations

import pytest

from tokenwarden.browserflow import judge_redirect
from tokenwarden.config import parse_profile
from tokenwarden.errors import ConfigError
from tokenwarden.flowchoice import choose_flow, desktop_session, remote_session
from tokenwarden.oauth import Endpoints

BOTH = Endpoints(issuer="https://id.example", token_endpoint="https://id.example/token",
                 authorization_endpoint="https://id.example/authorize",
                 device_authorization_endpoint="https://id.example/device")
DEVICE_ONLY = Endpoints(issuer="https://id.example", token_endpoint="https://id.example/token",
                        device_authorization_endpoint="https://id.example/device")
BROWSER_ONLY = Endpoints(issuer="https://id.example", token_endpoint="https://id.example/token",
                         authorization_endpoint="https://id.example/authorize")


def choose(wanted: str, endpoints: Endpoints = BOTH, browser_possible: bool = True):
    return choose_flow(wanted, endpoints, browser_possible=browser_possible, profile="p")


def test_auto_picks_the_browser_on_a_desktop_with_the_device_code_to_fall_back_to():
    choice = choose("auto")
    assert (choice.flow, choice.fallback) == ("browser", "device")


def test_auto_picks_the_device_code_where_no_browser_can_be_opened():
    choice = choose("auto", browser_possible=False)
    assert (choice.flow, choice.fallback) == ("device", "browser")


def test_auto_follows_the_endpoints_the_provider_has():
    assert choose("auto", DEVICE_ONLY).flow == "device"
    assert choose("auto", BROWSER_ONLY, browser_possible=False).flow == "browser"
    assert choose("auto", DEVICE_ONLY).fallback is None


def test_a_flow_named_in_the_profile_is_used_as_it_is_without_fallback():
    assert choose("device").flow == "device" and choose("device").fallback is None
    assert choose("browser", browser_possible=False).flow == "browser"


def test_a_provider_with_neither_endpoint_is_a_config_error():
    none = Endpoints(issuer="https://id.example", token_endpoint="https://id.example/token")
    with pytest.raises(ConfigError, match="authorization_endpoint"):
        choose("auto", none)


@pytest.mark.parametrize("env", [
    {"DISPLAY": ":0", "SSH_CONNECTION": "10.0.0.1 22 10.0.0.2 5000"},
    {"WAYLAND_DISPLAY": "wayland-0", "SSH_TTY": "/dev/pts/1"},
    {"DISPLAY": ":0", "REMOTE_CONTAINERS": "true"},
    {"DISPLAY": ":0", "CODESPACES": "true"},
    {},
])
def test_no_desktop_under_ssh_in_a_container_or_without_a_display(env):
    assert not desktop_session(env, "linux")


@pytest.mark.parametrize(("env", "platform"), [
    ({"DISPLAY": ":0"}, "linux"), ({"WAYLAND_DISPLAY": "wayland-0"}, "linux"),
    ({}, "darwin"), ({}, "win32"),
])
def test_a_local_desktop_session(env, platform):
    assert desktop_session(env, platform)


def test_ssh_on_a_mac_is_still_remote():
    assert remote_session({"SSH_CLIENT": "10.0.0.1 5000 22"})
    assert not desktop_session({"SSH_CLIENT": "10.0.0.1 5000 22"}, "darwin")


def test_the_flow_key_is_checked():
    assert parse_profile("p", {"issuer": "https://id.example", "client_id": "c",
                               "flow": "browser"}).flow == "browser"
    assert parse_profile("p", {"issuer": "https://id.example", "client_id": "c"}).flow == "auto"
    with pytest.raises(ConfigError, match="flow.*must be one of 'auto', 'browser', 'device'"):
        parse_profile("p", {"issuer": "https://id.example", "client_id": "c", "flow": "web"})


def judge(params, iss_required=False):
    return judge_redirect(params, state="s1", issuer="https://id.example",
                          iss_required=iss_required)


def test_a_good_redirect_yields_its_code():
    assert judge({"state": "s1", "code": "c1", "iss": "https://id.example"}).code == "c1"
    assert judge({"state": "s1", "code": "c1"}).code == "c1"  # iss not promised


def test_another_state_is_stale_not_fatal():
    verdict = judge({"state": "s2", "code": "c1"})
    assert verdict.stale and verdict.code is None and verdict.error == "state_mismatch"
    assert judge({"code": "c1"}).stale


def test_iss_is_compared_when_sent_and_required_when_promised():
    assert judge({"state": "s1", "code": "c", "iss": "https://evil.example"}).error == (
        "iss_mismatch")
    assert judge({"state": "s1", "code": "c"}, iss_required=True).error == "iss_missing"
    assert judge({"state": "s1", "code": "c", "iss": "https://id.example/"}).code == "c"


def test_errors_become_reasons_without_control_characters():
    verdict = judge({"state": "s1", "error": "access_denied",
                     "error_description": "user said no\r\nSet-Cookie: x"})
    assert verdict.error == "access_denied"
    assert verdict.message == "the sign-in was denied at the provider (user said no Set-Cookie: x)"
    assert judge({"state": "s1"}).error == "invalid_request"
    assert judge({"state": "s1", "error": "weird\x00"}).message == "the provider answered weird"


def fake_id_token(claims: dict) -> str:
    import base64
    import json

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


def test_an_id_token_for_another_nonce_is_refused():
    from tokenwarden.browserflow import nonce_matches
    from tokenwarden.oauth import AuthorizationRequest, TokenResponse

    request = AuthorizationRequest("https://id.example/authorize?…", "http://127.0.0.1:1/callback",
                                   state="s", code_verifier="v", nonce="n1")

    def response(claims: dict | None) -> TokenResponse:
        return TokenResponse(access_token="a", token_type="Bearer", expires_in=60,
                             id_token=None if claims is None else fake_id_token(claims))

    assert nonce_matches(response({"nonce": "n1"}), request)
    assert nonce_matches(response({}), request)  # providers that do not echo it
    assert nonce_matches(response(None), request)
    assert not nonce_matches(response({"nonce": "other"}), request)
