"""``tokenwarden serve`` on a desktop or over SSH, and a client whose showDocument opens a browser."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.browser.cli import DISPLAY_ENV, REMOTE_ENV
from tests.lsp.harness import SERVER_COMMAND, TokenwardenClient, make_client, server_env

Browser = Callable[[str], Awaitable[Any]]


def desktop_env(home: Path, *, ssh: bool = False, display: bool = True) -> dict[str, str]:
    """The server's environment: a desktop with a display, outside any SSH session
    (or inside one, with ``ssh``; or a console without a display)."""
    env = {k: v for k, v in server_env(str(home)).items()
           if k not in REMOTE_ENV + DISPLAY_ENV}
    if display:
        env["DISPLAY"] = ":99"
    if ssh:
        env["SSH_CONNECTION"] = "192.0.2.1 50000 192.0.2.2 22"
    return env


async def start_desktop_client(home: Path, capabilities: types.ClientCapabilities,
                               options: Any, *, ssh: bool = False, display: bool = True,
                               ) -> TokenwardenClient:
    """Spawn and initialize a server with ``desktop_env``; wait for its first status."""
    client = make_client()
    await client.start_io(*SERVER_COMMAND, env=desktop_env(home, ssh=ssh, display=display))
    client.initialize_result = await client.initialize_session(types.InitializeParams(
        capabilities=capabilities, initialization_options=options))
    await client.wait_until(lambda: client.statuses or None)
    return client


def open_in(client: TokenwardenClient, browser: Browser) -> list[asyncio.Task[Any]]:
    """Answer showDocument as an editor does (opened: yes) and let ``browser`` follow the URL."""
    tasks: list[asyncio.Task[Any]] = []

    async def answer(params: types.ShowDocumentParams) -> types.ShowDocumentResult:
        tasks.append(asyncio.ensure_future(browser(params.uri)))
        return types.ShowDocumentResult(success=True)

    client.answer_show_document = answer
    return tasks
