"""Header lists as the proxy passes them on: hop-by-hop ones dropped (RFC 9110 section 7.6.1).

Names and values stay bytes, as h11 parsed them (every byte it let through is a
valid field byte), so that passing a header on costs no decoding and encoding.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Headers that describe one connection, never forwarded.
HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"proxy-authenticate",
    b"proxy-authorization", b"te", b"trailer", b"transfer-encoding", b"upgrade",
})

Headers = list[tuple[bytes, bytes]]


def header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower case; matched case-insensitively), or None."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    """The lower-cased options listed in every ``Connection`` header."""
    return {
        item.strip().lower()
        for name, value in headers if name.lower() == b"connection"
        for item in value.split(b",") if item.strip()
    }


class HeaderList:
    """A message's headers as received, with each name lower-cased once for lookups."""

    __slots__ = ("_lower", "pairs")

    def __init__(self, pairs: Headers) -> None:
        self.pairs = pairs
        self._lower = [name.lower() for name, _ in pairs]

    def get(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower case), or None."""
        # A linear search in C: cheaper than building a dict for a dozen headers.
        try:
            return self.pairs[self._lower.index(name)][1]
        except ValueError:
            return None

    def __len__(self) -> int:
        return len(self.pairs)

    def end_to_end(self, drop: frozenset[bytes] = frozenset()) -> Headers:
        """Without hop-by-hop headers, those named in ``Connection``, and ``drop`` (lower case)."""
        named = connection_tokens(self.pairs) if b"connection" in self._lower else set()
        return [pair for lower, pair in zip(self._lower, self.pairs, strict=True)
                if lower not in HOP_BY_HOP and lower not in drop and lower not in named]
