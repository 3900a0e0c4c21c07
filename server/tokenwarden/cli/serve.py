"""``tokenwarden serve``: the language server on stdio.

Its own module, apart from the other commands, so that starting the server
imports nothing it does not need before answering ``initialize``.
"""

from __future__ import annotations

import argparse


def serve(args: argparse.Namespace) -> int:
    """Run the language server on stdio."""
    from tokenwarden.lsp.memory import load_framework

    load_framework()  # first, and frozen: see lsp/memory.py
    from tokenwarden.lsp.server import run_stdio

    return run_stdio()
