"""Fixtures: each independent authorization server, started once per test module.

``independent_server`` is parametrized over the servers in ``SERVERS``; every scenario
runs against each. The fixtures install nothing (``tests/run.sh`` does: ``npm ci`` in
``tests/interop/node``, the ``glewlwyd`` Debian package): a missing program or package
is a test failure that says what to install, never a skip.
"""

from __future__ import annotations

import importlib
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


@pytest.fixture(scope="module", params=sorted(SERVERS))
def independent_server(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndependentServer]:
    """One running server per module and parameter, stopped at the end of the module."""
    name: str = request.param
    workdir = tmp_path_factory.mktemp(f"interop-{name}")
    server = _factory(name)(workdir, access_token_ttl=ACCESS_TOKEN_TTL)
    try:
        yield server
    finally:
        server.stop()


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
