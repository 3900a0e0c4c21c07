"""The sign-in marker other processes read: what it holds, and when it is ignored."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from tokenwarden import sharedlogin
from tokenwarden.status import LoginInfo
from tokenwarden.storewatch import profile_of

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LOGIN = LoginInfo(user_code="WDJB-MJHT", verification_uri="https://id.example/device",
                  verification_uri_complete=None, expires_at=NOW + timedelta(minutes=10),
                  expires_in=600, interval=5)


def another_process_wrote(folder, pid: int, login: LoginInfo = LOGIN) -> None:
    sharedlogin.share(folder, "p", login)
    path = sharedlogin.marker_path(folder, "p")
    data = json.loads(path.read_text())
    data["pid"] = pid
    path.write_text(json.dumps(data))


def test_a_live_process_marker_is_read_back_as_its_login(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        another_process_wrote(tmp_path, parent.pid)
        shared = sharedlogin.read_shared(tmp_path, "p", NOW)
        assert shared is not None and shared.pid == parent.pid
        assert shared.login.user_code == "WDJB-MJHT" and shared.login.elsewhere
    finally:
        parent.kill()
        parent.wait()


def test_a_marker_of_a_process_that_is_gone_is_ignored_and_removed(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    another_process_wrote(tmp_path, int(done.stdout))
    assert sharedlogin.read_shared(tmp_path, "p", NOW) is None
    assert not sharedlogin.marker_path(tmp_path, "p").exists()


def test_this_process_ignores_its_own_marker_and_an_expired_one(tmp_path):
    sharedlogin.share(tmp_path, "p", LOGIN)
    assert sharedlogin.read_shared(tmp_path, "p", NOW) is None
    assert sharedlogin.read_shared(tmp_path, "p", NOW + timedelta(hours=1)) is None


def test_the_marker_holds_no_device_code_and_is_private(tmp_path):
    sharedlogin.share(tmp_path, "p", LOGIN)
    path = sharedlogin.marker_path(tmp_path, "p")
    assert path.stat().st_mode & 0o077 == 0
    assert set(json.loads(path.read_text())) == {
        "pid", "flow", "userCode", "verificationUri", "verificationUriComplete",
        "authorizationUri", "expiresAt", "expiresIn", "interval"}


def test_unshare_leaves_another_process_marker_alone(tmp_path):
    another_process_wrote(tmp_path, 1)
    sharedlogin.unshare(tmp_path, "p")
    assert sharedlogin.marker_path(tmp_path, "p").exists()


def test_a_garbled_marker_is_ignored(tmp_path):
    sharedlogin.marker_path(tmp_path, "p").write_text('{"pid": "x", "expiresAt": 3}')
    assert sharedlogin.read_shared(tmp_path, "p", NOW) is None


def test_the_store_watcher_reports_marker_changes_for_the_profile():
    assert profile_of("work.signin") == "work"
    assert profile_of("work.json") == "work"
    assert profile_of(".work.123.tmp") is None
