"""No token, refresh token or device code ever reaches a log line or an error message."""

import asyncio
import logging
import subprocess
import sys

from tests.core.conftest import configure, manager_for, sign_in
from tokenwarden.errors import TokenwardenError


async def test_logs_of_a_whole_lifecycle_hold_no_secret(make_devserver, home, caplog):
    caplog.set_level(logging.DEBUG)
    server = make_devserver(access_token_ttl=2)
    configure(home, server)
    manager = manager_for(home)
    started = await sign_in(manager, server)
    secrets = {started.device_code}
    record = manager.store.read("default")
    secrets |= {record.access_token, record.refresh_token}
    for fault in ("status", "lost_answer"):
        await asyncio.sleep(1.1)
        server.add_fault("token", fault, status=503, grant_type="refresh_token")
        messages = []
        for _ in range(3):
            try:
                issued = await manager.get_token(min_validity=1)
                secrets.add(issued.access_token)
            except TokenwardenError as exc:
                messages.append(exc.message)
            current = manager.store.read("default")
            secrets |= {current.access_token, current.refresh_token} - {None}
            # Past the back-off (at most 0.125 s for a 2 s token): the next call renews,
            # so new tokens are issued whatever the machine's speed.
            await asyncio.sleep(0.15)
    cli = subprocess.run([sys.executable, "-m", "tokenwarden", "-vv", "status", "--json"],
                         capture_output=True, text=True)
    await manager.close()
    haystack = caplog.text + cli.stderr + "\n".join(messages)
    haystack += "".join(str(e) for e in server.events())
    assert len(secrets) >= 4
    leaked = [s[:4] + "…" for s in secrets if s and s in haystack]
    assert leaked == []
