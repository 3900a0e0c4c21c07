"""A stub Kubernetes API server (https) on 127.0.0.1 that trusts only tokens the dev server accepts.

Answers ``/api`` (APIVersions) and ``/api/v1/namespaces`` (a NamespaceList), enough
for ``kubectl get --raw``; anything without a valid bearer gets the 401 Status
object a real API server sends. It speaks https because kubectl runs exec
credential plugins only for https servers (measured with kubectl 1.32: over http
it sends no credential at all).
"""

from __future__ import annotations

import json
import ssl
from http.server import BaseHTTPRequestHandler

from tests.integrations.bearer import BearerCheck
from tests.loopback_http import LoopbackHTTPServer

UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4", "platform": "linux/amd64"}
ANSWERS = {
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                             "serverAddress": "127.0.0.1"}]},
    "/api/v1/namespaces": {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {},
                           "items": [{"metadata": {"name": "default"}}]},
}


class KubeAPI(LoopbackHTTPServer):
    """Runs on a daemon thread; ``base`` and the ``check`` counters."""

    def __init__(self, userinfo_url: str, tls: ssl.SSLContext) -> None:
        self.check = BearerCheck(userinfo_url)
        super().__init__(_handler_for(self.check), tls)


def _handler_for(check: BearerCheck) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/version":
                # Public on a real cluster; the gcloud kubectl dispatcher asks it first to
                # pick a kubectl matching the server, and waits seconds when it fails.
                self._send(200, VERSION)
                return
            header = self.headers.get("Authorization") or ""
            token = header[len("Bearer "):] if header.startswith("Bearer ") else None
            if not check.valid(token):
                self._send(401, UNAUTHORIZED)
                return
            answer = ANSWERS.get(self.path.split("?")[0])
            self._send(200 if answer else 404, answer or {"kind": "Status", "code": 404})

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
