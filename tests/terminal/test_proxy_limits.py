"""The proxy under attack without the secret: floods of idle sockets, hung upstreams.

A flood must not lock out the real client, fill the log with tracebacks or grow
without bound; a request abandoned while the upstream hangs must not hold
descriptors. Every proxy here is real, on 127.0.0.1, and the waits are bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import time

import httpx2
import pytest

from tests.terminal.conftest import SECRET, Stack, signed_in_stack, with_secret
from tests.terminal.scripted_upstream import Exchange, ScriptedUpstream
from tests.terminal.test_exec import tokenwarden
from tokenwarden.proxy import serve_proxy
from tokenwarden.proxy.limits import ProxyLimits

FLOOD = 1100


def open_descriptors(pid: int | str = "self") -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def settle(condition, timeout: float = 30.0) -> bool:
    """Wait until ``condition()`` holds (polling), at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


async def abandon_request(port: int, upstream: ScriptedUpstream) -> None:
    """Send a request, wait until the upstream has it, and go away without an answer."""
    asked = len(upstream.requests)
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /slow HTTP/1.1\r\nHost: x\r\nx-api-key: {SECRET}\r\n\r\n".encode())
    await writer.drain()
    assert await settle(lambda: len(upstream.requests) > asked, 10)
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def test_abandoned_requests_to_a_hung_upstream_leave_no_descriptors_open(stack: Stack):
    hung = await ScriptedUpstream(lambda index, line: Exchange(None)).start()  # never answers
    proxy = await serve_proxy(stack.manager, hung.base, secret=SECRET, watch=False)
    try:
        await abandon_request(proxy.port, hung)  # warm-up: lazy imports, the first connection
        await settle(lambda: proxy.connections == 0)
        baseline = open_descriptors()
        for _ in range(60):
            await abandon_request(proxy.port, hung)
        # Each abandoned request held two descriptors here (client and upstream) until
        # the upstream answered, which a hung one never does.
        assert await settle(lambda: open_descriptors() <= baseline + 2), \
            (open_descriptors(), baseline)
        assert proxy.connections == 0
    finally:
        await proxy.close()
        await hung.stop()


async def test_an_upstream_that_does_not_answer_in_time_gets_a_504(
    stack: Stack, client: httpx2.AsyncClient
):
    hung = await ScriptedUpstream(lambda index, line: Exchange(None)).start()
    proxy = await serve_proxy(stack.manager, hung.base, secret=SECRET, watch=False,
                              limits=ProxyLimits(upstream_head_timeout=0.5))
    try:
        got = await client.get(proxy.url + "/slow", headers=with_secret())
        assert got.status_code == 504
        assert got.json()["error"] == "tokenwarden_upstream_timeout"
        assert "--upstream-timeout" in got.json()["message"]
    finally:
        await proxy.close()
        await hung.stop()


async def test_a_request_head_without_the_secret_has_seconds_not_minutes(stack: Stack):
    proxy = await serve_proxy(stack.manager, stack.api.base, secret=SECRET, watch=False,
                              limits=ProxyLimits(head_timeout=0.5))
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the proxy
        writer.close()
    finally:
        await proxy.close()


@pytest.fixture
def many_descriptors():
    """Room for the flood in this process (the proxy under test has its own limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FLOOD + 512
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"needs {wanted} descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def flood(port: int, count: int) -> list[asyncio.StreamWriter]:
    """``count`` sockets that connect and then say half a request head, or nothing."""
    writers = []
    for index in range(count):
        with contextlib.suppress(OSError, TimeoutError):
            _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            if index % 2:
                writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
            writers.append(writer)
    return writers


async def start_proxy_process(stack: Stack, *options: str, descriptors: int | None = None
                              ) -> tuple[subprocess.Popen[str], str]:
    def limit() -> None:
        if descriptors is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors, descriptors))

    process = subprocess.Popen(
        [*tokenwarden("proxy"), "--upstream", stack.api.base, *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit,
        env={**os.environ, "TOKENWARDEN_PROXY_SECRET": SECRET},
    )
    assert process.stdout is not None
    first = await asyncio.to_thread(process.stdout.readline)
    assert first.startswith("tokenwarden proxy listening on "), first
    return process, first.split()[4]


async def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, errors = await asyncio.to_thread(process.communicate, timeout=30)
    return errors


async def served(client: httpx2.AsyncClient, url: str) -> int:
    return (await client.get(url + "/echo", headers=with_secret())).status_code


@pytest.fixture
async def signed_in(make_devserver, home, sample_api_for) -> Stack:
    stack = await signed_in_stack(make_devserver, home, sample_api_for, ttl=600.0)
    await stack.manager.close()
    return stack


async def test_a_flood_of_idle_sockets_does_not_lock_out_the_real_client(
    signed_in: Stack, many_descriptors
):
    process, url = await start_proxy_process(signed_in, "--max-connections", "64",
                                             "--head-timeout", "3")
    port = int(url.rsplit(":", 1)[1])
    writers: list[asyncio.StreamWriter] = []
    try:
        writers = await flood(port, FLOOD)
        assert len(writers) >= FLOOD - 10
        async with httpx2.AsyncClient(trust_env=False, timeout=30) as client:
            statuses = [await served(client, url) for _ in range(5)]
        assert statuses == [200] * 5
        # The cap holds: the proxy keeps about two descriptors per connection it serves.
        assert open_descriptors(process.pid) < 64 * 2 + 40
    finally:
        for writer in writers:
            writer.close()
        errors = await stop(process)
    assert "Traceback" not in errors
    assert len(errors.splitlines()) < 30, errors[-2000:]


async def test_out_of_descriptors_the_proxy_logs_a_few_lines_and_recovers(
    signed_in: Stack, many_descriptors
):
    # A cap above what the process may open: accept() itself fails with EMFILE.
    process, url = await start_proxy_process(signed_in, "--max-connections", "1000",
                                             "--head-timeout", "1", descriptors=128)
    port = int(url.rsplit(":", 1)[1])
    writers: list[asyncio.StreamWriter] = []
    try:
        writers = await flood(port, 400)
        await asyncio.sleep(2)  # the flood's heads time out; descriptors come back
        for writer in writers:
            writer.close()
        async with httpx2.AsyncClient(trust_env=False, timeout=30) as client:
            status = None
            deadline = time.monotonic() + 30
            while status != 200 and time.monotonic() < deadline:
                with contextlib.suppress(httpx2.HTTPError):
                    status = await served(client, url)
        assert status == 200
    finally:
        errors = await stop(process)
    assert "Traceback" not in errors
    assert len(errors.splitlines()) < 30, errors[-2000:]
