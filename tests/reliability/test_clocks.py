"""Wall-clock jumps and suspends: no stale token is handed out, one renewal on wake."""

import asyncio

from tests.core.conftest import configure, manager_for, sign_in
from tests.reliability.clocks import ManualClock
from tokenwarden.clock import SystemClock


async def wait_for(condition, timeout=10.0):
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def signed_in_watched(make_devserver, home, **server):
    devserver = make_devserver(**server)
    configure(home, devserver)
    clock = ManualClock(SystemClock().now())
    manager = manager_for(home, clock=clock, background=True)
    await sign_in(manager, devserver)
    manager.watch()
    await asyncio.sleep(0.05)
    devserver.reset_stats()
    return devserver, clock, manager


async def test_eight_hour_suspend_renews_once_on_wake(make_devserver, home):
    server, clock, manager = await signed_in_watched(make_devserver, home, access_token_ttl=3600)
    before = manager.store.read("default").access_token
    clock.suspend(8 * 3600)
    clock.advance(61)  # the capped sleep ends a minute after wake
    await wait_for(lambda: server.stats()["refresh_ok"] >= 1)
    await asyncio.sleep(0.2)
    issued = await manager.get_token(min_validity=60)
    assert issued.access_token != before
    assert (issued.expires_at - clock.now()).total_seconds() > 3000
    assert server.stats()["token_requests"]["refresh_token"] == 1
    await manager.close()


async def test_wall_clock_set_back_renews_instead_of_trusting_old_expiry(make_devserver, home):
    server, clock, manager = await signed_in_watched(make_devserver, home, access_token_ttl=3600)
    clock.set_back(2 * 3600)
    clock.advance(61)
    await wait_for(lambda: server.stats()["refresh_ok"] >= 1)
    await asyncio.sleep(0.2)
    assert server.stats()["token_requests"]["refresh_token"] == 1
    await manager.close()


async def test_suspend_while_a_renewal_is_in_flight_never_serves_a_stale_token(
    make_devserver, home
):
    server = make_devserver(access_token_ttl=3600)
    configure(home, server)
    clock = ManualClock(SystemClock().now())
    manager = manager_for(home, clock=clock)
    await sign_in(manager, server)
    server.add_fault("token", "delay", delay=0.5, grant_type="refresh_token")
    in_flight = asyncio.ensure_future(manager.refresh())
    await asyncio.sleep(0.2)
    clock.suspend(8 * 3600)  # the answer arrives after the laptop wakes
    await in_flight
    issued = await manager.get_token(min_validity=60)
    assert (issued.expires_at - clock.now()).total_seconds() > 3000
    assert server.stats()["token_requests"]["refresh_token"] == 2
    await manager.close()
