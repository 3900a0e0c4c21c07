"""config.toml parsing: clear errors naming file, profile and key."""

import pytest

from tokenwarden.config import load_config, parse_config, parse_profile
from tokenwarden.errors import ConfigError
from tokenwarden.paths import locations


def profile(**values):
    return {"issuer": "https://auth.example.com", "client_id": "cli", **values}


def test_minimal_profile_parses():
    parsed = parse_profile("work", profile(scopes=["openid", "offline_access"]))
    assert parsed.scope == "openid offline_access"


def test_plain_http_issuer_is_refused_unless_loopback():
    with pytest.raises(ConfigError, match="issuer.*plain http"):
        parse_profile("p", profile(issuer="http://auth.example.com"))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_plain_http_is_accepted_on_loopback(host):
    assert parse_profile("p", profile(issuer=f"http://{host}:8080")).issuer.startswith("http://")


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match="profile 'p', key 'clientid'"):
        parse_profile("p", profile(clientid="x"))


def test_missing_client_id_is_named():
    with pytest.raises(ConfigError, match="key 'client_id': is required"):
        parse_profile("p", {"issuer": "https://a.example"})


def test_scopes_must_be_strings():
    with pytest.raises(ConfigError, match="key 'scopes'"):
        parse_profile("p", profile(scopes=[1, 2]))


def test_unknown_profile_lists_known_ones():
    config = parse_config({"profiles": {"work": profile()}}, source="/x/config.toml")
    with pytest.raises(ConfigError, match=r"file /x/config.toml, profile 'home'.*known: work"):
        config.profile("home")


def test_invalid_toml_names_the_file(tmp_path):
    (tmp_path / "config.toml").write_text("[profiles.x\nissuer=", encoding="utf-8")
    with pytest.raises(ConfigError, match="config.toml: is not valid TOML"):
        load_config(locations({"TOKENWARDEN_HOME": str(tmp_path)}), env={})


def test_profile_environment_variable_picks_the_default(tmp_path):
    (tmp_path / "config.toml").write_text(
        '[profiles.work]\nissuer = "https://a.example"\nclient_id = "c"\n', encoding="utf-8"
    )
    config = load_config(locations({"TOKENWARDEN_HOME": str(tmp_path)}),
                         env={"TOKENWARDEN_PROFILE": "work"})
    assert config.profile().name == "work"


def test_policy_overrides_apply():
    config = parse_config({"profiles": {}, "policy": {"backoff_cap_seconds": 5}})
    assert config.renewal_policy().backoff_cap_seconds == 5


def test_bad_policy_value_is_named():
    with pytest.raises(ConfigError, match="key 'policy.backoff_cap_seconds'"):
        parse_config({"policy": {"backoff_cap_seconds": "soon"}})


@pytest.mark.parametrize("method", ["none", "client_secret_post", "client_secret_basic"])
def test_token_endpoint_auth_method_accepts_the_three_methods(method):
    raw = {"issuer": "https://idp.example", "client_id": "c"}
    if method != "none":
        raw["client_secret"] = "s"
    assert parse_profile("p", {**raw, "token_endpoint_auth_method": method}) \
        .token_endpoint_auth_method == method


@pytest.mark.parametrize(("extra", "message"), [
    ({"token_endpoint_auth_method": "private_key_jwt"}, "must be one of"),
    ({"token_endpoint_auth_method": "client_secret_basic"}, "needs a client_secret"),
    ({"token_endpoint_auth_method": "none", "client_secret": "s"}, "remove one"),
])
def test_a_token_endpoint_auth_method_that_cannot_work_is_named(extra, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse_profile("p", {"issuer": "https://idp.example", "client_id": "c", **extra})
    assert caught.value.key == "token_endpoint_auth_method"


def test_extra_may_not_send_a_parameter_twice():
    with pytest.raises(ConfigError, match="sends itself") as caught:
        parse_profile("p", {"issuer": "https://idp.example", "client_id": "c",
                            "extra": {"client_id": "other"}})
    assert caught.value.key == "extra.client_id"


def test_rejected_statuses_default_to_401_and_take_a_list_of_4xx_codes():
    base = {"issuer": "https://auth.example.com", "client_id": "c"}
    assert parse_profile("p", base).rejected_statuses == frozenset({401})
    assert parse_profile("p", {**base, "rejected_statuses": [401, 403]}).rejected_statuses == \
        frozenset({401, 403})


def test_redirect_port_defaults_to_any_free_port_and_takes_a_fixed_one():
    base = {"issuer": "https://auth.example.com", "client_id": "c"}
    assert parse_profile("p", base).redirect_port == 0
    assert parse_profile("p", {**base, "redirect_port": 8765}).redirect_port == 8765


@pytest.mark.parametrize("value", [80, 0, 65536, "8765", 8765.0, True])
def test_a_redirect_port_that_cannot_work_names_the_key_and_the_range(value):
    with pytest.raises(ConfigError) as refused:
        parse_profile("p", {"issuer": "https://auth.example.com", "client_id": "c",
                            "redirect_port": value})
    assert refused.value.key == "redirect_port"
    assert "from 1024 to 65535" in str(refused.value)
    assert "http://127.0.0.1:PORT/callback" in str(refused.value)


@pytest.mark.parametrize("value", [[], [200], ["401"], 401, [401, True], [600]])
def test_rejected_statuses_that_cannot_work_name_the_key(value):
    with pytest.raises(ConfigError, match="rejected_statuses") as refused:
        parse_profile("p", {"issuer": "https://auth.example.com", "client_id": "c",
                            "rejected_statuses": value})
    assert "4xx" in str(refused.value)
