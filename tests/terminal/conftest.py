"""Fixtures for terminal surfaces: a signed-in home, a sample API, a running proxy."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from tests.core import conftest as core
from tests.terminal.sample_api import SampleAPI
from tokenwarden.devserver import DevServer
from tokenwarden.proxy import ProxyServer, serve_proxy
from tokenwarden.session import SessionManager

SECRET = "local-test-secret"

# The core fixtures, shared: a real dev server on 127.0.0.1 and a temporary home.
make_devserver = core.make_devserver
home = core.home


@dataclass
class Stack:
    """A dev server, a signed-in home, the sample API and (for proxy tests) a proxy."""

    devserver: DevServer
    home: Path
    api: SampleAPI
    manager: SessionManager
    proxy: ProxyServer | None = None

    def proxy_url(self, path: str) -> str:
        assert self.proxy is not None
        return self.proxy.url + path


@pytest.fixture
def sample_api_for() -> Iterator:
    apis: list[SampleAPI] = []

    def start(server: DevServer) -> SampleAPI:
        api = SampleAPI(server.url("/userinfo")).start()
        apis.append(api)
        return api

    yield start
    for api in apis:
        api.stop()


async def signed_in_stack(make_devserver, home, sample_api_for, *, ttl: float,
                          background: bool = False) -> Stack:
    server = make_devserver(access_token_ttl=ttl)
    core.configure(home, server)
    manager = core.manager_for(home, background=background)
    await core.sign_in(manager, server)
    return Stack(server, home, sample_api_for(server), manager)


@pytest.fixture
async def stack(make_devserver, home, sample_api_for) -> AsyncIterator[Stack]:
    """Long-lived tokens: a 401 happens only when a test forces it."""
    stack = await signed_in_stack(make_devserver, home, sample_api_for, ttl=600.0,
                                  background=True)
    stack.proxy = await serve_proxy(stack.manager, stack.api.base, secret=SECRET,
                                    max_replay_bytes=64 * 1024)
    yield stack
    await stack.proxy.close()
    await stack.manager.close()


@pytest.fixture
async def client() -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(timeout=30, trust_env=False) as http:
        yield http


async def event_arrivals(client: httpx2.AsyncClient, url: str) -> list[float]:
    """When each event of the stream at ``url`` reached the client (``time.monotonic``)."""
    received: list[float] = []
    async with client.stream("GET", url, headers=with_secret()) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/event-stream"
        async for line in answer.aiter_lines():
            if line.startswith("data:"):
                received.append(time.monotonic())
    return received


def with_secret(secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
