"""``tokenwarden proxy``: a loopback reverse proxy that adds the current bearer token.

A terminal tool points its base URL at the proxy and presents the per-run local
secret where it would present its API key; the proxy swaps it for the profile's
current access token, streams the upstream's answer back unbuffered, and on a 401
renews once and replays the request, so the tool never sees an expired token.

Modules: ``command`` (the CLI runner), ``secret`` (where the local secret comes
from: never argv), ``server`` (``serve_proxy``, connections, the secret check,
loopback-only binding, caps), ``limits`` (caps, deadlines, repeated log lines),
``forward`` (token, upstream call, the 401 replay, streaming relay), ``body``
(replayable or streamed request bodies), ``h11io`` (h11 on an asyncio protocol,
the one HTTP/1.1 parser), ``inbound`` (the client side), ``headers``, ``replies``
(the proxy's own JSON answers), ``upstream`` (the transport interface,
environment proxies), ``direct`` (the upstream over h11, pooled) and
``viahttpx`` (the upstream through an HTTP proxy).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenwarden.proxy.body import DEFAULT_MAX_REPLAY_BYTES
    from tokenwarden.proxy.secret import default_secret_file, new_secret
    from tokenwarden.proxy.server import ProxyServer, parse_listen, serve_proxy

__all__ = ["DEFAULT_MAX_REPLAY_BYTES", "ProxyServer", "default_secret_file", "new_secret",
           "parse_listen", "serve_proxy"]

#: Loaded on first use, so building the CLI parser does not import the HTTP client.
_LAZY = {"DEFAULT_MAX_REPLAY_BYTES": "body", "ProxyServer": "server", "new_secret": "secret",
         "default_secret_file": "secret",
         "parse_listen": "server", "serve_proxy": "server"}


def __getattr__(name: str) -> Any:
    """Import the public names lazily."""
    if name not in _LAZY:
        raise AttributeError(f"module 'tokenwarden.proxy' has no attribute {name!r}")
    return getattr(importlib.import_module(f"tokenwarden.proxy.{_LAZY[name]}"), name)
