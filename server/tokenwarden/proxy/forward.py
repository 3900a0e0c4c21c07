"""Forwarding one request upstream with the current token, renewing once on a 401."""

from __future__ import annotations

import logging

from tokenwarden.errors import SignInRequired, TemporarilyUnavailable, TokenwardenError
from tokenwarden.proxy import replies
from tokenwarden.proxy.body import RequestBody
from tokenwarden.proxy.direct import UpstreamTimeout
from tokenwarden.proxy.inbound import ClientSide, RequestHead
from tokenwarden.proxy.replies import Reply
from tokenwarden.proxy.upstream import Content, Upstream, UpstreamError, UpstreamResponse
from tokenwarden.session import SessionManager

log = logging.getLogger(__name__)

#: Replaced by the real bearer token, or framing the proxy recomputes.
#: The transport frames the request itself (``Content-Length`` or chunked).
_CLIENT_ONLY = frozenset({b"host", b"authorization", b"x-api-key", b"expect", b"content-length"})


class Forwarder:
    """Sends client requests to one upstream with the profile's current bearer token."""

    def __init__(self, manager: SessionManager, upstream: Upstream,
                 profile: str | None) -> None:
        self.manager = manager
        self.upstream = upstream
        self.profile = profile
        self._statuses: frozenset[int] = frozenset({401})
        self._statuses_of: object = None

    async def exchange(self, head: RequestHead, body: RequestBody) -> UpstreamResponse | Reply:
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
        if isinstance(response, Reply) or response.status not in self._rejected_statuses():
            return response
        return await self._after_rejection(head, body, response, issued.access_token)

    def _rejected_statuses(self) -> frozenset[int]:
        """The profile's ``rejected_statuses``: what counts as a refused token (401)."""
        config = self.manager.config
        if self._statuses_of is not config:  # read again only when the config was replaced
            try:
                self._statuses = config.profile(self.profile).rejected_statuses
            except TokenwardenError:
                self._statuses = frozenset({401})
            self._statuses_of = config
        return self._statuses

    async def _after_rejection(self, head: RequestHead, body: RequestBody,
                               response: UpstreamResponse,
                               rejected: str) -> UpstreamResponse | Reply:
        """Renew once; replay a buffered request, or pass the 401 on for a streamed one."""
        log.info("upstream rejected the token (%d); renewing", response.status)
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
        if renewed.access_token == rejected:
            log.info("no newer token to replay with; passing the upstream's answer on")
            return response
        if not body.replayable:
            log.info("request body was streamed, not replaying; passing the 401 on")
            return response
        await response.aclose()
        # Once only: a second 401 with a token just issued is the upstream's real answer.
        return await self._send(head, body, renewed.access_token)

    async def _send(self, head: RequestHead, body: RequestBody,
                    token: str) -> UpstreamResponse | Reply:
        headers = head.headers.end_to_end(_CLIENT_ONLY)
        headers.append((b"Authorization", b"Bearer " + token.encode("ascii")))
        content: Content = body.buffered if body.replayable else body.stream()
        length = None if head.chunked else head.content_length
        try:
            return await self.upstream.send(head.method, head.target, headers, content, length)
        except UpstreamTimeout as exc:
            log.warning("upstream request failed: %s", exc)
            return replies.gateway_timeout(exc.seconds)
        except UpstreamError as exc:
            log.warning("upstream request failed: %s", exc)
            return replies.bad_gateway(str(exc))


async def relay(response: UpstreamResponse, client: ClientSide) -> bool:
    """Stream ``response`` to the client piece by piece, as it arrives; True at its end."""
    headers = response.headers.end_to_end()
    sized = response.header(b"content-length") is not None
    if sized and response.header(b"transfer-encoding") is not None:
        # The body came framed by its coding, which overrides any length (RFC 9112 6.3).
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        sized = False
    # Nothing to take out: the parser's own header object goes on unchanged.
    unchanged = len(headers) == len(response.headers) and response.parsed_headers is not None
    # h11 frames the answer: the given length, else chunked for HTTP/1.1 clients and
    # a close for HTTP/1.0 ones; no body for HEAD, 204 and 304.
    client.queue_head(response.status, response.reason,
                      response.parsed_headers if unchanged else headers)
    if not sized:
        # A stream's head goes out at once: the client may wait on it before any event.
        await client.stream.drain()
    # A sized body's head rides with its first piece (one write, not two); after that
    # every piece is flushed as it arrives: streams must not wait in a buffer.
    while (data := await response.read_piece()) is not None:
        if data:
            await client.send_data(data)
    await client.send_end()
    return True
