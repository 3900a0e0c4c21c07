"""A client's request body: buffered when small enough to replay, streamed otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tokenwarden.proxy.inbound import ClientSide, RequestHead

DEFAULT_MAX_REPLAY_BYTES = 1024 * 1024


class RequestBody:
    """The body of one request; ``replayable`` when it was read whole into memory."""

    def __init__(self, prefix: bytes, rest: AsyncIterator[bytes] | None) -> None:
        self._prefix = prefix
        self._rest = rest
        self.consumed = rest is None

    @property
    def replayable(self) -> bool:
        """Whether the whole body is in memory, so the request can be sent twice."""
        return self._rest is None

    @property
    def buffered(self) -> bytes:
        """The whole body (only when ``replayable``)."""
        assert self._rest is None
        return self._prefix

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives from the client (once)."""
        if self._prefix:
            yield self._prefix
        if self._rest is not None:
            async for chunk in self._rest:
                yield chunk
        self.consumed = True


async def read_body(client: ClientSide, head: RequestHead, max_replay_bytes: int) -> RequestBody:
    """Buffer a body of at most ``max_replay_bytes``; hand a larger one on as a stream."""
    declared = head.content_length
    if not declared and not head.chunked:  # no body: h11 has its end already
        await client.end_of_body()
        return RequestBody(b"", None)
    chunks = client.body()
    if declared is not None and declared > max_replay_bytes:
        return RequestBody(b"", chunks)
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) > max_replay_bytes:
            # A chunked body outgrew the replay limit: send what we have, then stream.
            return RequestBody(bytes(buffer), chunks)
    return RequestBody(bytes(buffer), None)
