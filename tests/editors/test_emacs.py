"""Emacs package (editors/emacs/tokenwarden.el, eglot) end to end in batch Emacs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from editor_harness import REPO, drive, editor_env

from tokenwarden.devserver import DevServer

EMACS = shutil.which("emacs")
pytestmark = pytest.mark.skipif(
    EMACS is None,
    reason="emacs not installed (apt-get install emacs-nox elpa-eglot) - Emacs package not tested",
)


def emacs_cmd() -> list[str]:
    assert EMACS is not None
    return [
        EMACS, "--batch", "-Q",
        "-L", str(REPO / "editors" / "emacs"),
        "-l", str(REPO / "tests" / "editors" / "emacs_scenario.el"),
    ]


def skip_without_eglot(r: dict[str, Any] | None) -> None:
    if r is not None and r.get("eglot_missing"):
        pytest.skip("eglot is not available (Emacs 28: apt-get install elpa-eglot)")


def test_emacs_sign_in_renewal_token_sign_out(tmp_path: Path, devserver: DevServer) -> None:
    env, work = editor_env(tmp_path, devserver)
    run = drive(emacs_cmd(), env, work, devserver, timeout=55)
    r = run.result
    skip_without_eglot(r)
    assert r is not None, run.explain()
    assert r["ok"] is True, run.explain()
    assert run.returncode == 0, run.explain()

    assert r["server_class"] == "eglot-tokenwarden", run.explain()
    assert r["managed_buffers"] == 0, run.explain()
    assert r["same_server"] is True, run.explain()
    assert r["initial_state"] == "signedOut", run.explain()
    assert run.approved and r["user_code_shape"], run.explain()
    assert r["user_code_in_kill_ring"] is True, run.explain()
    assert r["browser"], "window/showDocument did not reach the opener\n" + run.explain()
    assert r["account"] == "alice@example.test", run.explain()
    assert r["renewed"] is True, run.explain()
    assert run.token_status == 200, run.explain()
    assert r["token_checked"] == "200", run.explain()
    assert r["async_token_ok"] is True, run.explain()
    assert r["token_rejected_different"] is True, run.explain()
    assert r["refresh_state"] == "signedIn", run.explain()
    assert r["status_state"] == "signedIn", run.explain()
    assert r["message_request_answer_is_null"] is True and r["prompts"] == 1, run.explain()
    assert r["get_token_after_sign_out"] == -32001, run.explain()
    assert r["server_stopped"] is True, run.explain()

    lines = {m["label"]: m["mode_line"] for m in r["mode_lines"]}
    assert lines["started"] == "TW: signed out", run.explain()
    assert lines["signing in"].startswith("TW: signing in (code "), run.explain()
    assert lines["signed in"].startswith("TW: signed in (alice@example.test, "), run.explain()
    assert lines["signed out"] == "TW: signed out", run.explain()

    stats = devserver.stats()
    assert stats["device_code_ok"] == 1, stats
    assert stats["refresh_ok"] >= 2, stats
    assert stats["invalid_grant"] == 0, stats


def test_emacs_expiry_question_signs_in_again(tmp_path: Path,
                                             short_refresh_devserver: DevServer) -> None:
    """The server's window/showMessageRequest reaches the prompt; "Sign in" works."""
    env, work = editor_env(tmp_path, short_refresh_devserver)
    run = drive(emacs_cmd(), env, work, short_refresh_devserver, timeout=55, scenario="expiry")
    r = run.result
    skip_without_eglot(r)
    assert r is not None and r["ok"] is True, run.explain()
    assert run.returncode == 0, run.explain()
    assert "cannot be renewed" in r["prompts"][0], run.explain()
    assert len(run.approved_codes) == 2, run.explain()
    assert r["second_sign_in"] is True, run.explain()
    assert short_refresh_devserver.stats()["device_code_ok"] == 2
