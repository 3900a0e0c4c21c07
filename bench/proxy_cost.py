"""The proxy's work per request in CPU instructions (valgrind's callgrind), and its floors.

Run from the repository root: ``.venv/bin/python bench/proxy_cost.py`` (needs
``valgrind``; Debian package ``valgrind``). Instructions do not depend on what
else the machine is doing, so two builds compare exactly here, where the
latency benchmark (``terminal_bench.py``) needs a quiet machine. Each figure is
the difference between a run of ``--requests`` keep-alive GETs and a run of 100,
divided by the difference, so start-up cancels out.

Prints, in millions of user-space instructions per request:
- this build's ``tokenwarden proxy`` (and ``--baseline-src``'s, a checkout's
  ``server`` folder run with this interpreter);
- h11 alone doing what the proxy asks of it for one request (parse the request,
  frame it for the upstream, parse the answer, frame it for the client): the floor
  the parser sets;
- an asyncio relay that copies the bytes without parsing: the event loop's floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.core.conftest import configure, manager_for, sign_in  # noqa: E402
from tests.terminal.sample_api import SampleAPI  # noqa: E402

from tokenwarden.devserver import DevServer, DevServerConfig  # noqa: E402

#: What the bench's client sends and the sample API answers, as on the wire.
_REQUEST = (b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nAccept: */*\r\n"
            b"Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n"
            b"User-Agent: python-httpx/0.28\r\nAuthorization: Bearer abcdefabcdef\r\n\r\n")
_ANSWER = (b"HTTP/1.1 200 OK\r\nServer: BaseHTTP/0.6 Python/3.11.7\r\n"
           b"Date: Tue, 01 Dec 2026 13:00:00 GMT\r\nContent-Type: text/plain\r\n"
           b"Content-Length: 4\r\n\r\npong")


def h11_exchanges(count: int) -> None:
    """``count`` proxied exchanges done by h11 alone, as the proxy does them."""
    import h11

    inbound, outbound = h11.Connection(h11.SERVER), h11.Connection(h11.CLIENT)
    for _ in range(count):
        inbound.receive_data(_REQUEST)
        request = inbound.next_event()
        inbound.next_event()
        fields = [(k, v) for k, v in request.headers.raw_items() if k.lower() != b"host"]
        outbound.send(h11.Request(method=request.method, target=request.target,
                                  headers=[(b"Host", b"upstream"), *fields]))
        outbound.send(h11.EndOfMessage())
        outbound.receive_data(_ANSWER)
        answer, data = outbound.next_event(), outbound.next_event()
        outbound.next_event()
        inbound.send(h11.Response(status_code=answer.status_code, headers=answer.headers,
                                  reason=answer.reason))
        inbound.send(h11.Data(data=data.data))
        inbound.send(h11.EndOfMessage())
        inbound.start_next_cycle()
        outbound.start_next_cycle()


def relay(upstream_port: int) -> None:
    """Serve an asyncio relay that copies each request and answer without parsing them."""

    class Side(asyncio.Protocol):
        def __init__(self) -> None:
            self.pending: list[bytes] = []
            self.waiter: asyncio.Future[None] | None = None
            self.transport: asyncio.Transport | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            self.pending.append(data)
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(None)

        async def read(self) -> bytes:
            while not self.pending:
                self.waiter = asyncio.get_running_loop().create_future()
                await self.waiter
            data = b"".join(self.pending)
            self.pending.clear()
            return data

    async def serve(client: Side) -> None:
        loop = asyncio.get_running_loop()
        _, upstream = await loop.create_connection(Side, "127.0.0.1", upstream_port)
        while True:
            request = await client.read()
            assert upstream.transport is not None and client.transport is not None
            upstream.transport.write(request)
            answer = await upstream.read()
            head, _, body = answer.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(body) < length:
                more = await upstream.read()
                body += more
                answer += more
            client.transport.write(answer)

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def accepted() -> Side:
            side = Side()
            loop.call_soon(lambda: loop.create_task(serve(side)))
            return side

        server = await loop.create_server(accepted, "127.0.0.1", 0)
        print(f"listening on http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
        print("no secret", flush=True)
        await server.serve_forever()

    asyncio.run(main())


def instructions(argv: list[str], env: dict[str, str] | None = None,
                 drive: tuple[int, dict[str, str]] | None = None) -> int:
    """User-space instructions of ``argv`` under callgrind; ``drive`` sends it that many GETs."""
    fd, out = tempfile.mkstemp(prefix="callgrind.", dir=tempfile.gettempdir())
    os.close(fd)
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv]
    try:
        if drive is None:
            subprocess.run(command, capture_output=True, check=True, env=env)
        else:
            _drive(command, env, *drive)
        totals = re.search(rb"^(?:summary|totals): (\d+)", Path(out).read_bytes(), re.M)
        assert totals, "callgrind wrote no totals"
        return int(totals.group(1))
    finally:
        os.unlink(out)


def _drive(command: list[str], env: dict[str, str] | None, count: int,
           headers: dict[str, str]) -> None:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=env)
    try:
        assert process.stdout is not None
        url = re.search(r"on (http://\S+)", process.stdout.readline())
        assert url, "the server under test did not print its address"
        if secret := re.match(r"secret file: (.+)", process.stdout.readline() or ""):
            headers = {"Authorization": "Bearer " + Path(secret.group(1)).read_text().strip()}
        with httpx2.Client(trust_env=False, timeout=120) as client:
            for _ in range(count):
                client.get(url.group(1) + "/ping", headers=headers).raise_for_status()
    finally:
        process.terminate()
        process.wait(timeout=60)


def per_request(measure: object, count: int) -> float:
    """Millions of instructions per request: the run of ``count`` minus the run of 100."""
    assert callable(measure)
    return (measure(count) - measure(100)) / (count - 100) / 1e6


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--requests", type=int, default=300)
    options.add_argument("--baseline-src", metavar="CHECKOUT/server",
                         help="another build's server folder, measured the same way")
    options.add_argument("--h11", type=int, help=argparse.SUPPRESS)
    options.add_argument("--relay", type=int, help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.h11 is not None:
        h11_exchanges(args.h11)
        return
    if args.relay is not None:
        relay(args.relay)
        return
    home = Path(tempfile.mkdtemp(prefix="tokenwarden-bench-"))
    os.environ["TOKENWARDEN_HOME"] = str(home)
    server = DevServer(DevServerConfig(access_token_ttl=3600, interval=0)).start()
    api = SampleAPI(server.url("/userinfo")).start()
    try:
        configure(home, server)
        asyncio.run(_sign_in(home, server))
        port = api.base.rsplit(":", 1)[1]
        builds = [("this build's proxy", str(ROOT / "server"))]
        if args.baseline_src:
            builds.append(("the baseline's proxy", args.baseline_src))
        print(f"| M instructions per keep-alive GET (callgrind, {args.requests} minus 100 "
              "requests) | |\n|---|---:|")
        for label, source in builds:
            env = dict(os.environ, PYTHONPATH=source)
            proxy = [sys.executable, "-m", "tokenwarden", "proxy", "--upstream", api.base]
            cost = per_request(lambda n, p=proxy, e=env: instructions(p, e, (n, {})),
                               args.requests)
            print(f"| {label} | {cost:.3f} |", flush=True)
        h11_only = per_request(
            lambda n: instructions([sys.executable, __file__, "--h11", str(n)]), args.requests)
        print(f"| h11 alone, the same messages | {h11_only:.3f} |", flush=True)
        loop_only = per_request(
            lambda n: instructions([sys.executable, __file__, "--relay", port], None,
                                   (n, {"Authorization": "Bearer not-checked"})),
            args.requests)
        print(f"| an asyncio relay copying bytes | {loop_only:.3f} |", flush=True)
    finally:
        api.stop()
        server.stop()


async def _sign_in(home: Path, server: DevServer) -> None:
    manager = manager_for(home)
    try:
        await sign_in(manager, server)
    finally:
        await manager.close()


if __name__ == "__main__":
    main()
