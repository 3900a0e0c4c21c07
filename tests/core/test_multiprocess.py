"""Eight processes share one rotating refresh token: one refresh per rotation, no losers."""

import asyncio
import json
import subprocess
import sys
import textwrap
import time

from tests.core.conftest import configure, manager_for, sign_in

WORKER = textwrap.dedent("""
    import json, os, subprocess, sys
    codes = []
    while not os.path.exists(sys.argv[1]) or not codes:
        done = subprocess.run([sys.executable, "-m", "tokenwarden", "token",
                               "--min-validity", "1"], capture_output=True, text=True)
        codes.append(done.returncode)
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
    print(json.dumps(codes))
""")


async def test_eight_processes_share_one_refresh_per_rotation(make_devserver, home, tmp_path):
    server = make_devserver(access_token_ttl=3)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    await manager.close()
    server.reset_stats()

    stop = tmp_path / "stop"
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(stop)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(8)]
    deadline = time.monotonic() + 90
    while server.stats()["refresh_ok"] < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    stop.touch()
    results = [worker.communicate(timeout=60) for worker in workers]

    codes = [code for out, _ in results for code in json.loads(out)]
    errors = "".join(err for _, err in results)
    stats = server.stats()
    assert codes.count(0) == len(codes), errors
    assert stats["refresh_ok"] >= 3
    assert stats["token_requests"]["refresh_token"] == stats["refresh_ok"]
    assert stats["invalid_grant"] == 0
    assert stats["reuse_detected"] == 0
    assert manager_for(home).status().state.value == "signedIn"
    print(f"processes=8 calls={len(codes)} rotations={stats['refresh_ok']} "
          f"refresh_requests={stats['token_requests']['refresh_token']} at {time.time():.0f}")
