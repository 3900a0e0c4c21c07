"""A scripted, hostile authorization server on 127.0.0.1: answers whatever a test sets.

Real HTTP (stdlib server on a thread). ``answers[path]`` is the JSON answered to a
POST there; discovery is served from the issuer it runs on.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GOOD_TOKENS = {"access_token": "good-access", "token_type": "Bearer", "expires_in": 3600,
               "refresh_token": "good-refresh"}


class HostileProvider:
    """Discovery, /device_authorization, /token, /userinfo with scripted answers."""

    def __init__(self) -> None:
        owner = self
        self.posts: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path.startswith("/.well-known/"):
                    self._json(200, owner.metadata())
                else:
                    self._json(200, owner.answers.get(self.path, {"sub": "mallory"}))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                owner.posts.append(self.path)
                answer = owner.answers.get(self.path)
                if answer is None:
                    self._json(404, {"error": "not_found"})
                else:
                    self._json(answer.get("_status", 200),
                               {k: v for k, v in answer.items() if k != "_status"})

            def _json(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.answers: dict[str, dict[str, Any]] = {
            "/device_authorization": {
                "device_code": "dc", "user_code": "WDJB-MJHT", "expires_in": 60,
                "interval": 0, "verification_uri": f"{self.issuer}/device"},
            "/token": dict(GOOD_TOKENS),
            "/revoke": {},
        }
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def metadata(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "token_endpoint": f"{self.issuer}/token",
                "device_authorization_endpoint": f"{self.issuer}/device_authorization",
                "revocation_endpoint": f"{self.issuer}/revoke",
                "userinfo_endpoint": f"{self.issuer}/userinfo"}

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
