"""The package's boundaries (STYLE.md): each third-party stack is imported in named places only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "tokenwarden"

#: Top-level module -> the files or folders (relative to the package) allowed to import it.
ALLOWED = {
    "pygls": ("lsp/",),
    "lsprotocol": ("lsp/",),
    "authlib": ("oauth.py", "authlib_client.py", "redaction.py", "devserver/"),
    # direct.py only borrows httpx2's SSL context, so https upstreams trust what OAuth does.
    "httpx2": ("oauth.py", "demo.py", "proxy/viahttpx.py", "proxy/direct.py"),
    # The proxy's HTTP/1.1 parser on both sides, and nowhere else.
    "h11": ("proxy/",),
}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("library", sorted(ALLOWED))
def test_library_is_imported_only_where_allowed(library: str):
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if library in imported_roots(path) and not relative.startswith(ALLOWED[library]):
            offenders.append(relative)
    assert offenders == []
