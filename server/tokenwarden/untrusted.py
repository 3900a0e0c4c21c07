"""Strings and URIs from the authorization server, made safe to show or open.

A hostile or compromised provider controls every string of its answers: the user
code, the verification URI, ``message``, ``error_description``, account names. Shown
raw, an ESC sequence rewrites the user's terminal and a ``file:`` or ``command:``
URI handed to ``window/showDocument`` or ``webbrowser.open`` opens something other
than a web page. Everything the server says passes through here first. Pure
functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from tokenwarden.config import is_loopback

#: Bidirectional overrides and isolates (CVE-2021-42574 "Trojan Source"): they reorder
#: what the user reads without being control characters in Unicode's Cc category.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                           "\u2066\u2067\u2068\u2069")
_SPACES = re.compile(r"\s+")
#: RFC 6750 §2.1 ``b64token``: what may follow ``Bearer `` in an Authorization header.
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: RFC 6749 Appendix A.17 ``refresh-token = 1*VSCHAR`` (printable ASCII, space excluded
#: here as no real provider uses it and it invites splitting).
VSCHAR_TOKEN = re.compile(r"[\x21-\x7e]+")


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS


def printable(text: str, limit: int = 500) -> str:
    """``text`` without control characters (C0, DEL, C1, bidi controls), on one line.

    Line breaks and tabs become a single space; the result is at most ``limit``
    characters (an ellipsis marks a cut).
    """
    text = _SPACES.sub(" ", text)
    cleaned = "".join(char for char in text if not _is_control(char)).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def browsable_uri(uri: str) -> str | None:
    """``uri`` when a browser may open it: ``https:`` with a host, or ``http:`` on loopback.

    None for any other scheme (``file:``, ``command:``, ``javascript:``, ...), a missing
    host, credentials in the authority, or any control character or space in it.
    """
    if not uri or any(_is_control(char) or char.isspace() for char in uri):
        return None
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return None
    if not host or "@" in parts.netloc:
        return None
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host)):
        return uri
    return None


def is_bearer_token(value: str) -> bool:
    """True when ``value`` fits RFC 6750's ``b64token`` (cannot split an HTTP header)."""
    return B64TOKEN.fullmatch(value) is not None


def is_refresh_token(value: str) -> bool:
    """True when ``value`` is printable ASCII without spaces (RFC 6749 A.17 VSCHAR)."""
    return VSCHAR_TOKEN.fullmatch(value) is not None
