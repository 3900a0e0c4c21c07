"""A streamable-HTTP MCP server (the ``mcp`` SDK) on 127.0.0.1 behind a bearer check.

One tool, ``stamp``, answers ``stamp-ok``. Every HTTP request must carry
``Authorization: Bearer`` with a token the dev server's /userinfo accepts; a
refused one gets 401 before the SDK sees it, and is counted.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer

from tests.integrations.bearer import BearerCheck

Scope = dict[str, Any]


class BearerGate:
    """ASGI middleware: lets a request through only with a token the dev server accepts."""

    def __init__(self, app: Any, check: BearerCheck) -> None:
        self.app = app
        self.check = check
        self.tool_calls = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        authorization = headers.get("authorization", "")
        token = authorization[7:] if authorization.startswith("Bearer ") else None
        if not await asyncio.to_thread(self.check.valid, token):
            body = json.dumps({"error": "invalid_token"}).encode()
            await send({"type": "http.response.start", "status": 401, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class StampServer:
    """Runs uvicorn on a daemon thread; ``url`` of the MCP endpoint and the ``check``."""

    def __init__(self, userinfo_url: str) -> None:
        self.check = BearerCheck(userinfo_url)
        self.stamps = 0
        mcp = MCPServer("tokenwarden-tests")

        @mcp.tool()
        def stamp() -> str:
            """Return a fixed stamp, to prove the call went through."""
            self.stamps += 1
            return "stamp-ok"

        app = BearerGate(mcp.streamable_http_app(), self.check)
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._socket]}, daemon=True)

    def start(self) -> StampServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}/mcp"
