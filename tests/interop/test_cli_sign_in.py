"""Device sign-in through ``tokenwarden login`` against each independent server."""

from __future__ import annotations

from tests.interop.conftest import configure, profile_of
from tests.interop.drive import cli_login, run_cli, stored_refresh_token


def test_login_signs_in_and_the_token_works_at_the_server(independent_server, interop_home,
                                                          client_kind):
    configure(interop_home, profile_of(independent_server, client_kind))

    done = cli_login(interop_home, independent_server)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "default: Signed in" in done.stdout
    token = run_cli(interop_home, "token", "--min-validity", "1")
    assert token.returncode == 0, token.stderr
    # Checks go through booleans: a failing assertion must not print a token.
    accepted = independent_server.userinfo_accepts(token.stdout.strip())
    refresh_token = stored_refresh_token(interop_home)
    assert refresh_token is not None, "no refresh token in the store"
    active = independent_server.token_active(refresh_token, "refresh_token")
    assert accepted, "userinfo refused the access token tokenwarden printed"
    assert active, "introspection says the stored refresh token is not active"
