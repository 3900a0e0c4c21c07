"""Every preset, end to end over real HTTP, against the dev server in that provider's quirks mode."""

import asyncio
from datetime import timedelta

import httpx2
import pytest

from tests.core.conftest import manager_for, sign_in
from tokenwarden.clock import SystemClock
from tokenwarden.config import parse_profile, write_profile
from tokenwarden.errors import ConfigError, SignInRequired, TerminalOAuthError
from tokenwarden.oauth import DeviceAuthorization, OAuthClient
from tokenwarden.session import ExpiryWarning
from tokenwarden.status import SessionState

GOOGLE_CLIENT, GOOGLE_SECRET = "google-device-client", "google-test-secret"
SIX_MONTHS = 15_897_600.0
EIGHT_HOURS = 28_800.0


def dev_profile(preset: str, server) -> dict:
    """A preset profile aimed at the dev server: explicit keys win over the preset's."""
    endpoints = {
        "issuer": server.issuer,
        "device_authorization_endpoint": server.url("/device_authorization"),
        "token_endpoint": server.url("/token"),
        "userinfo_endpoint": server.url("/userinfo"),
    }
    return {
        # No discovery: GitHub, Google and Entra presets carry explicit endpoints.
        "github": {"preset": "github", "client_id": "Iv1.tokenwarden", **endpoints},
        "google": {"preset": "google", "client_id": GOOGLE_CLIENT,
                   "client_secret": GOOGLE_SECRET, **endpoints,
                   "revocation_endpoint": server.url("/revoke")},
        "entra": {"preset": "entra", "client_id": "entra-app", "tenant": "organizations",
                  **endpoints},
        # Discovery: a loopback domain, or an issuer override, is all it takes.
        "auth0": {"preset": "auth0", "client_id": "auth0-app", "domain": server.issuer,
                  "audience": "https://api.example.test"},
        "okta": {"preset": "okta", "client_id": "okta-app", "domain": "dev-1.okta.com",
                 "issuer": server.issuer},
        "keycloak": {"preset": "keycloak", "client_id": "keycloak-app",
                     "base_url": "https://sso.example.com", "realm": "dev",
                     "issuer": server.issuer},
    }[preset]


@pytest.fixture
def provider(make_devserver, home):
    """Start the dev server in PRESET's quirks mode and point the default profile at it."""

    def start(preset: str, quirks: str | None = None, **settings):
        if preset == "google":
            settings.setdefault("clients", {GOOGLE_CLIENT: GOOGLE_SECRET})
        server = make_devserver(quirks=quirks or preset, **settings)
        write_profile(home / "config.toml", "default", dev_profile(preset, server))
        return server

    return start


async def wait_for_warning(manager, timeout: float = 5.0) -> ExpiryWarning:
    arrived: asyncio.Queue = asyncio.Queue()
    manager.subscribe(lambda event: arrived.put_nowait(event)
                      if isinstance(event, ExpiryWarning) else None)
    manager.watch()
    return await asyncio.wait_for(arrived.get(), timeout)


# --------------------------------------------------------- every preset, end to end

ACCOUNTS = {"github": "alice", "google": "alice@example.test", "entra": "alice@example.test",
            "auth0": "alice@example.test", "okta": "alice@example.test",
            "keycloak": "alice@example.test"}


@pytest.mark.parametrize("preset", sorted(ACCOUNTS))
async def test_each_preset_signs_in_against_its_provider_quirks(provider, home, preset):
    server = provider(preset)
    manager = manager_for(home)
    await sign_in(manager, server)
    status = manager.status()
    assert status.state is SessionState.SIGNED_IN
    assert status.account == ACCOUNTS[preset]
    assert status.refreshable
    await manager.close()


@pytest.mark.parametrize("preset", sorted(ACCOUNTS))
async def test_each_preset_renews_twice_and_every_new_token_works(provider, home, preset):
    server = provider(preset)
    manager = manager_for(home)
    await sign_in(manager, server)
    seen = {(await manager.get_token()).access_token}
    for _ in range(2):
        await manager.refresh()
        token = (await manager.get_token()).access_token
        assert token not in seen
        seen.add(token)
        assert await accepted(server, token)
    assert manager.status().state is SessionState.SIGNED_IN
    stats = server.stats()
    assert stats["invalid_grant"] == 0 and stats["reuse_detected"] == 0
    await manager.close()


async def accepted(server, token: str) -> bool:
    async with httpx2.AsyncClient(trust_env=False) as http:
        answer = await http.get(server.url("/userinfo"),
                                headers={"Authorization": f"Bearer {token}"})
    return answer.status_code == 200


PENDING_STATUS = {"github": 200, "google": 428, "entra": 400, "auth0": 403, "okta": 400,
                  "keycloak": 400}


@pytest.mark.parametrize("preset", sorted(PENDING_STATUS))
async def test_authorization_pending_is_recognised_whatever_the_http_status(provider, preset):
    server = provider(preset)
    client = OAuthClient(parse_profile("p", dev_profile(preset, server)), timeout=5)
    started = await client.device_authorize()
    with pytest.raises(TerminalOAuthError) as pending:
        await client.poll_device(started.device_code)
    assert pending.value.details.error == "authorization_pending"
    assert pending.value.details.status == PENDING_STATUS[preset]
    await client.aclose()


# ------------------------------------------------------------------------- GitHub

class WithoutJsonAccept(httpx2.AsyncBaseTransport):
    """Real HTTP, but the request no longer asks for JSON (as a naive client would)."""

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request):
        request.headers["Accept"] = "*/*"
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def github_client(server, *, transport=None) -> OAuthClient:
    profile = parse_profile("gh", dev_profile("github", server))
    return OAuthClient(profile, timeout=5, transport=transport)


async def test_github_answers_form_encoded_unless_json_is_accepted(provider):
    server = provider("github")
    form = {"client_id": "Iv1.tokenwarden"}
    async with httpx2.AsyncClient(trust_env=False) as http:
        plain = await http.post(server.url("/device_authorization"), data=form)
        json_ = await http.post(server.url("/device_authorization"), data=form,
                                headers={"Accept": "application/json"})
    assert plain.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert "device_code=" in plain.text
    assert json_.json()["verification_uri"] == server.url("/device")


async def test_github_form_encoded_answers_and_200_status_errors_are_understood(provider):
    server = provider("github")
    client = github_client(server, transport=WithoutJsonAccept())
    started = await client.device_authorize()
    with pytest.raises(TerminalOAuthError) as pending:
        await client.poll_device(started.device_code)
    assert pending.value.details.error == "authorization_pending"
    assert pending.value.details.status == 200
    server.approve(started.user_code)
    tokens = await client.poll_device(started.device_code)
    assert tokens.expires_in is not None
    assert tokens.refresh_token
    await client.aclose()


async def test_github_slow_down_carries_the_new_interval(provider):
    server = provider("github", interval=2)
    client = github_client(server)
    started = await client.device_authorize()
    with pytest.raises(TerminalOAuthError):
        await client.poll_device(started.device_code)
    async with httpx2.AsyncClient(trust_env=False) as http:
        answer = await http.post(server.url("/token"), headers={"Accept": "application/json"},
                                 data={"client_id": "Iv1.tokenwarden",
                                       "device_code": started.device_code,
                                       "grant_type": "urn:ietf:params:oauth:grant-type:device_code"})
    assert answer.status_code == 200
    assert answer.json()["error"] == "slow_down" and answer.json()["interval"] == 7
    await client.aclose()


async def test_github_oauth_app_token_without_expiry_is_valid_until_a_401(provider, home):
    server = provider("github", quirks="github-oauth-app")
    manager = manager_for(home, background=True, warn_before_seconds=400 * 86400)
    await sign_in(manager, server)
    status = manager.status()
    assert status.expires_at is None and not status.refreshable
    assert status.message == "Signed in as alice"
    token = await manager.get_token()
    with pytest.raises(asyncio.TimeoutError):
        await wait_for_warning(manager, timeout=0.5)  # no bogus "session ends soon"
    with pytest.raises(SignInRequired):
        await manager.token_rejected(None, token.access_token)
    assert manager.status().state is SessionState.EXPIRED
    await manager.close()


async def test_github_app_refresh_token_lifetime_warns_months_ahead(provider, home):
    server = provider("github", access_token_ttl=EIGHT_HOURS, refresh_token_ttl=SIX_MONTHS,
                      absolute_refresh_expiry=True)
    manager = manager_for(home, background=True, warn_before_seconds=200 * 86400)
    await sign_in(manager, server)
    warning = await wait_for_warning(manager)
    left = warning.ends_at - SystemClock().now()
    assert timedelta(days=183) < left <= timedelta(seconds=SIX_MONTHS)
    assert not warning.ended
    await manager.close()


async def test_github_app_without_a_long_warn_window_stays_quiet(provider, home):
    server = provider("github", access_token_ttl=EIGHT_HOURS, refresh_token_ttl=SIX_MONTHS)
    manager = manager_for(home, background=True, warn_before_seconds=7 * 86400)
    await sign_in(manager, server)
    assert manager.status().session_ends_at is not None
    with pytest.raises(asyncio.TimeoutError):
        await wait_for_warning(manager, timeout=0.5)
    await manager.close()


async def test_github_bad_refresh_token_ends_the_session(provider, home):
    server = provider("github")
    manager = manager_for(home)
    await sign_in(manager, server)
    server.revoke_all()
    with pytest.raises(SignInRequired):
        await manager.refresh()
    status = manager.status()
    assert status.state is SessionState.EXPIRED
    assert status.last_error is not None and status.last_error.code == "invalid_grant"
    assert "bad_refresh_token" in status.last_error.message
    await manager.close()


async def test_github_logout_does_not_call_a_revocation_endpoint(provider, home):
    server = provider("github")
    manager = manager_for(home)
    await sign_in(manager, server)
    await manager.logout()
    assert manager.status().state is SessionState.SIGNED_OUT
    assert not [e for e in server.events() if e["endpoint"] in ("revoke", "discovery")]
    await manager.close()


# ------------------------------------------------------------------------- Google

async def test_google_device_answer_uses_verification_url(provider, home):
    server = provider("google")
    manager = manager_for(home)
    started = await manager.start_login()
    assert isinstance(started, DeviceAuthorization)
    assert started.verification_uri == server.url("/device")
    await manager.cancel_login()
    await manager.close()


async def test_google_refuses_a_device_request_without_client_secret(provider):
    server = provider("google")
    raw = dev_profile("google", server)
    del raw["client_secret"], raw["preset"]
    client = OAuthClient(parse_profile("g", raw), timeout=5)
    with pytest.raises(TerminalOAuthError, match="client_secret is missing"):
        await client.device_authorize()
    await client.aclose()


async def test_google_refresh_keeps_the_same_refresh_token(provider, home):
    server = provider("google")
    manager = manager_for(home)
    await sign_in(manager, server)
    before = manager.store.read("default").refresh_token
    await manager.refresh()
    await manager.refresh()
    assert manager.store.read("default").refresh_token == before
    assert server.stats()["refresh_ok"] == 2
    await manager.close()


# -------------------------------------------------------------------------- Entra

async def test_entra_device_answer_carries_a_message(provider, home):
    provider("entra")
    manager = manager_for(home)
    started = await manager.start_login()
    assert isinstance(started, DeviceAuthorization)
    assert started.message and started.user_code in started.message
    await manager.cancel_login()
    await manager.close()


async def test_entra_authorization_declined_reads_as_access_denied(provider, home):
    server = provider("entra")
    manager = manager_for(home)
    started = await manager.start_login()
    server.deny(started.user_code)
    status = await asyncio.wait_for(manager.wait_login(), 10)
    assert status.state is SessionState.SIGNED_OUT
    assert status.last_error is not None and status.last_error.code == "access_denied"
    await manager.close()


# -------------------------------------------------------------------------- Auth0

async def test_auth0_refuses_a_device_request_without_audience(provider):
    server = provider("auth0")
    raw = dev_profile("auth0", server)
    profile = parse_profile("a", {"issuer": server.issuer, "client_id": raw["client_id"]})
    client = OAuthClient(profile, timeout=5)
    with pytest.raises(TerminalOAuthError, match="audience is required"):
        await client.device_authorize()
    await client.aclose()


async def test_auth0_reused_refresh_token_ends_the_grant(provider, home):
    server = provider("auth0")
    manager = manager_for(home)
    await sign_in(manager, server)
    stale = manager.store.read("default").refresh_token
    await manager.refresh()
    async with httpx2.AsyncClient(trust_env=False) as http:
        reuse = await http.post(server.url("/token"), data={
            "grant_type": "refresh_token", "refresh_token": stale, "client_id": "auth0-app"})
    assert reuse.status_code == 403
    assert reuse.json()["error_description"] == "Unknown or invalid refresh token."
    with pytest.raises(SignInRequired):
        await manager.refresh()
    assert manager.status().state is SessionState.EXPIRED
    assert server.stats()["reuse_detected"] == 1
    await manager.close()


# ----------------------------------------------------------------------- Keycloak

async def test_keycloak_refresh_expires_in_drives_the_session_end(provider, home):
    server = provider("keycloak", refresh_token_ttl=1800)
    manager = manager_for(home, background=True, warn_before_seconds=3600)
    await sign_in(manager, server)
    ends = manager.status().session_ends_at
    assert ends is not None
    assert timedelta(seconds=1700) < ends - SystemClock().now() <= timedelta(seconds=1800)
    warning = await wait_for_warning(manager)
    assert warning.ends_at == ends
    await manager.close()


async def test_keycloak_offline_token_has_no_session_end(provider, home):
    server = provider("keycloak")  # refresh_expires_in: 0
    manager = manager_for(home)
    await sign_in(manager, server)
    assert manager.status().session_ends_at is None
    await manager.close()


async def test_entra_multi_tenant_discovery_cannot_be_trusted_so_the_preset_skips_it(provider):
    server = provider("entra")
    client = OAuthClient(parse_profile("e", {"issuer": server.issuer, "client_id": "c"}),
                         timeout=5)
    with pytest.raises(ConfigError, match="does not match the configured issuer"):
        await client.endpoints()
    await client.aclose()


# ----------------------------------------------------------- the dev server switch

def test_devserver_quirks_flag_selects_the_provider():
    from tokenwarden.devserver.cli import build_parser, config_from_args

    config = config_from_args(build_parser().parse_args(["--quirks", "github-oauth-app"]))
    assert config.quirks == "github-oauth-app"


def test_devserver_refuses_an_unknown_quirks_mode():
    from tokenwarden.devserver.cli import build_parser, config_from_args

    with pytest.raises(ValueError, match="unknown quirks mode 'gitlab'"):
        config_from_args(build_parser().parse_args(["--quirks", "gitlab"]))
