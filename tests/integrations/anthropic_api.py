"""An Anthropic-compatible Messages API on 127.0.0.1 for the real Claude Code CLI.

Every request's credential (``Authorization: Bearer`` first, else ``x-api-key``) is
checked at the dev server's /userinfo; a refused one gets exactly what the real
API answers for an expired OAuth token. ``POST /v1/messages`` streams server-sent
events like the real API (``message_start`` … ``message_stop``). A prompt with
``SLEEP n`` makes the answer a ``Bash`` tool call ``sleep n``, so the turn
outlives a short token, and ``STAMP`` a call of an MCP server's ``stamp`` tool;
after the last tool result the answer is the text ``pong`` and that result.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.integrations.bearer import BearerCheck
from tests.loopback_http import LoopbackHTTPServer

EXPIRED = {"type": "error", "error": {"type": "authentication_error",
                                      "message": "OAuth token has expired."}}
STEP = re.compile(r"\b(?:SLEEP \d+(?:\.\d+)?|STAMP)\b")


class AnthropicAPI(LoopbackHTTPServer):
    """Runs on a daemon thread; ``base``, ``check`` (credentials) and ``paths`` (hits)."""

    def __init__(self, userinfo_url: str) -> None:
        self.check = BearerCheck(userinfo_url)
        self.paths: Counter[str] = Counter()
        self.lock = threading.Lock()
        super().__init__(_handler_for(self))


def credential(headers: Any) -> str | None:
    """The token a request presents: the bearer, else the API key."""
    authorization = headers.get("Authorization") or ""
    if authorization.startswith("Bearer "):
        return str(authorization[len("Bearer "):])
    key = headers.get("x-api-key")
    return str(key) if key else None


def answer_for(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The content blocks of the reply to a Messages request.

    The prompt's steps (``SLEEP n``, ``STAMP``) become tool calls one per turn, in
    order, as long as the tool is offered; then the answer is ``pong`` and the
    last tool result's text.
    """
    messages = request.get("messages") or []
    results = [block for message in messages if isinstance(message.get("content"), list)
               for block in message["content"]
               if isinstance(block, dict) and block.get("type") == "tool_result"]
    # Claude Code wraps the prompt in reminders: read the whole first user message.
    steps = STEP.findall(json.dumps(messages[:1]))
    offered = {str(tool.get("name")) for tool in request.get("tools") or []}
    if len(results) < len(steps):
        step = steps[len(results)]
        call = _tool_call(step, offered)
        if call is not None:
            return [call]
    last = _text_of(results[-1]) if results else ""
    return [{"type": "text", "text": f"pong {last}".strip()}]


def _tool_call(step: str, offered: set[str]) -> dict[str, Any] | None:
    if step.startswith("SLEEP") and "Bash" in offered:
        name, arguments = "Bash", {"command": f"sleep {step.split()[1]}",
                                   "description": "Wait as asked"}
    else:
        stamp = next((name for name in offered if name.endswith("__stamp")), None)
        if stamp is None:
            return None
        name, arguments = stamp, {}
    return {"type": "tool_use", "id": "toolu_" + secrets.token_hex(8), "name": name,
            "input": arguments}


def _text_of(result: dict[str, Any]) -> str:
    content = result.get("content")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")[:200]


def sse_events(model: str, blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The event stream of one reply, as the real Messages API sends it."""
    stop = "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn"
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {
        "type": "message_start", "message": {
            "id": "msg_" + secrets.token_hex(12), "type": "message", "role": "assistant",
            "model": model, "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 12, "output_tokens": 1}}})]
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            events.append(("content_block_start", {"type": "content_block_start", "index": index,
                           "content_block": {"type": "text", "text": ""}}))
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            events.append(("content_block_start", {"type": "content_block_start", "index": index,
                           "content_block": {**block, "input": {}}}))
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        events.append(("content_block_delta", {"type": "content_block_delta", "index": index,
                                                "delta": delta}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": stop, "stop_sequence": None},
                                     "usage": {"output_tokens": 5}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _handler_for(api: AnthropicAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            path = self.path.split("?")[0]
            with api.lock:
                api.paths[path] += 1
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            if not api.check.valid(credential(self.headers)):
                self._json(401, {**EXPIRED, "request_id": "req_" + secrets.token_hex(12)})
                return
            if path != "/v1/messages":
                self._json(404, {"type": "error", "error": {"type": "not_found_error",
                                                            "message": f"no {path}"}})
                return
            blocks = answer_for(body)
            model = str(body.get("model") or "claude-stub")
            if body.get("stream"):
                self._stream(sse_events(model, blocks))
            else:
                stop = "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn"
                self._json(200, {"id": "msg_" + secrets.token_hex(12), "type": "message",
                                 "role": "assistant", "model": model, "content": blocks,
                                 "stop_reason": stop, "stop_sequence": None,
                                 "usage": {"input_tokens": 12, "output_tokens": 5}})

        do_GET = do_POST

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, events: list[tuple[str, dict[str, Any]]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for name, data in events:
                chunk = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler
