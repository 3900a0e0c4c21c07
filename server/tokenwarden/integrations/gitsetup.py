"""``tokenwarden setup git --url URL``: make git ask tokenwarden for that URL's password.

Writes two values of ``credential.<URL>.helper`` in the global git config (the file
git itself uses, ``$GIT_CONFIG_GLOBAL`` or ``~/.gitconfig``), through ``git config``
so the rest of the file is untouched: an empty one, which clears the helpers
configured before it for that URL (otherwise a ``store`` helper would write our
short-lived token to ``~/.git-credentials`` and hand it out after it expired),
then ours. For a URL with a path (one group or repository on a host) it also
turns on ``useHttpPath`` for that host (``--undo`` turns it off again), so that git
tells the helper the path and the helper can refuse the host's other repositories.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
from urllib.parse import urlsplit

from tokenwarden.errors import ConfigError
from tokenwarden.integrations.setup import profile_args, require, tokenwarden_argv

OURS = "git-credential"
#: Matches the values setup writes, and no other helper (git-credential-manager, …).
OURS_PATTERN = "tokenwarden.* git-credential( |$)"


def setup_git(args: argparse.Namespace) -> list[str]:
    """Add (or with ``--undo`` remove) the helper; the lines to print."""
    url = _checked_url(require(args.url, "--url", "git", "--url https://git.example.com"))
    key = f"credential.{url}.helper"
    helper = "!" + shlex.join([*tokenwarden_argv(), OURS, *profile_args(args.profile),
                               "--url", url])
    current = _get_all(key)
    ours_present = any(re.search(OURS_PATTERN, value) for value in current)
    if args.print_only:
        if args.undo:
            return [f"git config --global --unset-all {shlex.quote(key)}  # our values only"]
        lines = [f"git config --global --add {shlex.quote(key)} ''",
                 f"git config --global --add {shlex.quote(key)} {shlex.quote(helper)}"]
        if _path_key(url):
            lines.append(f"git config --global {shlex.quote(_path_key(url))} true")
        return lines
    if args.undo:
        if not ours_present:
            return [f"git: no tokenwarden helper for {url}; nothing to undo"]
        _git("--unset-all", key, OURS_PATTERN)
        _git("--unset-all", key, "^$")
        if _path_key(url) and _get_all(_path_key(url)):
            _git("--unset-all", _path_key(url))
        return [f"git: removed the tokenwarden credential helper for {url}"]
    if current[-2:] == ["", helper]:
        return [f"git: {url} already uses tokenwarden (profile {args.profile or 'default'})"]
    if ours_present:
        _git("--unset-all", key, OURS_PATTERN)
    if "" in current:
        _git("--unset-all", key, "^$")
    _git("--add", key, "")
    _git("--add", key, helper)
    if _path_key(url):
        # A repository prefix: git must tell the helper the path, or it cannot check it.
        _git(_path_key(url), "true")
    return [f"git: {url} now takes its password from tokenwarden "
            f"(profile {args.profile or 'default'}); undo with: tokenwarden setup git "
            f"--url {url} --undo"]


def _path_key(url: str) -> str:
    """For a URL with a path, the host's ``useHttpPath`` key; '' for a bare host.

    git matches ``credential.<url>`` without the path unless ``useHttpPath`` is on
    for the host, so it is set for the host, not for the repository URL.
    """
    parts = urlsplit(url)
    return f"credential.{parts.scheme}://{parts.netloc}.useHttpPath" \
        if parts.path.strip("/") else ""


def _checked_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"--url must be an https:// URL of a git host, not {url!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError("--url must be scheme://host[:port][/path], without user, "
                          "query or fragment")
    return url.rstrip("/")


def _get_all(key: str) -> list[str]:
    try:
        done = subprocess.run(["git", "config", "--global", "--get-all", key],
                              capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ConfigError("git is not installed (or not on PATH)") from None
    if done.returncode not in (0, 1):  # 1: the key is not set
        raise ConfigError(f"git config could not read {key}: {done.stderr.strip()}")
    return done.stdout.splitlines()


def _git(*args: str) -> None:
    try:
        done = subprocess.run(["git", "config", "--global", *args],
                              capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ConfigError("git is not installed (or not on PATH)") from None
    if done.returncode != 0:
        raise ConfigError(f"git config {' '.join(args[:2])} failed: {done.stderr.strip()}")
