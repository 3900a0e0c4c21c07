"""Why a request never got an answer, in words a user can act on.

``unreachable`` turns a transport failure of the HTTP client into
``cannot reach URL: CAUSE``, where the cause comes from the exception chain (the
socket or TLS error underneath httpx2's wrappers): connection refused, host not
found, a TLS handshake that failed and why, a reset connection. No request body or
header is ever part of the text, so it cannot hold a token.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator


def unreachable(url: str, exc: BaseException, *, connecting: bool, timed_out: bool) -> str:
    """One line naming the URL and the cause of ``exc`` (the HTTP client's transport error)."""
    if timed_out:
        return (f"{url} did not answer in time" if not connecting
                else f"cannot reach {url}: connecting timed out")
    if connecting:
        return f"cannot reach {url}: {cause_of(exc)}"
    return f"the connection to {url} failed: {cause_of(exc)}"


def cause_of(exc: BaseException) -> str:
    """The lowest-level reason in the chain of ``exc`` that a user can act on."""
    for link in _chain(exc):
        if isinstance(link, ssl.SSLCertVerificationError):
            return f"TLS certificate not accepted ({link.verify_message or link.reason})"
        if isinstance(link, ssl.SSLError):
            if link.reason == "WRONG_VERSION_NUMBER":
                return "TLS handshake failed (wrong version number — is it plain http?)"
            return f"TLS handshake failed ({link.reason or link.strerror or link})"
        if isinstance(link, socket.gaierror):
            return "host not found"
        if isinstance(link, ConnectionRefusedError):
            return "connection refused"
        if isinstance(link, ConnectionResetError):
            return "the connection was reset"
        if isinstance(link, ConnectionAbortedError | BrokenPipeError):
            return "the connection was closed"
        if isinstance(link, TimeoutError):
            return "timed out"
    for link in _chain(exc):
        if isinstance(link, OSError) and link.strerror:
            return link.strerror[0].lower() + link.strerror[1:]
    text = str(exc).strip()
    return text[0].lower() + text[1:] if text else type(exc).__name__


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__
