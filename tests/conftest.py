"""Fixtures every suite shares: a dev server on 127.0.0.1 and a temporary TOKENWARDEN_HOME."""

import pytest

from tests.core.conftest import home, make_devserver

__all__ = ["home", "make_devserver"]


@pytest.fixture(autouse=True)
def _no_user_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches the developer's own keyring: only ``secret_service`` gives a bus."""
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
