"""Header lists as the proxy passes them on: hop-by-hop ones dropped (RFC 9110 section 7.6.1)."""

from __future__ import annotations

from collections.abc import Iterable

#: Headers that describe one connection, never forwarded.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
    "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
})

Headers = list[tuple[str, str]]


def header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive), or None."""
    wanted = name.lower()
    return next((v for k, v in headers if k.lower() == wanted), None)


def connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    """The lower-cased options listed in every ``Connection`` header."""
    return {
        item.strip().lower()
        for name, value in headers if name.lower() == "connection"
        for item in value.split(",") if item.strip()
    }


def end_to_end(headers: Iterable[tuple[str, str]], drop: Iterable[str] = ()) -> Headers:
    """``headers`` without hop-by-hop ones, those named in ``Connection``, and ``drop``."""
    pairs = list(headers)
    skip = HOP_BY_HOP | connection_tokens(pairs) | {name.lower() for name in drop}
    return [(k, v) for k, v in pairs if k.lower() not in skip]


def decoded(raw: Iterable[tuple[bytes, bytes]]) -> Headers:
    """h11's raw header pairs as text (latin-1: every byte h11 let through maps to one char)."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
