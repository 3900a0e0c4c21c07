"""A small API on 127.0.0.1 that trusts only bearer tokens the dev server's /userinfo accepts.

Stands in for the real API a terminal tool calls: ``/echo`` reports what arrived,
``/upload`` hashes a body, ``/teapot`` answers 418, ``/events`` streams server-sent events with small
delays, ``/ping`` answers at once (token present, not validated: for latency
benchmarks). Every request is counted, and every 401 it gives.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.loopback_http import LoopbackHTTPServer


class SampleAPI(LoopbackHTTPServer):
    """Runs on a daemon thread; ``url(path)``, ``hits``, ``unauthorized``, ``event_sent_at``."""

    def __init__(self, userinfo_url: str) -> None:
        self.userinfo_url = userinfo_url
        self.hits: Counter[str] = Counter()
        self.unauthorized = 0
        self.event_sent_at: list[float] = []
        self.lock = threading.Lock()
        super().__init__(_handler_for(self))

    def url(self, path: str) -> str:
        return self.base + path

    def token_valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        request = urllib.request.Request(self.userinfo_url,
                                         headers={"Authorization": authorization})
        try:
            with _DIRECT.open(request, timeout=10) as answer:
                return answer.status == 200
        except urllib.error.HTTPError:
            return False


#: Straight to the dev server, whatever HTTP_PROXY a test sets for the proxy under test.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _handler_for(api: SampleAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in separate writes

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._route()

        do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

        def _route(self) -> None:
            parts = urlsplit(self.path)
            with api.lock:
                api.hits[parts.path] += 1
            body = self._read_body()
            if parts.path == "/ping":
                ok = (self.headers.get("Authorization") or "").startswith("Bearer ")
                self._send(200 if ok else 401, b"pong" if ok else b"no token", "text/plain")
                return
            if not api.token_valid(self.headers.get("Authorization")):
                with api.lock:
                    api.unauthorized += 1
                self._send(401, b'{"error":"invalid_token"}', "application/json",
                           [("WWW-Authenticate", 'Bearer error="invalid_token"')])
                return
            if parts.path == "/teapot":
                self._send(418, b"short and stout", "text/plain", [("X-Teapot", "yes")])
                return
            if parts.path == "/events":
                self._events(parse_qs(parts.query))
                return
            report = {
                "method": self.command,
                "path": parts.path,
                "query": parts.query,
                "headers": [[k.lower(), v] for k, v in self.headers.items()],
                "body_length": len(body),
                "body_sha256": hashlib.sha256(body).hexdigest(),
            }
            self._send(200, json.dumps(report).encode(), "application/json",
                       [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])

        def _read_body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                data = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b""):
                            pass
                        return bytes(data)
                    data += self.rfile.read(size)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, body: bytes, content_type: str,
                  extra: list[tuple[str, str]] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra or []:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _events(self, query: dict[str, list[str]]) -> None:
            count = int(query.get("n", ["100"])[0])
            delay = float(query.get("delay", ["0.01"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            with api.lock:
                api.event_sent_at = []
            try:
                self._send_events(count, delay)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client had seen enough

        def _send_events(self, count: int, delay: float) -> None:
            for index in range(count):
                event = f"id: {index}\ndata: {{\"n\": {index}}}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
                with api.lock:
                    api.event_sent_at.append(time.monotonic())
                time.sleep(delay)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler
