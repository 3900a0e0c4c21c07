"""The loopback reverse proxy: accepts connections, checks the local secret, forwards."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import h11

from tokenwarden.config import is_loopback
from tokenwarden.errors import ConfigError
from tokenwarden.proxy import replies
from tokenwarden.proxy.body import DEFAULT_MAX_REPLAY_BYTES, RequestBody, read_body
from tokenwarden.proxy.direct import DirectUpstream
from tokenwarden.proxy.forward import Forwarder, relay
from tokenwarden.proxy.h11io import H11Connection, ProtocolError
from tokenwarden.proxy.inbound import BadRequest, ClientSide, RequestHead, check_target
from tokenwarden.proxy.limits import ProxyLimits, RepeatLimiter
from tokenwarden.proxy.replies import Reply
from tokenwarden.proxy.secret import new_secret
from tokenwarden.proxy.upstream import Upstream, UpstreamError, environment_proxy
from tokenwarden.session import SessionManager

log = logging.getLogger(__name__)
_T = TypeVar("_T")


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


def open_upstream(base_url: str, limits: ProxyLimits | None = None) -> Upstream:
    """Direct HTTP/1.1 to ``base_url``, or httpx2 when the environment names a proxy for it."""
    head_timeout = (limits or ProxyLimits()).upstream_head_timeout
    if environment_proxy(base_url) is None:
        return DirectUpstream(base_url, head_timeout=head_timeout)
    from tokenwarden.proxy.viahttpx import HttpxUpstream  # httpx2 only when needed
    log.info("reaching the upstream through the HTTP proxy named in the environment")
    return HttpxUpstream(base_url, head_timeout=head_timeout)


@dataclass
class _Peer:
    """One client connection the proxy holds: whether it has shown the secret yet."""

    task: asyncio.Task[None]
    stream: H11Connection
    authorized: bool = False


class ProxyServer:
    """A running proxy; ``port`` is the bound port, ``close()`` stops it."""

    def __init__(self, forwarder: Forwarder, secret: str, max_replay_bytes: int,
                 limits: ProxyLimits | None = None) -> None:
        self.forwarder = forwarder
        self.limits = limits or ProxyLimits()
        self.secret = secret
        self._secret_bytes = secret.encode()
        self.max_replay_bytes = max_replay_bytes
        self._server: asyncio.Server | None = None
        #: Oldest first (dicts keep insertion order): who is dropped to make room.
        self._peers: dict[asyncio.Task[None], _Peer] = {}
        self._repeats = RepeatLimiter(log)
        self._previous_handler: Any = None

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

    @property
    def connections(self) -> int:
        """Client connections open now."""
        return len(self._peers)

    def _sockname(self) -> tuple[str, int]:
        assert self._server is not None and self._server.sockets
        name = self._server.sockets[0].getsockname()
        return name[0], name[1]

    async def start(self, host: str, port: int) -> ProxyServer:
        """Bind and start accepting connections."""
        loop = asyncio.get_running_loop()
        self._previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._on_loop_error)
        self._server = await loop.create_server(lambda: _Accepted(self), host, port)
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
        for task in list(self._peers):
            task.cancel()
        for task in list(self._peers):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
            asyncio.get_running_loop().set_exception_handler(self._previous_handler)
        await self.forwarder.upstream.aclose()

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Out of descriptors, asyncio reports every failed accept: one line now and then."""
        if str(context.get("message", "")).startswith("socket.accept() out of system resource"):
            error = context.get("exception")
            self._repeats.log(logging.WARNING, "accept failed",
                              "proxy cannot accept connections for now: %s",
                              getattr(error, "strerror", None) or type(error).__name__)
            return
        if self._previous_handler is not None:
            self._previous_handler(loop, context)
        else:
            loop.default_exception_handler(context)

    def _make_room(self) -> bool:
        """At the cap, drop the oldest connection that has not shown the secret."""
        if len(self._peers) < self.limits.max_connections:
            return True
        victim = next((peer for peer in self._peers.values() if not peer.authorized), None)
        if victim is None:
            self._repeats.log(logging.WARNING, "connection cap",
                              "proxy at its cap of %d connections; refusing a new one",
                              self.limits.max_connections)
            return False
        self._repeats.log(logging.WARNING, "connection cap",
                          "proxy at its cap of %d connections; dropping the oldest that has "
                          "not sent the secret", self.limits.max_connections)
        self._peers.pop(victim.task, None)
        victim.task.cancel()
        return True

    def accepted(self, stream: H11Connection) -> None:
        """A client connected: serve it in a task of its own, if there is room."""
        if not self._make_room():
            stream.close()
            return
        task = asyncio.get_running_loop().create_task(self._on_connection(stream))
        self._peers[task] = _Peer(task, stream)

    async def _on_connection(self, stream: H11Connection) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = self._peers.get(task)
        if peer is None:  # dropped before it started
            stream.close()
            return
        client = ClientSide(stream)
        try:
            await self._serve_connection(client, peer)
        except BadRequest as exc:
            await client.send_error(replies.bad_request(str(exc)))
        except (ConnectionError, TimeoutError, UpstreamError, ProtocolError) as exc:
            log.debug("connection ended: %s", type(exc).__name__)
        except asyncio.CancelledError:
            # close() and _make_room() end connections so; ending quietly keeps asyncio's
            # stream callback from logging the cancellation as an unhandled error.
            log.debug("connection closed by the proxy")
        except Exception as exc:
            self._repeats.log(logging.WARNING, "connection failed",
                              "proxy connection failed (%s); closing it", type(exc).__name__)
            log.debug("proxy connection failed", exc_info=True)
        finally:
            self._peers.pop(task, None)
            stream.close()
            with contextlib.suppress(BaseException):
                await stream.wait_closed()

    async def _serve_connection(self, client: ClientSide, peer: _Peer) -> None:
        while True:
            # Before the secret: seconds to send a head. After it: the keep-alive idle time.
            limit = self.limits.idle_timeout if peer.authorized else self.limits.head_timeout
            head = await client.next_request(asyncio.get_running_loop().time() + limit)
            if head is None or not await self._serve_request(head, client, peer):
                return

    async def _serve_request(self, head: RequestHead, client: ClientSide,
                             peer: _Peer) -> bool:
        """Answer one request; whether the connection can carry another."""
        if not self._authorized(head):
            # Not reading the body: the answer closes the connection instead.
            await client.send_reply(replies.secret_required(), keep_alive=False)
            return False
        peer.authorized = True
        check_target(head.target)
        client.send_continue_if_expected()
        body = await read_body(client, head, self.max_replay_bytes)
        answered = await _unless_client_leaves(client, self._answer(head, body, client))
        return bool(answered) and client.reusable

    async def _answer(self, head: RequestHead, body: RequestBody, client: ClientSide) -> bool:
        """Forward the request and relay the answer (or send the proxy's own); True when sent."""
        outcome = await self.forwarder.exchange(head, body)
        if isinstance(outcome, Reply):
            await client.send_reply(outcome, keep_alive=client.body_done)
            return True
        try:
            return await relay(outcome, client)
        finally:
            await outcome.aclose()

    def _authorized(self, head: RequestHead) -> bool:
        """Whether the request carries the local secret as a bearer token or API key."""
        expected = self._secret_bytes
        scheme, _, value = (head.get(b"authorization") or b"").partition(b" ")
        bearer = value.strip() if scheme.lower() == b"bearer" else b""
        # Compare both candidates, so timing does not tell which header was tried.
        by_bearer = hmac.compare_digest(bearer, expected)
        by_api_key = hmac.compare_digest(head.get(b"x-api-key") or b"", expected)
        return by_bearer or by_api_key


async def _unless_client_leaves(client: ClientSide, work: Awaitable[_T]) -> _T | None:
    """``work``'s result, or None (``work`` cancelled) when the client goes away first.

    Only once the request body is read whole: until then the body's own reads see
    the client leave. ``work`` runs in this task; the connection's close callback
    cancels it, so watching costs nothing per request.
    """
    if not client.body_done:
        return await work
    this = asyncio.current_task()
    assert this is not None
    left = False

    def on_gone() -> None:
        nonlocal left
        left = True
        this.cancel()

    if not client.watch_gone(on_gone):
        if asyncio.iscoroutine(work):
            work.close()
        log.debug("client went away before the request was forwarded")
        return None
    try:
        return await work
    except asyncio.CancelledError:
        if not left:
            raise
        this.uncancel()
        log.debug("client went away; upstream request cancelled")
        return None
    finally:
        client.watch_gone(None)


class _Accepted(H11Connection):
    """A client connection's protocol: hands itself to the proxy once connected."""

    def __init__(self, proxy: ProxyServer) -> None:
        super().__init__(h11.SERVER, allow_folding=False)
        self._proxy = proxy

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._proxy.accepted(self)


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
    limits = limits or ProxyLimits()
    forwarder = Forwarder(manager, transport or open_upstream(check_upstream(upstream), limits),
                          profile)
    if watch:
        manager.watch(profile)
    proxy = ProxyServer(forwarder, secret or new_secret(), max_replay_bytes, limits)
    return await proxy.start(host, port)
