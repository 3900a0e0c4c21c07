"""Server → client messages, each checked against the client's capabilities.

Every request has a timeout and tolerates any answer: ``null`` (eglot answers
showDocument that way), an error, an action the server never offered, or no
answer at all (some clients never answer showMessageRequest). Callers get a plain
value (``False`` / ``None``) instead of an exception, so no handler ever blocks on
the editor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from tokenwarden.untrusted import browsable_uri

log = logging.getLogger(__name__)

SHOW_DOCUMENT_TIMEOUT = 10.0
PROGRESS_CREATE_TIMEOUT = 5.0
CONFIGURATION_TIMEOUT = 5.0
MESSAGE_REQUEST_TIMEOUT = 15 * 60.0
"""A person may take a while to click; the request holds nothing up meanwhile."""


class ClientRequests:
    """What the server may ask of, and tell, the editor it serves."""

    def __init__(self, server: LanguageServer) -> None:
        self._server = server
        self.ready = False
        """True once ``initialize`` was answered: before that, nothing is sent."""

    # ------------------------------------------------------------ capabilities

    def _capability(self, *path: str) -> Any:
        value: Any = getattr(self._server.protocol, "client_capabilities", None)
        for name in path:
            if value is None:
                return None
            value = getattr(value, name, None)
        return value

    @property
    def supports_progress(self) -> bool:
        """``window.workDoneProgress``: the client shows server-created progress."""
        return self._capability("window", "work_done_progress") is True

    @property
    def supports_show_document(self) -> bool:
        """``window.showDocument.support``: the client can open a URL for us."""
        return self._capability("window", "show_document", "support") is True

    @property
    def supports_configuration(self) -> bool:
        """``workspace.configuration``: the client answers workspace/configuration."""
        return self._capability("workspace", "configuration") is True

    # ----------------------------------------------------------- notifications

    def notify(self, method: str, params: Any) -> None:
        """Send a notification (dropped before initialize or once the pipe is gone)."""
        if not self.ready:
            return
        try:
            self._server.protocol.notify(method, params)
        except OSError as exc:
            log.debug("could not send %s: %s", method, exc)

    def show_message(self, kind: types.MessageType, message: str) -> None:
        """``window/showMessage``."""
        self.notify(types.WINDOW_SHOW_MESSAGE, types.ShowMessageParams(type=kind,
                                                                       message=message))

    def log_message(self, kind: types.MessageType, message: str) -> None:
        """``window/logMessage``."""
        self.notify(types.WINDOW_LOG_MESSAGE, types.LogMessageParams(type=kind, message=message))

    def progress(self, token: str, value: types.WorkDoneProgressBegin
                 | types.WorkDoneProgressReport | types.WorkDoneProgressEnd) -> None:
        """One ``$/progress`` notification."""
        self.notify(types.PROGRESS, types.ProgressParams(token=token, value=value))

    # ---------------------------------------------------------------- requests

    async def create_progress(self, token: str) -> bool:
        """``window/workDoneProgress/create``; False when unsupported or refused."""
        if not self.supports_progress:
            return False
        answered, _ = await self._request(
            types.WINDOW_WORK_DONE_PROGRESS_CREATE,
            types.WorkDoneProgressCreateParams(token=token), PROGRESS_CREATE_TIMEOUT,
        )
        return answered

    async def show_document(self, uri: str) -> bool:
        """Open ``uri`` in the user's browser; True only when the client says it did.

        Only a web page is ever asked for (``untrusted.browsable_uri``): a ``file:`` or
        ``command:`` URI from a hostile server would make the editor run or open it.
        """
        if not self.supports_show_document:
            return False
        if browsable_uri(uri) is None:
            log.warning("not opening a URI that is not an https:// page")
            return False
        answered, result = await self._request(
            types.WINDOW_SHOW_DOCUMENT, types.ShowDocumentParams(uri=uri, external=True),
            SHOW_DOCUMENT_TIMEOUT,
        )
        return answered and isinstance(result, dict) and result.get("success") is True

    async def ask(
        self, kind: types.MessageType, message: str, actions: Sequence[str],
        answer_within: float = MESSAGE_REQUEST_TIMEOUT,
    ) -> str | None:
        """``window/showMessageRequest``: the chosen action, or None (dismissed, no answer)."""
        answered, result = await self._request(
            types.WINDOW_SHOW_MESSAGE_REQUEST,
            types.ShowMessageRequestParams(
                type=kind, message=message,
                actions=[types.MessageActionItem(title=title) for title in actions],
            ),
            answer_within,
        )
        title = result.get("title") if answered and isinstance(result, dict) else None
        return title if isinstance(title, str) and title in actions else None

    async def configuration(self, section: str) -> Any:
        """``workspace/configuration`` of one section; None when unsupported or unanswered."""
        if not self.supports_configuration:
            return None
        answered, result = await self._request(
            types.WORKSPACE_CONFIGURATION,
            types.ConfigurationParams(items=[types.ConfigurationItem(section=section)]),
            CONFIGURATION_TIMEOUT,
        )
        if answered and isinstance(result, list) and result:
            return result[0]
        return None

    async def _request(
        self, method: str, params: Any, answer_within: float
    ) -> tuple[bool, Any]:
        """(answered, result): never raises for what the client does or fails to do."""
        if not self.ready:
            return False, None
        try:
            future = asyncio.wrap_future(self._server.protocol.send_request(method, params))
        except OSError as exc:
            log.debug("could not send %s: %s", method, exc)
            return False, None
        # Wait without cancelling: a late answer then lands on a live future instead of
        # tripping pygls, and the request stays harmless.
        done, _ = await asyncio.wait({future}, timeout=answer_within)
        if not done:
            future.add_done_callback(_consume)
            log.info("the editor did not answer %s within %.0f s; carrying on", method,
                     answer_within)
            return False, None
        if future.cancelled():
            return False, None
        error = future.exception()
        if error is not None:
            detail = error.message if isinstance(error, JsonRpcException) else repr(error)
            log.info("the editor answered %s with an error (%s); carrying on", method, detail)
            return False, None
        return True, future.result()


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve a late outcome so asyncio does not warn about it."""
    if not future.cancelled():
        future.exception()
