"""A sign-in running in another process (a terminal's ``tokenwarden login``) is joined."""

from __future__ import annotations

import asyncio

from tests.browser.cli import LoginProcess, login_env
from tests.core.conftest import configure, manager_for
from tokenwarden.status import SessionState, Status


async def test_a_manager_joins_the_sign_in_of_a_terminal_and_waits_for_it(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    login = await LoginProcess.start(login_env(home), "--flow", "device", "--no-browser")
    try:
        kind, user_code = await login.instructions()
        assert kind == "device"
        manager = manager_for(home)
        joined = await manager.start_login()
        assert isinstance(joined, Status) and joined.state is SessionState.SIGNING_IN
        assert joined.login.user_code == user_code and joined.login.elsewhere
        waiting = asyncio.ensure_future(manager.wait_login())
        server.approve(user_code)
        status = await asyncio.wait_for(waiting, 20)
        assert status.state is SessionState.SIGNED_IN
        code, out, err = await login.finish()
        assert code == 0, out + err
        assert server.stats()["device_authorizations"] == 1
        await manager.close()
    finally:
        await login.stop()


async def test_a_second_terminal_login_joins_the_first(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    first = await LoginProcess.start(login_env(home), "--flow", "device", "--no-browser")
    second = None
    try:
        _, user_code = await first.instructions()
        second = await LoginProcess.start(login_env(home), "--no-browser")
        kind, shown = await second.instructions()
        assert (kind, shown) == ("device", user_code)
        server.approve(user_code)
        for login in (first, second):
            code, out, err = await login.finish()
            assert code == 0, out + err
        assert "already in progress" in "".join(second.lines)
        assert server.stats()["device_authorizations"] == 1
    finally:
        await first.stop()
        if second is not None:
            await second.stop()
