"""Driving the real `tokenwarden` command in a subprocess against a temporary home."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

USER_CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")


def cli_env(home: Path) -> dict[str, str]:
    """The environment of a CLI run: only the home and a plain PATH."""
    return {"TOKENWARDEN_HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def command(*args: str) -> list[str]:
    """argv of ``tokenwarden ARGS`` with this interpreter."""
    return [sys.executable, "-m", "tokenwarden", *args]


def run_cli(home: Path, *args: str, wrap: list[str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``tokenwarden ARGS`` (optionally under ``wrap``) and wait for it."""
    return subprocess.run([*(wrap or []), *command(*args)], capture_output=True, text=True,
                          env=cli_env(home), timeout=timeout, check=False)


def one_line(stderr: str) -> str:
    """The single line a failed command printed (asserting there is exactly one)."""
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {stderr!r}"
    assert "Traceback" not in stderr and "unexpected" not in stderr, stderr
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (what is left on disk)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def read_only(home: Path) -> list[str] | None:
    """A command prefix that runs its command with ``home`` mounted read-only, if possible.

    As root (where file modes do not stop writes) a private mount namespace with a
    read-only bind mount gives a real ``EROFS``; None when that is not possible.
    """
    if os.geteuid() != 0:
        return None
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return None
    script = ('mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"')
    return ["unshare", "-m", "sh", "-c", script, str(home)]
