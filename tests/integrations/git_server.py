"""Smart-HTTP git on 127.0.0.1: ``git http-backend`` behind a check of the password.

git sends ``Authorization: Basic`` of ``username:password``; the password must be
an access token the dev server's /userinfo accepts (the username is not checked,
as on most forges). A request without credentials gets the usual 401 challenge
(git's first request of every command), a refused credential a 401 too, counted
apart. Everything else is handed to ``git http-backend`` as CGI.
"""

from __future__ import annotations

import base64
import binascii
import subprocess
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from tests.integrations.bearer import BearerCheck
from tests.loopback_http import LoopbackHTTPServer


class GitServer(LoopbackHTTPServer):
    """Serves the bare repositories under ``root`` at ``base``/NAME.git."""

    def __init__(self, userinfo_url: str, root: Path) -> None:
        self.check = BearerCheck(userinfo_url)
        self.root = root
        super().__init__(_handler_for(self))


def password_of(header: str | None) -> str | None:
    """The password of a Basic ``Authorization`` header, or None."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        _, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return password or None


def _handler_for(server: GitServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = self._read_body()
            if not server.check.valid(password_of(self.headers.get("Authorization"))):
                self._send(401, [("WWW-Authenticate", 'Basic realm="stub git"'),
                                 ("Content-Type", "text/plain")], b"unauthorized\n")
                return
            self._backend(body)

        do_POST = do_GET

        def _backend(self, body: bytes) -> None:
            parts = urlsplit(self.path)
            env = {
                "GIT_PROJECT_ROOT": str(server.root), "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": parts.path, "QUERY_STRING": parts.query,
                "REQUEST_METHOD": self.command, "REMOTE_USER": "tester",
                "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(body)),
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "PATH": "/usr/bin:/bin",
            }
            done = subprocess.run(["git", "http-backend"], input=body, env=env,
                                  capture_output=True, timeout=60, check=False)
            split = b"\r\n\r\n" if b"\r\n\r\n" in done.stdout else b"\n\n"
            head, _, payload = done.stdout.partition(split)
            status, headers = 200, []
            for line in head.decode("latin-1").splitlines():
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self._send(status, headers, payload)

        def _read_body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                data = bytearray()
                while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
                    data += self.rfile.read(size)
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b""):
                    pass
                return bytes(data)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
