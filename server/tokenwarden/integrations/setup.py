"""``tokenwarden setup TOOL [--profile P] [--print] [--undo]``: configure a consumer.

Each tool's settings are changed by the tool's own means where it has one
(``git config``, ``kubectl config``) so that everything else in those files is
kept as it was; Claude Code's JSON files are read, changed in the one key we own
and written back atomically. Running setup twice changes nothing the second time;
``--undo`` removes exactly what setup added. ``--print`` shows the change instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from tokenwarden.errors import ConfigError

TOOLS = ("claude-code", "git", "kubectl")


def add_setup_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``tokenwarden setup``."""
    parser.add_argument("tool", choices=TOOLS, help="the program to configure")
    parser.add_argument("--print", action="store_true", dest="print_only",
                        help="show the settings instead of writing them")
    parser.add_argument("--undo", action="store_true", help="remove what setup added")
    parser.add_argument("--url", metavar="URL",
                        help="git: the https URL (host or repository prefix) to use the token "
                        "for; claude-code: an HTTP MCP server to add with --mcp-name")
    parser.add_argument("--mcp-name", metavar="NAME",
                        help="claude-code: add the MCP server NAME at --url to .mcp.json with "
                        "a headersHelper")
    parser.add_argument("--user", metavar="NAME",
                        help="kubectl: kubeconfig user entry (default tokenwarden-PROFILE)")
    parser.add_argument("--context", metavar="NAME",
                        help="kubectl: also make context NAME use that user")
    parser.add_argument("--min-validity", type=float, metavar="S",
                        help="claude-code: seconds the apiKeyHelper's token must outlive "
                        "(default: the helper TTL plus a minute)")


def setup_command(args: argparse.Namespace) -> int:
    """Run ``tokenwarden setup`` from parsed options."""
    from tokenwarden.integrations import claudesetup, gitsetup, kubesetup

    runners: dict[str, Callable[[argparse.Namespace], list[str]]] = {
        "claude-code": claudesetup.setup_claude_code,
        "git": gitsetup.setup_git,
        "kubectl": kubesetup.setup_kubectl,
    }
    for line in runners[args.tool](args):
        print(line)
    return 0


def tokenwarden_argv() -> list[str]:
    """How another program should start this tokenwarden: its entry point, absolute."""
    beside = Path(sys.executable).with_name("tokenwarden")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("tokenwarden")
    if found:
        return [str(Path(found).resolve())]
    return [sys.executable, "-m", "tokenwarden"]


def profile_args(profile: str | None) -> list[str]:
    """``--profile P`` when a profile was named, so the tool keeps using that one."""
    return ["--profile", profile] if profile else []


def require(value: str | None, option: str, tool: str, example: str) -> str:
    """An option that this tool's setup cannot do without."""
    if not value:
        raise ConfigError(f"setup {tool} needs {option} (for example: {example})")
    return value
