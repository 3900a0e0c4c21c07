"""Several windows, one store: every change reaches every window within 2 s."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from tests.lsp.harness import profile_options, server_env, sign_in
from tokenwarden.config import write_profile

PROPAGATION_SECONDS = 2.0


async def two_windows(open_client, devserver, **options):
    first = await open_client(profile_options(devserver, **options))
    second = await open_client(profile_options(devserver, **options))
    return first, second


async def test_sign_in_in_one_window_reaches_the_other(open_client, devserver):
    first, second = await two_windows(open_client, devserver)
    mark = len(second.statuses)

    await sign_in(first, devserver)
    status = await second.wait_for_state("signedIn", since=mark, timeout=PROPAGATION_SECONDS)

    assert status["account"] == "alice@example.test"
    assert (await second.get_token())["accessToken"] == (await first.get_token())["accessToken"]


async def test_sign_out_in_one_window_reaches_the_other(open_client, devserver):
    first, second = await two_windows(open_client, devserver)
    await sign_in(first, devserver)
    await second.wait_for_state("signedIn")
    mark = len(second.statuses)

    await first.command("tokenwarden.logout")

    await second.wait_for_state("signedOut", since=mark, timeout=PROPAGATION_SECONDS)


async def test_renewal_in_one_window_reaches_the_other(open_client, devserver):
    first, second = await two_windows(open_client, devserver)
    signed_in = await sign_in(first, devserver)
    await second.wait_for_state("signedIn")
    mark = len(second.statuses)
    # expiresAt has whole seconds: renew in a later second than the sign-in, so the
    # renewed status differs from the first one (equal statuses are not re-sent).
    await asyncio.sleep(1.1)

    await first.command("tokenwarden.refresh")

    renewed = await second.wait_for_status(
        lambda s: s["state"] == "signedIn" and s["expiresAt"] > signed_in["expiresAt"],
        since=mark, timeout=PROPAGATION_SECONDS)
    assert renewed["profile"] == "default"
    assert (await second.get_token())["accessToken"] == (await first.get_token())["accessToken"]


async def test_concurrent_get_token_at_expiry_sends_one_refresh(open_client, make_devserver):
    ttl = 4.0
    devserver = make_devserver(access_token_ttl=ttl)
    first, second = await two_windows(open_client, devserver)
    await sign_in(first, devserver)
    await second.wait_for_state("signedIn")

    # Half the lifetime later the token is inside every window's renewal window: both
    # windows (their schedules and these requests) want a new token at the same time.
    await asyncio.sleep(ttl / 2)
    tokens = await asyncio.gather(
        first.get_token(minValiditySeconds=ttl), second.get_token(minValiditySeconds=ttl),
        first.get_token(minValiditySeconds=ttl), second.get_token(minValiditySeconds=ttl),
    )

    stats = devserver.stats()
    assert len({token["accessToken"] for token in tokens}) == 1
    assert stats["refresh_ok"] == 1
    assert stats["invalid_grant"] == 0 and stats["reuse_detected"] == 0


async def test_cli_sign_out_reaches_every_window(open_client, devserver, home):
    write_profile(home / "config.toml", "default", {
        "issuer": devserver.issuer, "client_id": "tokenwarden-tests",
        "scopes": ["openid", "offline_access"], "flow": "device",
    })
    first = await open_client({})
    second = await open_client({})
    await sign_in(first, devserver)
    await second.wait_for_state("signedIn")
    marks = len(first.statuses), len(second.statuses)

    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "tokenwarden", "logout", "--no-revoke"],
        env=server_env(str(home)), capture_output=True, text=True, timeout=30)

    assert done.returncode == 0, done.stderr
    await first.wait_for_state("signedOut", since=marks[0], timeout=PROPAGATION_SECONDS)
    await second.wait_for_state("signedOut", since=marks[1], timeout=PROPAGATION_SECONDS)
