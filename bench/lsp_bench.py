"""The language server, measured as whole processes, side by side with a trivial pygls server.

Run from the repository root::

    .venv/bin/python bench/lsp_bench.py [--runs 5] [--requests 500] [--idle-seconds 60]
    .venv/bin/python bench/lsp_bench.py --startup-pairs 30
    .venv/bin/python bench/lsp_bench.py --startup-pairs 30 --bundled vscode-client/bundled/launch.py

For each of ``--runs`` fresh processes of ``tokenwarden serve`` and of
``bench/trivial_server.py`` (pygls answering one request from memory) it measures:
spawn → initialize answer, RSS after initialize, ``--requests`` sequential token
requests (p50/p99), CPU used while idle for ``--idle-seconds`` (tokenwarden with a
signed-in, watched session; all processes idle at the same time), and shutdown → exit.
tokenwarden signs in first against an in-process dev server on 127.0.0.1 (hour-long
tokens, so nothing renews during the run). Prints a Markdown table of medians.

``--startup-pairs N`` measures only spawn → initialize answer, N times for each
server in alternation, and also reports the median of the N pairwise ratios: the
import of pygls and lsprotocol varies by ±30 % from one process to the next, and
comparing each tokenwarden start with the trivial start right beside it cancels
most of that.

``--bundled LAUNCHER`` (with ``--startup-pairs``) compares instead the server
bundled in the VS Code extension, started as the extension starts it
(``python -I -S LAUNCHER serve``, by the interpreter the venv was made from), with
``tokenwarden serve`` from the venv.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT))

from tests.lsp.harness import read_message  # noqa: E402

from tokenwarden.devserver import DevServer, DevServerConfig  # noqa: E402

PYTHON = sys.executable
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class RawClient:
    """A minimal JSON-RPC client over a subprocess' stdio (no framework in the way)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.next_id = 0
        self.notifications: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        return await read_message(self.process.stdout)

    async def request(self, method: str, params: Any = None) -> Any:
        self.next_id += 1
        request_id = self.next_id
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        while True:
            message = await self.read()
            if "method" in message:
                if "id" in message:  # a request from the server: answer null
                    self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
                else:
                    self.notifications.append(message)
                continue
            if message.get("id") == request_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result")

    async def wait_notification(self, predicate: Any) -> dict[str, Any]:
        while True:
            found = next((n for n in self.notifications if predicate(n)), None)
            if found is not None:
                return found
            message = await self.read()
            if "method" in message and "id" in message:
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "method" in message:
                self.notifications.append(message)

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})


@dataclass
class Run:
    """One process' figures."""

    spawn_to_initialize_ms: float = 0.0
    rss_after_initialize_mb: float = 0.0
    rss_after_requests_mb: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    idle_cpu_ms: float = 0.0
    shutdown_to_exit_ms: float = 0.0
    exit_ms: float = 0.0


@dataclass
class Server:
    """How to start, prepare and query one kind of server."""

    label: str
    argv: list[str]
    token_method: str
    options: dict[str, Any] | None = None
    devserver: DevServer | None = None

    def env(self, home: str) -> dict[str, str]:
        # As installed: bytecode is cached (a sandbox may have turned that off).
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("TOKENWARDEN_") and k != "PYTHONDONTWRITEBYTECODE"}
        env["TOKENWARDEN_HOME"] = home
        return env

    async def prepare(self, client: RawClient) -> None:
        """Sign in (tokenwarden) so that token requests have a session to serve."""
        if self.devserver is None:
            return
        started = await client.request("workspace/executeCommand",
                                       {"command": "tokenwarden.login", "arguments": [{}]})
        self.devserver.approve(started["userCode"])
        await client.wait_notification(
            lambda n: n["method"] == "tokenwarden/didChangeStatus"
            and n["params"]["state"] == "signedIn")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) * 1000 / CLOCK_TICKS


async def start(server: Server, home: str, run: Run) -> RawClient:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *server.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=server.env(home), cwd=ROOT)
    client = RawClient(process)
    await client.request("initialize", {"processId": os.getpid(), "rootUri": None,
                                        "capabilities": {}, "initializationOptions":
                                        server.options})
    run.spawn_to_initialize_ms = (time.perf_counter() - started) * 1000
    client.notify("initialized", {})
    await asyncio.sleep(0.2)  # let start-up work (first status, store watch) settle
    run.rss_after_initialize_mb = rss_mb(process.pid)
    return client


async def query(server: Server, client: RawClient, run: Run, requests: int) -> None:
    await server.prepare(client)
    for _ in range(20):  # warm-up
        await client.request(server.token_method, {"minValiditySeconds": 60})
    for _ in range(requests):
        started = time.perf_counter()
        await client.request(server.token_method, {"minValiditySeconds": 60})
        run.latencies_ms.append((time.perf_counter() - started) * 1000)
    run.rss_after_requests_mb = rss_mb(client.process.pid)


async def stop(client: RawClient, run: Run) -> None:
    started = time.perf_counter()
    await client.request("shutdown")
    exit_sent = time.perf_counter()
    client.notify("exit")
    await client.process.wait()
    ended = time.perf_counter()
    run.shutdown_to_exit_ms = (ended - started) * 1000
    run.exit_ms = (ended - exit_sent) * 1000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(servers: list[Server], runs: int, requests: int, idle: float) -> dict[
    str, list[Run]
]:
    results: dict[str, list[Run]] = {server.label: [] for server in servers}
    live: list[tuple[Server, RawClient, Run]] = []
    with tempfile.TemporaryDirectory() as root:
        for server in servers:  # warm the page cache and the .pyc files
            warm = await start(server, str(Path(root) / "warm-up"), Run())
            await stop(warm, Run())
        for index in range(runs):  # round-robin: background load hits both alike
            for server in servers:
                run = Run()
                home = str(Path(root) / f"{server.label}-{index}".replace(" ", "_"))
                client = await start(server, home, run)
                await query(server, client, run, requests)
                live.append((server, client, run))
        await asyncio.sleep(1.0)
        before = [cpu_ms(client.process.pid) for _, client, _ in live]
        await asyncio.sleep(idle)  # every process idles at once
        for (_, client, run), used in zip(live, before, strict=True):
            run.idle_cpu_ms = cpu_ms(client.process.pid) - used
        for server, client, run in live:
            await stop(client, run)
            results[server.label].append(run)
    return results


async def startup_pairs(servers: list[Server], pairs: int) -> str:
    """Spawn → initialize answer for each server in turn, ``pairs`` times; a Markdown table."""
    times: dict[str, list[float]] = {server.label: [] for server in servers}
    with tempfile.TemporaryDirectory() as root:
        for index in range(pairs + 1):  # the first round warms caches and is dropped
            for server in servers:
                run = Run()
                home = str(Path(root) / f"{index}-{server.label}".replace(" ", "_"))
                client = await start(server, home, run)
                await stop(client, Run())
                if index:
                    times[server.label].append(run.spawn_to_initialize_ms)
    ours, baseline = (times[server.label] for server in servers)
    ratio = statistics.median(a / b for a, b in zip(ours, baseline, strict=True))
    return "\n".join([
        "| spawn → initialize answer (ms) | " + " | ".join(times) + " |",
        "|---|" + "---:|" * len(times),
        "| median | " + " | ".join(f"{statistics.median(v):.0f}" for v in times.values()) + " |",
        "| fastest | " + " | ".join(f"{min(v):.0f}" for v in times.values()) + " |",
        f"| median of the {pairs} pairwise ratios | {ratio:.3f} | 1 |",
    ])


def table(results: dict[str, list[Run]], requests: int, idle: float) -> str:
    labels = list(results)

    def median(getter: Any) -> list[float]:
        return [statistics.median(getter(run) for run in results[label]) for label in labels]

    rows = [
        ("spawn → initialize answer (ms)", median(lambda r: r.spawn_to_initialize_ms), "{:.0f}"),
        ("RSS after initialize (MB)", median(lambda r: r.rss_after_initialize_mb), "{:.1f}"),
        (f"RSS after sign-in + {requests} requests (MB)",
         median(lambda r: r.rss_after_requests_mb), "{:.1f}"),
        ("token request p50 (ms)", median(lambda r: percentile(r.latencies_ms, 0.5)), "{:.2f}"),
        ("token request p99 (ms)", median(lambda r: percentile(r.latencies_ms, 0.99)),
         "{:.2f}"),
        (f"CPU while idle {idle:.0f} s (ms)", median(lambda r: r.idle_cpu_ms), "{:.0f}"),
        ("CPU while idle (% of one core)",
         median(lambda r: 100 * r.idle_cpu_ms / (idle * 1000)), "{:.3f}"),
        ("shutdown → exit (ms)", median(lambda r: r.shutdown_to_exit_ms), "{:.1f}"),
        ("exit → process gone (ms)", median(lambda r: r.exit_ms), "{:.1f}"),
    ]
    lines = ["| metric (median of runs) | " + " | ".join(labels) + " |",
             "|---|" + "---:|" * len(labels)]
    for name, values, fmt in rows:
        lines.append(f"| {name} | " + " | ".join(fmt.format(v) for v in values) + " |")
    return "\n".join(lines)


def absolute(path: str) -> str:
    return str(Path(path).resolve())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--startup-pairs", type=int, default=0, metavar="N",
                        help="measure only spawn → initialize, N alternating pairs")
    parser.add_argument("--bundled", metavar="LAUNCHER", type=absolute,
                        help="with --startup-pairs: the extension's bundled server vs the venv's")
    args = parser.parse_args()

    devserver = DevServer(DevServerConfig(access_token_ttl=3600, interval=0)).start()
    try:
        servers = [
            Server("tokenwarden serve", [PYTHON, "-m", "tokenwarden", "serve"],
                   "tokenwarden/getToken", options={"profiles": {"default": {
                       "issuer": devserver.issuer, "client_id": "bench",
                       "scopes": ["openid", "offline_access"]}}}, devserver=devserver),
            Server("trivial pygls", [PYTHON, str(ROOT / "bench" / "trivial_server.py")],
                   "bench/getToken"),
        ]
        if args.bundled:
            base = getattr(sys, "_base_executable", PYTHON)
            servers = [
                Server("bundled (python -I -S launch.py serve)",
                       [base, "-I", "-S", args.bundled, "serve"],
                       "tokenwarden/getToken"),
                Server("venv (tokenwarden serve)",
                       [os.path.join(os.path.dirname(PYTHON), "tokenwarden"), "serve"],
                       "tokenwarden/getToken"),
            ]
        if args.startup_pairs:
            report = await startup_pairs(servers, args.startup_pairs)
            setting = f"{args.startup_pairs} start-up pairs"
        else:
            results = await measure(servers, args.runs, args.requests, args.idle_seconds)
            report = table(results, args.requests, args.idle_seconds)
            setting = (f"{args.runs} runs x {args.requests} requests, "
                       f"{args.idle_seconds:.0f} s idle")
    finally:
        devserver.stop()
    print(f"{setting}; Python {platform.python_version()} on {platform.system()} "
          f"{platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}\n")
    print(report)


if __name__ == "__main__":
    asyncio.run(main())
