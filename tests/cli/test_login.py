"""``tokenwarden login`` as a user meets it: the reason of every failure where they wait.

Issue 14 items 2 and 4, issue 12 item 4: a denial, an expired code and a provider's
refusal each end with one line on stderr naming the reason and the command to run
(never the editor's "run Sign in"); a forced sign-in that is denied says the previous
session was kept; while waiting, the complete link, the time left and progress lines.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from tests.cli.conftest import cli, cli_env
from tests.core.conftest import configure
from tokenwarden.store import TokenStore


def _record(home):
    return TokenStore(home / "store").read("default")


def test_denied_sign_in_prints_the_reason_and_exits_3(make_devserver, home, start_cli):
    server = make_devserver()
    configure(home, server)
    login = start_cli(home, "login", "--no-browser")
    server.deny(login.user_code())
    assert login.finish() == 3
    assert [line for line in login.stderr if line.strip()] == [
        "tokenwarden: default: the sign-in was denied "
        "(run: tokenwarden login --profile default)"]
    assert not any("Sign in" in line for line in login.stdout + login.stderr)
    assert _record(home) is None


def test_expired_code_prints_the_reason_and_exits_3(make_devserver, home, start_cli):
    server = make_devserver(device_code_ttl=1.0)
    configure(home, server)
    login = start_cli(home, "login", "--no-browser")
    login.user_code()
    assert login.finish() == 3
    [line] = [line for line in login.stderr if line.strip()]
    assert line.startswith("tokenwarden: default: the sign-in code expired before it was "
                           "approved"), line
    assert line.endswith("(run: tokenwarden login --profile default)")
    assert _record(home) is None


def test_provider_refusal_is_shown_with_its_error(make_devserver, home, start_cli):
    server = make_devserver()
    configure(home, server)
    server.add_fault("token", "status", status=400, error="invalid_client", count=5)
    login = start_cli(home, "login", "--no-browser")
    login.user_code()
    assert login.finish() == 3
    [line] = [line for line in login.stderr if line.strip()]
    assert line.startswith("tokenwarden: default: sign-in failed: "), line
    assert "invalid_client" in line
    assert line.endswith("(run: tokenwarden login --profile default)")
    assert _record(home) is None


def test_forced_sign_in_that_is_denied_keeps_the_session_and_says_so(
        make_devserver, home, start_cli):
    server = make_devserver()
    configure(home, server)
    first = start_cli(home, "login", "--no-browser")
    server.approve(first.user_code())
    assert first.finish() == 0
    before = _record(home)
    again = start_cli(home, "login", "--no-browser", "--force")
    server.deny(again.user_code())
    assert again.finish() == 3
    [line] = [line for line in again.stderr if line.strip()]
    assert line.startswith("tokenwarden: default: the sign-in was denied; the previous "
                           "session was kept (Signed in as alice@example.test"), line
    assert not any(line.startswith("default: Signed in") for line in again.stdout)
    after = _record(home)
    assert after is not None and after.refresh_token == before.refresh_token
    assert cli(home, "token").returncode == 0


def test_sign_in_shows_the_complete_link_and_the_time_left(make_devserver, home, start_cli):
    server = make_devserver(device_code_ttl=600)
    configure(home, server)
    login = start_cli(home, "login", "--no-browser")
    code = login.user_code()
    link = login.wait_for("or open")
    assert link == (f"  or open {server.issuer}/device?user_code={code} "
                    "(the code is filled in)")
    assert login.wait_for("expires in") == "The code expires in 10m 00s."
    server.approve(code)
    assert login.finish() == 0
    assert login.stdout[-1].startswith("default: Signed in as alice@example.test · renews in ")
    # Without a keyring (no D-Bus session here) the one line saying so, and nothing else.
    assert [line for line in login.stderr if line.strip()] == [
        "tokenwarden: default: no keyring usable, no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS"
        " is not set, as over SSH or in a container); the tokens are kept in the 0600 store "
        "file (see docs/store.md)"]
    assert _record(home) is not None


def test_off_a_terminal_a_progress_line_comes_every_30_seconds(make_devserver, home, start_cli):
    server = make_devserver(device_code_ttl=600)
    configure(home, server)
    login = start_cli(home, "login", "--no-browser")
    code = login.user_code()
    line = login.wait_for("still waiting", stream="stderr", timeout=90)
    assert line.startswith("still waiting for approval · code expires in 9m ")
    server.approve(code)
    assert login.finish() == 0
    assert _record(home) is not None


def test_on_a_terminal_one_line_is_updated_in_place(make_devserver, home):
    server = make_devserver(device_code_ttl=600)
    configure(home, server)
    # No keyring here: "auto" would add its one fallback notice, a line of its own.
    (home / "config.toml").write_text('store = "file"\n' + (home / "config.toml").read_text())
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "tokenwarden", "login", "--no-browser"],
                               stdout=subprocess.PIPE, stderr=follower, text=True,
                               env=cli_env(home))
    os.close(follower)
    try:
        code = process.stdout.readline().rsplit(" ", 1)[1].strip()
        seen = b""
        deadline = time.monotonic() + 60
        while seen.count(b"still waiting") < 3 and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1)
            if ready:
                seen += os.read(leader, 4096)
        server.approve(code)
        assert process.wait(timeout=60) == 0
        while select.select([leader], [], [], 0.5)[0]:
            try:
                seen += os.read(leader, 4096)
            except OSError:
                break
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    text = seen.decode()
    assert text.count("\r\x1b[2Kstill waiting for approval · code expires in ") >= 3
    assert "\n" not in text.replace("\r\n", "\n").strip("\n")  # no line of its own
    assert text.endswith("\r\x1b[2K")  # cleared before the outcome
