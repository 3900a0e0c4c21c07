"""A stored grant is bound to the provider settings it was obtained with (issue 13 item 2).

An override that keeps the issuer but moves the token or revocation endpoint (or the
client) must never receive the stored refresh token, and its answers must never
clear the real session. Each test drives the real CLI against a real dev server and
an "attacker" dev server on 127.0.0.1.
"""

from __future__ import annotations

import json

from tests.cli.conftest import cli
from tests.cli.disk import one_line, snapshot
from tests.core.conftest import configure, manager_for, sign_in
from tokenwarden.config import write_profile

CHANGED = "the provider settings of profile default changed since sign-in: sign in again"


async def signed_in(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    await manager.close()
    return server


def override(home, server, **keys):
    write_profile(home / "config.toml", "default", {
        "issuer": server.issuer, "client_id": "tokenwarden-tests",
        "scopes": ["openid", "offline_access"], **keys,
    })


async def test_the_record_names_the_endpoints_and_client_of_its_grant(make_devserver, home):
    server = await signed_in(make_devserver, home)
    record = json.loads((home / "store" / "default.json").read_text(encoding="utf-8"))
    assert record["issuer"] == server.issuer
    assert record["client_id"] == "tokenwarden-tests"
    assert record["token_endpoint"] == server.url("/token")
    assert record["revocation_endpoint"] == server.url("/revoke")


async def test_a_moved_token_endpoint_never_receives_the_grant(make_devserver, home):
    server = await signed_in(make_devserver, home)
    attacker = make_devserver()
    override(home, server, token_endpoint=attacker.url("/token"),
             revocation_endpoint=attacker.url("/revoke"))
    store_before = snapshot(home / "store")
    server.reset_stats()

    token = cli(home, "token")
    refresh = cli(home, "refresh")
    logout = cli(home, "logout")
    status = cli(home, "status", "--json")

    assert token.returncode == 3 and token.stdout == ""
    assert CHANGED in one_line(token.stderr)
    assert refresh.returncode == 3
    assert CHANGED in one_line(refresh.stderr)
    assert logout.returncode == 0, logout.stderr
    assert json.loads(status.stdout)["state"] == "expired"
    assert json.loads(status.stdout)["message"] == CHANGED
    assert json.loads(status.stdout)["lastError"]["code"] == "provider_settings_changed"
    seen = attacker.stats()
    assert seen["token_requests"] == {} and seen["revocations"] == 0, seen
    assert server.stats()["token_requests"] == {}
    assert snapshot(home / "store") == store_before  # the real session is untouched


async def test_another_client_id_gets_no_fast_path_token(make_devserver, home):
    server = await signed_in(make_devserver, home)
    write_profile(home / "config.toml", "default", {
        "issuer": server.issuer, "client_id": "someone-else", "scopes": ["openid"]})
    done = cli(home, "token")
    assert done.returncode == 3 and done.stdout == ""
    assert CHANGED in one_line(done.stderr)


async def test_a_record_from_before_binding_is_used_and_bound_at_its_next_write(
        make_devserver, home):
    server = await signed_in(make_devserver, home)
    path = home / "store" / "default.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    for key in ("token_endpoint", "revocation_endpoint"):
        del record[key]
    path.write_text(json.dumps(record), encoding="utf-8")

    token = cli(home, "token")
    refresh = cli(home, "refresh")

    assert token.returncode == 0 and token.stdout.strip() == record["access_token"]
    assert refresh.returncode == 0, refresh.stderr
    renewed = json.loads(path.read_text(encoding="utf-8"))
    assert renewed["token_endpoint"] == server.url("/token")
    assert renewed["revocation_endpoint"] == server.url("/revoke")
    assert renewed["generation"] == record["generation"] + 1


async def test_signing_in_again_replaces_a_mismatched_session(make_devserver, home):
    server = await signed_in(make_devserver, home)
    write_profile(home / "config.toml", "default", {
        "issuer": server.issuer, "client_id": "someone-else", "scopes": ["openid"]})
    manager = manager_for(home)
    assert manager.status().state.value == "expired"
    await sign_in(manager, server)  # asserts signedIn
    await manager.close()
    done = cli(home, "token")
    record = json.loads((home / "store" / "default.json").read_text(encoding="utf-8"))
    assert done.returncode == 0 and done.stdout.strip() == record["access_token"]
    assert record["client_id"] == "someone-else"
