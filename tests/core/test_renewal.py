"""Silent renewal with rotating refresh tokens, over real HTTP."""

import asyncio
import hashlib
import time

import httpx2
import pytest

from tests.core.conftest import configure, manager_for, sign_in
from tokenwarden.clock import FakeClock, SystemClock
from tokenwarden.errors import SignInRequired
from tokenwarden.status import SessionState


async def accepted(server, token: str) -> bool:
    async with httpx2.AsyncClient(trust_env=False) as http:
        answer = await http.get(server.url("/userinfo"),
                                headers={"Authorization": f"Bearer {token}"})
    return answer.status_code == 200


async def test_background_renewal_rotates_three_times_and_every_token_works(
    make_devserver, home
):
    server = make_devserver(access_token_ttl=2)
    configure(home, server)
    manager = manager_for(home, background=True)
    await sign_in(manager, server)
    manager.watch()
    seen: list[str] = []
    deadline = time.monotonic() + 20
    while len(seen) < 4 and time.monotonic() < deadline:
        issued = await manager.get_token(min_validity=0.5)
        fingerprint = hashlib.sha256(issued.access_token.encode()).hexdigest()[:8]
        if not seen or seen[-1] != fingerprint:
            seen.append(fingerprint)
            assert await accepted(server, issued.access_token)
        await asyncio.sleep(0.1)
    stats = server.stats()
    assert stats["refresh_ok"] >= 3
    assert stats["invalid_grant"] == 0 and stats["reuse_detected"] == 0
    assert len(seen) >= 4
    # 2-second tokens renew about every second: the next renewal may be under way.
    assert manager.status().state in (SessionState.SIGNED_IN, SessionState.REFRESHING)
    await manager.close()


async def test_get_token_renews_first_when_the_token_is_too_short_lived(make_devserver, home):
    server = make_devserver(access_token_ttl=3)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    first = await manager.get_token(min_validity=1)
    await asyncio.sleep(1.8)
    second = await manager.get_token(min_validity=1)
    assert second.access_token != first.access_token
    left = (second.expires_at - SystemClock().now()).total_seconds()
    assert left >= 1
    await manager.close()


async def test_hundred_concurrent_get_token_calls_send_one_refresh(make_devserver, home):
    server = make_devserver(access_token_ttl=2)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    await asyncio.sleep(1.6)
    server.reset_stats()
    tokens = await asyncio.gather(*(manager.get_token(min_validity=1) for _ in range(100)))
    assert len({t.access_token for t in tokens}) == 1
    assert server.stats()["token_requests"].get("refresh_token") == 1
    await manager.close()


async def test_reported_401_renews_once_and_never_hands_out_the_rejected_token(
    make_devserver, home
):
    server = make_devserver(access_token_ttl=3600)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    old = await manager.get_token()
    server.expire_access_tokens()
    new = await manager.token_rejected(None, old.access_token)
    assert new.access_token != old.access_token
    assert await accepted(server, new.access_token)
    again = await manager.token_rejected(None, old.access_token)
    assert again.access_token == new.access_token
    assert server.stats()["token_requests"]["refresh_token"] == 1
    await manager.close()


async def test_eight_hour_wall_clock_jump_never_hands_out_a_stale_token(make_devserver, home):
    server = make_devserver(access_token_ttl=3600)
    configure(home, server)
    clock = FakeClock(SystemClock().now())
    manager = manager_for(home, clock=clock)
    await sign_in(manager, server)
    before = await manager.get_token()
    clock.jump(8 * 3600)
    after = await manager.get_token(min_validity=60)
    assert after.access_token != before.access_token
    assert (after.expires_at - clock.now()).total_seconds() >= 60
    await manager.close()


async def test_revoked_grant_ends_the_session_without_a_loop(make_devserver, home):
    server = make_devserver(access_token_ttl=2)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    server.revoke_all()
    await asyncio.sleep(2.1)
    with pytest.raises(SignInRequired):
        await manager.get_token(min_validity=1)
    with pytest.raises(SignInRequired):
        await manager.get_token(min_validity=1)
    status = manager.status()
    assert status.state is SessionState.EXPIRED
    assert "sign in again" in status.message
    assert server.stats()["token_requests"]["refresh_token"] == 1
    await manager.close()


async def test_background_loop_retries_after_the_back_off_of_a_renewal_it_joined(
    make_devserver, home
):
    """The loop wakes while another caller's renewal is in flight; that one fails.

    The loop must join it and plan its retry after the back-off, not sleep until the
    token expires (which is what it did when it skipped in-flight renewals).
    """
    server = make_devserver(access_token_ttl=8)
    configure(home, server)
    manager = manager_for(home, background=True)
    await sign_in(manager, server)
    expires_at = manager.store.read("default").expires_at
    holder = manager.store.file_lock("default")
    holder.acquire()  # hold every renewal at the lock, as another process would
    try:
        manager.watch()
        refresh = asyncio.create_task(manager.refresh())  # in flight, waiting for the lock
        left = (expires_at - manager.clock.now()).total_seconds()
        # The loop wakes when 50-55 % of the lifetime is left (the jittered advisory window).
        await asyncio.sleep(max(0.0, left - 8 * 0.5) + 0.5)
        server.add_fault("token", "status", status=503, count=1, grant_type="refresh_token")
    finally:
        holder.release()
    await refresh  # failed with the 503, and backed off (under 2 s for an 8 s token)
    while server.stats()["refresh_ok"] < 1:
        assert manager.clock.now() < expires_at, "renewed only once the token had expired"
        await asyncio.sleep(0.05)
    assert (expires_at - manager.clock.now()).total_seconds() > 1.0
    await manager.close()
