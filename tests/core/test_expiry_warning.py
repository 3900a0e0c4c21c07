"""The "session ends soon" warning: once before the end, once when it has ended."""

import asyncio
import time

from tests.core.conftest import configure, manager_for, sign_in
from tokenwarden.session import ExpiryWarning


async def test_warning_is_given_once_across_renewals_then_once_at_the_end(make_devserver, home):
    server = make_devserver(access_token_ttl=2, refresh_token_ttl=9,
                            absolute_refresh_expiry=True)
    configure(home, server)
    manager = manager_for(home, background=True, warn_before_seconds=60)
    warnings: list[ExpiryWarning] = []
    manager.subscribe(lambda e: warnings.append(e) if isinstance(e, ExpiryWarning) else None)
    await sign_in(manager, server)
    manager.watch()
    deadline = time.monotonic() + 20
    while not any(w.ended for w in warnings) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await manager.close()
    assert server.stats()["refresh_ok"] >= 3
    assert [w.ended for w in warnings] == [False, True]
