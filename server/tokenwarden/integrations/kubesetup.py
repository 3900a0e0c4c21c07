"""``tokenwarden setup kubectl``: a kubeconfig user whose token comes from tokenwarden.

The user entry gets an exec credential plugin (``client.authentication.k8s.io/v1``)
that runs ``tokenwarden token --format exec-credential``. The kubeconfig is
changed with ``kubectl config`` itself (``$KUBECONFIG`` or ``~/.kube/config``), so
clusters, contexts and other users stay exactly as they were.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess

from tokenwarden.errors import ConfigError
from tokenwarden.integrations.formats import EXEC_CREDENTIAL_API
from tokenwarden.integrations.setup import profile_args, tokenwarden_argv

#: kubectl keeps the credential until its expirationTimestamp; it needs only a short margin.
MIN_VALIDITY = "30"


def setup_kubectl(args: argparse.Namespace) -> list[str]:
    """Add (or with ``--undo`` remove) the exec plugin; the lines to print."""
    user = args.user or f"tokenwarden-{args.profile or 'default'}"
    command, *prefix = tokenwarden_argv()
    plugin_args = [*prefix, "token", "--format", "exec-credential",
                   "--min-validity", MIN_VALIDITY, *profile_args(args.profile)]
    set_user = ["config", "set-credentials", user, f"--exec-command={command}",
                f"--exec-api-version={EXEC_CREDENTIAL_API}",
                "--exec-interactive-mode=Never",
                *(f"--exec-arg={arg}" for arg in plugin_args)]
    set_context = ["config", "set-context", args.context, f"--user={user}"] \
        if args.context else []
    if args.undo:
        steps = [["config", "unset", f"users.{user}"]]
    else:
        steps = [step for step in (set_user, set_context) if step]
    if args.print_only:
        return ["kubectl " + shlex.join(step) for step in steps]
    if args.undo:
        if _current_exec(user) is None:
            return [f"kubectl: user {user} has no tokenwarden plugin; nothing to undo"]
        if args.context:
            _kubectl("config", "unset", f"contexts.{args.context}.user")
    elif _current_exec(user) == _wanted_exec(command, plugin_args) and not args.context:
        return [f"kubectl: user {user} already takes its token from tokenwarden"]
    for step in steps:
        _kubectl(*step)
    if args.undo:
        return [f"kubectl: removed user {user}"]
    where = f"; context {args.context} uses it" if args.context else \
        f"; use it with: kubectl config set-context CONTEXT --user={user}"
    return [f"kubectl: user {user} now takes its token from tokenwarden{where}"]


def _wanted_exec(command: str, plugin_args: list[str]) -> dict[str, object]:
    return {"apiVersion": EXEC_CREDENTIAL_API, "command": command, "args": plugin_args}


def _current_exec(user: str) -> dict[str, object] | None:
    """The user's exec plugin if it is ours (the fields setup writes), else None."""
    view = json.loads(_kubectl("config", "view", "--raw", "-o", "json") or "{}")
    for entry in view.get("users") or []:
        if entry.get("name") == user:
            plugin = (entry.get("user") or {}).get("exec") or {}
            mine = {k: plugin.get(k) for k in ("apiVersion", "command", "args")}
            if "tokenwarden" in " ".join([str(plugin.get("command")),
                                          *map(str, plugin.get("args") or [])]):
                return mine
    return None


def _kubectl(*args: str) -> str:
    try:
        done = subprocess.run(["kubectl", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ConfigError("kubectl is not installed (or not on PATH)") from None
    if done.returncode != 0:
        raise ConfigError(f"kubectl {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout
