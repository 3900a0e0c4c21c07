"""Fixtures for the core engine: a real dev server on 127.0.0.1 and a temporary home."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenwarden.clock import Clock
from tokenwarden.config import load_config, write_profile
from tokenwarden.devserver import DevServer, DevServerConfig
from tokenwarden.oauth import DeviceAuthorization
from tokenwarden.paths import locations
from tokenwarden.session import SessionManager
from tokenwarden.status import SessionState
from tokenwarden.store import TokenStore


@pytest.fixture
def make_devserver() -> Iterator:
    servers: list[DevServer] = []

    def start(**settings) -> DevServer:
        settings.setdefault("interval", 0)
        server = DevServer(DevServerConfig(**settings)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TOKENWARDEN_HOME", str(tmp_path))
    return tmp_path


def configure(home: Path, server: DevServer, **policy) -> None:
    """Point the default profile of ``home`` at ``server``."""
    write_profile(home / "config.toml", "default", {
        "issuer": server.issuer, "client_id": "tokenwarden-tests",
        "scopes": ["openid", "offline_access"],
    })
    if policy:
        text = (home / "config.toml").read_text(encoding="utf-8")
        lines = "\n".join(f"{k} = {v!r}" for k, v in policy.items())
        (home / "config.toml").write_text(f"{text}\n[policy]\n{lines}\n", encoding="utf-8")


def manager_for(home: Path, *, clock: Clock | None = None, background: bool = False,
                **kwargs) -> SessionManager:
    where = locations({"TOKENWARDEN_HOME": str(home)})
    return SessionManager(load_config(where, env={}), TokenStore(where.store_dir),
                          clock=clock, background=background, **kwargs)


async def sign_in(manager: SessionManager, server: DevServer) -> DeviceAuthorization:
    started = await manager.start_login()
    assert isinstance(started, DeviceAuthorization)
    server.approve(started.user_code)
    status = await asyncio.wait_for(manager.wait_login(), 10)
    assert status.state is SessionState.SIGNED_IN, status.message
    return started
