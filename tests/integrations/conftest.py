"""Fixtures for the real consumers: a signed-in home whose CLI runs the real programs call."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.core import conftest as core
from tokenwarden.devserver import DevServer

make_devserver = core.make_devserver
home = core.home

#: Where ``tokenwarden`` (the entry point this test run installed) lives.
BIN = str(Path(sys.executable).parent)


def tokenwarden(*args: str) -> list[str]:
    """``tokenwarden ARGS`` with the entry point of this installation."""
    return [str(Path(BIN) / "tokenwarden"), *args]


def run(argv: list[str], env: dict[str, str] | None = None, *, input: str | None = None,
        timeout: float = 60, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a program to completion, capturing its output as text."""
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                          input=input, cwd=cwd, check=False)


@pytest.fixture
def signed_in(make_devserver, home: Path) -> Callable[..., DevServer]:
    """Start a dev server with tokens of ``ttl`` seconds and sign the default profile in."""
    async def start(ttl: float, **policy: float) -> DevServer:
        server = make_devserver(access_token_ttl=ttl)
        core.configure(home, server, **policy)
        manager = core.manager_for(home)
        await core.sign_in(manager, server)
        await manager.close()
        return server

    return start


@pytest.fixture
def tool_env(home: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment for a real program: our home, our entry point first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "KUBE"))}
    env.update(TOKENWARDEN_HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
               HOME=str(tmp_path / "user-home"))
    (tmp_path / "user-home").mkdir(exist_ok=True)
    yield env
