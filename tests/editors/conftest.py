"""Fixtures for the editor integration tests: an in-process dev server with 4-second tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from editor_harness import ACCESS_TOKEN_TTL

from tokenwarden.devserver import DevServer, DevServerConfig


@pytest.fixture
def devserver() -> Iterator[DevServer]:
    server = DevServer(DevServerConfig(access_token_ttl=ACCESS_TOKEN_TTL, interval=0)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def short_refresh_devserver() -> Iterator[DevServer]:
    """Refresh tokens that end 60 s after sign-in, however often they rotate."""
    config = DevServerConfig(access_token_ttl=ACCESS_TOKEN_TTL, interval=0,
                             refresh_token_ttl=60, absolute_refresh_expiry=True)
    server = DevServer(config).start()
    try:
        yield server
    finally:
        server.stop()
