"""After a wake every process finds its token due at once: exactly one of them renews.

The scale benchmark saw a second renewal right after a simulated suspend. Two causes,
one test each: a process that waited for the lock while the winner renewed must take
the winner's token even when the machine was slow enough for it to be in the advisory
window already; and the store keeps its times to the millisecond, so a short token is
not due up to a second early.
"""

import asyncio

import filelock

from tests.core.conftest import configure, manager_for, sign_in
from tests.reliability.clocks import ManualClock
from tokenwarden.clock import SystemClock
from tokenwarden.policy import TokenState, token_state


async def wait_for(condition, timeout=20.0):
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def lock_is_held(manager) -> bool:
    probe = manager.store.file_lock("default")
    try:
        probe.acquire(timeout=0)
    except filelock.Timeout:
        return True
    probe.release()
    return False


async def test_a_process_that_waited_for_the_lock_takes_the_token_renewed_meanwhile(
    make_devserver, home
):
    server = make_devserver(access_token_ttl=6)
    configure(home, server)
    clock = ManualClock(SystemClock().now())
    winner, loser = manager_for(home, clock=clock), manager_for(home, clock=clock)
    await sign_in(winner, server)
    clock.suspend(8 * 3600)  # both wake with an expired token
    server.reset_stats()
    server.add_fault("token", "delay", delay=1.5, grant_type="refresh_token")
    first = asyncio.ensure_future(winner.get_token(min_validity=1))
    await wait_for(lambda: lock_is_held(winner))  # the winner's refresh is on its way
    second = asyncio.ensure_future(loser.get_token(min_validity=1))
    await asyncio.sleep(0.3)
    # A loaded machine: by the time the loser gets the lock, the new token is in its
    # advisory window (3.5 s of its 6), still good for what the loser asked.
    clock.advance(3.5)
    issued = await asyncio.wait_for(asyncio.gather(first, second), 30)
    assert issued[0] == issued[1]  # the same token (its value stays out of the report)
    assert server.stats()["token_requests"]["refresh_token"] == 1
    await winner.close()
    await loser.close()


async def test_a_renewed_short_token_is_not_due_before_its_advisory_window(
    make_devserver, home
):
    server = make_devserver(access_token_ttl=6)
    configure(home, server)
    clock = ManualClock(SystemClock().now().replace(microsecond=999000))  # hh:mm:ss.999
    manager = manager_for(home, clock=clock)
    await sign_in(manager, server)
    await manager.refresh()
    assert manager.store.read("default").obtained_at == clock.now()
    clock.advance(6 * 0.4)  # the earliest advisory window opens at 45 % of its life
    record = manager.store.read("default")
    assert token_state(record.times, clock.now(), manager.policy, 0.999) is TokenState.FRESH
    await manager.close()
