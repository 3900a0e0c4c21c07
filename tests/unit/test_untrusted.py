"""The one place server-provided strings are cleaned: control characters and URIs."""

import pytest

from tokenwarden.untrusted import browsable_uri, is_bearer_token, is_refresh_token, printable


@pytest.mark.parametrize(("raw", "shown"), [
    ("WDJB-MJHT", "WDJB-MJHT"),
    ("\x1b]0;pwned\x07WDJB\x1b[2J-MJHT", "]0;pwnedWDJB[2J-MJHT"),
    ("line one\r\nline two\tend", "line one line two end"),
    ("a\x00b\x7fc\x85d\x9be", "abc de"),  # NEL is a line break: a space
    ("safe\u202eexe.txt", "safeexe.txt"),
    ("Grüße, 東京 ✓", "Grüße, 東京 ✓"),
])
def test_printable_strips_every_control_character(raw, shown):
    assert printable(raw) == shown


def test_printable_cuts_long_text():
    assert printable("x" * 1000, limit=10) == "x" * 9 + "…"


@pytest.mark.parametrize("uri", [
    "https://idp.example/device",
    "https://idp.example/device?user_code=WDJB-MJHT",
    "http://127.0.0.1:8765/device",
    "http://localhost/device",
    "http://[::1]:9/device",
])
def test_browsable_uri_accepts_https_and_loopback_http(uri):
    assert browsable_uri(uri) == uri


@pytest.mark.parametrize("uri", [
    "file:///etc/passwd",
    "command:workbench.action.terminal.new",
    "javascript:alert(1)",
    "vscode://ms-python.python/run",
    "http://evil.example/device",
    "https:///no-host",
    "https://user:pass@idp.example/",
    "https://idp.example/\x1b[2J",
    "https://idp.example/a b",
    "https://idp.example/\r\nX: y",
    "",
    "https://[bad",
])
def test_browsable_uri_refuses_everything_else(uri):
    assert browsable_uri(uri) is None


@pytest.mark.parametrize(("token", "ok"), [
    ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", True),
    ("gho_16C7e42F292c6912E7710c838347Ae178B4a", True),
    ("abc+/def==", True),
    ("abc\r\nX-Injected: 1", False),
    ("abc def", False),
    ("abc=def", False),
    ("", False),
])
def test_bearer_tokens_must_be_b64token(token, ok):
    assert is_bearer_token(token) is ok


def test_refresh_tokens_must_be_visible_ascii():
    assert is_refresh_token("1//0gAbC-d_e.f~g!*")
    assert not is_refresh_token("abc\ndef")
    assert not is_refresh_token("abc def")
