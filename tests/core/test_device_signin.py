"""Device sign-in (RFC 8628) against the dev server over real HTTP."""

import asyncio

from tests.core.conftest import configure, manager_for, sign_in
from tokenwarden.clock import SystemClock
from tokenwarden.device import wait_for_approval
from tokenwarden.oauth import DeviceAuthorization, OAuthClient
from tokenwarden.status import SessionState


async def test_device_sign_in_ends_signed_in_with_the_account(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    status = manager.status()
    assert status.state is SessionState.SIGNED_IN
    assert status.account == "alice@example.test"
    assert status.refreshable
    await manager.close()


async def test_denied_sign_in_ends_signed_out_with_the_reason(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await manager.start_login()
    server.deny(started.user_code)
    status = await asyncio.wait_for(manager.wait_login(), 10)
    assert status.state is SessionState.SIGNED_OUT
    assert status.last_error is not None and status.last_error.code == "access_denied"
    await manager.close()


async def test_expired_code_ends_the_sign_in(make_devserver, home):
    server = make_devserver(device_code_ttl=0.5)
    configure(home, server)
    manager = manager_for(home)
    await manager.start_login()
    status = await asyncio.wait_for(manager.wait_login(), 10)
    assert status.state is SessionState.SIGNED_OUT
    assert status.last_error is not None and status.last_error.code == "expired_token"
    await manager.close()


class RecordingClock(SystemClock):
    """Real wall time; sleeps are recorded and shortened so the test stays fast."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0.01)


async def test_slow_down_adds_five_seconds_to_every_later_poll(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    profile = manager.config.profile()
    client = OAuthClient(profile, timeout=5)
    started = await client.device_authorize()
    server.add_fault("token", "status", status=400, error="slow_down", count=2)
    clock = RecordingClock()
    poll = asyncio.ensure_future(wait_for_approval(client, started, clock))
    while len(clock.sleeps) < 3:
        await asyncio.sleep(0.01)
    server.approve(started.user_code)
    token = await asyncio.wait_for(poll, 10)
    assert token.access_token
    assert clock.sleeps[:3] == [0, 5, 10]
    assert all(s == 10 for s in clock.sleeps[3:])
    await client.aclose()
    await manager.close()


async def test_cancelled_sign_in_stops_polling(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    started = await manager.start_login()
    assert isinstance(started, DeviceAuthorization)
    assert await manager.cancel_login() is True
    assert manager.status().state is SessionState.SIGNED_OUT
    await manager.close()


async def test_sign_in_when_signed_in_returns_the_status(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    again = await manager.start_login()
    assert not isinstance(again, DeviceAuthorization)
    assert again.state is SessionState.SIGNED_IN
    await manager.close()


async def test_logout_revokes_the_grant_at_the_provider(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    status = await manager.logout()
    assert status.state is SessionState.SIGNED_OUT
    assert server.stats()["grants_revoked"] >= 1
    await manager.close()
