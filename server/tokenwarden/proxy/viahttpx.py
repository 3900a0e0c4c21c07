"""The upstream transport through an HTTP proxy from the environment, on httpx2.

``open_upstream`` uses it only when ``HTTP(S)_PROXY``/``ALL_PROXY`` applies to the
upstream: httpx2 knows CONNECT tunnels and proxy authentication, which the direct
HTTP/1.1 client (``upstream``) leaves out to stay fast. Same interface, same errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx2

from tokenwarden.proxy.direct import UpstreamTimeout
from tokenwarden.proxy.headers import HeaderList, Headers, header
from tokenwarden.proxy.upstream import Content, UpstreamError, UpstreamResponse


class HttpxUpstream:
    """Sends requests to one upstream through httpx2, honouring proxy settings."""

    def __init__(self, base_url: str, *, trust_env: bool = True,
                 head_timeout: float = 300.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.head_timeout = head_timeout
        # No read timeout: event streams may idle for minutes between events.
        self.client = httpx2.AsyncClient(
            timeout=httpx2.Timeout(connect=15.0, read=None, write=60.0, pool=30.0),
            limits=httpx2.Limits(max_connections=200, max_keepalive_connections=50),
            follow_redirects=False, trust_env=trust_env,
        )

    async def send(self, method: str, target: str, headers: Headers, content: Content,
                   length: int | None = None) -> UpstreamResponse:
        """Send a request and return once the answer's head has arrived."""
        headers = list(headers)  # end-to-end already: httpx2 adds Host and the framing
        if header(headers, b"accept-encoding") is None:
            headers.append((b"Accept-Encoding", b"identity"))  # not httpx2's default
        if length is not None and not isinstance(content, bytes | None):
            headers.append((b"Content-Length", b"%d" % length))  # httpx2 would go chunked
        request = self.client.build_request(method, httpx2.URL(self.base_url + target),
                                            headers=headers, content=content)
        try:
            async with asyncio.timeout(self.head_timeout):
                response = await self.client.send(request, stream=True)
        except TimeoutError:
            raise UpstreamTimeout(self.head_timeout) from None
        except httpx2.HTTPError as exc:
            raise UpstreamError(f"{type(exc).__name__} via the configured HTTP proxy") from None
        return _HttpxResponse(response)

    async def aclose(self) -> None:
        """Close every connection."""
        await self.client.aclose()


class _HttpxResponse:
    def __init__(self, response: httpx2.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.reason = response.reason_phrase.encode("latin-1")
        self.headers = HeaderList(list(response.headers.raw))
        self.parsed_headers: object | None = None
        self._pieces: AsyncIterator[bytes] | None = None

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower case), or None."""
        return self.headers.get(name)

    async def read_piece(self) -> bytes | None:
        """The next piece of the body as it arrives, transfer coding removed; None at the end."""
        if self._pieces is None:
            self._pieces = self._response.aiter_raw()
        try:
            return await anext(self._pieces)
        except StopAsyncIteration:
            return None
        except httpx2.HTTPError as exc:
            raise UpstreamError(f"upstream connection broke ({type(exc).__name__})") from None

    async def aclose(self) -> None:
        """Release the connection."""
        await self._response.aclose()
