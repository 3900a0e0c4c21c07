"""The command line: ``python -m tokenwarden.devserver`` as a test harness would run it."""

from __future__ import annotations

import re
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import httpx2
import pytest

from tokenwarden.devserver.cli import run_devserver

LISTENING = re.compile(r"^tokenwarden devserver listening on (http://127\.0\.0\.1:(\d+))\n$")
SECRET = "hunter2-client-secret"


Launch = Callable[..., tuple["subprocess.Popen[str]", str]]


@pytest.fixture
def launch() -> Iterator[Launch]:
    """Start ``python -m tokenwarden.devserver ARGS``; returns the process and its issuer."""
    processes: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "tokenwarden.devserver", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        ready, _, _ = select.select([process.stdout], [], [], 15)
        assert ready, "no listening line within 15 s"
        line = process.stdout.readline()
        match = LISTENING.match(line)
        assert match, f"unexpected first line {line!r}"
        return process, match.group(1)

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _sign_in(issuer: str) -> dict[str, str]:
    auth = httpx2.BasicAuth("ci-bot", SECRET)
    with httpx2.Client(base_url=issuer, timeout=5, auth=auth) as http:
        device = http.post("/device_authorization", data={"scope": "openid"}).json()
        http.post("/_admin/approve", json={"user_code": device["user_code"]})
        grant = "urn:ietf:params:oauth:grant-type:device_code"
        tokens = http.post(
            "/token", data={"grant_type": grant, "device_code": device["device_code"]}
        )
        tokens.raise_for_status()
        renewed = http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"]},
        ).json()
        return {
            "device_code": device["device_code"],
            **tokens.json(),
            "renewed": renewed["refresh_token"],
        }


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_announces_its_port_serves_and_stops_on_a_signal(
    launch: Launch, stop_signal: signal.Signals
) -> None:
    process, issuer = launch("--interval", "0", "--client", f"ci-bot:{SECRET}")
    secrets = _sign_in(issuer)

    process.send_signal(stop_signal)
    stdout, stderr = process.communicate(timeout=10)

    assert process.returncode == 0
    assert stdout == ""  # exactly one line, already read
    assert "POST /token 200 ok grant_type=device_code" in stderr
    assert "POST /token 200 ok grant_type=refresh_token" in stderr
    for secret in [
        SECRET,
        *(secrets[k] for k in ("device_code", "access_token", "refresh_token", "renewed")),
    ]:
        assert secret not in stderr


def test_cli_quiet_logs_no_requests(launch: Launch) -> None:
    process, issuer = launch("--quiet")
    httpx2.get(f"{issuer}/.well-known/openid-configuration")
    process.terminate()
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert stderr == ""


def test_cli_refuses_a_non_loopback_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_devserver(["--host", "0.0.0.0"]) == 2
    assert "non-loopback" in capsys.readouterr().err


def test_cli_rejects_a_client_without_secret_and_does_not_echo_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_devserver(["--client", ":only-a-secret"]) == 2
    assert "only-a-secret" not in capsys.readouterr().err
