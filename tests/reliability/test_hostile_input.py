"""Hostile input: random config, store files and provider answers give classified errors,
never a crash and never a changed store (10,000+ generated cases in all)."""

import asyncio
import json
import tempfile
from pathlib import Path

import httpx2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokenwarden.config import load_config, parse_config, parse_profile
from tokenwarden.errors import ConfigError, OAuthError, StoreError
from tokenwarden.oauth import (
    OAuthClient,
    TokenResponse,
    parse_device_authorization,
    parse_token_response,
)
from tokenwarden.paths import locations
from tokenwarden.store import TokenStore


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(
    max_size=30)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(max_size=12), inner, max_size=4), max_leaves=5)
profile_keys = st.sampled_from(["issuer", "client_id", "scopes", "audience", "client_secret",
                                "token_endpoint", "preset", "extra", "bogus", "tenant"])
profile_tables = st.dictionaries(profile_keys, json_values | st.sampled_from(
    ["https://a.example", "http://127.0.0.1:1", "http://evil.example", "ftp://x"]), max_size=6)
token_keys = st.sampled_from(["access_token", "token_type", "expires_in", "refresh_token",
                              "scope", "refresh_in", "refresh_token_expires_in", "id_token",
                              "error", "error_description", "device_code", "user_code",
                              "verification_uri", "verification_url", "interval"])
token_objects = st.dictionaries(token_keys, json_values | st.text(min_size=1, max_size=20),
                                max_size=8)


@fuzz(2500)
@given(st.dictionaries(st.sampled_from(["profiles", "default_profile", "policy", "x"]),
                       json_values | st.dictionaries(st.text(max_size=8), profile_tables,
                                                     max_size=3), max_size=3))
def test_random_config_documents_give_config_errors_only(document):
    try:
        parse_config(document, source="fuzz.toml")
    except ConfigError as exc:
        assert exc.message


@fuzz(1500)
@given(st.text(max_size=200))
def test_random_config_files_give_config_errors_only(text):
    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "config.toml").write_text(text, encoding="utf-8")
        try:
            load_config(locations({"TOKENWARDEN_HOME": home}), env={})
        except ConfigError as exc:
            assert "config.toml" in exc.message


@fuzz(2500)
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()) |
       token_objects.map(lambda v: json.dumps({"version": 1, "profile": "default",
                                                "issuer": "https://a", **v}).encode()))
def test_random_store_files_give_store_errors_and_stay_untouched(payload):
    with tempfile.TemporaryDirectory() as folder:
        store = TokenStore(Path(folder))
        store.path("default").write_bytes(payload)
        try:
            store.read("default")
        except StoreError as exc:
            assert "default.json" in exc.message
        assert store.path("default").read_bytes() == payload


@fuzz(1500)
@given(token_objects)
def test_random_token_and_device_answers_are_parsed_or_refused(data):
    for parse in (parse_token_response, parse_device_authorization):
        try:
            parse(data, None)
        except OAuthError as exc:
            # A token that could split a header, or a URI that is no web page, is the
            # provider's final answer (issue 13.7/13.8); anything else malformed is retried.
            assert exc.retryable or exc.details.error in REFUSED_CONTENT


REFUSED_CONTENT = {"invalid_token_response", "invalid_verification_uri"}
PROFILE = parse_profile("fuzz", {"issuer": "https://auth.example", "client_id": "c",
                                 "token_endpoint": "https://auth.example/token",
                                 "device_authorization_endpoint": "https://auth.example/device"})
bodies = (json_values.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=100) |
          token_objects.map(lambda v: json.dumps(v).encode()))
content_types = st.sampled_from(["application/json", "text/html", "text/plain", ""])
statuses = st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 502, 503])


@fuzz(2000)
@given(statuses, content_types, bodies, st.sampled_from(["refresh", "device", "poll"]))
def test_random_provider_answers_become_classified_errors(status, content_type, body, call):
    def answer(request: httpx2.Request) -> httpx2.Response:
        headers = {"content-type": content_type} if content_type else {}
        return httpx2.Response(status, content=body, headers=headers)

    async def exercise() -> None:
        client = OAuthClient(PROFILE, timeout=1, transport=httpx2.MockTransport(answer))
        try:
            if call == "refresh":
                result = await client.refresh("rt")
                assert isinstance(result, TokenResponse) and result.access_token
            elif call == "device":
                await client.device_authorize()
            else:
                await client.poll_device("dc")
        except OAuthError as exc:
            assert exc.message
            assert "rt" not in exc.message.split() and "dc" not in exc.message.split()
        finally:
            await client.aclose()

    asyncio.run(exercise())
