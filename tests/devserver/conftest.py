"""Fixtures: a DevServer started in-process on port 0, and a thin OAuth client for it."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from devserver_support import OAuthClient, SteppedClock

from tokenwarden.devserver import DevServer, DevServerConfig

# Fast by default: no polling interval, so tests never wait on the clock unless they mean to.
FAST = {"interval": 0.0}

StartServer = Callable[..., DevServer]

# The tests speak plain HTTP, but every client would load the CA bundle again
# (~100 ms); one context for the whole session keeps the suite fast.
_TLS = ssl.create_default_context()


def http_client(server: DevServer) -> httpx2.Client:
    """A client with the server's issuer as base URL."""
    return httpx2.Client(base_url=server.issuer, timeout=5, verify=_TLS)


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """Start a DevServer with the given config fields; all are stopped at teardown."""
    started: list[DevServer] = []

    def start(clock: SteppedClock | None = None, **config: Any) -> DevServer:
        server = DevServer(DevServerConfig(**{**FAST, **config}), clock=clock).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def devserver(start_server: StartServer) -> DevServer:
    """A dev server with default settings (interval 0)."""
    return start_server()


@pytest.fixture
def http(devserver: DevServer) -> Iterator[httpx2.Client]:
    with http_client(devserver) as client:
        yield client


@pytest.fixture
def oauth(http: httpx2.Client, devserver: DevServer) -> OAuthClient:
    return OAuthClient(http, devserver)


@pytest.fixture
def client_for() -> Iterator[Callable[[DevServer], OAuthClient]]:
    """An OAuthClient for a server started with custom settings."""
    clients: list[httpx2.Client] = []

    def make(server: DevServer) -> OAuthClient:
        http = http_client(server)
        clients.append(http)
        return OAuthClient(http, server)

    yield make
    for http in clients:
        http.close()


@pytest.fixture
def clock() -> SteppedClock:
    """A hand-moved clock; pass it to ``start_server(clock=...)``."""
    return SteppedClock()
