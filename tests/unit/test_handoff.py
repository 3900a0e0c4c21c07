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
