"""Issue 14 item 3: a connection failure names the URL and the cause, in one line."""

from __future__ import annotations

import socket

from tests.cli.conftest import cli, stderr_lines
from tokenwarden.config import write_profile


def _point_at(home, issuer: str) -> None:
    write_profile(home / "config.toml", "default", {"issuer": issuer, "client_id": "x"})


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fails_with(home, expected: str) -> None:
    done = cli(home, "login", "--no-browser")
    assert done.returncode == 4, done.stderr
    assert stderr_lines(done) == [expected]
    assert done.stdout == ""
    assert not (home / "store").exists() or not any((home / "store").iterdir())


def test_connection_refused_names_the_url(home):
    port = _closed_port()
    _point_at(home, f"https://127.0.0.1:{port}")
    _fails_with(home, f"tokenwarden: cannot reach https://127.0.0.1:{port}"
                      "/.well-known/openid-configuration: connection refused")


def test_https_to_a_plain_http_server_says_so(make_devserver, home):
    server = make_devserver()
    issuer = server.issuer.replace("http://", "https://")
    _point_at(home, issuer)
    _fails_with(home, f"tokenwarden: cannot reach {issuer}/.well-known/openid-configuration: "
                      "TLS handshake failed (wrong version number — is it plain http?)")


def test_unknown_host_says_host_not_found(home):
    _point_at(home, "https://tokenwarden-test.invalid")
    _fails_with(home, "tokenwarden: cannot reach https://tokenwarden-test.invalid"
                      "/.well-known/openid-configuration: host not found")


def test_doctor_shows_the_same_cause(home):
    port = _closed_port()
    _point_at(home, f"https://127.0.0.1:{port}")
    done = cli(home, "doctor")
    assert done.returncode == 1
    assert (f"✗ discovery: cannot reach https://127.0.0.1:{port}"
            "/.well-known/openid-configuration: connection refused") in done.stdout.splitlines()
