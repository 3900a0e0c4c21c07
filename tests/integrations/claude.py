"""Running the real Claude Code CLI offline against the stub API, and what it measured."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.integrations.anthropic_api import AnthropicAPI
from tests.integrations.bearer import BearerCheck
from tests.integrations.conftest import run, tokenwarden
from tokenwarden.devserver import DevServer

CLAUDE = Path(__file__).parent / "node" / "node_modules" / ".bin" / "claude"
#: Keeps Claude Code off the network: no updater, telemetry, error reports or extras.
OFFLINE = {"DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
           "DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1"}
#: Sequential prompts: plain turns, and turns whose Bash ``sleep`` outlives a token.
PROMPTS = ("Say pong", "SLEEP 4 then say pong")
LONG_PROMPT = "SLEEP 3 then say pong"
CONCURRENT = 4


def claude_env(tool_env: dict[str, str], folder: Path, **extra: str) -> dict[str, str]:
    """Claude Code with a temporary home and config folder, offline."""
    config = folder / "claude-config"
    config.mkdir(exist_ok=True)
    return {**tool_env, **OFFLINE, "CLAUDE_CONFIG_DIR": str(config), **extra}


def claude(prompt: str, *more: str) -> list[str]:
    """``claude -p PROMPT`` allowed to run ``sleep`` and nothing else."""
    return [str(CLAUDE), "-p", prompt, "--allowedTools", "Bash(sleep:*)", *more]


@dataclass
class Figures:
    """What one recipe's scenario measured."""

    runs: int = 0
    failed: list[str] = field(default_factory=list)
    shown_401: int = 0
    served_401: int = 0
    refreshes: int = 0
    reuse: int = 0

    def line(self, recipe: str) -> str:
        return (f"FIGURES claude-code {recipe}: runs={self.runs} failed={len(self.failed)} "
                f"401s-served={self.served_401} 401-text-shown={self.shown_401} "
                f"refreshes={self.refreshes} reuse={self.reuse}")


async def scenario(argv_for: Callable[[str], list[str]], env: dict[str, str], cwd: Path,
                   api: AnthropicAPI, devserver: DevServer, *, lifetime: float,
                   prompts: Sequence[str] = PROMPTS, long_prompt: str = LONG_PROMPT,
                   expect: str = "pong", served_by: BearerCheck | None = None) -> Figures:
    """Sequential runs across four token lifetimes, then four concurrent long turns.

    ``served_by`` is the server whose 401s count (the Messages API by default).
    """
    served_by = served_by or api.check
    figures = Figures()
    refreshes = devserver.stats()["refresh_ok"]
    served = served_by.rejected

    def one(prompt: str) -> None:
        done = run(argv_for(prompt), env, timeout=240, cwd=cwd)
        output = done.stdout + done.stderr
        figures.runs += 1
        figures.shown_401 += "401" in output
        if done.returncode != 0 or expect not in done.stdout:
            figures.failed.append(f"exit {done.returncode}: {output[-300:]}")

    deadline = time.monotonic() + 4 * lifetime + 1
    for prompt in itertools.cycle(prompts):
        await asyncio.to_thread(one, prompt)
        if time.monotonic() >= deadline and figures.runs >= len(prompts):
            break
    await asyncio.gather(*(asyncio.to_thread(one, long_prompt) for _ in range(CONCURRENT)))
    stats = devserver.stats()
    figures.served_401 = served_by.rejected - served
    figures.refreshes = stats["refresh_ok"] - refreshes
    figures.reuse = stats["reuse_detected"]
    return figures


@contextmanager
def running_proxy(upstream: str, env: dict[str, str],
                  secret: str) -> Iterator[tuple[str, str]]:
    """``tokenwarden proxy`` as a real process; its URL and the secret clients present.

    The secret goes in ``$TOKENWARDEN_PROXY_SECRET``, never argv, and is never printed.
    """
    process = subprocess.Popen(tokenwarden("proxy", "--upstream", upstream),
                               env={**env, "TOKENWARDEN_PROXY_SECRET": secret},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.strip())
            if line.startswith("clients send it"):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(60):
            raise AssertionError(f"proxy did not start: {lines}")
        assert not any(secret in line for line in lines)
        yield next(line.split()[4] for line in lines if " listening on " in line), secret
    finally:
        process.terminate()
        process.wait(30)
