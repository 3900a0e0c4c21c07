"""Credential helpers, measured: one run of each command a consumer starts per use.

Run from the repository root: ``.venv/bin/python bench/helpers_bench.py [--runs N]``.
A dev server on 127.0.0.1 and a temporary home signed in against it with a fresh
(1 h) token, so every helper answers from its fast path. Whole processes, N runs
each (default 9) taken round-robin, medians, beside ``python -c pass`` and ``tokenwarden token`` as
baselines in the same run. Prints the Markdown table of docs/integrations.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.core.conftest import configure, manager_for, sign_in  # noqa: E402

from tokenwarden.devserver import DevServer, DevServerConfig  # noqa: E402

TOKENWARDEN = str(Path(sys.executable).with_name("tokenwarden"))
GIT_REQUEST = "protocol=https\nhost=git.example.com\n\n"
CASES: dict[str, tuple[list[str], str | None]] = {
    "python -c pass (baseline)": ([sys.executable, "-c", "pass"], None),
    "tokenwarden token (baseline)": ([TOKENWARDEN, "token"], None),
    "tokenwarden token --format exec-credential (kubectl)":
        ([TOKENWARDEN, "token", "--format", "exec-credential"], None),
    "tokenwarden token --format header-json (MCP)":
        ([TOKENWARDEN, "token", "--format", "header-json"], None),
    "tokenwarden git-credential get (git)":
        ([TOKENWARDEN, "git-credential", "get"], GIT_REQUEST),
}


def medians_ms(runs: int, env: dict[str, str]) -> dict[str, float]:
    """Round-robin over the cases, so that a busy moment of the machine hits them all."""
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, (argv, stdin) in CASES.items():
            started = time.perf_counter()
            subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env,
                           check=True)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


async def signed_in_home(home: Path, server: DevServer) -> None:
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    await manager.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder, \
            DevServer(DevServerConfig(access_token_ttl=3600, interval=0)) as server:
        home = Path(folder)
        asyncio.run(signed_in_home(home, server))
        env = {**os.environ, "TOKENWARDEN_HOME": str(home)}
        print(f"| command ({runs} runs, median) | ms |\n|---|---|")
        for name, median in medians_ms(runs, env).items():
            print(f"| {name} | {median:.0f} |")


if __name__ == "__main__":
    main()
