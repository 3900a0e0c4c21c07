"""The ``store`` setting: per profile or top level, and a clear error for anything else."""

from __future__ import annotations

import pytest

from tokenwarden.config import parse_config
from tokenwarden.errors import ConfigError
from tokenwarden.secretstore import placement_for

PROFILE = {"issuer": "https://issuer.example", "client_id": "c"}


def test_the_default_is_auto_and_a_profile_overrides_the_top_level_key():
    config = parse_config({"store": "file", "profiles": {
        "a": PROFILE, "b": {**PROFILE, "store": "keyring"}}})
    assert (config.store_of("a"), config.store_of("b")) == ("file", "keyring")
    assert parse_config({"profiles": {"a": PROFILE}}).store_of("a") == "auto"
    placement = placement_for(config)
    assert placement.modes == {"b": "keyring"} and placement.default == "file"


@pytest.mark.parametrize("document", [
    {"profiles": {"a": {**PROFILE, "store": "cloud"}}},
    {"store": True, "profiles": {"a": PROFILE}},
])
def test_anything_else_is_a_config_error_naming_the_key(document):
    with pytest.raises(ConfigError) as caught:
        parse_config(document, source="config.toml")
    assert "key 'store'" in caught.value.message
    assert '"auto"' in caught.value.message and '"file"' in caught.value.message
