"""The terminal with both stores: sign-in, token, renewal, migrate, doctor, no keyring."""

from __future__ import annotations

import json

from tests.cli.conftest import cli, start_cli, stderr_lines
from tests.core.conftest import configure
from tests.oskeyring.conftest import keyring_entries, set_store
from tokenwarden.store import TokenStore

__all__ = ["start_cli"]


def _sign_in(make_devserver, home, start_cli, store: str):
    server = make_devserver()
    configure(home, server)
    set_store(home, store)
    login = start_cli(home, "login", "--no-browser")
    server.approve(login.user_code())
    assert login.finish() == 0, login.stderr
    return server


def _on_disk(home) -> dict:
    return json.loads((home / "store" / "default.json").read_text())


def test_keyring_profile_signs_in_renews_and_signs_out(secret_service, make_devserver, home,
                                                      start_cli):
    server = _sign_in(make_devserver, home, start_cli, "keyring")
    record = _on_disk(home)
    assert record["kept_in"] == "keyring" and record["refresh_token"] is None
    assert keyring_entries() == [f"default/{record['keyring_ref']}"]

    token = cli(home, "token")
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip() == TokenStore(home / "store").read("default").access_token

    renewed = cli(home, "refresh")
    assert renewed.returncode == 0, renewed.stderr
    assert server.stats()["refresh_ok"] == 1
    after = _on_disk(home)
    assert after["generation"] > record["generation"]
    assert keyring_entries() == [f"default/{after['keyring_ref']}"]
    assert cli(home, "token").stdout.strip() != token.stdout.strip()

    assert cli(home, "logout").returncode == 0
    assert keyring_entries() == []
    assert not (home / "store" / "default.json").exists()


def test_migrate_moves_a_signed_in_profile_both_ways(secret_service, make_devserver, home,
                                                    start_cli):
    server = _sign_in(make_devserver, home, start_cli, "auto")
    # auto with a keyring: a new sign-in goes to the keyring; put it in the file first
    to_file = cli(home, "store", "migrate", "--to", "file")
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout.strip() == ("default: the tokens moved to the 0600 store file; "
                                      "no new sign-in needed")
    assert _on_disk(home)["kept_in"] == "file" and keyring_entries() == []
    before = cli(home, "token").stdout

    to_keyring = cli(home, "store", "migrate", "--to", "keyring")
    assert to_keyring.returncode == 0, to_keyring.stderr
    assert _on_disk(home)["kept_in"] == "keyring" and _on_disk(home)["refresh_token"] is None
    assert cli(home, "token").stdout == before
    again = cli(home, "store", "migrate", "--to", "keyring")
    assert again.stdout.strip() == "default: the tokens are already in the OS keyring"
    # never signed in again: one device authorization in all (its polls are not sign-ins)
    assert server.stats()["device_authorizations"] == 1

    doctor = cli(home, "doctor", "--json")
    found = {f["check"]: f for f in json.loads(doctor.stdout)}
    assert found["keyring"]["level"] == "ok"
    assert found["keyring"]["detail"] == ('store = "auto", tokens in the keyring; the keyring '
                                          "is reachable and unlocked")
    assert cli(home, "logout", "--no-revoke").returncode == 0


def test_migrate_warns_when_the_config_would_move_the_tokens_back(secret_service,
                                                                 make_devserver, home,
                                                                 start_cli):
    _sign_in(make_devserver, home, start_cli, "file")
    moved = cli(home, "store", "migrate", "--to", "keyring")
    assert moved.returncode == 0
    assert stderr_lines(moved) == [
        'tokenwarden: default: config.toml says store = "file": set it to "keyring" or '
        '"auto", or the next renewal moves them back']
    assert cli(home, "logout", "--no-revoke").returncode == 0
    assert keyring_entries() == []


def test_without_a_keyring_keyring_refuses_and_auto_falls_back(make_devserver, home,
                                                               start_cli):
    server = make_devserver()
    configure(home, server)
    set_store(home, "keyring")
    refused = cli(home, "login", "--no-browser")
    assert refused.returncode == 2
    assert stderr_lines(refused) == [
        "tokenwarden: profile 'default' keeps its tokens in the keyring, but no D-Bus session "
        "bus (DBUS_SESSION_BUS_ADDRESS is not set, as over SSH or in a container): start one "
        'with a Secret Service such as gnome-keyring, or use store = "file"']
    assert "user_code" not in refused.stdout and not (home / "store" / "default.json").exists()

    doctor = json.loads(cli(home, "doctor", "--json").stdout)
    keyring = next(f for f in doctor if f["check"] == "keyring")
    assert keyring["level"] == "fail" and "no D-Bus session bus" in keyring["detail"]

    set_store(home, "auto")
    login = start_cli(home, "login", "--no-browser")
    server.approve(login.user_code())
    assert login.finish() == 0
    assert _on_disk(home)["kept_in"] == "file"
    notices = [line for line in login.stderr if "no keyring usable" in line]
    assert len(notices) == 1
    assert cli(home, "refresh").stderr == ""  # once: not again at the next write
    doctor = json.loads(cli(home, "doctor", "--json").stdout)
    keyring = next(f for f in doctor if f["check"] == "keyring")
    assert keyring["level"] == "ok" and keyring["detail"].startswith(
        'store = "auto", tokens in the file; keyring not usable: no D-Bus session bus')
