"""``tokenwarden exec`` and ``tokenwarden token`` as a terminal script uses them, across expiries."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.core.conftest import configure
from tests.terminal.conftest import Stack, signed_in_stack

#: A child that calls the API once with the token from its environment: exit 0 on 200.
CALL_ONCE = """
import os, sys, urllib.request, urllib.error
request = urllib.request.Request(sys.argv[1], headers={
    "Authorization": "Bearer " + os.environ[sys.argv[2]]})
try:
    urllib.request.urlopen(request, timeout=10).read()
except urllib.error.HTTPError as exc:
    sys.exit(10 + exc.code // 100)
"""

#: A long-running child that calls through the proxy every 0.5 s.
CALL_REPEATEDLY = """
import os, sys, time, urllib.request, urllib.error
statuses = []
for _ in range(int(sys.argv[1])):
    request = urllib.request.Request(os.environ["API_BASE"] + "/echo", headers={
        "x-api-key": os.environ["TOKENWARDEN_ACCESS_TOKEN"]})
    try:
        statuses.append(urllib.request.urlopen(request, timeout=10).status)
    except urllib.error.HTTPError as exc:
        statuses.append(exc.code)
    time.sleep(0.5)
print(statuses)
sys.exit(0 if set(statuses) == {200} else 1)
"""


def tokenwarden(command: str) -> list[str]:
    """``tokenwarden COMMAND`` as the installed entry point runs it."""
    return [sys.executable, "-m", "tokenwarden", command]


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@pytest.fixture
async def short_lived(make_devserver, home, sample_api_for):
    """Tokens that live 2 s; the signing-in manager is closed (each CLI run has its own)."""
    stack = await signed_in_stack(make_devserver, home, sample_api_for, ttl=2.0)
    await stack.manager.close()
    return stack


async def test_exec_puts_a_token_in_the_environment_and_passes_the_exit_code(short_lived: Stack):
    child = "import os, sys; sys.exit(7 if len(os.environ['MY_TOKEN']) > 10 else 1)"
    done = await asyncio.to_thread(
        run, [*tokenwarden("exec"), "--env", "MY_TOKEN", "--", sys.executable, "-c", child])
    assert done.returncode == 7, done.stderr


async def test_exec_of_a_missing_command_exits_127(short_lived: Stack):
    done = await asyncio.to_thread(run, [*tokenwarden("exec"), "--", "no-such-command-xyz"])
    assert done.returncode == 127
    assert "command not found: no-such-command-xyz" in done.stderr


def test_exec_without_a_session_exits_3_with_one_line(make_devserver, home: Path):
    configure(home, make_devserver())
    done = run([*tokenwarden("exec"), "--", sys.executable, "-c", "print('ran')"])
    assert done.returncode == 3
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "tokenwarden login" in lines[0], done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("surface", ["exec", "token"])
async def test_script_every_half_second_across_expiries_sees_no_401(
    short_lived: Stack, surface: str
):
    url = short_lived.api.url("/echo")
    refreshes = short_lived.devserver.stats()["refresh_ok"]
    codes = []
    for _ in range(12):  # at least 6 s: three lifetimes of a 2 s token
        started = asyncio.get_running_loop().time()
        codes.append(await asyncio.to_thread(_call_through, surface, url))
        await asyncio.sleep(max(0.0, 0.5 - (asyncio.get_running_loop().time() - started)))
    assert codes == [0] * 12
    assert short_lived.api.unauthorized == 0
    assert short_lived.devserver.stats()["refresh_ok"] - refreshes >= 2


def _call_through(surface: str, url: str) -> int:
    if surface == "exec":
        done = run([*tokenwarden("exec"), "--", sys.executable, "-c", CALL_ONCE, url,
                    "TOKENWARDEN_ACCESS_TOKEN"])
        return done.returncode
    done = run([sys.executable, "-m", "tokenwarden", "token"])
    if done.returncode != 0:
        return done.returncode
    request = urllib.request.Request(url, headers={
        "Authorization": f"Bearer {done.stdout.strip()}"})
    try:
        with urllib.request.urlopen(request, timeout=10):
            return 0
    except urllib.error.HTTPError as exc:
        return 10 + exc.code // 100


@pytest.mark.slow
async def test_exec_with_proxy_env_keeps_a_long_command_authorized(short_lived: Stack):
    done = await asyncio.to_thread(run, [
        *tokenwarden("exec"), "--proxy-env", "API_BASE", "--upstream", short_lived.api.base,
        "--", sys.executable, "-c", CALL_REPEATEDLY, "12"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == [200] * 12
