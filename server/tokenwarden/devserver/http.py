"""HTTP transport on the stdlib ``ThreadingHTTPServer``: request ids, logging, fault delivery.

This is the only module that touches sockets. It reads a request, asks the
fault queue whether this request is to misbehave, lets the app answer (or not),
and writes the answer, or breaks the connection the way the fault says.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .app import DevApp
from .faults import CONNECTION_FAULTS, PASS_THROUGH_FAULTS, Fault, FaultKind
from .stats import short_grant_type
from .wire import Headers, HttpRequest, HttpResponse

log = logging.getLogger("tokenwarden.devserver")

MAX_BODY_BYTES = 1 << 20
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _request_id(offered: str | None) -> str:
    # Echo a well-formed client id so both sides' logs line up; otherwise mint one.
    if offered and _CLIENT_REQUEST_ID.fullmatch(offered):
        return offered
    return f"req_{secrets.token_hex(8)}"


def _printable(text: str, limit: int = 200) -> str:
    return text[:limit].encode("ascii", "backslashreplace").decode("ascii")


class DevHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its issuer and can close its open connections."""

    daemon_threads = True
    # Do not wait for handler threads on close: a delayed answer must not hold up stop().
    block_on_close = False

    def __init__(self, host: str, port: int, app_factory: Callable[[str], DevApp]) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), DevRequestHandler)
        url_host = f"[{host}]" if ":" in host else host
        self.issuer = f"http://{url_host}:{self.port}"
        self.app = app_factory(self.issuer)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    @property
    def port(self) -> int:
        """The bound port (useful after binding port 0)."""
        return int(self.server_address[1])

    def track(self, connection: socket.socket) -> None:
        """Remember an open client connection."""
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        """Forget a closed client connection."""
        with self._connections_lock:
            self._connections.discard(connection)

    def handle_error(self, request: object, client_address: object) -> None:
        """Log a failed connection instead of printing a traceback to stderr."""
        log.warning("connection from %s failed", client_address, exc_info=True)

    def close_connections(self) -> None:
        """Shut every open connection, so idle keep-alive handlers end now."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already gone
                connection.shutdown(socket.SHUT_RDWR)


class DevRequestHandler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive, like the servers tokenwarden talks to."""

    protocol_version = "HTTP/1.1"
    server_version = "tokenwarden-devserver"
    timeout = 30
    # Headers and body go out in two writes; without this, Nagle's algorithm and
    # delayed ACKs stall every response by ~40 ms.
    disable_nagle_algorithm = True
    server: DevHTTPServer
    request_id = ""

    def setup(self) -> None:
        """Track the connection for a clean stop."""
        super().setup()
        self.server.track(self.connection)

    def handle_one_request(self) -> None:
        """Serve one request on the connection, under a fresh request id."""
        self.request_id = ""
        super().handle_one_request()

    def finish(self) -> None:
        """Flush and close, tolerating connections a fault already broke."""
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.untrack(self.connection)

    def send_response(self, code: int, message: str | None = None) -> None:
        """Every response, even the stdlib's own error pages, carries ``x-request-id``."""
        super().send_response(code, message)
        self.send_header("x-request-id", self.request_id or _request_id(None))

    def version_string(self) -> str:
        """The ``Server`` header: no Python version."""
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:
        """Silence the stdlib access log: it prints query strings. See ``_log_exchange``."""

    def do_GET(self) -> None:
        """Serve GET."""
        self._serve()

    def do_POST(self) -> None:
        """Serve POST."""
        self._serve()

    def do_DELETE(self) -> None:
        """Serve DELETE."""
        self._serve()

    def do_PUT(self) -> None:
        """Serve PUT (only to answer 405)."""
        self._serve()

    def _serve(self) -> None:
        started = time.monotonic()
        self.request_id = _request_id(self.headers.get("x-request-id"))
        request = self._read_request()
        if request is None:
            return
        app = self.server.app
        endpoint = app.endpoint_of(request)
        grant_type = request.form.get("grant_type") if endpoint == "token" else None
        fault = app.faults.take(endpoint, grant_type)
        response = self._produce(request, fault)
        broken = fault is not None and fault.kind in CONNECTION_FAULTS
        fault_name = fault.kind.value if fault is not None else None
        status = response.status if response is not None and not broken else None
        outcome = response.outcome if response is not None else f"fault:{fault_name}"
        # Record before answering: once a client holds the answer, stats include it.
        app.record(
            request,
            endpoint=endpoint,
            grant_type=grant_type,
            status=status,
            outcome=outcome,
            fault=fault_name,
        )
        self._log_exchange(request, status, outcome, grant_type, fault_name, started)
        if broken:
            self._break_connection(reset=fault is not None and fault.kind is FaultKind.RESET)
        elif response is not None:
            self._send(response)

    def _produce(self, request: HttpRequest, fault: Fault | None) -> HttpResponse | None:
        """The answer to send: the app's, or the fault's; None when the fault sends nothing."""
        if fault is not None and fault.kind is FaultKind.DELAY:
            time.sleep(fault.delay_seconds)
        if fault is None or fault.kind.value in PASS_THROUGH_FAULTS:
            return self.server.app.handle(request)
        return fault.canned_response()

    def _read_request(self) -> HttpRequest | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self.send_error(411, "Content-Length required")
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            self.send_error(413 if length > 0 else 400, "bad Content-Length")
            return None
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        return HttpRequest(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers=Headers(self.headers.items()),
            body=body,
            request_id=self.request_id,
        )

    def _send(self, response: HttpResponse) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:
            self.close_connection = True  # the client went away

    def _break_connection(self, *, reset: bool) -> None:
        """Close without a response: a FIN (``drop``), or an RST when ``reset``."""
        self.close_connection = True
        connection = self.connection
        try:
            if reset:
                # SO_LINGER on with a zero timeout makes close() send RST.
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        # rfile (a makefile) holds a reference to the descriptor: close it first, so
        # close() really closes. wfile stays open; the stdlib flushes it afterwards.
        self.rfile.close()
        connection.close()

    def _log_exchange(
        self,
        request: HttpRequest,
        status: int | None,
        outcome: str,
        grant_type: str | None,
        fault_name: str | None,
        started: float,
    ) -> None:
        # Method, path (never the query), status, outcome: no token can reach this line.
        extras = ""
        if grant_type:
            extras += f" grant_type={_printable(short_grant_type(grant_type) or '', 60)}"
        if fault_name is not None:
            extras += f" fault={fault_name}"
        log.info(
            "%s %s %s %s%s id=%s %.1fms",
            request.method,
            _printable(request.path),
            status if status is not None else "-",
            outcome,
            extras,
            request.request_id,
            (time.monotonic() - started) * 1000,
        )
