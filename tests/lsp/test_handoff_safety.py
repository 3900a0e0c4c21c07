"""The editor's hand-off socket and its start-up, seen through a real `tokenwarden serve`.

Issue 13 items 10 and 13: binding the socket never changes the process umask (a
logout sent right after `initialized` keeps its 0700 log folder and its event), and
a same-user peer can only start a sign-in that is needed.
"""

from __future__ import annotations

import asyncio
import json
import stat

from tests.core.conftest import configure
from tests.lsp.harness import RawServer, sign_in
from tokenwarden.handoff import request_sign_in


async def test_a_logout_right_after_initialized_keeps_a_private_log(devserver, home):
    configure(home, devserver)
    server = await RawServer.start(str(home))
    try:
        await server.initialize()
        server.send({"jsonrpc": "2.0", "id": 1, "method": "workspace/executeCommand",
                     "params": {"command": "tokenwarden.logout", "arguments": [{}]}})
        answer = await server.answer(1)
        server.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        await server.answer(2)
        server.send({"jsonrpc": "2.0", "method": "exit"})
        await asyncio.wait_for(server.process.wait(), 30)
    finally:
        if server.process.returncode is None:
            server.process.kill()
    assert answer["result"]["state"] == "signedOut"
    assert stat.S_IMODE((home / "log").stat().st_mode) == 0o700
    events = [json.loads(line) for line in
              (home / "log" / "auth-events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert ("sign-out", "ok") in [(e["event"], e["outcome"]) for e in events]


async def test_a_hand_off_request_never_replaces_a_valid_session(open_client, devserver, home):
    configure(home, devserver)
    client = await open_client()
    await sign_in(client, devserver)
    before = (home / "store" / "default.json").read_bytes()
    await client.wait_until(lambda: list((home / "run").glob("editor-*.sock")) or None)
    mark = len(client.statuses)

    accepted = await asyncio.to_thread(request_sign_in, home / "run", "default")

    assert accepted is True  # the asking tool finds the valid token in the store
    assert devserver.stats()["device_authorizations"] == 1  # only the first sign-in
    assert all(s["state"] != "signingIn" for s in client.statuses[mark:])
    status = await client.command("tokenwarden.status", {})
    assert status["state"] == "signedIn"
    assert (home / "store" / "default.json").read_bytes() == before

