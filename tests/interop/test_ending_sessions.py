"""Ending a session: logout revokes at the server; a grant the server ended stays ended."""

from __future__ import annotations

import json
import time

from tests.interop.conftest import configure, profile_of
from tests.interop.drive import cli_login, run_cli, stored_refresh_token
from tests.interop.servers import ACCESS_TOKEN_TTL


def signed_in(server, home, kind: str) -> str:
    """Sign in through the CLI; the refresh token in the store."""
    configure(home, profile_of(server, kind))
    done = cli_login(home, server)
    assert done.returncode == 0, done.stdout + done.stderr
    refresh_token = stored_refresh_token(home)
    assert refresh_token is not None, "no refresh token in the store"
    return refresh_token


def test_logout_revokes_or_says_that_the_server_refused(independent_server, interop_home,
                                                        client_kind):
    refused = client_kind == "public" and not independent_server.public_client_can_revoke
    refresh_token = signed_in(independent_server, interop_home, client_kind)

    done = run_cli(interop_home, "logout")

    active = independent_server.token_active(refresh_token, "refresh_token")
    assert done.returncode == 0, done.stderr
    assert stored_refresh_token(interop_home) is None
    if refused:
        # The server refuses (Glewlwyd: 401); logout must say so, and the token lives on.
        assert active, "the server was expected to refuse a public client's revocation"
        assert "the provider refused to revoke (HTTP 401)" in done.stdout + done.stderr
        assert "malformed_response" not in done.stdout + done.stderr
    else:
        assert not active, "the refresh token is still active at the server after logout"


def token_calls_after_the_grant_ended(server, home, min_validity: str):
    """Sign in, end the grant at the server, call ``token`` until it stops handing out one.

    The access token in the store stays usable for tokenwarden until it is due for
    renewal (tokenwarden cannot know the grant ended); the call that renews is refused.
    Returns that call, the next one, and how many refresh requests reached the server.
    """
    signed_in(server, home, "public")
    assert server.revoke_grant() >= 1
    refreshes_before = server.token_requests("refresh_token")
    calls = [run_cli(home, "token", "--min-validity", min_validity)]
    for _ in range(ACCESS_TOKEN_TTL * 4):
        if calls[-1].returncode != 0:
            break
        time.sleep(0.5)
        calls.append(run_cli(home, "token", "--min-validity", min_validity))
    again = run_cli(home, "token", "--min-validity", min_validity)
    return calls[-1], again, server.token_requests("refresh_token") - refreshes_before


def test_a_grant_ended_at_the_server_ends_in_expired_without_a_loop(independent_server,
                                                                     interop_home):
    ended, again, refreshes = token_calls_after_the_grant_ended(
        independent_server, interop_home, "1")
    status = run_cli(interop_home, "status", "--json")

    assert (ended.returncode, again.returncode) == (3, 3), ended.stderr + again.stderr
    assert ended.stdout == again.stdout == ""
    assert "Traceback" not in ended.stderr + again.stderr
    assert len(ended.stderr.strip().splitlines()) == 1, ended.stderr
    # The wording is the CLI's (issue 14): the reason, then what to run.
    assert "run: tokenwarden login" in ended.stderr
    assert len(again.stderr.strip().splitlines()) == 1, again.stderr
    assert refreshes == 1
    assert json.loads(status.stdout)["state"] == "expired"


def test_the_refused_renewal_says_so_in_one_line(independent_server, interop_home):
    ended, _, _ = token_calls_after_the_grant_ended(independent_server, interop_home, "3600")

    assert ended.returncode == 3
    assert len(ended.stderr.strip().splitlines()) == 1, ended.stderr
