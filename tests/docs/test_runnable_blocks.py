"""Issue 14 item 9: every shell block the docs mark runnable runs as written.

A block is marked by an HTML comment on the line before its opening fence::

    <!-- runnable -->
    ```sh
    tokenwarden doctor
    ```

``<!-- runnable: fresh-clone -->`` (the quick start) runs in a ``git clone`` of this
checkout's HEAD, with no venv: it makes its own. ``<!-- runnable: devserver -->`` means the text before the block asks for a dev
server (``tokenwarden devserver --auto-approve --interval 1``) with its URL exported
as ``$I``; the test starts one on 127.0.0.1. Each block runs in ``bash -e`` from the
repository root, after the quick start (``tokenwarden`` on PATH, as the venv's
``activate`` puts it), with a fresh temporary ``HOME`` and ``TOKENWARDEN_HOME``, and
must exit 0.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tokenwarden.devserver import DevServer, DevServerConfig

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- runnable(?:: (?P<needs>[a-z-]+))? -->\n```(?P<lang>\w*)\n"
                    r"(?P<body>.*?)^```$", re.M | re.S)
ANY_MARKER = re.compile(r"^<!-- runnable", re.M)
NEEDS = {None, "devserver", "fresh-clone"}


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    needs: str | None
    lang: str
    body: str

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
            *sorted((ROOT / "editors").rglob("*.md"))]


def runnable_blocks() -> list[Block]:
    blocks = []
    for doc in documents():
        text = doc.read_text(encoding="utf-8")
        for match in MARKER.finditer(text):
            blocks.append(Block(str(doc.relative_to(ROOT)), text[:match.start()].count("\n") + 1,
                                match["needs"], match["lang"], match["body"]))
    return blocks


def test_every_marker_sits_on_a_shell_block():
    markers = sum(len(ANY_MARKER.findall(doc.read_text(encoding="utf-8")))
                  for doc in documents())
    blocks = runnable_blocks()
    assert markers == len(blocks), "a runnable marker is not right above a fenced block"
    assert all(block.lang == "sh" and block.needs in NEEDS for block in blocks), blocks
    assert len(blocks) >= 2


def _marks(block: Block) -> list[pytest.MarkDecorator]:
    # The quick start creates a venv and installs the package: about a minute.
    return [pytest.mark.slow, pytest.mark.timeout(600)] if block.needs == "fresh-clone" else []


@pytest.mark.parametrize("block", [pytest.param(b, marks=_marks(b), id=str(b))
                                   for b in runnable_blocks()])
def test_runnable_block_exits_0(block: Block, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TOKENWARDEN_", "XDG_")) and k not in {"I", "VIRTUAL_ENV"}}
    env.update(HOME=str(home), TOKENWARDEN_HOME=str(tmp_path / "tokenwarden-home"),
               PATH=f"{venv_bin}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
               VIRTUAL_ENV=str(Path(venv_bin).parent), BROWSER="true")
    cwd = ROOT
    if block.needs == "fresh-clone":
        if not (ROOT / ".git").exists():
            pytest.skip("not a git checkout: nothing to clone")
        cwd = tmp_path / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(cwd)], check=True, timeout=120)
        env["PATH"] = env["PATH"].split(os.pathsep, 1)[1]  # before the quick start: no venv
        del env["VIRTUAL_ENV"]
    server = None
    if block.needs == "devserver":  # as `tokenwarden devserver --auto-approve --interval 1`
        server = DevServer(DevServerConfig(auto_approve=True, interval=1.0)).start()
        env["I"] = server.issuer
    try:
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.body], cwd=cwd,
                              env=env, capture_output=True, text=True, timeout=540)
    finally:
        if server is not None:
            server.stop()
    assert done.returncode == 0, (f"{block} exited {done.returncode}\n--- stdout\n"
                                  f"{done.stdout}\n--- stderr\n{done.stderr}")
    assert "Traceback" not in done.stderr
