"""`tokenwarden token --wait` in a terminal hands the sign-in to the running editor."""

from __future__ import annotations

import asyncio
import os
import sys

import httpx2

from tests.core.conftest import configure


async def test_token_wait_asks_the_editor_and_prints_a_valid_token(open_client, devserver, home):
    configure(home, devserver)
    client = await open_client()
    mark = len(client.statuses)
    env = {**os.environ, "TOKENWARDEN_HOME": str(home)}
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tokenwarden", "token", "--wait", "--timeout", "60",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)

    signing_in = await client.wait_for_state("signingIn", since=mark)
    devserver.approve(signing_in["login"]["userCode"])
    out, err = await asyncio.wait_for(cli.communicate(), 60)

    assert cli.returncode == 0, err.decode()
    assert b"sign-in requested in your editor" in err
    token = out.decode().strip()
    async with httpx2.AsyncClient(trust_env=False) as http:
        answer = await http.get(devserver.url("/userinfo"),
                                headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200


async def test_token_wait_without_an_editor_says_what_to_run(devserver, home):
    configure(home, devserver)
    env = {**os.environ, "TOKENWARDEN_HOME": str(home)}
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tokenwarden", "token", "--wait", "--timeout", "5",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    out, err = await asyncio.wait_for(cli.communicate(), 30)
    assert cli.returncode == 3
    assert out == b""
    assert b"no editor running tokenwarden answered" in err
    assert b"run: tokenwarden login" in err
