"""The keyring call wrapper: a timeout per attempt, retries, and one line when all fail."""

from __future__ import annotations

import threading

import pytest

from tokenwarden import secretstore
from tokenwarden.errors import StoreError
from tokenwarden.secretstore import KeyringUnavailable, _attempts


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr(secretstore, "RETRY_PAUSES", (0.0, 0.0))
    monkeypatch.setattr(secretstore, "CALL_TIMEOUT", 0.5)


def test_a_call_that_fails_twice_then_answers_is_retried():
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("org.freedesktop.DBus.Error.NoReply")
        return "answer"

    assert _attempts("to read", flaky) == "answer"
    assert len(calls) == 3


def test_a_call_that_never_answers_times_out_each_attempt():
    release = threading.Event()
    try:
        with pytest.raises(StoreError) as caught:
            _attempts("to save the tokens", lambda: release.wait(30))
    finally:
        release.set()
    assert str(caught.value) == ("the keyring failed to save the tokens after 3 attempts "
                                 "(no answer within 0.5 s)")


def test_the_error_names_the_type_and_first_line_only():
    def broken() -> None:
        raise RuntimeError("daemon gone\nsecond line")

    with pytest.raises(StoreError) as caught:
        _attempts("to read the tokens", broken)
    assert str(caught.value).endswith("(RuntimeError: daemon gone)")


def test_an_unusable_keyring_is_not_retried():
    calls = []

    def unusable() -> None:
        calls.append(1)
        raise KeyringUnavailable("no keyring")

    with pytest.raises(KeyringUnavailable):
        _attempts("to read", unusable)
    assert calls == [1]


def test_reading_without_a_session_bus_says_why_at_once(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    with pytest.raises(KeyringUnavailable) as caught:
        secretstore.Keyring().get("default/1-000000000000")
    assert str(caught.value).startswith("the tokens are in the keyring, but no D-Bus session bus")
