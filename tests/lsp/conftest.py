"""Fixtures: an in-process dev server on 127.0.0.1, a private home, real servers over stdio."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import client_capabilities

from tests.lsp.harness import TokenwardenClient, close_client, start_client
from tokenwarden.devserver import DevServer

VSCODE = client_capabilities("visual-studio-code")
"""Progress, showDocument, showMessageRequest, workspace/configuration."""
PLAIN = types.ClientCapabilities()
"""A client that supports nothing optional (no progress, no showDocument)."""

StartDevServer = Callable[..., DevServer]
OpenClient = Callable[..., Awaitable[TokenwardenClient]]


@pytest.fixture
def devserver(make_devserver: StartDevServer) -> DevServer:
    """A dev server with hour-long tokens."""
    return make_devserver()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """$TOKENWARDEN_HOME of the servers under test."""
    return tmp_path


@pytest.fixture
async def open_client(home: Path) -> AsyncIterator[OpenClient]:
    """Start `tokenwarden serve` subprocesses (shut down and exited at teardown)."""
    clients: list[TokenwardenClient] = []

    async def open_one(options: Any = None, *, capabilities: types.ClientCapabilities = VSCODE,
                       server_home: Path | None = None,
                       first_status: bool = True) -> TokenwardenClient:
        client = await start_client(str(server_home or home), capabilities=capabilities,
                                    options=options)
        clients.append(client)
        if first_status:
            await client.wait_until(lambda: client.statuses or None)
        return client

    yield open_one
    for client in clients:
        await close_client(client)
