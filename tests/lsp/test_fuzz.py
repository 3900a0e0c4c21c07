"""Fuzzed params to every method: a contract error or a result, never a crash."""

from __future__ import annotations

import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tokenwarden.lsp import protocol

EXPECTED_CODES = {
    protocol.SIGN_IN_REQUIRED, protocol.TEMPORARILY_UNAVAILABLE, protocol.INVALID_PARAMS,
    protocol.REQUEST_FAILED,
}
FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
KEYS = ("profile", "minValiditySeconds", "interactive", "accessToken", "openBrowser", "force",
        "revoke")
params = json_values | st.fixed_dictionaries(
    {}, optional={key: json_values | st.just("default") for key in KEYS})


def unreachable_issuer() -> str:
    """A loopback port nobody listens on: every network call fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def client(open_client):
    return await open_client({"profiles": {"default": {
        "issuer": unreachable_issuer(), "client_id": "fuzz", "scopes": ["openid"]}}})


async def expect_contract_answer(call) -> None:
    try:
        await call
    except JsonRpcException as error:
        assert error.code in EXPECTED_CODES, (error.code, error.message)


async def assert_alive(client) -> None:
    assert (await client.command("tokenwarden.status"))["profile"]
    assert client._server.returncode is None


@FUZZ
@given(method=st.sampled_from([protocol.GET_TOKEN, protocol.TOKEN_REJECTED]), value=params)
async def test_fuzzed_requests(client, method, value):
    await expect_contract_answer(client.protocol.send_request_async(method, value))
    await assert_alive(client)


@FUZZ
@given(command=st.sampled_from(protocol.COMMANDS), arguments=st.lists(params, max_size=2))
async def test_fuzzed_commands(client, command, arguments):
    await expect_contract_answer(client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=arguments)))
    await assert_alive(client)


@FUZZ
@given(settings_value=json_values | st.fixed_dictionaries({"tokenwarden": json_values}))
async def test_fuzzed_settings_and_notifications(client, settings_value):
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=settings_value))
    client.protocol.notify(types.WINDOW_WORK_DONE_PROGRESS_CANCEL,
                           types.WorkDoneProgressCancelParams(token="no-such-token"))
    client.protocol.notify(protocol.DID_CHANGE_STATUS, settings_value)  # wrong direction
    # Settings may have pointed the default profile elsewhere: any contract answer will do.
    await expect_contract_answer(client.command("tokenwarden.status"))


async def test_server_survives_the_fuzzing(client):
    for method in (protocol.GET_TOKEN, protocol.TOKEN_REJECTED):
        for value in (None, [], 0, "x", {"profile": 1}, {"minValiditySeconds": -1},
                      {"minValiditySeconds": 1e400}, {"accessToken": ""}):
            await expect_contract_answer(client.protocol.send_request_async(method, value))
    await assert_alive(client)
