"""``tokenwarden setup claude-code``: Claude Code's ``apiKeyHelper`` and MCP ``headersHelper``.

Claude Code runs ``apiKeyHelper`` for its API key and caches the answer for
``CLAUDE_CODE_API_KEY_HELPER_TTL_MS`` (default 5 minutes), after which it keeps
sending the cached key while it runs the helper again in the background. The
helper must therefore hand out tokens that outlive that TTL: ``--min-validity``
defaults to the TTL plus a minute. With ``--mcp-name NAME --url URL`` setup adds
an HTTP MCP server to the project's ``.mcp.json`` whose ``headersHelper`` prints
``{"Authorization": "Bearer …"}``.

Only the one key setup owns is changed; the file is rewritten atomically and an
entry that someone else wrote is never replaced.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tokenwarden.errors import ConfigError
from tokenwarden.integrations.setup import profile_args, tokenwarden_argv

HELPER_TTL_ENV = "CLAUDE_CODE_API_KEY_HELPER_TTL_MS"
DEFAULT_HELPER_TTL_SECONDS = 300.0
TTL_MARGIN_SECONDS = 60.0


def setup_claude_code(args: argparse.Namespace) -> list[str]:
    """Add (or undo, or print) the apiKeyHelper, or an MCP server with --mcp-name."""
    if args.mcp_name or args.url:
        if not (args.mcp_name and args.url):
            raise ConfigError("setup claude-code: --mcp-name and --url go together (for "
                              "example: --mcp-name tools --url https://mcp.example.com/mcp)")
        return _mcp_server(args)
    return _api_key_helper(args)


def settings_path(env: dict[str, str] | None = None) -> Path:
    """Claude Code's user settings: ``$CLAUDE_CONFIG_DIR/settings.json`` or ``~/.claude``."""
    env = dict(os.environ) if env is None else env
    folder = env.get("CLAUDE_CONFIG_DIR") or str(Path.home() / ".claude")
    return Path(folder) / "settings.json"


def helper_min_validity(env: dict[str, str] | None = None) -> float:
    """Seconds a helper's token must stay valid: Claude Code's helper TTL plus a minute."""
    env = dict(os.environ) if env is None else env
    raw = env.get(HELPER_TTL_ENV, "")
    try:
        ttl = float(raw) / 1000 if raw else DEFAULT_HELPER_TTL_SECONDS
    except ValueError:
        raise ConfigError(f"${HELPER_TTL_ENV} must be milliseconds, not {raw!r}") from None
    return ttl + TTL_MARGIN_SECONDS


def api_key_helper(profile: str | None, min_validity: float) -> str:
    """The shell command Claude Code runs for its key."""
    return shlex.join([*tokenwarden_argv(), "token", "--min-validity", f"{min_validity:g}",
                       *profile_args(profile)])


def headers_helper(profile: str | None) -> str:
    """The shell command Claude Code runs for an MCP server's headers."""
    return shlex.join([*tokenwarden_argv(), "token", "--format", "header-json",
                       *profile_args(profile)])


def _api_key_helper(args: argparse.Namespace) -> list[str]:
    path = settings_path()
    min_validity = args.min_validity if args.min_validity is not None else helper_min_validity()
    command = api_key_helper(args.profile, min_validity)
    if args.print_only:
        shown = {} if args.undo else {"apiKeyHelper": command}
        return [f"# {path}", json.dumps(shown, indent=2)]
    settings = read_json(path)
    current = settings.get("apiKeyHelper")
    if args.undo:
        if not _ours(current):
            return [f"claude-code: {path} has no tokenwarden apiKeyHelper; nothing to undo"]
        del settings["apiKeyHelper"]
        write_json(path, settings)
        return [f"claude-code: removed the apiKeyHelper from {path}"]
    if current == command:
        return [f"claude-code: {path} already takes its key from tokenwarden"]
    if current is not None and not _ours(current):
        raise ConfigError(f"{path} already has an apiKeyHelper that is not tokenwarden's; "
                          "remove that key first, then run setup again")
    settings["apiKeyHelper"] = command
    write_json(path, settings)
    return [f"claude-code: {path}: apiKeyHelper runs tokenwarden token (tokens valid "
            f"{min_validity:g} s, beyond Claude Code's helper TTL); undo with: tokenwarden "
            "setup claude-code --undo"]


def _mcp_server(args: argparse.Namespace) -> list[str]:
    parts = urlsplit(args.url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"--url must be the http(s) URL of an MCP server, not {args.url!r}")
    path = Path.cwd() / ".mcp.json"
    entry = {"type": "http", "url": args.url, "headersHelper": headers_helper(args.profile)}
    if args.print_only:
        shown = {} if args.undo else {"mcpServers": {args.mcp_name: entry}}
        return [f"# {path}", json.dumps(shown, indent=2)]
    config = read_json(path)
    servers = config.setdefault("mcpServers", {})
    if not isinstance(servers, dict):
        raise ConfigError(f"{path}: mcpServers must be an object")
    current = servers.get(args.mcp_name)
    ours = isinstance(current, dict) and _ours(current.get("headersHelper"))
    if args.undo:
        if not ours:
            return [f"claude-code: {path} has no tokenwarden server {args.mcp_name}; "
                    "nothing to undo"]
        del servers[args.mcp_name]
        write_json(path, config)
        return [f"claude-code: removed MCP server {args.mcp_name} from {path}"]
    if current == entry:
        return [f"claude-code: MCP server {args.mcp_name} in {path} already uses tokenwarden"]
    if current is not None and not ours:
        raise ConfigError(f"{path} already has an MCP server named {args.mcp_name!r}; "
                          "choose another --mcp-name or remove that entry first")
    servers[args.mcp_name] = entry
    write_json(path, config)
    return [f"claude-code: {path}: MCP server {args.mcp_name} ({args.url}) gets its "
            "Authorization header from tokenwarden"]


def _ours(command: object) -> bool:
    return isinstance(command, str) and "tokenwarden" in command and " token" in command


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object file, {} when it does not exist; a clear error when it is not JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}); fix it "
                          "and run setup again, nothing was changed") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object; nothing was changed")
    return data


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` atomically, keeping its permissions (0600 for a new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=2) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
