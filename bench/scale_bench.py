"""The seed's scale: many editor windows, proxies and shell loops on one rotating sign-in.

Run from the repository root::

    .venv/bin/python bench/scale_bench.py [--windows 16] [--execs 8] [--shells 24]
        [--rotations 10] [--ttl 6] [--no-wake] [--json]

The baseline row alone, cheap enough to repeat while looking at the wake::

    .venv/bin/python bench/scale_bench.py --windows 1 --execs 1 --shells 1 --no-baseline \
        --rotations 2

Each run leaves its folder (printed at the end): the auth event log, every window's
``window/logMessage`` lines, the exec and shell logs, and the server's token requests
around the wake (``server-events.json``).

Everything runs as whole processes against the dev server (in this process, on
127.0.0.1, reuse detection on, ``--ttl`` second access tokens), sharing one store:

- ``--windows`` x ``tokenwarden serve``, each driven by a scripted LSP client here
  that calls ``tokenwarden/getToken`` about once a second and checks every token
  at the server's userinfo;
- ``--execs`` x ``tokenwarden exec --proxy-env … -- consumer``: each consumer streams
  requests through its proxy to a sample API that checks every token at userinfo;
- ``--shells`` x a bash loop running ``tokenwarden token`` and ``curl`` to userinfo
  (the token goes to curl on stdin, never in argv).

It runs until ``--rotations`` refreshes happened, then measures an idle gap, then
(unless ``--no-wake``) simulates a laptop suspend of 8 hours: every process is
stopped (SIGSTOP), the wall clock of every process moves 8 h ahead (libfaketime,
Debian ``faketime``; the dev server's clock moves with it) while monotonic time does
not, and every process is continued. Figures: refresh requests per rotation,
refresh-token reuse, failed consumer calls, rotation → every window's
``didChangeStatus`` (p50/p99), the lock wait of ``token`` runs (p99), CPU of all
processes per rotation, RSS per window, idle CPU of the windows between rotations,
and for the wake: renewals after wake, stale tokens handed out, wake → every window's
new status. The baseline row is the same workload at 1 + 1 + 1 processes, in the
same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402
from bench.scale_servers import SERVERS, start_server  # noqa: E402
from tests.lsp.harness import read_message  # noqa: E402
from tests.terminal.sample_api import SampleAPI  # noqa: E402

from tokenwarden.config import load_config, write_profile  # noqa: E402
from tokenwarden.oauth import DeviceAuthorization  # noqa: E402
from tokenwarden.paths import locations  # noqa: E402
from tokenwarden.session import SessionManager  # noqa: E402
from tokenwarden.store import TokenStore  # noqa: E402

PYTHON = sys.executable
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FAKETIME_LIBRARY = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
SUSPEND_SECONDS = 8 * 3600
LOCK_WAIT = re.compile(rb"waited ([0-9.]+) ms for the lock")
ASKED_AT = re.compile(r"asked for at ([0-9.]+)")

EXEC_CONSUMER = """
import json, os, select, sys, urllib.request, urllib.error
base, secret, stop = os.environ["API_URL"], os.environ["TOKENWARDEN_ACCESS_TOKEN"], sys.argv[1]
ok = failed = 0
while not os.path.exists(stop):
    request = urllib.request.Request(base.rstrip("/") + "/echo",
                                     headers={"Authorization": "Bearer " + secret})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
            ok += 1
    except (urllib.error.URLError, OSError) as exc:
        failed += 1
        sys.stderr.write(f"consumer: {exc}\\n")
    select.select([], [], [], float(sys.argv[2]))  # time.sleep fails under libfaketime
print(json.dumps({"ok": ok, "failed": failed}))
"""

SHELL_LOOP = r"""
ok=0; failed=0
while [ ! -e "$STOP" ]; do
  asked=$EPOCHREALTIME
  if t=$("$TOKENWARDEN" token --min-validity 3); then
    if printf 'Authorization: Bearer %s\n' "$t" | curl -sf -o /dev/null -H @- "$USERINFO"; then
      ok=$((ok+1))
    else
      failed=$((failed+1)); echo "userinfo refused a token asked for at $asked" >&2
    fi
  else
    failed=$((failed+1)); echo "token failed, asked for at $asked" >&2
  fi
  sleep "$INTERVAL"
done
echo "$ok $failed"
"""


@dataclass
class Figures:
    """What one run measured."""

    windows: int
    execs: int
    shells: int
    server: str = "dev"
    rotations: int = 0
    refresh_requests: int = 0
    reuse: int = 0
    invalid_grant: int = 0
    consumer_calls: int = 0
    failed_calls: int = 0
    api_401s: int = 0
    status_latency_ms: list[float] = field(default_factory=list)
    startup_latency_ms: list[float] = field(default_factory=list)
    lock_wait_ms: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    rss_mb: list[float] = field(default_factory=list)
    idle_cpu_seconds: float | None = None
    idle_seconds: float = 0.0
    wake_renewals: int | None = None
    wake_stale_tokens: int | None = None
    wake_status_latency_ms: list[float] = field(default_factory=list)
    wake_failed_calls: int | None = None
    in_flight_across_suspend: int = 0
    seconds: float = 0.0
    folder: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def refreshes_per_rotation(self) -> float:
        return self.refresh_requests / self.rotations if self.rotations else float("nan")


class Window:
    """One ``tokenwarden serve`` process and the scripted client that drives it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.statuses: list[tuple[float, dict[str, Any]]] = []
        self.log: list[str] = []  # window/logMessage, kept in the bench's folder
        self.reader = asyncio.ensure_future(self._read())

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def request(self, method: str, params: Any = None, timeout: float = 60) -> Any:  # noqa: ASYNC109
        self.next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return await asyncio.wait_for(future, timeout)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        with contextlib.suppress(EOFError, asyncio.IncompleteReadError, ConnectionError):
            while True:
                message = await read_message(self.process.stdout)
                if "method" in message and "id" in message:
                    self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
                elif message.get("method") == "tokenwarden/didChangeStatus":
                    self.statuses.append((time.monotonic(), message["params"]))
                elif message.get("method") == "window/logMessage":
                    self.log.append(f"{time.monotonic():.3f} {message['params']['message']}")
                elif "id" in message and message["id"] in self.pending:
                    self.pending.pop(message["id"]).set_result(message)

    def saw_expiry(self, expires_at: str, since: float) -> float | None:
        """When this window was first told of a token valid until ``expires_at`` (or later)."""
        for arrived, status in self.statuses:
            shown = status.get("expiresAt")
            if arrived >= since and shown and shown >= expires_at and status.get(
                "state"
            ) in ("signedIn", "degraded"):
                return arrived
        return None


class Bench:
    """One run of the workload."""

    def __init__(self, args: argparse.Namespace, windows: int, execs: int, shells: int) -> None:
        self.args = args
        self.figures = Figures(windows=windows, execs=execs, shells=shells, server=args.server)
        self.home = Path(tempfile.mkdtemp(prefix="tw-scale-"))
        self.figures.folder = str(self.home)
        self.stop_file = self.home / "stop"
        self.faketime_file = self.home / "faketime"
        self.server = start_server(args.server, args.ttl, self.home)
        self.api = SampleAPI(self.server.userinfo_url).start()
        self.windows: list[Window] = []
        self.others: list[asyncio.subprocess.Process] = []
        self.calling = True
        self.handed_out_after: float | None = None
        self.woke_faked: float | None = None
        self.stale_after_wake = 0
        self.failed_after_wake = 0
        self.http = httpx2.AsyncClient(timeout=30)

    # ---------------------------------------------------------------- set-up

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TOKENWARDEN_", "FAKETIME", "LD_PRELOAD"))}
        env["TOKENWARDEN_HOME"] = str(self.home)
        if self.wake_enabled:
            env.update({
                "LD_PRELOAD": str(FAKETIME_LIBRARY),
                "FAKETIME_TIMESTAMP_FILE": str(self.faketime_file),
                "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                "FAKETIME_NO_CACHE": "1",  # every read sees the jump at once
                "NO_FAKE_STAT": "1",
            })
        return env

    @property
    def wake_enabled(self) -> bool:
        return (not self.args.no_wake and FAKETIME_LIBRARY.exists()
                and self.server.clock_can_move)

    async def sign_in(self) -> None:
        write_profile(self.home / "config.toml", "default", {
            "issuer": self.server.issuer, "client_id": self.server.client_id,
            "scopes": list(self.server.scopes),
        })
        self.faketime_file.write_text("+0\n")
        where = locations({"TOKENWARDEN_HOME": str(self.home)})
        manager = SessionManager(load_config(where, env={}), TokenStore(where.store_dir))
        try:
            started = await manager.start_login()
            assert isinstance(started, DeviceAuthorization)
            await self.server.approve(started.user_code)
            await asyncio.wait_for(manager.wait_login(), 30)
        finally:
            await manager.close()
        self.server.reset()

    async def start_window(self) -> Window:
        process = await asyncio.create_subprocess_exec(
            PYTHON, "-m", "tokenwarden", "serve", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            env=self.env(), cwd=self.home, start_new_session=True)
        window = Window(process)
        await window.request("initialize", {"processId": os.getpid(), "rootUri": None,
                                            "capabilities": {}}, timeout=120)
        window.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        return window

    async def start_exec(self, index: int) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            PYTHON, "-m", "tokenwarden", "exec", "--proxy-env", "API_URL",
            "--upstream", self.api.url("/"), "--", PYTHON, "-c", EXEC_CONSUMER,
            str(self.stop_file), str(self.args.exec_interval),
            stdout=asyncio.subprocess.PIPE, stderr=self.log_file(f"exec-{index}"),
            env=self.env(), cwd=self.home, start_new_session=True)

    async def start_shell(self, index: int) -> asyncio.subprocess.Process:
        env = {**self.env(), "STOP": str(self.stop_file), "USERINFO": self.server.userinfo_url,
               "INTERVAL": str(self.args.shell_interval),
            "TOKENWARDEN": tokenwarden_command(), "TOKENWARDEN_LOG": "debug"}
        return await asyncio.create_subprocess_exec(
            "bash", "-c", SHELL_LOOP, stdout=asyncio.subprocess.PIPE,
            stderr=self.log_file(f"shell-{index}"), env=env, cwd=self.home,
            start_new_session=True)

    def log_file(self, name: str) -> Any:
        return (self.home / f"{name}.log").open("wb")

    # ---------------------------------------------------------------- running

    async def drive(self, window: Window) -> None:
        """Call getToken about once a second; check every token at the server."""
        figures = self.figures
        while not self.stop_file.exists():
            if not self.calling:
                await asyncio.sleep(0.1)
                continue
            asked = time.monotonic()
            try:
                answer = await window.request("tokenwarden/getToken",
                                              {"minValiditySeconds": 3})
            except (TimeoutError, ConnectionError) as exc:
                figures.failed_calls += 1
                figures.errors.append(f"getToken: {type(exc).__name__}")
                continue
            figures.consumer_calls += 1
            if "error" in answer:
                figures.failed_calls += 1
                figures.errors.append(f"getToken: {answer['error'].get('message')}")
            elif not await self.accepted(answer["result"]["accessToken"]):
                figures.failed_calls += 1
                figures.errors.append("getToken handed out a token the server refused")
                if self.handed_out_after is not None and asked >= self.handed_out_after:
                    self.stale_after_wake += 1
            await asyncio.sleep(self.args.window_interval * (0.5 + _jitter()))

    async def accepted(self, token: str) -> bool:
        answer = await self.http.get(self.server.userinfo_url,
                                     headers={"Authorization": f"Bearer {token}"})
        return answer.status_code == 200

    def store_expiry(self, after_generation: int) -> tuple[int, str, datetime] | None:
        """(generation, expiry, obtained_at) of a record newer than ``after_generation``."""
        path = self.home / "store" / "default.json"
        with contextlib.suppress(OSError, ValueError):
            record = json.loads(path.read_bytes())
            if record["generation"] > after_generation and record.get("expires_at"):
                return (record["generation"], record["expires_at"],
                        _moment(record["obtained_at"]))
        return None

    async def watch_rotations(self, until: int, deadline: float) -> list[tuple[float, str]]:
        """Rotations as they happen: (when the server issued it, the expiry windows show)."""
        seen: list[tuple[float, str]] = []
        count = self.server.counts().refresh_ok
        generation = json.loads((self.home / "store" / "default.json").read_bytes())[
            "generation"]
        while len(seen) < until and time.monotonic() < deadline:
            now_count = self.server.counts().refresh_ok
            if now_count > count:
                issued_at = time.monotonic()
                count = now_count
                found = None
                while found is None and time.monotonic() < issued_at + 5:
                    found = self.store_expiry(generation)
                    if found is None:
                        await asyncio.sleep(0.005)
                if found is not None:
                    generation, expiry, _ = found
                    seen.append((issued_at, _normal(expiry)))
            await asyncio.sleep(0.01)
        return seen

    async def run(self) -> Figures:
        figures = self.figures
        started = time.monotonic()
        await self.sign_in()
        usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.windows = list(await asyncio.gather(
            *(self.start_window() for _ in range(figures.windows))))
        self.others = [await self.start_exec(i) for i in range(figures.execs)]
        self.others += [await self.start_shell(i) for i in range(figures.shells)]
        drivers = [asyncio.ensure_future(self.drive(w)) for w in self.windows]
        # The first rotation comes while 48 Pythons are still starting on two cores:
        # its latency is reported apart, the others are the steady state.
        rotations = await self.watch_rotations(self.args.rotations + 1,
                                               time.monotonic() + self.args.max_seconds)
        await asyncio.sleep(2.0)  # let the last rotation reach every window
        counts = self.server.counts()
        figures.rotations = counts.refresh_ok
        figures.refresh_requests = counts.refresh_requests
        figures.reuse = counts.reuse
        figures.invalid_grant = counts.invalid_grant
        for index, (issued_at, expiry) in enumerate(rotations):
            for window in self.windows:
                seen = window.saw_expiry(expiry, issued_at - 0.05)
                latency = float("inf") if seen is None else max(0.0, seen - issued_at) * 1000
                (figures.status_latency_ms if index else figures.startup_latency_ms).append(
                    latency)
        figures.rss_mb = [rss_mb(w.process.pid) for w in self.windows]
        await self.idle_gap()
        if self.wake_enabled:
            await self.wake()
        self.stop_file.touch()
        await asyncio.gather(*drivers, return_exceptions=True)
        await self.collect()
        usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (usage_after.ru_utime - usage_before.ru_utime
               + usage_after.ru_stime - usage_before.ru_stime)
        figures.cpu_seconds = cpu / max(1, figures.rotations)
        figures.seconds = time.monotonic() - started
        return figures

    async def idle_gap(self) -> None:
        """Windows' CPU between two rotations, with every consumer paused."""
        self.calling = False
        await self.stop_consumers_outside_the_lock()
        for _ in range(5):  # a gap with a rotation inside does not count: try again
            count = self.server.counts().refresh_ok
            deadline = time.monotonic() + self.args.ttl * 2
            while time.monotonic() < deadline:
                if self.server.counts().refresh_ok != count:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)  # the rotation reaches every window
            count = self.server.counts().refresh_ok
            before = sum(cpu_seconds(w.process.pid) for w in self.windows)
            started = time.monotonic()
            await asyncio.sleep(self.args.ttl * 0.2)
            after = sum(cpu_seconds(w.process.pid) for w in self.windows)
            if self.server.counts().refresh_ok == count:
                self.figures.idle_cpu_seconds = after - before
                self.figures.idle_seconds = time.monotonic() - started
                break
        self.signal_others(signal.SIGCONT)
        self.calling = True

    async def stop_consumers_outside_the_lock(self) -> None:
        """SIGSTOP every consumer, at a moment none of them holds the profile lock.

        A consumer stopped while renewing keeps the lock: every window that falls due
        then waits for it, which is not the idle gap this measures.
        """
        lock = self.home / "store" / "default.lock"
        for _ in range(50):
            self.signal_others(signal.SIGSTOP)
            if not lock_is_held(lock):
                return
            self.signal_others(signal.SIGCONT)
            await asyncio.sleep(0.1)
        self.figures.errors.append("idle gap: a consumer held the lock at every try")

    def signal_others(self, number: int) -> None:
        for process in self.others:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, number)

    async def wake(self) -> None:
        """Suspend every process for 8 h of wall time, then wake them all at once."""
        figures = self.figures
        everyone = [w.process for w in self.windows] + self.others
        for process in everyone:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGSTOP)
        self.calling = False
        await asyncio.sleep(0.3)
        failed_before = figures.failed_calls
        self.faketime_file.write_text(f"+{SUSPEND_SECONDS}\n")
        self.server.move_clock(SUSPEND_SECONDS)
        await asyncio.sleep(0.5)
        generation = json.loads((self.home / "store" / "default.json").read_bytes())[
            "generation"]
        woke, woke_server = time.monotonic(), self.server.now()
        self.handed_out_after = woke
        self.woke_faked = time.time() + SUSPEND_SECONDS
        for process in everyone:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGCONT)
        self.calling = True
        found = None
        while found is None and time.monotonic() < woke + 30:
            found = self.store_expiry(generation)
            await asyncio.sleep(0.01)
        # A second renewal caused by the wake would come while the first one's token is
        # still fresh for every process: before 45 % of its life (the advisory window
        # with the most jitter), counted from when its request was sent (the record's
        # obtained_at), not from when the server answered: on a loaded machine the
        # next scheduled renewal may come sooner than that after the answer.
        await asyncio.sleep(self.args.ttl * 0.5)
        due = None if found is None else found[2] + timedelta(seconds=self.args.ttl * 0.45)
        figures.wake_renewals = renewals_between(self.server.refresh_times(), woke_server, due)
        (self.home / "server-events.json").write_text(json.dumps(
            self.server.token_events(), indent=0))
        figures.wake_stale_tokens = self.stale_after_wake
        figures.wake_failed_calls = figures.failed_calls - failed_before
        if found is not None:
            expiry = _normal(found[1])
            for window in self.windows:
                seen = window.saw_expiry(expiry, woke)
                figures.wake_status_latency_ms.append(
                    float("inf") if seen is None else (seen - woke) * 1000)

    async def collect(self) -> None:
        figures = self.figures
        for process in self.others:
            out, _ = await asyncio.wait_for(process.communicate(), 120)
            words = out.decode().split()
            if process in self.others[: figures.execs]:
                report = json.loads(out.decode().strip().splitlines()[-1])
                ok, failed = report["ok"], report["failed"]
            else:
                ok, failed = int(words[-2]), int(words[-1])
            figures.consumer_calls += ok + failed
            figures.failed_calls += failed
        for index in range(figures.shells):
            log = (self.home / f"shell-{index}.log").read_text(errors="replace")
            for asked in ASKED_AT.findall(log):
                # A call asked for before the suspend and answered after it was in
                # flight across the sleep: its token aged 8 h on the way, as any would.
                if self.woke_faked is not None and float(asked) < self.woke_faked:
                    figures.failed_calls -= 1
                    figures.in_flight_across_suspend += 1
                elif self.woke_faked is not None:
                    figures.wake_stale_tokens = (figures.wake_stale_tokens or 0) + 1
        figures.api_401s = self.api.unauthorized
        for index in range(figures.execs):
            log = (self.home / f"exec-{index}.log").read_text(errors="replace")
            figures.errors += [line for line in log.splitlines() if line.strip()][:5]
        for index in range(figures.shells):
            log = (self.home / f"shell-{index}.log").read_bytes()
            figures.lock_wait_ms += [float(m) for m in LOCK_WAIT.findall(log)]
            figures.errors += [line for line in log.decode(errors="replace").splitlines()
                               if line.startswith("tokenwarden: ") and "DEBUG" not in line
                               and "INFO" not in line][:5]
        for window in self.windows:
            with contextlib.suppress(TimeoutError, ConnectionError):
                await window.request("shutdown", timeout=30)
                window.send({"jsonrpc": "2.0", "method": "exit", "params": None})
            await asyncio.wait_for(window.process.wait(), 30)
            window.reader.cancel()
        for index, window in enumerate(self.windows):
            (self.home / f"window-{index}.log").write_text("\n".join(window.log) + "\n")

    async def close(self) -> None:
        for process in [w.process for w in self.windows] + self.others:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGCONT)
                process.kill()
        await self.http.aclose()
        self.api.stop()
        self.server.stop()


def renewals_between(times: list[datetime], since: datetime, until: datetime | None) -> int:
    """Refreshes granted from ``since`` until ``until`` (all after it, if None)."""
    return sum(1 for moment in times if moment >= since and (until is None or moment < until))


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def lock_is_held(path: Path) -> bool:
    """Whether some process holds the flock on ``path`` (tried without waiting)."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the lock if this took it
    return False


def tokenwarden_command() -> str:
    """The installed console script beside this Python (what a shell loop would run)."""
    script = Path(PYTHON).parent / "tokenwarden"
    return str(script) if script.exists() else "tokenwarden"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _normal(stamp: str) -> str:
    """A stored RFC 3339 time in the form the status object uses (seconds, Z)."""
    moment = _moment(stamp).astimezone(UTC)
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _jitter() -> float:
    return int.from_bytes(os.urandom(2), "big") / 65535


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def run_scale(args: argparse.Namespace, windows: int, execs: int,
                    shells: int) -> Figures:
    """One run of the workload at the given scale."""
    bench = Bench(args, windows, execs, shells)
    try:
        return await bench.run()
    finally:
        await bench.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--windows", type=int, default=16)
    parser.add_argument("--execs", type=int, default=8)
    parser.add_argument("--shells", type=int, default=24)
    parser.add_argument("--rotations", type=int, default=10)
    parser.add_argument("--ttl", type=float, default=6.0, help="access-token lifetime (s)")
    parser.add_argument("--window-interval", type=float, default=1.0)
    parser.add_argument("--exec-interval", type=float, default=0.5)
    parser.add_argument("--shell-interval", type=float, default=3.0)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--no-wake", action="store_true", help="skip the simulated suspend")
    parser.add_argument("--server", choices=SERVERS, default="dev",
                        help="the authorization server (oidc-provider: no suspend, its "
                             "clock cannot be moved)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def table(rows: list[Figures]) -> str:
    def ms(values: list[float], fraction: float) -> str:
        value = percentile(values, fraction)
        return "-" if value != value else ("never" if value == float("inf") else f"{value:.0f}")

    lines = ["| measure | goal | " + " | ".join(
        f"{r.windows}+{r.execs}+{r.shells}" for r in rows) + " |",
             "|---|---|" + "---:|" * len(rows)]

    def line(name: str, goal: str, values: list[str]) -> None:
        lines.append(f"| {name} | {goal} | " + " | ".join(values) + " |")

    line("authorization server", "", [r.server for r in rows])
    line("rotations", "≥ 10", [str(r.rotations) for r in rows])
    line("refresh requests per rotation", "1", [f"{r.refreshes_per_rotation:.2f}" for r in rows])
    line("refresh-token reuse / invalid_grant", "0 / 0",
         [f"{r.reuse} / {r.invalid_grant}" for r in rows])
    line("failed consumer calls (of all)", "0",
         [f"{r.failed_calls} of {r.consumer_calls}" for r in rows])
    line("401s the API served to a proxy (renewed and retried)", "",
         [str(r.api_401s) for r in rows])
    line("rotation → every window's status, p50 / p99 ms", "≤ 1000",
         [f"{ms(r.status_latency_ms, .5)} / {ms(r.status_latency_ms, .99)}" for r in rows])
    line("first rotation, during start-up → every window's status, max ms", "",
         [ms(r.startup_latency_ms, 1.0) for r in rows])
    line("`token` lock wait p99 ms (waits)", "≤ 100",
         [f"{ms(r.lock_wait_ms, .99)} ({len(r.lock_wait_ms)})" for r in rows])
    line("CPU of all processes per rotation, s", "", [f"{r.cpu_seconds:.2f}" for r in rows])
    line("RSS per window, median / max MiB", "≤ 60",
         [f"{statistics.median(r.rss_mb):.1f} / {max(r.rss_mb):.1f}" if r.rss_mb else "-"
          for r in rows])
    line("idle CPU of all windows between rotations, s", "0.00",
         ["-" if r.idle_cpu_seconds is None else
          f"{r.idle_cpu_seconds:.2f} in {r.idle_seconds:.1f} s" for r in rows])
    line("renewals after an 8 h suspend", "1",
         ["-" if r.wake_renewals is None else str(r.wake_renewals) for r in rows])
    line("stale tokens / failed calls after wake", "0 / 0",
         ["-" if r.wake_stale_tokens is None else
          f"{r.wake_stale_tokens} / {r.wake_failed_calls}" for r in rows])
    line("shell calls in flight across the suspend", "",
         [str(r.in_flight_across_suspend) for r in rows])
    line("wake → every window's status, p50 / max ms", "≤ 2000",
         [f"{ms(r.wake_status_latency_ms, .5)} / {ms(r.wake_status_latency_ms, 1.0)}"
          for r in rows])
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> list[Figures]:
    rows = []
    if not args.no_baseline:
        rows.append(await run_scale(args, 1, 1, 1))
    rows.append(await run_scale(args, args.windows, args.execs, args.shells))
    return rows


def main() -> None:
    args = parse_args()
    load_before = os.getloadavg()[0]
    rows = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=1, default=str))
        return
    print(f"scale bench: {args.server} server, ttl {args.ttl:g} s, {os.cpu_count()} CPUs, "
          "load average "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(table(rows))
    for row in rows:
        print(f"  {row.windows}+{row.execs}+{row.shells}: logs in {row.folder}")
        for error in sorted(set(row.errors))[:10]:
            print(f"  {row.windows}+{row.execs}+{row.shells}: {error}")


if __name__ == "__main__":
    main()
