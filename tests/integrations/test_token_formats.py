"""``tokenwarden token --format``: what each consumer reads, the same on the fast and full path."""

from __future__ import annotations

import json

from tests.integrations.conftest import run, tokenwarden


async def test_header_json_is_one_bearer_header_and_matches_the_plain_token(signed_in, tool_env):
    await signed_in(600.0)
    plain = run(tokenwarden("token"), tool_env).stdout.strip()
    done = run(tokenwarden("token", "--format", "header-json"), tool_env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"Authorization": f"Bearer {plain}"}


async def test_full_path_prints_the_same_format_as_the_fast_path(signed_in, tool_env):
    await signed_in(600.0)
    # -v bypasses the fast path: the full command renders the same JSON.
    fast = json.loads(run(tokenwarden("token", "--format=json"), tool_env).stdout)
    full = json.loads(run(tokenwarden("-v", "token", "--json"), tool_env).stdout)
    assert fast == full
    assert set(fast) == {"accessToken", "tokenType", "expiresAt", "scopes"}


def test_an_unknown_format_is_a_usage_error_naming_the_choices(tool_env):
    done = run(tokenwarden("token", "--format", "yaml"), tool_env)
    assert done.returncode == 2
    assert "header-json" in done.stderr and "exec-credential" in done.stderr
