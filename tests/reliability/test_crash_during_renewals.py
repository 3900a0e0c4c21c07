"""kill -9 at random points of real renewals: the store parses, never goes back a
generation, and holds the newest tokens the server acknowledged; a kill between the
server's rotation and the store write is the "lost answer" case and ends `expired`
with a clear message on the next renewal, never a loop."""

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.core.conftest import configure, manager_for, sign_in
from tokenwarden.errors import SignInRequired
from tokenwarden.status import SessionState

RENEWER = textwrap.dedent("""
    import asyncio
    from tokenwarden.cli.commands import open_manager
    async def main():
        async with open_manager() as manager:
            await manager.endpoints()  # imports and discovery before the kill window
            print("ready", flush=True)
            while True:
                await manager.refresh()
    asyncio.run(main())
""")

TARGET_RENEWALS = int(os.environ.get("TW_CRASH_RENEWALS", "500"))


@pytest.mark.timeout(600)
async def test_kill_nine_during_renewals_never_loses_acknowledged_tokens(make_devserver, home):
    server = make_devserver(access_token_ttl=3600)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    store = manager.store
    rng = random.Random(11)
    base_generation = store.read("default").generation
    base_refreshes = 0
    last_generation = base_generation
    kills = lost_answers = 0
    while server.stats()["refresh_ok"] < TARGET_RENEWALS:
        renewer = subprocess.Popen([sys.executable, "-c", RENEWER], stdout=subprocess.PIPE,
                                   text=True, env=os.environ.copy())
        try:
            assert renewer.stdout.readline().strip() == "ready"
            await asyncio.sleep(rng.uniform(0.0, 1.0))
        finally:
            os.kill(renewer.pid, signal.SIGKILL)
            renewer.wait()
        kills += 1
        record = store.read("default")  # must parse
        assert record.generation >= last_generation
        last_generation = record.generation
        acknowledged = server.stats()["refresh_ok"] - base_refreshes
        written = record.generation - base_generation
        assert acknowledged - written in (0, 1)
        if acknowledged - written == 1:
            lost_answers += 1
            await assert_lost_answer_ends_expired(manager)
            await sign_in(manager, server)
            base_generation = store.read("default").generation
            last_generation = base_generation
            base_refreshes = server.stats()["refresh_ok"]
    print(f"renewals={server.stats()['refresh_ok']} kills={kills} lost_answers={lost_answers}")
    await manager.close()


async def assert_lost_answer_ends_expired(manager):
    with contextlib.suppress(SignInRequired):
        await manager.refresh()
    status = manager.status()
    assert status.state is SessionState.EXPIRED
    assert "sign in again" in status.message
