"""What a failed command leaves: its one stderr line and the files on disk; a read-only home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import cli_env


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
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, str(home)]


def cli_under(wrap: list[str], home: Path, *args: str,
              timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``tokenwarden ARGS`` under the command prefix ``wrap`` (e.g. ``read_only``)."""
    return subprocess.run([*wrap, sys.executable, "-m", "tokenwarden", *args],
                          capture_output=True, text=True, env=cli_env(home), timeout=timeout,
                          check=False)
