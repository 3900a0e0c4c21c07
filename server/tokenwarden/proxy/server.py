"""The loopback reverse proxy: accepts connections, checks the local secret, forwards."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from urllib.parse import urlsplit

from tokenwarden.config import is_loopback
from tokenwarden.errors import ConfigError
from tokenwarden.proxy import replies
from tokenwarden.proxy.body import DEFAULT_MAX_REPLAY_BYTES, read_body
from tokenwarden.proxy.forward import Forwarder, relay
from tokenwarden.proxy.http11 import HTTP11Upstream
from tokenwarden.proxy.limits import ProxyLimits
from tokenwarden.proxy.replies import Reply
from tokenwarden.proxy.secret import new_secret
from tokenwarden.proxy.upstream import Upstream, UpstreamError, environment_proxy
from tokenwarden.proxy.wire import (
    CONTINUE,
    MAX_HEAD_BYTES,
    BadRequest,
    ProtocolError,
    RequestHead,
    read_request_head,
)
from tokenwarden.session import SessionManager

log = logging.getLogger(__name__)

IDLE_TIMEOUT_SECONDS = 300.0


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[::1]:PORT`` or ``PORT``, checked to be loopback."""
    host, sep, port_text = value.rpartition(":")
    if not sep:
        host, port_text = "127.0.0.1", value
    host = host.strip("[]") or "127.0.0.1"
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"--listen expects HOST:PORT with a port number, not {value!r}")
    check_loopback(host)
    return host, int(port_text)


def check_loopback(host: str) -> None:
    """Refuse anything but loopback: the proxy hands out a bearer token to whoever calls."""
    if not is_loopback(host):
        raise ConfigError(
            f"refusing to listen on {host}: the proxy only binds loopback addresses "
            "(127.0.0.1, ::1 or localhost), since it adds your token to every request"
        )


def check_upstream(upstream: str) -> str:
    """An absolute http(s) URL without query or fragment."""
    parts = urlsplit(upstream)
    if parts.username is not None or parts.password is not None:
        raise ConfigError("--upstream must not contain user:password@; the proxy "
                          "authenticates every request with your token")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--upstream must be an http:// or https:// URL, not {upstream!r}")
    if parts.query or parts.fragment:
        raise ConfigError("--upstream must not contain a query or fragment")
    try:
        parts.port  # noqa: B018  # urlsplit checks the port only when asked
    except ValueError:
        raise ConfigError(f"--upstream has an invalid port: {upstream!r}") from None
    return upstream.rstrip("/")


def open_upstream(base_url: str) -> Upstream:
    """Direct HTTP/1.1 to ``base_url``, or httpx2 when the environment names a proxy for it."""
    if environment_proxy(base_url) is None:
        return HTTP11Upstream(base_url)
    from tokenwarden.proxy.viahttpx import HttpxUpstream  # httpx2 only when needed
    log.info("reaching the upstream through the HTTP proxy named in the environment")
    return HttpxUpstream(base_url)


class ProxyServer:
    """A running proxy; ``port`` is the bound port, ``close()`` stops it."""

    def __init__(self, forwarder: Forwarder, secret: str, max_replay_bytes: int,
                 limits: ProxyLimits | None = None) -> None:
        self.forwarder = forwarder
        self.limits = limits or ProxyLimits()
        self.secret = secret
        self.max_replay_bytes = max_replay_bytes
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def host(self) -> str:
        """The bound address."""
        return str(self._sockname()[0])

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._sockname()[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` to point a tool at."""
        host = self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def _sockname(self) -> tuple[str, int]:
        assert self._server is not None and self._server.sockets
        name = self._server.sockets[0].getsockname()
        return name[0], name[1]

    async def start(self, host: str, port: int) -> ProxyServer:
        """Bind and start accepting connections."""
        self._server = await asyncio.start_server(
            self._on_connection, host, port, limit=MAX_HEAD_BYTES
        )
        return self

    async def serve_forever(self) -> None:
        """Serve until cancelled or closed."""
        assert self._server is not None
        with contextlib.suppress(asyncio.CancelledError):
            await self._server.serve_forever()

    async def close(self) -> None:
        """Stop accepting, drop open connections and close the upstream client."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        await self.forwarder.upstream.aclose()

    async def _on_connection(self, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve_connection(reader, writer)
        except ProtocolError as exc:
            with contextlib.suppress(ConnectionError):
                writer.write(replies.bad_request(str(exc)).encode(keep_alive=False))
                await writer.drain()
        except (ConnectionError, TimeoutError, UpstreamError) as exc:
            log.debug("connection ended: %s", type(exc).__name__)
        except asyncio.CancelledError:
            # close() ends connections so; ending quietly keeps asyncio's stream
            # callback from logging the cancellation as an unhandled error.
            log.debug("connection closed by shutdown")
        except Exception:
            log.exception("proxy connection failed; closing it")
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_connection(self, reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter) -> None:
        while True:
            async with asyncio.timeout(IDLE_TIMEOUT_SECONDS):
                head = await read_request_head(reader)
            if head is None or not await self._serve_request(head, reader, writer):
                return

    async def _serve_request(self, head: RequestHead, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> bool:
        """Answer one request; whether the connection can carry another."""
        if not self._authorized(head):
            # Not reading the body: the answer closes the connection instead.
            await _send_reply(writer, replies.secret_required(), keep_alive=False)
            return False
        if not head.target.startswith("/"):
            raise BadRequest("the proxy expects origin-form request targets ('/path?query')")
        if (head.get("expect") or "").lower() == "100-continue":
            writer.write(CONTINUE)
        body = await read_body(reader, head, self.max_replay_bytes)
        outcome = await self.forwarder.exchange(head, body)
        if isinstance(outcome, Reply):
            keep_alive = head.keep_alive and body.consumed
            await _send_reply(writer, outcome, keep_alive=keep_alive)
            return keep_alive
        try:
            keep_alive = await relay(outcome, head, writer)
        finally:
            await outcome.aclose()
        return keep_alive and body.consumed

    def _authorized(self, head: RequestHead) -> bool:
        """Whether the request carries the local secret as a bearer token or API key."""
        expected = self.secret.encode()
        scheme, _, value = (head.get("authorization") or "").partition(" ")
        offered = [value.strip()] if scheme.lower() == "bearer" else []
        offered.append(head.get("x-api-key") or "")
        # Compare every candidate, so timing does not tell which header was tried.
        matches = [hmac.compare_digest(item.encode(), expected) for item in offered]
        return any(matches)


async def _send_reply(writer: asyncio.StreamWriter, reply: Reply, *, keep_alive: bool) -> None:
    writer.write(reply.encode(keep_alive=keep_alive))
    await writer.drain()


async def serve_proxy(
    manager: SessionManager, upstream: str, host: str = "127.0.0.1", port: int = 0,
    secret: str | None = None, *, profile: str | None = None,
    max_replay_bytes: int = DEFAULT_MAX_REPLAY_BYTES, transport: Upstream | None = None,
    watch: bool = True, limits: ProxyLimits | None = None,
) -> ProxyServer:
    """Start a proxy to ``upstream`` on loopback; it serves until ``close()``.

    ``transport`` replaces the one ``open_upstream`` would pick for ``upstream``.
    """
    check_loopback(host)
    forwarder = Forwarder(manager, transport or open_upstream(check_upstream(upstream)),
                          profile)
    if watch:
        manager.watch(profile)
    proxy = ProxyServer(forwarder, secret or new_secret(), max_replay_bytes, limits)
    return await proxy.start(host, port)
