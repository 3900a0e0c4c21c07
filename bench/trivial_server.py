"""The baseline of bench/lsp_bench.py: a pygls server answering one request from memory.

Same stack as tokenwarden (pygls 2, lsprotocol, stdio) and nothing else, so the
benchmark shows what tokenwarden adds on top of the framework.
"""

from __future__ import annotations

from typing import Any

from pygls.lsp.server import LanguageServer

TOKEN = {
    "accessToken": "x" * 43,
    "tokenType": "Bearer",
    "expiresAt": "2030-01-01T00:00:00Z",
    "scopes": ["openid", "offline_access"],
}

server = LanguageServer("trivial", "1")


@server.feature("bench/getToken")
def get_token(ls: LanguageServer, params: Any) -> dict[str, Any]:
    return TOKEN


if __name__ == "__main__":
    server.start_io()
