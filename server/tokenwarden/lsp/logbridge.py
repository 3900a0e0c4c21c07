"""Log records to ``window/logMessage`` (and stderr), with secrets redacted.

The core already never logs a token; this is the second line of defence for
what third-party code logs (pygls echoes whole messages at INFO level, and a
``tokenwarden/getToken`` answer carries a token): any value of a token-like key
and any ``Bearer`` credential is replaced before a record leaves the process.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading

from lsprotocol import types

from tokenwarden.lsp.client_requests import ClientRequests

_SECRET_VALUE = re.compile(
    r"""(?ix)
    (["']?(?:access_?token|refresh_?token|id_?token|device_?code|client_?secret)["']?
      \s*[:=]\s*)
    ("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&}\])]+)
    """
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
REDACTED = "<redacted>"

_LEVELS = (
    (logging.ERROR, types.MessageType.Error),
    (logging.WARNING, types.MessageType.Warning),
    (logging.INFO, types.MessageType.Info),
)


def redact(text: str) -> str:
    """``text`` with token-like values and bearer credentials replaced."""
    text = _SECRET_VALUE.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    return _BEARER.sub(lambda m: f"{m.group(1)}{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and exception text) with secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; never drops a record."""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class LogMessageHandler(logging.Handler):
    """Sends records to the editor as ``window/logMessage`` from the loop thread."""

    def __init__(self, client: ClientRequests, loop: asyncio.AbstractEventLoop,
                 level: int = logging.INFO) -> None:
        super().__init__(level)
        self._client = client
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._sending = False
        self.addFilter(RedactingFilter())
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        """Forward one record (records logged while forwarding are dropped)."""
        if self._sending:
            return
        try:
            text = self.format(record)
        except Exception:
            self.handleError(record)
            return
        kind = next((k for level, k in _LEVELS if record.levelno >= level), types.MessageType.Log)
        if threading.get_ident() == self._loop_thread:
            self._send(kind, text)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._send, kind, text)

    def _send(self, kind: types.MessageType, text: str) -> None:
        self._sending = True
        try:
            self._client.log_message(kind, text)
        finally:
            self._sending = False


def configure_logging() -> None:
    """Redact on every stderr handler, let lifecycle events (INFO) reach the editor.

    The root handlers keep the level the command line chose, so INFO records go to
    the editor's log without also filling stderr; pygls' echo of every message
    stays off below WARNING.
    """
    root = logging.getLogger()
    for handler in root.handlers:
        if handler.level == logging.NOTSET:
            handler.setLevel(root.level)
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    ours = logging.getLogger("tokenwarden")
    if ours.getEffectiveLevel() > logging.INFO:
        ours.setLevel(logging.INFO)
    pygls = logging.getLogger("pygls")
    pygls.setLevel(max(pygls.getEffectiveLevel(), logging.WARNING))
