"""The store watcher calls back with the profile whose record changed (both backends)."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

from tokenwarden.storewatch import StoreWatcher, profile_of

BACKENDS = [pytest.param(True, id="inotify"), pytest.param(False, id="poll")]
if not sys.platform.startswith("linux"):
    BACKENDS = BACKENDS[1:]


def test_profile_of_ignores_temp_and_lock_files():
    assert profile_of("work.json") == "work"
    assert profile_of(".work.abc.tmp") is None
    assert profile_of(".work.json") is None
    assert profile_of("work.lock") is None
    assert profile_of("work.json.unreadable") is None


def atomic_write(path, data):
    temp = path.with_name(f".{path.stem}.x.tmp")
    temp.write_text(json.dumps(data))
    os.replace(temp, path)


async def watch(folder, use_inotify):
    changes: asyncio.Queue[str] = asyncio.Queue()
    watcher = StoreWatcher(folder, changes.put_nowait, poll_seconds=0.05,
                           use_inotify=use_inotify)
    watcher.start()
    return watcher, changes


@pytest.mark.parametrize("use_inotify", BACKENDS)
async def test_write_replace_and_delete_are_reported(tmp_path, use_inotify):
    folder = tmp_path / "store"
    watcher, changes = await watch(folder, use_inotify)
    try:
        assert watcher.backend == ("inotify" if use_inotify else "poll")
        atomic_write(folder / "default.json", {"v": 1})
        assert await asyncio.wait_for(changes.get(), 2) == "default"
        (folder / "work.json").write_text("{}")
        assert await asyncio.wait_for(changes.get(), 2) == "work"
        (folder / "default.json").unlink()
        assert await asyncio.wait_for(changes.get(), 2) == "default"
    finally:
        watcher.close()


@pytest.mark.parametrize("use_inotify", BACKENDS)
async def test_lock_and_temp_files_are_not_reported(tmp_path, use_inotify):
    folder = tmp_path / "store"
    watcher, changes = await watch(folder, use_inotify)
    try:
        (folder / "default.lock").write_text("")
        (folder / ".default.y.tmp").write_text("")
        (folder / "default.json").write_text("{}")
        assert await asyncio.wait_for(changes.get(), 2) == "default"
        assert changes.empty()
    finally:
        watcher.close()


async def test_folder_is_created_private(tmp_path):
    folder = tmp_path / "new" / "store"
    watcher, _ = await watch(folder, True)
    watcher.close()

    assert folder.is_dir()
    assert folder.stat().st_mode & 0o077 == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux only")
async def test_removed_folder_is_watched_again(tmp_path):
    folder = tmp_path / "store"
    watcher, changes = await watch(folder, True)
    try:
        (folder / "default.json").write_text("{}")
        assert await asyncio.wait_for(changes.get(), 2) == "default"
        (folder / "default.json").unlink()
        folder.rmdir()
        assert await asyncio.wait_for(changes.get(), 2) == "default"
        await asyncio.sleep(0.1)
        while not changes.empty():
            changes.get_nowait()
        (folder / "again.json").write_text("{}")
        assert await asyncio.wait_for(changes.get(), 2) == "again"
    finally:
        watcher.close()
