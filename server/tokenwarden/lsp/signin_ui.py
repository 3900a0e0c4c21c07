"""What the user sees of a device sign-in and of a session about to end.

Both react to the session manager's events, so a sign-in looks the same whoever
started it (the login command, an interactive getToken, the "Sign in" action):

- ``SignInPresenter``: work-done progress showing the code and URL (or a plain
  ``window/showMessage`` for clients without progress support), the browser via
  ``window/showDocument`` when allowed and supported, and the outcome.
- ``ExpiryPrompter``: the ``window/showMessageRequest`` (Warning; "Sign in" /
  "Later") before a session that cannot be renewed silently ends, and once it has.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from tokenwarden.lsp.client_requests import ClientRequests
from tokenwarden.lsp.protocol import LATER_ACTION, SIGN_IN_ACTION
from tokenwarden.status import LoginInfo, SessionState, Status, humanize

if TYPE_CHECKING:
    from tokenwarden.session import ExpiryWarning

Spawn = Callable[[Coroutine[Any, Any, None], str], object]
REPORT_EVERY_SECONDS = 60.0


def sign_in_instructions(login: LoginInfo, opened: bool = True) -> str:
    """'Enter code WDJB-MJHT at https://…', or 'Waiting for the browser…'."""
    if login.authorization_uri is not None:
        if opened:
            return "Waiting for the browser…"
        return f"Open {login.authorization_uri} in your browser to sign in"
    return f"Enter code {login.user_code} at {login.verification_uri}"


def page_to_open(login: LoginInfo) -> str:
    """The address the browser is sent to."""
    return (login.authorization_uri or login.verification_uri_complete
            or login.verification_uri or "")


def sign_in_outcome(status: Status, superseded: bool) -> tuple[bool, str]:
    """(succeeded, one line) for the end of a sign-in."""
    if superseded:
        return False, "Sign-in restarted with a new code"
    if status.state is SessionState.SIGNED_IN:
        who = f" as {status.account}" if status.account else ""
        return True, f"Signed in{who}"
    reason = status.last_error.message if status.last_error else status.message
    return False, f"Sign-in ended: {reason}"


class _SignInView:
    """The progress (or messages) of one device code, driven by one task."""

    def __init__(self, client: ClientRequests, status: Status, login: LoginInfo,
                 open_browser: bool, now: Callable[[], datetime]) -> None:
        self.client = client
        self.profile = status.profile
        self.login = login
        self.open_browser = open_browser
        self.now = now
        self.token = f"tokenwarden-sign-in-{uuid.uuid4().hex[:12]}"
        self.ended = asyncio.Event()
        self.outcome: tuple[bool, str] = (False, "Sign-in ended")
        self.cancelled_by_user = False

    def finish(self, status: Status, *, superseded: bool = False) -> None:
        self.outcome = sign_in_outcome(status, superseded)
        if status.last_error is not None and status.last_error.code == "cancelled":
            self.cancelled_by_user = True  # asked for: no warning about it
        self.ended.set()

    async def run(self) -> None:
        with_progress = await self.client.create_progress(self.token)
        if with_progress:
            self.client.progress(self.token, types.WorkDoneProgressBegin(
                title=f"Sign in to {self.profile}",
                message=sign_in_instructions(self.login, opened=self.open_browser),
                cancellable=True,
            ))
        else:
            self.client.show_message(types.MessageType.Info, self._plain_instructions())
        # The browser opens alongside: a client slow to answer showDocument (or never
        # answering) must not hold up the progress or its end.
        browser = (asyncio.ensure_future(self.client.show_document(page_to_open(self.login)))
                   if self.open_browser and not self.ended.is_set() else None)
        ended = asyncio.ensure_future(self.ended.wait())
        opened = False
        try:
            while not self.ended.is_set():
                if with_progress:
                    self._report(opened)
                waiting = {ended} if browser is None or browser.done() else {ended, browser}
                await asyncio.wait(waiting, timeout=REPORT_EVERY_SECONDS,
                                   return_when=asyncio.FIRST_COMPLETED)
                if browser is not None and browser.done() and not opened:
                    opened = browser.result()
        finally:
            ended.cancel()
            if browser is not None:
                browser.cancel()
        succeeded, line = self.outcome
        if with_progress:
            self.client.progress(self.token, types.WorkDoneProgressEnd(message=line))
        else:
            kind = types.MessageType.Info if succeeded or self.cancelled_by_user else (
                types.MessageType.Warning)
            self.client.show_message(kind, f"tokenwarden: {line}")

    def _report(self, opened: bool) -> None:
        left = humanize((self.login.expires_at - self.now()).total_seconds())
        if self.login.authorization_uri is not None:
            message = f"{sign_in_instructions(self.login, opened)} · {left} left"
        else:
            prefix = "Browser opened · " if opened else ""
            message = f"{prefix}{sign_in_instructions(self.login)} · code expires in {left}"
        self.client.progress(self.token, types.WorkDoneProgressReport(message=message))

    def _plain_instructions(self) -> str:
        if self.login.authorization_uri is not None:
            return (f"tokenwarden: to sign in to profile '{self.profile}', open "
                    f"{self.login.authorization_uri} in your browser")
        return (f"tokenwarden: to sign in to profile '{self.profile}', open "
                f"{self.login.verification_uri} and enter the code {self.login.user_code}")


class SignInPresenter:
    """Turns status events into the sign-in UI, one view per profile."""

    def __init__(self, client: ClientRequests, spawn: Spawn, now: Callable[[], datetime]) -> None:
        self._client = client
        self._spawn = spawn
        self._now = now
        self._views: dict[str, _SignInView] = {}
        self._browser: dict[str, bool] = {}
        self.open_browser = True

    def expect(self, profile: str, open_browser: bool | None) -> None:
        """The next sign-in of ``profile`` overrides ``open_browser`` (login command)."""
        if open_browser is None:
            self._browser.pop(profile, None)
        else:
            self._browser[profile] = open_browser

    def on_status(self, status: Status) -> None:
        """Start, keep or end the view of ``status.profile``."""
        view = self._views.get(status.profile)
        login = status.login if status.state is SessionState.SIGNING_IN else None
        if view is not None and (login is None or login != view.login):
            view.finish(status, superseded=login is not None)
            del self._views[status.profile]
            view = None
        if login is not None and view is None:
            # A sign-in another window started has had its browser opened there already.
            browser = self._browser.pop(status.profile, self.open_browser) and not login.elsewhere
            view = _SignInView(self._client, status, login, browser, self._now)
            self._views[status.profile] = view
            self._spawn(view.run(), f"sign-in view of {status.profile}")

    def profile_of_token(self, token: str) -> str | None:
        """The profile whose sign-in progress has this token (the user cancelled it)."""
        for profile, view in self._views.items():
            if view.token == token:
                view.cancelled_by_user = True
                return profile
        return None


class ExpiryPrompter:
    """Asks the user to sign in before (and when) a session ends."""

    def __init__(self, client: ClientRequests, spawn: Spawn, now: Callable[[], datetime],
                 sign_in: Callable[[str], Awaitable[None]]) -> None:
        self._client = client
        self._spawn = spawn
        self._now = now
        self._sign_in = sign_in
        self._asking: set[tuple[str, bool]] = set()

    def on_warning(self, warning: ExpiryWarning) -> None:
        """Ask, unless the same question is still waiting for an answer."""
        key = (warning.status.profile, warning.ended)
        if key in self._asking:
            return
        self._asking.add(key)
        self._spawn(self._ask(warning, key), f"expiry prompt of {key[0]}")

    async def _ask(self, warning: ExpiryWarning, key: tuple[str, bool]) -> None:
        try:
            choice = await self._client.ask(
                types.MessageType.Warning, self.text(warning), [SIGN_IN_ACTION, LATER_ACTION])
        finally:
            self._asking.discard(key)
        if choice == SIGN_IN_ACTION:
            await self._sign_in(warning.status.profile)

    def text(self, warning: ExpiryWarning) -> str:
        """The question, in one or two short sentences."""
        status = warning.status
        who = f" ({status.account})" if status.account else ""
        if warning.ended or status.state is SessionState.EXPIRED:
            return (f"tokenwarden: the session of profile '{status.profile}'{who} has expired. "
                    "Sign in again to keep working.")
        left = humanize((warning.ends_at - self._now()).total_seconds())
        return (f"tokenwarden: the session of profile '{status.profile}'{who} ends in {left} "
                "and cannot be renewed automatically. Sign in to keep working.")
