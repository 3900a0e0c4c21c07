"""The bundled development OAuth authorization server.

A real authorization server on loopback for tests, demos and integration work:
RFC 8628 device grant, rotating refresh tokens with reuse detection, RFC 7009
revocation, a userinfo endpoint, and fault injection through ``/_admin``. The
OAuth protocol work is authlib's; this package binds it to in-memory state and
a stdlib HTTP server. It is a development tool: never expose it.

Modules, from the outside in: ``cli`` (command line), ``server`` (``DevServer``
lifecycle), ``http`` (sockets, fault delivery), ``app`` (routing), ``admin``
(``/_admin`` API), ``authorization`` / ``grants`` / ``endpoints`` (authlib
subclasses), ``shaping`` (where provider quirks will go), ``faults``, ``stats``,
``state`` and ``models`` (records), ``config``, ``wire`` and ``pages``.
"""

from tokenwarden.redaction import silence_secret_loggers

from .config import DevServerConfig
from .faults import Fault, FaultKind
from .server import DevServer
from .state import UserCodeError

silence_secret_loggers()  # authlib logs issued tokens at DEBUG

__all__ = ["DevServer", "DevServerConfig", "Fault", "FaultKind", "UserCodeError"]
