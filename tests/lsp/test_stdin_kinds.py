"""``tokenwarden serve`` on a stdin that is not a pipe: /dev/null, a file of messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.lsp.harness import server_env

TOKENWARDEN = [sys.executable, "-m", "tokenwarden", "serve"]


def frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_serve_on_dev_null_ends_at_once_without_a_traceback(tmp_path: Path) -> None:
    with open("/dev/null", "rb") as null:
        done = subprocess.run(TOKENWARDEN, stdin=null, capture_output=True, timeout=60,
                              env=server_env(str(tmp_path)))
    assert done.returncode == 1  # end of input without shutdown, as LSP says
    assert b"Traceback" not in done.stderr
    assert done.stdout == b""


def test_serve_reads_a_whole_session_from_a_regular_file(tmp_path: Path) -> None:
    script = tmp_path / "session.lsp"
    script.write_bytes(
        frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
               "params": {"processId": None, "rootUri": None, "capabilities": {}}})
        + frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        + frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        + frame({"jsonrpc": "2.0", "method": "exit"}))
    with script.open("rb") as source:
        done = subprocess.run(TOKENWARDEN, stdin=source, capture_output=True, timeout=60,
                              env=server_env(str(tmp_path / "home")))
    assert done.returncode == 0, done.stderr.decode()[-400:]
    assert b"Traceback" not in done.stderr
    answers = [json.loads(part.split(b"\r\n\r\n", 1)[1])
               for part in done.stdout.split(b"Content-Length: ")[1:]]
    replies = {answer["id"]: answer for answer in answers if "id" in answer}
    assert replies[1]["result"]["serverInfo"]["name"] == "tokenwarden"
    assert replies[2]["result"] is None
