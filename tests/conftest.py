"""Fixtures every suite shares: a dev server on 127.0.0.1 and a temporary TOKENWARDEN_HOME."""

from tests.core.conftest import home, make_devserver

__all__ = ["home", "make_devserver"]
