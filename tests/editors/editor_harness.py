"""Drives a headless editor through the sign-in scenario against an in-process dev server.

The editor-side script (Lua for Neovim, Emacs Lisp for Emacs) and this side talk
through files in a work folder, so neither has to parse the other's output:

- the editor writes ``user_code``; this side approves it on the dev server;
- the editor writes ``token`` (0600); this side calls ``/userinfo`` with it and
  writes the HTTP status to ``token_checked`` (the token is never printed);
- the editor writes ``progress`` (steps so far) and, at the end, ``result.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenwarden.devserver import DevServer

REPO = Path(__file__).resolve().parents[2]
ACCESS_TOKEN_TTL = 4.0


def server_bin() -> str:
    """The tokenwarden executable the editors start (the project's venv first)."""
    venv = REPO / ".venv" / "bin" / "tokenwarden"
    if venv.exists():
        return str(venv)
    found = shutil.which("tokenwarden")
    assert found, "tokenwarden is not installed (pip install -e .)"
    return found


def write_config(home: Path, issuer: str) -> None:
    """A TOKENWARDEN_HOME with one profile pointing at the dev server."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        "[profiles.default]\n"
        f'issuer = "{issuer}"\n'
        'client_id = "editor-tests"\n'
        'scopes = ["openid", "offline_access"]\n'
        'flow = "device"\n'
    )


def editor_env(tmp_path: Path, devserver: DevServer) -> tuple[dict[str, str], Path]:
    """Environment for the editor (isolated HOME and XDG dirs) and the handshake folder."""
    home = tmp_path / "tokenwarden-home"
    write_config(home, devserver.issuer)
    work = tmp_path / "work"
    work.mkdir()
    user_home = tmp_path / "user-home"
    user_home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKENWARDEN_", "XDG_"))}
    env.update(
        TOKENWARDEN_HOME=str(home),
        TW_TEST_DIR=str(work),
        TW_SERVER_BIN=server_bin(),
        HOME=str(user_home),
        XDG_CONFIG_HOME=str(user_home / ".config"),
        XDG_DATA_HOME=str(user_home / ".local" / "share"),
        XDG_STATE_HOME=str(user_home / ".local" / "state"),
        XDG_CACHE_HOME=str(user_home / ".cache"),
        TERM="dumb",
    )
    return env, work


def userinfo_status(devserver: DevServer, token: str) -> int:
    """HTTP status of GET /userinfo with this bearer token."""
    request = urllib.request.Request(
        devserver.url("/userinfo"), headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@dataclass
class Run:
    """What one editor run produced."""

    returncode: int | None
    result: dict[str, Any] | None
    output: str
    progress: str
    approved: bool = False
    approved_codes: list[str] = field(default_factory=list)
    token_status: int | None = None
    notes: list[str] = field(default_factory=list)

    def explain(self) -> str:
        """Everything useful when an assertion fails (never a token)."""
        return (
            f"returncode={self.returncode} approved={len(self.approved_codes)} code(s) "
            f"token_status={self.token_status}\nprogress:\n{self.progress}\n"
            f"result: {json.dumps(self.result, indent=1)[:4000]}\n"
            f"editor output (tail):\n{self.output[-4000:]}\n{self.notes}"
        )


def drive(cmd: list[str], env: dict[str, str], work: Path, devserver: DevServer,
          timeout: float = 55.0, scenario: str = "main") -> Run:
    """Run the editor, answer its handshake files, kill it when it overruns."""
    env = {**env, "TW_SCENARIO": scenario}
    log_path = work / "editor.log"
    run = Run(returncode=None, result=None, output="", progress="")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                code_file = work / "user_code"
                if code_file.exists():
                    code = code_file.read_text().strip()
                    if code and code not in run.approved_codes:
                        devserver.approve(code)
                        run.approved_codes.append(code)
                        run.approved = True
                token_file = work / "token"
                if run.token_status is None and token_file.exists():
                    run.token_status = userinfo_status(devserver, token_file.read_text().strip())
                    (work / "token_checked").write_text(str(run.token_status))
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                run.notes.append(f"killed after {timeout} s")
                os.killpg(proc.pid, signal.SIGKILL)  # the group this test started
            proc.wait(timeout=10)
    run.returncode = proc.returncode
    run.output = log_path.read_text(errors="replace")
    progress = work / "progress"
    run.progress = progress.read_text() if progress.exists() else ""
    result = work / "result.json"
    if result.exists():
        run.result = json.loads(result.read_text())
    return run
