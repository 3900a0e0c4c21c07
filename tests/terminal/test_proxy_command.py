"""``tokenwarden proxy`` as a process: start-up lines, serving with the printed secret, refusals."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess

import httpx2

from tests.terminal.conftest import Stack, signed_in_stack
from tests.terminal.test_exec import run, tokenwarden


async def test_proxy_prints_its_address_and_secret_and_serves_with_it(
    make_devserver, home, sample_api_for
):
    stack: Stack = await signed_in_stack(make_devserver, home, sample_api_for, ttl=600.0)
    await stack.manager.close()
    process = subprocess.Popen([*tokenwarden("proxy"), "--upstream", stack.api.base],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = await asyncio.to_thread(process.stdout.readline)
        second = await asyncio.to_thread(process.stdout.readline)
        listening = re.fullmatch(
            r"tokenwarden proxy listening on (http://127\.0\.0\.1:\d+) \(upstream (\S+)\)\n",
            first)
        assert listening and listening.group(2) == stack.api.base, first
        secret = re.fullmatch(r"secret: (\S+)\n", second)
        assert secret and len(secret.group(1)) >= 32, second
        async with httpx2.AsyncClient(trust_env=False) as client:
            answer = await client.get(listening.group(1) + "/echo",
                                      headers={"x-api-key": secret.group(1)})
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = await asyncio.to_thread(process.communicate, timeout=20)
    assert process.returncode == 0, errors
    assert secret.group(1) not in errors


def test_proxy_refuses_a_non_loopback_listen_address(make_devserver, home):
    done = run([*tokenwarden("proxy"), "--upstream", "http://127.0.0.1:9",
                "--listen", "0.0.0.0:8080"])
    assert done.returncode == 2
    assert "only binds loopback" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_proxy_refuses_an_upstream_that_is_not_http(home):
    done = run([*tokenwarden("proxy"), "--upstream", "ftp://example.test"])
    assert done.returncode == 2
    assert "--upstream must be an http" in done.stderr
