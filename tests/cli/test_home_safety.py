"""The home, store and log folders, and a read-only home, as the `tokenwarden` CLI meets them.

Each test runs the real command in a subprocess against a temporary TOKENWARDEN_HOME
and the dev server on 127.0.0.1, and asserts the exit code, the one line on stderr,
and what is left on disk (issue 13 item 9, issue 14 item 1).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import cli
from tests.cli.disk import cli_under, one_line, read_only, snapshot
from tests.core.conftest import configure, manager_for, sign_in

OTHER_UID = 65534  # nobody


@pytest.fixture
def shared_home(tmp_path: Path) -> Path:
    """A TOKENWARDEN_HOME in a folder every local user can write (no sticky bit)."""
    home = tmp_path / "shared"
    home.mkdir()
    home.chmod(0o777)
    return home


def test_login_in_a_home_others_can_write_is_refused_before_a_code(make_devserver,
                                                                    shared_home):
    server = make_devserver()
    configure(shared_home, server)
    done = cli(shared_home, "login", "--no-browser")
    line = one_line(done.stderr)
    assert done.returncode == 2
    assert f"{shared_home} can be written by other users (mode 777)" in line
    assert done.stdout == ""
    assert server.stats()["device_authorizations"] == 0
    assert sorted(p.name for p in shared_home.iterdir()) == ["config.toml"]


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_store_folder_of_another_user_is_refused_before_a_code(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    store = home / "store"
    store.mkdir(mode=0o700)
    os.chown(store, OTHER_UID, OTHER_UID)
    done = cli(home, "login", "--no-browser")
    line = one_line(done.stderr)
    assert done.returncode == 2
    assert f"{store} belongs to another user (uid {OTHER_UID})" in line
    assert server.stats()["device_authorizations"] == 0
    assert list(store.iterdir()) == []


async def test_the_event_log_never_follows_a_planted_symlink(make_devserver, home, tmp_path):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    await manager.close()
    victim = tmp_path / "bashrc"
    victim.write_text("# the user's own file\n", encoding="utf-8")
    log = home / "log" / "auth-events.jsonl"
    log.unlink()
    log.symlink_to(victim)
    done = cli(home, "logout")
    assert done.returncode == 0, done.stderr
    assert victim.read_text(encoding="utf-8") == "# the user's own file\n"
    assert log.is_symlink()
    assert not (home / "store" / "default.json").exists()


def test_doctor_fails_a_home_others_can_write(make_devserver, shared_home):
    server = make_devserver()
    configure(shared_home, server)
    done = cli(shared_home, "doctor", "--json")
    findings = json.loads(done.stdout)
    assert done.returncode == 1
    home_check = next(f for f in findings if f["check"] == "folders")
    assert home_check["level"] == "fail"
    assert str(shared_home) in home_check["detail"]
    assert home_check["fix"] == f"run: chmod go-w {shared_home}"
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------------ read-only home


@pytest.fixture
def read_only_wrap(home: Path) -> Iterator[list[str]]:
    """Runs commands with ``home`` read-only: a read-only mount as root, else mode 0555."""
    wrap = read_only(home)
    if wrap is not None:
        yield wrap
        return
    if os.geteuid() == 0:
        pytest.skip("root without mount namespaces cannot make a folder read-only")
    for path in (home, *[p for p in home.rglob("*") if p.is_dir()]):
        path.chmod(0o555)
    yield []
    for path in (home, *[p for p in home.rglob("*") if p.is_dir()]):
        path.chmod(0o700)


def test_login_in_a_read_only_home_is_refused_before_a_code(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    wrap = read_only(home)
    if wrap is None:
        pytest.skip("needs root with mount namespaces (a read-only mount)")
    done = cli_under(wrap, home, "login", "--no-browser")
    line = one_line(done.stderr)
    assert done.returncode == 2
    assert line == (f"tokenwarden: cannot create the token store folder {home / 'store'}: "
                    "read-only file system")
    assert done.stdout == ""
    assert server.stats()["device_authorizations"] == 0
    assert sorted(p.name for p in home.iterdir()) == ["config.toml"]


async def test_commands_in_a_read_only_home_say_why_in_one_line(make_devserver, home,
                                                               read_only_wrap):
    server = make_devserver()
    configure(home, server)
    manager = manager_for(home)
    await sign_in(manager, server)
    await manager.close()
    before = snapshot(home)
    for args in (["logout"], ["refresh"]):
        done = cli_under(read_only_wrap, home, *args)
        line = one_line(done.stderr)
        assert done.returncode == 2, (args, line)
        assert str(home / "store") in line, (args, line)
    status = cli_under(read_only_wrap, home, "status")
    assert status.returncode == 0 and status.stderr == ""
    assert status.stdout.startswith("default: Signed in")
    doctor = cli_under(read_only_wrap, home, "doctor", "--json")
    assert "Traceback" not in doctor.stderr and "unexpected" not in doctor.stderr
    lock = next(f for f in json.loads(doctor.stdout) if f["check"] == "lock")
    assert lock["level"] == "fail" and str(home / "store") in lock["detail"]
    assert snapshot(home) == before
    assert server.stats()["revocations"] == 0


def test_a_save_failing_after_approval_revokes_what_was_issued(make_devserver, home,
                                                              start_cli):
    server = make_devserver()
    configure(home, server)
    login = start_cli(home, "login", "--no-browser")
    code = login.user_code()
    shutil.rmtree(home / "store")  # the store becomes impossible to write
    (home / "store").write_text("not a folder\n", encoding="utf-8")
    server.approve(code)
    assert login.finish() == 2
    line = one_line("\n".join(login.stderr))
    assert f"{home / 'store'}" in line
    assert line.endswith("the tokens just issued were revoked")
    assert server.stats()["device_code_ok"] == 1
    assert server.stats()["grants_revoked"] == 1
    assert (home / "store").read_text(encoding="utf-8") == "not a folder\n"


def test_proxy_on_a_port_in_use_says_so_in_one_line(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli(home, "proxy", "--upstream", server.issuer,
                       "--listen", f"127.0.0.1:{port}")
    assert done.returncode == 2
    assert one_line(done.stderr) == (f"tokenwarden: cannot listen on 127.0.0.1:{port}: "
                                     "address already in use")
