"""The handlers of protocol v1: parse the payload, call the session manager, answer.

Each handler is a few lines; the logic lives in the session manager and in
``TokenwardenServer``. ``answers`` turns core and contract errors into the
JSON-RPC errors of the contract in one place.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError

from tokenwarden.errors import SignInRequired, TokenwardenError
from tokenwarden.lsp import protocol, transport
from tokenwarden.lsp.server import TokenwardenServer
from tokenwarden.status import SessionState

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def answers(handler: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Turn core and contract errors into the JSON-RPC errors of protocol v1."""

    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await handler(*args, **kwargs)
        except protocol.ProtocolError as exc:
            raise JsonRpcException(exc.message, exc.code, exc.data) from None
        except TokenwardenError as exc:
            error = protocol.error_for(exc)
            raise JsonRpcException(error.message, error.code, error.data) from None
        except (JsonRpcException, asyncio.CancelledError):
            raise
        except Exception as exc:
            log.exception("%s failed", handler.__name__)
            raise JsonRpcInternalError(f"internal error ({type(exc).__name__})") from None

    return wrapper


@answers
async def login(ls: TokenwardenServer, *arguments: Any) -> dict[str, Any]:
    """``tokenwarden.login``: start a sign-in; the outcome comes as a status."""
    request = protocol.parse_login(protocol.command_argument(arguments))
    return await ls.begin_login(request.profile, open_browser=request.open_browser,
                                force=request.force, flow=request.flow)


@answers
async def cancel_login(ls: TokenwardenServer, *arguments: Any) -> dict[str, Any]:
    """``tokenwarden.cancelLogin``."""
    request = protocol.parse_profile_request(protocol.command_argument(arguments))
    cancelled = await ls.sessions.cancel_login(ls.profile_name(request.profile))
    return protocol.cancel_result(cancelled)


@answers
async def logout(ls: TokenwardenServer, *arguments: Any) -> dict[str, Any]:
    """``tokenwarden.logout``: forget (and revoke) the tokens."""
    request = protocol.parse_logout(protocol.command_argument(arguments))
    name = ls.profile_name(request.profile)
    return protocol.status_payload(await ls.sessions.logout(name, revoke=request.revoke))


@answers
async def refresh(ls: TokenwardenServer, *arguments: Any) -> dict[str, Any]:
    """``tokenwarden.refresh``: renew now."""
    request = protocol.parse_profile_request(protocol.command_argument(arguments))
    name = ls.profile_name(request.profile)
    ls.watch(name)
    return protocol.status_payload(await ls.sessions.refresh(name))


@answers
async def status(ls: TokenwardenServer, *arguments: Any) -> dict[str, Any]:
    """``tokenwarden.status``: the status object (no network)."""
    request = protocol.parse_profile_request(protocol.command_argument(arguments))
    name = ls.profile_name(request.profile)
    ls.watch(name)
    return protocol.status_payload(ls.sessions.status(name))


@answers
async def get_token(ls: TokenwardenServer, params: Any) -> dict[str, Any]:
    """``tokenwarden/getToken``: a token valid for minValiditySeconds."""
    request = protocol.parse_get_token(params)
    manager, name = ls.sessions, ls.profile_name(request.profile)
    try:
        issued = await manager.get_token(name, request.min_validity_seconds)
    except SignInRequired:
        if not request.interactive:
            raise
        # The same sign-in UI as the login command; join a sign-in already in progress.
        if manager.status(name).state is not SessionState.SIGNING_IN:
            await ls.begin_login(name, force=True)
        await manager.wait_login(name)
        issued = await manager.get_token(name, request.min_validity_seconds)
    ls.watch(name)
    return protocol.token_result(issued)


@answers
async def token_rejected(ls: TokenwardenServer, params: Any) -> dict[str, Any]:
    """``tokenwarden/tokenRejected``: renew unless the rejected token is already replaced."""
    request = protocol.parse_token_rejected(params)
    name = ls.profile_name(request.profile)
    issued = await ls.sessions.token_rejected(name, request.access_token)
    ls.watch(name)
    return protocol.token_result(issued)


def on_initialize(ls: TokenwardenServer, params: types.InitializeParams) -> None:
    """Keep initializationOptions; the session manager is set up once this is answered."""
    ls.request_setup(params.initialization_options)


def on_initialized(ls: TokenwardenServer, params: types.InitializedParams) -> None:
    """Start background work once the editor listens."""
    ls.start()


async def on_did_change_configuration(
    ls: TokenwardenServer, params: types.DidChangeConfigurationParams
) -> None:
    """Apply the ``tokenwarden`` section of the settings (pulled if not pushed)."""
    if not ls.setup_requested:
        return
    settings = params.settings
    section = settings.get(protocol.SETTINGS_SECTION) if isinstance(settings, dict) else None
    if section is None:
        section = await ls.client.configuration(protocol.SETTINGS_SECTION)
    if section is not None:
        ls.apply_settings(section)


async def on_progress_cancel(
    ls: TokenwardenServer, params: types.WorkDoneProgressCancelParams
) -> None:
    """The user cancelled the sign-in progress."""
    profile = ls.sign_in_ui.profile_of_token(str(params.token))
    if profile is not None and ls.setup_requested:
        await ls.sessions.cancel_login(profile)


async def on_shutdown(ls: TokenwardenServer, params: None) -> None:
    """Stop background work; ``exit`` follows."""
    ls.shutdown_requested = True
    log.info("shutdown requested")
    await ls.stop()


def on_exit(ls: TokenwardenServer, params: None) -> None:
    """Leave at once: everything was written synchronously already."""
    transport.leave(ls.exit_code)


COMMAND_HANDLERS: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
    protocol.LOGIN: login,
    protocol.CANCEL_LOGIN: cancel_login,
    protocol.LOGOUT: logout,
    protocol.REFRESH: refresh,
    protocol.STATUS: status,
}
FEATURE_HANDLERS: dict[str, Callable[..., Any]] = {
    types.INITIALIZE: on_initialize,
    types.INITIALIZED: on_initialized,
    types.WORKSPACE_DID_CHANGE_CONFIGURATION: on_did_change_configuration,
    types.WINDOW_WORK_DONE_PROGRESS_CANCEL: on_progress_cancel,
    types.SHUTDOWN: on_shutdown,
    types.EXIT: on_exit,
    protocol.GET_TOKEN: get_token,
    protocol.TOKEN_REJECTED: token_rejected,
}


def register(server: TokenwardenServer) -> None:
    """Register every command and method of protocol v1 on ``server``."""
    for command, handler in COMMAND_HANDLERS.items():
        server.command(command)(handler)
    for method, feature in FEATURE_HANDLERS.items():
        server.feature(method)(feature)
