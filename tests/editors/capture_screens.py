"""Terminal captures of the Neovim and Emacs integrations for docs/editors.md.

Not a test (pytest does not collect it): runs each editor in a real terminal
(a private tmux server), signs in against an in-process dev server, approves
the code it reads off the screen, and prints the screens as text.

    .venv/bin/python tests/editors/capture_screens.py [--ttl 3600]

Needs tmux, nvim, emacs (+ elpa-eglot on Emacs 28).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from editor_harness import REPO, server_bin, write_config

from tokenwarden.devserver import DevServer, DevServerConfig

CODE = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")
SOCKET = "tokenwarden-capture"

NVIM_INIT = """
vim.o.laststatus = 2
vim.o.shortmess = vim.o.shortmess .. 'I'
vim.o.statusline = [[ %f %m%=%{v:lua.require'tokenwarden'.statusline()} ]]
require('tokenwarden').setup({ cmd = { '{bin}', 'serve' }, profile = 'default',
  open_browser = false })
"""

EMACS_INIT = """
(unless (locate-library "eglot")
  (require 'package)
  (setq package-directory-list '("/usr/share/emacs/site-lisp/elpa"))
  (package-initialize))
(require 'tokenwarden)
(setq inhibit-startup-screen t
      tokenwarden-command '("{bin}" "serve")
      tokenwarden-profile "default"
      tokenwarden-open-browser nil)
(tokenwarden-mode 1)
(run-with-timer 1 1 #'force-mode-line-update t)
"""


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], check=True, capture_output=True,
                          text=True).stdout


def screen() -> str:
    return "\n".join(line.rstrip() for line in tmux("capture-pane", "-p", "-t", "cap").splitlines())


def wait_for(pattern: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen()
        if re.search(pattern, text):
            return text
        time.sleep(0.2)
    raise TimeoutError(f"{pattern!r} not on screen:\n{text}")


def run_editor(command: str, sign_in_keys: list[list[str]], sign_out_keys: list[list[str]],
               server: DevServer, env: dict[str, str], cwd: Path) -> list[tuple[str, str]]:
    shots: list[tuple[str, str]] = []
    env_args = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    tmux("new-session", "-d", "-s", "cap", "-x", "100", "-y", "8", "-c", str(cwd), *env_args,
         command)
    try:
        shots.append(("started", wait_for(r"TW: signed out")))
        for keys in sign_in_keys:
            tmux("send-keys", "-t", "cap", *keys)
            time.sleep(0.3)
        text = wait_for(r"TW: signing in \(code ")
        shots.append(("signing in", text))
        match = CODE.search(text)
        assert match, text
        server.approve(match.group(1))
        shots.append(("signed in", wait_for(r"TW: signed in \(")))
        for keys in sign_out_keys:
            tmux("send-keys", "-t", "cap", *keys)
            time.sleep(0.3)
        shots.append(("signed out", wait_for(r"TW: signed out")))
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], check=False, capture_output=True)
    return shots


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ttl", type=float, default=3600)
    args = parser.parse_args()
    for tool in ("tmux", "nvim", "emacs"):
        if not shutil.which(tool):
            print(f"{tool} not installed", file=sys.stderr)
            return 2
    bin_path = server_bin()
    with tempfile.TemporaryDirectory() as tmp, DevServer(
        DevServerConfig(access_token_ttl=args.ttl, interval=0)
    ) as server:
        base = Path(tmp)
        env = {"TERM": "xterm-256color", "HOME": str(base), "XDG_CONFIG_HOME": str(base / "c"),
               "XDG_STATE_HOME": str(base / "s"), "XDG_DATA_HOME": str(base / "d"),
               "XDG_CACHE_HOME": str(base / "k")}
        results = {}
        for name in ("nvim", "emacs"):
            home = base / f"tw-{name}"
            write_config(home, server.issuer)
            run_env = {**env, "TOKENWARDEN_HOME": str(home)}
            if name == "nvim":
                init = base / "init.lua"
                init.write_text(NVIM_INIT.replace("{bin}", bin_path))
                command = (f"nvim -u {init} -i NONE -n --cmd 'set rtp^={REPO}/editors/nvim' "
                           "notes.md")
                sign_in = [[":TokenwardenSignIn", "Enter"]]
                sign_out = [[":TokenwardenSignOut", "Enter"]]
            else:
                init = base / "init.el"
                init.write_text(EMACS_INIT.replace("{bin}", bin_path))
                command = f"emacs -nw -Q -L {REPO}/editors/emacs -l {init} notes.md"
                sign_in = [["M-x"], ["tokenwarden-sign-in", "Enter"]]
                sign_out = [["M-x"], ["tokenwarden-sign-out", "Enter"]]
            results[name] = run_editor(command, sign_in, sign_out, server, run_env, base)
    for name, shots in results.items():
        for label, text in shots:
            print(f"----- {name}: {label}")
            print(text.rstrip("\n"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
