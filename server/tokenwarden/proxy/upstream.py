"""The proxy's upstream side: the interface of a transport, and which one the environment calls for.

Two transports implement ``Upstream``: ``direct.DirectUpstream``, HTTP/1.1 on h11
over asyncio streams, used for direct connections, and
``viahttpx.HttpxUpstream``, used when ``HTTP(S)_PROXY``/``ALL_PROXY`` routes the
upstream through an HTTP proxy (CONNECT tunnels, proxy authentication).

Errors: every failure to reach the upstream or to read its answer is an
``UpstreamError``; the forwarder turns one raised before the head into a 502.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from typing import Protocol
from urllib.parse import urlsplit

from tokenwarden.proxy.headers import HeaderList, Headers

Content = bytes | AsyncIterator[bytes] | None


class UpstreamError(Exception):
    """The upstream could not be reached, or its answer was not HTTP/1.x we can read."""


class UpstreamResponse(Protocol):
    """An upstream answer whose head has arrived; the body is read by ``read_piece``."""

    status: int
    reason: bytes
    headers: HeaderList
    #: The parser's own object for ``headers``, when it can be sent on as it is.
    parsed_headers: object | None

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower case), or None."""

    async def read_piece(self) -> bytes | None:
        """The next piece of the body as it arrives, transfer coding removed; None at the end."""

    async def aclose(self) -> None:
        """Release the connection (back to the pool when the body was read whole)."""


class Upstream(Protocol):
    """Sends requests to one upstream origin."""

    async def send(self, method: str, target: str, headers: Headers, content: Content,
                   length: int | None = None) -> UpstreamResponse:
        """Send a request; ``target`` (origin-form) goes after the base path.

        ``headers`` are end-to-end ones without ``Host`` and framing, which the
        transport adds. Their names and values must be valid field bytes, as h11
        parsed them from the client or the store keeps a token: the direct
        transport does not validate them a second time.

        ``length`` is a streamed body's declared size (sent as ``Content-Length``,
        since some APIs refuse chunked uploads); without it a stream goes chunked.
        """

    async def aclose(self) -> None:
        """Close every connection."""


def environment_proxy(url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The proxy ``HTTP(S)_PROXY``/``ALL_PROXY`` names for ``url``, unless ``NO_PROXY`` skips it."""
    env = os.environ if environ is None else environ
    named = {k.lower(): v for k, v in env.items() if k.lower().endswith("_proxy") and v}
    parts = urlsplit(url)
    proxy = named.get(f"{parts.scheme}_proxy") or named.get("all_proxy")
    if proxy is None:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if _exempt(parts.hostname or "", port, named.get("no_proxy", "")):
        return None
    return proxy


def _exempt(host: str, port: int, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` (``*``, hosts, ``.domain`` suffixes, ``host:port``) covers ``host``."""
    host = host.lower()
    for entry in (item.strip().lower() for item in no_proxy.split(",") if item.strip()):
        if entry == "*":
            return True
        name, entry_port = _split_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    """``host[:port]`` or ``[v6][:port]``; a bare IPv6 address has no port."""
    if entry.startswith("["):
        name, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
    elif entry.count(":") == 1:
        name, _, port = entry.partition(":")
    else:
        return entry, None
    return name, int(port) if port.isdigit() else None
