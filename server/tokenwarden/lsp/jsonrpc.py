"""JSON-RPC plumbing under pygls: plain JSON payloads and a dispatcher that never crashes.

pygls' defaults turn unknown params into namedtuples, insist on ``params``, let a
message that does not parse go unanswered, and log every contract error as a
traceback. ``TokenwardenProtocol`` keeps custom payloads as the JSON a client
sent, answers malformed messages with the JSON-RPC error they deserve, announces
protocol v1 in the capabilities and asks for no document sync.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future
from typing import Any

from cattrs import Converter
from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.exceptions import JsonRpcException
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    lsp_method,
)

from tokenwarden.lsp import protocol

log = logging.getLogger(__name__)


def wire_converter() -> Converter:
    """The lsprotocol converter, with custom payloads kept as plain JSON.

    pygls' default turns unknown params into namedtuples and requires ``params``;
    the contract's parsers want the JSON as sent, and ``params`` is optional.
    """
    converter = get_converter()
    converter.register_structure_hook(JsonRPCRequestMessage, lambda obj, cls: cls(
        id=obj["id"], method=obj["method"], jsonrpc=obj["jsonrpc"], params=obj.get("params")))
    converter.register_structure_hook(JsonRPCNotification, lambda obj, cls: cls(
        method=obj["method"], jsonrpc=obj["jsonrpc"], params=obj.get("params")))
    converter.register_structure_hook(JsonRPCResponseMessage, lambda obj, cls: cls(
        id=obj["id"], jsonrpc=obj["jsonrpc"], result=obj.get("result")))
    return converter


class TokenwardenProtocol(LanguageServerProtocol):
    """pygls' LSP protocol, plus protocol-v1 capabilities and a tolerant dispatcher."""

    # pygls caches its version with lru_cache; a constant needs no cache.
    def get_result_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        """Answers to our requests stay plain JSON: ``client_requests`` judges them."""
        return None

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Any:
        """The pygls initialize, then announce protocol v1 and drop document sync."""
        result = yield from super().lsp_initialize(params)
        result.capabilities.experimental = protocol.experimental_capabilities()
        result.capabilities.text_document_sync = None
        return result

    def dispatch(self, body: bytes) -> None:
        """Handle one message body; malformed ones get an error answer, never a crash."""
        try:
            data = json.loads(body)
        except ValueError:
            self.reply_error(None, protocol.PARSE_ERROR, "Parse error: not JSON")
            return
        request_id = _request_id(data)
        if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":
            self.reply_error(request_id, protocol.INVALID_REQUEST, "Invalid Request")
            return
        is_request = "id" in data and "method" in data
        if is_request and self._shutdown and data.get("method") != types.EXIT:
            self.reply_error(request_id, protocol.INVALID_REQUEST, "the server is shutting down")
            return
        try:
            message = self.structure_message(data)
        except JsonRpcException:
            if is_request:
                self.reply_error(request_id, protocol.INVALID_PARAMS,
                                 f"Invalid params for {data.get('method')}")
            else:
                log.info("dropped a malformed %s message", data.get("method", "response"))
            return
        try:
            self.handle_message(message)
        except Exception:  # pygls raises for e.g. a late answer to a cancelled request
            log.debug("could not handle a message", exc_info=True)

    def _send_handler_result(self, future: Future[Any], *, msg_id: Any) -> None:
        """Answer a request; a contract error is an answer, not a traceback on stderr."""
        error = None if future.cancelled() else future.exception()
        if isinstance(error, JsonRpcException):
            self._request_futures.pop(msg_id, None)
            self._send_response(msg_id, error=error.to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)

    def reply_error(self, request_id: Any, code: int, message: str) -> None:
        """Answer a request (or, with id None, the peer) with a JSON-RPC error."""
        self._send_response(request_id, error=types.ResponseError(code=code, message=message))


def _request_id(data: Any) -> Any:
    if isinstance(data, dict):
        value = data.get("id")
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
    return None
