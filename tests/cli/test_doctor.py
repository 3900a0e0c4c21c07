"""Issue 14 item 7: ``doctor`` and the commands on a broken or missing config.toml."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import cli, cli_env, stderr_lines
from tests.core.conftest import configure


def test_invalid_toml_shows_line_and_column_and_no_ok_line(home):
    config = home / "config.toml"
    config.write_text('[profiles.default]\nissuer = "http://127.0.0.1:1"\nclient_id = x\n',
                      encoding="utf-8")
    done = cli(home, "doctor")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert not any(line.startswith("✓ config") for line in lines), lines
    at = lines.index(next(line for line in lines if line.startswith("✗ config")))
    assert lines[at] == (f"✗ config: file {config}: is not valid TOML at line 3, column 13: "
                         "Invalid value")
    assert lines[at + 1] == "    fix: fix the syntax at the line and column named"
    assert config.read_text(encoding="utf-8").endswith("client_id = x\n")  # left as it was


def test_commands_on_invalid_toml_say_where(home):
    config = home / "config.toml"
    config.write_text("[profiles.default\n", encoding="utf-8")
    done = cli(home, "status")
    assert done.returncode == 2
    assert stderr_lines(done) == [
        f"tokenwarden: file {config}: is not valid TOML at line 1, column 18: "
        "Expected ']' at the end of a table declaration"]


@pytest.mark.parametrize("command", [["status"], ["token"], ["login", "--no-browser"],
                                     ["refresh"], ["logout"]])
def test_no_config_file_says_create_it(home, command):
    done = cli(home, *command)
    assert done.returncode == 2
    assert stderr_lines(done) == [
        f"tokenwarden: no config file at {home / 'config.toml'}: create it (see README)"]
    assert not (home / "config.toml").exists()


def test_doctor_without_a_config_file(home):
    done = cli(home, "doctor")
    assert done.returncode == 1
    assert (f"✗ config: no config file at {home / 'config.toml'}: create it (see README)"
            in done.stdout.splitlines())


def _serve(home: Path, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tokenwarden", "serve", "--stdio"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=cli_env(home, **env))


def _editors_line(home: Path) -> str:
    done = cli(home, "doctor")
    return next(line for line in done.stdout.splitlines() if line.startswith("✓ editors"))


def test_editors_counts_only_servers_of_this_user_and_store(make_devserver, home, tmp_path_factory):
    configure(home, make_devserver())
    other_home = tmp_path_factory.mktemp("other-home")
    ours = _serve(home)
    theirs = _serve(other_home)
    servers = [ours, theirs]
    if os.getuid() == 0:  # a server of another user on the same home must not count either
        # Looks like `tokenwarden serve` in /proc (argv[0] and "serve"), on this home.
        nobody = subprocess.Popen(
            ["bash", "-c", "exec -a /usr/local/bin/tokenwarden /usr/bin/python3 "
             "-c 'import time; time.sleep(600)' serve"],
            env=cli_env(home), user=65534, cwd="/")
        servers.append(nobody)
    try:
        deadline = time.monotonic() + 30
        line = _editors_line(home)
        while str(ours.pid) not in line and time.monotonic() < deadline:
            time.sleep(0.5)
            line = _editors_line(home)
        assert line == f"✓ editors: language servers on this store: pid {ours.pid}"
    finally:
        for server in servers:
            server.kill()
            server.wait()
    assert _editors_line(home) == "✓ editors: no language server running on this store"
