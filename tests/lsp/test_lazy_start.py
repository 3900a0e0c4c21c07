"""initialize is answered before the OAuth/HTTP stack is imported."""

from __future__ import annotations

import asyncio

from tests.lsp.harness import RawServer, profile_options

HEAVY = ("authlib", "httpx2", "tokenwarden.oauth")


def imported(stderr: str) -> set[str]:
    """Top-level names of the modules ``-X importtime`` reported."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


async def test_initialize_and_status_do_not_import_the_oauth_stack(home, devserver):
    server = await RawServer.start(str(home), "-X", "importtime")
    await server.initialize(profile_options(devserver))
    server.send({"jsonrpc": "2.0", "id": 1, "method": "workspace/executeCommand",
                 "params": {"command": "tokenwarden.status"}})
    await server.answer(1)

    server.process.stdin.close()
    stderr = await server.stderr_text()
    await asyncio.wait_for(server.process.wait(), 5)

    names = imported(stderr)
    assert "pygls" in names or any(n.startswith("pygls") for n in names)
    assert not [n for n in names if n.split(".")[0] in HEAVY or n in HEAVY]


async def test_the_oauth_stack_loads_on_the_first_network_call(home, devserver):
    server = await RawServer.start(str(home), "-X", "importtime")
    await server.initialize(profile_options(devserver))
    server.send({"jsonrpc": "2.0", "id": 1, "method": "workspace/executeCommand",
                 "params": {"command": "tokenwarden.login", "arguments": [{}]}})
    await server.answer(1)

    server.process.stdin.close()
    stderr = await server.stderr_text()
    await asyncio.wait_for(server.process.wait(), 5)

    assert "tokenwarden.oauth" in imported(stderr)


async def test_requests_sent_together_with_initialize_are_served(home, devserver):
    """The session manager is set up after the initialize answer, or at once if needed.

    A client may write initialize, initialized and its first request in one go; the
    request must find the session manager ready (no -32002 "not initialized").
    """
    server = await RawServer.start(str(home))
    server.send({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                 "params": {"processId": None, "rootUri": None, "capabilities": {},
                            "initializationOptions": profile_options(devserver)}})
    server.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    server.send({"jsonrpc": "2.0", "id": 1, "method": "workspace/executeCommand",
                 "params": {"command": "tokenwarden.status"}})
    assert "capabilities" in (await server.answer(0))["result"]
    status = await server.answer(1)
    assert status.get("error") is None, status
    assert status["result"]["state"] == "signedOut"
    server.process.stdin.close()
    await asyncio.wait_for(server.process.wait(), 5)
