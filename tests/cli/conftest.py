"""The real ``tokenwarden`` command in a subprocess, on a temporary home, against a dev server."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.core import conftest as core

make_devserver = core.make_devserver
home = core.home


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment: only the temporary home, no TOKENWARDEN_* of the developer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWARDEN_")}
    env.update(TOKENWARDEN_HOME=str(home), **extra)
    return env


def cli(home: Path, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``tokenwarden ARGS`` to the end."""
    return subprocess.run([sys.executable, "-m", "tokenwarden", *args], capture_output=True,
                          text=True, env=cli_env(home, **env), timeout=timeout)


def stderr_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.strip()]


@dataclass
class Running:
    """A ``tokenwarden`` process whose output is read line by line as it comes."""

    process: subprocess.Popen[str]
    out: queue.Queue[str | None] = field(default_factory=queue.Queue)
    err: queue.Queue[str | None] = field(default_factory=queue.Queue)
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for stream, into in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=_pump, args=(stream, into), daemon=True).start()

    def wait_for(self, text: str, *, stream: str = "stdout", timeout: float = 60) -> str:
        """The first line of ``stream`` containing ``text``."""
        source, seen = (self.out, self.stdout) if stream == "stdout" else (self.err, self.stderr)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = source.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {stream} line with {text!r}; got {seen!r}")

    def user_code(self) -> str:
        return self.wait_for("enter the code:").rsplit(" ", 1)[1].strip()

    def finish(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout=timeout)
        for source, seen in ((self.out, self.stdout), (self.err, self.stderr)):
            while True:
                try:
                    line = source.get(timeout=5)
                except queue.Empty:
                    break
                if line is None:
                    break
                seen.append(line)
        return code


def _pump(stream, into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line.rstrip("\n"))
    into.put(None)


@pytest.fixture
def start_cli() -> Iterator:
    running: list[Running] = []

    def start(home: Path, *args: str, **env: str) -> Running:
        process = subprocess.Popen([sys.executable, "-m", "tokenwarden", *args],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=cli_env(home, **env))
        running.append(Running(process))
        return running[-1]

    yield start
    for each in running:
        if each.process.poll() is None:
            each.process.kill()
            each.process.wait()
