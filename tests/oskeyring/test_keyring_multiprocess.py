"""Eight processes share one rotating refresh token kept in the keyring: one refresh each."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest

from tests.core.conftest import configure, sign_in
from tests.core.test_multiprocess import WORKER
from tests.oskeyring.conftest import keyring_entries, set_store
from tokenwarden.config import load_config
from tokenwarden.paths import locations
from tokenwarden.secretstore import placement_for
from tokenwarden.session import SessionManager
from tokenwarden.store import TokenStore


def _manager(home) -> SessionManager:
    where = locations({"TOKENWARDEN_HOME": str(home)})
    config = load_config(where, env={})
    return SessionManager(config, TokenStore(where.store_dir, placement_for(config)))


@pytest.mark.timeout(300)
async def test_eight_processes_one_refresh_per_rotation_with_the_keyring(
        secret_service, make_devserver, home, tmp_path):
    server = make_devserver(access_token_ttl=3)
    configure(home, server)
    set_store(home, "keyring")
    manager = _manager(home)
    await sign_in(manager, server)
    await manager.close()
    assert json.loads((home / "store" / "default.json").read_text())["kept_in"] == "keyring"
    server.reset_stats()

    stop = tmp_path / "stop"
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(stop)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(8)]
    deadline = time.monotonic() + 150
    while server.stats()["refresh_ok"] < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    stop.touch()
    results = [worker.communicate(timeout=120) for worker in workers]

    codes = [code for out, _ in results for code in json.loads(out)]
    errors = "".join(err for _, err in results)
    stats = server.stats()
    assert codes.count(0) == len(codes), errors
    assert stats["refresh_ok"] >= 3
    assert stats["token_requests"]["refresh_token"] == stats["refresh_ok"]
    assert stats["invalid_grant"] == 0
    assert stats["reuse_detected"] == 0
    record = json.loads((home / "store" / "default.json").read_text())
    assert record["kept_in"] == "keyring" and record["refresh_token"] is None
    assert keyring_entries() == [f"default/{record['keyring_ref']}"]
    print(f"keyring processes=8 calls={len(codes)} rotations={stats['refresh_ok']}")
    TokenStore(home / "store").delete("default")
