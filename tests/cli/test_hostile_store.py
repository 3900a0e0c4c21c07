"""Hostile and newer store records, as the `tokenwarden` CLI meets them (issue 13 item 11,
issue 14 item 6): one line, exit 2, the file left exactly as it is, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.conftest import cli
from tests.cli.disk import one_line
from tokenwarden.cli.fastpath import try_fast_token
from tokenwarden.config import write_profile
from tokenwarden.errors import StoreError
from tokenwarden.lifecycle import session_end, session_state
from tokenwarden.policy import RenewalPolicy, renew_at, token_state
from tokenwarden.store import TokenStore

ISSUER = "http://127.0.0.1:9"  # nothing listens: a hostile record must fail before the network


def good_record() -> dict[str, Any]:
    return {
        "version": 1, "profile": "default", "issuer": ISSUER, "client_id": "tests",
        "access_token": "at-123", "refresh_token": "rt-456", "token_type": "Bearer",
        "scopes": ["openid"], "obtained_at": "2026-01-01T00:00:00Z",
        "expires_at": "2099-01-01T00:00:00Z", "generation": 3, "failures": 0,
        "rejected": False, "last_error": None,
    }


def write_home(home: Path, text: str) -> Path:
    write_profile(home / "config.toml", "default", {"issuer": ISSUER, "client_id": "tests"})
    store = home / "store"
    store.mkdir(mode=0o700, exist_ok=True)
    path = store / "default.json"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def _replace(text: str, key: str, raw: str) -> str:
    """A good record whose ``key`` holds the raw JSON text ``raw`` (e.g. 1e999)."""
    data = good_record()
    data[key] = "@@value@@"
    return json.dumps(data).replace('"@@value@@"', raw)


HOSTILE = [
    ("generation", "1e999"),
    ("failures", "1e999"),
    ("generation", "-1"),
    ("failures", "2.5"),
    ("expires_at", "1764547200"),
    ("expires_at", '"not a time"'),
    ("obtained_at", '"0001-01-01T00:00:00Z"'),
    ("scopes", '"openid"'),
    ("rejected", '"no"'),
    ("last_error", '{"code": 1, "message": "m", "at": "t"}'),
    ("last_error", '{"unknown": "x"}'),
    ("access_token", '"abc\\r\\nX-Injected: 1"'),
    ("issuer", "null"),
    ("version", '"1"'),
]


@pytest.mark.parametrize(("key", "raw"), HOSTILE, ids=[f"{k}={v}" for k, v in HOSTILE])
@pytest.mark.parametrize("command", [["token"], ["status"]])
def test_a_hostile_store_value_is_one_line_exit_2_and_left_as_is(home, key, raw, command):
    path = write_home(home, _replace(json.dumps(good_record()), key, raw))
    before = path.read_bytes()
    done = cli(home, *command)
    line = one_line(done.stderr)
    assert done.returncode == 2, line
    assert line.startswith(f"tokenwarden: {path} is not a valid tokenwarden record (")
    assert f"'{key}'" in line
    assert done.stdout == ""
    assert path.read_bytes() == before


@pytest.mark.parametrize("command", [["token"], ["status"], ["logout"], ["login"]])
def test_a_record_of_a_newer_format_says_upgrade_never_delete(home, command):
    data = {**good_record(), "version": 99, "something_new": {"x": 1}}
    path = write_home(home, json.dumps(data))
    before = path.read_bytes()
    done = cli(home, *command)
    line = one_line(done.stderr)
    assert done.returncode == 2
    assert line == (f"tokenwarden: {path} was written by a newer tokenwarden (format 99; this "
                    "one reads 2): upgrade tokenwarden to use it. It was left as it is.")
    assert "delete" not in line
    assert path.read_bytes() == before
    assert {p.name for p in path.parent.iterdir()} <= {"default.json", "default.lock"}


# ----------------------------------------------- every hostile JSON value, in process

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.sampled_from(["2026-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1e999", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from(sorted({*good_record(), "next_attempt_at",
                                                       "refresh_at", "token_endpoint",
                                                       "refresh_token_expires_at"})),
                               JSON_VALUES, min_size=1, max_size=3))
def test_any_hostile_value_is_a_store_error_or_a_usable_record(tmp_path_factory, changes):
    home = tmp_path_factory.mktemp("hostile")
    path = write_home(home, json.dumps({**good_record(), **changes}))
    before = path.read_bytes()
    try:
        record = TokenStore(home / "store").read("default")
    except StoreError as exc:
        assert str(path) in exc.message
    else:
        assert record is not None
        from datetime import UTC, datetime

        now = datetime(2026, 6, 1, tzinfo=UTC)
        policy = RenewalPolicy()
        token_state(record.times, now, policy, 0.5)
        renew_at(record.times, policy, 0.5)
        session_state(record, signing_in=False, refreshing=False, now=now)
        session_end(record, now)
    old = os.environ.get("TOKENWARDEN_HOME")
    os.environ["TOKENWARDEN_HOME"] = str(home)
    try:
        assert try_fast_token([]) in (None, 0)  # the fast path never raises
    finally:
        if old is None:
            del os.environ["TOKENWARDEN_HOME"]
        else:
            os.environ["TOKENWARDEN_HOME"] = old
    assert path.read_bytes() == before
