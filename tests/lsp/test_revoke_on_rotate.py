"""A provider that revokes the previous access token when it rotates: a non-event.

Real processes only: two `tokenwarden serve` windows, `tokenwarden refresh` and
`tokenwarden token` as separate CLI runs, and the dev server with revoke_on_rotate.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx2

from tests.lsp.harness import server_env, sign_in
from tokenwarden.config import write_profile

#: Generous: the machine may be loaded; nothing here asserts on a duration.
PROPAGATION_SECONDS = 10.0


def cli(home, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tokenwarden", *args],
                          env=server_env(str(home)), capture_output=True, text=True, timeout=60)


def accepted(server, token: str) -> bool:
    answer = httpx2.get(server.url("/userinfo"), headers={"Authorization": f"Bearer {token}"},
                        trust_env=False)
    return answer.status_code == 200


async def test_a_rotation_that_revokes_the_old_token_reaches_every_consumer(
    open_client, make_devserver, home
):
    server = make_devserver(revoke_on_rotate=True, access_token_ttl=600)
    write_profile(home / "config.toml", "default", {
        "issuer": server.issuer, "client_id": "tokenwarden-tests",
        "scopes": ["openid", "offline_access"]})
    first, second = await open_client({}), await open_client({})
    signed_in = await sign_in(first, server)
    await second.wait_for_state("signedIn")
    old = (await second.get_token())["accessToken"]
    marks = len(first.statuses), len(second.statuses)
    await asyncio.sleep(1.1)  # expiresAt has whole seconds: let the renewal show a later one

    renewed = await asyncio.to_thread(cli, home, "refresh")

    assert renewed.returncode == 0, renewed.stderr
    assert not await asyncio.to_thread(accepted, server, old)  # the switch is on
    # Every window is told at once, with the new expiry (editors re-fetch on it).
    for window, mark in zip((first, second), marks, strict=True):
        await window.wait_for_status(
            lambda s: s["state"] == "signedIn" and s["expiresAt"] > signed_in["expiresAt"],
            since=mark, timeout=PROPAGATION_SECONDS)
    # The fast path and both windows hand out the store's current token only.
    printed = await asyncio.to_thread(cli, home, "token")
    current = printed.stdout.strip()
    assert printed.returncode == 0 and current != old
    assert await asyncio.to_thread(accepted, server, current)
    assert (await first.get_token())["accessToken"] == current
    assert (await second.get_token())["accessToken"] == current
    # A consumer reporting the revoked token gets the current one, no new rotation.
    answer = await second.request("tokenwarden/tokenRejected", {"accessToken": old})
    assert answer["accessToken"] == current
    stats = server.stats()
    assert stats["refresh_ok"] == 1 and stats["reuse_detected"] == 0
