"""shutdown, exit and end of input are honoured quickly; malformed input never crashes."""

from __future__ import annotations

import asyncio
import time

from tests.lsp.harness import RawServer, profile_options

EXIT_BUDGET = 0.25
"""The server leaves within ~10 ms; the margin is for a loaded test machine."""


async def test_shutdown_then_exit_leaves_at_once_with_code_0(home, devserver):
    server = await RawServer.start(str(home))
    await server.initialize(profile_options(devserver))
    server.send({"jsonrpc": "2.0", "id": 1, "method": "shutdown"})
    assert (await server.answer(1))["result"] is None

    started = time.perf_counter()
    server.send({"jsonrpc": "2.0", "method": "exit"})
    code = await asyncio.wait_for(server.process.wait(), 5)

    assert time.perf_counter() - started < EXIT_BUDGET
    assert code == 0


async def test_exit_without_shutdown_is_code_1(home, devserver):
    server = await RawServer.start(str(home))
    await server.initialize(profile_options(devserver))

    server.send({"jsonrpc": "2.0", "method": "exit"})

    assert await asyncio.wait_for(server.process.wait(), 5) == 1


async def test_end_of_input_ends_the_server_and_its_sign_in(home, devserver):
    server = await RawServer.start(str(home))
    await server.initialize(profile_options(devserver))
    server.send({"jsonrpc": "2.0", "id": 1, "method": "workspace/executeCommand",
                 "params": {"command": "tokenwarden.login", "arguments": [{}]}})
    assert "userCode" in (await server.answer(1))["result"]

    server.process.stdin.close()
    await asyncio.wait_for(server.process.wait(), 5)
    polls = devserver.stats()["authorization_pending"]
    await asyncio.sleep(0.3)

    assert devserver.stats()["authorization_pending"] == polls  # polling stopped with it


async def test_requests_after_shutdown_are_refused(home, devserver):
    server = await RawServer.start(str(home))
    await server.initialize(profile_options(devserver))
    server.send({"jsonrpc": "2.0", "id": 1, "method": "shutdown"})
    await server.answer(1)

    server.send({"jsonrpc": "2.0", "id": 2, "method": "tokenwarden/getToken", "params": {}})

    assert (await server.answer(2))["error"]["code"] == -32600
    server.send({"jsonrpc": "2.0", "method": "exit"})
    assert await asyncio.wait_for(server.process.wait(), 5) == 0


async def test_malformed_messages_get_errors_and_the_server_carries_on(home, devserver):
    server = await RawServer.start(str(home))
    await server.initialize(profile_options(devserver))

    server.write(b"{not json")
    parse_error = await server.answer(None)
    server.send({"id": 5, "method": "tokenwarden/getToken"})  # no "jsonrpc"
    invalid = await server.answer(5)
    server.send({"jsonrpc": "2.0", "id": 6, "method": "no/suchMethod", "params": {}})
    unknown = await server.answer(6)
    server.send({"jsonrpc": "2.0", "id": 7, "method": "workspace/executeCommand",
                 "params": {"command": 42}})
    bad_params = await server.answer(7)
    server.send({"jsonrpc": "2.0", "id": 8, "method": "workspace/executeCommand",
                 "params": {"command": "tokenwarden.status"}})
    status = await server.answer(8)

    assert parse_error["error"]["code"] == -32700
    assert invalid["error"]["code"] == -32600
    assert unknown["error"]["code"] == -32601
    assert bad_params["error"]["code"] == -32602
    assert status["result"]["state"] == "signedOut"
    server.process.stdin.close()
    await asyncio.wait_for(server.process.wait(), 5)


async def test_get_token_without_params_uses_the_defaults(home, devserver):
    server = await RawServer.start(str(home))
    await server.initialize(profile_options(devserver))

    server.send({"jsonrpc": "2.0", "id": 1, "method": "tokenwarden/getToken"})
    answer = await server.answer(1)

    assert answer["error"]["code"] == -32001
    assert answer["error"]["data"] == {"profile": "default", "state": "signedOut"}
    server.process.stdin.close()
    await asyncio.wait_for(server.process.wait(), 5)
