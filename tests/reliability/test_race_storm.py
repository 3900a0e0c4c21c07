"""Race storm: CLI runs and language servers share one rotating refresh token.

Four processes call `tokenwarden token` in a loop and four `tokenwarden serve`
processes answer `tokenwarden/getToken` for a scripted client, all against the dev
server with reuse detection and short-lived access tokens, for 50 rotations:
every rotation is exactly one refresh request, no `invalid_grant`, no sign-out."""

import asyncio
import json
import subprocess
import sys
import textwrap
import time

import pytest

from tests.core.conftest import configure, manager_for, sign_in

ROTATIONS = 50

CLI_WORKER = textwrap.dedent("""
    import json, os, subprocess, sys
    codes = []
    while not os.path.exists(sys.argv[1]) or not codes:
        done = subprocess.run([sys.executable, "-m", "tokenwarden", "token",
                               "--min-validity", "1"], capture_output=True, text=True)
        codes.append(done.returncode)
        if done.returncode:
            sys.stderr.write(done.stderr)
    print(json.dumps({"calls": len(codes), "failures": sum(1 for c in codes if c)}))
""")

LSP_WORKER = textwrap.dedent('''
    import json, os, subprocess, sys, time
    server = subprocess.Popen([sys.executable, "-m", "tokenwarden", "serve"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ids = iter(range(1, 10**9))

    def send(method, params, request=True):
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            message["id"] = next(ids)
        body = json.dumps(message).encode()
        server.stdin.write(b"Content-Length: %d\\r\\n\\r\\n" % len(body) + body)
        server.stdin.flush()
        return message.get("id")

    def receive(wanted):
        while True:
            length = 0
            while True:
                line = server.stdout.readline()
                if not line:
                    raise SystemExit("server closed")
                if line in (b"\\r\\n", b"\\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(server.stdout.read(length))
            if "id" in message and "method" in message:  # a request to the client
                reply = {"jsonrpc": "2.0", "id": message["id"], "result": None}
                body = json.dumps(reply).encode()
                server.stdin.write(b"Content-Length: %d\\r\\n\\r\\n" % len(body) + body)
                server.stdin.flush()
            elif message.get("id") == wanted:
                return message

    receive(send("initialize", {"processId": os.getpid(), "rootUri": None,
                                "capabilities": {}}))
    send("initialized", {}, request=False)
    calls = failures = 0
    while not os.path.exists(sys.argv[1]) or not calls:
        answer = receive(send("tokenwarden/getToken", {"minValiditySeconds": 1}))
        calls += 1
        if "error" in answer:
            failures += 1
            sys.stderr.write(json.dumps(answer["error"]) + "\\n")
        time.sleep(0.05)
    receive(send("shutdown", None))
    send("exit", None, request=False)
    server.wait(timeout=10)
    print(json.dumps({"calls": calls, "failures": failures}))
''')


@pytest.mark.timeout(400)
async def test_race_storm_of_cli_runs_and_language_servers(make_devserver, home, tmp_path):
    server = make_devserver(access_token_ttl=1.5)
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    await manager.close()
    server.reset_stats()
    stop = tmp_path / "stop"
    workers = [subprocess.Popen([sys.executable, "-c", script, str(stop)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for script in [CLI_WORKER] * 4 + [LSP_WORKER] * 4]
    started = time.monotonic()
    try:
        while server.stats()["refresh_ok"] < ROTATIONS and time.monotonic() - started < 300:
            await asyncio.sleep(0.5)
    finally:
        stop.touch()
        results = [worker.communicate(timeout=60) for worker in workers]
    elapsed = time.monotonic() - started
    reports = [json.loads(out) for out, _ in results]
    errors = "".join(err for _, err in results)
    stats = server.stats()
    calls = sum(r["calls"] for r in reports)
    print(f"\nrace storm: processes=8 (4 cli + 4 lsp) calls={calls} "
          f"rotations={stats['refresh_ok']} refresh_requests="
          f"{stats['token_requests'].get('refresh_token')} invalid_grant="
          f"{stats['invalid_grant']} reuse={stats['reuse_detected']} seconds={elapsed:.0f}")
    if stats["invalid_grant"]:
        print((home / "log" / "auth-events.jsonl").read_text()[-6000:])
        print([e for e in server.events() if e.get("outcome") != "ok"][:10])
    assert stats["refresh_ok"] >= ROTATIONS
    assert stats["token_requests"]["refresh_token"] == stats["refresh_ok"]
    assert stats["invalid_grant"] == 0 and stats["reuse_detected"] == 0
    assert sum(r["failures"] for r in reports) == 0, errors
    assert all(r["calls"] > 0 for r in reports)
