"""Well-known providers: one ``preset = "..."`` line fills in their endpoints and quirks.

A preset turns a few provider parameters (``tenant``, ``domain``, ``realm``,
``base_url``, ``authorization_server``) into ordinary profile keys. It only fills
keys the profile leaves out: an explicit ``issuer``, endpoint or ``scopes`` always
wins, which is also how tests point a preset at the loopback dev server.

Providers that publish a usable discovery document (Auth0, Okta, Keycloak) get an
``issuer`` only; the others get explicit endpoints so that no discovery request is
made: GitHub has no discovery document, Google's device endpoint is fixed, and a
multi-tenant Entra discovery document names the placeholder issuer
``https://login.microsoftonline.com/{tenantid}/v2.0``, which would not match.
Wire quirks (form-encoded GitHub answers, Google's ``verification_url``, ...) are
handled for every profile in ``oauth.py``; see docs/providers.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tokenwarden.config import check_url
from tokenwarden.errors import ConfigError

#: Keys a preset may take besides the ordinary profile keys.
PRESET_PARAMETERS = frozenset({"tenant", "domain", "realm", "base_url", "authorization_server"})

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")

Builder = Callable[["_Inputs"], dict[str, Any]]


@dataclass(frozen=True)
class _Inputs:
    """A profile's preset parameters, validated on access (errors name the key)."""

    profile: str
    file: str | None
    values: Mapping[str, Any]

    def url(self, key: str) -> str:
        """A base URL: ``host``, ``https://host`` or a loopback ``http://`` URL."""
        value = self.text(key)
        if "://" not in value:
            value = f"https://{value}"
        checked = check_url(value, key=key, profile=self.profile, file=self.file)
        parts = urlsplit(checked)
        if parts.query or parts.fragment:
            raise ConfigError("must be a plain base URL, without ? or #",
                              file=self.file, profile=self.profile, key=key)
        return checked.rstrip("/")

    def segment(self, key: str, pattern: re.Pattern[str] = _PATH_SEGMENT) -> str:
        """A value that becomes one path segment (tenant, realm, server id)."""
        value = self.text(key)
        if not pattern.match(value):
            raise ConfigError(
                f"'{value}' cannot be part of a URL path (letters, digits, '.', '_', '-')",
                file=self.file, profile=self.profile, key=key,
            )
        return value

    def text(self, key: str) -> str:
        """A non-empty string parameter."""
        value = self.values.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError("must be a non-empty string",
                              file=self.file, profile=self.profile, key=key)
        return value.strip()


@dataclass(frozen=True)
class Preset:
    """A provider: which parameters it takes and the profile keys it derives from them."""

    name: str
    title: str
    build: Builder
    #: Keys the profile must end up with (parameters or ordinary keys), and why.
    required: Mapping[str, str] = field(default_factory=dict)
    #: Parameter defaults, applied before ``build``.
    defaults: Mapping[str, str] = field(default_factory=dict)
    #: The parameters this preset understands (others are refused).
    parameters: frozenset[str] = frozenset()


def _github(inputs: _Inputs) -> dict[str, Any]:
    # No discovery document: every endpoint is explicit. There is no RFC 7009
    # endpoint a public client may call (the grant API needs the client secret as
    # Basic credentials), so logout forgets the tokens locally only.
    if "base_url" in inputs.values:  # GitHub Enterprise Server
        base = inputs.url("base_url")
        api = f"{base}/api/v3"
    else:
        base, api = "https://github.com", "https://api.github.com"
    return {
        "issuer": base,
        "device_authorization_endpoint": f"{base}/login/device/code",
        "token_endpoint": f"{base}/login/oauth/access_token",
        "userinfo_endpoint": f"{api}/user",
    }


def _google(inputs: _Inputs) -> dict[str, Any]:
    return {
        "issuer": "https://accounts.google.com",
        "device_authorization_endpoint": "https://oauth2.googleapis.com/device/code",
        "token_endpoint": "https://oauth2.googleapis.com/token",
        "revocation_endpoint": "https://oauth2.googleapis.com/revoke",
        "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
        "scopes": ["openid", "email"],
        # Google's device-flow guide sends client_id and client_secret in the body;
        # the explicit endpoints skip discovery, whose absence would mean Basic.
        "token_endpoint_auth_method": "client_secret_post",
    }


def _entra(inputs: _Inputs) -> dict[str, Any]:
    # Explicit endpoints: the discovery document of common/organizations/consumers
    # names a "{tenantid}" placeholder issuer that can never match. Entra has no
    # revocation endpoint.
    host = inputs.url("base_url")
    tenant = inputs.segment("tenant", _TENANT)
    authority = f"{host}/{tenant}"
    return {
        "issuer": f"{authority}/v2.0",
        "device_authorization_endpoint": f"{authority}/oauth2/v2.0/devicecode",
        "token_endpoint": f"{authority}/oauth2/v2.0/token",
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "scopes": ["openid", "profile", "offline_access"],
    }


def _auth0(inputs: _Inputs) -> dict[str, Any]:
    # Auth0's issuer is the domain with a trailing slash; discovery supplies the
    # endpoints (/oauth/device/code, /oauth/token, /oauth/revoke, /userinfo).
    return {
        "issuer": inputs.url("domain"),
        "scopes": ["openid", "profile", "email", "offline_access"],
    }


def _okta(inputs: _Inputs) -> dict[str, Any]:
    domain = inputs.url("domain")
    # "org" selects the org authorization server (issuer = the domain itself).
    if inputs.text("authorization_server") == "org":
        issuer = domain
    else:
        issuer = f"{domain}/oauth2/{inputs.segment('authorization_server')}"
    return {"issuer": issuer, "scopes": ["openid", "profile", "email", "offline_access"]}


def _keycloak(inputs: _Inputs) -> dict[str, Any]:
    # base_url includes "/auth" on Keycloak before 17 (WildFly distribution).
    return {
        "issuer": f"{inputs.url('base_url')}/realms/{inputs.segment('realm')}",
        "scopes": ["openid", "profile", "email"],
    }


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset("github", "GitHub (OAuth app or GitHub App)", _github,
               parameters=frozenset({"base_url"})),
        Preset("google", "Google", _google, required={
            "client_secret": "Google's device flow needs the client secret of the "
            "'TVs and Limited Input devices' OAuth client",
        }),
        Preset("entra", "Microsoft Entra ID", _entra,
               defaults={"tenant": "organizations",
                         "base_url": "https://login.microsoftonline.com"},
               parameters=frozenset({"tenant", "base_url"})),
        Preset("auth0", "Auth0", _auth0, required={
            "domain": "your tenant's domain, e.g. dev-abc123.us.auth0.com",
            "audience": "the identifier of the Auth0 API the tokens are for; without it "
            "Auth0 issues an opaque token that only /userinfo accepts",
        }, parameters=frozenset({"domain"})),
        Preset("okta", "Okta", _okta, required={
            "domain": "your Okta domain, e.g. dev-123456.okta.com",
        }, defaults={"authorization_server": "default"},
            parameters=frozenset({"domain", "authorization_server"})),
        Preset("keycloak", "Keycloak", _keycloak, required={
            "base_url": "the server's URL, e.g. https://sso.example.com",
            "realm": "the realm the client is registered in",
        }, parameters=frozenset({"base_url", "realm"})),
    )
}


def expand_preset(name: str, raw: Mapping[str, Any], *, file: str | None) -> Mapping[str, Any]:
    """Fill a profile's missing keys from its preset; explicit keys win."""
    preset = PRESETS.get(str(raw.get("preset")))
    if preset is None:
        known = ", ".join(sorted(PRESETS))
        raise ConfigError(f"unknown preset '{raw.get('preset')}' (known: {known})",
                          file=file, profile=name, key="preset")
    foreign = sorted(PRESET_PARAMETERS.intersection(raw) - preset.parameters)
    if foreign:
        takes = ", ".join(sorted(preset.parameters)) or "none"
        raise ConfigError(
            f"is not a parameter of preset '{preset.name}' (it takes: {takes})",
            file=file, profile=name, key=foreign[0],
        )
    values = {**preset.defaults, **raw}
    for key, why in preset.required.items():
        if values.get(key) in (None, ""):
            raise ConfigError(f"is required by preset '{preset.name}': {why}",
                              file=file, profile=name, key=key)
    merged = preset.build(_Inputs(profile=name, file=file, values=values))
    merged.update(raw)
    return {k: v for k, v in merged.items() if k not in PRESET_PARAMETERS}
