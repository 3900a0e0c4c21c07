"""Well-known providers: one ``preset = "..."`` line fills in their endpoints and quirks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokenwarden.errors import ConfigError

#: Keys a preset may take besides the ordinary profile keys.
PRESET_PARAMETERS = frozenset({"tenant", "domain", "realm", "base_url"})

PRESETS: dict[str, dict[str, Any]] = {}


def expand_preset(name: str, raw: Mapping[str, Any], *, file: str | None) -> Mapping[str, Any]:
    """Fill a profile's missing keys from its preset."""
    preset = raw.get("preset")
    if preset not in PRESETS:
        known = ", ".join(sorted(PRESETS)) or "none yet"
        raise ConfigError(f"unknown preset '{preset}' (known: {known})",
                          file=file, profile=name, key="preset")
    merged = dict(PRESETS[str(preset)])
    merged.update(raw)
    return {k: v for k, v in merged.items() if k not in PRESET_PARAMETERS}
