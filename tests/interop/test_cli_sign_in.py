"""Device sign-in through ``tokenwarden login`` against each independent server."""

from __future__ import annotations

from tests.interop.conftest import configure, profile_of
from tests.interop.drive import cli_login, run_cli, stored


def test_login_signs_in_and_the_token_works_at_the_server(independent_server, interop_home,
                                                          client_kind):
    configure(interop_home, profile_of(independent_server, client_kind))

    done = cli_login(interop_home, independent_server)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "default: Signed in" in done.stdout
    token = run_cli(interop_home, "token", "--min-validity", "1")
    assert token.returncode == 0, token.stderr
    assert independent_server.userinfo_accepts(token.stdout.strip())
    record = stored(interop_home)
    assert record is not None and record.refresh_token
    assert independent_server.token_active(record.refresh_token, "refresh_token")
