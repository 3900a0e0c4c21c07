"""Driving tokenwarden as a user would: CLI subprocesses, each with a private home."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

from tests.interop.servers import IndependentServer
from tokenwarden.paths import locations
from tokenwarden.store import TokenStore

TOKENWARDEN = [sys.executable, "-m", "tokenwarden"]
CODE_LINE = re.compile(r"enter the code: (\S+)")
WAIT_SECONDS = 60.0


def cli_env(home: Path) -> dict[str, str]:
    """Environment for a tokenwarden subprocess: its own home, no inherited profile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWARDEN_")}
    env["TOKENWARDEN_HOME"] = str(home)
    return env


def run_cli(home: Path, *args: str, timeout: float = WAIT_SECONDS
            ) -> subprocess.CompletedProcess[str]:
    """Run one tokenwarden command to completion."""
    return subprocess.run([*TOKENWARDEN, *args], env=cli_env(home), capture_output=True,
                          text=True, timeout=timeout, check=False)


def cli_login(home: Path, server: IndependentServer, *args: str
              ) -> subprocess.CompletedProcess[str]:
    """``tokenwarden login``: read the code it prints, approve it at the server, wait."""
    process = subprocess.Popen([*TOKENWARDEN, "login", "--no-browser", *args],
                               env=cli_env(home), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    printed: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=WAIT_SECONDS)
            printed.append(line)
            if not line or (match := CODE_LINE.search(line)):
                break
        if match:
            server.approve(match.group(1))
        process.wait(WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    while (line := lines.get(timeout=WAIT_SECONDS)) != "":
        printed.append(line)
    assert process.stderr is not None
    stderr = process.stderr.read()
    process.stderr.close()
    return subprocess.CompletedProcess(process.args, process.returncode, "".join(printed),
                                       stderr)


def stored_refresh_token(home: Path, profile: str = "default") -> str | None:
    """The refresh token in ``home``'s store (a string, not the record: its repr has tokens)."""
    record = TokenStore(locations({"TOKENWARDEN_HOME": str(home)}).store_dir).read(profile)
    return None if record is None else record.refresh_token
