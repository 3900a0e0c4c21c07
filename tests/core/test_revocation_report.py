"""Logout says, in one line, whenever the provider could not revoke the grant."""

import subprocess
import sys

import pytest

from tests.core.conftest import configure, manager_for, sign_in
from tokenwarden.config import write_profile
from tokenwarden.status import SessionState

STAYS = "the refresh token stays valid there until it expires"


async def test_a_revoked_grant_leaves_a_plain_signed_out_status(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)

    status = await manager.logout()

    assert status.state is SessionState.SIGNED_OUT and status.last_error is None
    assert server.stats()["revocations"] == 1
    await manager.close()


@pytest.mark.parametrize(("fault", "code", "said"), [
    ({"kind": "status", "status": 401, "error": "invalid_client"}, "revocation_refused",
     f"the provider refused to revoke (HTTP 401): {STAYS}"),
    ({"kind": "empty", "status": 400}, "revocation_refused",
     f"the provider refused to revoke (HTTP 400): {STAYS}"),
    ({"kind": "status", "status": 503}, "revocation_failed",
     f"the provider failed to revoke (HTTP 503): {STAYS}"),
    ({"kind": "drop"}, "revocation_failed", f"could not reach the provider to revoke: {STAYS}"),
], ids=["refused401", "refused400", "failed503", "network"])
async def test_logout_reports_a_revocation_that_did_not_happen(
    make_devserver, home, fault, code, said
):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    server.add_fault("revoke", **fault)

    status = await manager.logout()

    assert status.state is SessionState.SIGNED_OUT
    assert status.last_error is not None and status.last_error.code == code
    assert status.last_error.message == said
    assert status.message == f"Signed out · {said}"
    assert status.to_wire()["lastError"]["code"] == code
    assert manager.store.read("default") is None  # signed out locally all the same
    await manager.close()


async def test_logout_without_a_revocation_endpoint_says_so(make_devserver, home):
    server = make_devserver()
    write_profile(home / "config.toml", "default", {
        "issuer": server.issuer, "client_id": "tokenwarden-tests",
        "device_authorization_endpoint": server.url("/device_authorization"),
        "token_endpoint": server.url("/token"),
    })
    manager = manager_for(home)
    await sign_in(manager, server)

    status = await manager.logout()

    assert status.last_error is not None and status.last_error.code == "revocation_unsupported"
    assert status.message == f"Signed out · the provider has no revocation endpoint: {STAYS}"
    assert server.stats()["revocations"] == 0
    await manager.close()


async def test_the_logout_command_prints_the_refusal_in_one_line(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    await manager.close()
    server.add_fault("revoke", kind="status", status=401, error="invalid_client")

    done = subprocess.run([sys.executable, "-m", "tokenwarden", "logout"],
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 0
    lines = done.stdout.strip().splitlines()
    assert lines == [f"default: Signed out · the provider refused to revoke (HTTP 401): {STAYS}"]


async def test_a_refused_revocation_is_one_line_on_the_terminal(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    await manager.close()
    server.add_fault("revoke", kind="empty", status=401)

    done = subprocess.run([sys.executable, "-m", "tokenwarden", "logout"],
                          capture_output=True, text=True, timeout=60)

    assert done.stderr == ""
    assert "malformed_response" not in done.stdout
    assert done.stdout.strip().splitlines() == [
        f"default: Signed out · the provider refused to revoke (HTTP 401): {STAYS}"]
