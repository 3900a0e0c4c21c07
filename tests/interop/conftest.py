"""Fixtures: each independent authorization server, started once per test module.

``independent_server`` is parametrized over the servers in ``SERVERS``; every scenario
runs against each. The fixtures install nothing (``tests/run.sh`` does: ``npm ci`` in
``tests/interop/node``, the ``glewlwyd`` Debian package): a missing program or package
is a test failure that says what to install, never a skip.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.interop.servers import (
    ACCESS_TOKEN_TTL,
    IndependentServer,
    StartServer,
    confidential_profile,
    public_profile,
)
from tokenwarden.config import PROFILE_KEYS, write_profile

#: pytest parameter -> module whose ``start`` function starts that server.
SERVERS = {
    "glewlwyd": "tests.interop.glewlwyd",
    "oidc-provider": "tests.interop.oidc_provider",
}


def _factory(name: str) -> StartServer:
    try:
        module = importlib.import_module(SERVERS[name])
    except ModuleNotFoundError as exc:
        if exc.name != SERVERS[name]:
            raise
        pytest.fail(f"{name}: its harness module {SERVERS[name]} is missing", pytrace=False)
    start: StartServer = module.start
    return start


#: Per server, what the scenarios did and saw at it, summed over the run.
TALLIES: dict[str, Counter[str]] = {}
VERSIONS: dict[str, str] = {}


class Tallied:
    """A server whose checks are counted for the run's summary (otherwise passed through)."""

    def __init__(self, server: IndependentServer, tally: Counter[str]) -> None:
        self._server = server
        self._tally = tally

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)

    def note(self, key: str, amount: int) -> None:
        """Add a scenario's own figure (rotations it saw, reuse during it) to the summary."""
        self._tally[key] += amount

    def approve(self, user_code: str) -> None:
        self._server.approve(user_code)
        self._tally["sign-ins approved"] += 1

    def userinfo_accepts(self, access_token: str) -> bool:
        accepted = self._server.userinfo_accepts(access_token)
        self._tally["tokens checked at userinfo"] += 1
        self._tally["tokens refused by userinfo"] += not accepted
        return accepted

    def token_active(self, token: str, hint: Any) -> bool:
        active = self._server.token_active(token, hint)
        self._tally[f"{hint} introspected"] += 1
        self._tally[f"{hint} inactive"] += not active
        return active


@pytest.fixture(scope="module", params=sorted(SERVERS))
def independent_server(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndependentServer]:
    """One running server per module and parameter, stopped at the end of the module."""
    name: str = request.param
    workdir = tmp_path_factory.mktemp(f"interop-{name}")
    server = _factory(name)(workdir, access_token_ttl=ACCESS_TOKEN_TTL)
    tally = TALLIES.setdefault(name, Counter())
    VERSIONS[name] = server.version
    try:
        yield Tallied(server, tally)
    finally:
        tally["refresh requests at the server"] += server.token_requests("refresh_token")
        server.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per server: the figures of the interop table in docs/providers.md."""
    for name, tally in sorted(TALLIES.items()):
        figures = ", ".join(f"{key} {value}" for key, value in sorted(tally.items()))
        terminalreporter.write_line(f"interop {name} {VERSIONS.get(name, '?')}: {figures}")


@pytest.fixture
def interop_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private TOKENWARDEN_HOME for one test (also set for this process)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("TOKENWARDEN_HOME", str(home))
    return home


def configure(home: Path, profile: dict[str, Any], *, name: str = "default") -> None:
    """Write ``profile`` as profile ``name`` of ``home``'s config file."""
    write_profile(home / "config.toml", name, profile)


@pytest.fixture(params=["public", "confidential"])
def client_kind(request: pytest.FixtureRequest) -> str:
    """Run a scenario once with the public client and once with the confidential one."""
    kind: str = request.param
    return kind


def profile_of(server: IndependentServer, kind: str) -> dict[str, Any]:
    """The profile of the given client kind at ``server``.

    ``token_endpoint_auth_method`` is kept only once the engine knows the key (issue 12
    item 1); until then a secret always goes in the body (client_secret_post).
    """
    profile = public_profile(server) if kind == "public" else confidential_profile(server)
    return {key: value for key, value in profile.items()
            if key in PROFILE_KEYS and value is not None}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed interop test shows the end of the server's own log beside it.

    Only servers whose harness offers ``log_tail`` (it must log no tokens) are shown.
    """
    report: pytest.TestReport = yield
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            tail = getattr(value, "log_tail", None)
            if callable(tail) and hasattr(value, "issuer"):
                report.sections.append((f"{value.name} log", tail()))
    return report
