"""Issue 14 item 5: ``tokenwarden refresh`` prints one line per outcome; logs only with -v."""

from __future__ import annotations

from tests.cli.conftest import cli, stderr_lines
from tests.core.conftest import configure
from tokenwarden.store import TokenStore


def _signed_in(make_devserver, home, start_cli):
    server = make_devserver()
    configure(home, server)
    login = start_cli(home, "login", "--no-browser")
    server.approve(login.user_code())
    assert login.finish() == 0
    return server


def _record(home):
    return TokenStore(home / "store").read("default")


def test_refresh_that_works_prints_one_line_on_stdout(make_devserver, home, start_cli):
    _signed_in(make_devserver, home, start_cli)
    before = _record(home)
    done = cli(home, "refresh")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    [line] = done.stdout.splitlines()
    assert line.startswith("default: Signed in as alice@example.test · renews in ")
    assert _record(home).generation > before.generation


def test_provider_down_is_one_line_with_the_cause(make_devserver, home, start_cli):
    server = _signed_in(make_devserver, home, start_cli)
    issuer = server.issuer
    before = _record(home)
    server.stop()
    done = cli(home, "refresh")
    assert done.returncode == 4
    assert done.stdout == ""
    assert stderr_lines(done) == [
        f"tokenwarden: default: renewal failed: cannot reach {issuer}"
        "/.well-known/openid-configuration: connection refused; the current token stays "
        "valid 60 min"]
    after = _record(home)
    assert after.refresh_token == before.refresh_token and after.failures == 1


def test_verbose_refresh_adds_the_log(make_devserver, home, start_cli):
    server = _signed_in(make_devserver, home, start_cli)
    server.stop()
    done = cli(home, "-v", "refresh")
    assert done.returncode == 4
    lines = stderr_lines(done)
    assert any("INFO tokenwarden.renewal: renewing profile default" in ln for ln in lines)
    assert any("WARNING tokenwarden.renewal" in ln and "retrying in" in ln for ln in lines)
    assert lines[-1].startswith("tokenwarden: default: renewal failed: cannot reach ")


def test_invalid_grant_is_one_line_and_exit_3(make_devserver, home, start_cli):
    server = _signed_in(make_devserver, home, start_cli)
    server.revoke_all()
    done = cli(home, "refresh")
    assert done.returncode == 3
    assert done.stdout == ""
    [line] = stderr_lines(done)
    assert line.startswith("tokenwarden: the provider ended the session ("), line
    assert "invalid_grant" in line
    assert line.endswith("(run: tokenwarden login --profile default)")
    assert _record(home).refresh_token is None
