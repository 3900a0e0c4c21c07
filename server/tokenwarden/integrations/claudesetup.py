"""``tokenwarden setup claude-code``: placeholder until the Claude Code recipes land."""

from __future__ import annotations

import argparse

from tokenwarden.errors import ConfigError


def setup_claude_code(args: argparse.Namespace) -> list[str]:
    """Not written yet."""
    raise ConfigError("setup claude-code is not available yet")
