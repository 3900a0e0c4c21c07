"""Terminal surfaces, measured: ``tokenwarden token`` start-up, proxy latency, first SSE event.

Run from the repository root: ``.venv/bin/python bench/terminal_bench.py``.
Everything runs on 127.0.0.1: a dev server, a temporary home signed in against it,
the sample API of ``tests/terminal``, and ``tokenwarden proxy`` as its own process.
Prints Markdown tables (the ones in docs/terminal.md, section "Performance").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.core.conftest import configure, manager_for, sign_in  # noqa: E402
from tests.terminal.sample_api import SampleAPI  # noqa: E402

from tokenwarden.devserver import DevServer, DevServerConfig  # noqa: E402

PYTHON = sys.executable
TOKENWARDEN = str(Path(PYTHON).with_name("tokenwarden"))
#: What the fast path of ``tokenwarden token`` imports, and nothing else.
TOKEN_IMPORTS = "import tokenwarden.cli.main, tokenwarden.cli.fastpath"


def wall_ms(argv: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, check=False)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed: {done.stderr.decode()[-300:]}")
    return elapsed


def startup_table(runs: int) -> list[str]:
    cases = [
        ("`python -c pass`", [PYTHON, "-c", "pass"]),
        (f"`python -c \"{TOKEN_IMPORTS}\"`", [PYTHON, "-c", TOKEN_IMPORTS]),
        ("`tokenwarden token` (fresh token)", [TOKENWARDEN, "token"]),
    ]
    for _, argv in cases:
        wall_ms(argv)  # warm the page cache and .pyc files
    times: dict[str, list[float]] = {label: [] for label, _ in cases}
    for _ in range(runs):  # round-robin, so background load hits every case alike
        for label, argv in cases:
            times[label].append(wall_ms(argv))
    rows = ["| command | median ms | min ms | runs |", "|---|---:|---:|---:|"]
    for label, samples in times.items():
        rows.append(f"| {label} | {statistics.median(samples):.1f} | {min(samples):.1f} "
                    f"| {runs} |")
    return rows


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed_rounds(client: httpx2.Client, cases: list[tuple[str, dict[str, str]]],
                 count: int) -> list[list[float]]:
    """Round-robin over the cases, so all of them see the same background load."""
    for url, headers in cases * 50:  # warm-up: connections, caches
        client.get(url, headers=headers).raise_for_status()
    samples: list[list[float]] = [[] for _ in cases]
    for _ in range(count):
        for series, (url, headers) in zip(samples, cases, strict=True):
            started = time.perf_counter()
            client.get(url, headers=headers).raise_for_status()
            series.append((time.perf_counter() - started) * 1000)
    return samples


def first_event_ms(client: httpx2.Client, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    with client.stream("GET", url, headers=headers) as answer:
        answer.raise_for_status()
        for line in answer.iter_lines():
            if line.startswith("data:"):
                return (time.perf_counter() - started) * 1000
    raise SystemExit("no event arrived")


def start_proxy(executable: str, api: SampleAPI, home: Path) -> tuple[subprocess.Popen[str],
                                                                       str, str]:
    """A ``tokenwarden proxy`` process: its URL and secret (printed, or in its secret file)."""
    process = subprocess.Popen([executable, "proxy", "--upstream", api.base],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    url = re.search(r"on (http://\S+)", process.stdout.readline())
    shown = process.stdout.readline()
    assert url, "the proxy did not print its address"
    if found := re.match(r"secret file: (.+)", shown):
        return process, url.group(1), Path(found.group(1)).read_text().strip()
    if found := re.match(r"secret: (\S+)", shown):  # builds before the secret file
        return process, url.group(1), found.group(1)
    raise SystemExit(f"the proxy did not say where its secret is: {shown!r}")


def proxy_tables(api: SampleAPI, token: str, requests: int, home: Path,
                 baseline: str | None) -> list[str]:
    proxies = [("through the proxy", TOKENWARDEN)]
    if baseline:
        proxies.append(("through the baseline proxy", baseline))
    started = [start_proxy(executable, api, home) for _, executable in proxies]
    try:
        cases = [("direct", api.base, {"Authorization": f"Bearer {token}"})]
        cases += [(label, url, {"Authorization": f"Bearer {secret}"})
                  for (label, _), (_, url, secret) in zip(proxies, started, strict=True)]
        with httpx2.Client(trust_env=False, timeout=30) as client:
            rows = _latency_rows(client, cases, requests)
            rows += ["", *_sse_rows(client, cases)]
        return rows
    finally:
        for process, _, _ in started:
            process.terminate()
            process.wait(timeout=10)


def _latency_rows(client: httpx2.Client, cases: list[tuple[str, str, dict[str, str]]],
                  count: int) -> list[str]:
    samples = timed_rounds(client, [(base + "/ping", headers) for _, base, headers in cases],
                           count)
    rows = [f"| {count} sequential GET /ping, keep-alive | p50 ms | p99 ms |", "|---|---:|---:|"]
    for (label, _, _), series in zip(cases, samples, strict=True):
        rows.append(f"| {label} | {percentile(series, 0.5):.2f} | "
                    f"{percentile(series, 0.99):.2f} |")
    plain = samples[0]
    for (label, _, _), via in zip(cases[1:], samples[1:], strict=True):
        rows.append(f"| **added {label.removeprefix('through ')}** | "
                    f"**{percentile(via, .5) - percentile(plain, .5):.2f}** | "
                    f"**{percentile(via, .99) - percentile(plain, .99):.2f}** |")
    return rows


def _sse_rows(client: httpx2.Client, cases: list[tuple[str, str, dict[str, str]]]) -> list[str]:
    path = "/events?n=100&delay=0.01"
    rows = ["| time to first SSE event (100 events, 10 ms apart) | median ms | min ms |",
            "|---|---:|---:|"]
    samples: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    for _ in range(10):
        for label, base, headers in cases:
            samples[label].append(first_event_ms(client, base + path, headers))
    for label, values in samples.items():
        rows.append(f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} |")
    return rows


async def signed_in(home: Path, server: DevServer) -> str:
    manager = manager_for(home)
    try:
        await sign_in(manager, server)
        return (await manager.get_token()).access_token
    finally:
        await manager.close()


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--runs", type=int, default=10, help="runs per start-up case")
    options.add_argument("--requests", type=int, default=1000, help="requests per latency case")
    options.add_argument("--baseline", metavar="TOKENWARDEN",
                         help="another build's tokenwarden executable: its proxy is timed in "
                         "the same rounds (before/after figures under the same load)")
    args = options.parse_args()
    home = Path(tempfile.mkdtemp(prefix="tokenwarden-bench-"))
    os.environ["TOKENWARDEN_HOME"] = str(home)
    server = DevServer(DevServerConfig(access_token_ttl=3600, interval=0)).start()
    api = SampleAPI(server.url("/userinfo")).start()
    try:
        configure(home, server)
        token = asyncio.run(signed_in(home, server))
        say = _printer()
        say(f"Python {platform.python_version()} on {platform.platform()}, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; "
            "command: .venv/bin/python bench/terminal_bench.py "
            f"--runs {args.runs} --requests {args.requests}"
            + (" --baseline BASELINE/.venv/bin/tokenwarden" if args.baseline else ""))
        say("", *startup_table(args.runs), "", *proxy_tables(api, token, args.requests, home,
                                                                args.baseline))
    finally:
        api.stop()
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def _printer() -> Callable[..., None]:
    def say(*lines: str) -> None:
        print("\n".join(lines), flush=True)

    return say


if __name__ == "__main__":
    main()
