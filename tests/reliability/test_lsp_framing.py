"""Raw framing abuse of `tokenwarden serve`: bad headers, huge and truncated messages."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.lsp.harness import RawServer, profile_options


@pytest.fixture
def devserver(make_devserver):
    return make_devserver()


async def status_answer(server: RawServer, request_id: int) -> dict:
    server.send({"jsonrpc": "2.0", "id": request_id, "method": "workspace/executeCommand",
                 "params": {"command": "tokenwarden.status"}})
    return await asyncio.wait_for(server.answer(request_id), 20)


async def test_malformed_content_length_is_skipped_and_the_server_carries_on(home, devserver):
    server = await RawServer.start(str(home))
    await server.initialize(profile_options(devserver))
    for header in (b"Content-Length: abc\r\n\r\n", b"Content-Length: -5\r\n\r\n",
                   b"X-Nonsense: 1\r\n\r\n", b"Content-Length: 99999999999\r\n\r\n"):
        server.process.stdin.write(header + b"\r\n")
    answer = await status_answer(server, 41)
    assert answer["result"]["state"] == "signedOut"
    server.process.stdin.close()
    await asyncio.wait_for(server.process.wait(), 10)


async def test_a_huge_message_gets_an_error_not_a_crash(home, devserver):
    server = await RawServer.start(str(home))
    await server.initialize(profile_options(devserver))
    huge = {"jsonrpc": "2.0", "id": 42, "method": "tokenwarden/getToken",
            "params": {"profile": "x" * (8 * 1024 * 1024)}}
    server.write(json.dumps(huge).encode())
    refused = await asyncio.wait_for(server.answer(42), 30)
    answer = await status_answer(server, 43)
    assert "error" in refused
    assert answer["result"]["state"] == "signedOut"
    server.process.stdin.close()
    await asyncio.wait_for(server.process.wait(), 10)


async def test_a_truncated_message_at_end_of_input_ends_the_server_cleanly(home, devserver):
    server = await RawServer.start(str(home))
    await server.initialize(profile_options(devserver))
    server.process.stdin.write(b'Content-Length: 500\r\n\r\n{"jsonrpc": "2.0", "id": 1')
    server.process.stdin.close()
    code = await asyncio.wait_for(server.process.wait(), 10)
    stderr = await server._stderr
    assert code in (0, 1)
    assert b"Traceback" not in stderr
