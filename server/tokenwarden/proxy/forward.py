"""Forwarding one request upstream with the current token, renewing once on a 401."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx2

from tokenwarden.errors import SignInRequired, TemporarilyUnavailable, TokenwardenError
from tokenwarden.proxy import replies
from tokenwarden.proxy.body import RequestBody
from tokenwarden.proxy.replies import Reply
from tokenwarden.proxy.wire import (
    LAST_CHUNK,
    Headers,
    RequestHead,
    chunk_frame,
    end_to_end,
    response_head,
)
from tokenwarden.session import SessionManager

log = logging.getLogger(__name__)

#: Replaced by the real bearer token, or framing the proxy recomputes.
_CLIENT_ONLY = ("host", "authorization", "x-api-key", "expect")
_NO_BODY_STATUSES = frozenset({204, 304})


def upstream_client() -> httpx2.AsyncClient:
    """The HTTP client for upstream calls: no read timeout, since streams may idle."""
    return httpx2.AsyncClient(
        timeout=httpx2.Timeout(connect=15.0, read=None, write=60.0, pool=30.0),
        limits=httpx2.Limits(max_connections=200, max_keepalive_connections=50),
        follow_redirects=False,
    )


class Forwarder:
    """Sends client requests to one upstream with the profile's current bearer token."""

    def __init__(self, manager: SessionManager, upstream: str, profile: str | None,
                 client: httpx2.AsyncClient) -> None:
        self.manager = manager
        self.upstream = upstream.rstrip("/")
        self.profile = profile
        self.client = client

    async def exchange(self, head: RequestHead, body: RequestBody) -> httpx2.Response | Reply:
        """The upstream's response (open, to be streamed), or the proxy's own reply."""
        try:
            issued = await self.manager.get_token(self.profile)
        except SignInRequired as exc:
            return replies.sign_in_required(self.profile, exc.message)
        except TemporarilyUnavailable as exc:
            return replies.unavailable(exc.message, exc.retry_after)
        except TokenwardenError as exc:
            return replies.failed(exc.message)
        response = await self._send(head, body, issued.access_token)
        if isinstance(response, Reply) or response.status_code != 401:
            return response
        return await self._after_rejection(head, body, response, issued.access_token)

    async def _after_rejection(self, head: RequestHead, body: RequestBody,
                               response: httpx2.Response, rejected: str) -> httpx2.Response | Reply:
        """Renew once; replay a buffered request, or pass the 401 on for a streamed one."""
        log.info("upstream rejected the token (401); renewing")
        try:
            renewed = await self.manager.token_rejected(self.profile, rejected)
        except SignInRequired as exc:
            await response.aclose()
            return replies.sign_in_required(self.profile, exc.message)
        except TemporarilyUnavailable as exc:
            await response.aclose()
            return replies.unavailable(exc.message, exc.retry_after)
        except TokenwardenError as exc:
            await response.aclose()
            return replies.failed(exc.message)
        if not body.replayable:
            log.info("request body was streamed, not replaying; passing the 401 on")
            return response
        await response.aclose()
        # Once only: a second 401 with a token just issued is the upstream's real answer.
        return await self._send(head, body, renewed.access_token)

    async def _send(self, head: RequestHead, body: RequestBody,
                    token: str) -> httpx2.Response | Reply:
        headers = end_to_end(head.headers, drop=_CLIENT_ONLY)
        headers.append(("Authorization", f"Bearer {token}"))
        if head.get("accept-encoding") is None:
            headers.append(("Accept-Encoding", "identity"))  # not the client's defaults
        content: bytes | AsyncIterator[bytes] | None = (
            (body.buffered or None) if body.replayable else body.stream()
        )
        request = self.client.build_request(
            head.method, httpx2.URL(self.upstream + head.target), headers=headers,
            content=content,
        )
        try:
            return await self.client.send(request, stream=True)
        except httpx2.HTTPError as exc:
            log.warning("upstream request failed: %s", type(exc).__name__)
            return replies.bad_gateway(type(exc).__name__)


async def relay(response: httpx2.Response, head: RequestHead,
                writer: asyncio.StreamWriter) -> bool:
    """Stream ``response`` to the client chunk by chunk; whether the connection may stay open."""
    keep_alive = head.keep_alive
    headers: Headers = end_to_end(response.headers.multi_items())
    bodyless = (head.method == "HEAD" or response.status_code < 200
                or response.status_code in _NO_BODY_STATUSES)
    sized = response.headers.get("content-length") is not None
    chunked = not bodyless and not sized and head.version != "HTTP/1.0"
    if not bodyless and not sized and not chunked:
        keep_alive = False  # an HTTP/1.0 client learns the end when we close
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
    headers.append(("Connection", "keep-alive" if keep_alive else "close"))
    writer.write(response_head(response.status_code, response.reason_phrase, headers))
    await writer.drain()
    if bodyless:
        return keep_alive
    # Flush every piece as it arrives: SSE and token streams must not wait in a buffer.
    async for data in response.aiter_raw():
        if data:
            writer.write(chunk_frame(data) if chunked else data)
            await writer.drain()
    if chunked:
        writer.write(LAST_CHUNK)
        await writer.drain()
    return keep_alive
