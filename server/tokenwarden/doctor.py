"""``tokenwarden doctor``: find what would break a session before it breaks, with a fix for each.

Checks, per profile: configuration, discovery reachability and issuer match, the
endpoints a device sign-in needs, clock skew against the provider's ``Date``
header, store and lock health and permissions, environment overrides that change
behaviour, and the language servers that are running.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tokenwarden.config import BEHAVIOUR_ENV, Config, Profile, load_config
from tokenwarden.errors import ConfigError, OAuthError, StoreError
from tokenwarden.paths import APP_NAME, HOME_ENV, Locations, locations, unsafe_folder
from tokenwarden.store import TokenStore

MAX_SKEW_SECONDS = 30.0


@dataclass(frozen=True)
class Finding:
    """One check's outcome: ok, warn or fail, with what to do."""

    check: str
    level: str
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The finding as JSON."""
        return {"check": self.check, "level": self.level, "detail": self.detail,
                "fix": self.fix}


async def diagnose(profile_name: str | None = None) -> list[Finding]:
    """Run every check; never raises for a problem it can describe."""
    where = locations()
    findings = [*_environment(), _folders(where)]  # whatever the config says
    try:
        config = load_config(where)
        findings.extend(_config_file(where))
        profile = config.profile(profile_name)
    except ConfigError as exc:
        findings.append(Finding("config", "fail", exc.message, _config_fix(exc)))
        return findings
    findings.append(Finding("profile", "ok", f"profile '{profile.name}' → {profile.issuer}"))
    findings.extend(await _provider(profile, config))
    findings.extend(_store(where, profile.name))
    findings.append(_keyring(where, config, profile.name))
    findings.extend(_servers(where))
    return findings


def _config_fix(exc: ConfigError) -> str:
    if exc.key:
        return "fix the named key in config.toml (see README)"
    if exc.profile:
        return f"add a [profiles.{exc.profile}] table with issuer and client_id (see README)"
    if "not valid TOML" in exc.message:
        return "fix the syntax at the line and column named"
    return "create or fix config.toml (see README)"


def _environment() -> list[Finding]:
    found = [f"{name}={os.environ[name]}" for name in BEHAVIOUR_ENV if os.environ.get(name)]
    proxies = [name for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")
               if os.environ.get(name)]
    result = [Finding("environment", "ok" if not found else "warn",
                      "overrides: " + ", ".join(found) if found else "no overrides",
                      "unset them if this shell should use your normal profile" if found
                      else None)]
    if proxies:
        result.append(Finding("environment", "ok",
                              f"{', '.join(proxies)} set; tokenwarden ignores proxy variables "
                              "and talks to the provider directly"))
    return result


def _config_file(where: Locations) -> list[Finding]:
    """The file parsed (``load_config`` raised otherwise): say which one."""
    return [Finding("config", "ok", f"{where.config_file}")]


async def _provider(profile: Profile, config: Config) -> list[Finding]:
    from tokenwarden.oauth import OAuthClient

    client = OAuthClient(profile, timeout=config.renewal_policy().http_timeout_seconds)
    findings: list[Finding] = []
    try:
        endpoints = await client.endpoints()
        findings.append(Finding("discovery", "ok", f"token endpoint {endpoints.token_endpoint}"))
        if not endpoints.device_authorization_endpoint:
            findings.append(Finding("device flow", "fail", "no device_authorization_endpoint",
                                    "set device_authorization_endpoint in the profile"))
        if not endpoints.revocation_endpoint:
            findings.append(Finding("revocation", "warn", "no revocation endpoint: sign-out "
                                    "only forgets tokens locally"))
        server_now = await client.server_date()
        skew = None if server_now is None else (
            datetime.now(UTC) - server_now).total_seconds()
        if skew is None:
            findings.append(Finding("clock", "warn", "the provider sent no Date header"))
        elif abs(skew) > MAX_SKEW_SECONDS:
            findings.append(Finding("clock", "warn", f"local clock differs by {skew:+.0f} s",
                                    "enable time synchronisation (e.g. systemd-timesyncd); "
                                    "expiry uses local receipt time so renewals still work"))
        else:
            findings.append(Finding("clock", "ok", f"skew {skew:+.1f} s"))
    except ConfigError as exc:
        findings.append(Finding("discovery", "fail", exc.message, "fix the issuer URL"))
    except OAuthError as exc:
        findings.append(Finding("discovery", "fail", exc.message,
                                "check the issuer URL and your network"))
    finally:
        await client.aclose()
    return findings


def _store(where: Locations, name: str) -> list[Finding]:
    store = TokenStore(where.store_dir)
    findings: list[Finding] = []
    folder = store.folder
    if folder.exists():
        mode = stat.S_IMODE(folder.stat().st_mode)
        level = "ok" if mode & 0o077 == 0 else "fail"
        findings.append(Finding("store", level, f"{folder} mode {mode:o}",
                                None if level == "ok" else f"chmod 700 {folder}"))
    try:
        record = store.read(name)
    except StoreError as exc:
        return [*findings, Finding("store", "fail", exc.message)]
    if record is None:
        findings.append(Finding("session", "warn", "not signed in",
                                f"run: tokenwarden login --profile {name}"))
    else:
        findings.append(Finding("session", "ok", f"generation {record.generation}, "
                                f"refreshable: {bool(record.refresh_token)}"))
    findings.append(_lock(store, name))
    return findings


def _keyring(where: Locations, config: Config, name: str) -> Finding:
    """Which store holds the profile's tokens, and whether the keyring can be reached."""
    from tokenwarden.secretstore import keyring_backend

    setting = config.store_of(name)
    placed = TokenStore(where.store_dir).placed(name)
    holds = f"tokens in the {placed[0]}" if placed else "no tokens stored"
    problem = keyring_backend().unusable()
    if problem is None:
        return Finding("keyring", "ok", f"store = \"{setting}\", {holds}; the keyring is "
                       "reachable and unlocked")
    detail, _, fix = problem.partition(": ")
    needed = setting == "keyring" or (placed is not None and placed[0] == "keyring")
    return Finding("keyring", "fail" if needed else "ok",
                   f"store = \"{setting}\", {holds}; keyring not usable: {detail}",
                   fix if needed else None)


def _folders(where: Locations) -> Finding:
    """The home, store, log and runtime folders: nobody else may own or write them."""
    checked = [(where.data_dir, False), (where.store_dir, True), (where.log_dir, True),
               (where.runtime_dir, True)]
    for folder, own in checked:
        problem = unsafe_folder(folder, strict_owner=own)
        if problem is not None:
            detail, _, fix = problem.partition("; ")
            return Finding("folders", "fail", detail, fix or None)
    return Finding("folders", "ok", f"{where.data_dir} and the folders in it are yours alone")


def _lock(store: TokenStore, name: str) -> Finding:
    import filelock

    try:
        lock = store.file_lock(name)
        lock.acquire(timeout=2)
    except StoreError as exc:
        return Finding("lock", "fail", exc.message, "make the store folder writable")
    except filelock.Timeout:
        return Finding("lock", "warn", f"{store.lock_path(name)} is held by another process",
                       "a renewal is in progress; if this persists, look for a hung process")
    except OSError as exc:
        return Finding("lock", "fail", f"cannot take the lock {store.lock_path(name)}: "
                       f"{exc.strerror}", "make the store folder writable")
    lock.release()
    return Finding("lock", "ok", "lock acquired and released")


def _servers(where: Locations) -> list[Finding]:
    """The language servers of this user that use this store (other homes do not count)."""
    mine = os.getuid()
    store = where.store_dir.resolve()
    running = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if entry.stat().st_uid != mine:
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if not (any(arg.endswith(b"tokenwarden") for arg in argv[:3])
                    and b"serve" in argv):
                continue
            if _store_of(entry) == store:
                running.append(entry.name)
        except OSError:
            continue  # gone, or not ours to read
    detail = (f"language servers on this store: pid {', '.join(sorted(running, key=int))}"
              if running else "no language server running on this store")
    return [Finding("editors", "ok", detail)]


def _store_of(proc: Path) -> Path:
    """The store folder the process at ``/proc/PID`` uses, from its environment."""
    env: dict[str, str] = {}
    for item in (proc / "environ").read_bytes().split(b"\0"):
        name, sep, value = item.partition(b"=")
        if sep:
            env[os.fsdecode(name)] = os.fsdecode(value)
    cwd = Path(os.readlink(proc / "cwd"))
    home = env.get(HOME_ENV)
    if home:
        root = cwd / Path(home).expanduser()
    else:  # platformdirs on Linux: $XDG_DATA_HOME or ~/.local/share
        data = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")) / ".local" / "share")
        root = cwd / Path(data).expanduser() / APP_NAME
    return (root / "store").resolve()


def exit_code(findings: list[Finding]) -> int:
    """1 when any check failed, else 0."""
    return 1 if any(f.level == "fail" for f in findings) else 0

