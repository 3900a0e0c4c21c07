"""A pytest-lsp client for tokenwarden: records what the server sends, waits by method.

Each ``TokenwardenClient`` drives a real ``tokenwarden serve`` subprocess over stdio.
It records status notifications, message requests, shown documents, progress and
messages, and lets a test wait until a recorded item matches (woken by each
arrival, never by sleeping). How it answers ``window/showDocument`` and
``window/showMessageRequest`` is scripted per test, including never answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES

from tokenwarden.devserver import DevServer

T = TypeVar("T")
SERVER_COMMAND = [sys.executable, "-m", "tokenwarden", "serve"]
WAIT_SECONDS = 15.0

MessageAnswer = Callable[[types.ShowMessageRequestParams], Awaitable[Any]]
DocumentAnswer = Callable[[types.ShowDocumentParams], Awaitable[Any]]


def plain(value: Any) -> Any:
    """pygls hands custom payloads over as namedtuples: back to dicts and lists."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


async def answer_success(params: types.ShowDocumentParams) -> types.ShowDocumentResult:
    return types.ShowDocumentResult(success=True)


async def answer_null(params: Any) -> None:
    return None


async def never_answer(params: Any) -> None:
    await asyncio.Event().wait()


def choose(title: str) -> MessageAnswer:
    """Answer a showMessageRequest with the action ``title``."""

    async def answer(params: types.ShowMessageRequestParams) -> types.MessageActionItem:
        return types.MessageActionItem(title=title)

    return answer


class TokenwardenClient(LanguageClient):
    """The test client: records, waits, and answers as scripted."""

    def __init__(self) -> None:
        super().__init__(converter_factory=default_converter)
        self.statuses: list[dict[str, Any]] = []
        self.message_requests: list[types.ShowMessageRequestParams] = []
        self.answer_message_request: MessageAnswer = answer_null
        self.answer_show_document: DocumentAnswer = answer_success
        self.initialize_result: types.InitializeResult | None = None
        self._waiters: list[asyncio.Future[None]] = []

    # ------------------------------------------------------------- recording

    def pulse(self) -> None:
        """Something arrived: wake every waiter to re-check."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_until(self, check: Callable[[], T | None],
                         timeout: float = WAIT_SECONDS) -> T:
        """Wait until ``check()`` returns something other than None (re-checked per arrival)."""
        async with asyncio.timeout(timeout):
            while (found := check()) is None:
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                await waiter
            return found

    async def wait_for_status(self, predicate: Callable[[dict[str, Any]], bool], *,
                              since: int = 0, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        """The first status notification from index ``since`` that matches."""
        return await self.wait_until(
            lambda: next((s for s in self.statuses[since:] if predicate(s)), None), timeout)

    async def wait_for_state(self, state: str, *, since: int = 0,
                             timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        """The first status in ``state`` from index ``since``."""
        return await self.wait_for_status(lambda s: s["state"] == state, since=since,
                                          timeout=timeout)

    def progress_values(self) -> list[Any]:
        """Every $/progress value, in order of arrival, across tokens."""
        return [value for values in self.progress_reports.values() for value in values]

    # --------------------------------------------------------------- driving

    async def command(self, name: str, argument: Any = None, *,
                      no_argument: bool = False) -> Any:
        """Run ``workspace/executeCommand`` with one argument (or none)."""
        arguments = None if no_argument else [argument if argument is not None else {}]
        result = await self.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=arguments))
        return plain(result)

    async def request(self, method: str, params: Any = None) -> Any:
        """A custom request; the result as plain JSON."""
        return plain(await self.protocol.send_request_async(method, params))

    async def get_token(self, **params: Any) -> dict[str, Any]:
        """``tokenwarden/getToken``."""
        result: dict[str, Any] = await self.request("tokenwarden/getToken", params)
        return result


def make_client() -> TokenwardenClient:
    """A client with pytest-lsp's recorders, plus tokenwarden's."""
    client = TokenwardenClient()

    def recorded(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        def record(ls: TokenwardenClient, params: Any) -> Any:
            result = handler(ls, params)
            ls.pulse()
            return result
        return record

    for method, handler in DEFAULT_CLIENT_FEATURES.items():
        if method != types.WINDOW_SHOW_DOCUMENT:
            client.feature(method)(recorded(handler))

    @client.feature("tokenwarden/didChangeStatus")
    def did_change_status(ls: TokenwardenClient, params: Any) -> None:
        ls.statuses.append(plain(params))
        ls.pulse()

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    async def show_message_request(ls: TokenwardenClient,
                                   params: types.ShowMessageRequestParams) -> Any:
        ls.message_requests.append(params)
        ls.pulse()
        return await ls.answer_message_request(params)

    @client.feature(types.WINDOW_SHOW_DOCUMENT)
    async def show_document(ls: TokenwardenClient, params: types.ShowDocumentParams) -> Any:
        ls.shown_documents.append(params)
        ls.pulse()
        return await ls.answer_show_document(params)

    return client


def profile_options(server: DevServer, *, flow: str = "device", **options: Any
                    ) -> dict[str, Any]:
    """initializationOptions with the default profile pointing at ``server``.

    The profile signs in with a device code unless ``flow`` says otherwise: the dev
    server offers both flows, and ``auto`` would pick the browser in a client that
    supports ``window/showDocument``.
    """
    return {
        "profiles": {"default": {
            "issuer": server.issuer, "client_id": "tokenwarden-tests",
            "scopes": ["openid", "offline_access"], "flow": flow,
        }},
        **options,
    }


def server_env(home: str) -> dict[str, str]:
    """The server's environment: a private home, no inherited profile choice.

    Bytecode caching stays on (as installed): each test spawns several servers.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TOKENWARDEN_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["TOKENWARDEN_HOME"] = home
    return env


async def start_client(home: str, *, capabilities: types.ClientCapabilities,
                       options: Any = None, command: list[str] | None = None,
                       ) -> TokenwardenClient:
    """Spawn ``tokenwarden serve`` and initialize it."""
    client = make_client()
    await client.start_io(*(command or SERVER_COMMAND), env=server_env(home))
    client.initialize_result = await client.initialize_session(types.InitializeParams(
        capabilities=capabilities, initialization_options=options,
    ))
    return client


async def close_client(client: TokenwardenClient) -> None:
    """shutdown + exit; kill the server if it does not comply."""
    # Answers this client is deliberately withholding: give up on them first (pygls
    # cannot fail a handler task when the server goes away).
    for pending in list(client.protocol._request_futures.values()):
        if isinstance(pending, asyncio.Task) and not pending.done():
            pending.cancel()
    await asyncio.sleep(0)
    try:
        async with asyncio.timeout(5):
            await client.shutdown_session()
    except (TimeoutError, RuntimeError):
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5):
            await client.stop()


async def sign_in(client: TokenwardenClient, server: DevServer, **argument: Any) -> dict[str, Any]:
    """Run tokenwarden.login, approve the code at the dev server, wait for signedIn."""
    mark = len(client.statuses)
    started = await client.command("tokenwarden.login", argument)
    server.approve(started["userCode"])
    return await client.wait_for_state("signedIn", since=mark)


async def read_message(stdout: asyncio.StreamReader) -> dict[str, Any]:
    """The next LSP message (``Content-Length`` framed JSON) on a server's stdout."""
    import json

    length = 0
    while True:
        line = await stdout.readline()
        if not line:
            raise EOFError("the server closed stdout")
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
        elif line in (b"\r\n", b"\n") and length:
            break
    message: dict[str, Any] = json.loads(await stdout.readexactly(length))
    return message


class RawServer:
    """``tokenwarden serve`` driven byte by byte, for framing and lifecycle tests."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.received: list[dict[str, Any]] = []
        assert process.stderr is not None
        # Drain stderr all along: a full pipe would block the server.
        self._stderr = asyncio.ensure_future(process.stderr.read())

    @classmethod
    async def start(cls, home: str, *extra_args: str) -> RawServer:
        process = await asyncio.create_subprocess_exec(
            *SERVER_COMMAND[:1], *extra_args, *SERVER_COMMAND[1:],
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=server_env(home))
        return cls(process)

    def write(self, body: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send(self, message: dict[str, Any]) -> None:
        import json

        self.write(json.dumps(message).encode())

    async def read(self) -> dict[str, Any]:
        """The next message from the server."""
        assert self.process.stdout is not None
        message = await read_message(self.process.stdout)
        self.received.append(message)
        return message

    async def answer(self, request_id: Any, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        """The response to request ``request_id`` (other messages are kept in ``received``)."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.read()
                if message.get("id") == request_id and "method" not in message:
                    return message

    async def initialize(self, options: Any = None) -> dict[str, Any]:
        self.send({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                   "params": {"processId": None, "rootUri": None, "capabilities": {},
                              "initializationOptions": options}})
        answer = await self.answer(0)
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        return answer

    async def stderr_text(self) -> str:
        """Everything the server wrote to stderr (waits for it to close)."""
        return (await self._stderr).decode(errors="replace")
