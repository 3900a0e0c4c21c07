"""Preset expansion: a preset fills what the profile leaves out; errors name the key."""

import pytest

from tokenwarden.config import parse_profile
from tokenwarden.errors import ConfigError
from tokenwarden.oauth import explicit_endpoints
from tokenwarden.presets import PRESETS


def expand(**raw):
    return parse_profile("work", {"client_id": "cli", **raw}, file="/x/config.toml")


def test_there_is_a_preset_for_each_documented_provider():
    assert set(PRESETS) == {"github", "google", "entra", "auth0", "okta", "keycloak"}


def test_github_gets_built_in_endpoints_and_skips_discovery():
    profile = expand(preset="github")
    assert profile.issuer == "https://github.com"
    assert profile.device_authorization_endpoint == "https://github.com/login/device/code"
    assert profile.token_endpoint == "https://github.com/login/oauth/access_token"
    assert profile.userinfo_endpoint == "https://api.github.com/user"
    assert profile.revocation_endpoint is None
    assert explicit_endpoints(profile) is not None


def test_github_enterprise_server_uses_base_url():
    profile = expand(preset="github", base_url="ghe.example.com")
    assert profile.token_endpoint == "https://ghe.example.com/login/oauth/access_token"
    assert profile.userinfo_endpoint == "https://ghe.example.com/api/v3/user"


def test_google_gets_its_fixed_endpoints():
    profile = expand(preset="google", client_secret="s")
    assert profile.issuer == "https://accounts.google.com"
    assert profile.device_authorization_endpoint == "https://oauth2.googleapis.com/device/code"
    assert profile.token_endpoint == "https://oauth2.googleapis.com/token"
    assert profile.revocation_endpoint == "https://oauth2.googleapis.com/revoke"


def test_google_without_client_secret_names_the_key():
    with pytest.raises(ConfigError, match="profile 'work', key 'client_secret': is required "
                                          "by preset 'google'"):
        expand(preset="google")


def test_entra_defaults_to_the_organizations_tenant():
    profile = expand(preset="entra")
    assert profile.issuer == "https://login.microsoftonline.com/organizations/v2.0"
    assert profile.device_authorization_endpoint == (
        "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode")
    assert profile.token_endpoint == (
        "https://login.microsoftonline.com/organizations/oauth2/v2.0/token")
    assert "offline_access" in profile.scopes


def test_entra_tenant_is_placed_in_every_url():
    profile = expand(preset="entra", tenant="contoso.onmicrosoft.com")
    assert profile.issuer == "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
    assert "/contoso.onmicrosoft.com/oauth2/v2.0/" in profile.token_endpoint


def test_auth0_takes_domain_and_audience_and_discovers_the_rest():
    profile = expand(preset="auth0", domain="dev-abc.us.auth0.com", audience="https://api")
    assert profile.issuer == "https://dev-abc.us.auth0.com"
    assert profile.audience == "https://api"
    assert profile.token_endpoint is None


@pytest.mark.parametrize("missing", ["domain", "audience"])
def test_auth0_without_a_required_key_names_it(missing):
    raw = {"preset": "auth0", "domain": "dev-abc.us.auth0.com", "audience": "https://api"}
    del raw[missing]
    with pytest.raises(ConfigError, match=f"key '{missing}': is required by preset 'auth0'"):
        expand(**raw)


def test_okta_uses_the_default_authorization_server():
    assert expand(preset="okta", domain="dev-1.okta.com").issuer == (
        "https://dev-1.okta.com/oauth2/default")


def test_okta_org_authorization_server_is_the_domain():
    profile = expand(preset="okta", domain="dev-1.okta.com", authorization_server="org")
    assert profile.issuer == "https://dev-1.okta.com"


def test_keycloak_builds_the_realm_issuer():
    profile = expand(preset="keycloak", base_url="https://sso.example.com/", realm="dev")
    assert profile.issuer == "https://sso.example.com/realms/dev"


def test_keycloak_without_realm_names_the_key():
    with pytest.raises(ConfigError, match="key 'realm': is required by preset 'keycloak'"):
        expand(preset="keycloak", base_url="https://sso.example.com")


def test_explicit_keys_win_over_the_preset():
    profile = expand(preset="github", issuer="http://127.0.0.1:9999",
                     token_endpoint="http://127.0.0.1:9999/token", scopes=["repo"])
    assert profile.issuer == "http://127.0.0.1:9999"
    assert profile.token_endpoint == "http://127.0.0.1:9999/token"
    assert profile.device_authorization_endpoint == "https://github.com/login/device/code"
    assert profile.scopes == ("repo",)


def test_a_loopback_domain_points_a_preset_at_a_local_server():
    profile = expand(preset="auth0", domain="http://127.0.0.1:8080", audience="a")
    assert profile.issuer == "http://127.0.0.1:8080"


def test_plain_http_domain_off_loopback_is_refused():
    with pytest.raises(ConfigError, match="key 'domain': plain http://"):
        expand(preset="okta", domain="http://okta.example.com")


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ConfigError, match="key 'preset': unknown preset 'gitlab' "
                                          r"\(known: auth0, entra, github, google"):
        expand(preset="gitlab")


def test_a_parameter_of_another_preset_is_refused():
    with pytest.raises(ConfigError, match="key 'realm': is not a parameter of preset 'github'"):
        expand(preset="github", realm="dev")


def test_a_tenant_that_would_break_the_url_is_refused():
    with pytest.raises(ConfigError, match="key 'tenant'"):
        expand(preset="entra", tenant="a/../b")


def test_preset_parameters_do_not_reach_the_profile():
    profile = expand(preset="keycloak", base_url="https://sso.example.com", realm="dev")
    assert profile.preset == "keycloak"
    assert not hasattr(profile, "realm")
