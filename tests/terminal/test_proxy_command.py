"""``tokenwarden proxy`` as a process: start-up lines, where its secret comes from, refusals."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import stat
import subprocess
from pathlib import Path

import httpx2
import pytest

from tests.terminal.conftest import Stack, signed_in_stack
from tests.terminal.test_exec import run, tokenwarden


async def start_proxy(stack: Stack, *options: str, env: dict[str, str] | None = None,
                      stdin: str | None = None) -> tuple[subprocess.Popen[str], str, list[str]]:
    """A ``tokenwarden proxy`` process, its URL and the start-up lines after the first."""
    process = subprocess.Popen([*tokenwarden("proxy"), "--upstream", stack.api.base, *options],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})})
    assert process.stdin is not None and process.stdout is not None
    if stdin is not None:
        process.stdin.write(stdin)
    process.stdin.close()
    process.stdin = None  # communicate() must not flush it
    first = await asyncio.to_thread(process.stdout.readline)
    listening = re.fullmatch(
        r"tokenwarden proxy listening on (http://127\.0\.0\.1:\d+) \(upstream (\S+)\)\n", first)
    assert listening and listening.group(2) == stack.api.base, first
    lines = []
    while not (line := await asyncio.to_thread(process.stdout.readline)).startswith("clients"):
        lines.append(line.rstrip("\n"))
    return process, listening.group(1), lines


async def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, errors = await asyncio.to_thread(process.communicate, timeout=20)
    assert process.returncode == 0, errors
    return errors


async def status_with(url: str, secret: str) -> int:
    async with httpx2.AsyncClient(trust_env=False) as client:
        return (await client.get(url + "/echo", headers={"x-api-key": secret})).status_code


@pytest.fixture
async def stack(make_devserver, home, sample_api_for) -> Stack:
    stack: Stack = await signed_in_stack(make_devserver, home, sample_api_for, ttl=600.0)
    await stack.manager.close()
    return stack


async def test_a_secret_on_the_command_line_is_refused_and_the_message_says_what_to_use(
    stack: Stack
):
    done = run([*tokenwarden("proxy"), "--upstream", stack.api.base,
                "--secret", "visible-to-every-user-in-ps"])
    assert done.returncode == 2
    assert "process list" in done.stderr and "--secret-file" in done.stderr
    assert "TOKENWARDEN_PROXY_SECRET" in done.stderr
    assert "visible-to-every-user-in-ps" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1


async def test_without_a_secret_one_is_kept_in_a_0600_file_and_never_printed(stack: Stack):
    os.umask(0)  # the file must be private whatever the umask
    try:
        process, url, lines = await start_proxy(stack)
    finally:
        os.umask(0o022)
    try:
        path = Path(stack.home / "run" / "proxy-secret")
        assert lines == [f"secret file: {path}"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        secret = path.read_text().strip()
        assert len(secret) >= 32
        assert await status_with(url, secret) == 200
        assert await status_with(url, "not-the-secret-at-all") == 401
    finally:
        errors = await stop(process)
    assert secret not in errors
    # The next start keeps the same secret: a tool configured with it goes on working.
    process, url, lines = await start_proxy(stack)
    try:
        assert await status_with(url, secret) == 200
    finally:
        await stop(process)


async def test_print_secret_shows_it_only_when_asked(stack: Stack):
    process, url, lines = await start_proxy(stack, "--print-secret")
    try:
        secret = (stack.home / "run" / "proxy-secret").read_text().strip()
        assert lines[-1] == f"secret: {secret}"
        assert await status_with(url, secret) == 200
    finally:
        await stop(process)


async def test_secret_from_a_private_file_the_environment_or_stdin(stack: Stack, tmp_path):
    chosen = tmp_path / "secret"
    chosen.write_text("a-secret-of-my-own-choosing\n")
    chosen.chmod(0o600)
    for options, env, stdin in [
        (["--secret-file", str(chosen)], None, None),
        ([], {"TOKENWARDEN_PROXY_SECRET": "a-secret-of-my-own-choosing"}, None),
        (["--secret-file", "-"], None, "a-secret-of-my-own-choosing\n"),
    ]:
        process, url, lines = await start_proxy(stack, *options, env=env, stdin=stdin)
        try:
            assert "a-secret-of-my-own-choosing" not in "\n".join(lines)
            assert await status_with(url, "a-secret-of-my-own-choosing") == 200
        finally:
            await stop(process)


def test_a_secret_file_other_users_can_read_is_refused_naming_the_file(stack: Stack, tmp_path):
    shared = tmp_path / "shared-secret"
    shared.write_text("a-secret-of-my-own-choosing\n")
    shared.chmod(0o644)
    done = run([*tokenwarden("proxy"), "--upstream", stack.api.base, "--secret-file", str(shared)])
    assert done.returncode == 2
    assert str(shared) in done.stderr and "chmod 600" in done.stderr
    link = tmp_path / "link"
    link.symlink_to(shared)
    done = run([*tokenwarden("proxy"), "--upstream", stack.api.base, "--secret-file", str(link)])
    assert done.returncode == 2 and str(link) in done.stderr


def test_a_short_secret_is_refused(stack: Stack, tmp_path):
    done = subprocess.run([*tokenwarden("proxy"), "--upstream", stack.api.base],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "TOKENWARDEN_PROXY_SECRET": "short"})
    assert done.returncode == 2 and "shorter than 16" in done.stderr


def test_proxy_refuses_a_non_loopback_listen_address(make_devserver, home):
    done = run([*tokenwarden("proxy"), "--upstream", "http://127.0.0.1:9",
                "--listen", "0.0.0.0:8080"])
    assert done.returncode == 2
    assert "only binds loopback" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_proxy_refuses_an_upstream_that_is_not_http(home):
    done = run([*tokenwarden("proxy"), "--upstream", "ftp://example.test"])
    assert done.returncode == 2
    assert "--upstream must be an http" in done.stderr
