"""The keyring store against a real Secret Service: where tokens live, and what is cleaned up."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.oskeyring.conftest import keyring_entries
from tokenwarden.errors import StoreError
from tokenwarden.secretstore import KeyringUnavailable, SecretPlacement
from tokenwarden.store import TokenRecord, TokenStore

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def record(generation: int, **changes) -> TokenRecord:
    return TokenRecord(profile="default", issuer="https://a.example",
                       access_token=f"at-{generation}", refresh_token=f"rt-{generation}",
                       obtained_at=NOW, expires_at=NOW + timedelta(hours=1),
                       generation=generation, **changes)


def keyring_store(folder, mode: str = "keyring") -> TokenStore:
    return TokenStore(folder, SecretPlacement({"default": mode}))


def test_tokens_go_to_the_keyring_and_the_file_keeps_only_metadata(secret_service, tmp_path):
    store = keyring_store(tmp_path / "store")
    store.write(record(1))

    on_disk = json.loads(store.path("default").read_text())
    assert on_disk["access_token"] is None and on_disk["refresh_token"] is None
    assert on_disk["kept_in"] == "keyring" and on_disk["version"] == 2
    assert on_disk["keyring_ref"].startswith("1-")
    assert "at-1" not in store.path("default").read_text()
    assert keyring_entries() == [f"default/{on_disk['keyring_ref']}"]

    again = TokenStore(tmp_path / "store").read("default")  # a store without a placement
    assert again is not None
    assert (again.access_token, again.refresh_token, again.generation) == ("at-1", "rt-1", 1)
    store.delete("default")


def test_a_new_generation_makes_a_new_entry_and_deletes_the_old_one_after(secret_service,
                                                                        tmp_path):
    store = keyring_store(tmp_path / "store")
    store.write(record(1))
    first = keyring_entries()
    store.write(record(2))
    second = keyring_entries()
    assert len(second) == 1 and second != first and second[0].startswith("default/2-")
    assert store.read("default").refresh_token == "rt-2"
    store.delete("default")
    assert keyring_entries() == []
    assert store.read("default") is None


def test_a_write_that_keeps_the_tokens_reuses_the_entry(secret_service, tmp_path):
    store = keyring_store(tmp_path / "store")
    store.write(record(3))
    entries = keyring_entries()
    current = store.read("default")
    store.write(replace(current, failures=2))
    assert keyring_entries() == entries
    assert store.read("default").failures == 2
    store.delete("default")


def test_entries_left_by_a_crash_are_swept_at_the_next_write(secret_service, tmp_path):
    import keyring

    store = keyring_store(tmp_path / "store")
    keyring.set_password("tokenwarden", "default/7-00000000abcd", "{}")  # as a kill -9 leaves
    store.write(record(8))
    assert len(keyring_entries()) == 1 and keyring_entries()[0].startswith("default/8-")
    store.delete("default")


def test_a_missing_entry_is_a_store_error_that_says_what_to_do(secret_service, tmp_path):
    import keyring

    store = keyring_store(tmp_path / "store")
    store.write(record(1))
    ref = json.loads(store.path("default").read_text())["keyring_ref"]
    keyring.delete_password("tokenwarden", f"default/{ref}")
    with pytest.raises(StoreError) as caught:
        store.read("default")
    message = str(caught.value)
    assert f"tokenwarden/default/{ref}" in message
    assert "tokenwarden login --profile default --force" in message
    assert store.path("default").exists()  # nothing thrown away


def test_a_keyring_entry_whose_token_could_split_a_header_is_a_store_error(secret_service,
                                                                           tmp_path):
    # Another program of the same user may write the entry: its tokens get the same
    # check as the file's (visible ASCII), so a CR/LF never reaches a header or argv.
    import keyring

    store = keyring_store(tmp_path / "store")
    store.write(record(1))
    ref = json.loads(store.path("default").read_text())["keyring_ref"]
    keyring.set_password("tokenwarden", f"default/{ref}", json.dumps(
        {"ref": ref, "access_token": "at\r\nX-Injected: 1", "refresh_token": "rt-1"}))
    with pytest.raises(StoreError) as caught:
        store.read("default")
    assert f"keyring entry 'tokenwarden/default/{ref}'" in str(caught.value)
    assert "X-Injected" not in str(caught.value)
    assert store.path("default").exists()  # nothing thrown away
    keyring.delete_password("tokenwarden", f"default/{ref}")


def test_auto_keeps_an_existing_file_session_in_the_file(secret_service, tmp_path):
    TokenStore(tmp_path / "store").write(record(1))
    store = keyring_store(tmp_path / "store", "auto")
    store.write(record(2))
    on_disk = json.loads(store.path("default").read_text())
    assert on_disk["kept_in"] == "file" and on_disk["refresh_token"] == "rt-2"
    assert keyring_entries() == []


def test_auto_puts_a_new_session_in_the_keyring(secret_service, tmp_path):
    store = keyring_store(tmp_path / "store", "auto")
    store.write(record(1))
    assert json.loads(store.path("default").read_text())["kept_in"] == "keyring"
    store.delete("default")


def test_file_mode_moves_a_keyring_record_back_and_deletes_its_entry(secret_service, tmp_path):
    keyring_store(tmp_path / "store").write(record(1))
    store = keyring_store(tmp_path / "store", "file")
    store.write(store.read("default"))
    on_disk = json.loads(store.path("default").read_text())
    assert on_disk["kept_in"] == "file" and on_disk["refresh_token"] == "rt-1"
    assert on_disk["version"] == 1  # what every earlier tokenwarden reads
    assert keyring_entries() == []


def test_keyring_mode_refuses_without_a_session_bus(tmp_path, monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    store = keyring_store(tmp_path / "store")
    with pytest.raises(KeyringUnavailable) as caught:
        store.write(record(1))
    message = str(caught.value)
    assert "no D-Bus session bus" in message and 'store = "file"' in message
    assert "\n" not in message
    assert not store.path("default").exists()


def test_auto_without_a_session_bus_falls_back_with_one_notice(tmp_path, monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    notices: list[str] = []
    store = TokenStore(tmp_path / "store", SecretPlacement({}, notice=notices.append))
    store.write(record(1))
    store.delete("default")
    TokenStore(tmp_path / "store", SecretPlacement({}, notice=notices.append)).write(record(2))
    assert len(notices) == 1 and "no keyring usable, no D-Bus session bus" in notices[0]
    assert "\n" not in notices[0]
    assert json.loads(store.path("default").read_text())["kept_in"] == "file"
