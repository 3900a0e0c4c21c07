"""The real Claude Code CLI across short token lifetimes: proxy, exec and apiKeyHelper recipes.

Each scenario: sequential ``claude -p`` runs across four access-token lifetimes,
half of them turns whose ``sleep`` tool call outlives a token, then four
concurrent long turns. The figures line of each recipe goes into
docs/integrations.md.
"""

from __future__ import annotations

import json
import secrets

import pytest

from tests.integrations.anthropic_api import AnthropicAPI
from tests.integrations.claude import (
    CLAUDE,
    claude,
    claude_env,
    running_proxy,
    scenario,
)
from tests.integrations.conftest import run, tokenwarden
from tests.integrations.mcp_server import StampServer

pytestmark = [
    pytest.mark.skipif(not CLAUDE.exists(), reason="run npm ci in tests/integrations/node"),
    pytest.mark.timeout(600),
]


@pytest.fixture
def anthropic_api():
    apis: list[AnthropicAPI] = []

    def start(devserver) -> AnthropicAPI:
        api = AnthropicAPI(devserver.url("/userinfo")).start()
        apis.append(api)
        return api

    yield start
    for api in apis:
        api.stop()


@pytest.mark.slow
async def test_recipe_proxy_serves_no_401_across_token_lifetimes(
    signed_in, anthropic_api, tool_env, tmp_path
):
    devserver = await signed_in(3.0)
    api = anthropic_api(devserver)
    with running_proxy(api.base, tool_env, secrets.token_urlsafe(32)) as (url, secret):
        env = claude_env(tool_env, tmp_path, ANTHROPIC_BASE_URL=url,
                         ANTHROPIC_AUTH_TOKEN=secret, CLAUDE_CODE_MAX_RETRIES="1")
        figures = await scenario(claude, env, tmp_path, api, devserver, lifetime=3.0)
    print("\n" + figures.line("proxy"))
    assert figures.failed == []
    assert figures.served_401 == 0 and figures.shown_401 == 0
    assert figures.refreshes >= 4 and figures.reuse == 0
    assert api.paths["/v1/messages"] > figures.runs  # the sleep turns made a second request


@pytest.mark.slow
async def test_recipe_exec_proxy_env_serves_no_401_across_token_lifetimes(
    signed_in, anthropic_api, tool_env, tmp_path
):
    devserver = await signed_in(3.0)
    api = anthropic_api(devserver)
    env = claude_env(tool_env, tmp_path, CLAUDE_CODE_MAX_RETRIES="1")

    def through_exec(prompt: str) -> list[str]:
        return [*tokenwarden("exec", "--upstream", api.base, "--proxy-env",
                             "ANTHROPIC_BASE_URL", "--env", "ANTHROPIC_AUTH_TOKEN", "--"),
                *claude(prompt)]

    figures = await scenario(through_exec, env, tmp_path, api, devserver, lifetime=3.0)
    print("\n" + figures.line("exec --proxy-env"))
    assert figures.failed == []
    assert figures.served_401 == 0 and figures.shown_401 == 0
    assert figures.refreshes >= 4 and figures.reuse == 0


@pytest.mark.slow
async def test_recipe_api_key_helper_shows_no_401_across_token_lifetimes(
    signed_in, anthropic_api, tool_env, tmp_path
):
    devserver = await signed_in(5.0)
    api = anthropic_api(devserver)
    # Claude Code re-runs the helper after its TTL (1 s here); the helper's tokens
    # stay valid 2.5 s, beyond it.
    env = claude_env(tool_env, tmp_path, ANTHROPIC_BASE_URL=api.base,
                     CLAUDE_CODE_API_KEY_HELPER_TTL_MS="1000")
    done = run(tokenwarden("setup", "claude-code", "--min-validity", "2.5"), env)
    assert done.returncode == 0, done.stderr
    figures = await scenario(claude, env, tmp_path, api, devserver, lifetime=5.0)
    print("\n" + figures.line("apiKeyHelper"))
    assert figures.failed == []
    assert figures.shown_401 == 0
    assert figures.refreshes >= 4 and figures.reuse == 0


@pytest.fixture
def stamp_server():
    servers: list[StampServer] = []

    def start(devserver) -> StampServer:
        server = StampServer(devserver.url("/userinfo")).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.mark.slow
async def test_mcp_tool_calls_with_headers_helper_never_fail_across_lifetimes(
    signed_in, anthropic_api, stamp_server, tool_env, tmp_path
):
    devserver = await signed_in(3.0)
    api, mcp = anthropic_api(devserver), stamp_server(devserver)
    project = tmp_path / "project"
    project.mkdir()
    done = run(tokenwarden("setup", "claude-code", "--mcp-name", "tw", "--url", mcp.url),
               tool_env, cwd=project)
    assert done.returncode == 0, done.stderr
    with running_proxy(api.base, tool_env, secrets.token_urlsafe(32)) as (url, secret):
        # Tool search would defer MCP tools behind a search step: list them directly.
        env = claude_env(tool_env, tmp_path, ANTHROPIC_BASE_URL=url, ANTHROPIC_AUTH_TOKEN=secret,
                         CLAUDE_CODE_MAX_RETRIES="1", ENABLE_TOOL_SEARCH="false")

        def with_mcp(prompt: str) -> list[str]:
            return [*claude(prompt), "--mcp-config", str(project / ".mcp.json"),
                    "--strict-mcp-config", "--allowedTools", "mcp__tw__stamp"]

        figures = await scenario(with_mcp, env, project, api, devserver, lifetime=3.0,
                                 prompts=("STAMP", "SLEEP 4 then STAMP"),
                                 long_prompt="SLEEP 3 then STAMP", expect="stamp-ok",
                                 served_by=mcp.check)
    print("\n" + figures.line("MCP headersHelper"))
    assert figures.failed == [] and figures.shown_401 == 0
    # Claude Code runs the helper when it connects; a token that dies during a long
    # turn is refused, then it runs the helper again and the call succeeds (how many
    # are refused depends on how slow the turns are: reported, not asserted).
    assert mcp.stamps == figures.runs
    assert figures.refreshes >= 4 and figures.reuse == 0


@pytest.mark.slow
async def test_mcp_server_through_the_proxy_serves_no_401_across_lifetimes(
    signed_in, anthropic_api, stamp_server, tool_env, tmp_path
):
    devserver = await signed_in(3.0)
    api, mcp = anthropic_api(devserver), stamp_server(devserver)
    project = tmp_path / "project"
    project.mkdir()
    mcp_base = mcp.url.removesuffix("/mcp")
    with running_proxy(api.base, tool_env, secrets.token_urlsafe(32)) as (url, secret), \
            running_proxy(mcp_base, tool_env, secrets.token_urlsafe(32)) as (mcp_url, mcp_secret):
        # Claude Code expands ${VAR} in .mcp.json: the secret stays out of the file.
        (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"tw": {
            "type": "http", "url": f"{mcp_url}/mcp",
            "headers": {"Authorization": "Bearer ${TOKENWARDEN_MCP_SECRET}"}}}}))
        env = claude_env(tool_env, tmp_path, ANTHROPIC_BASE_URL=url, ANTHROPIC_AUTH_TOKEN=secret,
                         TOKENWARDEN_MCP_SECRET=mcp_secret, CLAUDE_CODE_MAX_RETRIES="1",
                         ENABLE_TOOL_SEARCH="false")

        def with_mcp(prompt: str) -> list[str]:
            return [*claude(prompt), "--mcp-config", str(project / ".mcp.json"),
                    "--strict-mcp-config", "--allowedTools", "mcp__tw__stamp"]

        figures = await scenario(with_mcp, env, project, api, devserver, lifetime=3.0,
                                 prompts=("STAMP", "SLEEP 4 then STAMP"),
                                 long_prompt="SLEEP 3 then STAMP", expect="stamp-ok",
                                 served_by=mcp.check)
    print("\n" + figures.line("MCP through the proxy"))
    assert figures.failed == []
    assert figures.served_401 == 0 and figures.shown_401 == 0
    assert mcp.stamps == figures.runs
    assert figures.refreshes >= 4 and figures.reuse == 0


def test_setup_claude_code_keeps_other_settings_is_idempotent_and_undoes(tool_env, tmp_path):
    env = claude_env(tool_env, tmp_path)
    settings = tmp_path / "claude-config" / "settings.json"
    settings.write_text(json.dumps({"model": "opus", "env": {"A": "1"}}))
    first = run(tokenwarden("setup", "claude-code", "--profile", "work"), env)
    assert first.returncode == 0, first.stderr
    written = json.loads(settings.read_text())
    assert written["model"] == "opus" and written["env"] == {"A": "1"}
    assert written["apiKeyHelper"].endswith("token --min-validity 360 --profile work")
    after_first = settings.read_text()
    second = run(tokenwarden("setup", "claude-code", "--profile", "work"), env)
    assert "already" in second.stdout and settings.read_text() == after_first
    undo = run(tokenwarden("setup", "claude-code", "--undo"), env)
    assert undo.returncode == 0, undo.stderr
    assert json.loads(settings.read_text()) == {"model": "opus", "env": {"A": "1"}}


def test_setup_claude_code_never_replaces_a_foreign_helper_or_broken_json(tool_env, tmp_path):
    env = claude_env(tool_env, tmp_path)
    settings = tmp_path / "claude-config" / "settings.json"
    settings.write_text(json.dumps({"apiKeyHelper": "my-vault get key"}))
    foreign = run(tokenwarden("setup", "claude-code"), env)
    assert foreign.returncode == 2 and "remove that key first" in foreign.stderr
    assert json.loads(settings.read_text()) == {"apiKeyHelper": "my-vault get key"}
    settings.write_text('{"model": ')
    broken = run(tokenwarden("setup", "claude-code"), env)
    assert broken.returncode == 2
    assert "not valid JSON" in broken.stderr and str(settings) in broken.stderr
    assert settings.read_text() == '{"model": '


def test_setup_mcp_server_keeps_other_servers_is_idempotent_and_undoes(tool_env, tmp_path):
    mcp_json = tmp_path / ".mcp.json"
    mcp_json.write_text(json.dumps({"mcpServers": {"other": {"type": "http",
                                                             "url": "https://o.example/mcp"}}}))
    setup = tokenwarden("setup", "claude-code", "--mcp-name", "tw", "--url",
                        "https://mcp.example.com/mcp")
    first = run(setup, tool_env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    servers = json.loads(mcp_json.read_text())["mcpServers"]
    assert servers["other"] == {"type": "http", "url": "https://o.example/mcp"}
    assert servers["tw"]["headersHelper"].endswith("token --format header-json")
    after_first = mcp_json.read_text()
    assert "already" in run(setup, tool_env, cwd=tmp_path).stdout
    assert mcp_json.read_text() == after_first
    foreign = run(tokenwarden("setup", "claude-code", "--mcp-name", "other", "--url",
                              "https://mcp.example.com/mcp"), tool_env, cwd=tmp_path)
    assert foreign.returncode == 2 and "choose another --mcp-name" in foreign.stderr
    undo = run([*setup, "--undo"], tool_env, cwd=tmp_path)
    assert undo.returncode == 0, undo.stderr
    assert json.loads(mcp_json.read_text())["mcpServers"] == {
        "other": {"type": "http", "url": "https://o.example/mcp"}}
