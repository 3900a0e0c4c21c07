"""Issue 14 item 9: the repository's docs are complete without anything outside it.

No absolute path of any machine anywhere in the tracked tree, no citation of a
DESIGN.md that is not in the repository (docs/protocol.md is the reference), and
every relative link in the docs points at a file that exists.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve()

#: Absolute paths of somebody's machine. Built from pieces so that this file does not
#: match itself (nor any other check for such paths): the work and root folders at the
#: top of the file system, a user's home folder, the macOS and Windows user folders.
MACHINE_PATH = re.compile("|".join([
    "/" + "work/", "/" + "root/", "/" + r"home/[A-Za-z0-9._-]+/", "/" + "Users/",
    r"[Cc]:\\\\?" + "Users",
]))
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                                check=True).stdout.split(b"\0")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name.decode() for name in listed if name]


def text_of(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None  # binary
    return data.decode("utf-8", errors="replace")


def test_no_absolute_machine_path_in_the_tree():
    found = []
    for path in tracked_files():
        if path.resolve() == THIS:
            continue
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if MACHINE_PATH.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert found == []


def test_the_pattern_catches_what_it_should():
    for line in ("see /" "work/shared/x", "/" "root/.cache", "/" "home/me/.venv/bin",
                 "/" "Users/ann/src", "C:\\" "Users\\ann"):
        assert MACHINE_PATH.search(line), line
    for line in ("/tmp/x", "~/.config/tokenwarden", "/usr/bin/kubectl", "$HOME/.local"):
        assert not MACHINE_PATH.search(line), line


def test_no_design_md_outside_the_repository_is_cited():
    citing = [str(path.relative_to(ROOT)) for path in tracked_files()
              if path.resolve() != THIS and "DESIGN.md" in (text_of(path) or "")
              and not (ROOT / "DESIGN.md").exists()]
    assert citing == []


def test_relative_links_in_the_docs_resolve():
    broken = []
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
            *sorted((ROOT / "editors").rglob("*.md"))]
    for doc in docs:
        for target in MARKDOWN_LINK.findall(doc.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert broken == []
