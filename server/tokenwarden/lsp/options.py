"""initializationOptions and ``tokenwarden`` settings: one typed, fully defaulted model.

On the wire the keys are camelCase (``profile``, ``profiles``,
``warnBeforeExpirySeconds``, ``openBrowser``); profiles inside use the snake_case
keys of config.toml. A bad value never stops the server: it is reported as an
``OptionProblem`` naming the key, and that key keeps its default.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tokenwarden.errors import ConfigError

if TYPE_CHECKING:
    from tokenwarden.config import Profile

DEFAULT_WARN_BEFORE_SECONDS = 300.0
KNOWN_KEYS = ("profile", "profiles", "warnBeforeExpirySeconds", "openBrowser")

Report = Callable[[str, str], None]


@dataclass(frozen=True)
class ServerOptions:
    """What a client can tell the server at start and in didChangeConfiguration."""

    profile: str | None = None
    """The profile used when a request names none (None: config.toml's default)."""
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    """Inline profiles, replacing or adding to config.toml's."""
    warn_before_expiry_seconds: float = DEFAULT_WARN_BEFORE_SECONDS
    open_browser: bool = True


@dataclass(frozen=True)
class OptionProblem:
    """One rejected option: where it was, which key, and why."""

    source: str
    key: str
    message: str

    def describe(self) -> str:
        """One line for window/showMessage and window/logMessage."""
        where = f"{self.source}.{self.key}" if self.key else self.source
        return f"{where}: {self.message}"


def parse_options(raw: Any, *, source: str) -> tuple[ServerOptions, list[OptionProblem]]:
    """Validate options; bad keys fall back to their defaults and are reported."""
    problems: list[OptionProblem] = []

    def problem(key: str, message: str) -> None:
        problems.append(OptionProblem(source, key, message))

    if raw is None:
        return ServerOptions(), problems
    if not isinstance(raw, Mapping):
        problem("", "must be an object; using defaults")
        return ServerOptions(), problems
    for key in sorted(set(raw) - set(KNOWN_KEYS), key=str):
        problem(str(key), f"unknown option, ignored (known: {', '.join(KNOWN_KEYS)})")
    options = ServerOptions(
        profile=_profile_name(raw.get("profile"), problem),
        profiles=_profiles(raw.get("profiles"), source, problems),
        warn_before_expiry_seconds=_warn_before(raw.get("warnBeforeExpirySeconds"), problem),
        open_browser=_open_browser(raw.get("openBrowser"), problem),
    )
    return options, problems


def merged(base: Any, override: Any) -> Any:
    """``override``'s keys over ``base``'s (settings over initializationOptions)."""
    if not isinstance(override, Mapping):
        return base
    if not isinstance(base, Mapping):
        return dict(override)
    return {**base, **override}


def _profile_name(value: Any, problem: Report) -> str | None:
    if value is None or value == "":
        return None
    from tokenwarden.config import PROFILE_NAME  # the configuration loads after initialize

    if not isinstance(value, str) or not PROFILE_NAME.match(value):
        problem("profile", "must be a profile name (letters, digits, '.', '_', '-'); "
                "using the default profile")
        return None
    return value


def _profiles(value: Any, source: str, problems: list[OptionProblem]) -> dict[str, Profile]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(OptionProblem(source, "profiles", "must be an object of profiles by "
                                      "name; ignored"))
        return {}
    from tokenwarden.config import parse_profile

    profiles: dict[str, Profile] = {}
    for name, table in value.items():
        try:
            profiles[str(name)] = parse_profile(str(name), table, file=source)
        except ConfigError as exc:
            key = f"profiles.{name}" + (f".{exc.key}" if exc.key else "")
            problems.append(OptionProblem(source, key, f"{_reason(exc)}; profile ignored"))
    return profiles


def _reason(exc: ConfigError) -> str:
    """The ConfigError's message without its "file …, profile …, key …:" prefix."""
    prefix, sep, rest = exc.message.partition(": ")
    return rest if sep and ("profile '" in prefix or "key '" in prefix) else exc.message


def _warn_before(value: Any, problem: Report) -> float:
    if value is None:
        return DEFAULT_WARN_BEFORE_SECONDS
    seconds = _finite(value)
    if seconds is None or seconds < 0:
        problem("warnBeforeExpirySeconds",
                f"must be a number of seconds ≥ 0; using {DEFAULT_WARN_BEFORE_SECONDS:.0f}")
        return DEFAULT_WARN_BEFORE_SECONDS
    return seconds


def _finite(value: Any) -> float | None:
    """A JSON number as a finite float; None for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _open_browser(value: Any, problem: Report) -> bool:
    if value is None:
        return True
    if not isinstance(value, bool):
        problem("openBrowser", "must be true or false; using true")
        return True
    return value
