"""The editor hand-off socket: same-user only, private, and tolerant of dead editors."""

import asyncio
import stat

from tokenwarden.handoff import HandoffListener, request_sign_in, socket_path


async def test_a_running_editor_accepts_a_sign_in_request(tmp_path):
    asked: list[str] = []

    async def handler(profile: str) -> bool:
        asked.append(profile)
        return True

    listener = HandoffListener(tmp_path / "run", handler)
    await listener.start()
    accepted = await asyncio.to_thread(request_sign_in, tmp_path / "run", "work")
    await listener.close()
    assert accepted is True
    assert asked == ["work"]


async def test_the_socket_and_its_folder_are_private(tmp_path):
    async def handler(profile: str) -> bool:
        return True

    listener = HandoffListener(tmp_path / "run", handler)
    await listener.start()
    assert stat.S_IMODE(listener.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(listener.path.parent.stat().st_mode) == 0o700
    await listener.close()
    assert not listener.path.exists()


def test_no_editor_means_no_hand_off(tmp_path):
    assert request_sign_in(tmp_path / "missing", "default") is False


def test_a_dead_editors_socket_is_cleaned_up(tmp_path):
    import socket

    runtime = tmp_path / "run"
    runtime.mkdir()
    dead = socket_path(runtime, 999999)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(dead))
    assert request_sign_in(runtime, "default") is False
    assert not dead.exists()


async def test_starting_never_changes_the_process_umask(tmp_path, monkeypatch):
    """Issue 13 item 10: a folder made by another task while the socket is being bound
    (a logout right after `initialized` creating log/) keeps its 0700."""
    import os

    calls: list[int] = []
    real_umask = os.umask
    monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or real_umask(mask))

    async def handler(profile: str) -> bool:
        return True

    async def make_log_folder() -> None:
        (tmp_path / "log").mkdir(mode=0o700)

    listener = HandoffListener(tmp_path / "run", handler)
    other_task = asyncio.ensure_future(make_log_folder())  # runs at start()'s first await
    await listener.start()
    await other_task
    await listener.close()
    assert calls == []
    assert stat.S_IMODE((tmp_path / "log").stat().st_mode) == 0o700


async def test_a_runtime_folder_of_another_user_is_refused(tmp_path):
    import os

    import pytest

    if os.geteuid() != 0:
        pytest.skip("giving a folder to another user needs root")
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    os.chown(runtime, 65534, 65534)

    async def handler(profile: str) -> bool:
        return True

    listener = HandoffListener(runtime, handler)
    with pytest.raises(OSError, match="belongs to another user"):
        await listener.start()
    assert request_sign_in(runtime, "default") is False
