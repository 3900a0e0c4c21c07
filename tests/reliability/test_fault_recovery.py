"""Background renewal through an outage: nobody is signed out while the token is valid,
retries back off with jitter under the cap, and renewal resumes soon after the fault clears."""

import asyncio
import itertools
import time

from tests.core.conftest import configure, manager_for, sign_in
from tokenwarden.status import SessionState


async def test_outage_then_recovery_within_the_backoff_cap(make_devserver, home):
    server = make_devserver(access_token_ttl=16)
    configure(home, server)
    manager = manager_for(home, background=True)
    states: list[SessionState] = []
    manager.subscribe(lambda event: states.append(getattr(event, "state", None)))
    await sign_in(manager, server)
    manager.watch()
    server.add_fault("token", "status", status=503, count=3, grant_type="refresh_token")
    while sum(server.stats()["faults_applied"].values()) < 3:
        await asyncio.sleep(0.05)
        assert (await manager.get_token(min_validity=0)).access_token
    cleared = time.monotonic()
    while server.stats()["refresh_ok"] < 1:
        await asyncio.sleep(0.02)
    recovery = time.monotonic() - cleared
    cap = min(manager.policy.backoff_cap_seconds, 16 * manager.policy.backoff_cap_fraction)
    attempts = [e for e in server.events() if e.get("grant_type") == "refresh_token"]
    gaps = [_seconds(b["time"]) - _seconds(a["time"]) for a, b in itertools.pairwise(attempts)]
    print(f"\nrecovery after fault cleared: {recovery:.2f} s (cap {cap:.2f} s); "
          f"retry gaps: {[round(g, 2) for g in gaps]}")
    assert SessionState.SIGNED_OUT not in states and SessionState.EXPIRED not in states
    assert SessionState.DEGRADED in states
    assert recovery <= cap + 0.5
    assert all(gap <= cap + 0.5 for gap in gaps)
    # The server counts the renewal before its answer reaches us: allow the write.
    for _ in range(100):
        if manager.status().state is SessionState.SIGNED_IN:
            break
        await asyncio.sleep(0.05)
    assert manager.status().state is SessionState.SIGNED_IN
    await manager.close()


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
