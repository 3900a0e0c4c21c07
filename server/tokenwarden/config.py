"""Profiles: which provider to sign in to, and how. Read from ``config.toml``.

A profile names an issuer and a client. The same snake_case keys are accepted in
``config.toml`` (``[profiles.NAME]``) and in the LSP ``initializationOptions``
(``profiles: {NAME: {...}}``). Every problem is reported as one ``ConfigError``
naming the file, the profile and the key, and what to do about it.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tokenwarden.errors import ConfigError
from tokenwarden.paths import Locations, locations
from tokenwarden.policy import RenewalPolicy

PROFILE_ENV = "TOKENWARDEN_PROFILE"
#: Environment variables that change where tokenwarden looks or how it behaves.
BEHAVIOUR_ENV = ("TOKENWARDEN_HOME", PROFILE_ENV, "TOKENWARDEN_LOG")
DEFAULT_PROFILE = "default"
#: How a profile signs in (docs/signin.md).
FLOWS = ("auto", "browser", "device")
PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ENDPOINT_KEYS = (
    "authorization_endpoint",
    "device_authorization_endpoint",
    "token_endpoint",
    "revocation_endpoint",
    "userinfo_endpoint",
)
#: How the client authenticates at the token, revocation and device endpoints.
CLIENT_AUTH_METHODS = ("none", "client_secret_post", "client_secret_basic")


@dataclass(frozen=True)
class Profile:
    """One provider + client pair that tokenwarden keeps a session for."""

    name: str
    issuer: str
    client_id: str
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    client_secret: str | None = None
    preset: str | None = None
    flow: str = "auto"
    authorization_endpoint: str | None = None
    device_authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    revocation_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    #: ``none`` | ``client_secret_post`` | ``client_secret_basic``; None: decided from
    #: the secret and the discovery document (``oauth.client_auth_method``).
    token_endpoint_auth_method: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    #: Upstream statuses that mean "this token was refused" to the proxy and ``exec``.
    rejected_statuses: frozenset[int] = frozenset({401})
    #: "auto" | "keyring" | "file"; None: the config's top-level ``store``.
    store: str | None = None
    #: The browser sign-in's loopback port, for providers that match redirect URIs
    #: exactly (``http://127.0.0.1:PORT/callback``); 0: any free port (RFC 8252 7.3).
    redirect_port: int = 0

    @property
    def scope(self) -> str:
        """Scopes as the space-separated string OAuth sends."""
        return " ".join(self.scopes)


@dataclass(frozen=True)
class PolicySettings:
    """Optional ``[policy]`` overrides of renewal timing (seconds)."""

    advisory_seconds: float | None = None
    mandatory_seconds: float | None = None
    backoff_cap_seconds: float | None = None
    http_timeout_seconds: float | None = None
    max_sleep_seconds: float | None = None


@dataclass(frozen=True)
class Config:
    """Everything read from config.toml, plus where it came from."""

    profiles: Mapping[str, Profile]
    default_profile: str = DEFAULT_PROFILE
    policy: PolicySettings = PolicySettings()
    source: str | None = None
    #: ``source`` names a config.toml that does not exist (yet).
    file_missing: bool = False
    #: Top-level ``store``: where a profile without its own ``store`` keeps its tokens.
    store: str = "auto"

    def store_of(self, profile: str) -> str:
        """The ``store`` setting that applies to a profile."""
        found = self.profiles.get(profile)
        return (found.store if found is not None and found.store else None) or self.store

    def profile(self, name: str | None = None) -> Profile:
        """The named profile, or the default one; ConfigError when it does not exist."""
        wanted = name or self.default_profile
        found = self.profiles.get(wanted)
        if found is None and self.file_missing and not self.profiles:
            raise ConfigError(f"no config file at {self.source}: create it (see README)")
        if found is None:
            known = ", ".join(sorted(self.profiles)) or "none"
            where = self.source or "config.toml"
            raise ConfigError(
                f"no such profile (known: {known}). Add a [profiles.{wanted}] table with "
                "issuer and client_id, or pick another profile.",
                file=where, profile=wanted,
            )
        return found

    def renewal_policy(self) -> RenewalPolicy:
        """The default renewal policy with this file's ``[policy]`` overrides."""
        overrides = {k: v for k, v in vars(self.policy).items() if v is not None}
        return replace(RenewalPolicy(), **overrides)

    def with_profiles(self, extra: Mapping[str, Profile]) -> Config:
        """A copy where ``extra`` profiles replace or add to the file's."""
        return replace(self, profiles={**self.profiles, **extra})


def is_loopback(host: str | None) -> bool:
    """True for localhost and loopback addresses."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(value: object, *, key: str, profile: str, file: str | None) -> str:
    """An https URL, or http on a loopback host; ConfigError otherwise."""
    if not isinstance(value, str) or not value:
        raise ConfigError("must be a URL string", file=file, profile=profile, key=key)
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value.rstrip("/") if key == "issuer" else value
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return value.rstrip("/") if key == "issuer" else value
    if parts.scheme == "http":
        raise ConfigError(
            f"plain http:// is refused for non-loopback host '{parts.hostname}': tokens would "
            "cross the network unencrypted. Use https://.",
            file=file, profile=profile, key=key,
        )
    raise ConfigError(
        f"'{value}' is not an http(s) URL", file=file, profile=profile, key=key
    )


def _text(value: object, *, key: str, profile: str, file: str | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("must be a non-empty string", file=file, profile=profile, key=key)
    return value


def _scopes(value: object, *, profile: str, file: str | None) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ConfigError(
        'must be a list of strings, e.g. scopes = ["openid", "offline_access"]',
        file=file, profile=profile, key="scopes",
    )


def _rejected_statuses(value: object, *, profile: str, file: str | None) -> frozenset[int]:
    if (isinstance(value, list) and value
            and all(type(item) is int and 400 <= item <= 499 for item in value)):
        return frozenset(value)
    raise ConfigError(
        "must be a non-empty list of 4xx status codes, e.g. rejected_statuses = [401, 403]",
        file=file, profile=profile, key="rejected_statuses",
    )


PROFILE_KEYS = frozenset(
    {"issuer", "client_id", "scopes", "audience", "client_secret", "preset", "extra",
     "token_endpoint_auth_method", "rejected_statuses", "flow", "store", "redirect_port"}
    | set(ENDPOINT_KEYS)
)
#: Parameters tokenwarden sends itself: an ``extra`` entry may not send them a second time.
RESERVED_PARAMETERS = frozenset({
    "client_id", "client_secret", "grant_type", "device_code", "refresh_token", "scope",
    "token", "token_type_hint", "client_assertion", "client_assertion_type",
    # the authorization code request and its exchange (browser sign-in)
    "response_type", "redirect_uri", "state", "code", "code_verifier", "code_challenge",
    "code_challenge_method",
})


def parse_profile(name: str, raw: object, *, file: str | None = None) -> Profile:
    """Validate one profile table into a ``Profile``."""
    if not PROFILE_NAME.match(name):
        raise ConfigError(
            "profile names use letters, digits, '.', '_' and '-' (at most 64)",
            file=file, profile=name,
        )
    if not isinstance(raw, Mapping):
        raise ConfigError("must be a table of keys", file=file, profile=name)
    raw = _apply_preset(name, raw, file=file)
    unknown = sorted(set(raw) - PROFILE_KEYS - _preset_keys())
    if unknown:
        raise ConfigError(
            f"unknown key (known keys: {', '.join(sorted(PROFILE_KEYS))})",
            file=file, profile=name, key=unknown[0],
        )
    for required in ("issuer", "client_id"):
        if required not in raw:
            raise ConfigError("is required", file=file, profile=name, key=required)
    values: dict[str, Any] = {
        "name": name,
        "issuer": check_url(raw["issuer"], key="issuer", profile=name, file=file),
        "client_id": _text(raw["client_id"], key="client_id", profile=name, file=file),
        "scopes": _scopes(raw.get("scopes", []), profile=name, file=file),
    }
    for key in ("audience", "client_secret", "preset"):
        if raw.get(key) is not None:
            values[key] = _text(raw[key], key=key, profile=name, file=file)
    for key in ENDPOINT_KEYS:
        if raw.get(key) is not None:
            values[key] = check_url(raw[key], key=key, profile=name, file=file)
    if raw.get("flow") is not None:
        values["flow"] = parse_flow(raw["flow"], profile=name, file=file)
    values["token_endpoint_auth_method"] = _auth_method(raw, profile=name, file=file)
    values["extra"] = _extra(raw.get("extra", {}), profile=name, file=file)
    if "rejected_statuses" in raw:
        values["rejected_statuses"] = _rejected_statuses(raw["rejected_statuses"], profile=name,
                                                         file=file)
    if "store" in raw:
        values["store"] = _store(raw["store"], file=file, profile=name, key="store")
    if raw.get("redirect_port") is not None:
        values["redirect_port"] = _redirect_port(raw["redirect_port"], profile=name, file=file)
    return Profile(**values)


def _redirect_port(value: object, *, profile: str, file: str | None) -> int:
    if type(value) is int and 1024 <= value <= 65535:
        return value
    raise ConfigError(
        "must be a port number from 1024 to 65535: the browser sign-in then waits on "
        "http://127.0.0.1:PORT/callback, the redirect URI registered with the provider. "
        "Leave it out to use any free port",
        file=file, profile=profile, key="redirect_port",
    )


def _auth_method(raw: Mapping[str, Any], *, profile: str, file: str | None) -> str | None:
    method = raw.get("token_endpoint_auth_method")
    if method is None:
        return None
    key = "token_endpoint_auth_method"
    if method not in CLIENT_AUTH_METHODS:
        raise ConfigError(f"must be one of {', '.join(CLIENT_AUTH_METHODS)}",
                          file=file, profile=profile, key=key)
    has_secret = raw.get("client_secret") is not None
    if method != "none" and not has_secret:
        raise ConfigError(f"'{method}' needs a client_secret: set client_secret, or use "
                          "'none' for a public client", file=file, profile=profile, key=key)
    if method == "none" and has_secret:
        raise ConfigError("'none' sends no client secret, but client_secret is set: remove "
                          "one of the two", file=file, profile=profile, key=key)
    return str(method)


def _extra(extra: object, *, profile: str, file: str | None) -> dict[str, str]:
    if not isinstance(extra, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in extra.items()
    ):
        raise ConfigError("must be a table of strings", file=file, profile=profile, key="extra")
    # RFC 6749 §3.1: a parameter must not appear twice in one request.
    clash = sorted(RESERVED_PARAMETERS.intersection(extra))
    if clash:
        raise ConfigError(
            f"'{clash[0]}' is a parameter tokenwarden sends itself; use the profile's own "
            "key for it (client_id, client_secret, scopes) or remove it from extra",
            file=file, profile=profile, key=f"extra.{clash[0]}",
        )
    return dict(extra)


def parse_flow(value: object, *, profile: str, file: str | None) -> str:
    """``flow``: one of ``FLOWS``; ConfigError otherwise."""
    if value not in FLOWS:
        raise ConfigError(
            f"must be one of {', '.join(repr(f) for f in FLOWS)} (\"auto\" picks the browser "
            "on a desktop and a device code elsewhere)", file=file, profile=profile, key="flow",
        )
    return str(value)


STORE_CHOICES = ("auto", "keyring", "file")


def _store(value: object, *, file: str | None, profile: str | None, key: str) -> str:
    if value not in STORE_CHOICES:
        raise ConfigError('must be "auto" (the keyring when usable, else the file), '
                          '"keyring" or "file"', file=file, profile=profile, key=key)
    return str(value)


def _preset_keys() -> frozenset[str]:
    from tokenwarden.presets import PRESET_PARAMETERS

    return PRESET_PARAMETERS


def _apply_preset(name: str, raw: Mapping[str, Any], *, file: str | None) -> Mapping[str, Any]:
    if "preset" not in raw:
        return raw
    from tokenwarden.presets import expand_preset

    return expand_preset(name, raw, file=file)


def parse_policy(raw: object, *, file: str | None) -> PolicySettings:
    """Validate the optional ``[policy]`` table."""
    if raw is None:
        return PolicySettings()
    if not isinstance(raw, Mapping):
        raise ConfigError("[policy] must be a table", file=file, key="policy")
    known = {f.name for f in fields(PolicySettings)}
    values: dict[str, float] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(
                f"unknown policy key (known: {', '.join(sorted(known))})",
                file=file, key=f"policy.{key}",
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(
                "must be a number of seconds ≥ 0", file=file, key=f"policy.{key}"
            )
        values[key] = float(value)
    return PolicySettings(**values)


def parse_config(data: Mapping[str, Any], *, source: str | None = None) -> Config:
    """Validate a parsed config document."""
    unknown = sorted(set(data) - {"profiles", "default_profile", "policy", "store"})
    if unknown:
        raise ConfigError(
            "unknown top-level key (known: default_profile, profiles, policy, store)",
            file=source, key=unknown[0],
        )
    raw_profiles = data.get("profiles", {})
    if not isinstance(raw_profiles, Mapping):
        raise ConfigError("must be a table of profiles", file=source, key="profiles")
    profiles = {
        name: parse_profile(name, raw, file=source) for name, raw in raw_profiles.items()
    }
    default = data.get("default_profile", DEFAULT_PROFILE)
    if not isinstance(default, str):
        raise ConfigError("must be a profile name", file=source, key="default_profile")
    return Config(
        profiles=profiles,
        default_profile=default,
        policy=parse_policy(data.get("policy"), file=source),
        source=source,
        store=_store(data.get("store", "auto"), file=source, profile=None, key="store"),
    )


def load_config(
    where: Locations | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """Read config.toml (a missing file is an empty config) and apply $TOKENWARDEN_PROFILE."""
    where = where or locations()
    environ = os.environ if env is None else env
    path = where.config_file
    config = Config(profiles={}, source=str(path), file_missing=not path.exists())
    if not config.file_missing:
        config = parse_config(_read_toml(path), source=str(path))
    override = environ.get(PROFILE_ENV)
    if override:
        config = replace(config, default_profile=override)
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_problem(exc), file=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot be read: {exc.strerror}", file=str(path)) from None


def _toml_problem(exc: tomllib.TOMLDecodeError) -> str:
    """'is not valid TOML at line 3, column 9: Expected ...' (tomllib puts the place last)."""
    text = str(exc)
    place = re.search(r" \(at line (\d+), column (\d+)\)$", text)
    if place is None:
        return f"is not valid TOML: {text}"
    return (f"is not valid TOML at line {place.group(1)}, column {place.group(2)}: "
            f"{text[:place.start()]}")


def write_profile(path: Path, name: str, values: Mapping[str, Any]) -> None:
    """Add or replace one ``[profiles.NAME]`` table (used by the demo and tests)."""
    existing: dict[str, Any] = _read_toml(path) if path.exists() else {}
    existing.setdefault("profiles", {})[name] = dict(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_dump_toml(existing), encoding="utf-8")


def _dump_toml(data: Mapping[str, Any]) -> str:
    lines: list[str] = []
    for key, value in data.items():
        if not isinstance(value, Mapping):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines.extend(_dump_table([key], value))
    return "\n".join(lines) + "\n"


def _dump_table(path: list[str], table: Mapping[str, Any]) -> list[str]:
    scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    lines = [f"\n[{'.'.join(path)}]"] if scalars or not tables else []
    lines.extend(f"{k} = {_toml_value(v)}" for k, v in scalars.items())
    for key, sub in tables.items():
        lines.extend(_dump_table([*path, key], sub))
    return lines


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
