"""A refresh refused with 400/401/403, whatever the body, ends the session: no retry loop."""

import asyncio
import subprocess
import sys

import pytest

from tests.core.conftest import configure, manager_for, sign_in
from tokenwarden.errors import SignInRequired
from tokenwarden.status import SessionState

REFUSALS = [
    ({"kind": "empty", "status": 400}, "HTTP 400"),  # Glewlwyd
    ({"kind": "html", "status": 401}, "HTTP 401"),
    ({"kind": "garbage", "status": 403}, "HTTP 403"),
    ({"kind": "status", "status": 401, "error": "invalid_client",
      "error_description": "client authentication failed"}, "HTTP 401: invalid_client"),
    ({"kind": "status", "status": 400, "error": "invalid_request"}, "HTTP 400: invalid_request"),
]


@pytest.mark.parametrize(("fault", "named"), REFUSALS,
                         ids=lambda v: v["kind"] + str(v["status"]) if isinstance(v, dict) else "")
async def test_a_refused_refresh_ends_in_expired_naming_the_status(
    make_devserver, home, fault, named
):
    server = make_devserver(access_token_ttl=60)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    server.add_fault("token", grant_type="refresh_token", **fault)

    with pytest.raises(SignInRequired) as refused:
        await manager.refresh()

    assert named in refused.value.message
    status = manager.status()
    assert status.state is SessionState.EXPIRED
    assert named in status.message and "sign in again" in status.message
    assert status.last_error is not None and named in status.last_error.message
    # Final: no valid token is served, and asking again sends no further request.
    for _ in range(2):
        with pytest.raises(SignInRequired) as caught:
            await manager.get_token(min_validity=3600)
        assert named in caught.value.message
    assert server.stats()["token_requests"]["refresh_token"] == 1
    await manager.close()


@pytest.mark.parametrize("fault", [
    {"kind": "status", "status": 400, "error": "temporarily_unavailable"},
    {"kind": "rate_limit", "retry_after": 1},
    {"kind": "empty", "status": 503},
], ids=["temporarily_unavailable400", "rate_limit429", "empty503"])
async def test_a_refresh_that_says_try_later_is_retried(make_devserver, home, fault):
    server = make_devserver(access_token_ttl=60)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    server.add_fault("token", grant_type="refresh_token", **fault)

    status = await manager.refresh()

    assert status.state is SessionState.DEGRADED
    await manager.close()


async def test_token_command_exits_3_once_an_empty_400_refused_the_refresh(
    make_devserver, home
):
    server = make_devserver(access_token_ttl=2)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    await manager.close()
    server.add_fault("token", kind="empty", status=400, grant_type="refresh_token", count=5)
    await asyncio.sleep(2.2)

    def token() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tokenwarden", "token"],
                              capture_output=True, text=True, timeout=60)

    first, second = await asyncio.to_thread(token), await asyncio.to_thread(token)
    assert (first.returncode, second.returncode) == (3, 3), first.stderr
    assert "HTTP 400" in first.stderr.strip().splitlines()[-1]
    assert "HTTP 400" in second.stderr.strip().splitlines()[-1]
    assert server.stats()["token_requests"]["refresh_token"] == 1


async def test_a_refused_renewal_of_a_still_valid_token_is_one_line(make_devserver, home):
    server = make_devserver(access_token_ttl=4)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    await manager.close()
    server.add_fault("token", kind="empty", status=400, grant_type="refresh_token")

    def token() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "tokenwarden", "token", "--min-validity", "3600"],
            capture_output=True, text=True, timeout=60)

    # The stored token is served until it is due for renewal; the call that renews
    # is refused. Bounded: 4 s tokens are due within a few calls.
    for _ in range(40):
        done = await asyncio.to_thread(token)
        if done.returncode != 0:
            break
        await asyncio.sleep(0.25)

    assert done.returncode == 3 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "HTTP 400" in done.stderr
    assert server.stats()["token_requests"]["refresh_token"] == 1
