"""Faults at the token endpoint while the access token is still valid: nobody is signed out."""

import asyncio

import pytest

from tests.core.conftest import configure, manager_for, sign_in
from tokenwarden.errors import SignInRequired
from tokenwarden.status import SessionState

TRANSIENT_FAULTS = [
    {"kind": "status", "status": 503},
    {"kind": "status", "status": 500},
    {"kind": "rate_limit", "retry_after": 1},
    {"kind": "drop"},
    {"kind": "reset"},
    {"kind": "html"},
    {"kind": "truncated_json"},
    {"kind": "error_200"},
    {"kind": "garbage"},
    {"kind": "delay", "delay": 3},
]


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS, ids=lambda f: f["kind"] + str(f.get("status", "")))
async def test_fault_keeps_the_valid_token_served_and_recovers(make_devserver, home, fault):
    server = make_devserver(access_token_ttl=60)
    configure(home, server, http_timeout_seconds=1.5)
    manager = manager_for(home)
    await sign_in(manager, server)
    before = await manager.get_token()
    server.add_fault("token", grant_type="refresh_token", **fault)

    status = await manager.refresh()

    assert status.state is SessionState.DEGRADED
    assert status.last_error is not None
    served = await manager.get_token(min_validity=30)
    assert served.access_token == before.access_token
    recovered = await manager.refresh()
    assert recovered.state is SessionState.SIGNED_IN
    assert (await manager.get_token()).access_token != before.access_token
    await manager.close()


async def test_retry_after_is_honoured_before_the_next_attempt(make_devserver, home):
    server = make_devserver(access_token_ttl=60)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    server.add_fault("token", "rate_limit", retry_after=30, grant_type="refresh_token")
    await manager.refresh()
    record = manager.store.read("default")
    wait = (record.next_attempt_at - manager.clock.now()).total_seconds()
    assert 28 <= wait <= 31
    await manager.close()


async def test_lost_answer_ends_expired_with_a_clear_message_not_a_loop(make_devserver, home):
    server = make_devserver(access_token_ttl=2)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    server.add_fault("token", "lost_answer", grant_type="refresh_token")
    await asyncio.sleep(1.6)
    outcomes = []
    for _ in range(50):  # paced: the still-valid token is served until it expires
        try:
            await manager.get_token(min_validity=1)
            outcomes.append("token")
        except SignInRequired:
            outcomes.append("sign-in")
            break
        except Exception as exc:  # TemporarilyUnavailable while backing off
            outcomes.append(type(exc).__name__)
        await asyncio.sleep(0.2)
    assert outcomes[-1] == "sign-in"
    status = manager.status()
    assert status.state is SessionState.EXPIRED
    assert status.last_error is not None and status.last_error.code == "invalid_grant"
    assert "sign in again" in status.message
    assert server.stats()["token_requests"]["refresh_token"] <= 3
    await manager.close()
