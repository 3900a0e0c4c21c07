"""The one-shot loopback listener that receives the browser's authorization redirect (RFC 8252).

It listens on an ephemeral port of ``127.0.0.1`` (``[::1]`` where there is no IPv4
loopback), takes ``GET /callback?…`` requests one by one, and holds each browser
connection open until the sign-in has an outcome to show on the page. Only the
request line is parsed: the headers are read and discarded (bounded in size and
time), and the body of a GET is never read. A measured reason for not using an HTTP
library: one request line is all a redirect needs, and h11 is not a dependency.
Nothing here logs the query string: it holds the authorization code.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import sys
from dataclasses import dataclass, field
from html import escape
from urllib.parse import parse_qsl, urlsplit

from tokenwarden.errors import LoginFailed

log = logging.getLogger(__name__)

CALLBACK_PATH = "/callback"
#: Browsers send every cookie of 127.0.0.1 (other local apps' too): be generous.
MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT_SECONDS = 10.0
#: How long a browser connection waits for the outcome page before it is closed.
ANSWER_TIMEOUT_SECONDS = 120.0
LOOPBACK_HOSTS = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class Page:
    """What the browser shows after the redirect."""

    status: int
    title: str
    detail: str

    def render(self) -> bytes:
        """A small self-contained HTML document."""
        return (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(self.title)}</title><style>body{{font-family:system-ui,"
            "sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem}</style></head>"
            f"<body><h1>{escape(self.title)}</h1><p>{escape(self.detail)}</p></body></html>\n"
        ).encode()


@dataclass(eq=False)
class Callback:
    """One request to the callback path; ``answer`` sends the page and ends it."""

    params: dict[str, str] = field(repr=False)
    _answered: asyncio.Future[Page] = field(repr=False)

    def answer(self, page: Page) -> None:
        """Show ``page`` to the browser (the first answer wins)."""
        if not self._answered.done():
            self._answered.set_result(page)


class RedirectListener:
    """An HTTP listener on a loopback port that hands over callback requests."""

    def __init__(self, server: asyncio.Server, host: str, port: int) -> None:
        self._server = server
        self._callbacks: asyncio.Queue[Callback] = asyncio.Queue()
        self._open: set[Callback] = set()
        self._taken: set[Callback] = set()
        self._closed_page: Page | None = None
        self.redirect_uri = f"http://{_url_host(host)}:{port}{CALLBACK_PATH}"
        self.port = port

    @classmethod
    async def open(cls, host: str | None = None, port: int = 0) -> RedirectListener:
        """Listen on ``host`` (127.0.0.1, else [::1]) and ``port`` (0: an ephemeral one)."""
        hosts = (host,) if host else LOOPBACK_HOSTS
        problems: list[str] = []
        for candidate in hosts:
            try:
                return await cls._bind(candidate, port)
            except OSError as exc:
                problems.append(f"{_url_host(candidate)}:{port} ({exc.strerror or exc})")
                if exc.errno == errno.EADDRINUSE:
                    break  # [::1] would be another redirect URI than the one expected
        raise LoginFailed(
            "cannot listen for the browser's redirect on " + ", ".join(problems)
            + ("; another program holds the port: free it, or set another redirect_port "
               "(and register its redirect URI with the provider), or sign in with "
               "flow = \"device\"" if port else "; sign in with flow = \"device\" instead"),
            reason="redirect_port_unavailable",
        )

    @classmethod
    async def _bind(cls, host: str, port: int) -> RedirectListener:
        holder: list[RedirectListener] = []

        async def on_connection(reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter) -> None:
            await holder[0]._serve(reader, writer)

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # A fixed port is bound again by the next sign-in, maybe while the last one's
        # closed connections are in TIME_WAIT: SO_REUSEADDR allows that (and, on Linux
        # and macOS, still no second listener). Not on Windows, where it would let
        # another program take over a bound port.
        reuse = bool(port) and sys.platform != "win32"
        server = await asyncio.start_server(on_connection, host, port, family=family,
                                            reuse_address=reuse, limit=MAX_HEAD_BYTES)
        bound = server.sockets[0].getsockname()[1]
        listener = cls(server, host, int(bound))
        holder.append(listener)
        return listener

    async def next_callback(self) -> Callback:
        """Wait for the next request to the callback path (the caller answers it)."""
        callback = await self._callbacks.get()
        self._taken.add(callback)
        return callback

    async def close(self, *, keep_taken: bool = False) -> None:
        """Stop listening; waiting requests (a replayed redirect) hear the sign-in is over.

        With ``keep_taken``, the requests handed out by ``next_callback`` stay open
        for their caller to answer; otherwise they are answered too (if not yet).
        """
        self._closed_page = Page(
            410, "This sign-in has already ended",
            "tokenwarden is no longer waiting for this redirect. You can close this tab.")
        self._server.close()
        while not self._callbacks.empty():
            self._callbacks.get_nowait().answer(self._closed_page)
        for callback in list(self._open):
            if not (keep_taken and callback in self._taken):
                callback.answer(self._closed_page)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 2.0)

    def abort(self) -> None:
        """Stop listening now, without waiting for open connections."""
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            page = await self._page_for(reader)
            await _send(writer, page)
        except (OSError, EOFError, TimeoutError, ValueError, asyncio.LimitOverrunError):
            pass  # a browser that went away, or something that is not HTTP
        finally:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 2.0)

    async def _page_for(self, reader: asyncio.StreamReader) -> Page:
        try:
            async with asyncio.timeout(HEAD_TIMEOUT_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.LimitOverrunError, ValueError):
            return Page(431, "Request too large", "The request's headers are too large.")
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return Page(400, "Bad request", "This address only takes the sign-in redirect.")
        method, target = parts[0], urlsplit(parts[1])
        if target.path != CALLBACK_PATH:
            return Page(404, "Not found", "This address only takes the sign-in redirect.")
        if method != "GET":
            return Page(405, "Method not allowed", "The sign-in redirect is a GET request.")
        if self._closed_page is not None:
            return self._closed_page
        loop = asyncio.get_running_loop()
        callback = Callback(dict(parse_qsl(target.query, keep_blank_values=True)),
                            loop.create_future())
        self._open.add(callback)
        try:
            self._callbacks.put_nowait(callback)
            return await asyncio.wait_for(asyncio.shield(callback._answered),
                                          ANSWER_TIMEOUT_SECONDS)
        finally:
            self._open.discard(callback)
            self._taken.discard(callback)


async def _send(writer: asyncio.StreamWriter, page: Page) -> None:
    body = page.render()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
              410: "Gone", 431: "Request Header Fields Too Large"}.get(page.status, "Error")
    head = (f"HTTP/1.1 {page.status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n"
            "Referrer-Policy: no-referrer\r\nConnection: close\r\n\r\n")
    writer.write(head.encode("ascii") + body)
    async with asyncio.timeout(5.0):
        await writer.drain()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
